/**
 * Connects an accepted TCP connection to its upstream the way Kong's stream proxy does:
 * one balancer try per connect attempt, the next target after a failure or a connect
 * timeout while tries remain, then bytes piped both ways with half-close passed on, and
 * an idle timeout once connected (nginx's `proxy_timeout`). `proxyTcp` and the reference
 * gateway's stream proxy both use it.
 */
import { connect, isIP, type Socket } from 'node:net';
import type { RequestTrace } from '../trace/request-trace';
import { trackUpstreamSocket } from './balancer-tries';

export interface TcpTarget {
  readonly host: string;
  readonly port: number;
}

export type ErrnoError = Error & { code?: string };

export interface TcpUpstreamOptions<T extends TcpTarget> {
  /** Connect timeout per attempt, ms (none when absent). */
  readonly connectTimeout?: number;
  /** Once connected, a session with no traffic for this long is closed, ms (none when absent). */
  readonly idleTimeout?: number;
  /** A connect attempt failed; its balancer try is already closed. */
  readonly onConnectError?: (err: ErrnoError, target: T, timedOut: boolean) => void;
  /** The idle timeout closed the session. */
  readonly onIdleTimeout?: (target: T) => void;
  /** Every try failed: close the client (default: destroy it). */
  readonly onExhausted?: (client: Socket) => void;
}

/**
 * Connects `client` (paused, and resumed once connected) to `first`, then to each target
 * `next()` gives after a failed attempt, until one connects or `next()` returns null.
 */
export function connectUpstream<T extends TcpTarget>(
  client: Socket,
  trace: RequestTrace | undefined,
  first: T,
  next: () => T | null,
  options: TcpUpstreamOptions<T> = {},
): void {
  const attempt = (target: T): void => {
    if (client.destroyed) return;
    if (trace !== undefined) {
      trace.balancerTry({
        hostname: target.host,
        port: target.port,
        ip: isIP(target.host) !== 0 ? target.host : undefined,
      });
    }
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    if (trace !== undefined) trackUpstreamSocket(trace, upstream);
    let connected = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (options.connectTimeout !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        upstream.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
      }, options.connectTimeout);
    }
    const onClientGone = (): void => {
      upstream.destroy();
    };
    client.once('close', onClientGone);

    upstream.once('connect', () => {
      clearTimeout(timer);
      connected = true;
      if (options.idleTimeout !== undefined) {
        upstream.setTimeout(options.idleTimeout);
        upstream.on('timeout', () => {
          options.onIdleTimeout?.(target);
          upstream.destroy();
          client.destroy();
        });
      }
      upstream.pipe(client);
      client.pipe(upstream);
      client.resume();
    });
    upstream.on('error', (err: ErrnoError) => {
      clearTimeout(timer);
      client.removeListener('close', onClientGone);
      if (client.destroyed) return;
      if (connected) {
        client.destroy();
        return;
      }
      options.onConnectError?.(err, target, timedOut);
      const following = next();
      if (following !== null) attempt(following);
      else if (options.onExhausted !== undefined) options.onExhausted(client);
      else client.destroy();
    });
    upstream.on('close', () => {
      clearTimeout(timer);
      // The upstream's end was piped to the client; a reset closes the client as well.
      if (connected && !client.destroyed && !client.writableEnded) client.end();
    });
  };
  attempt(first);
}
