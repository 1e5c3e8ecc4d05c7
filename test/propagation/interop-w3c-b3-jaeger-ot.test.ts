/**
 * Interoperability of the w3c, b3, b3-single, jaeger and ot formats with the stock OTel
 * propagators used as oracles, in both directions: what ours injects the oracle extracts to
 * the same ids and sampling, and what the oracle injects ours extracts likewise. Where a stock
 * propagator behaves differently (docs/otel-notes.md §4.2, §4.5–4.7) the difference is asserted.
 */
import {
  ROOT_CONTEXT,
  TraceFlags,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  trace,
  type Context,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import fc from 'fast-check';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import { OTTracePropagator } from '@opentelemetry/propagator-ot-trace';
import type { Logger } from '../../src/logger';
import type {
  FormatExtractor,
  FormatInjector,
  HeaderWriter,
  InjectContext,
  TraceContext,
} from '../../src/propagation/context';
import { b3Extractor, b3Injector, b3SingleInjector } from '../../src/propagation/b3';
import { jaegerExtractor, jaegerInjector } from '../../src/propagation/jaeger';
import { otExtractor, otInjector } from '../../src/propagation/ot';
import { w3cExtractor, w3cInjector } from '../../src/propagation/w3c';

type Carrier = Record<string, string>;

const T32 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T16 = 'a3ce929d0e0e4736';
const PAD = '0'.repeat(16);
const S = '00f067aa0ba902b7';
const P = '0000000000000003';

const w3cOracle = new W3CTraceContextPropagator();
const b3SingleOracle = new B3Propagator(); // single-header injection is the default
const b3MultiOracle = new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
const jaegerOracle = new JaegerPropagator();
const otOracle = new OTTracePropagator();

function ours(injector: FormatInjector, ctx: InjectContext): Carrier {
  const carrier: Carrier = {};
  const writer: HeaderWriter = {
    set: (name, value) => {
      carrier[name] = value;
    },
    remove: (name) => {
      delete carrier[name];
    },
  };
  injector.inject(ctx, writer);
  return carrier;
}

function oursExtract(
  extractor: FormatExtractor,
  carrier: Carrier,
): { ctx: TraceContext | undefined; warnings: string[] } {
  const warnings: string[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => warnings.push(m),
    error: (m) => warnings.push(`error ${m}`),
  };
  return { ctx: extractor.extract(carrier, log), warnings };
}

function oracleExtract(oracle: TextMapPropagator, carrier: Carrier): Context {
  return oracle.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** The oracle's span context reduced to what is compared: ids and flags. */
function oracleIds(
  oracle: TextMapPropagator,
  carrier: Carrier,
): { traceId: string; spanId: string; traceFlags: number } | undefined {
  const sc = trace.getSpanContext(oracleExtract(oracle, carrier));
  return sc === undefined ? undefined : { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags };
}

function oracleInject(
  oracle: TextMapPropagator,
  traceId: string,
  spanId: string,
  traceFlags: number,
  baggage?: Record<string, string>,
): Carrier {
  let ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags, isRemote: false });
  if (baggage !== undefined) {
    const entries: Record<string, { value: string }> = {};
    for (const [k, value] of Object.entries(baggage)) entries[k] = { value };
    ctx = propagation.setBaggage(ctx, propagation.createBaggage(entries));
  }
  const carrier: Carrier = {};
  oracle.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

function oracleBaggage(oracle: TextMapPropagator, carrier: Carrier): Record<string, string> | undefined {
  const bag = propagation.getBaggage(oracleExtract(oracle, carrier));
  if (bag === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, entry] of bag.getAllEntries()) out[k] = entry.value;
  return out;
}

describe('w3c ↔ W3CTraceContextPropagator', () => {
  test.each([
    [true, TraceFlags.SAMPLED],
    [false, TraceFlags.NONE],
    [undefined, TraceFlags.NONE],
  ])('ours → oracle: shouldSample %s', (shouldSample, traceFlags) => {
    const carrier = ours(w3cInjector, { traceId: T32, spanId: S, shouldSample });
    expect(oracleIds(w3cOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags });
  });

  test('ours → oracle: a 64-bit id padded by the engine is a valid 128-bit id', () => {
    const carrier = ours(w3cInjector, { traceId: PAD + T16, spanId: S, shouldSample: true });
    expect(oracleIds(w3cOracle, carrier)).toEqual({ traceId: PAD + T16, spanId: S, traceFlags: TraceFlags.SAMPLED });
  });

  test.each([
    [TraceFlags.SAMPLED, true, 1],
    [TraceFlags.NONE, false, 0],
    [3, true, 3],
  ])('oracle → ours: traceFlags %d', (traceFlags, shouldSample, w3cFlags) => {
    const carrier = oracleInject(w3cOracle, T32, S, traceFlags);
    expect(oursExtract(w3cExtractor, carrier)).toEqual({
      ctx: { traceId: T32, spanId: S, shouldSample, w3cFlags },
      warnings: [],
    });
  });

  test('agreement (W3C over Kong, docs/design.md difference 8): upper-case hex is rejected by both', () => {
    const carrier = { traceparent: `00-${T32.toUpperCase()}-${S.toUpperCase()}-01` };
    expect(oursExtract(w3cExtractor, carrier)).toEqual({
      ctx: undefined,
      warnings: ['invalid W3C trace context trace ID; ignoring.'],
    });
    expect(oracleIds(w3cOracle, carrier)).toBeUndefined();
  });

  test('agreement (W3C over Kong, docs/design.md difference 8): a future version with an extra field is read by both', () => {
    const carrier = { traceparent: `01-${T32}-${S}-01-future` };
    expect(oracleIds(w3cOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.SAMPLED });
    expect(oursExtract(w3cExtractor, carrier)).toEqual({
      ctx: { traceId: T32, spanId: S, shouldSample: true, w3cFlags: 1 },
      warnings: [],
    });
    const fourFields = { traceparent: `01-${T32}-${S}-01` };
    expect(oracleIds(w3cOracle, fourFields)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.SAMPLED });
    expect(oursExtract(w3cExtractor, fourFields)).toEqual({
      ctx: { traceId: T32, spanId: S, shouldSample: true, w3cFlags: 1 },
      warnings: [],
    });
  });

  test('W3C over Kong (docs/design.md difference 8): surrounding OWS is tolerated by both; ours takes any amount of spaces and tabs', () => {
    const carrier = { traceparent: ` 00-${T32}-${S}-01 ` };
    expect(oracleIds(w3cOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.SAMPLED });
    expect(oursExtract(w3cExtractor, carrier)).toEqual({
      ctx: { traceId: T32, spanId: S, shouldSample: true, w3cFlags: 1 },
      warnings: [],
    });
    const tabs = { traceparent: `\t 00-${T32}-${S}-01 \t` };
    expect(oracleIds(w3cOracle, tabs)).toBeUndefined();
    expect(oursExtract(w3cExtractor, tabs).ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true, w3cFlags: 1 });
  });

  test('agreement: all-zero ids and 64-bit trace ids are rejected by both', () => {
    for (const traceparent of [`00-${'0'.repeat(32)}-${S}-01`, `00-${T32}-${'0'.repeat(16)}-01`, `00-${T16}-${S}-01`]) {
      expect(oracleIds(w3cOracle, { traceparent })).toBeUndefined();
      expect(oursExtract(w3cExtractor, { traceparent }).ctx).toBeUndefined();
    }
  });
});

describe('b3 (multi) ↔ B3Propagator MULTI_HEADER', () => {
  test.each([
    [true, TraceFlags.SAMPLED],
    [false, TraceFlags.NONE],
    [undefined, TraceFlags.NONE],
  ])('ours → oracle: 128-bit, shouldSample %s', (shouldSample, traceFlags) => {
    const carrier = ours(b3Injector, { traceId: T32, spanId: S, parentId: P, shouldSample });
    expect(oracleIds(b3MultiOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags });
  });

  test('ours → oracle: debug flags are read as sampled and re-sent as x-b3-flags by the oracle', () => {
    const carrier = ours(b3Injector, { traceId: T32, spanId: S, shouldSample: true, flags: '1' });
    expect(carrier['x-b3-flags']).toBe('1');
    const ctx = oracleExtract(b3MultiOracle, carrier);
    expect(trace.getSpanContext(ctx)?.traceFlags).toBe(TraceFlags.SAMPLED);
    const again: Carrier = {};
    b3MultiOracle.inject(ctx, again, defaultTextMapSetter);
    expect(again).toEqual({ 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-flags': '1' });
  });

  test('stock quirk: a 64-bit trace id is padded to 128 bits by the oracle', () => {
    const carrier = ours(b3Injector, { traceId: T16, spanId: S, shouldSample: true });
    expect(carrier['x-b3-traceid']).toBe(T16);
    expect(oracleIds(b3MultiOracle, carrier)).toEqual({
      traceId: PAD + T16,
      spanId: S,
      traceFlags: TraceFlags.SAMPLED,
    });
    // ... and re-sent at 128 bits, so ours then sees a 16-byte original size instead of 8.
    const back = oracleInject(b3MultiOracle, PAD + T16, S, TraceFlags.SAMPLED);
    expect(oursExtract(b3Extractor, back).ctx?.traceId).toBe(PAD + T16);
  });

  test.each([
    [TraceFlags.SAMPLED, true],
    [TraceFlags.NONE, false],
  ])('oracle → ours: traceFlags %d', (traceFlags, shouldSample) => {
    const carrier = oracleInject(b3MultiOracle, T32, S, traceFlags);
    // The oracle never writes x-b3-parentspanid, so there is no parent.
    expect(oursExtract(b3Extractor, carrier)).toEqual({
      ctx: { traceId: T32, spanId: S, shouldSample, reuseSpanId: true },
      warnings: [],
    });
  });

  test('oracle → ours: debug (x-b3-flags: 1) re-sent by the oracle', () => {
    const debugCtx = oracleExtract(b3MultiOracle, { 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-flags': '1' });
    const carrier: Carrier = {};
    b3MultiOracle.inject(debugCtx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-flags': '1' });
    expect(oursExtract(b3Extractor, carrier).ctx).toEqual({
      traceId: T32,
      spanId: S,
      shouldSample: true,
      flags: '1',
      reuseSpanId: true,
    });
  });

  test('stock quirk: a single-header d re-sent as multi by the oracle loses debug (x-b3-sampled: 1)', () => {
    const debugCtx = oracleExtract(b3SingleOracle, { b3: `${T32}-${S}-d` });
    const carrier: Carrier = {};
    b3MultiOracle.inject(debugCtx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    expect(oursExtract(b3Extractor, carrier).ctx).toEqual({
      traceId: T32,
      spanId: S,
      shouldSample: true,
      reuseSpanId: true,
    });
    // Ours keeps debug across encodings: single d in, multi x-b3-flags out.
    const ctx = oursExtract(b3Extractor, { b3: `${T32}-${S}-d` }).ctx;
    expect(
      ours(b3Injector, {
        traceId: ctx?.traceId,
        spanId: ctx?.spanId,
        shouldSample: ctx?.shouldSample,
        flags: ctx?.flags,
      }),
    ).toEqual({
      'x-b3-traceid': T32,
      'x-b3-spanid': S,
      'x-b3-flags': '1',
    });
  });

  test('agreement: upper-case ids are read by both (ours lowercases, the oracle keeps the case)', () => {
    const carrier = { 'x-b3-traceid': T32.toUpperCase(), 'x-b3-spanid': S.toUpperCase(), 'x-b3-sampled': '1' };
    expect(oursExtract(b3Extractor, carrier).ctx).toEqual({
      traceId: T32,
      spanId: S,
      shouldSample: true,
      reuseSpanId: true,
    });
    expect(oracleIds(b3MultiOracle, carrier)).toEqual({
      traceId: T32.toUpperCase(),
      spanId: S.toUpperCase(),
      traceFlags: TraceFlags.SAMPLED,
    });
  });

  test('difference: x-b3-sampled True is accepted by the oracle, invalid for ours (Kong)', () => {
    const carrier = { 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-sampled': 'True' };
    expect(oracleIds(b3MultiOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.SAMPLED });
    expect(oursExtract(b3Extractor, carrier)).toEqual({
      ctx: { traceId: T32, spanId: S, reuseSpanId: true },
      warnings: ['x-b3-sampled header invalid; ignoring.'],
    });
  });

  test('difference: an unknown x-b3-sampled value makes the oracle drop the ids; ours keeps them with no decision', () => {
    const carrier = { 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-sampled': '2' };
    expect(oracleIds(b3MultiOracle, carrier)).toBeUndefined();
    expect(oursExtract(b3Extractor, carrier).ctx).toEqual({ traceId: T32, spanId: S, reuseSpanId: true });
  });
});

describe('b3-single ↔ B3Propagator SINGLE_HEADER', () => {
  test.each([
    ['sampled', { shouldSample: true }, '1', TraceFlags.SAMPLED],
    ['debug', { shouldSample: true, flags: '1' }, 'd', TraceFlags.SAMPLED],
    ['difference 2: explicit not-sampled', { shouldSample: false }, '0', TraceFlags.NONE],
  ])('ours → oracle: %s', (_name, extra: InjectContext, flag, traceFlags) => {
    const carrier = ours(b3SingleInjector, { traceId: T32, spanId: S, parentId: P, ...extra });
    expect(carrier).toEqual({ b3: `${T32}-${S}-${flag}-${P}` });
    expect(oracleIds(b3SingleOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags });
  });

  test('ours → oracle: no decision (field omitted, Kong) is read as not sampled by the oracle', () => {
    const carrier = ours(b3SingleInjector, { traceId: T32, spanId: S });
    expect(carrier).toEqual({ b3: `${T32}-${S}` });
    expect(oracleIds(b3SingleOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.NONE });
  });

  test('stock quirk: a 64-bit trace id is padded to 128 bits by the oracle', () => {
    const carrier = ours(b3SingleInjector, { traceId: T16, spanId: S, shouldSample: true });
    expect(carrier).toEqual({ b3: `${T16}-${S}-1` });
    expect(oracleIds(b3SingleOracle, carrier)).toEqual({
      traceId: PAD + T16,
      spanId: S,
      traceFlags: TraceFlags.SAMPLED,
    });
    const back = oracleInject(b3SingleOracle, PAD + T16, S, TraceFlags.SAMPLED);
    expect(back).toEqual({ b3: `${PAD + T16}-${S}-1` });
  });

  test('difference: a sampling-only b3 (no ids) is not understood by the oracle', () => {
    for (const b3 of ['0', '1', 'd']) {
      expect(ours(b3SingleInjector, { shouldSample: b3 !== '0', flags: b3 === 'd' ? '1' : undefined })).toEqual({ b3 });
      expect(oracleIds(b3SingleOracle, { b3 })).toBeUndefined();
      expect(oursExtract(b3Extractor, { b3 }).ctx?.shouldSample).toBe(b3 !== '0');
    }
  });

  test.each([
    [TraceFlags.SAMPLED, '1', true],
    [TraceFlags.NONE, '0', false],
  ])('oracle → ours: traceFlags %d', (traceFlags, flag, shouldSample) => {
    const carrier = oracleInject(b3SingleOracle, T32, S, traceFlags);
    expect(carrier).toEqual({ b3: `${T32}-${S}-${flag}` });
    expect(oursExtract(b3Extractor, carrier)).toEqual({
      ctx: { traceId: T32, spanId: S, shouldSample, reuseSpanId: true, singleHeader: true },
      warnings: [],
    });
  });

  test('stock quirk: the oracle forwards "no decision" as -0, which ours reads as an explicit not-sampled', () => {
    // A context without a decision: the oracle extracted a b3 with no sampled field.
    const undecided = oracleExtract(b3SingleOracle, { b3: `${T32}-${S}` });
    const carrier: Carrier = {};
    b3SingleOracle.inject(undecided, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ b3: `${T32}-${S}-0` });
    expect(oursExtract(b3Extractor, carrier).ctx?.shouldSample).toBe(false);
    // Ours keeps "no decision" as undefined for the same incoming header.
    expect(oursExtract(b3Extractor, { b3: `${T32}-${S}` }).ctx?.shouldSample).toBeUndefined();
  });

  test('oracle → ours: debug d', () => {
    const debugCtx = oracleExtract(b3SingleOracle, { b3: `${T32}-${S}-d` });
    const carrier: Carrier = {};
    b3SingleOracle.inject(debugCtx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ b3: `${T32}-${S}-d` });
    expect(oursExtract(b3Extractor, carrier).ctx).toEqual({
      traceId: T32,
      spanId: S,
      shouldSample: true,
      flags: '1',
      reuseSpanId: true,
      singleHeader: true,
    });
  });

  test('difference: upper-case single header is read by ours (Kong), not by the oracle', () => {
    const carrier = { b3: `${T32.toUpperCase()}-${S.toUpperCase()}-1` };
    expect(oursExtract(b3Extractor, carrier).ctx).toEqual({
      traceId: T32,
      spanId: S,
      shouldSample: true,
      reuseSpanId: true,
      singleHeader: true,
    });
    expect(oracleIds(b3SingleOracle, carrier)).toBeUndefined();
  });

  test('difference: junk around a valid value is tolerated by the oracle (unanchored), not by ours', () => {
    const carrier = { b3: `xx${T32}-${S}-1yy` };
    expect(oracleIds(b3SingleOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.SAMPLED });
    expect(oursExtract(b3Extractor, carrier)).toEqual({
      ctx: { reuseSpanId: true, singleHeader: true },
      warnings: ['b3 single header invalid; ignoring.'],
    });
  });
});

describe('jaeger ↔ JaegerPropagator', () => {
  test.each([
    [true, TraceFlags.SAMPLED],
    [false, TraceFlags.NONE],
    [undefined, TraceFlags.NONE],
  ])('ours → oracle: 128-bit, shouldSample %s', (shouldSample, traceFlags) => {
    const carrier = ours(jaegerInjector, { traceId: T32, spanId: S, parentId: P, shouldSample });
    expect(oracleIds(jaegerOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags });
  });

  test('ours → oracle: a 64-bit trace id is padded to 128 bits by the oracle', () => {
    const carrier = ours(jaegerInjector, { traceId: T16, spanId: S, shouldSample: true });
    expect(carrier).toEqual({ 'uber-trace-id': `${T16}:${S}:0:01` });
    expect(oracleIds(jaegerOracle, carrier)).toEqual({ traceId: PAD + T16, spanId: S, traceFlags: TraceFlags.SAMPLED });
  });

  test('stock quirk: the oracle drops the parent (re-sent as 0); ours keeps it', () => {
    const carrier = { 'uber-trace-id': `${T32}:${S}:${P}:01` };
    expect(oursExtract(jaegerExtractor, carrier).ctx?.parentId).toBe(P);
    const again: Carrier = {};
    jaegerOracle.inject(oracleExtract(jaegerOracle, carrier), again, defaultTextMapSetter);
    expect(again).toEqual({ 'uber-trace-id': `${T32}:${S}:0:01` });
  });

  test('stock quirk: the debug bit (flags 03) is lost by the oracle; ours reads it as sampled and re-sends 01 (Kong)', () => {
    const carrier = { 'uber-trace-id': `${T32}:${S}:${P}:03` };
    const oracleCtx = oracleExtract(jaegerOracle, carrier);
    expect(trace.getSpanContext(oracleCtx)?.traceFlags).toBe(TraceFlags.SAMPLED);
    const oracleAgain: Carrier = {};
    jaegerOracle.inject(oracleCtx, oracleAgain, defaultTextMapSetter);
    expect(oracleAgain['uber-trace-id']).toBe(`${T32}:${S}:0:01`);
    const ctx = oursExtract(jaegerExtractor, carrier).ctx;
    expect(ctx?.shouldSample).toBe(true);
    expect(
      ours(jaegerInjector, {
        traceId: ctx?.traceId,
        spanId: ctx?.spanId,
        parentId: ctx?.parentId,
        shouldSample: ctx?.shouldSample,
      }),
    ).toEqual({
      'uber-trace-id': `${T32}:${S}:${P}:01`,
    });
  });

  test('ours → oracle: escaped baggage decodes to the same values', () => {
    const baggage = { user: 'alice', note: "a b/c?d=e&f+g!'()*~é%" };
    const carrier = ours(jaegerInjector, { traceId: T32, spanId: S, shouldSample: true, baggage });
    expect(oracleBaggage(jaegerOracle, carrier)).toEqual(baggage);
  });

  test.each([
    [TraceFlags.SAMPLED, true],
    [TraceFlags.NONE, false],
  ])('oracle → ours: traceFlags %d, parent 0 (none)', (traceFlags, shouldSample) => {
    const carrier = oracleInject(jaegerOracle, T32, S, traceFlags);
    expect(oursExtract(jaegerExtractor, carrier)).toEqual({
      ctx: { traceId: T32, spanId: S, parentId: '00', shouldSample, reuseSpanId: true },
      warnings: [],
    });
  });

  test('oracle → ours: encodeURIComponent baggage is unescaped to the same values', () => {
    const baggage = { user: 'alice', note: "a b/c?d=e&f+g!'()*~é%" };
    const carrier = oracleInject(jaegerOracle, T32, S, TraceFlags.SAMPLED, baggage);
    expect(carrier['uberctx-note']).toBe(encodeURIComponent(baggage.note));
    expect(oursExtract(jaegerExtractor, carrier).ctx?.baggage).toEqual(baggage);
  });

  test('difference: percent-encoded separators are read by the oracle, rejected by ours (Kong)', () => {
    const carrier = { 'uber-trace-id': `${T32}%3A${S}%3A0%3A01` };
    expect(oracleIds(jaegerOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.SAMPLED });
    expect(oursExtract(jaegerExtractor, carrier)).toEqual({
      ctx: undefined,
      warnings: ['invalid jaeger uber-trace-id header; ignoring.'],
    });
  });

  test('difference: non-hex flags are "sampled" for the oracle, invalid for ours (Kong)', () => {
    const carrier = { 'uber-trace-id': `${T32}:${S}:0:zz` };
    expect(oracleIds(jaegerOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.SAMPLED });
    expect(oursExtract(jaegerExtractor, carrier)).toEqual({
      ctx: undefined,
      warnings: ['invalid jaeger uber-trace-id header; ignoring.'],
    });
  });
});

describe('ot ↔ OTTracePropagator', () => {
  test('stock quirk: ours sends sampled as 1 (Kong), which the oracle reads as not sampled (it wants "true")', () => {
    const carrier = ours(otInjector, { traceId: T32, spanId: S, shouldSample: true });
    expect(carrier).toEqual({ 'ot-tracer-traceid': T32, 'ot-tracer-spanid': S, 'ot-tracer-sampled': '1' });
    expect(oracleIds(otOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.NONE });
  });

  test('ours → oracle: difference 2 sends 0, read as not sampled', () => {
    const carrier = ours(otInjector, { traceId: T32, spanId: S, shouldSample: false });
    expect(carrier['ot-tracer-sampled']).toBe('0');
    expect(oracleIds(otOracle, carrier)).toEqual({ traceId: T32, spanId: S, traceFlags: TraceFlags.NONE });
  });

  test('ours → oracle: a 64-bit trace id (the ot default) is padded to 128 bits by the oracle', () => {
    const carrier = ours(otInjector, { traceId: T16, spanId: S });
    expect(carrier).toEqual({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S });
    expect(oracleIds(otOracle, carrier)).toEqual({ traceId: PAD + T16, spanId: S, traceFlags: TraceFlags.NONE });
  });

  test('difference: ours escapes baggage (Kong); the oracle reads values raw, without decoding', () => {
    const carrier = ours(otInjector, { traceId: T32, spanId: S, baggage: { user: 'alice', note: 'a b/c' } });
    expect(carrier['ot-baggage-note']).toBe('a%20b%2Fc');
    expect(oracleBaggage(otOracle, carrier)).toEqual({ user: 'alice', note: 'a%20b%2Fc' });
  });

  test.each([
    [TraceFlags.SAMPLED, 'true', true],
    [TraceFlags.NONE, 'false', false],
  ])('oracle → ours: traceFlags %d → ot-tracer-sampled %s', (traceFlags, sampled, shouldSample) => {
    const carrier = oracleInject(otOracle, PAD + T16, S, traceFlags);
    expect(carrier).toEqual({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S, 'ot-tracer-sampled': sampled });
    expect(oursExtract(otExtractor, carrier)).toEqual({ ctx: { traceId: T16, spanId: S, shouldSample }, warnings: [] });
  });

  test('stock quirk: the oracle truncates a 128-bit trace id to its low 64 bits', () => {
    const carrier = oracleInject(otOracle, T32, S, TraceFlags.SAMPLED);
    expect(carrier['ot-tracer-traceid']).toBe(T16);
    expect(oursExtract(otExtractor, carrier).ctx?.traceId).toBe(T16);
    // Ours keeps a 128-bit id when it came in at 128 bits.
    expect(ours(otInjector, { traceId: T32, spanId: S })['ot-tracer-traceid']).toBe(T32);
  });

  test('oracle → ours: raw baggage; plain values agree, + and %XX are decoded by ours (nginx unescape_uri)', () => {
    const carrier = oracleInject(otOracle, T32, S, TraceFlags.SAMPLED, {
      user: 'alice',
      spaced: 'a b',
      plus: 'x+y',
      pct: '%41',
    });
    expect(carrier).toEqual({
      'ot-tracer-traceid': T16,
      'ot-tracer-spanid': S,
      'ot-tracer-sampled': 'true',
      'ot-baggage-user': 'alice',
      'ot-baggage-spaced': 'a b',
      'ot-baggage-plus': 'x+y',
      'ot-baggage-pct': '%41',
    });
    expect(oursExtract(otExtractor, carrier).ctx?.baggage).toEqual({
      user: 'alice',
      spaced: 'a b',
      plus: 'x y',
      pct: 'A',
    });
  });
});

describe('property: random ids and decisions survive both directions', () => {
  const hexUnit = fc.constantFrom(...'0123456789abcdef');
  const hex = (n: number) => fc.string({ unit: hexUnit, minLength: n, maxLength: n }).filter((s) => /[1-9a-f]/.test(s));
  const arb = fc.record({ traceId: hex(32), spanId: hex(16), sampled: fc.boolean() });
  const flagsOf = (sampled: boolean) => (sampled ? TraceFlags.SAMPLED : TraceFlags.NONE);

  test('w3c', () => {
    fc.assert(
      fc.property(arb, ({ traceId, spanId, sampled }) => {
        expect(oracleIds(w3cOracle, ours(w3cInjector, { traceId, spanId, shouldSample: sampled }))).toEqual({
          traceId,
          spanId,
          traceFlags: flagsOf(sampled),
        });
        const back = oursExtract(w3cExtractor, oracleInject(w3cOracle, traceId, spanId, flagsOf(sampled))).ctx;
        expect([back?.traceId, back?.spanId, back?.shouldSample]).toEqual([traceId, spanId, sampled]);
      }),
    );
  });

  test.each([
    ['b3', b3Injector, b3MultiOracle],
    ['b3-single', b3SingleInjector, b3SingleOracle],
  ])('%s', (_name, injector, oracle) => {
    fc.assert(
      fc.property(arb, ({ traceId, spanId, sampled }) => {
        expect(oracleIds(oracle, ours(injector, { traceId, spanId, shouldSample: sampled }))).toEqual({
          traceId,
          spanId,
          traceFlags: flagsOf(sampled),
        });
        const back = oursExtract(b3Extractor, oracleInject(oracle, traceId, spanId, flagsOf(sampled))).ctx;
        expect([back?.traceId, back?.spanId, back?.shouldSample]).toEqual([traceId, spanId, sampled]);
      }),
    );
  });

  test('jaeger', () => {
    fc.assert(
      fc.property(arb, ({ traceId, spanId, sampled }) => {
        expect(oracleIds(jaegerOracle, ours(jaegerInjector, { traceId, spanId, shouldSample: sampled }))).toEqual({
          traceId,
          spanId,
          traceFlags: flagsOf(sampled),
        });
        const back = oursExtract(jaegerExtractor, oracleInject(jaegerOracle, traceId, spanId, flagsOf(sampled))).ctx;
        expect([back?.traceId, back?.spanId, back?.shouldSample]).toEqual([traceId, spanId, sampled]);
      }),
    );
  });

  test('ot (128-bit ids; the oracle sends the low 64 bits and reads only "true" as sampled)', () => {
    fc.assert(
      fc.property(arb, ({ traceId, spanId, sampled }) => {
        expect(oracleIds(otOracle, ours(otInjector, { traceId, spanId, shouldSample: sampled }))).toEqual({
          traceId,
          spanId,
          traceFlags: TraceFlags.NONE,
        });
        const back = oursExtract(otExtractor, oracleInject(otOracle, traceId, spanId, flagsOf(sampled))).ctx;
        expect([back?.traceId, back?.spanId, back?.shouldSample]).toEqual([traceId.slice(16), spanId, sampled]);
      }),
    );
  });
});
