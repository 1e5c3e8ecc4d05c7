/**
 * Kong's queue as an OTel `SpanProcessor` (reference §5.1, §6): every sampled span that
 * ends becomes one queue entry, delivered in batches to any `SpanExporter` with Kong's
 * retry, drop and shutdown semantics. With a `PreEncodingSpanExporter` (the Zipkin one)
 * the span is encoded once at its end: that encoding is what `max_bytes` counts and what
 * is sent. Other exporters get the `ReadableSpan`s, sized by `estimateSpanSize`.
 *
 * Every export call is bounded by `exportTimeoutMillis` (an exporter that never calls back,
 * like the stock Zipkin exporter against a collector that never answers, would otherwise
 * stall the queue and its shutdown forever); so are the exporter's `forceFlush` and
 * `shutdown`.
 */
import { context, TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { QueueConfig } from '../config/types';
import { stderrLogger, type Logger } from '../logger';
import { isPreEncodingSpanExporter, type PreEncodingSpanExporter } from './encoded-exporter';
import { markInertOnStart } from '../trace/inert-on-start';
import type { SpanRecordSink } from '../trace/span-record';
import { bounded } from './bounded';
import { KongQueue, type QueueHandler, type QueueHealth } from './queue';

export interface KongQueueSpanProcessorOptions {
  /** Receives the batches: ours (`ZipkinExporter`), stock Zipkin, OTLP, in-memory… */
  exporter: SpanExporter;
  /** Validated `config.queue`. */
  queue: QueueConfig;
  /** Queue name; Kong uses the plugin instance id. */
  name: string;
  /** Log tag in `[<tag>] queue <name>: …`; default `zipkin plugin <name>`. */
  logTag?: string;
  /** Default stderrLogger. */
  logger?: Logger;
  /** Bytes counted for `max_bytes` when the exporter does not pre-encode; default `estimateSpanSize`. */
  estimateSize?: (span: ReadableSpan) => number;
  /**
   * ms one export call may take before it counts as a failed attempt (`timed out after
   * <n> ms`, retried as Kong retries); also bounds the exporter's `forceFlush` and
   * `shutdown`, and sets the shutdown deadline of the queue (`max_retry_time` plus this).
   * Default 30000 (OTel's `exportTimeoutMillis`); 0 = no bound.
   */
  exportTimeoutMillis?: number;
  /**
   * ms `shutdown()` may take in all: the queue's drain (a pending export included) and the
   * exporter's own shutdown. Spans not delivered by then are counted as `shutdown` drops
   * and logged. Default: no deadline beyond `max_retry_time` plus `exportTimeoutMillis`.
   */
  shutdownTimeoutMillis?: number;
}

/** OTel's BatchSpanProcessor default for `exportTimeoutMillis`. */
export const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;

/**
 * A cheap estimate of a span's Zipkin JSON size, used for `max_bytes` with exporters that
 * do not pre-encode: a fixed 220 bytes for ids, kind, times, endpoints and punctuation,
 * plus the name, each attribute's key and value (8 bytes per non-string value or array
 * element) with 6 bytes of quoting, and each event's name plus 40. It bounds the number of
 * queued spans by their payload, not their heap size, which is several times larger.
 */
export function estimateSpanSize(span: ReadableSpan): number {
  let size = 220 + span.name.length;
  const attributes = span.attributes;
  for (const key in attributes) {
    const value = attributes[key];
    size += key.length + 6;
    if (typeof value === 'string') size += value.length;
    else if (Array.isArray(value)) size += value.length * 8;
    else size += 8;
  }
  const events = span.events;
  for (let i = 0; i < events.length; i++) size += events[i].name.length + 40;
  return size;
}

/** Runs the export with tracing suppressed, so instrumented HTTP clients do not trace our POSTs. */
function untraced<R>(fn: () => R): R {
  return context.with(suppressTracing(context.active()), fn);
}

function exportVia(exporter: SpanExporter, batch: ReadableSpan[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Resolved with an undefined error when the exporter gives none: Kong's "no error details".
    const run = (): void =>
      untraced(() =>
        exporter.export(batch, (result) =>
          result.code === ExportResultCode.SUCCESS ? resolve() : reject(result.error),
        ),
      );
    const pending: Promise<void>[] = [];
    for (const span of batch) {
      const resource = span.resource;
      if (resource.asyncAttributesPending === true && resource.waitForAsyncAttributes !== undefined)
        pending.push(resource.waitForAsyncAttributes());
    }
    if (pending.length === 0) run();
    else Promise.all(pending).then(run, reject);
  });
}

export class KongQueueSpanProcessor implements SpanProcessor {
  private readonly exporter: SpanExporter;
  private readonly encoder: PreEncodingSpanExporter | null;
  private readonly queue: KongQueue<unknown>;
  private readonly logger: Logger;
  private readonly estimateSize: (span: ReadableSpan) => number;
  private readonly exportTimeout: number;
  private readonly shutdownTimeout: number | undefined;
  private shutdownPromise: Promise<void> | null = null;

  constructor(options: KongQueueSpanProcessorOptions) {
    this.exporter = options.exporter;
    this.encoder = isPreEncodingSpanExporter(options.exporter) ? options.exporter : null;
    this.logger = options.logger ?? stderrLogger;
    this.estimateSize = options.estimateSize ?? estimateSpanSize;
    this.exportTimeout = Math.max(0, options.exportTimeoutMillis ?? DEFAULT_EXPORT_TIMEOUT_MS);
    this.shutdownTimeout =
      options.shutdownTimeoutMillis === undefined ? undefined : Math.max(0, options.shutdownTimeoutMillis);
    const encoder = this.encoder;
    const handler: QueueHandler<unknown> =
      encoder !== null
        ? (batch) => untraced(() => encoder.exportEncoded(batch))
        : (batch) => exportVia(this.exporter, batch as ReadableSpan[]);
    this.queue = new KongQueue<unknown>({
      name: options.name,
      logTag: options.logTag ?? `zipkin plugin ${options.name}`,
      config: options.queue,
      handler,
      logger: this.logger,
      handlerTimeout: this.exportTimeout,
    });
  }

  onStart(_span: Span, _parentContext: Context): void {
    // Spans are queued when they end.
  }

  /** Queues a sampled span (§3: the reporter drops unsampled spans before queuing). */
  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    const encoder = this.encoder;
    let entry: unknown;
    let size: number;
    try {
      if (encoder !== null) {
        entry = encoder.encodeSpan(span);
        size = encoder.encodedSize(entry);
      } else {
        entry = span;
        size = this.estimateSize(span);
      }
    } catch (err) {
      return this.enqueueFailed(err);
    }
    this.enqueue(entry, size);
  }

  private enqueue(entry: unknown, size: number): void {
    let error: string | undefined;
    try {
      error = this.queue.enqueue(entry, size);
    } catch (err) {
      return this.enqueueFailed(err);
    }
    if (error !== undefined) this.logger.error(`failed to enqueue span: ${error}`);
  }

  private enqueueFailed(err: unknown): void {
    this.logger.error(`failed to enqueue span: ${err instanceof Error ? err.message : String(err)}`);
  }

  /**
   * The record path's sink (trace/span-record.ts): each record encoded by the exporter and
   * queued as `onEnd` queues a span. Only with an exporter that encodes records, and not for a
   * subclass that changes `onEnd` (it would be skipped).
   */
  recordSink(): SpanRecordSink | undefined {
    if (this.onEnd !== KongQueueSpanProcessor.prototype.onEnd) return undefined;
    const encode = this.encoder?.recordEncoder?.();
    if (encode === undefined) return undefined;
    const encoder = this.encoder as PreEncodingSpanExporter;
    return {
      accept: (record) => {
        let entry: unknown;
        try {
          entry = encode(record);
        } catch (err) {
          return this.enqueueFailed(err);
        }
        this.enqueue(entry, encoder.encodedSize(entry));
      },
    };
  }

  /** Queue counters: queued, sent, dropped by reason, retried, batches, current size. */
  health(): QueueHealth {
    return this.queue.health();
  }

  /** Delivers every span queued so far (with retries), then flushes the exporter. */
  async forceFlush(): Promise<void> {
    await this.queue.flush();
    await bounded(this.exporter.forceFlush?.(), this.exportTimeout, () =>
      this.logger.warn(`exporter flush did not complete within ${this.exportTimeout} ms`),
    );
  }

  /**
   * Stops accepting spans, drains the queue as `forceFlush` does (until the queue's
   * shutdown deadline), then shuts the exporter down (bounded by `exportTimeoutMillis` and
   * by what is left of `shutdownTimeoutMillis`).
   */
  shutdown(): Promise<void> {
    return this.shutdownWithin(this.shutdownTimeout);
  }

  /** `shutdown()` with a deadline of `totalMs` for this call (undefined: none of its own). */
  shutdownWithin(totalMs: number | undefined): Promise<void> {
    const started = performance.now();
    const total = totalMs;
    this.shutdownPromise ??= this.queue.shutdown(total).then(() => {
      const left = total === undefined ? Infinity : Math.max(1, total - (performance.now() - started));
      const ms = Math.ceil(this.exportTimeout === 0 ? left : Math.min(this.exportTimeout, left));
      return bounded(this.exporter.shutdown(), ms === Infinity ? 0 : ms, () =>
        this.logger.warn(`exporter shutdown did not complete within ${ms} ms`),
      );
    });
    return this.shutdownPromise;
  }
}

// Spans are queued when they end, so spans may be built finished for this processor.
markInertOnStart(KongQueueSpanProcessor.prototype.onStart);
