/**
 * The request values Kong reports on the request span (§2.2, §2.5), computed from what
 * Node gives: the normalized path, `$host`, and the protocol as Lua prints the version.
 */

// Kong's reserved set: percent-escapes of these stay escaped (hex uppercased); every other
// escape is decoded (kong/tools/uri.lua `normalize`).
const RESERVED = new Set('!*\'();:@&=+$,/?%#[]'.split('').map((c) => c.charCodeAt(0)));
const ESCAPE_RE = /%([0-9a-fA-F]{2})/g;

/**
 * Kong's `kong.request.get_path()`: the path without the query string, percent-decoded
 * except for reserved characters, dot segments resolved, repeated slashes merged.
 * `url` is Node's request target, whose characters are the raw bytes (latin1).
 */
export function normalizePath(url: string): string {
  const q = url.indexOf('?');
  let uri = q === -1 ? url : url.slice(0, q);
  if (uri === '' || uri === '/') return uri;
  if (uri.indexOf('%') !== -1) uri = uri.replace(ESCAPE_RE, decodeEscape);
  if (uri.indexOf('.') !== -1 || uri.indexOf('//') !== -1) uri = removeDotSegments(uri);
  return toText(uri);
}

function decodeEscape(match: string, hex: string): string {
  const code = parseInt(hex, 16);
  return RESERVED.has(code) ? match.toUpperCase() : String.fromCharCode(code);
}

/** RFC 3986 §5.2.4 plus slash merging, as Kong's loop does it. */
function removeDotSegments(input: string): string {
  const out: string[] = [];
  let uri = input;
  while (uri.length > 0) {
    if (uri === '/.') {
      uri = '/';
    } else if (uri === '/..') {
      uri = '/';
      out.pop();
    } else if (uri === '.' || uri === '..') {
      uri = '';
    } else if (uri.startsWith('../')) {
      uri = uri.slice(3);
    } else if (uri.startsWith('./')) {
      uri = uri.slice(2);
    } else if (uri.startsWith('/./')) {
      uri = uri.slice(2);
    } else if (uri.startsWith('/../')) {
      uri = uri.slice(3);
      out.pop();
    } else if (uri.startsWith('//')) {
      uri = uri.slice(1);
    } else {
      const i = uri.indexOf('/', 1);
      if (i === -1) {
        out.push(uri);
        uri = '';
      } else {
        out.push(uri.slice(0, i));
        uri = uri.slice(i);
      }
    }
  }
  return out.join('');
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
