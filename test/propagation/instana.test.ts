import type { InjectContext, RequestHeaders, TraceContext } from '../../src/propagation/context';
import { instanaExtractor, instanaInjector } from '../../src/propagation/instana';
import { extractLines, injectWith, normalise } from '../support/format-harness';

// Kong's texts, verbatim.
const WARN_T = 'x-instana-t header invalid; ignoring.';
const WARN_S = 'x-instana-s header invalid; ignoring.';

const TRACE128 = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE64 = 'a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function extract(headers: RequestHeaders): { ctx: TraceContext | undefined; lines: string[] } {
  return extractLines(instanaExtractor, headers);
}

function inject(
  ctx: InjectContext,
  initial?: Record<string, string>,
): { headers: Record<string, string>; logId: string } {
  return injectWith(instanaInjector, ctx, initial);
}

describe('instana extractor', () => {
  test('triggers on the three x-instana headers', () => {
    expect(instanaExtractor.triggers).toEqual(['x-instana-t', 'x-instana-s', 'x-instana-l']);
  });

  test('valid 128-bit trace id, span id, level 1', () => {
    const { ctx, lines } = extract({ 'x-instana-t': TRACE128, 'x-instana-s': SPAN, 'x-instana-l': '1' });
    expect(lines).toEqual([]);
    expect(ctx).toEqual({ traceId: TRACE128, spanId: SPAN, shouldSample: true });
    expect(normalise(ctx!).traceIdOriginalSize).toBe(16);
  });

  test('valid 64-bit trace id (original size 8, padded by the engine)', () => {
    const { ctx, lines } = extract({ 'x-instana-t': TRACE64, 'x-instana-s': SPAN, 'x-instana-l': '1' });
    expect(lines).toEqual([]);
    expect(ctx).toEqual({ traceId: TRACE64, spanId: SPAN, shouldSample: true });
    expect(normalise(ctx!)).toEqual({
      traceId: '0000000000000000' + TRACE64,
      spanId: SPAN,
      shouldSample: true,
      traceIdOriginalSize: 8,
    });
  });

  test('uppercase hex is accepted and lowercased', () => {
    expect(extract({ 'x-instana-t': TRACE64.toUpperCase(), 'x-instana-s': SPAN.toUpperCase() }).ctx).toEqual({
      traceId: TRACE64,
      spanId: SPAN,
      shouldSample: false,
    });
  });

  test.each([
    ['1', true],
    ['1,correlationType=web;correlationId=1234567890abcdef', true],
    ['10', true],
    ['0', false],
    ['0,correlationType=web', false],
    ['', false],
    [' 1', false],
    ['true', false],
    ['2', false],
  ])('x-instana-l %j → sampled %s (first character 1)', (level, expected) => {
    expect(extract({ 'x-instana-t': TRACE64, 'x-instana-s': SPAN, 'x-instana-l': level })).toEqual({
      ctx: { traceId: TRACE64, spanId: SPAN, shouldSample: expected },
      lines: [],
    });
  });

  test('an absent x-instana-l is a "not sampled" decision, not "no decision"', () => {
    expect(extract({ 'x-instana-t': TRACE64, 'x-instana-s': SPAN })).toEqual({
      ctx: { traceId: TRACE64, spanId: SPAN, shouldSample: false },
      lines: [],
    });
  });

  test('only the leading hex run counts; a 16/32-long run is valid whatever follows', () => {
    expect(extract({ 'x-instana-t': `${TRACE64}-junk`, 'x-instana-s': `${SPAN};x` })).toEqual({
      ctx: { traceId: TRACE64, spanId: SPAN, shouldSample: false },
      lines: [],
    });
  });

  test('Kong example: t=abc warns, parsing continues, odd length gets a leading 0 (original size 2)', () => {
    const { ctx, lines } = extract({ 'x-instana-t': 'abc', 'x-instana-s': SPAN, 'x-instana-l': '1' });
    expect(lines).toEqual([`warn ${WARN_T}`]);
    expect(ctx).toEqual({ traceId: '0abc', spanId: SPAN, shouldSample: true });
    expect(normalise(ctx!)).toEqual({
      traceId: '0'.repeat(28) + '0abc',
      spanId: SPAN,
      shouldSample: true,
      traceIdOriginalSize: 2,
    });
  });

  test.each([
    ['15 hex', 'a3ce929d0e0e473', '0a3ce929d0e0e473'],
    ['17 hex', 'a3ce929d0e0e47361', '0a3ce929d0e0e47361'],
    ['20 hex', 'a3ce929d0e0e47361234', 'a3ce929d0e0e47361234'],
    ['33 hex', TRACE128 + 'f', '0' + TRACE128 + 'f'],
    ['2 hex then junk', 'abxyz', 'ab'],
    ['1 hex then junk', '0x', '00'],
  ])('x-instana-t with a %s run warns but is still used', (_name, t, expected) => {
    expect(extract({ 'x-instana-t': t, 'x-instana-s': SPAN })).toEqual({
      ctx: { traceId: expected, spanId: SPAN, shouldSample: false },
      lines: [`warn ${WARN_T}`],
    });
  });

  test('a 33-hex trace id keeps its low 16 bytes after the engine resize', () => {
    expect(normalise(extract({ 'x-instana-t': TRACE128 + 'f', 'x-instana-s': SPAN }).ctx!)).toEqual({
      traceId: TRACE128.slice(1) + 'f',
      spanId: SPAN,
      shouldSample: false,
      traceIdOriginalSize: 17,
    });
  });

  test.each([[''], ['zzz'], ['-a3ce929d0e0e4736'], [' a3ce929d0e0e4736']])(
    'x-instana-t %j without a leading hex run warns; the context has no trace id but still the span and decision',
    (t) => {
      expect(extract({ 'x-instana-t': t, 'x-instana-s': SPAN, 'x-instana-l': '1' })).toEqual({
        ctx: { spanId: SPAN, shouldSample: true },
        lines: [`warn ${WARN_T}`],
      });
    },
  );

  test.each([[''], ['xyz'], [' 00f067aa0ba902b7']])(
    'x-instana-s %j without a leading hex run warns; the trace id stays',
    (s) => {
      expect(extract({ 'x-instana-t': TRACE128, 'x-instana-s': s, 'x-instana-l': '1' })).toEqual({
        ctx: { traceId: TRACE128, shouldSample: true },
        lines: [`warn ${WARN_S}`],
      });
    },
  );

  test('short and odd span runs are used (padded by from_hex and the engine), without a warning', () => {
    const { ctx, lines } = extract({ 'x-instana-t': TRACE64, 'x-instana-s': 'abc' });
    expect(lines).toEqual([]);
    expect(ctx).toEqual({ traceId: TRACE64, spanId: '0abc', shouldSample: false });
    expect(normalise(ctx!).spanId).toBe('0000000000000abc');
  });

  test('both ids invalid: two warnings, and a context with only "not sampled" (which still wins)', () => {
    expect(extract({ 'x-instana-t': 'zz', 'x-instana-s': 'zz' })).toEqual({
      ctx: { shouldSample: false },
      lines: [`warn ${WARN_T}`, `warn ${WARN_S}`],
    });
  });

  test('Kong example: x-instana-t alone gives nothing', () => {
    expect(extract({ 'x-instana-t': TRACE128, 'x-instana-l': '1' })).toEqual({ ctx: undefined, lines: [] });
  });

  test('an invalid x-instana-t alone warns, then gives nothing', () => {
    expect(extract({ 'x-instana-t': 'zz' })).toEqual({ ctx: undefined, lines: [`warn ${WARN_T}`] });
  });

  test('x-instana-s or x-instana-l without x-instana-t gives nothing, silently', () => {
    expect(extract({ 'x-instana-s': SPAN, 'x-instana-l': '1' })).toEqual({ ctx: undefined, lines: [] });
    expect(extract({ 'x-instana-l': '1' })).toEqual({ ctx: undefined, lines: [] });
  });

  test('repeated headers (arrays) count as their first value', () => {
    expect(extract({ 'x-instana-t': [TRACE64, 'zz'], 'x-instana-s': [SPAN, 'zz'], 'x-instana-l': ['1', '0'] })).toEqual(
      {
        ctx: { traceId: TRACE64, spanId: SPAN, shouldSample: true },
        lines: [],
      },
    );
    expect(extract({ 'x-instana-t': ['zz', TRACE64], 'x-instana-s': SPAN })).toEqual({
      ctx: { spanId: SPAN, shouldSample: false },
      lines: [`warn ${WARN_T}`],
    });
    expect(extract({ 'x-instana-t': [], 'x-instana-s': SPAN })).toEqual({ ctx: undefined, lines: [] });
    expect(extract({ 'x-instana-t': TRACE64, 'x-instana-s': SPAN, 'x-instana-l': [] }).ctx).toEqual({
      traceId: TRACE64,
      spanId: SPAN,
      shouldSample: false,
    });
  });
});

describe('instana injector', () => {
  test('shape: 16- or 8-byte trace ids (16 by default), nothing required, log key instana', () => {
    expect(instanaInjector.sizes).toEqual([16, 8]);
    expect(instanaInjector.requires).toEqual([]);
    expect(instanaInjector.logKey).toBe('instana');
  });

  test('§4.5 row: x-instana-t, x-instana-s, x-instana-l: 1 when sampled; log id is the trace hex', () => {
    const { headers, logId } = inject({
      traceId: TRACE128,
      spanId: SPAN,
      parentId: 'a2fb4a1d1a96d312',
      shouldSample: true,
    });
    expect(headers).toEqual({ 'x-instana-t': TRACE128, 'x-instana-s': SPAN, 'x-instana-l': '1' });
    expect(logId).toBe(TRACE128);
  });

  test('a 64-bit trace id (original size 8) is sent as 16 hex', () => {
    const { headers, logId } = inject({ traceId: TRACE64, spanId: SPAN, shouldSample: true });
    expect(headers).toEqual({ 'x-instana-t': TRACE64, 'x-instana-s': SPAN, 'x-instana-l': '1' });
    expect(logId).toBe(TRACE64);
  });

  test('no sampling decision (undefined) omits x-instana-l, as Kong does', () => {
    expect(inject({ traceId: TRACE128, spanId: SPAN }).headers).toEqual({
      'x-instana-t': TRACE128,
      'x-instana-s': SPAN,
    });
  });

  test('deliberate difference 2: shouldSample false sends x-instana-l: 0', () => {
    expect(inject({ traceId: TRACE128, spanId: SPAN, shouldSample: false }).headers).toEqual({
      'x-instana-t': TRACE128,
      'x-instana-s': SPAN,
      'x-instana-l': '0',
    });
  });

  test('each id only if present; without a trace id the log id is ""', () => {
    expect(inject({ spanId: SPAN, shouldSample: true })).toEqual({
      headers: { 'x-instana-s': SPAN, 'x-instana-l': '1' },
      logId: '',
    });
    expect(inject({ traceId: TRACE64 })).toEqual({ headers: { 'x-instana-t': TRACE64 }, logId: TRACE64 });
    expect(inject({})).toEqual({ headers: {}, logId: '' });
  });

  test('replaces existing instana headers and leaves others alone', () => {
    const { headers } = inject(
      { traceId: TRACE128, spanId: SPAN, shouldSample: true },
      { 'x-instana-t': 'old', 'x-instana-s': 'old', 'x-instana-l': '0', 'x-other': 'kept' },
    );
    expect(headers).toEqual({ 'x-instana-t': TRACE128, 'x-instana-s': SPAN, 'x-instana-l': '1', 'x-other': 'kept' });
  });

  test('round trip at both sizes: what is injected extracts to the same ids and decision', () => {
    for (const traceId of [TRACE128, TRACE64]) {
      for (const shouldSample of [true, false]) {
        const { headers } = inject({ traceId, spanId: SPAN, shouldSample });
        expect(extract(headers)).toEqual({ ctx: { traceId, spanId: SPAN, shouldSample }, lines: [] });
      }
    }
  });
});
