/**
 * `node:http` integration for a hand-written proxy. `traceHttp` starts the request's
 * trace and hooks the response (header_filter, body_filter, log happen by themselves);
 * the caller marks the rest on the returned `RequestTrace`:
 *
 *     const t = traceHttp(zipkin, req, res);
 *     const headers = { ...req.headers };
 *     t.access({ route, service }, headers);      // Kong's access: propagation headers into `headers`
 *     t.accessEnd();                               // the upstream request is about to be made
 *     t.balancerTry({ hostname, port });           // one per upstream try
 *     const up = http.request({ hostname, port, method: req.method, path: req.url, headers });
 *     trackUpstreamRequest(t, up);                 // the try ends when the socket connects or fails
 *     // retrying? t.upstreamFailed('failed', 502) (done for you on connection errors), then t.balancerTry(next)
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ZipkinPlugin } from '../plugin';
import type { RequestTrace } from '../trace/request-trace';
import { type GatewayScope, scopeMatcher } from './gateway-scope';
import { hookResponse } from './response-hooks';
import { reportTracingFailure } from '../logger';

export { trackUpstreamRequest, trackUpstreamSocket } from './balancer-tries';

/**
 * The trace of `req` for `plugin`: started now (Kong's request start) if `req` has none,
 * and `res` hooked for the header_filter, body_filter and log phases. Calling it again
 * returns the same trace. If another plugin started the request and access has not run
 * yet, `plugin` takes it over (Kong runs one zipkin instance per request, the most
 * specific one), keeping the original start time.
 */
export function traceHttp(plugin: ZipkinPlugin, req: IncomingMessage, res: ServerResponse): RequestTrace {
  const existing = plugin.getTrace(req);
  if (existing === undefined) {
    const trace = plugin.startHttp(req);
    hookResponse(res);
    return trace;
  }
  if (existing.runtime === plugin.runtime || existing.accessed || existing.headerFilterUs !== 0 || existing.logged)
    return existing;
  // Take-over: the response hooks find the request's current trace, nothing to re-hook.
  return plugin.startHttp(req, existing.startUs);
}

export interface TraceServerOptions {
  /**
   * The gateway's requests (path prefixes or a predicate); the others, the service's own
   * routes, are not traced by the plugin at all. Default: every request.
   */
  only?: GatewayScope;
}

/**
 * Trace the requests `server` receives (all of them, or those `options.only` selects), from
 * its `request` event, before any application code runs. Same effect as `zipkinMiddleware`
 * mounted first in Express, without the cost of a router layer per request.
 */
export function traceServer(plugin: ZipkinPlugin, server: Server, options: TraceServerOptions = {}): void {
  const only = options.only === undefined ? undefined : scopeMatcher(options.only);
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (only === undefined || only(req)) traceHttp(plugin, req, res);
    } catch (err) {
      reportTracingFailure(plugin.logger, err);
    }
  });
}
