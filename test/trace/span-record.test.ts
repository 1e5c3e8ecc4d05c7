/**
 * The record path (src/trace/span-record.ts): when Kong's queue in front of our JSON exporter
 * is the only processor, spans are encoded from plain records instead of `ReadableSpan`s.
 * The bytes sent must be exactly those of the `ReadableSpan` path. The reference is the same
 * plugin with a second (no-op) processor, which turns the record path off, fed the very same
 * finished request trace; both bodies are compared byte for byte (balancer span ids, random
 * in each path, aside).
 */
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { QUEUE_DEFAULTS } from '../../src/config/defaults';
import type { ZipkinConfigInput } from '../../src/config/types';
import { KongQueueSpanProcessor } from '../../src/export/queue-span-processor';
import type { SpanListSender } from '../../src/export/span-list-sender';
import { ZipkinExporter } from '../../src/export/zipkin-exporter';
import { createZipkinPlugin } from '../../src/plugin';
import { DirectSpans } from '../../src/trace/finished-span';
import type { RequestTrace } from '../../src/trace/request-trace';
import { fixedTrace, T0 } from './fixed-trace';

class CapturingSender implements SpanListSender {
  readonly bodies: Buffer[] = [];
  async send(body: string | Buffer): Promise<void> {
    this.bodies.push(Buffer.isBuffer(body) ? body : Buffer.from(body));
  }
  async idle(): Promise<void> {}
  async close(): Promise<void> {}
}

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

function processor(sender: SpanListSender, config: ZipkinConfigInput): KongQueueSpanProcessor {
  const exporter = new ZipkinExporter({
    httpEndpoint: null,
    sender,
    localServiceName: config.local_service_name ?? 'kong',
    defaultServiceName: config.default_service_name ?? null,
  });
  return new KongQueueSpanProcessor({
    exporter,
    queue: { ...QUEUE_DEFAULTS, max_batch_size: 1000, max_coalescing_delay: 60 },
    name: 'q',
    logger: QUIET,
  });
}

/** Balancer span ids are random in each path: the same placeholder in both. */
function sameBalancerIds(body: string): string {
  return body.replace(/"id":"[0-9a-f]{16}"(?=,"kind":"CLIENT","name":"[^"]*\(balancer try \d+\)")/g, '"id":"balancer"');
}

/** Both paths' bodies for the traces `make` builds on each plugin, finished at the same times. */
async function bothBodies(
  config: ZipkinConfigInput,
  make: (plugin: ReturnType<typeof createZipkinPlugin>) => RequestTrace[],
): Promise<{ records: string; spans: string; count: number; readableSpans: number }> {
  const recordSender = new CapturingSender();
  const spanSender = new CapturingSender();
  const recordQueue = processor(recordSender, config);
  const spanQueue = processor(spanSender, config);
  const options = { logger: QUIET, nodeId: 'node-1' };
  const viaRecords = createZipkinPlugin(config, { ...options, spanProcessors: [recordQueue] });
  const viaSpans = createZipkinPlugin(config, { ...options, spanProcessors: [spanQueue, new NoopSpanProcessor()] });
  // Spans that still reached the queue as ReadableSpans (the record path's fallback); watched
  // only now, as a changed onEnd at start would have turned the record path off.
  const onEnd = jest.spyOn(recordQueue, 'onEnd');
  const traces = make(viaRecords);
  traces.forEach((t, i) => {
    viaRecords.runtime.spans.finish(t, T0 + 7_000 + i);
    viaSpans.runtime.spans.finish(t, T0 + 7_000 + i);
  });
  await recordQueue.forceFlush();
  await spanQueue.forceFlush();
  expect(recordSender.bodies).toHaveLength(1);
  expect(spanSender.bodies).toHaveLength(1);
  const records = recordSender.bodies[0].toString('utf8');
  const spans = spanSender.bodies[0].toString('utf8');
  const count = (JSON.parse(records) as unknown[]).length;
  await recordQueue.shutdown();
  await spanQueue.shutdown();
  return {
    records: sameBalancerIds(records),
    spans: sameBalancerIds(spans),
    count,
    readableSpans: onEnd.mock.calls.length,
  };
}

const B3 = {
  'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
  'x-b3-spanid': 'a2fb4a1d1a96d312',
  'x-b3-parentspanid': '0020000000000001',
  'x-b3-sampled': '1',
};

describe('record path: the same bytes as the ReadableSpan path', () => {
  const cases: [string, ZipkinConfigInput, Record<string, string>, number][] = [
    ['root, annotations, one try', { sample_ratio: 1 }, {}, 1],
    [
      'shared b3 span, two failed tries then one, static tags and a tags header',
      { sample_ratio: 1, tags_header: 'Zipkin-Tags', static_tags: [{ name: 'env', value: 'prod' }] },
      { ...B3, 'zipkin-tags': 'foo=bar;1=one' },
      3,
    ],
    [
      'W3C parent, tags flavor, no tries',
      { sample_ratio: 1, phase_duration_flavor: 'tags' },
      {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      0,
    ],
    [
      '8-byte trace ids, default service name',
      { sample_ratio: 1, traceid_byte_count: 8, default_service_name: 'edge' },
      {},
      2,
    ],
    [
      'jaeger with an all-zero parent',
      { sample_ratio: 1 },
      { 'uber-trace-id': '463ac35c9f6413ad:a2fb4a1d1a96d312:0:1' },
      1,
    ],
    [
      'tags to escape and non-ASCII names',
      { sample_ratio: 1, tags_header: 'Zipkin-Tags', local_service_name: 'kông "edge"' },
      { 'zipkin-tags': 'quote="q";back=a\\b;uni=ü€;ctl=a\tb' },
      1,
    ],
  ];
  test.each(cases)('%s', async (_name, config, headers, tries) => {
    const { records, spans, count, readableSpans } = await bothBodies(config, (plugin) => [
      fixedTrace(plugin, headers, tries),
      fixedTrace(plugin, headers, tries),
    ]);
    expect(count).toBe(2 * (2 + tries));
    expect(readableSpans).toBe(0);
    expect(records).toBe(spans);
  });

  test('a consumer and its credential (include_credential)', async () => {
    const { records, spans, readableSpans } = await bothBodies(
      { sample_ratio: 1, include_credential: true },
      (plugin) => {
        const t = fixedTrace(plugin, {}, 1);
        t.setConsumer({ id: 'c-1' }, { id: 'cred-1' });
        return [t];
      },
    );
    expect(records).toContain('"kong.consumer":"c-1","kong.credential":"cred-1"');
    expect(readableSpans).toBe(0);
    expect(records).toBe(spans);
  });

  test('a TCP connection (stream spans: kps / kpf, no HTTP tags)', async () => {
    const { records, spans, count, readableSpans } = await bothBodies({ sample_ratio: 1 }, (plugin) => {
      const t = plugin.startStream({ remoteAddress: '10.1.2.3', remotePort: 40000 }, T0);
      t.preread({ route: { id: 'r-1', name: 'tcp' }, service: { id: 's-1', name: 'db' } });
      t.responseTraceId(); // the ids, as the log phase makes them
      t.prereadStartUs = T0 + 100;
      t.prereadEndUs = T0 + 900;
      t.proxyStartUs = T0 + 100;
      return [t];
    });
    expect(count).toBe(2);
    expect(records).toMatch(
      /^\[\{"traceId":"[0-9a-f]{32}","parentId":"[0-9a-f]{16}","id":"[0-9a-f]{16}","kind":"CLIENT","name":"stream \(proxy\)"/,
    );
    expect(records).toContain('"value":"kps"');
    expect(readableSpans).toBe(0);
    expect(records).toBe(spans);
  });

  // Requests the record path leaves to the ReadableSpan path: the bytes must still agree.
  test('more tags than the attribute count limit', async () => {
    const tags = Array.from({ length: 140 }, (_, i) => `t${i}=v${i}`).join(';');
    const { records, spans, readableSpans } = await bothBodies(
      { sample_ratio: 1, tags_header: 'Zipkin-Tags' },
      (plugin) => [fixedTrace(plugin, { 'zipkin-tags': tags }, 1)],
    );
    expect(readableSpans).toBe(3);
    expect(records).toContain('"t100":"v100"');
    expect(records).not.toContain('"t139"');
    expect(records).toBe(spans);
  });

  test('a consumer id that is not an attribute value, a span ending before it starts, a fractional time', async () => {
    const { records, spans, count, readableSpans } = await bothBodies({ sample_ratio: 1 }, (plugin) => {
      const odd = fixedTrace(plugin, {}, 1);
      odd.setConsumer({ id: { nested: true } as unknown as string });
      const backwards = fixedTrace(plugin, {}, 0);
      backwards.bodyEndUs = T0 + 50; // before proxyStartUs
      const fractional = fixedTrace(plugin, {}, 0);
      fractional.headerFilterUs = T0 + 5_000.5;
      return [odd, backwards, fractional];
    });
    expect(count).toBe(3 + 2 + 2);
    expect(readableSpans).toBe(7);
    expect(records).not.toContain('kong.consumer');
    expect(records).toBe(spans);
  });
});

describe('which processors take span records', () => {
  function recordsFor(processors: ConstructorParameters<typeof BasicTracerProvider>[0]) {
    const resource = resourceFromAttributes({ 'service.name': 'kong' });
    const provider = new BasicTracerProvider({ ...processors, resource });
    const tracer = provider.getTracer('gateway-zipkin');
    return DirectSpans.for(tracer, resource, processors?.spanProcessors ?? [])?.records;
  }
  const queue = (encoding: 'json' | 'proto3' = 'json') =>
    new KongQueueSpanProcessor({
      exporter: new ZipkinExporter({ httpEndpoint: null, sender: new CapturingSender(), encoding }),
      queue: QUEUE_DEFAULTS,
      name: 'q',
      logger: QUIET,
    });

  test('Kong queue + JSON exporter, alone: yes', () => {
    expect(recordsFor({ spanProcessors: [queue()] })).toBeDefined();
  });

  test('proto3, a second processor, a value length limit, too few events, a subclass changing onEnd: no', () => {
    expect(recordsFor({ spanProcessors: [queue('proto3')] })).toBeUndefined();
    expect(recordsFor({ spanProcessors: [queue(), new NoopSpanProcessor()] })).toBeUndefined();
    expect(recordsFor({ spanProcessors: [queue()], spanLimits: { attributeValueLengthLimit: 100 } })).toBeUndefined();
    expect(recordsFor({ spanProcessors: [queue()], spanLimits: { eventCountLimit: 5 } })).toBeUndefined();
    class Watching extends KongQueueSpanProcessor {
      seen = 0;
      override onEnd(span: Parameters<KongQueueSpanProcessor['onEnd']>[0]): void {
        this.seen++;
        super.onEnd(span);
      }
    }
    const watching = new Watching({
      exporter: new ZipkinExporter({ httpEndpoint: null, sender: new CapturingSender() }),
      queue: QUEUE_DEFAULTS,
      name: 'q',
      logger: QUIET,
    });
    expect(recordsFor({ spanProcessors: [watching] })).toBeUndefined();
  });
});
