/**
 * The header rewriting Kong's runloop and nginx's proxy module do around a proxied request
 * (`kong/runloop/handler.lua` access before/after, header_filter before; the
 * `proxy_set_header` lines of Kong's nginx template), with Kong's default of no trusted
 * IPs, so every `X-Forwarded-*` value is computed from the connection, never taken from
 * the client:
 *
 * - `X-Forwarded-For`: the client's list + `, ` + the client address, or the address alone;
 * - `X-Forwarded-Proto` (`http`), `-Host` (nginx `$host`), `-Port` (the local port),
 *   `-Path` (the request path as received, without query), `-Prefix` (the stripped path
 *   prefix, absent otherwise, even when the client sent one), `X-Real-IP`;
 * - hop-by-hop request headers dropped (`Connection` and the names it lists, `Keep-Alive`,
 *   `Proxy`, `Proxy-Connection`, `Upgrade`, `Expect`, `TE` except `trailers`) and
 *   `Connection: keep-alive` sent upstream; `Host` is set per try by the proxy;
 * - hop-by-hop response headers dropped (`Connection` and the names it lists,
 *   `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, `Trailer`); every
 *   other upstream header goes downstream as received (case, order and repeats kept).
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { hostOf } from '../trace/http-values';

/** Request headers never copied upstream as the client sent them. */
const REQUEST_SKIP = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy',
  'proxy-connection',
  'upgrade',
  'expect',
  'te',
  'transfer-encoding',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'x-real-ip',
]);

/** Response headers never copied downstream. */
const RESPONSE_SKIP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
]);

/** `Connection` values Kong leaves alone (no header names listed). */
const PLAIN_CONNECTION = new Set(['keep-alive', 'close', 'upgrade']);

/** nginx's `$host` when the request has no Host header: Kong's `server_name`. */
const SERVER_NAME = 'kong';

const CSV_SPLIT = /\s*,\s*/;

/** The lower-case names a `Connection` header lists, or null when it lists none Kong clears. */
function connectionTokens(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  const lower = value.toLowerCase();
  if (PLAIN_CONNECTION.has(lower)) return null;
  const tokens = new Set<string>();
  for (const token of lower.trim().split(CSV_SPLIT)) {
    if (token !== '' && !PLAIN_CONNECTION.has(token)) tokens.add(token);
  }
  return tokens.size === 0 ? null : tokens;
}

/** True when a `TE` header lists `trailers`. */
function wantsTrailers(te: string | undefined): boolean {
  if (te === undefined) return false;
  if (te === 'trailers') return true;
  for (const token of te.toLowerCase().split(CSV_SPLIT)) if (token.split(';')[0].trim() === 'trailers') return true;
  return false;
}

/**
 * The headers the upstream request starts from: the client's, minus hop-by-hop and the
 * headers Kong sets itself, with lower-case names (what the zipkin access phase writes
 * into). `Host` and the `X-Forwarded-*` values come later (`setForwardedHeaders`, per try).
 */
export function upstreamRequestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const incoming: IncomingHttpHeaders = req.headers;
  const listed = connectionTokens(incoming.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (REQUEST_SKIP.has(name) || (listed !== null && listed.has(name))) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  // The body is streamed as it arrives: keep its framing.
  if (incoming['transfer-encoding'] !== undefined && incoming['content-length'] === undefined)
    out['transfer-encoding'] = 'chunked';
  const te = incoming.te;
  if (typeof te === 'string' && wantsTrailers(te)) out.te = 'trailers';
  out.connection = 'keep-alive';
  return out;
}

/**
 * Kong's `X-Forwarded-*` and `X-Real-IP` (nginx `proxy_set_header` replaces whatever the
 * request carried). `prefix` is the stripped route prefix, or null.
 */
export function setForwardedHeaders(headers: OutgoingHttpHeaders, req: IncomingMessage, prefix: string | null): void {
  const socket = req.socket;
  const remote = socket.remoteAddress ?? '';
  const xff = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = xff === undefined ? remote : `${xff}, ${remote}`;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = hostOf(req.headers.host, SERVER_NAME) ?? SERVER_NAME;
  headers['x-forwarded-port'] = String(socket.localPort ?? '');
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  headers['x-forwarded-path'] = q === -1 ? url : url.slice(0, q);
  if (prefix !== null && prefix !== '/') headers['x-forwarded-prefix'] = prefix;
  headers['x-real-ip'] = remote;
}

/**
 * Copies the upstream response headers onto `res` (before `writeHead`, so the zipkin
 * header_filter, which runs in `writeHead`, appends its trace id header after them as
 * Kong's `add_header` does).
 */
export function copyResponseHeaders(upstream: IncomingMessage, res: ServerResponse): void {
  const raw = upstream.rawHeaders;
  const listed = connectionTokens(upstream.headers.connection);
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (RESPONSE_SKIP.has(lower) || (listed !== null && listed.has(lower))) continue;
    res.appendHeader(raw[i], raw[i + 1]);
  }
}
