/**
 * The reference gateway's HTTP proxy: Kong's request path (router, plugin precedence,
 * `X-Forwarded-*`, balancer tries, Kong's error responses) on `node:http`, traced by the
 * library's own `node:http` integration: `startHttp` starts the trace, the response hooks
 * follow the header and body phases, `RequestTrace.access` injects the propagation
 * headers, `trackUpstreamSocket` ends each balancer try at connect or failure. The
 * exchange's own `close` and `socket` listeners drive the log phase and the tries, so
 * tracing adds no listener per request (`traceHttp` would add two).
 *
 * Why `node:http` and not Express + http-proxy-middleware: HPM makes one upstream request
 * per client request, with no way to try the next target after a connection failure, and
 * Kong's retries over an upstream's targets are one of the things this gateway shows (one
 * balancer span per try). A hand-written `http.request` loop has them, and it is exactly
 * the "hand-written proxy" the node:http integration is documented for.
 *
 * Per request, as Kong's runloop does:
 * 1. route (`GatewayRouter.matchHttp`); no route → 404 `no Route matched with those values`,
 *    an https-only route over http → 426; both traced by the global zipkin plugin only
 *    (Kong exits before the route's plugins are known);
 * 2. the zipkin instance of the route (route > service > global) starts the trace, access
 *    injects the propagation headers into the upstream headers, then Kong's
 *    `X-Forwarded-*` are set;
 * 3. tries: the balancer picks a target (none → 503); a connection failure or a connect
 *    timeout (`connect_timeout`) goes to the next pick while tries remain (`retries` + 1
 *    in all), each try a balancer span; the last failure answers 502, or 504 when it was
 *    a timeout; `write_timeout` / `read_timeout` (idle time while sending / reading) answer
 *    504, other failures after connecting 502, all with Kong's texts;
 * 4. the upstream status, headers (minus hop-by-hop) and body go downstream as received.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { traceHttp, trackUpstreamSocket } from '../integrations/node-http';
import { hookResponsePhases, logClientGone, logClosedResponse } from '../integrations/response-hooks';
import type { Logger } from '../logger';
import type { ZipkinPlugin } from '../plugin';
import type { RouteIdentity } from '../trace/request-inputs';
import type { RequestTrace } from '../trace/request-trace';
import { hostOf } from '../trace/http-values';
import { type BalancerTarget, type ServiceBalancer, type UpstreamTries, upstreamHostHeader } from './balancer';
import {
  BAD_GATEWAY_MESSAGE,
  GATEWAY_TIMEOUT_MESSAGE,
  NO_PEER_MESSAGE,
  NO_ROUTE_MESSAGE,
  sendExit,
  sendHttpsRequired,
} from './kong-responses';
import { copyResponseHeaders, setForwardedHeaders, upstreamRequestHeaders } from './http-headers';
import type { GatewayPlugin } from './model';
import { ReplayableBody } from './request-body';
import type { GatewayRouter, HttpMatch } from './router';
import { describeFailure, type UpstreamFailure, type UpstreamStage } from './upstream-error-log';

/** Request body bytes kept in memory for a retry (see `ReplayableBody`). */
export const DEFAULT_REPLAY_LIMIT = 1024 * 1024;
/** nginx's `keepalive_timeout` in Kong's template: idle client connections live 60 s. */
const CLIENT_KEEPALIVE_MS = 60_000;
/** Kong's `upstream_keepalive_idle_timeout` (60 s) and `upstream_keepalive_pool_size` (512). */
const UPSTREAM_IDLE_MS = 60_000;
const UPSTREAM_POOL = 512;

export interface HttpProxyOptions {
  readonly router: GatewayRouter;
  /** `createBalancers(config)`: one per service id. */
  readonly balancers: ReadonlyMap<string, ServiceBalancer>;
  /** The plugin instance of each enabled zipkin plugin, by plugin id. */
  readonly plugins: ReadonlyMap<string, ZipkinPlugin>;
  readonly logger: Logger;
  /** Body bytes kept for a retry (default 1 MiB). */
  readonly replayLimit?: number;
}

type ErrnoError = Error & { code?: string };

function timeoutError(message: string): ErrnoError {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

function noop(): void {
  // errors are handled where the request's state is known
}

export class GatewayHttpProxy {
  readonly server: http.Server;
  /** @internal */ readonly httpAgent: http.Agent;
  /** @internal */ readonly httpsAgent: https.Agent;
  /** @internal */ readonly logger: Logger;
  /** @internal */ readonly replayLimit: number;
  /** @internal */ closing = false;
  private readonly router: GatewayRouter;
  private readonly balancers: ReadonlyMap<string, ServiceBalancer>;
  private readonly plugins: ReadonlyMap<string, ZipkinPlugin>;
  private readonly identities = new Map<string, RouteIdentity>();

  constructor(options: HttpProxyOptions) {
    this.router = options.router;
    this.balancers = options.balancers;
    this.plugins = options.plugins;
    this.logger = options.logger;
    this.replayLimit = options.replayLimit ?? DEFAULT_REPLAY_LIMIT;
    const agentOptions = {
      keepAlive: true,
      maxFreeSockets: UPSTREAM_POOL,
      timeout: UPSTREAM_IDLE_MS,
      scheduling: 'lifo' as const,
    };
    this.httpAgent = new http.Agent(agentOptions);
    // Kong does not verify upstream certificates unless the service says so (`tls_verify`).
    this.httpsAgent = new https.Agent({ ...agentOptions, rejectUnauthorized: false });
    this.server = http.createServer({ keepAliveTimeout: CLIENT_KEEPALIVE_MS }, (req, res) => this.handle(req, res));
  }

  /** @internal The plugin instance of a resolved zipkin plugin. */
  instance(plugin: GatewayPlugin | null): ZipkinPlugin | undefined {
    return plugin === null ? undefined : this.plugins.get(plugin.id);
  }

  /** @internal Route and service identity for the trace, one object per route. */
  identity(match: HttpMatch): RouteIdentity {
    let identity = this.identities.get(match.route.id);
    if (identity === undefined) {
      identity = Object.freeze({ route: match.route, service: match.service });
      this.identities.set(match.route.id, identity);
    }
    return identity;
  }

  /** @internal */
  balancer(match: HttpMatch): ServiceBalancer {
    const balancer = this.balancers.get(match.service.id);
    if (balancer === undefined) throw new Error(`no balancer for service ${match.service.id}`);
    return balancer;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // While shutting down, answer what is in flight and let clients reconnect elsewhere.
    if (this.closing) res.setHeader('connection', 'close');
    const match = this.router.matchHttp({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      host: req.headers.host,
      protocol: 'http',
      port: req.socket.localPort,
    });
    if (match === null || match.httpsRequired) {
      const plugin = this.instance(this.router.pluginFor(null, 'http'));
      if (plugin !== undefined) traceHttp(plugin, req, res);
      if (match === null) sendExit(res, 404, NO_ROUTE_MESSAGE);
      else sendHttpsRequired(res);
      return;
    }
    new Exchange(this, req, res, match).start();
  }

  /** Stops accepting connections; `close()` resolves once the open ones are gone. */
  stopAccepting(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Closes kept-alive upstream connections (after the server closed). */
  destroyAgents(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** One proxied request and its tries. */
class Exchange {
  private readonly trace: RequestTrace | undefined;
  private readonly secure: boolean;
  private headers: http.OutgoingHttpHeaders = {};
  private tries: UpstreamTries | null = null;
  private body: ReplayableBody | null = null;
  private upstream: http.ClientRequest | null = null;
  private target: BalancerTarget | null = null;
  private connectTimer: NodeJS.Timeout | undefined = undefined;
  /** The current try's connection is up (the body streams to it). */
  private connected = false;
  /** The current try reuses a kept-alive connection. */
  private reused = false;
  private timedOut = false;
  private responded = false;
  private staleRetried = false;
  private finished = false;

  constructor(
    private readonly proxy: GatewayHttpProxy,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly match: HttpMatch,
  ) {
    const plugin = proxy.instance(match.plugin);
    if (plugin === undefined) this.trace = undefined;
    else {
      // Only this plugin traces the request; `start` logs it from the response's `close`.
      this.trace = plugin.startHttp(req);
      hookResponsePhases();
    }
    this.secure = match.service.protocol === 'https';
  }

  start(): void {
    const { req, res, match, trace } = this;
    const headers = upstreamRequestHeaders(req);
    this.headers = headers;
    if (trace !== undefined) trace.access(this.proxy.identity(match), headers, true);
    setForwardedHeaders(headers, req, match.prefix);
    res.on('close', this.onResponseClose);
    // A pipelined request queued behind another has no socket yet, and Node emits no
    // `close` for its response if the client leaves: watch the connection until it has one.
    if (res.socket === null) {
      const socket = req.socket;
      socket.once('close', this.onQueuedClientGone);
      res.once('close', () => socket.removeListener('close', this.onQueuedClientGone));
    }
    req.on('error', noop);

    const tries = this.proxy.balancer(match).tries();
    this.tries = tries;
    const first = tries.next();
    if (trace !== undefined) trace.accessEnd();
    if (first === null) {
      this.finish(503, NO_PEER_MESSAGE);
      return;
    }
    this.body = new ReplayableBody(req, this.proxy.replayLimit);
    this.attempt(first);
  }

  private attempt(target: BalancerTarget): void {
    const { trace, match, headers } = this;
    this.target = target;
    this.connected = false;
    this.reused = false;
    this.timedOut = false;
    if (trace !== undefined)
      trace.balancerTry({
        hostname: target.host,
        port: target.port,
        ip: isIP(target.host) !== 0 ? target.host : undefined,
      });
    const host = match.upstreamHost ?? upstreamHostHeader(target, this.secure ? 'https' : 'http');
    headers.host = host;
    const options: https.RequestOptions = {
      host: target.host,
      port: target.port,
      method: this.req.method,
      path: match.upstreamUri,
      headers,
      setHost: false,
      agent: this.secure ? this.proxy.httpsAgent : this.proxy.httpAgent,
    };
    if (this.secure) {
      // nginx `proxy_ssl_name $upstream_host`, without the port; no SNI for an IP.
      const name = hostOf(host, undefined);
      if (name !== undefined && name.charCodeAt(0) !== 91 /* [ */ && isIP(name) === 0) options.servername = name;
    }

    let upstream: http.ClientRequest;
    try {
      upstream = (this.secure ? https.request : http.request)(options);
    } catch (err) {
      this.proxy.logger.error(`failed to create the upstream request: ${(err as Error).message}`);
      if (trace !== undefined) trace.upstreamFailed('failed', 502);
      this.finish(502, BAD_GATEWAY_MESSAGE);
      return;
    }
    this.upstream = upstream;
    upstream.on('socket', (socket: Socket) => {
      if (trace !== undefined) trackUpstreamSocket(trace, socket);
      this.onSocket(upstream, socket);
    });
    upstream.on('response', (response: http.IncomingMessage) => this.onResponse(upstream, response));
    upstream.on('error', (err: ErrnoError) => this.onError(upstream, err));
    upstream.on('timeout', () => {
      if (upstream !== this.upstream) return;
      this.timedOut = true;
      upstream.destroy(timeoutError('upstream timed out'));
    });
  }

  private onSocket(upstream: http.ClientRequest, socket: Socket): void {
    if (upstream !== this.upstream) return;
    if (!socket.connecting) {
      this.onConnected(upstream, true);
      return;
    }
    const service = this.match.service;
    this.connectTimer = setTimeout(() => socket.destroy(timeoutError('connect timed out')), service.connect_timeout);
    const event = (socket as Socket & { encrypted?: boolean }).encrypted === true ? 'secureConnect' : 'connect';
    socket.once(event, () => {
      this.clearConnectTimer();
      if (upstream === this.upstream) this.onConnected(upstream, false);
    });
  }

  private onConnected(upstream: http.ClientRequest, reused: boolean): void {
    if (this.finished) {
      upstream.destroy();
      return;
    }
    this.connected = true;
    this.reused = reused;
    const service = this.match.service;
    upstream.setTimeout(service.write_timeout);
    upstream.once('finish', () => {
      if (!this.responded && upstream === this.upstream) upstream.setTimeout(service.read_timeout);
    });
    (this.body as ReplayableBody).attach(upstream);
  }

  private onResponse(upstream: http.ClientRequest, response: http.IncomingMessage): void {
    if (upstream !== this.upstream || this.finished) {
      response.destroy();
      return;
    }
    this.responded = true;
    const res = this.res;
    // While reading the body, `read_timeout` is the allowed silence between two reads.
    upstream.setTimeout(this.match.service.read_timeout);
    response.on('error', noop);
    response.on('close', () => {
      if (!response.complete && !res.writableEnded && !this.finished) {
        // The upstream connection ended mid-body: cut the client's too, as nginx does.
        this.finished = true;
        this.logFailure({ code: 'ECONNRESET', message: 'upstream closed' }, 'while reading upstream');
        res.destroy();
      }
    });
    try {
      copyResponseHeaders(response, res);
      res.writeHead(response.statusCode ?? 502, response.statusMessage);
    } catch (err) {
      this.proxy.logger.error(`invalid upstream response: ${(err as Error).message}`);
      response.destroy();
      this.finish(502, BAD_GATEWAY_MESSAGE);
      return;
    }
    response.pipe(res);
  }

  private onError(upstream: http.ClientRequest, err: ErrnoError): void {
    if (upstream !== this.upstream) return;
    this.clearConnectTimer();
    if (this.finished) return;
    const connected = this.connected;
    const stage: UpstreamStage = this.responded
      ? 'while reading upstream'
      : !connected
        ? 'while connecting to upstream'
        : upstream.writableFinished
          ? 'while reading response header from upstream'
          : 'while sending request to upstream';
    this.logFailure(err, stage);
    if (this.responded) {
      // Headers went downstream already: all that is left is to cut the connection.
      this.finished = true;
      this.res.destroy();
      return;
    }
    const body = this.body as ReplayableBody;
    if (!connected) {
      // Nothing was sent: the next target gets the whole request.
      body.detach();
      const next = (this.tries as UpstreamTries).next();
      if (next !== null) {
        this.attempt(next);
        return;
      }
      const timeout = err.code === 'ETIMEDOUT';
      this.finish(timeout ? 504 : 502, timeout ? GATEWAY_TIMEOUT_MESSAGE : BAD_GATEWAY_MESSAGE);
      return;
    }
    if (
      this.reused &&
      !this.timedOut &&
      !this.staleRetried &&
      body.replayable &&
      (err.code === 'ECONNRESET' || err.code === 'EPIPE')
    ) {
      // A kept-alive connection the upstream had already closed: the same target again,
      // once, without using up a try (nginx does the same for cached connections).
      this.staleRetried = true;
      if (this.trace !== undefined) this.trace.upstreamFailed('failed', 502);
      body.detach();
      this.attempt(this.target as BalancerTarget);
      return;
    }
    this.finish(this.timedOut ? 504 : 502, this.timedOut ? GATEWAY_TIMEOUT_MESSAGE : BAD_GATEWAY_MESSAGE);
  }

  /** The gateway answers itself (error statuses); the upstream request, if any, is dropped. */
  private finish(status: number, message: string): void {
    this.finished = true;
    this.clearConnectTimer();
    const upstream = this.upstream;
    if (upstream !== null && !upstream.destroyed) upstream.destroy();
    sendExit(this.res, status, message);
  }

  /** The response closed: Kong's log phase (before anything else, as `hookResponse` would), then `onClientClose`. */
  private readonly onResponseClose = (): void => {
    if (this.trace !== undefined) logClosedResponse(this.res);
    this.onClientClose();
  };

  private readonly onQueuedClientGone = (): void => {
    if (this.trace !== undefined) logClientGone(this.res);
    this.onClientClose();
  };

  private readonly onClientClose = (): void => {
    if (this.res.writableFinished || this.finished) return;
    // The client went away first (nginx's 499): stop whatever is still going on upstream.
    this.finished = true;
    this.clearConnectTimer();
    const upstream = this.upstream;
    if (upstream !== null && !upstream.destroyed) upstream.destroy();
  };

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
  }

  private logFailure(err: UpstreamFailure, stage: UpstreamStage): void {
    const req = this.req;
    const target = this.target;
    const scheme = this.secure ? 'https' : 'http';
    const upstream = target === null ? '' : `, upstream: "${scheme}://${target.name}${this.match.upstreamUri}"`;
    const host = req.headers.host === undefined ? '' : `, host: "${req.headers.host}"`;
    this.proxy.logger.error(
      `${describeFailure(err, stage, this.timedOut)}, client: ${req.socket.remoteAddress ?? ''}, server: kong, ` +
        `request: "${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}"${upstream}${host}`,
    );
  }
}
