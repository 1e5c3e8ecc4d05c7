/**
 * The contract that lets the queue processor encode a span once, at span end: the encoded
 * bytes are both what `queue.max_bytes` counts and what is later sent, and the OTel span
 * object can be released while the entry waits.
 */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord } from '../trace/span-record';
import type { QueueDeliveryResult } from './queue';

export interface PreEncodingSpanExporter<E = unknown> extends SpanExporter {
  /** Encodes one span now; the processor queues the result. */
  encodeSpan(span: ReadableSpan): E;
  /** The encoded span's size in bytes, counted against `queue.max_bytes`. */
  encodedSize(encoded: E): number;
  /**
   * Sends a batch of encoded spans: resolves on success, rejects with an Error whose message
   * is logged. May resolve with the spans it left out for good (too large for a message).
   */
  exportEncoded(batch: readonly E[]): Promise<void | QueueDeliveryResult>;
  /**
   * An encoder of span records (trace/span-record.ts) giving the bytes `encodeSpan` gives
   * for the same span, when this exporter has one; the plugin's own provider then skips the
   * `ReadableSpan` for spans this exporter alone consumes.
   */
  recordEncoder?(): ((record: SpanRecord) => E) | undefined;
}

export function isPreEncodingSpanExporter(exporter: SpanExporter): exporter is PreEncodingSpanExporter {
  const candidate = exporter as Partial<PreEncodingSpanExporter>;
  return (
    typeof candidate.encodeSpan === 'function' &&
    typeof candidate.encodedSize === 'function' &&
    typeof candidate.exportEncoded === 'function'
  );
}
