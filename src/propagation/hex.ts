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
