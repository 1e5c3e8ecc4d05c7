/**
 * http-proxy-middleware 3.x integration, as an entry of its `plugins` option:
 *
 *     createProxyMiddleware({ target, plugins: [zipkinProxyPlugin(zipkin, { service, route })] })
 *
 * A plugin, not `on.error`: supplying `on.error` removes HPM's default error response
 * (the client would hang), while a plugin listener leaves it in place.
 *
 * http-proxy events → Kong phases:
 * - `start` (before the upstream request is built from `req.headers`): access if no
 *   `zipkinRoute` ran before (propagation headers go into `req.headers`), then access end
 *   (`kaf`) and the start of a balancer try on the chosen target;
 * - `proxyReq` (the upstream request has its socket): the try ends when the socket
 *   connects (at once for a kept-alive socket), or fails (connection refused, DNS failure…);
 * - `error`: closes a try that is still open.
 * (http-proxy emits no `proxyReq` for a request carrying `Expect`: its try then ends at
 * log time, Kong's fallback for a try without a recorded latency.)
 * The downstream response phases come from the response hooks (`zipkinMiddleware` or
 * `zipkinRoute` installs them; without either, the `start` event does).
 *
 * HPM makes one try per request (no retries), so the try is always the final one and its
 * balancer span carries no error tags, as in Kong for a failed final try.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { ZipkinPlugin } from '../plugin';
import type { RouteIdentity, UpstreamTarget } from '../trace/request-inputs';
import { traceHttp } from './node-http';
import { failureStatus, targetFromUrl, trackUpstreamRequest } from './balancer-tries';
import { reportTracingFailure } from '../logger';
import { restoreTraceHeaders } from './foreign-headers';

/**
 * What http-proxy-middleware 3.x calls a plugin, structurally, so that the package needs no
 * http-proxy-middleware installed: HPM passes its http-proxy server, whose `on` this uses.
 */
export type ProxyMiddlewarePlugin = (proxyServer: ProxyServerLike, options?: unknown) => void;

/** The http-proxy server's event registration (listeners get http-proxy's event arguments). */
export interface ProxyServerLike {
  on(event: string, listener: ProxyListener): unknown;
}

// Checked bivariantly (method syntax), as EventEmitter listeners are, so that typed
// listeners fit and HPM's request type is inferred as `unknown`, not narrowed.
type ProxyListener = { listener(...args: unknown[]): void }['listener'];

/**
 * The HPM plugin for `plugin`. `identity`, if given, is the route / service of every
 * request this proxy handles (it overrides what `zipkinRoute` set).
 */
export function zipkinProxyPlugin(plugin: ZipkinPlugin, identity?: RouteIdentity | null): ProxyMiddlewarePlugin {
  return function gatewayZipkin(proxyServer) {
    // http-proxy parses the target URL again for every request: remember the last one.
    let lastHref: string | undefined;
    let lastTarget: UpstreamTarget = {};
    proxyServer.on('start', (req: IncomingMessage, res: ServerResponse, target: unknown) => {
      try {
        const trace = traceHttp(plugin, req, res);
        if (!trace.accessed) trace.access(identity, req.headers, true);
        else if (identity) trace.setRoute(identity);
        trace.accessEnd();
        const href = typeof target === 'string' ? target : (target as { href?: unknown } | null)?.href;
        if (typeof href !== 'string' || href !== lastHref) {
          lastTarget = targetFromUrl(target);
          lastHref = typeof href === 'string' ? href : undefined;
        }
        trace.balancerTry(lastTarget);
      } catch (err) {
        logFailure(plugin, err);
      }
    });
    proxyServer.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => {
      try {
        const trace = plugin.getTrace(req);
        if (trace === undefined) return;
        trackUpstreamRequest(trace, proxyReq);
        if (trace.accessed) restoreTraceHeaders(proxyReq, req.headers, plugin.logger);
      } catch (err) {
        logFailure(plugin, err);
      }
    });
    proxyServer.on('error', (err: Error, req: IncomingMessage) => {
      const trace = req === undefined ? undefined : plugin.getTrace(req);
      if (trace === undefined) return;
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      trace.upstreamFailedIfOpen(failureStatus(e), e.address, e.port);
    });
  };
}

function logFailure(plugin: ZipkinPlugin, err: unknown): void {
  try {
    reportTracingFailure(plugin.logger, err);
  } catch {
    // never reach the request
  }
}
