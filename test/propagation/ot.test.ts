import type { InjectContext, RequestHeaders } from '../../src/propagation/context';
import { otExtractor, otInjector } from '../../src/propagation/ot';
import { extractWarnings, injectWith } from '../support/format-harness';

const extract = (headers: RequestHeaders) => extractWarnings(otExtractor, headers);
const inject = (ctx: InjectContext) => injectWith(otInjector, ctx);

const T32 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T16 = 'a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

const SAMPLED_INVALID = 'ot-tracer-sampled header invalid; ignoring.';
const TRACE_INVALID = 'ot-tracer-traceid header invalid; ignoring.';
const SPAN_INVALID = 'ot-tracer-spanid header invalid; ignoring.';

describe('ot extractor', () => {
  test('triggers', () => {
    expect(otExtractor.triggers).toEqual(['ot-tracer-sampled', 'ot-tracer-traceid', 'ot-tracer-spanid']);
  });

  test('128-bit trace id, sampled', () => {
    const { ctx, warnings } = extract({ 'ot-tracer-traceid': T32, 'ot-tracer-spanid': S, 'ot-tracer-sampled': '1' });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true });
    expect(ctx?.reuseSpanId).toBeUndefined();
    expect(ctx?.parentId).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test('64-bit trace id keeps its original length', () => {
    const { ctx } = extract({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S });
    expect(ctx).toEqual({ traceId: T16, spanId: S });
  });

  test('upper-case hex is accepted and lowercased', () => {
    const { ctx, warnings } = extract({ 'ot-tracer-traceid': T32.toUpperCase(), 'ot-tracer-spanid': S.toUpperCase() });
    expect(ctx).toEqual({ traceId: T32, spanId: S });
    expect(warnings).toEqual([]);
  });

  test.each([
    ['1', true],
    ['true', true],
    ['0', false],
    ['false', false],
  ])('ot-tracer-sampled %s → %s', (value, sampled) => {
    const { ctx, warnings } = extract({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S, 'ot-tracer-sampled': value });
    expect(ctx).toEqual({ traceId: T16, spanId: S, shouldSample: sampled });
    expect(warnings).toEqual([]);
  });

  test.each(['True', 'yes', '2', ''])('ot-tracer-sampled %j is invalid: warning, no decision', (value) => {
    const { ctx, warnings } = extract({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S, 'ot-tracer-sampled': value });
    expect(ctx).toEqual({ traceId: T16, spanId: S });
    expect(warnings).toEqual([SAMPLED_INVALID]);
  });

  test.each([
    ['a 15-character trace id', { 'ot-tracer-traceid': T16.slice(1) }, [TRACE_INVALID]],
    ['a 17-character trace id', { 'ot-tracer-traceid': '0' + T16 }, [TRACE_INVALID]],
    ['a 33-character trace id', { 'ot-tracer-traceid': '0' + T32 }, [TRACE_INVALID]],
    ['a non-hex trace id', { 'ot-tracer-traceid': T16.slice(1) + 'g' }, [TRACE_INVALID]],
    ['an empty trace id', { 'ot-tracer-traceid': '' }, [TRACE_INVALID]],
    ['a 15-character span id', { 'ot-tracer-spanid': S.slice(1) }, [SPAN_INVALID]],
    ['a 32-character span id', { 'ot-tracer-spanid': T32 }, [SPAN_INVALID]],
    ['a non-hex span id', { 'ot-tracer-spanid': S.slice(1) + 'z' }, [SPAN_INVALID]],
    ['both ids invalid', { 'ot-tracer-traceid': 'x', 'ot-tracer-spanid': 'y' }, [TRACE_INVALID, SPAN_INVALID]],
  ])('%s: warning, both ids dropped, sampling and baggage kept', (_name, bad, warnings) => {
    const r = extract({
      'ot-tracer-traceid': T32,
      'ot-tracer-spanid': S,
      'ot-tracer-sampled': 'true',
      'ot-baggage-k': 'v',
      ...bad,
    });
    expect(r).toEqual({ ctx: { shouldSample: true, baggage: { k: 'v' } }, warnings });
  });

  test('a span id without a trace id is dropped', () => {
    expect(extract({ 'ot-tracer-spanid': S, 'ot-tracer-sampled': '0' })).toEqual({
      ctx: { shouldSample: false },
      warnings: [],
    });
  });

  test('a trace id without a span id is kept', () => {
    expect(extract({ 'ot-tracer-traceid': T32 }).ctx).toEqual({ traceId: T32 });
  });

  test('nothing usable → undefined (Kong: an empty context, which does not win), warnings still logged', () => {
    expect(extract({ 'ot-tracer-spanid': S })).toEqual({ ctx: undefined, warnings: [] });
    expect(extract({ 'ot-tracer-traceid': 'bad', 'ot-tracer-sampled': 'maybe' })).toEqual({
      ctx: undefined,
      warnings: [SAMPLED_INVALID, TRACE_INVALID],
    });
  });

  test('repeated headers count by their first value', () => {
    const { ctx } = extract({
      'ot-tracer-traceid': [T16, T32],
      'ot-tracer-spanid': [S],
      'ot-tracer-sampled': ['1', '0'],
    });
    expect(ctx).toEqual({ traceId: T16, spanId: S, shouldSample: true });
  });

  describe('baggage (ot-baggage-)', () => {
    test('every ot-baggage-<key> header, URL-unescaped; look-alikes do not count', () => {
      const { ctx, warnings } = extract({
        'ot-tracer-traceid': T32,
        'ot-tracer-spanid': S,
        'ot-baggage-plain': 'value',
        'ot-baggage-escaped': 'a%20b%2Fc',
        'ot-baggage-plus': 'a+b%2B',
        'ot-baggage-bad-escape': '100%',
        'otttttbaggage-foo': 'no',
        'ot-baggagefoo': 'no',
        'x-ot-baggage-foo': 'no',
      });
      expect(ctx?.baggage).toEqual({ plain: 'value', escaped: 'a b/c', plus: 'a b+', 'bad-escape': '100%' });
      expect(warnings).toEqual([]);
    });

    test('baggage alone makes a context (it wins in Kong)', () => {
      expect(extract({ 'ot-tracer-sampled': 'bogus', 'ot-baggage-user': 'alice' })).toEqual({
        ctx: { baggage: { user: 'alice' } },
        warnings: [SAMPLED_INVALID],
      });
    });

    test('a repeated baggage header counts by its first value', () => {
      expect(extract({ 'ot-tracer-traceid': T32, 'ot-baggage-k': ['a', 'b'] }).ctx?.baggage).toEqual({ k: 'a' });
    });
  });
});

describe('ot injector', () => {
  test('shape: 8 then 16 bytes, needs trace and span, log key ot', () => {
    expect(otInjector.sizes).toEqual([8, 16]);
    expect(otInjector.requires).toEqual(['traceId', 'spanId']);
    expect(otInjector.logKey).toBe('ot');
  });

  test('64-bit trace id, sampled', () => {
    const { headers, logId } = inject({
      traceId: T16,
      spanId: S,
      parentId: 'a'.repeat(16),
      shouldSample: true,
      flags: '1',
    });
    expect(headers).toEqual({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S, 'ot-tracer-sampled': '1' });
    expect(logId).toBe(T16);
  });

  test('128-bit trace id (kept when the incoming id was 128-bit)', () => {
    const { headers, logId } = inject({ traceId: T32, spanId: S, shouldSample: true });
    expect(headers).toEqual({ 'ot-tracer-traceid': T32, 'ot-tracer-spanid': S, 'ot-tracer-sampled': '1' });
    expect(logId).toBe(T32);
  });

  test('difference 2: an explicit not-sampled is written as ot-tracer-sampled: 0', () => {
    const { headers } = inject({ traceId: T16, spanId: S, shouldSample: false });
    expect(headers).toEqual({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S, 'ot-tracer-sampled': '0' });
  });

  test('no decision omits ot-tracer-sampled (Kong)', () => {
    const { headers } = inject({ traceId: T16, spanId: S });
    expect(headers).toEqual({ 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S });
  });

  test('baggage values are escaped like nginx escape_uri; keys lowercased, non-token keys skipped', () => {
    const { headers } = inject({
      traceId: T16,
      spanId: S,
      baggage: { User: 'a b', special: "!'()*~-._", utf8: 'é', 'no good': 'x' },
    });
    expect(headers).toEqual({
      'ot-tracer-traceid': T16,
      'ot-tracer-spanid': S,
      'ot-baggage-user': 'a%20b',
      'ot-baggage-special': '%21%27%28%29%2A~-._',
      'ot-baggage-utf8': '%C3%A9',
    });
  });

  test('round trip: ids, decision and baggage', () => {
    const baggage = { k: 'x y+z/%' };
    const { headers } = inject({ traceId: T32, spanId: S, shouldSample: false, baggage });
    expect(extract(headers)).toEqual({ ctx: { traceId: T32, spanId: S, shouldSample: false, baggage }, warnings: [] });
  });
});
