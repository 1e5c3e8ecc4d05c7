/**
 * The request values Kong reports on the request span (§2.2, §2.5), computed from what
 * Node gives: the normalized path, `$host`, and the protocol as Lua prints the version.
 */
import { normalizeRawPath } from './uri-normalize';

/**
 * Kong's `kong.request.get_path()`: the path without the query string, percent-decoded
 * except for reserved characters, dot segments resolved, repeated slashes merged.
 * `url` is Node's request target, whose characters are the raw bytes (latin1).
 */
export function normalizePath(url: string): string {
  const q = url.indexOf('?');
  return toText(normalizeRawPath(q === -1 ? url : url.slice(0, q)));
}

// Decoded bytes are chars 0-255; turn UTF-8 byte runs back into text for the tag.
function toText(latin1: string): string {
  for (let i = 0; i < latin1.length; i++) {
    if (latin1.charCodeAt(i) > 0x7f) return Buffer.from(latin1, 'latin1').toString('utf8');
  }
  return latin1;
}

/** nginx `$host`: the Host header without its port, lowercased; `fallback` when absent. */
export function hostOf(host: string | undefined, fallback: string | undefined): string | undefined {
  if (host === undefined || host === '') return fallback;
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close !== -1) end = close + 1;
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) end = colon;
  }
  return host.slice(0, end).toLowerCase();
}

/** `HTTP/` + the version as Lua prints the number: `HTTP/1.1`, `HTTP/2`, `HTTP/1` for 1.0. */
export function protocolOf(httpVersion: string | undefined): string | undefined {
  if (httpVersion === undefined || httpVersion === '') return undefined;
  const n = Number(httpVersion);
  return Number.isFinite(n) ? `HTTP/${n}` : undefined;
}
