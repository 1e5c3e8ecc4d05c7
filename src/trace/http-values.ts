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

/**
 * The host of a Host header (or `host:port` text) without its port, brackets of an IPv6
 * literal kept: `Example.com:8000` → `Example.com`, `[::1]:80` → `[::1]`. Lenient, as
 * the request line is: text it cannot split comes back whole.
 */
export function hostWithoutPort(host: string): string {
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    return close === -1 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** nginx `$host`: the Host header without its port, lowercased; `fallback` when absent. */
export function hostOf(host: string | undefined, fallback: string | undefined): string | undefined {
  if (host === undefined || host === '') return fallback;
  return hostWithoutPort(host).toLowerCase();
}

/** `HTTP/` + the version as Lua prints the number: `HTTP/1.1`, `HTTP/2`, `HTTP/1` for 1.0. */
export function protocolOf(httpVersion: string | undefined): string | undefined {
  if (httpVersion === undefined || httpVersion === '') return undefined;
  const n = Number(httpVersion);
  return Number.isFinite(n) ? `HTTP/${n}` : undefined;
}
