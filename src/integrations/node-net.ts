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
import { connect, isIP, type Socket } from 'node:net';
import { traceOf, type ZipkinPlugin } from '../plugin';
import type { RequestTrace, RouteIdentity } from '../trace/request-trace';
import { trackUpstreamSocket } from './balancer-tries';

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
}

/**
 * Proxy the accepted connection `client` to `host:port`, traced: a balancer try per
 * connect attempt (`retries` more after a failure), bytes piped both ways once connected,
 * each side closed when the other ends. Returns the connection's trace.
 */
export function proxyTcp(plugin: ZipkinPlugin, client: Socket, options: TcpProxyOptions): RequestTrace {
  const trace = traceConnection(plugin, client, options);
  client.pause();
  trace.prereadEnd();
  let attemptsLeft = (options.retries ?? 0) + 1;
  let upstream: Socket | undefined;

  const attempt = (): void => {
    attemptsLeft--;
    trace.balancerTry({ hostname: options.host, port: options.port, ip: isIP(options.host) !== 0 ? options.host : undefined });
    const socket = connect({ host: options.host, port: options.port });
    upstream = socket;
    trackUpstreamSocket(trace, socket);
    let connected = false;
    let timer: NodeJS.Timeout | undefined;
    if (options.connectTimeout !== undefined) {
      timer = setTimeout(() => {
        const err = Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' });
        socket.destroy(err);
      }, options.connectTimeout);
    }
    socket.once('connect', () => {
      connected = true;
      if (timer !== undefined) clearTimeout(timer);
      if (client.destroyed) {
        socket.destroy();
        return;
      }
      socket.pipe(client);
      client.pipe(socket);
      client.resume();
    });
    socket.on('error', () => {
      if (timer !== undefined) clearTimeout(timer);
      if (connected) {
        client.destroy();
      } else if (attemptsLeft > 0 && !client.destroyed) {
        attempt();
      } else {
        client.destroy();
      }
    });
  };

  client.on('error', () => upstream?.destroy());
  client.on('close', () => upstream?.destroy());
  attempt();
  return trace;
}
