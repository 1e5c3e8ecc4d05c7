/**
 * nginx's URI escaping, as Kong applies it to baggage items (`uberctx-*`, `ot-baggage-*`):
 * `ngx.escape_uri` when injecting, `ngx.unescape_uri` when extracting.
 */

const RESERVED_RE = /[!'()*]/g;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const PLUS_RE = /\+/g;
const ESCAPE_RUN_RE = /(%[0-9a-fA-F]{2})+/g;

/**
 * nginx `escape_uri` in component mode: everything except `A-Za-z0-9-._~` becomes `%XX`
 * with uppercase hex (§4.5). A lone surrogate (possible only in caller-supplied baggage)
 * is encoded as U+FFFD instead of throwing.
 */
export function escapeUri(s: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(s);
  } catch {
    encoded = encodeURIComponent(s.replace(LONE_SURROGATE_RE, '\uFFFD'));
  }
  return encoded.replace(RESERVED_RE, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * nginx `ngx.unescape_uri`: `+` is a space, then percent-decoding; malformed escapes (or
 * escapes that are not UTF-8) are left as they are instead of failing.
 */
export function unescapeUri(s: string): string {
  const plain = s.indexOf('+') === -1 ? s : s.replace(PLUS_RE, ' ');
  if (plain.indexOf('%') === -1) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    return plain.replace(ESCAPE_RUN_RE, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}
