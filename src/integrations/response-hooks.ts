import { type IncomingMessage, ServerResponse } from 'node:http';
import { traceOf } from '../plugin';
import type { RequestTrace } from '../trace/request-trace';

/**
 * Kong's header_filter, body_filter and log phases on a Node `ServerResponse`:
 * - header_filter: `writeHead` (Node calls it implicitly on the first write / end);
 * - body_filter: the first `write` / `end`, and `end` for the last bytes;
 * - log: the response's `close` event, which Node emits once the response finished, or
 *   when the client went away first (then it has not finished: nginx's 499).
 *
 * `writeHead`, `write` and `end` are wrapped once on `http.ServerResponse.prototype`, the
 * first time a response is hooked, not on every response object: adding own properties to
 * each response (whose prototype Express has already swapped) was a measurable share of
 * the per-request cost. The wrappers find the trace through `res.req`; a response whose
 * request carries no trace goes straight to Node's methods. Per request, hooking costs
 * one `close` listener (two for a pipelined request queued behind another: see below).
 */

type Response = ServerResponse & { req?: IncomingMessage | null };
type WriteHead = (this: ServerResponse, a?: unknown, b?: unknown, c?: unknown) => ServerResponse;
type Write = (this: ServerResponse, a?: unknown, b?: unknown, c?: unknown) => boolean;
type End = (this: ServerResponse, a?: unknown, b?: unknown, c?: unknown) => ServerResponse;

/** nginx's status for a request whose client closed the connection before the response. */
const CLIENT_CLOSED = 499;

let originals: { writeHead: WriteHead; write: Write; end: End } | undefined;

function traceFor(res: Response): RequestTrace | undefined {
  const req = res.req;
  return req === undefined || req === null ? undefined : traceOf(req);
}

function install(): void {
  if (originals !== undefined) return;
  const proto = ServerResponse.prototype as unknown as { writeHead: WriteHead; write: Write; end: End };
  const o = { writeHead: proto.writeHead, write: proto.write, end: proto.end };
  originals = o;
  // Fixed arity: Node's writeHead / write / end treat a missing argument and undefined alike.
  proto.writeHead = function writeHead(this: Response, a?: unknown, b?: unknown, c?: unknown): ServerResponse {
    const trace = traceFor(this);
    if (trace !== undefined && !this.headersSent) trace.headerFilter(this);
    return o.writeHead.call(this, a, b, c);
  };
  proto.write = function write(this: Response, a?: unknown, b?: unknown, c?: unknown): boolean {
    // The original sends the headers first (implicit writeHead → header_filter): khs ≤ khf.
    const result = o.write.call(this, a, b, c);
    const trace = traceFor(this);
    if (trace !== undefined && trace.bodyStartUs === 0) trace.bodyFilter();
    return result;
  };
  proto.end = function end(this: Response, a?: unknown, b?: unknown, c?: unknown): ServerResponse {
    const result = o.end.call(this, a, b, c);
    const trace = traceFor(this);
    if (trace !== undefined) trace.bodyFilterEnd();
    return result;
  };
}

/**
 * Make the phases of the trace attached to `res.req` follow the response: call once per
 * response. A plugin taking the request over later only attaches its trace to the request.
 */
export function hookResponse(res: ServerResponse): void {
  install();
  res.on('close', onClose);
  // A pipelined request's response waits without a socket until the ones before it are
  // done. If the client leaves meanwhile, Node drops it without any `close` event: the
  // socket's `close` logs it then (the client got nothing: 499).
  if (res.socket === null || res.socket === undefined) watchQueued(res as Response);
}

const UNWATCH = Symbol('gateway-zipkin queued response');

type Queued = Response & { [UNWATCH]?: () => void };

function watchQueued(res: Queued): void {
  const socket = res.req?.socket;
  if (socket === null || socket === undefined) return;
  const onSocketClose = (): void => {
    res[UNWATCH] = undefined;
    logClientGone(res);
  };
  if (socket.closed) {
    process.nextTick(onSocketClose);
    return;
  }
  socket.once('close', onSocketClose);
  res[UNWATCH] = () => socket.removeListener('close', onSocketClose);
}

function onClose(this: Queued): void {
  const unwatch = this[UNWATCH];
  if (unwatch !== undefined) {
    this[UNWATCH] = undefined;
    unwatch();
  }
  logClosedResponse(this);
}

/**
 * `hookResponse` for a caller that already listens to the response's `close` and calls
 * `logClosedResponse` from there (the CLI gateway): the header and body phases only, no
 * listener of its own. The caller also logs a queued pipelined response whose client left
 * (`logClientGone`).
 */
export function hookResponsePhases(): void {
  install();
}

/** Kong's log phase once `res` emitted `close`: its status, or nginx's 499 when the client left before any response. */
export function logClosedResponse(res: ServerResponse): void {
  const trace = traceFor(res);
  if (trace === undefined) return;
  if (res.writableFinished) trace.log(res.statusCode);
  else trace.log(res.headersSent ? res.statusCode : CLIENT_CLOSED);
}

/** Kong's log phase for a response that never had a socket: its client left while it was queued (499). */
export function logClientGone(res: ServerResponse): void {
  if (res.socket !== null && res.socket !== undefined) return; // its own `close` logs it
  traceFor(res)?.log(CLIENT_CLOSED);
}
