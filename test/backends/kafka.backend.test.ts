/**
 * The Kafka transport against a real Apache Kafka broker (KRaft, test/support/backends/kafka.ts):
 * messages read back by a real consumer, each one list of spans, byte for byte what the
 * exporter encoded (JSON v2 and proto3); the split at max_message_bytes; a span too large
 * dropped, counted and logged; a broker that is down at start and one restarted under load.
 */
import { SpanKind, type HrTime } from '@opentelemetry/api';
import { request, runCli, startEcho, tempDir } from '../gateway/cli-harness';
import { createZipkinReporter } from '../../src/export/reporter';
import { ZipkinJsonEncoder } from '../../src/export/zipkin-json-encoder';
import { encodeProto3Span, proto3ListBody } from '../../src/export/zipkin-proto3';
import { toZipkinSpan } from '../../src/export/zipkin-span';
import { validateConfig } from '../../src/config/validate';
import { kongExampleSpecs, makeSpans, type SpanSpec } from '../export/helpers';
import { decodeProto3 } from '../export/wire';
import { recordingLogger } from '../support/recording-logger';
import { readKafka } from '../support/backends/consumers';
import { startKafka, type KafkaBroker } from '../support/backends/kafka';

let kafka: KafkaBroker;
beforeAll(async () => {
  kafka = await startKafka();
}, 180000);
afterAll(async () => {
  await kafka?.close();
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

/** `n` server spans of one trace, each with a tag of `tagBytes` characters. */
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

describe('kafka:// endpoint', () => {
  it('sends one JSON v2 list per message, exactly what the exporter encoded', async () => {
    const { processor, logger } = reporter(`kafka://${kafka.bootstrap}/json-list?client_id=gz-test`);
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    const json = new ZipkinJsonEncoder(SPAN_OPTIONS);
    const values = await readKafka(kafka.bootstrap, 'json-list', 1);
    expect(values).toHaveLength(1);
    expect(values[0].toString()).toBe('[' + spans.map((s) => json.encode(s)).join(',') + ']');
    expect(JSON.parse(values[0].toString())).toEqual(spans.map((s) => JSON.parse(json.encode(s))));
    expect(processor.health()).toMatchObject({ queued: 3, sent: 3, batches: 1 });
    expect(logger.errors).toEqual([]);
    await processor.shutdown();
  });

  it('sends proto3 ListOfSpans with ?encoding=proto3, byte for byte', async () => {
    const { processor } = reporter(`kafka://${kafka.bootstrap}/proto-list?encoding=proto3`);
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    const values = await readKafka(kafka.bootstrap, 'proto-list', 1);
    expect(values).toHaveLength(1);
    const expected = proto3ListBody(spans.map((s) => encodeProto3Span(toZipkinSpan(s, SPAN_OPTIONS))));
    expect(Buffer.compare(values[0], expected)).toBe(0);
    expect(decodeProto3(values[0]).map((s) => s.id)).toHaveLength(3);
    await processor.shutdown();
  });

  it('splits a batch larger than max_message_bytes into several messages, in order', async () => {
    const { processor, logger } = reporter(`kafka://${kafka.bootstrap}/split?max_message_bytes=4000`);
    const spans = makeSpans(bigSpecs(10, 1000), processor);
    await processor.forceFlush();
    const values = await readKafka(kafka.bootstrap, 'split', 4);
    const json = new ZipkinJsonEncoder(SPAN_OPTIONS);
    for (const v of values) expect(v.length).toBeLessThanOrEqual(4000);
    expect(values.length).toBeGreaterThan(2);
    expect(values.flatMap((v) => JSON.parse(v.toString()) as unknown[])).toEqual(
      spans.map((s) => JSON.parse(json.encode(s))),
    );
    expect(processor.health()).toMatchObject({ queued: 10, sent: 10, batches: 1 });
    expect(logger.errors).toEqual([]);
    await processor.shutdown();
  });

  it('drops a span larger than max_message_bytes alone, counts it as too_large and logs it', async () => {
    const { processor, logger } = reporter(`kafka://${kafka.bootstrap}/oversize?max_message_bytes=2000`);
    const specs = bigSpecs(3, 100);
    specs[1].attributes = { 'http.path': 'y'.repeat(3000) };
    const spans = makeSpans(specs, processor);
    await processor.forceFlush();
    const json = new ZipkinJsonEncoder(SPAN_OPTIONS);
    const bytes = Buffer.byteLength(json.encode(spans[1])) + 2;
    expect(logger.errors).toEqual([
      `[zipkin plugin p1] queue p1: span dropped: a list of this one span is ${bytes} bytes, more than the kafka max_message_bytes (2000 bytes)`,
    ]);
    const values = await readKafka(kafka.bootstrap, 'oversize', 2);
    expect(values.flatMap((v) => JSON.parse(v.toString()) as unknown[])).toEqual(
      [spans[0], spans[2]].map((s) => JSON.parse(json.encode(s))),
    );
    const health = processor.health();
    expect(health.sent).toBe(2);
    expect(health.dropped.too_large).toBe(1);
    await processor.shutdown();
  });
});

describe('kafka broker outages', () => {
  it('retries while the broker is down at start, then delivers everything once it is up', async () => {
    const down = await startKafka();
    await down.stop();
    const { processor, logger } = reporter(`kafka://${down.bootstrap}/late`, {
      max_retry_time: 120,
      max_retry_delay: 1,
    });
    try {
      makeSpans(kongExampleSpecs(), processor);
      const deadline = Date.now() + 20000;
      while (logger.warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(logger.warnings[0]).toMatch(
        new RegExp(
          `^\\[zipkin plugin p1\\] queue p1: handler could not process entries: zipkin kafka send failed: broker unreachable \\(${down.bootstrap}\\): `,
        ),
      );
      await down.start();
      await processor.forceFlush();
      expect(processor.health()).toMatchObject({ queued: 3, sent: 3 });
      const values = await readKafka(down.bootstrap, 'late', 1);
      expect(values.flatMap((v) => JSON.parse(v.toString()) as unknown[])).toHaveLength(3);
    } finally {
      await processor.shutdown();
      await down.close();
    }
  });

  it('under load, a broker stopped and started again: sent + dropped = produced, and what was sent arrived', async () => {
    const { processor } = reporter(`kafka://${kafka.bootstrap}/load?client_id=gz-load`, {
      max_retry_time: 2,
      max_retry_delay: 0.5,
      max_entries: 2000,
    });
    let produced = 0;
    const produce = (n: number): void => {
      makeSpans(bigSpecs(n, 200), processor);
      produced += n;
    };
    const timer = setInterval(() => produce(20), 20);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      await kafka.stop();
      await new Promise((r) => setTimeout(r, 4000));
      await kafka.start();
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
    const values = await readKafka(kafka.bootstrap, 'load', Number.MAX_SAFE_INTEGER, 8000);
    expect(values.reduce((n, v) => n + (JSON.parse(v.toString()) as unknown[]).length, 0)).toBe(h.sent);
  });
});

describe('CLI gateway with a kafka:// plugin, broker restarted under load', () => {
  it('answers every request as before; the spans of requests after the restart arrive', async () => {
    const echo = await startEcho();
    const dir = tempDir();
    const deck = {
      _format_version: '3.0',
      services: [{ name: 'svc', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'r', paths: ['/r'] }] }],
      plugins: [
        {
          name: 'zipkin',
          config: {
            http_endpoint: `kafka://${kafka.bootstrap}/cli-load`,
            sample_ratio: 1,
            queue: { max_batch_size: 50, max_coalescing_delay: 0.1, max_retry_time: 30, max_retry_delay: 0.5 },
          },
        },
      ],
    };
    const gateway = runCli(['--config', dir.write('kong.json', deck), '--listen', '127.0.0.1:0']);
    try {
      const [line] = await gateway.ready(1);
      const port = Number(/:(\d+)$/.exec(line)?.[1]);
      const bodies: string[] = [];
      const statuses: number[] = [];
      let running = true;
      const load = (async () => {
        for (let i = 0; running; i++) {
          const reply = await request(port, `/r/item?n=${i}`);
          statuses.push(reply.status);
          bodies.push((JSON.parse(reply.body) as { url: string }).url);
        }
      })();
      await new Promise((r) => setTimeout(r, 1000));
      await kafka.stop();
      await new Promise((r) => setTimeout(r, 3000));
      await kafka.start();
      await new Promise((r) => setTimeout(r, 1000));
      running = false;
      await load;
      expect(statuses.length).toBeGreaterThan(50);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(bodies).toEqual(bodies.map((_, i) => `/item?n=${i}`));
      // A last request after the restart: its three spans reach the topic.
      const traceId = '6a1b2c3d4e5f60718293a4b5c6d7e8f9';
      await request(port, '/r/last', { headers: { traceparent: `00-${traceId}-a1b2c3d4e5f60718-01` } });
      expect(await gateway.stop('SIGTERM')).toBe(0);
      const values = await readKafka(kafka.bootstrap, 'cli-load', Number.MAX_SAFE_INTEGER, 8000);
      const spans = values.flatMap((v) => JSON.parse(v.toString()) as { traceId: string }[]);
      expect(spans.filter((s) => s.traceId === traceId)).toHaveLength(3);
      expect(gateway.stderr).toMatch(/handler could not process entries: zipkin kafka send failed: /);
    } finally {
      await gateway.stop('SIGTERM');
      await echo.close();
      dir.remove();
    }
  });
});
