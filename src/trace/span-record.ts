import type { Attributes, SpanKind } from '@opentelemetry/api';

/**
 * One finished Kong span as plain fields, for a consumer that encodes it at once: the
 * "record path" of the plugin's own provider (span-builder.ts). When the only span processor
 * is Kong's queue in front of our JSON exporter, nothing but the encoder ever reads a span, so
 * the `ReadableSpan` (the span object, its settled attribute copy, its events and `HrTime`
 * pairs) is skipped and the encoder reads these fields instead. The bytes are the same as
 * through the `ReadableSpan` (test/trace/span-record.test.ts compares them).
 *
 * One record is reused for every span of a builder: a sink must not keep it.
 */
export class SpanRecord {
  traceId = '';
  spanId = '';
  /** The reported parent: undefined for a root. */
  parentId: string | undefined = undefined;
  name = '';
  kind = 0 as SpanKind;
  /** Integer epoch µs; `endUs` is never before `startUs`. */
  startUs = 0;
  endUs = 0;
  /** As built for the span, never null-prototype-only keys or invalid values (`isPlainAttributes`). */
  attributes: Attributes = {};
  /** Annotation names and their integer epoch µs, in order; `eventCount` of them are this span's. */
  readonly eventNames: string[] = [];
  readonly eventTimes: number[] = [];
  eventCount = 0;

  /** Adds an annotation (`Annotations.mark`). */
  mark(name: string, us: number): void {
    const i = this.eventCount++;
    this.eventNames[i] = name;
    this.eventTimes[i] = us;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Where the record path hands its spans: Kong's queue, encoding each one at once. */
export interface SpanRecordSink {
  accept(record: SpanRecord): void;
}

/**
 * True when `attributes` are what the SDK would keep unchanged: every key non-empty (and not
 * `__proto__`, which an SDK attribute object cannot hold), every value a string, number or
 * boolean (null and undefined are left out, as the SDK does), at most `countLimit` of them.
 * Anything else goes through the `ReadableSpan` path, whose checks and warnings are the SDK's.
 */
export function isPlainAttributes(attributes: Attributes, countLimit: number | undefined): boolean {
  let count = 0;
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) return false;
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    const type = typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') return false;
    if (key.length === 0 || key === '__proto__') return false;
    count++;
  }
  return countLimit === undefined || count <= countLimit;
}
