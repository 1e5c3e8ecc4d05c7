import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ZipkinExporter as StockZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { QueueConfig } from '../../src/config/types';
import { estimateSpanSize, KongQueueSpanProcessor, ZipkinExporter, type ZipkinExporterOptions } from '../../src/export';
import { ZipkinJsonEncoder } from '../../src/export/zipkin-json-encoder';
import { toZipkinSpan } from '../../src/export/zipkin-span';
import {
  closedPort,
  kongExampleSpecs,
  makeSpans,
  queueConfig,
  recordingLogger,
  startReceiver,
  type Receiver,
  type RecordingLogger,
} from './helpers';
import { decodeProto3, expectedProto3, listOfSpansValidator } from './wire';

const validate = listOfSpansValidator();
const P = '[zipkin plugin p1] queue p1: ';
const OPTIONS = { localServiceName: 'kong', defaultServiceName: null };

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function plugin(
  exporterOptions: Partial<ZipkinExporterOptions>,
  queue: Partial<QueueConfig> = {},
  log: RecordingLogger = recordingLogger(),
) {
  const exporter = new ZipkinExporter({ httpEndpoint: receiver?.url ?? null, logger: log, ...exporterOptions });
  const processor = new KongQueueSpanProcessor({ exporter, queue: queueConfig(queue), name: 'p1', logger: log });
  return { exporter, processor, log };
}

/** The reference spans, as the exporter turns them into Zipkin objects. */
function expectedExample(): unknown[] {
  return JSON.parse(JSON.stringify(makeSpans(kongExampleSpecs()).map((s) => toZipkinSpan(s, OPTIONS)))) as unknown[];
}

const nonDebug = (log: RecordingLogger) => log.lines.filter((l) => !l.startsWith('debug '));

describe('KongQueueSpanProcessor + ZipkinExporter over HTTP', () => {
  test("Kong's defaults: one POST per span, in end order, valid JSON, kept-alive connection", async () => {
    receiver = await startReceiver([202]);
    const { processor, log } = plugin({});
    makeSpans(kongExampleSpecs(), processor);
    await receiver.waitFor(3);
    const bodies = receiver.requests.map((r) => JSON.parse(r.body.toString()) as unknown[]);
    for (const body of bodies) expect(validate(body)).toBe(true);
    expect(bodies).toEqual(expectedExample().map((span) => [span]));
    expect(receiver.requests.every((r) => r.headers['content-type'] === 'application/json' && r.body[0] === 0x5b)).toBe(
      true,
    );
    expect(new Set(receiver.requests.map((r) => r.remotePort)).size).toBe(1);
    await processor.shutdown();
    expect(processor.health()).toMatchObject({
      queued: 3,
      sent: 3,
      batches: 3,
      retried: 0,
      size: { entries: 0, bytes: 0 },
    });
    expect(nonDebug(log)).toEqual([]);
  });

  test('a receiver answering 200 (Pitchfork) is a success too; batches coalesce', async () => {
    receiver = await startReceiver([200]);
    const { processor } = plugin({}, { max_batch_size: 10, max_coalescing_delay: 0.1 });
    makeSpans(kongExampleSpecs(), processor);
    await receiver.waitFor(1);
    expect(JSON.parse(receiver.requests[0].body.toString())).toEqual(expectedExample());
    await processor.shutdown();
    expect(processor.health()).toMatchObject({ sent: 3, batches: 1 });
  });

  test('proto3 + gzip: exactly application/x-protobuf, decodes to the same spans', async () => {
    receiver = await startReceiver();
    const { processor } = plugin({ encoding: 'proto3', gzip: true }, { max_batch_size: 3, max_coalescing_delay: 1 });
    makeSpans(kongExampleSpecs(), processor);
    await receiver.waitFor(1);
    const [r] = receiver.requests;
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers['content-encoding']).toBe('gzip');
    const expected = makeSpans(kongExampleSpecs()).map((s) => expectedProto3(toZipkinSpan(s, OPTIONS)));
    expect(decodeProto3(r.body)).toEqual(expected);
    await processor.shutdown();
  });

  test('JSON + gzip', async () => {
    receiver = await startReceiver();
    const { processor } = plugin({ gzip: true }, { max_batch_size: 3, max_coalescing_delay: 1 });
    makeSpans(kongExampleSpecs(), processor);
    await receiver.waitFor(1);
    expect(receiver.requests[0].headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(receiver.requests[0].body.toString())).toEqual(expectedExample());
    await processor.shutdown();
  });

  test('500 then success: the batch is retried and delivered', async () => {
    receiver = await startReceiver([500, 202]);
    const { processor, log } = plugin({}, { max_batch_size: 3, max_coalescing_delay: 0.05 });
    makeSpans(kongExampleSpecs(), processor);
    await receiver.waitFor(2);
    await processor.forceFlush();
    expect(receiver.requests[0].body.equals(receiver.requests[1].body)).toBe(true);
    expect(nonDebug(log)).toEqual([
      `warn ${P}handler could not process entries: zipkin server responded unexpectedly: 500 Internal Server Error`,
    ]);
    expect(processor.health()).toMatchObject({ sent: 3, retried: 1, batches: 1 });
    await processor.shutdown();
  });

  test('connection refused: retried until max_retry_time, then the lost count', async () => {
    const port = await closedPort();
    const log = recordingLogger();
    const exporter = new ZipkinExporter({ httpEndpoint: `http://127.0.0.1:${port}/api/v2/spans`, logger: log });
    const processor = new KongQueueSpanProcessor({
      exporter,
      queue: queueConfig({
        max_batch_size: 3,
        max_coalescing_delay: 0.05,
        max_retry_time: 0.05,
        initial_retry_delay: 0.02,
      }),
      name: 'p1',
      logger: log,
    });
    makeSpans(kongExampleSpecs(), processor);
    await processor.shutdown();
    const lines = nonDebug(log);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(
      lines
        .slice(0, -1)
        .every((l) => l === `warn ${P}handler could not process entries: zipkin request failed: connection refused`),
    ).toBe(true);
    expect(lines[lines.length - 1]).toBe(
      `error ${P}could not send entries due to max_retry_time exceeded. 3 queue entries were lost`,
    );
    expect(processor.health().dropped.retry_exhausted).toBe(3);
  });

  test('a receiver that never answers: read timeout, Kong text', async () => {
    receiver = await startReceiver([0]);
    const { processor, log } = plugin({ readTimeout: 50 }, { max_retry_time: -1 });
    makeSpans(kongExampleSpecs().slice(0, 1), processor);
    await processor.shutdown();
    expect(nonDebug(log)).toEqual([
      `warn ${P}handler could not process entries: zipkin request failed: timeout`,
      `error ${P}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    ]);
  });

  test('shutdown delivers everything still coalescing, before it resolves', async () => {
    receiver = await startReceiver();
    const { processor } = plugin({}, { max_batch_size: 100, max_coalescing_delay: 1000 });
    makeSpans(kongExampleSpecs(), processor);
    await new Promise((r) => setTimeout(r, 20));
    expect(receiver.requests).toHaveLength(0);
    await processor.shutdown();
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0].body.toString())).toHaveLength(3);
    // after shutdown: refused and logged
    const log = recordingLogger();
    const p2 = new KongQueueSpanProcessor({
      exporter: new InMemorySpanExporter(),
      queue: queueConfig(),
      name: 'p2',
      logger: log,
    });
    await p2.shutdown();
    makeSpans(kongExampleSpecs().slice(0, 1), p2);
    expect(log.lines).toEqual(['error failed to enqueue span: queue is shut down']);
    expect(p2.health().dropped.shutdown).toBe(1);
  });

  test('credentials in http_endpoint: Basic auth sent, never logged', async () => {
    receiver = await startReceiver([500, 202]);
    const log = recordingLogger();
    const url = `http://kong:pa55word@127.0.0.1:${receiver.port}/api/v2/spans`;
    const { processor } = plugin({ httpEndpoint: url }, {}, log);
    makeSpans(kongExampleSpecs().slice(0, 1), processor);
    await receiver.waitFor(2);
    await processor.shutdown();
    expect(receiver.requests[1].headers.authorization).toBe('Basic ' + Buffer.from('kong:pa55word').toString('base64'));
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toContain('pa55word');
  });

  test('null http_endpoint: spans are queued and "sent" with no I/O', async () => {
    const { processor, log } = plugin({ httpEndpoint: null });
    makeSpans(kongExampleSpecs(), processor);
    await processor.shutdown();
    expect(processor.health()).toMatchObject({ queued: 3, sent: 3 });
    expect(log.lines.filter((l) => l.includes('zipkin batch size'))).toEqual([]);
  });

  test('only sampled spans are queued', async () => {
    const { processor } = plugin({ httpEndpoint: null });
    const specs = kongExampleSpecs().map((s) => ({ ...s, sampled: false }));
    makeSpans(specs, processor);
    await processor.shutdown();
    expect(processor.health().queued).toBe(0);
  });

  test('max_bytes counts the encoded JSON of each span; too large → failed to enqueue span', async () => {
    const { processor, log } = plugin(
      { httpEndpoint: 'http://127.0.0.1:9/never' },
      { max_bytes: 300, max_batch_size: 10, max_coalescing_delay: 100 },
    );
    const specs = kongExampleSpecs();
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const sizes = makeSpans(specs).map((s) => Buffer.byteLength(encoder.encode(s)));
    expect(sizes.every((n) => n > 300)).toBe(true);
    makeSpans(specs.slice(0, 1), processor);
    const text = `string to be queued is longer (${sizes[0]} bytes) than the queue's max_bytes (300 bytes)`;
    expect(log.lines).toEqual([`error ${P}${text}`, `error failed to enqueue span: ${text}`]);
    await processor.shutdown();
  });

  test('queued bytes are the encoded sizes (the encoding is reused for sending)', async () => {
    receiver = await startReceiver();
    const { processor } = plugin({}, { max_batch_size: 10, max_coalescing_delay: 1000 });
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const total = makeSpans(kongExampleSpecs()).reduce((n, s) => n + Buffer.byteLength(encoder.encode(s)), 0);
    makeSpans(kongExampleSpecs(), processor);
    expect(processor.health().size).toEqual({ entries: 3, bytes: total });
    await processor.shutdown();
    expect(receiver.requests[0].body.length).toBe(total + 4); // `[`, two commas, `]`
  });
});

describe('feeding other exporters', () => {
  test('an in-memory exporter gets the ReadableSpans in Kong-sized batches; sizes are estimated', async () => {
    const memory = new InMemorySpanExporter();
    const batches: number[] = [];
    const origExport = memory.export.bind(memory);
    memory.export = (spans: ReadableSpan[], cb: (r: ExportResult) => void) => {
      batches.push(spans.length);
      origExport(spans, cb);
    };
    const processor = new KongQueueSpanProcessor({
      exporter: memory,
      queue: queueConfig({ max_batch_size: 2, max_coalescing_delay: 0.05 }),
      name: 'p1',
      logger: recordingLogger(),
    });
    makeSpans(kongExampleSpecs(), processor);
    const estimated = makeSpans(kongExampleSpecs()).reduce((n, s) => n + estimateSpanSize(s), 0);
    expect(processor.health().size).toEqual({ entries: 3, bytes: estimated });
    await processor.forceFlush();
    expect(batches).toEqual([2, 1]);
    expect(memory.getFinishedSpans().map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
    await processor.shutdown();
  });

  test('an exporter failing without an error gets Kong\'s "no error details" lines', async () => {
    const log = recordingLogger();
    const exporter = new InMemorySpanExporter();
    exporter.export = (_spans, cb) => cb({ code: ExportResultCode.FAILED });
    const processor = new KongQueueSpanProcessor({
      exporter,
      queue: queueConfig({ max_retry_time: -1 }),
      name: 'p1',
      logger: log,
    });
    makeSpans(kongExampleSpecs().slice(0, 1), processor);
    await processor.forceFlush();
    expect(log.lines.filter((l) => !l.startsWith('debug'))).toEqual([
      `warn ${P}handler could not process entries: no error details returned by handler`,
      `error ${P}handler returned falsy value but no error information`,
      `error ${P}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    ]);
    await processor.shutdown();
  });

  test('the stock @opentelemetry/exporter-zipkin behind the Kong queue', async () => {
    receiver = await startReceiver();
    const processor = new KongQueueSpanProcessor({
      exporter: new StockZipkinExporter({ url: receiver.url }),
      queue: queueConfig({ max_batch_size: 3, max_coalescing_delay: 0.05 }),
      name: 'p1',
      logger: recordingLogger(),
    });
    makeSpans(kongExampleSpecs(), processor);
    await processor.shutdown();
    const body = JSON.parse(receiver.requests[0].body.toString()) as { id: string }[];
    expect(body.map((s) => s.id)).toEqual(['1111111111111111', '2222222222222222', 'b7ad6b7169203331']);
  });

  test('ZipkinExporter used directly (e.g. under a stock BatchSpanProcessor): one POST per export, result codes', async () => {
    receiver = await startReceiver([202, 500]);
    const exporter = new ZipkinExporter({ httpEndpoint: receiver.url, logger: recordingLogger() });
    const first = await new Promise<ExportResult>((resolve) =>
      exporter.export(makeSpans(kongExampleSpecs().slice(2)), resolve),
    );
    expect(first.code).toBe(ExportResultCode.SUCCESS);
    const second = await new Promise<ExportResult>((resolve) =>
      exporter.export(makeSpans(kongExampleSpecs().slice(2)), resolve),
    );
    expect(second).toEqual({
      code: ExportResultCode.FAILED,
      error: expect.objectContaining({ message: 'zipkin server responded unexpectedly: 500 Internal Server Error' }),
    });
    await exporter.shutdown();
    const third = await new Promise<ExportResult>((resolve) => exporter.export([], resolve));
    expect(third.code).toBe(ExportResultCode.FAILED);
    expect(JSON.parse(receiver.requests[0].body.toString())).toEqual([expectedExample()[2]]);
  });

  test('the exporter with a SpanKind.INTERNAL span and default options', () => {
    const exporter = new ZipkinExporter({ httpEndpoint: 'http://127.0.0.1:9/' });
    const [span] = makeSpans([
      {
        name: 'x',
        kind: SpanKind.INTERNAL,
        spanId: '00f067aa0ba902b7',
        start: [1700000000, 0],
        end: [1700000000, 1000],
      },
    ]);
    expect(Buffer.from(exporter.encodeSpan(span)).toString()).toBe(
      '{"traceId":"0af7651916cd43dd8448eb211c80319c","id":"00f067aa0ba902b7","name":"x","timestamp":1700000000000000,"duration":1,"localEndpoint":{"serviceName":"kong"}}',
    );
  });
});
