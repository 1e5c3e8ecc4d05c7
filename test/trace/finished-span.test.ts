/**
 * The plugin's own provider hands finished spans straight to processors that ignore
 * `onStart` (finished-span.ts). Those spans must be exactly what the SDK's Tracer makes
 * for the same request: same ReadableSpan fields, types, values, key orders, identities.
 * The reference is the same plugin with a processor that watches `onStart` (so its spans
 * go through `Tracer.startSpan` / `SpanImpl`), fed the very same finished request trace.
 */
import type { Context } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { QUEUE_DEFAULTS } from '../../src/config/defaults';
import type { ZipkinConfigInput } from '../../src/config/types';
import { KongQueueSpanProcessor } from '../../src/export/queue-span-processor';
import { createZipkinPlugin } from '../../src/plugin';
import { FinishedSpan } from '../../src/trace/finished-span';
import { fixedTrace, T0 } from './fixed-trace';

/** Same as SimpleSpanProcessor, but it watches spans start: the plugin keeps the Tracer for it. */
class WatchingProcessor implements SpanProcessor {
  started = 0;
  constructor(private readonly inner: SimpleSpanProcessor) {}
  onStart(_span: Span, _parent: Context): void {
    this.started++;
  }
  onEnd(span: ReadableSpan): void {
    this.inner.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

const READABLE_SPAN_FIELDS = [
  'name',
  'kind',
  'spanContext',
  'parentSpanContext',
  'startTime',
  'endTime',
  'status',
  'attributes',
  'links',
  'events',
  'duration',
  'ended',
  'resource',
  'instrumentationScope',
  'droppedAttributesCount',
  'droppedEventsCount',
  'droppedLinksCount',
] as const;

function pair(config: ZipkinConfigInput) {
  const direct = new InMemorySpanExporter();
  const viaTracer = new InMemorySpanExporter();
  const watching = new WatchingProcessor(new SimpleSpanProcessor(viaTracer));
  const options = { logger: { debug() {}, info() {}, warn() {}, error() {} }, nodeId: 'node-1' };
  const a = createZipkinPlugin(config, { ...options, spanProcessors: [new SimpleSpanProcessor(direct)] });
  const b = createZipkinPlugin(config, { ...options, spanProcessors: [watching] });
  return { a, b, direct, viaTracer, watching };
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Field by field: same type and value; the same key order where the encoder iterates. */
function expectSameSpan(got: ReadableSpan, want: ReadableSpan, sameSpanId: boolean): void {
  for (const field of READABLE_SPAN_FIELDS) {
    expect([field, typeOf(got[field])]).toEqual([field, typeOf(want[field])]);
  }
  expect(got.name).toBe(want.name);
  expect(got.kind).toBe(want.kind);
  const gotCtx = got.spanContext();
  const wantCtx = want.spanContext();
  expect(Object.keys(gotCtx)).toEqual(Object.keys(wantCtx));
  expect({ ...gotCtx, spanId: sameSpanId ? gotCtx.spanId : 'x' }).toEqual({
    ...wantCtx,
    spanId: sameSpanId ? wantCtx.spanId : 'x',
  });
  if (want.parentSpanContext === undefined) expect(got.parentSpanContext).toBeUndefined();
  else {
    expect(Object.keys(got.parentSpanContext as object)).toEqual(Object.keys(want.parentSpanContext));
    expect(got.parentSpanContext).toEqual(want.parentSpanContext);
  }
  expect(got.startTime).toEqual(want.startTime);
  expect(got.endTime).toEqual(want.endTime);
  expect(got.duration).toEqual(want.duration);
  expect(got.status).toEqual(want.status);
  expect(Object.keys(got.status)).toEqual(Object.keys(want.status));
  expect(Object.getPrototypeOf(got.attributes)).toBe(Object.getPrototypeOf(want.attributes));
  expect(Object.entries(got.attributes)).toEqual(Object.entries(want.attributes));
  expect(got.links).toEqual(want.links);
  expect(got.events.length).toBe(want.events.length);
  got.events.forEach((e, i) => {
    expect(Object.keys(e)).toEqual(Object.keys(want.events[i]));
    expect(e).toEqual(want.events[i]);
  });
  expect(got.ended).toBe(true);
  expect(want.ended).toBe(true);
  expect(got.resource.attributes).toEqual(want.resource.attributes);
  expect(got.instrumentationScope).toEqual(want.instrumentationScope);
  expect(Object.keys(got.instrumentationScope)).toEqual(Object.keys(want.instrumentationScope));
  expect([got.droppedAttributesCount, got.droppedEventsCount, got.droppedLinksCount]).toEqual([
    want.droppedAttributesCount,
    want.droppedEventsCount,
    want.droppedLinksCount,
  ]);
}

function finishBoth(config: ZipkinConfigInput, headers: Record<string, string>, tries: number) {
  const p = pair(config);
  const t = fixedTrace(p.a, headers, tries);
  const now = T0 + 7_000;
  p.a.runtime.spans.finish(t, now);
  p.b.runtime.spans.finish(t, now);
  return { ...p, got: p.direct.getFinishedSpans(), want: p.viaTracer.getFinishedSpans() };
}

describe('spans delivered directly have the SDK span shape', () => {
  test('shared b3 span, annotations, two balancer tries, route and service, tags header', () => {
    const { got, want, watching } = finishBoth(
      { sample_ratio: 1, tags_header: 'Zipkin-Tags', static_tags: [{ name: 'env', value: 'prod' }] },
      {
        'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
        'x-b3-spanid': 'a2fb4a1d1a96d312',
        'x-b3-parentspanid': '0020000000000001',
        'x-b3-sampled': '1',
        'zipkin-tags': 'foo=bar;1=one',
      },
      2,
    );
    expect(watching.started).toBe(4);
    expect(got.map((s) => s.name)).toEqual(['POST (balancer try 1)', 'POST (balancer try 2)', 'POST (proxy)', 'POST']);
    expect(want.map((s) => s.name)).toEqual(got.map((s) => s.name));
    for (const s of got) expect(s).toBeInstanceOf(FinishedSpan);
    for (const s of want) expect(s).not.toBeInstanceOf(FinishedSpan);
    got.forEach((s, i) => expectSameSpan(s, want[i], !s.name.includes('balancer')));

    // Linkage: children point at the request span's own context object, as the SDK's do.
    const request = got[3];
    for (const child of got.slice(0, 3)) expect(child.parentSpanContext).toBe(request.spanContext());
    for (const child of want.slice(0, 3)) expect(child.parentSpanContext).toBe(want[3].spanContext());
    expect(request.spanContext().spanId).toBe('a2fb4a1d1a96d312');
    expect(request.parentSpanContext).toEqual({
      traceId: '463ac35c9f6413ad48485a3953bb6124',
      spanId: '0020000000000001',
      traceFlags: 1,
      isRemote: true,
    });
    // One resource and scope object for all spans (the provider's, as with SpanImpl).
    for (const s of got) {
      expect(s.resource).toBe(request.resource);
      expect(s.instrumentationScope).toBe(request.instrumentationScope);
    }
    expect(request.instrumentationScope).toEqual({ name: 'gateway-zipkin', version: undefined, schemaUrl: undefined });
  });

  test('root span, 8-byte trace ids, tags flavor, no tries', () => {
    const { got, want, watching } = finishBoth(
      { sample_ratio: 1, traceid_byte_count: 8, phase_duration_flavor: 'tags' },
      {},
      0,
    );
    expect(watching.started).toBe(2);
    expect(got.length).toBe(2);
    got.forEach((s, i) => expectSameSpan(s, want[i], true));
    expect(got[1].parentSpanContext).toBeUndefined();
    expect(got[1].spanContext().traceId.slice(0, 16)).toBe('0000000000000000');
    expect(got[1].attributes['gateway_zipkin.trace_id_bytes']).toBe(8);
    expect(got[1].events).toEqual([]);
  });

  test('more tags than the attribute count limit: the same 128 kept, the rest counted as dropped', () => {
    const tags = Array.from({ length: 140 }, (_, i) => `t${i}=v${i}`).join(';');
    const { got, want } = finishBoth({ sample_ratio: 1, tags_header: 'Zipkin-Tags' }, { 'zipkin-tags': tags }, 1);
    got.forEach((s, i) => expectSameSpan(s, want[i], !s.name.includes('balancer')));
    const request = got[got.length - 1];
    expect(Object.keys(request.attributes).length).toBe(128);
    expect(request.droppedAttributesCount).toBeGreaterThan(0);
  });

  test('a proxy span ending before it starts lasts 0, as the SDK ends it', () => {
    const p = pair({ sample_ratio: 1 });
    const t = fixedTrace(p.a, {}, 0);
    t.bodyEndUs = T0 + 50; // before proxyStartUs
    p.a.runtime.spans.finish(t, T0 + 7_000);
    p.b.runtime.spans.finish(t, T0 + 7_000);
    const got = p.direct.getFinishedSpans();
    const want = p.viaTracer.getFinishedSpans();
    got.forEach((s, i) => expectSameSpan(s, want[i], true));
    expect(got[0].duration).toEqual([0, 0]);
    expect(got[0].endTime).toEqual(got[0].startTime);
    expect(got[0].endTime).not.toBe(got[0].startTime);
  });
});

describe('which processors get spans built finished', () => {
  /** The Kong queue, but watching spans start: it must get them through the Tracer. */
  class WatchingQueue extends KongQueueSpanProcessor {
    started = 0;
    override onStart(): void {
      this.started++;
    }
  }

  const silent = { debug() {}, info() {}, warn() {}, error() {} };

  async function exported(make: (exporter: InMemorySpanExporter) => KongQueueSpanProcessor) {
    const exporter = new InMemorySpanExporter();
    const processor = make(exporter);
    const plugin = createZipkinPlugin(
      { sample_ratio: 1 },
      { logger: silent, nodeId: 'node-1', spanProcessors: [processor] },
    );
    plugin.runtime.spans.finish(fixedTrace(plugin, {}, 1), T0 + 7_000);
    await processor.forceFlush();
    // Read before shutdown: the in-memory exporter forgets its spans when it shuts down.
    const spans = exporter.getFinishedSpans();
    await processor.shutdown();
    return { spans, processor };
  }

  test('the Kong queue processor (its onStart is marked inert)', async () => {
    const { spans } = await exported(
      (exporter) => new KongQueueSpanProcessor({ exporter, queue: QUEUE_DEFAULTS, name: 'direct', logger: silent }),
    );
    expect(spans.map((s) => s.name)).toEqual(['POST (balancer try 1)', 'POST (proxy)', 'POST']);
    for (const s of spans) expect(s).toBeInstanceOf(FinishedSpan);
  });

  test('not a subclass of it that overrides onStart', async () => {
    const { spans, processor } = await exported(
      (exporter) => new WatchingQueue({ exporter, queue: QUEUE_DEFAULTS, name: 'watching', logger: silent }),
    );
    expect(spans.map((s) => s.name)).toEqual(['POST (balancer try 1)', 'POST (proxy)', 'POST']);
    for (const s of spans) expect(s).not.toBeInstanceOf(FinishedSpan);
    expect((processor as WatchingQueue).started).toBe(3);
  });
});
