import {
  ROOT_CONTEXT,
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createPropagator, getExtracted } from '../../src/propagation';
import { recordingLogger } from '../support/recording-logger';

const T32 = '0af7651916cd43dd8448eb211c80319c';
const S = 'b7ad6b7169203331';

const tracer = new BasicTracerProvider().getTracer('test');

function extract(p: ReturnType<typeof createPropagator>, headers: Record<string, string>) {
  return p.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

describe('createPropagator as an OTel TextMapPropagator', () => {
  test('extracts a remote span context that OTel tracers continue', () => {
    const p = createPropagator({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' });
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-01` });
    expect(trace.getSpanContext(ctx)).toEqual({
      traceId: T32,
      spanId: S,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(getExtracted(ctx)?.format).toBe('w3c');
  });

  test('a child span is injected with the incoming span as parent (b3 single header preserved)', () => {
    const p = createPropagator({ extract: ['b3', 'w3c'], inject: ['preserve'], default_format: 'w3c' });
    const ctx = extract(p, { b3: `${T32}-${S}-1` });
    const span = tracer.startSpan('child', {}, ctx);
    const out: Record<string, string> = {};
    const ids = p.injectWithLogIds(trace.setSpan(ctx, span), out, defaultTextMapSetter);
    expect(out).toEqual({ b3: `${T32}-${span.spanContext().spanId}-1-${S}` });
    expect(ids).toEqual({ b3: T32 });
    span.end();
  });

  test('an unsampled child span propagates an explicit not-sampled flag (docs/design.md difference 2)', () => {
    const p = createPropagator({ extract: ['w3c'], inject: ['preserve', 'datadog'], default_format: 'w3c' });
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-00` });
    const span = tracer.startSpan('child', {}, ctx);
    const out: Record<string, string> = {};
    propagation.setGlobalPropagator(p);
    try {
      propagation.inject(trace.setSpan(ctx, span), out);
    } finally {
      propagation.disable();
    }
    expect(out.traceparent).toBe(`00-${T32}-${span.spanContext().spanId}-00`);
    expect(out['x-datadog-sampling-priority']).toBe('0');
    expect(out['x-datadog-trace-id']).toBe(BigInt('0x8448eb211c80319c').toString());
  });

  test('forwarding the extracted context without a new span keeps Kong fields (64-bit width, no decision)', () => {
    const p = createPropagator({ extract: ['b3'], inject: ['preserve'], default_format: 'b3' });
    const ctx = extract(p, { 'x-b3-traceid': '8448eb211c80319c', 'x-b3-spanid': S });
    const out: Record<string, string> = {};
    p.inject(ctx, out, defaultTextMapSetter);
    // Kong's b3 injector writes a nil decision as 0.
    expect(out).toEqual({ 'x-b3-traceid': '8448eb211c80319c', 'x-b3-spanid': S, 'x-b3-sampled': '0' });
  });

  test('jaeger baggage becomes OTel baggage and is injected back escaped', () => {
    const p = createPropagator({ extract: ['jaeger'], inject: ['jaeger'], default_format: 'jaeger' });
    const ctx = extract(p, { 'uber-trace-id': `${T32}:${S}:0:1`, 'uberctx-user': 'a%20b' });
    expect(propagation.getBaggage(ctx)?.getEntry('user')?.value).toBe('a b');
    const span = tracer.startSpan('child', {}, ctx);
    const out: Record<string, string> = {};
    p.inject(trace.setSpan(ctx, span), out, defaultTextMapSetter);
    expect(out['uberctx-user']).toBe('a%20b');
    expect(out['uber-trace-id']).toBe(`${T32}:${span.spanContext().spanId}:${S}:01`);
  });

  test('clear removes headers from a plain carrier case-insensitively and from a ClientRequest-like carrier', () => {
    const p = createPropagator({ extract: ['w3c'], inject: ['w3c'], clear: ['x-debug'], default_format: 'w3c' });
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-01` });
    const plain: Record<string, string> = { 'X-Debug': '1', keep: 'yes' };
    p.inject(ctx, plain, defaultTextMapSetter);
    expect(plain).toEqual({ keep: 'yes', traceparent: `00-${T32}-${S}-01` });

    const removed: string[] = [];
    const req = { removeHeader: (n: string) => void removed.push(n) };
    p.inject(ctx, req, { set: () => undefined });
    // The w3c injector also removes a tracestate that is not its own (docs/design.md difference 8).
    expect(removed).toEqual(['x-debug', 'tracestate']);
  });

  test('a suppressed-tracing context injects nothing', () => {
    const p = createPropagator({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' });
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-01` });
    const out: Record<string, string> = {};
    p.inject(suppressTracing(ctx), out, defaultTextMapSetter);
    expect(out).toEqual({});
  });

  test('a custom getter is asked for every key, so mixed-case carriers work through it', () => {
    const p = createPropagator({ extract: ['w3c'], inject: [], default_format: 'w3c' });
    const carrier = { TraceParent: `00-${T32}-${S}-01` };
    const getter = {
      keys: (c: Record<string, string>) => Object.keys(c),
      get: (c: Record<string, string>, k: string) => c[k],
    };
    expect(trace.getSpanContext(p.extract(ROOT_CONTEXT, carrier, getter))?.traceId).toBe(T32);
    // The default getter reads lowercase names, as every stock propagator does.
    expect(trace.getSpanContext(extract(p, carrier))).toBeUndefined();
  });

  test('Kong fields survive a child span set in the context (preserve keeps the incoming format)', () => {
    const p = createPropagator({ extract: ['w3c', 'b3'], inject: ['preserve'], default_format: 'w3c' });
    const ctx = extract(p, { 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-flags': '1' });
    const child = trace.setSpan(ctx, tracer.startSpan('child', {}, ctx));
    expect(getExtracted(child)).toEqual(getExtracted(ctx));
    const out: Record<string, string> = {};
    p.inject(child, out, defaultTextMapSetter);
    expect(out['x-b3-flags']).toBe('1');
    expect(out['x-b3-parentspanid']).toBe(S);
  });

  test("malformed headers are ignored with Kong's warning and leave the context unchanged", () => {
    const log = recordingLogger();
    const p = createPropagator({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' }, { logger: log });
    const ctx = extract(p, { traceparent: `ff-${T32}-${S}-01` });
    expect(ctx).toBe(ROOT_CONTEXT);
    expect(log.warnings).toEqual(['invalid W3C Trace Context version; ignoring.']);
  });

  test('with no extract/inject/clear, the legacy order and preserve apply, defaulting to the given format', () => {
    const p = createPropagator({ default_format: 'w3c' });
    const span = tracer.startSpan('root');
    const out: Record<string, string> = {};
    p.inject(trace.setSpan(ROOT_CONTEXT, span), out, defaultTextMapSetter);
    expect(Object.keys(out)).toEqual(['traceparent']);
    const ctx = extract(p, { 'x-b3-traceid': T32, 'x-b3-spanid': S, traceparent: `00-${T32}-${'1'.repeat(16)}-01` });
    expect(getExtracted(ctx)?.format).toBe('b3');
  });

  test('fields() lists the headers the configured injectors write', () => {
    const p = createPropagator({ extract: [], inject: ['w3c', 'aws'], default_format: 'w3c' });
    expect(p.fields()).toEqual(['traceparent', 'tracestate', 'x-amzn-trace-id']);
  });

  test("an invalid record fails with the field path and Kong's text", () => {
    expect(() =>
      createPropagator({ extract: ['w3c'], inject: ['w3c'], clear: ['bad header'], default_format: 'w3c' }),
    ).toThrow("bad header name 'bad header', allowed characters are A-Z, a-z, 0-9, '_', and '-'");
  });
});

describe('the extracted Context behaves as any OTel Context', () => {
  const p = createPropagator({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' });
  const base = ROOT_CONTEXT.setValue(createContextKey('base'), 'b');

  test('values set before and after extraction are read back; delete removes one value only', () => {
    const k = createContextKey('k');
    const ctx = p.extract(base, { traceparent: `00-${T32}-${S}-01` }, defaultTextMapGetter).setValue(k, 1);
    expect(ctx.getValue(createContextKey('base'))).toBe('b');
    expect(ctx.getValue(k)).toBe(1);
    expect(trace.getSpanContext(ctx)?.spanId).toBe(S);
    const deleted = ctx.deleteValue(k);
    expect(deleted.getValue(k)).toBeUndefined();
    expect(trace.getSpanContext(deleted)?.spanId).toBe(S);
    expect(getExtracted(deleted)?.format).toBe('w3c');
    expect(ctx.getValue(k)).toBe(1); // immutable
  });

  test('a long chain of values stays correct past the point where it is copied onto the base', () => {
    let ctx = p.extract(base, { traceparent: `00-${T32}-${S}-01` }, defaultTextMapGetter);
    const keys = Array.from({ length: 20 }, (_, i) => createContextKey(`key ${i}`));
    keys.forEach((k, i) => (ctx = ctx.setValue(k, i)));
    ctx = ctx.setValue(keys[3], 'again');
    expect(keys.map((k) => ctx.getValue(k))).toEqual([
      0,
      1,
      2,
      'again',
      ...Array.from({ length: 16 }, (_, i) => i + 4),
    ]);
    expect(getExtracted(ctx)?.context?.traceId).toBe(T32);
    expect(ctx.getValue(createContextKey('base'))).toBe('b');
  });

  test('with the async-hooks context manager, context.with makes it active', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const ctx = p.extract(ROOT_CONTEXT, { traceparent: `00-${T32}-${S}-01` }, defaultTextMapGetter);
      const seen = await context.with(ctx, async () => {
        await new Promise((r) => setImmediate(r));
        return trace.getSpanContext(context.active())?.traceId;
      });
      expect(seen).toBe(T32);
    } finally {
      context.disable();
    }
  });
});

describe('createPropagator: W3C Trace Context Level 2 (docs/design.md difference 8)', () => {
  const p = createPropagator({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' });
  const inject = (ctx: ReturnType<typeof extract>): Record<string, string> => {
    const out: Record<string, string> = {};
    p.inject(ctx, out, defaultTextMapSetter);
    return out;
  };

  test('tracestate is carried as a TraceState on the extracted span context, with keys core TraceState drops', () => {
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-03`, tracestate: 'foo@=1, 1abc=2 ,,bar=3' });
    const sc = trace.getSpanContext(ctx);
    expect(sc?.traceFlags).toBe(3);
    expect(sc?.traceState?.serialize()).toBe('foo@=1,1abc=2,bar=3');
    expect(sc?.traceState?.get('1abc')).toBe('2');
  });

  test('a child span: same trace, new parent id, the random flag kept, tracestate forwarded without a member of ours', () => {
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-02`, tracestate: 'congo=t61,rojo=00f067aa0ba902b7' });
    const child = tracer.startSpan('child', {}, ctx);
    const out = inject(trace.setSpan(ctx, child));
    // The SDK's parent-based sampler follows the unsampled parent; the incoming random flag stays.
    expect(out).toEqual({
      traceparent: `00-${T32}-${child.spanContext().spanId}-02`,
      tracestate: 'congo=t61,rojo=00f067aa0ba902b7',
    });
  });

  test('the extracted context forwarded as it came: flags byte (defined bits) and tracestate', () => {
    const ctx = extract(p, { traceparent: `cc-${T32}-${S}-ff-future`, tracestate: 'foo=1' });
    expect(inject(ctx)).toEqual({ traceparent: `00-${T32}-${S}-03`, tracestate: 'foo=1' });
  });

  test.each([
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
    ['an illegal key', 'foo=1,FOO=2'],
    ['an illegal value', 'foo=bar=baz'],
  ])('an invalid tracestate (%s) is dropped as a whole; the traceparent is kept', (_name, tracestate) => {
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-01`, tracestate });
    expect(trace.getSpanContext(ctx)?.traceState).toBeUndefined();
    const child = tracer.startSpan('child', {}, ctx);
    expect(inject(trace.setSpan(ctx, child))).toEqual({ traceparent: `00-${T32}-${child.spanContext().spanId}-01` });
  });

  test('no tracestate without a valid traceparent: a new root span goes out alone', () => {
    const cases: Record<string, string>[] = [
      { tracestate: 'foo=1' },
      { traceparent: `00-${T32}-${'0'.repeat(16)}-01`, tracestate: 'foo=1' },
    ];
    for (const headers of cases) {
      const ctx = extract(p, headers);
      expect(trace.getSpanContext(ctx)).toBeUndefined();
      const root = tracer.startSpan('root', {}, ctx);
      const out = inject(trace.setSpan(ctx, root));
      // The SDK made this trace id: its own flags (sampled), no random flag vouched for by us.
      expect(out).toEqual({ traceparent: `00-${root.spanContext().traceId}-${root.spanContext().spanId}-01` });
    }
  });

  test('a tracestate set on the span by the application is injected (validated)', () => {
    const ctx = extract(p, { traceparent: `00-${T32}-${S}-01`, tracestate: 'foo=1' });
    const child = tracer.startSpan('child', {}, ctx);
    const sc = child.spanContext();
    const withOurs = trace.setSpanContext(ctx, { ...sc, traceState: sc.traceState?.set('gz', 'x') });
    expect(inject(withOurs).tracestate).toBe('gz=x,foo=1');
  });
});
