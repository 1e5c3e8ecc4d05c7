/**
 * The Zipkin v2 JSON request body (`ListOfSpans`) from spans already encoded one by one.
 */

const OPEN = 0x5b; // [
const COMMA = 0x2c;
const CLOSE = 0x5d; // ]

/**
 * A `ListOfSpans` JSON body from encoded spans (each one JSON object as UTF-8 bytes): starts
 * with `[` at byte 0, as Zipkin requires. One copy of each span into one buffer.
 */
export function zipkinJsonBody(spans: readonly Uint8Array[]): Buffer {
  let size = spans.length === 0 ? 2 : spans.length + 1;
  for (let i = 0; i < spans.length; i++) size += spans[i].length;
  const out = Buffer.allocUnsafe(size);
  out[0] = OPEN;
  let pos = 1;
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) out[pos++] = COMMA;
    const span = spans[i];
    out.set(span, pos);
    pos += span.length;
  }
  out[pos] = CLOSE;
  return out;
}
