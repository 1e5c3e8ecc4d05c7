import type { FormatInjector, InjectContext, RequestHeaders } from '../../src/propagation/context';
import { b3Extractor, b3Injector, b3SingleInjector } from '../../src/propagation/b3';
import { extractWarnings, injectWith } from '../support/format-harness';

const extract = (headers: RequestHeaders) => extractWarnings(b3Extractor, headers);
const inject = (injector: FormatInjector, ctx: InjectContext) => injectWith(injector, ctx);

const T32 = '80f198ee56343ba864fe8b2a57d3eff7';
const T16 = '64fe8b2a57d3eff7';
const S = 'e457b5a2e4d86bd1';
const P = '05e3ac9a4f6e3b90';
const P2 = 'f5e3ac9a4f6e3b90';

const SINGLE_INVALID = 'b3 single header invalid; ignoring.';
const SAMPLED_INVALID = 'x-b3-sampled header invalid; ignoring.';
const FLAGS_INVALID = 'x-b3-flags header invalid; ignoring.';
const TRACE_INVALID = 'x-b3-traceid header invalid; ignoring.';
const SPAN_INVALID = 'x-b3-spanid header invalid; ignoring.';
const PARENT_INVALID = 'x-b3-parentspanid header invalid; ignoring.';

describe('b3 extractor: triggers', () => {
  test('the seven trigger headers', () => {
    expect(b3Extractor.triggers).toEqual([
      'b3',
      'tracestate',
      'x-b3-traceid',
      'x-b3-spanid',
      'x-b3-parentspanid',
      'x-b3-sampled',
      'x-b3-flags',
    ]);
  });

  test('no b3 header at all → undefined', () => {
    expect(extract({ traceparent: `00-${T32}-${S}-01` })).toEqual({ ctx: undefined, warnings: [] });
  });
});

describe('b3 extractor: single header', () => {
  test.each([
    ['128-bit, sampled, parent', `${T32}-${S}-1-${P}`, { traceId: T32, spanId: S, parentId: P, shouldSample: true }],
    ['128-bit, not sampled', `${T32}-${S}-0`, { traceId: T32, spanId: S, shouldSample: false }],
    ['128-bit, debug', `${T32}-${S}-d-${P}`, { traceId: T32, spanId: S, parentId: P, shouldSample: true, flags: '1' }],
    ['64-bit, sampled', `${T16}-${S}-1`, { traceId: T16, spanId: S, shouldSample: true }],
    ['64-bit, no sampling field', `${T16}-${S}`, { traceId: T16, spanId: S }],
    ['lenient: trailing dash', `${T32}-${S}-`, { traceId: T32, spanId: S }],
    ['lenient: trailing dash after sampled', `${T32}-${S}-1-`, { traceId: T32, spanId: S, shouldSample: true }],
    ['lenient: parent without sampled', `${T32}-${S}-${P2}`, { traceId: T32, spanId: S, parentId: P2 }],
    ['lenient: sampled without dash', `${T32}-${S}1`, { traceId: T32, spanId: S, shouldSample: true }],
    [
      'lenient: no dashes after the span',
      `${T32}-${S}d${P}`,
      { traceId: T32, spanId: S, parentId: P, shouldSample: true, flags: '1' },
    ],
    [
      'upper-case hex',
      `${T32.toUpperCase()}-${S.toUpperCase()}-1-${P.toUpperCase()}`,
      { traceId: T32, spanId: S, parentId: P, shouldSample: true },
    ],
  ])('%s', (_name, value, expected) => {
    const { ctx, warnings } = extract({ b3: value });
    expect(ctx).toEqual({ ...expected, reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([]);
  });

  test.each([
    ['1', { shouldSample: true }],
    ['d', { shouldSample: true, flags: '1' }],
    ['0', { shouldSample: false }],
  ])('sampling-only value %s carries no ids', (value, expected) => {
    const { ctx, warnings } = extract({ b3: value });
    expect(ctx).toEqual({ ...expected, reuseSpanId: true, singleHeader: true });
    expect(ctx?.traceId).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test.each([
    ['an empty value', ''],
    ['garbage', 'garbage'],
    ['a 15-character trace id', `${T16.slice(1)}-${S}-1`],
    ['a 17-character trace id', `0${T16}-${S}-1`],
    ['a 24-character trace id', `${T32.slice(8)}-${S}-1`],
    ['a 33-character trace id', `0${T32}-${S}-1`],
    ['a 15-character span id', `${T32}-${S.slice(1)}-1`],
    ['a non-hex span id', `${T32}-${S.slice(1)}x-1`],
    ['a non-hex trace id', `${T32.slice(1)}x-${S}-1`],
    ['a 15-character parent', `${T32}-${S}-1-${P.slice(1)}`],
    ['a 17-character parent', `${T32}-${S}-1-0${P}`],
    ['an unknown sampled value 2', `${T32}-${S}-2`],
    ['an upper-case debug D', `${T32}-${S}-D`],
    ['a fifth field', `${T32}-${S}-1-${P}-1`],
    // Kong quirk (Lua pattern backtracking): the leading 0 of a parent written without a
    // sampled field is taken as the sampled flag, leaving a 15-character parent.
    ['a parent starting with 0 and no sampled field', `${T32}-${S}-${P}`],
    ['spaces around the value', ` ${T32}-${S}-1 `],
  ])('rejects %s: warning, ids dropped, still single-header', (_name, value) => {
    const { ctx, warnings } = extract({ b3: value });
    expect(ctx).toEqual({ reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([SINGLE_INVALID]);
  });

  test('a repeated b3 header counts by its first value', () => {
    const { ctx } = extract({ b3: [`${T32}-${S}-1`, `${T16}-${P}-0`] });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true, reuseSpanId: true, singleHeader: true });
  });

  test('an invalid single header lets valid multi-header ids through', () => {
    const { ctx, warnings } = extract({ b3: 'nope', 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true, reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([SINGLE_INVALID]);
  });

  test('single-header ids and sampling win over multi; a missing parent is filled from multi', () => {
    const { ctx, warnings } = extract({
      b3: `${T32}-${S}-0`,
      'x-b3-traceid': T16,
      'x-b3-spanid': P2,
      'x-b3-parentspanid': P,
      'x-b3-sampled': '1',
    });
    expect(ctx).toEqual({
      traceId: T32,
      spanId: S,
      parentId: P,
      shouldSample: false,
      reuseSpanId: true,
      singleHeader: true,
    });
    expect(warnings).toEqual([]);
  });

  test('a sampling-only single header takes its ids from multi', () => {
    const { ctx } = extract({ b3: 'd', 'x-b3-traceid': T16, 'x-b3-spanid': S, 'x-b3-sampled': '0' });
    expect(ctx).toEqual({
      traceId: T16,
      spanId: S,
      shouldSample: true,
      flags: '1',
      reuseSpanId: true,
      singleHeader: true,
    });
  });

  test('multi sampling fills a single header without a sampled field', () => {
    const { ctx } = extract({ b3: `${T32}-${S}`, 'x-b3-sampled': 'true' });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true, reuseSpanId: true, singleHeader: true });
  });

  test('multi headers are still validated (and warned about) when the single header is used', () => {
    const { ctx, warnings } = extract({ b3: `${T32}-${S}-1`, 'x-b3-sampled': 'maybe', 'x-b3-spanid': 'xyz' });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true, reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([SAMPLED_INVALID, SPAN_INVALID]);
  });
});

describe('b3 extractor: tracestate (deliberate difference 1)', () => {
  test('a tracestate b3= member is read as the single header', () => {
    const { ctx, warnings } = extract({ tracestate: `b3=${T32}-${S}-1-${P}` });
    expect(ctx).toEqual({
      traceId: T32,
      spanId: S,
      parentId: P,
      shouldSample: true,
      reuseSpanId: true,
      singleHeader: true,
    });
    expect(warnings).toEqual([]);
  });

  test('a sampling-only tracestate member', () => {
    const { ctx } = extract({ tracestate: 'b3=d' });
    expect(ctx).toEqual({ shouldSample: true, flags: '1', reuseSpanId: true, singleHeader: true });
  });

  test('the b3 header wins over tracestate', () => {
    const { ctx } = extract({ b3: `${T16}-${S}-0`, tracestate: `b3=${T32}-${P}-1` });
    expect(ctx).toEqual({ traceId: T16, spanId: S, shouldSample: false, reuseSpanId: true, singleHeader: true });
  });

  test('difference 1: a tracestate without a b3= member does not fire b3 (Kong captures the request)', () => {
    const { ctx, warnings } = extract({
      traceparent: `00-${T32}-${S}-01`,
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    });
    expect(ctx).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test.each([
    ['a key ending in b3', 'xb3=1'],
    ['an empty b3 member', 'b3='],
    ['b3= inside a value', 'congo=b3=1'],
    ['an empty tracestate', ''],
  ])('difference 1: %s is not a b3 member', (_name, tracestate) => {
    const { ctx, warnings } = extract({ tracestate });
    expect(ctx).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test('difference 1: a b3 member after other members is found (Kong needs the whole value to start with b3=)', () => {
    const { ctx, warnings } = extract({ tracestate: `congo=t61rcWkgMzE, b3=${T32}-${S}-1 ,rojo=00f067aa0ba902b7` });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true, reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([]);
  });

  test('difference 1: only the b3 member value is parsed, not the rest of the list (Kong: invalid single header)', () => {
    const { ctx, warnings } = extract({ tracestate: `b3=${T32}-${S}-0,congo=t61rcWkgMzE` });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: false, reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([]);
  });

  test('a repeated tracestate is scanned in order for the first b3 member', () => {
    const { ctx } = extract({ tracestate: ['congo=t61rcWkgMzE', `rojo=1,b3=${T16}-${S}-0`, `b3=${T32}-${S}-1`] });
    expect(ctx).toEqual({ traceId: T16, spanId: S, shouldSample: false, reuseSpanId: true, singleHeader: true });
  });

  test('an invalid b3 member warns and still counts as single-header', () => {
    const { ctx, warnings } = extract({ tracestate: 'b3=garbage' });
    expect(ctx).toEqual({ reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([SINGLE_INVALID]);
  });

  test('a tracestate without a b3 member next to x-b3-* headers: multi only, not single-header', () => {
    const { ctx } = extract({ tracestate: 'congo=t61rcWkgMzE', 'x-b3-sampled': '1' });
    expect(ctx).toEqual({ shouldSample: true, reuseSpanId: true });
    expect(ctx?.singleHeader).toBeUndefined();
  });
});

describe('b3 extractor: multi headers', () => {
  test('128-bit ids with parent, sampled', () => {
    const { ctx, warnings } = extract({
      'x-b3-traceid': T32,
      'x-b3-spanid': S,
      'x-b3-parentspanid': P,
      'x-b3-sampled': '1',
    });
    expect(ctx).toEqual({ traceId: T32, spanId: S, parentId: P, shouldSample: true, reuseSpanId: true });
    expect(ctx?.singleHeader).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test('64-bit trace id keeps its original length', () => {
    const { ctx } = extract({ 'x-b3-traceid': T16, 'x-b3-spanid': S });
    expect(ctx).toEqual({ traceId: T16, spanId: S, reuseSpanId: true });
  });

  test('upper-case hex is accepted and lowercased', () => {
    const { ctx, warnings } = extract({
      'x-b3-traceid': T32.toUpperCase(),
      'x-b3-spanid': S.toUpperCase(),
      'x-b3-parentspanid': P.toUpperCase(),
    });
    expect(ctx).toEqual({ traceId: T32, spanId: S, parentId: P, reuseSpanId: true });
    expect(warnings).toEqual([]);
  });

  test.each([
    ['1', true],
    ['true', true],
    ['0', false],
    ['false', false],
  ])('x-b3-sampled %s → %s', (value, sampled) => {
    const { ctx, warnings } = extract({ 'x-b3-sampled': value });
    expect(ctx).toEqual({ shouldSample: sampled, reuseSpanId: true });
    expect(warnings).toEqual([]);
  });

  test.each(['yes', 'True', '2', 'd', ''])('x-b3-sampled %j is invalid: warning, no decision', (value) => {
    const { ctx, warnings } = extract({ 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-sampled': value });
    expect(ctx).toEqual({ traceId: T32, spanId: S, reuseSpanId: true });
    expect(ctx?.shouldSample).toBeUndefined();
    expect(warnings).toEqual([SAMPLED_INVALID]);
  });

  test('x-b3-flags 1 means debug and overrides x-b3-sampled 0', () => {
    const { ctx, warnings } = extract({
      'x-b3-traceid': T32,
      'x-b3-spanid': S,
      'x-b3-sampled': '0',
      'x-b3-flags': '1',
    });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: true, flags: '1', reuseSpanId: true });
    expect(warnings).toEqual([]);
  });

  test('x-b3-flags 1 after an invalid x-b3-sampled: both handled, sampled', () => {
    const { ctx, warnings } = extract({ 'x-b3-sampled': 'x', 'x-b3-flags': '1' });
    expect(ctx).toEqual({ shouldSample: true, flags: '1', reuseSpanId: true });
    expect(warnings).toEqual([SAMPLED_INVALID]);
  });

  test.each(['2', '0', 'true', ''])(
    'difference 3: invalid x-b3-flags %j is warned about and dropped (Kong keeps the raw value)',
    (value) => {
      const { ctx, warnings } = extract({
        'x-b3-traceid': T32,
        'x-b3-spanid': S,
        'x-b3-sampled': '0',
        'x-b3-flags': value,
      });
      expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: false, reuseSpanId: true });
      expect(ctx?.flags).toBeUndefined();
      expect(warnings).toEqual([FLAGS_INVALID]);
    },
  );

  test.each([
    ['a 15-character trace id', { 'x-b3-traceid': T16.slice(1) }, TRACE_INVALID],
    ['a 17-character trace id', { 'x-b3-traceid': '0' + T16 }, TRACE_INVALID],
    ['a 24-character trace id', { 'x-b3-traceid': T32.slice(8) }, TRACE_INVALID],
    ['a 33-character trace id', { 'x-b3-traceid': '0' + T32 }, TRACE_INVALID],
    ['a non-hex trace id', { 'x-b3-traceid': T16.slice(1) + 'g' }, TRACE_INVALID],
    ['an empty trace id', { 'x-b3-traceid': '' }, TRACE_INVALID],
    ['a 15-character span id', { 'x-b3-spanid': S.slice(1) }, SPAN_INVALID],
    ['a 32-character span id', { 'x-b3-spanid': T32 }, SPAN_INVALID],
    ['a non-hex span id', { 'x-b3-spanid': S.slice(1) + '-' }, SPAN_INVALID],
    ['a 15-character parent id', { 'x-b3-parentspanid': P.slice(1) }, PARENT_INVALID],
    ['a non-hex parent id', { 'x-b3-parentspanid': P.slice(1) + 'z' }, PARENT_INVALID],
  ])('%s: warning, every multi id dropped, sampling kept', (_name, bad, warning) => {
    const { ctx, warnings } = extract({
      'x-b3-traceid': T32,
      'x-b3-spanid': S,
      'x-b3-parentspanid': P,
      'x-b3-sampled': '1',
      ...bad,
    });
    expect(ctx).toEqual({ shouldSample: true, reuseSpanId: true });
    expect(warnings).toEqual([warning]);
  });

  test('warnings come in Kong order: single, sampled, flags, trace, span, parent', () => {
    const { ctx, warnings } = extract({
      b3: 'bad',
      'x-b3-parentspanid': 'p',
      'x-b3-spanid': 's',
      'x-b3-traceid': 't',
      'x-b3-flags': 'f',
      'x-b3-sampled': 's',
    });
    expect(ctx).toEqual({ reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([
      SINGLE_INVALID,
      SAMPLED_INVALID,
      FLAGS_INVALID,
      TRACE_INVALID,
      SPAN_INVALID,
      PARENT_INVALID,
    ]);
  });

  test('span and parent without a trace id are dropped, the context still wins (reuseSpanId)', () => {
    const { ctx, warnings } = extract({ 'x-b3-spanid': S, 'x-b3-parentspanid': P });
    expect(ctx).toEqual({ reuseSpanId: true });
    expect(warnings).toEqual([]);
  });

  test('a trace id without a span id is kept', () => {
    const { ctx } = extract({ 'x-b3-traceid': T32 });
    expect(ctx).toEqual({ traceId: T32, reuseSpanId: true });
  });

  test('repeated multi headers count by their first value', () => {
    const { ctx, warnings } = extract({ 'x-b3-traceid': [T32, T16], 'x-b3-spanid': [S], 'x-b3-sampled': ['0', '1'] });
    expect(ctx).toEqual({ traceId: T32, spanId: S, shouldSample: false, reuseSpanId: true });
    expect(warnings).toEqual([]);
  });
});

describe('b3 injector (multi)', () => {
  test('shape: 16 then 8 bytes, no required fields, log key b3', () => {
    expect(b3Injector.sizes).toEqual([16, 8]);
    expect(b3Injector.requires).toEqual([]);
    expect(b3Injector.logKey).toBe('b3');
  });

  test('128-bit ids with parent, sampled', () => {
    const { headers, logId } = inject(b3Injector, { traceId: T32, spanId: S, parentId: P, shouldSample: true });
    expect(headers).toEqual({ 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' });
    expect(logId).toBe(T32);
  });

  test('64-bit trace id, no parent', () => {
    const { headers, logId } = inject(b3Injector, { traceId: T16, spanId: S, shouldSample: true });
    expect(headers).toEqual({ 'x-b3-traceid': T16, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    expect(logId).toBe(T16);
  });

  test.each([
    [false, '0'],
    [undefined, '0'],
  ])('shouldSample %s → x-b3-sampled %s', (shouldSample, sampled) => {
    const { headers } = inject(b3Injector, { traceId: T32, spanId: S, parentId: P, shouldSample });
    expect(headers['x-b3-sampled']).toBe(sampled);
  });

  test('debug flags replace x-b3-sampled', () => {
    const { headers } = inject(b3Injector, { traceId: T32, spanId: S, parentId: P, shouldSample: true, flags: '1' });
    expect(headers).toEqual({ 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-flags': '1' });
  });

  test('no trace id: only the sampling decision, log id ""', () => {
    const { headers, logId } = inject(b3Injector, { shouldSample: true });
    expect(headers).toEqual({ 'x-b3-sampled': '1' });
    expect(logId).toBe('');
  });

  test('a trace id without a span id writes no ids but logs the trace id', () => {
    const { headers, logId } = inject(b3Injector, { traceId: T32, parentId: P });
    expect(headers).toEqual({ 'x-b3-sampled': '0' });
    expect(logId).toBe(T32);
  });

  test('difference 3: an invalid x-b3-flags is not re-sent upstream', () => {
    const { ctx } = extract({ 'x-b3-traceid': T16, 'x-b3-spanid': S, 'x-b3-sampled': '1', 'x-b3-flags': '3' });
    const { headers } = inject(b3Injector, {
      traceId: ctx?.traceId,
      spanId: P,
      parentId: ctx?.spanId,
      shouldSample: ctx?.shouldSample,
      flags: ctx?.flags,
    });
    expect(headers).toEqual({ 'x-b3-traceid': T16, 'x-b3-spanid': P, 'x-b3-parentspanid': S, 'x-b3-sampled': '1' });
  });
});

describe('b3-single injector', () => {
  test('shape: 16 then 8 bytes, no required fields, log key b3', () => {
    expect(b3SingleInjector.sizes).toEqual([16, 8]);
    expect(b3SingleInjector.requires).toEqual([]);
    expect(b3SingleInjector.logKey).toBe('b3');
  });

  test.each([
    ['sampled with parent', { traceId: T32, spanId: S, parentId: P, shouldSample: true }, `${T32}-${S}-1-${P}`],
    ['sampled, no parent', { traceId: T32, spanId: S, shouldSample: true }, `${T32}-${S}-1`],
    ['64-bit trace id', { traceId: T16, spanId: S, parentId: P, shouldSample: true }, `${T16}-${S}-1-${P}`],
    ['debug', { traceId: T32, spanId: S, parentId: P, shouldSample: true, flags: '1' }, `${T32}-${S}-d-${P}`],
    ['debug wins over false', { traceId: T32, spanId: S, shouldSample: false, flags: '1' }, `${T32}-${S}-d`],
    [
      'difference 2: explicit not-sampled is written as -0',
      { traceId: T32, spanId: S, parentId: P, shouldSample: false },
      `${T32}-${S}-0-${P}`,
    ],
    ['no decision omits the sampled field (Kong)', { traceId: T32, spanId: S, parentId: P }, `${T32}-${S}-${P}`],
    ['no decision, no parent', { traceId: T32, spanId: S }, `${T32}-${S}`],
    ['missing span id: decision only', { traceId: T32, shouldSample: true }, '1'],
    ['missing ids, debug', { flags: '1' }, 'd'],
    ['missing ids, not sampled', { shouldSample: false }, '0'],
    ['missing ids, no decision → 0', {}, '0'],
  ])('%s', (_name, ctx: InjectContext, b3) => {
    const { headers, logId } = inject(b3SingleInjector, ctx);
    expect(headers).toEqual({ b3 });
    expect(logId).toBe(ctx.traceId ?? '');
  });

  test('round trip: what b3-single writes, b3 reads back', () => {
    const { headers } = inject(b3SingleInjector, {
      traceId: T16,
      spanId: S,
      parentId: P,
      flags: '1',
      shouldSample: true,
    });
    const { ctx, warnings } = extract(headers);
    expect(ctx).toEqual({
      traceId: T16,
      spanId: S,
      parentId: P,
      shouldSample: true,
      flags: '1',
      reuseSpanId: true,
      singleHeader: true,
    });
    expect(warnings).toEqual([]);
  });

  test('round trip without a decision keeps "no decision"', () => {
    const { headers } = inject(b3SingleInjector, { traceId: T32, spanId: S, parentId: P2 });
    const { ctx } = extract(headers);
    expect(ctx).toEqual({ traceId: T32, spanId: S, parentId: P2, reuseSpanId: true, singleHeader: true });
  });

  test('Kong quirk kept: without a decision, a parent starting with 0/1/d does not read back', () => {
    // `T-S-P` with P = 05e3… parses the leading 0 as the sampled flag (15-character parent).
    const { headers } = inject(b3SingleInjector, { traceId: T32, spanId: S, parentId: P });
    expect(headers).toEqual({ b3: `${T32}-${S}-${P}` });
    const { ctx, warnings } = extract(headers);
    expect(ctx).toEqual({ reuseSpanId: true, singleHeader: true });
    expect(warnings).toEqual([SINGLE_INVALID]);
  });
});
