/**
 * Kong's request-path handling for routing and for the upstream request line
 * (`kong/tools/uri.lua`, `kong/router/utils.lua`, `kong/runloop/handler.lua`):
 * normalization before matching, the `strip_path` postfix, the service-path join
 * (Kong's "v0" path handling), escaping when forwarding and the query string.
 *
 * Strings here are byte strings, as Node's HTTP parser hands out `req.url` (one char per
 * byte); percent-decoding therefore yields chars 0-255, and escaping turns them back into
 * `%XX`.
 */
import { normalizeRawPath } from '../trace/uri-normalize';

// Characters forwarded as they are; everything else is `%XX`-escaped (Kong's ESCAPE_PATTERN).
const SAFE_CODES: readonly boolean[] = (() => {
  const table: boolean[] = new Array<boolean>(256).fill(false);
  const safe = "!#$&'()*+,/:;=?@[]-_.~%";
  for (let i = 0; i < safe.length; i++) table[safe.charCodeAt(i)] = true;
  for (let c = 48; c <= 57; c++) table[c] = true;
  for (let c = 65; c <= 90; c++) table[c] = true;
  for (let c = 97; c <= 122; c++) table[c] = true;
  return table;
})();

const ESCAPE_NEEDED_RE = /[^!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]/;
const ABSOLUTE_FORM_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
const SLASH = 47;

function hex2(code: number): string {
  return (code < 16 ? '%0' : '%') + code.toString(16).toUpperCase();
}

/**
 * Kong's `escape` for the upstream request line: every character outside the reserved
 * and unreserved sets (and `%`) becomes `%XX` with upper-case hex.
 */
export function escapePath(uri: string): string {
  if (!ESCAPE_NEEDED_RE.test(uri)) return uri;
  let out = '';
  for (let i = 0; i < uri.length; i++) {
    const code = uri.charCodeAt(i);
    if (code < 256) {
      out += SAFE_CODES[code] ? uri[i] : hex2(code);
    } else {
      // Only reachable from callers that pass decoded text: escape its UTF-8 bytes.
      const cp = uri.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += hex2(b);
    }
  }
  return out;
}

/** Kong's `sanitize_uri_postfix`: a postfix never starts with `./` or `../`. */
export function sanitizePostfix(postfix: string): string {
  if (postfix === '') return postfix;
  if (postfix === '.' || postfix === '..') return '';
  if (postfix.startsWith('./')) return postfix.slice(2);
  if (postfix.startsWith('../')) return postfix.slice(3);
  return postfix;
}

/**
 * The request target split the way Kong's router sees it: `path` is the normalized path
 * without the query; `query` is the text after the first `?` (`''` for `/a?`), or null
 * when there is no `?`. An absolute-form target (`http://host/a`) is reduced to its path.
 */
export interface SplitTarget {
  readonly path: string;
  readonly query: string | null;
}

export function splitRequestTarget(target: string): SplitTarget {
  let raw = target;
  if (raw.charCodeAt(0) !== SLASH) {
    const abs = ABSOLUTE_FORM_RE.exec(raw);
    if (abs !== null) raw = raw.slice(abs[0].length);
    if (raw === '' || raw.charCodeAt(0) === 63 /* ? */) raw = '/' + raw;
  }
  const q = raw.indexOf('?');
  if (q === -1) return { path: normalizeRawPath(raw), query: null };
  return { path: normalizeRawPath(raw.slice(0, q)), query: raw.slice(q + 1) };
}

/**
 * Kong's upstream path ("v0" path handling, `get_upstream_uri_v0`): joins the service
 * path (`upstreamBase`, `/` when the service has none) with what is left of the request
 * path. `postfix` is the request path after the stripped prefix when `stripPath`, else the
 * request path without its leading `/` (already sanitized); `reqPath` is the normalized
 * request path.
 */
export function joinUpstreamPath(upstreamBase: string, stripPath: boolean, postfix: string, reqPath: string): string {
  if (upstreamBase.charCodeAt(upstreamBase.length - 1) === SLASH) {
    if (!stripPath) return upstreamBase + reqPath.slice(1);
    if (postfix === '') {
      if (upstreamBase === '/') return '/';
      if (reqPath.charCodeAt(reqPath.length - 1) === SLASH) return upstreamBase;
      return upstreamBase.slice(0, -1);
    }
    // Avoid a double slash between the base and the postfix.
    if (postfix.charCodeAt(0) === SLASH) return upstreamBase.slice(0, -1) + postfix;
    return upstreamBase + postfix;
  }
  if (!stripPath) return reqPath === '/' ? upstreamBase : upstreamBase + reqPath;
  if (postfix === '') {
    return reqPath.length > 1 && reqPath.charCodeAt(reqPath.length - 1) === SLASH ? upstreamBase + '/' : upstreamBase;
  }
  if (postfix.charCodeAt(0) === SLASH) return upstreamBase + postfix;
  return upstreamBase + '/' + postfix;
}

/**
 * The full upstream request target as Kong sends it: the joined path, escaped, then
 * `?` and the original query when the request had a `?` (even an empty one).
 */
export function upstreamTarget(
  upstreamBase: string,
  stripPath: boolean,
  matchedPrefix: string | null,
  reqPath: string,
  query: string | null,
): string {
  const postfix = sanitizePostfix(
    stripPath && matchedPrefix !== null ? reqPath.slice(matchedPrefix.length) : reqPath.slice(1),
  );
  const path = escapePath(joinUpstreamPath(upstreamBase, stripPath, postfix, reqPath));
  return query === null ? path : path + '?' + query;
}
