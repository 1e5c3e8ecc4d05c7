/**
 * One `ListOfSpans` message from spans encoded one by one (JSON v2 or proto3), the body every
 * Zipkin collector reads (zipkin-backends §2, §4), and the split of a batch into messages of
 * at most a broker's message size.
 */
import { zipkinJsonBody } from './zipkin-json-body';
import { proto3ListBody } from './zipkin-proto3';

/**
 * One span as it waits in the queue: its JSON object as UTF-8 bytes (`json`), or its
 * `zipkin.proto3.Span` bytes (`proto3`). Bytes, not strings: the JSON encoder's strings are
 * trees of the fragments they were built from, several times their length in heap, and a queue
 * of them at its `max_bytes` took ten times that in memory.
 */
export type ZipkinEncodedSpan = Uint8Array;

/** The list body of `spans`, all encoded as `json` (`[a,b]`) or `proto3` (repeated field 1). */
export function spanListBody(spans: readonly ZipkinEncodedSpan[], json: boolean): Buffer {
  return json ? zipkinJsonBody(spans) : proto3ListBody(spans);
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
function framedSize(json: boolean, bytes: number): number {
  return json ? bytes + 1 : bytes + 1 + varintSize(bytes);
}

/** A batch cut into messages: `[from, to)` ranges of the batch, and the spans left out. */
export interface SpanListSplit {
  readonly messages: readonly (readonly [number, number])[];
  /** Indexes of spans whose list alone is larger than the limit, with that list's size. */
  readonly oversize: readonly { readonly index: number; readonly bytes: number }[];
}

/**
 * Cuts a batch of `json` or proto3 spans, in order, into lists of at most `maxBytes` bytes
 * each; a span that alone makes a list over the limit is left out.
 */
export function splitSpanList(spans: readonly ZipkinEncodedSpan[], json: boolean, maxBytes: number): SpanListSplit {
  const messages: [number, number][] = [];
  const oversize: { index: number; bytes: number }[] = [];
  // JSON's `[` and `]` minus the comma the first span does not need; proto3 has no framing.
  const overhead = json ? 1 : 0;
  let from = -1;
  let size = overhead;
  for (let i = 0; i < spans.length; i++) {
    const framed = framedSize(json, spans[i].length);
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
