/**
 * One `ListOfSpans` message from spans encoded one by one (JSON v2 or proto3), the body every
 * Zipkin collector reads (zipkin-backends §2, §4), and the split of a batch into messages of
 * at most a broker's message size.
 */
import { zipkinJsonBody } from './zipkin-json-body';
import { proto3ListBody } from './zipkin-proto3';

/** JSON text for `json`, `zipkin.proto3.Span` bytes for `proto3`. */
export type ZipkinEncodedSpan = string | Uint8Array;

/** The list body of `spans`: all strings (JSON) or all bytes (proto3). */
export function spanListBody(spans: readonly ZipkinEncodedSpan[]): string | Buffer {
  if (spans.length > 0 && typeof spans[0] !== 'string') return proto3ListBody(spans as readonly Uint8Array[]);
  return zipkinJsonBody(spans as readonly string[]);
}

/** The body as bytes, for transports that send bytes. */
export function spanListBytes(spans: readonly ZipkinEncodedSpan[]): Buffer {
  const body = spanListBody(spans);
  return typeof body === 'string' ? Buffer.from(body) : body;
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 127) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * Bytes one span adds to a list body: a comma (JSON; the brackets are `LIST_OVERHEAD`), or a
 * field key and a length (proto3). `bytes` is the span's encoded size.
 */
function framedSize(span: ZipkinEncodedSpan, bytes: number): number {
  return typeof span === 'string' ? bytes + 1 : bytes + 1 + varintSize(bytes);
}

/** A batch cut into messages: `[from, to)` ranges of the batch, and the spans left out. */
export interface SpanListSplit {
  readonly messages: readonly (readonly [number, number])[];
  /** Indexes of spans whose list alone is larger than the limit, with that list's size. */
  readonly oversize: readonly { readonly index: number; readonly bytes: number }[];
}

/**
 * Cuts a batch, in order, into lists of at most `maxBytes` bytes each (`sizes[i]` is span
 * i's encoded size, `encodedSize`); a span that alone makes a list over the limit is left out.
 */
export function splitSpanList(
  spans: readonly ZipkinEncodedSpan[],
  sizes: readonly number[],
  maxBytes: number,
): SpanListSplit {
  const messages: [number, number][] = [];
  const oversize: { index: number; bytes: number }[] = [];
  // JSON's `[` and `]` minus the comma the first span does not need; proto3 has no framing.
  const overhead = spans.length > 0 && typeof spans[0] === 'string' ? 1 : 0;
  let from = -1;
  let size = overhead;
  for (let i = 0; i < spans.length; i++) {
    const framed = framedSize(spans[i], sizes[i]);
    if (overhead + framed > maxBytes) {
      if (from !== -1) messages.push([from, i]);
      from = -1;
      size = overhead;
      oversize.push({ index: i, bytes: overhead + framed });
      continue;
    }
    if (from !== -1 && size + framed > maxBytes) {
      messages.push([from, i]);
      from = -1;
      size = overhead;
    }
    if (from === -1) from = i;
    size += framed;
  }
  if (from !== -1) messages.push([from, spans.length]);
  return { messages, oversize };
}
