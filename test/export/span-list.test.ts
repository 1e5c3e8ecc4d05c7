/**
 * Cutting a batch into broker messages (src/export/span-list.ts) and the exporter's use of it
 * behind Kong's queue: each message at most max_message_bytes, in order; a span too large
 * alone left out, counted as `too_large` and logged with the queue's prefix; a retry after a
 * failed message sends only the messages not yet sent.
 */
import { SpanKind } from '@opentelemetry/api';
import { KongQueueSpanProcessor } from '../../src/export/queue-span-processor';
import { loadOptionalPeer } from '../../src/export/optional-peer';
import { spanListBody, splitSpanList } from '../../src/export/span-list';
import type { SpanListSender } from '../../src/export/span-list-sender';
import { ZipkinExporter } from '../../src/export/zipkin-exporter';
import { proto3ListBody } from '../../src/export/zipkin-proto3';
import { makeSpans, queueConfig, recordingLogger, type SpanSpec } from './helpers';

describe('splitSpanList', () => {
  const json = (n: number): Buffer => Buffer.from('"' + 'x'.repeat(n - 2) + '"');

  test('JSON: lists of at most maxBytes, counted as the body is written', () => {
    const spans = [json(10), json(10), json(10), json(10)];
    // [a,b] is 1 + 11 + 11 = 23 bytes; [a,b,c] 34.
    const split = splitSpanList(spans, true, 23);
    expect(split).toEqual({
      messages: [
        [0, 2],
        [2, 4],
      ],
      oversize: [],
    });
    for (const [from, to] of split.messages) expect(spanListBody(spans.slice(from, to), true).length).toBe(23);
    expect(spanListBody(spans.slice(0, 2), true).toString()).toBe('["xxxxxxxx","xxxxxxxx"]');
    expect(splitSpanList(spans, true, 22).messages).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
  });

  test('a span too large alone is left out, with its list size; its neighbours still go', () => {
    const spans = [json(10), json(50), json(10)];
    expect(splitSpanList(spans, true, 40)).toEqual({
      messages: [
        [0, 1],
        [2, 3],
      ],
      oversize: [{ index: 1, bytes: 52 }],
    });
  });

  test('proto3: a key and a length per span, no list framing', () => {
    const a = new Uint8Array(100);
    const b = new Uint8Array(200);
    // 1 + 1 + 100 = 102; 1 + 2 + 200 = 203 (a length over 127 takes two varint bytes).
    expect(proto3ListBody([a]).length).toBe(102);
    expect(proto3ListBody([b]).length).toBe(203);
    expect(splitSpanList([a, b], false, 305).messages).toEqual([[0, 2]]);
    expect(splitSpanList([a, b], false, 304).messages).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(splitSpanList([b], false, 202).oversize).toEqual([{ index: 0, bytes: 203 }]);
  });
});

class FakeSender implements SpanListSender {
  readonly transport = 'kafka';
  readonly bodies: string[] = [];
  failNext = 0;
  constructor(readonly maxMessageBytes: number) {}
  async send(body: string | Buffer): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('zipkin kafka send failed: broker unreachable (k1:9092): Connection error');
    }
    this.bodies.push(body.toString());
  }
  async idle(): Promise<void> {}
  async close(): Promise<void> {}
}

function specs(tags: number[]): SpanSpec[] {
  return tags.map((n, i) => ({
    name: `s${i}`,
    kind: SpanKind.SERVER,
    spanId: (i + 1).toString(16).padStart(16, 'd'),
    start: [1700000000, i * 1000],
    end: [1700000000, i * 1000 + 500],
    attributes: { t: 'x'.repeat(n) },
  }));
}

describe('ZipkinExporter with a size-limited sender, behind the queue', () => {
  test('a failed message is retried alone: every span arrives once, in order', async () => {
    const sender = new FakeSender(900);
    const logger = recordingLogger();
    const processor = new KongQueueSpanProcessor({
      exporter: new ZipkinExporter({ httpEndpoint: null, sender }),
      queue: queueConfig({ max_batch_size: 100, max_coalescing_delay: 0.05, initial_retry_delay: 0.001 }),
      name: 'p1',
      logger,
    });
    const spans = makeSpans(specs([300, 300, 300, 300, 300]), processor);
    // The second message fails once (after the first went out).
    const send = sender.send.bind(sender);
    let calls = 0;
    sender.send = (body) =>
      ++calls === 2 ? Promise.reject(new Error('zipkin kafka send failed: timeout')) : send(body);
    await processor.forceFlush();
    const received = sender.bodies.flatMap((b) => (JSON.parse(b) as { id: string }[]).map((s) => s.id));
    expect(received).toEqual(spans.map((s) => s.spanContext().spanId));
    for (const body of sender.bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(900);
    expect(processor.health()).toMatchObject({ queued: 5, sent: 5, retried: 1, batches: 1 });
    expect(logger.warnings).toEqual([
      '[zipkin plugin p1] queue p1: handler could not process entries: zipkin kafka send failed: timeout',
    ]);
    await processor.shutdown();
  });

  test('a span over the limit is dropped as too_large, logged once, the others sent', async () => {
    const sender = new FakeSender(700);
    const logger = recordingLogger();
    const exporter = new ZipkinExporter({ httpEndpoint: null, sender, encoding: 'proto3' });
    const processor = new KongQueueSpanProcessor({
      exporter,
      queue: queueConfig({ max_batch_size: 100, max_coalescing_delay: 0.05 }),
      name: 'p1',
      logger,
    });
    const spans = makeSpans(specs([100, 1000, 100]), processor);
    await processor.forceFlush();
    const big = exporter.encodeSpan(spans[1]);
    expect(logger.errors).toEqual([
      `[zipkin plugin p1] queue p1: span dropped: a list of this one span is ${proto3ListBody([big]).length} bytes, more than the kafka max_message_bytes (700 bytes)`,
    ]);
    expect(processor.health()).toMatchObject({ queued: 3, sent: 2, dropped: { too_large: 1 } });
    // The two neighbours, as two messages: a list never spans a left-out span.
    expect(sender.bodies).toHaveLength(2);
    await processor.shutdown();
  });
});

test('a missing optional client is a start-up error that says what to install', () => {
  expect(() => loadOptionalPeer('gateway-zipkin-no-such-client', 'kafka://')).toThrow(
    'install gateway-zipkin-no-such-client to use kafka:// endpoints (npm install gateway-zipkin-no-such-client): it is an optional peer dependency of gateway-zipkin',
  );
});
