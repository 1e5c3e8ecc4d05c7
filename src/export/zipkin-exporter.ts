/**
 * An OTel `SpanExporter` that reports exactly Kong's Zipkin v2 spans (reference §5), as
 * JSON or proto3, optionally gzipped, over the keep-alive HTTP sender (or, beyond Kong, a
 * Kafka or RabbitMQ sender: `options.sender`). It also implements
 * `PreEncodingSpanExporter`, so `KongQueueSpanProcessor` encodes each span once at span end.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord } from '../trace/span-record';
import { stderrLogger, type Logger } from '../logger';
import type { PreEncodingSpanExporter } from './encoded-exporter';
import { HttpSender } from './http-sender';
import type { QueueDeliveryResult } from './queue';
import { spanListBody, splitSpanList, type ZipkinEncodedSpan } from './span-list';
import type { SpanListSender } from './span-list-sender';
import { ZipkinJsonEncoder } from './zipkin-json-encoder';
import { toZipkinSpan, type ZipkinSpanOptions } from './zipkin-span';
import { encodeProto3Span } from './zipkin-proto3';

export type ZipkinEncoding = 'json' | 'proto3';

/** What is queued when nothing is ever sent (no endpoint). */
const NOTHING: ZipkinEncodedSpan = new Uint8Array(0);

export type { ZipkinEncodedSpan } from './span-list';

export interface ZipkinExporterOptions {
  /** Kong's `http_endpoint`; null: spans are accepted and nothing is sent (no I/O at all). */
  httpEndpoint: string | null;
  /** Kong's `local_service_name` (default `kong`). */
  localServiceName?: string;
  /** Kong's `default_service_name` (default null). */
  defaultServiceName?: string | null;
  /** `json` (Kong's, default) or `proto3` (`application/x-protobuf`). */
  encoding?: ZipkinEncoding;
  /** gzip request bodies (`content-encoding: gzip`); default false. */
  gzip?: boolean;
  /** Kong's `connect_timeout`, ms (default 2000; 0 = no explicit timeout). */
  connectTimeout?: number;
  /** Kong's `send_timeout`, ms (default 5000; 0 = no explicit timeout). */
  sendTimeout?: number;
  /** Kong's `read_timeout`, ms (default 5000; 0 = no explicit timeout). */
  readTimeout?: number;
  /** Where `zipkin batch size: <n>` (debug) goes; default stderrLogger. */
  logger?: Logger;
  /**
   * Beyond Kong: sends the list bodies instead of an `HttpSender` for `httpEndpoint` (a
   * `KafkaSender`, a `RabbitMqSender`). A batch larger than its `maxMessageBytes` goes out
   * as several messages; a span larger alone is left out, counted and logged by the queue.
   */
  sender?: SpanListSender;
}

export class ZipkinExporter implements PreEncodingSpanExporter<ZipkinEncodedSpan> {
  private readonly encoding: ZipkinEncoding;
  private readonly spanOptions: ZipkinSpanOptions;
  private readonly json: ZipkinJsonEncoder;
  private readonly sender: SpanListSender;
  /** Messages of a split batch already sent, so a retry of that batch sends only the rest. */
  private readonly progress = new WeakMap<readonly ZipkinEncodedSpan[], number>();
  /** No endpoint: nothing is ever sent, so spans are not encoded either. */
  private readonly sends: boolean;
  private isShutdown = false;

  constructor(options: ZipkinExporterOptions) {
    this.encoding = options.encoding ?? 'json';
    this.spanOptions = {
      localServiceName: options.localServiceName ?? 'kong',
      defaultServiceName: options.defaultServiceName ?? null,
    };
    this.json = new ZipkinJsonEncoder(this.spanOptions);
    this.sends = options.sender !== undefined || options.httpEndpoint !== null;
    this.sender =
      options.sender ??
      new HttpSender({
        endpoint: options.httpEndpoint,
        contentType: this.encoding === 'proto3' ? 'application/x-protobuf' : 'application/json',
        gzip: options.gzip ?? false,
        connectTimeout: options.connectTimeout ?? 2000,
        sendTimeout: options.sendTimeout ?? 5000,
        readTimeout: options.readTimeout ?? 5000,
        logger: options.logger ?? stderrLogger,
      });
  }

  encodeSpan(span: ReadableSpan): ZipkinEncodedSpan {
    if (!this.sends) return NOTHING;
    return this.encoding === 'json'
      ? this.json.encodeBytes(span)
      : encodeProto3Span(toZipkinSpan(span, this.spanOptions));
  }

  /** JSON only, and not for a subclass that encodes spans its own way. */
  recordEncoder(): ((record: SpanRecord) => ZipkinEncodedSpan) | undefined {
    if (this.encoding !== 'json' || this.encodeSpan !== ZipkinExporter.prototype.encodeSpan) return undefined;
    if (!this.sends) return () => NOTHING;
    const json = this.json;
    return (record) => json.encodeRecordBytes(record);
  }

  encodedSize(encoded: ZipkinEncodedSpan): number {
    return encoded.length;
  }

  exportEncoded(batch: readonly ZipkinEncodedSpan[]): Promise<void | QueueDeliveryResult> {
    if (this.isShutdown) return Promise.reject(new Error('zipkin exporter is shut down'));
    if (!this.sends) return Promise.resolve();
    const limit = this.sender.maxMessageBytes;
    if (limit === undefined) return this.sender.send(spanListBody(batch, this.encoding === 'json'), batch.length);
    return this.sendSplit(batch, limit);
  }

  /** A batch as messages of at most `limit` bytes, in order; per batch, never per span. */
  private async sendSplit(batch: readonly ZipkinEncodedSpan[], limit: number): Promise<QueueDeliveryResult> {
    const json = this.encoding === 'json';
    const { messages, oversize } = splitSpanList(batch, json, limit);
    for (let m = this.progress.get(batch) ?? 0; m < messages.length; m++) {
      const [from, to] = messages[m];
      const part = from === 0 && to === batch.length ? batch : batch.slice(from, to);
      await this.sender.send(spanListBody(part, json), part.length);
      this.progress.set(batch, m + 1);
    }
    const transport = this.sender.transport ?? 'transport';
    return {
      rejected: oversize.map(
        ({ bytes }) =>
          `span dropped: a list of this one span is ${bytes} bytes, more than the ${transport} max_message_bytes (${limit} bytes)`,
      ),
    };
  }

  /** Plain OTel use (e.g. under a BatchSpanProcessor): one POST per call, no retry. */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let sending: Promise<unknown>;
    try {
      const batch = new Array<ZipkinEncodedSpan>(spans.length);
      for (let i = 0; i < spans.length; i++) batch[i] = this.encodeSpan(spans[i]);
      sending = this.exportEncoded(batch);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (err: unknown) =>
        resultCallback({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) }),
    );
  }

  /** Nothing is buffered here (the queue is the buffer); waits for POSTs in flight. */
  forceFlush(): Promise<void> {
    return this.sender.idle();
  }

  /** Refuses further exports, waits for POSTs in flight, closes kept-alive connections. */
  shutdown(): Promise<void> {
    this.isShutdown = true;
    return this.sender.close();
  }
}
