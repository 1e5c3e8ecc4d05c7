/**
 * Kong's path normalization (`kong/tools/uri.lua` `normalize`, slashes merged), used for
 * routing, for the upstream request line and for the `http.path` tag. Strings are byte
 * strings, as Node's HTTP parser hands out `req.url` (one char per byte).
 */

// RFC 3986 reserved characters: Kong keeps their escapes (upper-cased) and decodes the rest.
const RESERVED = "!*'();:@&=+$,/?%#[]";
const RESERVED_CODES: readonly boolean[] = (() => {
  const table: boolean[] = new Array<boolean>(256).fill(false);
  for (let i = 0; i < RESERVED.length; i++) table[RESERVED.charCodeAt(i)] = true;
  return table;
})();

const PERCENT_TRIPLET_RE = /%([0-9A-Fa-f]{2})/g;
const SLASH = 47;
const DOT = 46;

function decodeTriplet(match: string, hex: string): string {
  const code = parseInt(hex, 16);
  return RESERVED_CODES[code] ? match.toUpperCase() : String.fromCharCode(code);
}

/**
 * Kong's `normalize(uri, merge_slashes = true)`: decode percent-escapes of non-reserved
 * characters, upper-case the remaining escapes, remove `.` / `..` segments and merge `//`.
 * Returns the input itself when there is nothing to do.
 */
export function normalizeRawPath(uri: string): string {
  if (uri === '' || uri === '/') return uri;
  if (uri.indexOf('%') !== -1) uri = uri.replace(PERCENT_TRIPLET_RE, decodeTriplet);
  if (uri.indexOf('.') === -1 && uri.indexOf('//') === -1) return uri;

  const out: string[] = [];
  let rest = uri;
  while (rest.length > 0) {
    const c1 = rest.charCodeAt(0);
    const c2 = rest.length > 1 ? rest.charCodeAt(1) : -1;
    const c3 = rest.length > 2 ? rest.charCodeAt(2) : -1;
    const c4 = rest.length > 3 ? rest.charCodeAt(3) : -1;
    if (rest === '/.') {
      rest = '/';
    } else if (rest === '/..') {
      rest = '/';
      out.pop();
    } else if (rest === '.' || rest === '..') {
      rest = '';
    } else if (c1 === DOT && c2 === DOT && c3 === SLASH) {
      rest = rest.slice(3);
    } else if (c1 === DOT && c2 === SLASH) {
      rest = rest.slice(2);
    } else if (c1 === SLASH && c2 === DOT && c3 === SLASH) {
      rest = rest.slice(2);
    } else if (c1 === SLASH && c2 === DOT && c3 === DOT && c4 === SLASH) {
      rest = rest.slice(3);
      out.pop();
    } else if (c1 === SLASH && c2 === SLASH) {
      rest = rest.slice(1);
    } else {
      const next = rest.indexOf('/', 1);
      if (next === -1) {
        out.push(rest);
        rest = '';
      } else {
        out.push(rest.slice(0, next));
        rest = rest.slice(next);
      }
    }
  }
  return out.join('');
}
