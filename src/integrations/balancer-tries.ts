import type { ClientRequest } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { hostWithoutPort } from '../trace/http-values';
import type { UpstreamTarget } from '../trace/request-inputs';
import type { RequestTrace } from '../trace/request-trace';

/**
 * Balancer tries from Node sockets: a try ends when its socket connects (TLS: once the
 * handshake is done, like nginx's connect time) or fails. Listeners are shared functions
 * finding the trace on the socket; the failure listener is prepended so the try is closed
 * before http's own error handling writes the error response (try end ≤ khs).
 */

const TRACE = Symbol('gateway-zipkin upstream trace');

type Tracked = { [TRACE]?: RequestTrace };

/** Follow the connection of `socket` for the current balancer try of `trace`. */
export function trackUpstreamSocket(trace: RequestTrace, socket: Socket): void {
  if (!socket.connecting) {
    // A kept-alive socket is connected already.
    trace.upstreamConnected(socket.remoteAddress, socket.remotePort);
    return;
  }
  (socket as Socket & Tracked)[TRACE] = trace;
  socket.on(connectEvent(socket), onSocketConnect);
  socket.prependListener('error', onSocketError);
}

/**
 * Follow the upstream request `req` (`http.request`) for the current balancer try of
 * `trace`. Adds no `error` or `response` listener to the request itself, so the caller's
 * error handling and response handling stay exactly as they were.
 */
export function trackUpstreamRequest(trace: RequestTrace, req: ClientRequest): void {
  const socket = req.socket;
  if (socket !== null && socket !== undefined) {
    trackUpstreamSocket(trace, socket);
    return;
  }
  (req as ClientRequest & Tracked)[TRACE] = trace;
  req.once('socket', onRequestSocket);
}

function onRequestSocket(this: ClientRequest & Tracked, socket: Socket): void {
  const trace = this[TRACE];
  this[TRACE] = undefined;
  if (trace !== undefined) trackUpstreamSocket(trace, socket);
}

function connectEvent(socket: Socket): 'connect' | 'secureConnect' {
  return (socket as Socket & { encrypted?: boolean }).encrypted === true ? 'secureConnect' : 'connect';
}

function untrack(socket: Socket & Tracked): RequestTrace | undefined {
  const trace = socket[TRACE];
  socket[TRACE] = undefined;
  socket.removeListener(connectEvent(socket), onSocketConnect);
  socket.removeListener('error', onSocketError);
  return trace;
}

function onSocketConnect(this: Socket & Tracked): void {
  const trace = untrack(this);
  if (trace !== undefined) trace.upstreamConnected(this.remoteAddress, this.remotePort);
}

function onSocketError(this: Socket & Tracked, err: NodeJS.ErrnoException & { address?: string; port?: number }): void {
  const trace = untrack(this);
  if (trace !== undefined) trace.upstreamFailed('failed', failureStatus(err), err.address, err.port);
}

/** The status nginx gives a failed connection: 504 for a timeout, 502 otherwise. */
export function failureStatus(err: { code?: string } | undefined): number {
  return err !== undefined && err.code === 'ETIMEDOUT' ? 504 : 502;
}

/**
 * A balancer try target from a URL-ish value (a `url.parse` result, a WHATWG `URL`, an
 * http-proxy target object `{ host, port, protocol }` or a string).
 */
export function targetFromUrl(target: unknown): UpstreamTarget {
  let hostname: string | undefined;
  let port: number | undefined;
  let protocol: string | undefined;
  if (typeof target === 'string') {
    try {
      const u = new URL(target);
      hostname = u.hostname;
      port = u.port === '' ? undefined : Number(u.port);
      protocol = u.protocol;
    } catch {
      return {};
    }
  } else if (target !== null && typeof target === 'object') {
    const t = target as { hostname?: unknown; host?: unknown; port?: unknown; protocol?: unknown };
    if (typeof t.hostname === 'string' && t.hostname !== '') hostname = t.hostname;
    else if (typeof t.host === 'string') hostname = hostWithoutPort(t.host);
    if (typeof t.port === 'number') port = t.port;
    else if (typeof t.port === 'string' && t.port !== '') port = Number(t.port);
    if (typeof t.protocol === 'string') protocol = t.protocol;
  }
  if (hostname !== undefined && hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  if (port === undefined || !Number.isFinite(port)) port = protocol === 'https:' || protocol === 'wss:' ? 443 : 80;
  return { hostname, port, ip: hostname !== undefined && isIP(hostname) !== 0 ? hostname : undefined };
}
