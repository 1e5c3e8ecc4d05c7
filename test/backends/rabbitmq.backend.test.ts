/**
 * The RabbitMQ transport against a private RabbitMQ node (test/support/backends/rabbitmq.ts):
 * the queue declared as Zipkin's collector declares it, messages on the default exchange read
 * back by a real consumer (JSON and proto3, byte for byte, content types), the split at
 * max_message_bytes, a broker down at start and one restarted under load.
 */
import { SpanKind, type HrTime } from '@opentelemetry/api';
import * as amqp from 'amqplib';
import { validateConfig } from '../../src/config/validate';
import { createZipkinReporter } from '../../src/export/reporter';
import { ZipkinJsonEncoder } from '../../src/export/zipkin-json-encoder';
import { encodeProto3Span, proto3ListBody } from '../../src/export/zipkin-proto3';
import { toZipkinSpan } from '../../src/export/zipkin-span';
import { kongExampleSpecs, makeSpans, type SpanSpec } from '../export/helpers';
import { readRabbitMq } from '../support/backends/consumers';
import { startRabbitMq, type RabbitMqBroker } from '../support/backends/rabbitmq';
import { recordingLogger } from '../support/recording-logger';

let rabbit: RabbitMqBroker;
beforeAll(async () => {
  rabbit = await startRabbitMq();
}, 180000);
afterAll(async () => {
  await rabbit?.close();
});

const SPAN_OPTIONS = { localServiceName: 'kong', defaultServiceName: null };

function reporter(endpoint: string, queue: Record<string, unknown> = {}) {
  const logger = recordingLogger();
  const config = validateConfig({
    http_endpoint: endpoint,
    queue: { max_batch_size: 200, max_coalescing_delay: 0.1, ...queue },
  });
  return { logger, processor: createZipkinReporter(config, { pluginId: 'p1', logger }) };
}

function bigSpecs(n: number, tagBytes: number): SpanSpec[] {
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

describe('amqp:// endpoint', () => {
  it('declares the queue as Zipkin does and publishes one JSON list per message', async () => {
    const { processor, logger } = reporter(`${rabbit.url}/?queue=json-q`);
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    // Zipkin's collector: queueDeclare(queue, durable true, exclusive false, autoDelete false, no arguments).
    const model = await amqp.connect(rabbit.url);
    const channel = await model.createChannel();
    await expect(
      channel.assertQueue('json-q', { durable: true, exclusive: false, autoDelete: false }),
    ).resolves.toMatchObject({ queue: 'json-q', messageCount: 1 });
    await model.close();
    const messages = await readRabbitMq(rabbit.url, 'json-q', 1);
    const json = new ZipkinJsonEncoder(SPAN_OPTIONS);
    expect(messages).toHaveLength(1);
    expect(messages[0].contentType).toBe('application/json');
    expect(messages[0].body.toString()).toBe('[' + spans.map((s) => json.encode(s)).join(',') + ']');
    expect(processor.health()).toMatchObject({ queued: 3, sent: 3, batches: 1 });
    expect(logger.errors).toEqual([]);
    await processor.shutdown();
  });

  it('publishes proto3 ListOfSpans with ?encoding=proto3', async () => {
    const { processor } = reporter(`${rabbit.url}?queue=proto-q&encoding=proto3`);
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    const messages = await readRabbitMq(rabbit.url, 'proto-q', 1);
    expect(messages).toHaveLength(1);
    expect(messages[0].contentType).toBe('application/x-protobuf');
    const expected = proto3ListBody(spans.map((s) => encodeProto3Span(toZipkinSpan(s, SPAN_OPTIONS))));
    expect(Buffer.compare(messages[0].body, expected)).toBe(0);
    await processor.shutdown();
  });

  it('splits at max_message_bytes and drops a span too large alone', async () => {
    const { processor, logger } = reporter(`${rabbit.url}?queue=split-q&max_message_bytes=3000`);
    const specs = bigSpecs(8, 700);
    specs[3].attributes = { 'http.path': 'z'.repeat(4000) };
    const spans = makeSpans(specs, processor);
    await processor.forceFlush();
    const json = new ZipkinJsonEncoder(SPAN_OPTIONS);
    const bytes = Buffer.byteLength(json.encode(spans[3])) + 2;
    expect(logger.errors).toEqual([
      `[zipkin plugin p1] queue p1: span dropped: a list of this one span is ${bytes} bytes, more than the rabbitmq max_message_bytes (3000 bytes)`,
    ]);
    const messages = await readRabbitMq(rabbit.url, 'split-q', 3);
    for (const m of messages) expect(m.body.length).toBeLessThanOrEqual(3000);
    expect(messages.flatMap((m) => JSON.parse(m.body.toString()) as unknown[])).toEqual(
      spans.filter((_, i) => i !== 3).map((s) => JSON.parse(json.encode(s))),
    );
    expect(processor.health()).toMatchObject({ sent: 7, dropped: { too_large: 1 } });
    await processor.shutdown();
  });
});

describe('rabbitmq outages', () => {
  it('retries while the broker is down at start, then delivers', async () => {
    const down = await startRabbitMq();
    await down.stop();
    const { processor, logger } = reporter(`${down.url}?queue=late-q`, { max_retry_time: 120, max_retry_delay: 1 });
    try {
      makeSpans(kongExampleSpecs(), processor);
      const deadline = Date.now() + 20000;
      while (logger.warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(logger.warnings[0]).toBe(
        `[zipkin plugin p1] queue p1: handler could not process entries: zipkin rabbitmq publish failed: broker unreachable (${down.address}): connect ECONNREFUSED ${down.address}`,
      );
      await down.start();
      await processor.forceFlush();
      expect(processor.health()).toMatchObject({ queued: 3, sent: 3 });
      const messages = await readRabbitMq(down.url, 'late-q', 1);
      expect(messages.flatMap((m) => JSON.parse(m.body.toString()) as unknown[])).toHaveLength(3);
    } finally {
      await processor.shutdown();
      await down.close();
    }
  });

  it('under load, a broker stopped and started again: sent + dropped = produced, and what was sent arrived', async () => {
    const { processor, logger } = reporter(`${rabbit.url}?queue=load-q`, {
      max_retry_time: 2,
      max_retry_delay: 0.5,
      max_entries: 2000,
    });
    let produced = 0;
    const timer = setInterval(() => {
      makeSpans(bigSpecs(20, 200), processor);
      produced += 20;
    }, 20);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      await rabbit.stop();
      await new Promise((r) => setTimeout(r, 4000));
      await rabbit.start();
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
    expect(logger.warnings.some((w) => w.includes('zipkin rabbitmq publish failed: '))).toBe(true);
    // The queue is durable but the messages are not published persistent: what was
    // confirmed before the stop is gone, what was confirmed after the restart is there.
    const messages = await readRabbitMq(rabbit.url, 'load-q', 1, 3000);
    expect(messages.length).toBeGreaterThan(0);
  });
});
