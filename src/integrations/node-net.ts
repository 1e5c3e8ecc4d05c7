/**
 * `node:net` integration: Kong's stream subsystem (§2.1) for a TCP proxy. The request span
 * is `stream`, the proxy span `stream (proxy)` with `kps` / `kpf` (or
 * `kong.preread.duration_ms`), one balancer span per connect attempt; no propagation, no
 * tags header, sampling by `sample_ratio` only.
 *
 * Hand-written proxy:
 *
 *     net.createServer((client) => {
 *       const t = traceConnection(zipkin, client, { route, service });   // request start + preread (kps)
 *       t.prereadEnd();                                                   // upstream chosen (kpf)
 *       t.balancerTry({ hostname, port });
 *       const upstream = net.connect(port, hostname);
 *       trackUpstreamSocket(t, upstream);                                 // try ends on connect / error
 *       …                                                                 // log when the client socket closes
 *     });
 *
 * or `proxyTcp(zipkin, client, { host, port, retries })`, which does all of it.
 */
import type { Socket } from 'node:net';
import { traceOf, type ZipkinPlugin } from '../plugin';
import type { RouteIdentity } from '../trace/request-inputs';
import type { RequestTrace } from '../trace/request-trace';
import { connectUpstream, type TcpTarget } from './tcp-upstream';

export { trackUpstreamSocket } from './balancer-tries';

/**
 * Trace the accepted connection `client`: the request starts and preread begins now;
 * the log phase runs when `client` closes.
 */
export function traceConnection(plugin: ZipkinPlugin, client: Socket, identity?: RouteIdentity | null): RequestTrace {
  const existing = traceOf(client);
  if (existing !== undefined) return existing;
  const trace = plugin.startStream(client);
  trace.preread(identity);
  client.on('close', onClientClose);
  return trace;
}

function onClientClose(this: Socket): void {
  const trace = traceOf(this);
  if (trace !== undefined) trace.log();
}

export interface TcpProxyOptions extends RouteIdentity {
  /** Upstream host name or IP. */
  host: string;
  port: number;
  /** Further connect attempts after a failed one (Kong's service `retries`; default 0). */
  retries?: number;
  /** Connect timeout per attempt, ms (default: none). */
  connectTimeout?: number;
  /** Once connected, close a session with no traffic for this long, ms (default: none). */
  idleTimeout?: number;
}

/**
 * Proxy the accepted connection `client` to `host:port`, traced: a balancer try per
 * connect attempt (`retries` more after a failure), then bytes piped both ways, a side's
 * end passed on to the other (half-close; create the server with `allowHalfOpen: true`
 * for a client's half-close to reach the upstream). Returns the connection's trace.
 */
export function proxyTcp(plugin: ZipkinPlugin, client: Socket, options: TcpProxyOptions): RequestTrace {
  const trace = traceConnection(plugin, client, options);
  client.pause();
  client.on('error', destroySelf);
  trace.prereadEnd();
  const target: TcpTarget = { host: options.host, port: options.port };
  let retriesLeft = options.retries ?? 0;
  connectUpstream(client, trace, target, () => (retriesLeft-- > 0 ? target : null), {
    connectTimeout: options.connectTimeout,
    idleTimeout: options.idleTimeout,
  });
  return trace;
}

function destroySelf(this: Socket): void {
  this.destroy();
}
