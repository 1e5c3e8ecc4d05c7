import type { InjectContext, RequestHeaders } from '../../src/propagation/context';
import { jaegerExtractor, jaegerInjector } from '../../src/propagation/jaeger';
import { extractWarnings, injectWith } from '../support/format-harness';

const extract = (headers: RequestHeaders) => extractWarnings(jaegerExtractor, headers);
const inject = (ctx: InjectContext) => injectWith(jaegerInjector, ctx);

const T32 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T16 = 'a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const P = '0000000000000003';

const HEADER_INVALID = 'invalid jaeger uber-trace-id header; ignoring.';
const TRACE_INVALID = 'invalid jaeger trace ID; ignoring.';
const SPAN_INVALID = 'invalid jaeger span ID; ignoring.';
const PARENT_INVALID = 'invalid jaeger parent ID; ignoring.';
const FLAGS_INVALID = 'invalid jaeger flags; ignoring.';

describe('jaeger extractor', () => {
  test('trigger is uber-trace-id', () => {
    expect(jaegerExtractor.triggers).toEqual(['uber-trace-id']);
  });

  test('128-bit, sampled, with parent', () => {
    const { ctx, warnings } = extract({ 'uber-trace-id': `${T32}:${S}:${P}:01` });
    expect(ctx).toEqual({ traceId: T32, spanId: S, parentId: P, reuseSpanId: true, shouldSample: true });
    expect(ctx?.baggage).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test('64-bit trace id, parent 0 (none) becomes a zero byte, one-digit flags', () => {
    const { ctx, warnings } = extract({ 'uber-trace-id': `${T16}:${S}:0:1` });
    expect(ctx).toEqual({ traceId: T16, spanId: S, parentId: '00', reuseSpanId: true, shouldSample: true });
    expect(warnings).toEqual([]);
  });

  test('short ids are allowed (the engine pads them); odd lengths get a leading 0', () => {
    expect(extract({ 'uber-trace-id': '1234:abc:0:0' })).toEqual({
      ctx: { traceId: '1234', spanId: '0abc', parentId: '00', reuseSpanId: true, shouldSample: false },
      warnings: [],
    });
    expect(extract({ 'uber-trace-id': '123:1:0000:00' }).ctx).toEqual({
      traceId: '0123',
      spanId: '01',
      parentId: '0000',
      reuseSpanId: true,
      shouldSample: false,
    });
  });

  test('upper-case hex is accepted and lowercased', () => {
    const { ctx, warnings } = extract({
      'uber-trace-id': `${T32.toUpperCase()}:${S.toUpperCase()}:ABCDEF0123456789:0F`,
    });
    expect(ctx).toEqual({
      traceId: T32,
      spanId: S,
      parentId: 'abcdef0123456789',
      reuseSpanId: true,
      shouldSample: true,
    });
    expect(warnings).toEqual([]);
  });

  test.each([
    ['00', false],
    ['01', true],
    ['02', false],
    ['03', true],
    ['0', false],
    ['f', true],
    ['ff', true],
  ])('flags %s → sampled %s (odd = sampled)', (flags, sampled) => {
    const { ctx } = extract({ 'uber-trace-id': `${T32}:${S}:${P}:${flags}` });
    expect(ctx?.shouldSample).toBe(sampled);
  });

  test.each([
    ['a repeated header (array)', [`${T32}:${S}:${P}:01`]],
    ['an empty value', ''],
  ])('%s is ignored silently (Kong requires a non-empty string)', (_name, value) => {
    expect(extract({ 'uber-trace-id': value })).toEqual({ ctx: undefined, warnings: [] });
  });

  test.each([
    ['garbage', 'garbage', [HEADER_INVALID]],
    ['three parts', `${T32}:${S}:01`, [HEADER_INVALID]],
    ['five parts', `${T32}:${S}:${P}:01:00`, [HEADER_INVALID]],
    ['an empty part', `${T32}::${P}:01`, [HEADER_INVALID]],
    ['a non-hex part', `${T32}:${S}:${P}:0x`, [HEADER_INVALID]],
    ['percent-encoded separators', `${T32}%3A${S}%3A${P}%3A01`, [HEADER_INVALID]],
    ['spaces', ` ${T32}:${S}:${P}:01`, [HEADER_INVALID]],
    ['a 33-character trace id', `0${T32}:${S}:${P}:01`, [TRACE_INVALID]],
    ['a zero trace id', `0:${S}:${P}:01`, [TRACE_INVALID]],
    ['an all-zero 32-character trace id', `${'0'.repeat(32)}:${S}:${P}:01`, [TRACE_INVALID]],
    ['a 17-character span id', `${T32}:0${S}:${P}:01`, [SPAN_INVALID]],
    ['a zero span id', `${T32}:0000:${P}:01`, [SPAN_INVALID]],
    ['three-digit flags', `${T32}:${S}:${P}:001`, [FLAGS_INVALID]],
    // Kong checks the parent (warning only) before the span and the flags.
    ['a bad parent and a bad span', `${T32}:0:abc:01`, [PARENT_INVALID, SPAN_INVALID]],
    ['a bad parent and bad flags', `${T32}:${S}:abc:100`, [PARENT_INVALID, FLAGS_INVALID]],
    ['a bad trace id before a bad parent', `0:${S}:abc:01`, [TRACE_INVALID]],
  ])('rejects %s with its warning(s)', (_name, value, warnings) => {
    expect(extract({ 'uber-trace-id': value })).toEqual({ ctx: undefined, warnings });
  });

  test.each([
    ['15 characters', P.slice(1), '0' + P.slice(1)],
    ['3 characters', 'abc', '0abc'],
    ['20 characters (engine keeps the low 8 bytes)', '0123456789abcdef0123', '0123456789abcdef0123'],
  ])('a parent of %s warns but is still used', (_name, parent, parentId) => {
    const { ctx, warnings } = extract({ 'uber-trace-id': `${T32}:${S}:${parent}:01` });
    expect(ctx).toEqual({ traceId: T32, spanId: S, parentId, reuseSpanId: true, shouldSample: true });
    expect(warnings).toEqual([PARENT_INVALID]);
  });

  test('a zero parent of any length is not warned about', () => {
    const { ctx, warnings } = extract({ 'uber-trace-id': `${T32}:${S}:00000:01` });
    expect(ctx?.parentId).toBe('000000');
    expect(warnings).toEqual([]);
  });

  describe('baggage (uberctx-)', () => {
    test('every uberctx-<key> header, URL-unescaped', () => {
      const { ctx, warnings } = extract({
        'uber-trace-id': `${T32}:${S}:${P}:01`,
        'uberctx-plain': 'value',
        'uberctx-escaped': 'a%20b%2Fc%3D%25',
        'uberctx-utf8': 'caf%C3%A9',
        'uberctx-': 'empty key',
        'xuberctx-no': 'not baggage',
        uberctx_no: 'not baggage',
        other: 'x',
      });
      expect(ctx?.baggage).toEqual({ plain: 'value', escaped: 'a b/c=%', utf8: 'café', '': 'empty key' });
      expect(warnings).toEqual([]);
    });

    test('+ is a space and %2B a plus, as nginx unescape_uri does', () => {
      const { ctx } = extract({ 'uber-trace-id': `${T32}:${S}:${P}:01`, 'uberctx-k': 'a+b%2Bc' });
      expect(ctx?.baggage).toEqual({ k: 'a b+c' });
    });

    test('malformed escapes are kept as they are', () => {
      const { ctx } = extract({ 'uber-trace-id': `${T32}:${S}:${P}:01`, 'uberctx-k': 'try %search%%20%again%' });
      expect(ctx?.baggage).toEqual({ k: 'try %search% %again%' });
    });

    test('a repeated baggage header counts by its first value', () => {
      const { ctx } = extract({ 'uber-trace-id': `${T32}:${S}:${P}:01`, 'uberctx-k': ['one', 'two'] });
      expect(ctx?.baggage).toEqual({ k: 'one' });
    });

    test('a key named __proto__ is an ordinary key', () => {
      const { ctx } = extract({ 'uber-trace-id': `${T32}:${S}:${P}:01`, ['uberctx-__proto__']: 'x' });
      expect(Object.keys(ctx?.baggage ?? {})).toEqual(['__proto__']);
      expect(ctx?.baggage?.['__proto__']).toBe('x');
    });

    test('baggage alone does not make a context when uber-trace-id is invalid', () => {
      expect(extract({ 'uber-trace-id': 'bad', 'uberctx-k': 'v' })).toEqual({
        ctx: undefined,
        warnings: [HEADER_INVALID],
      });
    });
  });
});

describe('jaeger injector', () => {
  test('shape: 16 then 8 bytes, needs trace and span, log key jaeger', () => {
    expect(jaegerInjector.sizes).toEqual([16, 8]);
    expect(jaegerInjector.requires).toEqual(['traceId', 'spanId']);
    expect(jaegerInjector.logKey).toBe('jaeger');
  });

  test.each([
    ['128-bit, sampled, parent', { traceId: T32, spanId: S, parentId: P, shouldSample: true }, `${T32}:${S}:${P}:01`],
    ['64-bit trace id', { traceId: T16, spanId: S, parentId: P, shouldSample: true }, `${T16}:${S}:${P}:01`],
    ['no parent → 0', { traceId: T32, spanId: S, shouldSample: true }, `${T32}:${S}:0:01`],
    ['not sampled', { traceId: T32, spanId: S, parentId: P, shouldSample: false }, `${T32}:${S}:${P}:00`],
    ['no decision', { traceId: T32, spanId: S, parentId: P }, `${T32}:${S}:${P}:00`],
    ['debug flags are not a jaeger concept', { traceId: T32, spanId: S, flags: '1' }, `${T32}:${S}:0:00`],
  ])('%s', (_name, ctx: InjectContext, value) => {
    const { headers, logId } = inject(ctx);
    expect(headers).toEqual({ 'uber-trace-id': value });
    expect(logId).toBe(ctx.traceId);
  });

  test('baggage values are escaped like nginx escape_uri (component)', () => {
    const { headers } = inject({
      traceId: T32,
      spanId: S,
      shouldSample: true,
      baggage: { plain: 'abcXYZ019-._~', special: "a b/c!'()*+,;=%", utf8: 'café', empty: '' },
    });
    expect(headers).toEqual({
      'uber-trace-id': `${T32}:${S}:0:01`,
      'uberctx-plain': 'abcXYZ019-._~',
      'uberctx-special': 'a%20b%2Fc%21%27%28%29%2A%2B%2C%3B%3D%25',
      'uberctx-utf8': 'caf%C3%A9',
      'uberctx-empty': '',
    });
  });

  test('baggage keys are lowercased; a key that is not an HTTP token is not written', () => {
    const { headers } = inject({ traceId: T32, spanId: S, baggage: { UserId: '1', 'bad key': '2', 'a:b': '3' } });
    expect(headers).toEqual({ 'uber-trace-id': `${T32}:${S}:0:00`, 'uberctx-userid': '1' });
  });

  test('baggage round trip: what is injected is extracted unchanged', () => {
    const baggage = { k1: "x y+z%20/é!'()*~", k2: '%%', k3: '' };
    const { headers } = inject({ traceId: T32, spanId: S, parentId: P, shouldSample: true, baggage });
    const { ctx } = extract(headers);
    expect(ctx).toEqual({ traceId: T32, spanId: S, parentId: P, reuseSpanId: true, shouldSample: true, baggage });
  });
});
