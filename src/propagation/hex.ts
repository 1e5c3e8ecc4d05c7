/**
 * Id helpers shared by the format files. Ids are lowercase hex strings standing for Kong's
 * byte strings (§4.4).
 */

const HEX_RE = /^[0-9a-fA-F]+$/;

/** True for a non-empty string of hex digits (either case). */
export function isHex(s: string): boolean {
  return HEX_RE.test(s);
}

/** Kong's `from_hex`: lowercase, and an odd-length string gets a leading `0`. */
export function fromHex(s: string): string {
  const lower = s.toLowerCase();
  return lower.length % 2 === 1 ? '0' + lower : lower;
}

/** Resize to `bytes`: shorter ids are left-padded with zero bytes, longer keep their low bytes. */
export function resizeHex(hex: string, bytes: number): string {
  const chars = bytes * 2;
  if (hex.length === chars) return hex;
  if (hex.length > chars) return hex.slice(hex.length - chars);
  return '0'.repeat(chars - hex.length) + hex;
}

/** True when every digit is 0 (an all-zero id is invalid in most formats). */
export function isZeroHex(hex: string): boolean {
  for (let i = 0; i < hex.length; i++) if (hex.charCodeAt(i) !== 48) return false;
  return true;
}

/** Unsigned decimal text → minimal big-endian bytes as hex (at least one byte). */
export function decimalToHex(decimal: string): string {
  const hex = BigInt(decimal).toString(16);
  return hex.length % 2 === 1 ? '0' + hex : hex;
}

/** Hex id → unsigned decimal text. */
export function hexToDecimal(hex: string): string {
  return BigInt('0x' + hex).toString(10);
}

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
