/**
 * What the Kafka and RabbitMQ backend tests (test/backends/kafka.backend.test.ts,
 * rabbitmq.backend.test.ts) run alike against their real broker: a reporter on an endpoint,
 * the messages read back by a real consumer, one JSON list sent exactly, the split at
 * `max_message_bytes` with a span too large dropped, a send that fails until the queue gives
 * up, and the broker stopped and started under load.
 */
import { SpanKind, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { validateConfig } from '../../../src/config/validate';
import { createZipkinReporter } from '../../../src/export/reporter';
import { ZipkinJsonEncoder } from '../../../src/export/zipkin-json-encoder';
import { kongExampleSpecs, makeSpans, type SpanSpec } from '../../export/helpers';
import { recordingLogger } from '../recording-logger';
import type { ControlledBroker } from './processes';

export const SPAN_OPTIONS = { localServiceName: 'kong', defaultServiceName: null };

const json = new ZipkinJsonEncoder(SPAN_OPTIONS);

/** A message as the consumer read it. */
export interface BrokerMessage {
  readonly body: Buffer;
  readonly contentType: string | undefined;
}

/** A topic or queue of a running broker, as the shared cases use it. */
export interface BrokerTarget {
  readonly transport: 'kafka' | 'rabbitmq';
  /** The `content-type` of a JSON message (RabbitMQ's property; Kafka has none). */
  readonly jsonContentType: string | undefined;
  /** The endpoint sending to `destination` (a topic or a queue), `query` without the `?`. */
  endpoint(destination: string, query?: string): string;
  /** What a real consumer reads of `destination`: `count` messages, or what came in `timeoutMs`. */
  read(destination: string, count: number, timeoutMs?: number): Promise<BrokerMessage[]>;
}

export function reporter(endpoint: string, queue: Record<string, unknown> = {}) {
  const logger = recordingLogger();
  const config = validateConfig({
    http_endpoint: endpoint,
    queue: { max_batch_size: 200, max_coalescing_delay: 0.1, ...queue },
  });
  return { logger, processor: createZipkinReporter(config, { pluginId: 'p1', logger }) };
}

/** `n` server spans of one trace, each with a tag of `tagBytes` characters. */
export function bigSpecs(n: number, tagBytes: number): SpanSpec[] {
  const t = (ms: number): HrTime => [1700000000, ms * 1e6];
  return Array.from({ length: n }, (_, i) => ({
    name: `GET /${i}`,
    kind: SpanKind.SERVER,
    spanId: (i + 1).toString(16).padStart(16, 'c'),
    start: t(i),
    end: t(i + 1),
    attributes: { 'http.path': 'x'.repeat(tagBytes) },
  }));
}

/** The spans of JSON list messages, in order. */
export function spansIn(messages: readonly BrokerMessage[]): unknown[] {
  return messages.flatMap((m) => JSON.parse(m.body.toString()) as unknown[]);
}

/** The JSON v2 list body the exporter sends for `spans`. */
export function jsonList(spans: readonly ReadableSpan[]): string {
  return '[' + spans.map((s) => json.encode(s)).join(',') + ']';
}

/** The spans as the exporter encodes them to JSON, parsed. */
export function jsonSpans(spans: readonly ReadableSpan[]): unknown[] {
  return spans.map((s) => JSON.parse(json.encode(s)) as unknown);
}

/** Kong's three example spans sent to `destination` arrive as one message: exactly the list the exporter encoded. */
export async function expectOneJsonList(target: BrokerTarget, destination: string, query?: string): Promise<void> {
  const { processor, logger } = reporter(target.endpoint(destination, query));
  try {
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    const messages = await target.read(destination, 1);
    expect(messages).toHaveLength(1);
    expect(messages[0].contentType).toBe(target.jsonContentType);
    expect(messages[0].body.toString()).toBe(jsonList(spans));
    expect(processor.health()).toMatchObject({ queued: 3, sent: 3, batches: 1 });
    expect(logger.lines.filter((l) => !l.startsWith('debug '))).toEqual([]);
  } finally {
    await processor.shutdown();
  }
}

export interface SplitCase {
  maxMessageBytes: number;
  spans: number;
  tagBytes: number;
  /** This span gets a tag of `bytes` characters: too large for a message alone. */
  oversized?: { index: number; bytes: number };
  /** At least this many messages. */
  minMessages: number;
}

/**
 * A batch larger than `max_message_bytes` goes out as several messages, in order, none larger;
 * an oversized span is dropped, counted as too_large and logged with its size.
 */
export async function expectSplit(target: BrokerTarget, destination: string, c: SplitCase): Promise<void> {
  const { processor, logger } = reporter(target.endpoint(destination, `max_message_bytes=${c.maxMessageBytes}`));
  try {
    const specs = bigSpecs(c.spans, c.tagBytes);
    if (c.oversized !== undefined) specs[c.oversized.index].attributes = { 'http.path': 'y'.repeat(c.oversized.bytes) };
    const spans = makeSpans(specs, processor);
    await processor.forceFlush();
    const big = c.oversized === undefined ? undefined : spans[c.oversized.index];
    expect(logger.errors).toEqual(
      big === undefined
        ? []
        : [
            `[zipkin plugin p1] queue p1: span dropped: a list of this one span is ${Buffer.byteLength(json.encode(big)) + 2} bytes, more than the ${target.transport} max_message_bytes (${c.maxMessageBytes} bytes)`,
          ],
    );
    const kept = spans.filter((s) => s !== big);
    const messages = await target.read(destination, c.minMessages);
    for (const m of messages) expect(m.body.length).toBeLessThanOrEqual(c.maxMessageBytes);
    expect(messages.length).toBeGreaterThanOrEqual(c.minMessages);
    expect(spansIn(messages)).toEqual(jsonSpans(kept));
    expect(processor.health()).toMatchObject({
      queued: c.spans,
      sent: kept.length,
      batches: 1,
      dropped: { too_large: big === undefined ? 0 : 1 },
    });
  } finally {
    await processor.shutdown();
  }
}

/**
 * Kong's three example spans to an endpoint every send to which fails: each attempt logs
 * `warning` (the queue's prefix, then the sender's text), and after `max_retry_time` the spans
 * are dropped (sent + dropped = produced). `secret` never appears in any log line.
 */
export async function expectDroppedAfterRetries(endpoint: string, warning: string, secret?: string): Promise<void> {
  const { processor, logger } = reporter(endpoint, {
    max_retry_time: 1,
    initial_retry_delay: 0.1,
    max_retry_delay: 0.2,
  });
  try {
    makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    expect(logger.warnings.length).toBeGreaterThan(1);
    expect(new Set(logger.warnings)).toEqual(
      new Set([`[zipkin plugin p1] queue p1: handler could not process entries: ${warning}`]),
    );
    expect(logger.errors).toEqual([
      '[zipkin plugin p1] queue p1: could not send entries due to max_retry_time exceeded. 3 queue entries were lost',
    ]);
    const h = processor.health();
    expect(h).toMatchObject({ queued: 3, sent: 0, dropped: { retry_exhausted: 3 } });
    expect(h.sent + Object.values(h.dropped).reduce((a, b) => a + b, 0)).toBe(3);
    if (secret !== undefined) expect(logger.lines.filter((l) => l.includes(secret))).toEqual([]);
  } finally {
    await processor.shutdown();
  }
}

/**
 * Spans produced every 20 ms while `broker` is stopped for 4 s and started again; after the
 * shutdown drain, sent + dropped = produced, some of each. Returns the queue's counters and
 * log for the checks each transport adds.
 */
export async function loadThroughRestart(
  broker: ControlledBroker,
  endpoint: string,
): Promise<{ sent: number; logger: ReturnType<typeof recordingLogger> }> {
  const { processor, logger } = reporter(endpoint, { max_retry_time: 2, max_retry_delay: 0.5, max_entries: 2000 });
  let produced = 0;
  const timer = setInterval(() => {
    makeSpans(bigSpecs(20, 200), processor);
    produced += 20;
  }, 20);
  try {
    await new Promise((r) => setTimeout(r, 1500));
    await broker.stop();
    await new Promise((r) => setTimeout(r, 4000));
    await broker.start();
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    clearInterval(timer);
  }
  await processor.shutdown();
  const h = processor.health();
  const dropped = Object.values(h.dropped).reduce((a, b) => a + b, 0);
  expect(h.sent + dropped).toBe(produced);
  expect(h.sent).toBeGreaterThan(0);
  expect(dropped).toBeGreaterThan(0);
  return { sent: h.sent, logger };
}
