import type { InjectContext, RequestHeaders } from '../../src/propagation/context';
import { w3cExtractor, w3cInjector } from '../../src/propagation/w3c';
import { extractWarnings, injectWith } from '../support/format-harness';

const extract = (headers: RequestHeaders) => extractWarnings(w3cExtractor, headers);
const inject = (ctx: InjectContext) => injectWith(w3cInjector, ctx);

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('w3c extractor', () => {
  test('trigger is traceparent only (tracestate belongs to b3)', () => {
    expect(w3cExtractor.triggers).toEqual(['traceparent']);
  });

  test('valid sampled traceparent', () => {
    const { ctx, warnings } = extract({ traceparent: `00-${TRACE}-${SPAN}-01` });
    expect(ctx).toEqual({ traceId: TRACE, spanId: SPAN, shouldSample: true, w3cFlags: 1 });
    expect(ctx?.parentId).toBeUndefined();
    expect(ctx?.reuseSpanId).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test.each([
    ['00', false, 0],
    ['01', true, 1],
    ['02', false, 2],
    ['03', true, 3],
    ['ff', true, 255],
    ['fe', false, 254],
  ])('flags %s → sampled %s, w3cFlags %d', (flags, sampled, number) => {
    const { ctx, warnings } = extract({ traceparent: `00-${TRACE}-${SPAN}-${flags}` });
    expect(ctx).toEqual({ traceId: TRACE, spanId: SPAN, shouldSample: sampled, w3cFlags: number });
    expect(warnings).toEqual([]);
  });

  test('difference 8: tracestate is read with traceparent, validated and normalised (Kong does not read it)', () => {
    const { ctx } = extract({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'b3=1, congo=t61 ,,rojo=00f0' });
    expect(ctx).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      shouldSample: true,
      w3cFlags: 1,
      traceState: 'b3=1,congo=t61,rojo=00f0',
    });
  });

  test('difference 8: an invalid tracestate is dropped, the traceparent is kept, no warning', () => {
    const { ctx, warnings } = extract({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61,FOO=1' });
    expect(ctx).toEqual({ traceId: TRACE, spanId: SPAN, shouldSample: true, w3cFlags: 1 });
    expect(warnings).toEqual([]);
  });

  test('difference 8: several tracestate lines (an array) are one list, joined with a comma', () => {
    const { ctx } = extract({ traceparent: `00-${TRACE}-${SPAN}-00`, tracestate: ['foo=1,bar=2', '', 'baz=3'] });
    expect(ctx?.traceState).toBe('foo=1,bar=2,baz=3');
  });

  test('difference 8: no tracestate without a valid traceparent', () => {
    expect(extract({ tracestate: 'foo=1' }).ctx).toBeUndefined();
    expect(extract({ traceparent: `00-${TRACE}-${'0'.repeat(16)}-01`, tracestate: 'foo=1' }).ctx).toBeUndefined();
  });

  test.each([
    ['version cc, four fields', `cc-${TRACE}-${SPAN}-01`, 1],
    ['version 01 with a fifth field', `01-${TRACE}-${SPAN}-03-what-the-future-will-be-like`, 3],
    ['version fe, a trailing dash', `fe-${TRACE}-${SPAN}-00-`, 0],
    ['version 01, non-hex future fields', `01-${TRACE}-${SPAN}-01-x.y_z`, 1],
  ])('difference 8: a future version is read by its version-00 fields (Kong refuses it): %s', (_name, value, flags) => {
    const { ctx, warnings } = extract({ traceparent: value });
    expect(ctx).toEqual({ traceId: TRACE, spanId: SPAN, shouldSample: (flags & 1) === 1, w3cFlags: flags });
    expect(warnings).toEqual([]);
  });

  test.each([
    ['a space', ` 00-${TRACE}-${SPAN}-01 `],
    ['tabs and spaces', `\t 00-${TRACE}-${SPAN}-01 \t`],
  ])('difference 8: OWS around the value is allowed (W3C; Kong refuses it): %s', (_name, value) => {
    const { ctx, warnings } = extract({ traceparent: value });
    expect(ctx).toEqual({ traceId: TRACE, spanId: SPAN, shouldSample: true, w3cFlags: 1 });
    expect(warnings).toEqual([]);
  });

  test.each([
    ['a repeated header (array)', [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-00`]],
    ['an empty value', ''],
    ['an absent header', undefined],
  ])('%s is ignored silently (Kong requires a non-empty string)', (_name, value) => {
    const { ctx, warnings } = extract({ traceparent: value });
    expect(ctx).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  const INVALID_HEADER = 'invalid W3C traceparent header; ignoring.';
  const INVALID_VERSION = 'invalid W3C Trace Context version; ignoring.';
  const INVALID_TRACE = 'invalid W3C trace context trace ID; ignoring.';
  const INVALID_PARENT = 'invalid W3C trace context parent ID; ignoring.';
  const INVALID_FLAGS = 'invalid W3C trace context flags; ignoring.';

  test.each([
    ['garbage', 'not a traceparent', INVALID_HEADER],
    ['three fields', `00-${TRACE}-${SPAN}`, INVALID_HEADER],
    ['a fifth field', `00-${TRACE}-${SPAN}-01-extra`, INVALID_HEADER],
    ['a fifth hex field', `00-${TRACE}-${SPAN}-01-00`, INVALID_HEADER],
    ['a non-hex character', `00-${TRACE.slice(0, 31)}g-${SPAN}-01`, INVALID_HEADER],
    ['an empty group', `00--${SPAN}-01`, INVALID_HEADER],
    ['a trailing newline', `00-${TRACE}-${SPAN}-01\n`, INVALID_HEADER],
    ['underscores', `00_${TRACE}_${SPAN}_01`, INVALID_HEADER],
    ['version ff', `ff-${TRACE}-${SPAN}-01`, INVALID_VERSION],
    ['version ff with a fifth field', `ff-${TRACE}-${SPAN}-01-future`, INVALID_HEADER],
    ['a one-digit version', `0-${TRACE}-${SPAN}-01`, INVALID_VERSION],
    ['a three-digit version', `000-${TRACE}-${SPAN}-01`, INVALID_VERSION],
    ['an upper-case version (difference 8)', `CC-${TRACE}-${SPAN}-01`, INVALID_VERSION],
    ['a bad version before a bad trace id', `ff-${'0'.repeat(32)}-${SPAN}-01`, INVALID_VERSION],
    ['version 00 with a fifth field (W3C)', `00-${TRACE}-${SPAN}-01-future`, INVALID_HEADER],
    ['a future version followed by a dot (difference 8)', `cc-${TRACE}-${SPAN}-01.future`, INVALID_HEADER],
    ['a future version with a 33-character trace id', `cc-0${TRACE}-${SPAN}-01`, INVALID_HEADER],
    ['a future version with a bad trace id', `cc-${'0'.repeat(32)}-${SPAN}-01-x`, INVALID_TRACE],
    ['a future version with a one-digit flags field', `cc-${TRACE}-${SPAN}-1`, INVALID_FLAGS],
    ['an upper-case trace id (difference 8)', `00-${TRACE.toUpperCase()}-${SPAN}-01`, INVALID_TRACE],
    ['an upper-case parent id (difference 8)', `00-${TRACE}-${SPAN.toUpperCase()}-01`, INVALID_PARENT],
    ['upper-case flags (difference 8)', `00-${TRACE}-${SPAN}-0A`, INVALID_FLAGS],
    ['a 31-character trace id', `00-${TRACE.slice(1)}-${SPAN}-01`, INVALID_TRACE],
    ['a 33-character trace id', `00-0${TRACE}-${SPAN}-01`, INVALID_TRACE],
    ['a 64-bit (16-character) trace id', `00-${TRACE.slice(16)}-${SPAN}-01`, INVALID_TRACE],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`, INVALID_TRACE],
    ['a bad trace id before a bad parent', `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`, INVALID_TRACE],
    ['a 15-character parent id', `00-${TRACE}-${SPAN.slice(1)}-01`, INVALID_PARENT],
    ['a 17-character parent id', `00-${TRACE}-0${SPAN}-01`, INVALID_PARENT],
    ['a 32-character parent id', `00-${TRACE}-${TRACE}-01`, INVALID_PARENT],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`, INVALID_PARENT],
    ['a one-digit flags field', `00-${TRACE}-${SPAN}-1`, INVALID_FLAGS],
    ['a three-digit flags field', `00-${TRACE}-${SPAN}-001`, INVALID_FLAGS],
  ])('rejects %s with its warning', (_name, value, warning) => {
    const { ctx, warnings } = extract({ traceparent: value });
    expect(ctx).toBeUndefined();
    expect(warnings).toEqual([warning]);
  });
});

describe('w3c injector', () => {
  test('shape: 16-byte trace ids only, needs trace and span, log key w3c', () => {
    expect(w3cInjector.sizes).toEqual([16]);
    expect(w3cInjector.requires).toEqual(['traceId', 'spanId']);
    expect(w3cInjector.logKey).toBe('w3c');
  });

  test.each([
    [true, '01'],
    [false, '00'],
    [undefined, '00'],
  ])('shouldSample %s → flags %s', (shouldSample, flags) => {
    const { headers, logId } = inject({ traceId: TRACE, spanId: SPAN, parentId: 'a'.repeat(16), shouldSample });
    expect(headers).toEqual({ traceparent: `00-${TRACE}-${SPAN}-${flags}` });
    expect(logId).toBe(TRACE);
  });

  test('a padded 64-bit trace id (as the engine resizes it) is written at 32 characters', () => {
    const padded = '0'.repeat(16) + 'a3ce929d0e0e4736';
    const { headers, logId } = inject({ traceId: padded, spanId: SPAN, shouldSample: true });
    expect(headers).toEqual({ traceparent: `00-${padded}-${SPAN}-01` });
    expect(logId).toBe(padded);
  });

  test('the b3 debug flag, parent and baggage are not written', () => {
    const { headers } = inject({ traceId: TRACE, spanId: SPAN, parentId: SPAN, flags: '1', baggage: { k: 'v' } });
    expect(headers).toEqual({ traceparent: `00-${TRACE}-${SPAN}-00` });
  });

  test.each([
    [0x02, true, '03'],
    [0x02, false, '02'],
    [0x03, false, '02'],
    [0xff, true, '03'],
    [0xfc, false, '00'],
    [0x01, false, '00'],
  ])(
    'difference 8: w3cFlags %d, shouldSample %s → flags %s (random bit kept, sampled ours, undefined bits zero)',
    (w3cFlags, shouldSample, flags) => {
      const { headers } = inject({ traceId: TRACE, spanId: SPAN, shouldSample, w3cFlags });
      expect(headers).toEqual({ traceparent: `00-${TRACE}-${SPAN}-${flags}` });
    },
  );

  test('difference 8: tracestate is written with the traceparent, an other copy is removed', () => {
    expect(inject({ traceId: TRACE, spanId: SPAN, shouldSample: true, traceState: 'foo=1,bar=2' }).headers).toEqual({
      traceparent: `00-${TRACE}-${SPAN}-01`,
      tracestate: 'foo=1,bar=2',
    });
    const stale = { tracestate: 'foo=1,FOO=2', keep: 'x' };
    expect(injectWith(w3cInjector, { traceId: TRACE, spanId: SPAN, shouldSample: true }, stale).headers).toEqual({
      keep: 'x',
      traceparent: `00-${TRACE}-${SPAN}-01`,
    });
  });

  test('difference 8: a future version goes out as version 00 with the incoming random flag', () => {
    const { ctx } = extract({ traceparent: `cc-${TRACE}-${SPAN}-03-future`, tracestate: 'foo=1' });
    const { headers } = inject({ ...ctx, spanId: 'a'.repeat(16), shouldSample: ctx?.shouldSample });
    expect(headers).toEqual({ traceparent: `00-${TRACE}-${'a'.repeat(16)}-03`, tracestate: 'foo=1' });
  });

  test('extract → inject round trip keeps ids and the sampled bit', () => {
    const { ctx } = extract({ traceparent: `00-${TRACE}-${SPAN}-01` });
    const { headers } = inject({ traceId: ctx?.traceId, spanId: ctx?.spanId, shouldSample: ctx?.shouldSample });
    expect(headers.traceparent).toBe(`00-${TRACE}-${SPAN}-01`);
  });
});
