import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { silentLogger } from '../../src/logger';
import { createPropagator } from '../../src/propagation/otel-propagator';
import { KongSampler, withSamplingDecision } from '../../src/trace/sampler';

const TRACE = '463ac35c9f6413ad48485a3953bb6124';
const SPAN = 'a2fb4a1d1a96d312';

function decide(sampler: KongSampler, ctx = ROOT_CONTEXT): SamplingDecision {
  return sampler.shouldSample(ctx, TRACE, 'GET', SpanKind.SERVER, {}, []).decision;
}

function extracted(headers: Record<string, string>) {
  return createPropagator(undefined, { logger: silentLogger }).extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

describe('KongSampler (§3)', () => {
  test('ratio 1 always samples, 0 never', () => {
    const on = new KongSampler(1);
    const off = new KongSampler(0);
    for (let i = 0; i < 1000; i++) {
      expect(decide(on)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
      expect(decide(off)).toBe(SamplingDecision.NOT_RECORD);
    }
  });

  test('Math.random() < ratio per call, not per trace id', () => {
    const sampler = new KongSampler(0.3);
    const spy = jest.spyOn(Math, 'random');
    try {
      spy.mockReturnValueOnce(0.29999);
      expect(decide(sampler)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
      spy.mockReturnValueOnce(0.3);
      expect(decide(sampler)).toBe(SamplingDecision.NOT_RECORD);
    } finally {
      spy.mockRestore();
    }
    let sampled = 0;
    for (let i = 0; i < 20000; i++) if (decide(sampler) === SamplingDecision.RECORD_AND_SAMPLED) sampled++;
    expect(sampled / 20000).toBeGreaterThan(0.27);
    expect(sampled / 20000).toBeLessThan(0.33);
  });

  test('a decision put in the context wins over everything', () => {
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.NONE });
    expect(decide(new KongSampler(0), withSamplingDecision(ROOT_CONTEXT, true))).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(new KongSampler(1), withSamplingDecision(ROOT_CONTEXT, false))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(new KongSampler(0), withSamplingDecision(parent, true))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  test('children follow a local parent', () => {
    const sampledParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
    });
    const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.NONE,
    });
    expect(decide(new KongSampler(0), sampledParent)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(new KongSampler(1), unsampledParent)).toBe(SamplingDecision.NOT_RECORD);
  });

  test('an incoming decision wins, regardless of the ratio', () => {
    expect(decide(new KongSampler(0), extracted({ traceparent: `00-${TRACE}-${SPAN}-01` }))).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(new KongSampler(1), extracted({ traceparent: `00-${TRACE}-${SPAN}-00` }))).toBe(
      SamplingDecision.NOT_RECORD,
    );
    expect(decide(new KongSampler(0), extracted({ 'x-b3-sampled': '1' }))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(new KongSampler(1), extracted({ b3: '0' }))).toBe(SamplingDecision.NOT_RECORD);
  });

  test('an incoming context without a decision leaves it to the ratio', () => {
    const ctx = extracted({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN });
    expect(decide(new KongSampler(1), ctx)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(new KongSampler(0), ctx)).toBe(SamplingDecision.NOT_RECORD);
  });

  test("another propagator's remote parent: its sampled flag", () => {
    const remote = (flags: TraceFlags) =>
      trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: SPAN, traceFlags: flags, isRemote: true });
    expect(decide(new KongSampler(0), remote(TraceFlags.SAMPLED))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(new KongSampler(1), remote(TraceFlags.NONE))).toBe(SamplingDecision.NOT_RECORD);
  });

  test('works as a provider sampler', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      sampler: new KongSampler(0),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('t');
    tracer.startSpan('dropped').end();
    const kept = tracer.startSpan('kept', {}, withSamplingDecision(ROOT_CONTEXT, true));
    tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, kept)).end();
    kept.end();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['child', 'kept']);
    expect(new KongSampler(0.25).toString()).toBe('KongSampler{sample_ratio=0.25}');
  });
});
