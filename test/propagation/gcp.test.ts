import type { InjectContext, RequestHeaders, TraceContext } from '../../src/propagation/context';
import { gcpExtractor, gcpInjector } from '../../src/propagation/gcp';
import { resizeHex } from '../../src/propagation/hex';
import { extractLines, injectWith, normalise } from '../support/format-harness';

// Kong's text, verbatim.
const WARN = 'invalid GCP header; ignoring.';

const TRACE = '105445aa7843bc8bf206b12000100000';

function extractHeaders(headers: RequestHeaders): { ctx: TraceContext | undefined; lines: string[] } {
  return extractLines(gcpExtractor, headers);
}

function extract(value: string | readonly string[]): { ctx: TraceContext | undefined; lines: string[] } {
  return extractHeaders({ 'x-cloud-trace-context': value });
}

function inject(
  ctx: InjectContext,
  initial?: Record<string, string>,
): { headers: Record<string, string>; logId: string } {
  return injectWith(gcpInjector, ctx, initial);
}

describe('gcp extractor', () => {
  test('triggers on x-cloud-trace-context', () => {
    expect(gcpExtractor.triggers).toEqual(['x-cloud-trace-context']);
  });

  test('valid header: 32 hex trace id, decimal span id to minimal bytes, o=1 sampled', () => {
    const { ctx, lines } = extract(`${TRACE}/1;o=1`);
    expect(lines).toEqual([]);
    expect(ctx).toEqual({ traceId: TRACE, spanId: '01', shouldSample: true });
    expect(normalise(ctx!)).toEqual({
      traceId: TRACE,
      spanId: '0000000000000001',
      shouldSample: true,
      traceIdOriginalSize: 16,
    });
  });

  test('a 64-bit span id in decimal', () => {
    expect(extract(`${TRACE}/13235353014750950193;o=1`).ctx).toEqual({
      traceId: TRACE,
      spanId: 'b7ad6b7169203331',
      shouldSample: true,
    });
    expect(extract(`${TRACE}/18446744073709551615`).ctx).toEqual({
      traceId: TRACE,
      spanId: 'ffffffffffffffff',
      shouldSample: false,
    });
  });

  test('leading zeros do not widen the span id', () => {
    expect(extract(`${TRACE}/00000000000000000255;o=1`).ctx).toEqual({
      traceId: TRACE,
      spanId: 'ff',
      shouldSample: true,
    });
  });

  test('a 20-digit span id above 2^64-1 keeps its bytes; the engine keeps the low 64 bits', () => {
    const { ctx, lines } = extract(`${TRACE}/99999999999999999999;o=1`);
    expect(lines).toEqual([]);
    expect(ctx).toEqual({ traceId: TRACE, spanId: '056bc75e2d630fffff', shouldSample: true });
    expect(normalise(ctx!).spanId).toBe('6bc75e2d630fffff');
    // 2^64 truncates to zero, as in Kong.
    expect(normalise(extract(`${TRACE}/18446744073709551616`).ctx!).spanId).toBe('0000000000000000');
  });

  test('a zero span id becomes nil (OpenSSL bignum zero has no bytes); the trace id stays', () => {
    expect(extract(`${TRACE}/0;o=1`)).toEqual({ ctx: { traceId: TRACE, shouldSample: true }, lines: [] });
    expect(extract(`${TRACE}/000`)).toEqual({ ctx: { traceId: TRACE, shouldSample: false }, lines: [] });
  });

  test('an all-zero trace id is accepted, as in Kong', () => {
    expect(extract(`${'0'.repeat(32)}/5;o=1`).ctx).toEqual({
      traceId: '0'.repeat(32),
      spanId: '05',
      shouldSample: true,
    });
  });

  test.each([
    ['', false],
    [';o=0', false],
    [';o=1', true],
    [';o=2', false],
    [';o=3', false],
    [';o=9', false],
  ])('option %j → sampled %s (only o=1 samples)', (option, expected) => {
    expect(extract(`${TRACE}/7${option}`)).toEqual({
      ctx: { traceId: TRACE, spanId: '07', shouldSample: expected },
      lines: [],
    });
  });

  test('a trailing newline is accepted, like PCRE $ in Kong; two are not', () => {
    expect(extract(`${TRACE}/7;o=1\n`)).toEqual({
      ctx: { traceId: TRACE, spanId: '07', shouldSample: true },
      lines: [],
    });
    expect(extract(`${TRACE}/7\n`)).toEqual({ ctx: { traceId: TRACE, spanId: '07', shouldSample: false }, lines: [] });
    expect(extract(`${TRACE}/7;o=1\n\n`)).toEqual({ ctx: undefined, lines: [`warn ${WARN}`] });
  });

  test.each([
    ['uppercase hex trace id', '105445AA7843BC8BF206B12000100000/1;o=1'],
    ['mixed-case hex trace id', '105445aA7843bc8bf206b12000100000/1;o=1'],
    ['31 hex trace id', '105445aa7843bc8bf206b1200010000/1;o=1'],
    ['33 hex trace id', '105445aa7843bc8bf206b120001000000/1;o=1'],
    ['16 hex trace id', 'f206b12000100000/1;o=1'],
    ['non-hex trace id', '105445aa7843bc8bf206b1200010000g/1;o=1'],
    ['no span id', `${TRACE};o=1`],
    ['empty span id', `${TRACE}/;o=1`],
    ['trace id alone', TRACE],
    ['21-digit span id', `${TRACE}/100000000000000000000;o=1`],
    ['hex span id', `${TRACE}/ab;o=1`],
    ['negative span id', `${TRACE}/-1;o=1`],
    ['empty option', `${TRACE}/1;o=`],
    ['two-digit option', `${TRACE}/1;o=10`],
    ['letter option', `${TRACE}/1;o=a`],
    ['uppercase O', `${TRACE}/1;O=1`],
    ['junk after the option', `${TRACE}/1;o=1junk`],
    ['a second option', `${TRACE}/1;o=1;o=1`],
    ['space before ;', `${TRACE}/1 ;o=1`],
    ['leading space', ` ${TRACE}/1;o=1`],
    ['trailing space', `${TRACE}/1;o=1 `],
    ['dashes in the trace id', '105445aa-7843-bc8b-f206-b12000100000/1;o=1'],
    ['empty value', ''],
  ])('invalid header (%s) warns and returns nothing', (_name, value) => {
    expect(extract(value)).toEqual({ ctx: undefined, lines: [`warn ${WARN}`] });
  });

  test('a repeated header (array) counts as its first value', () => {
    expect(extract([`${TRACE}/1;o=1`, 'junk'])).toEqual({
      ctx: { traceId: TRACE, spanId: '01', shouldSample: true },
      lines: [],
    });
    expect(extract(['junk', `${TRACE}/1;o=1`])).toEqual({ ctx: undefined, lines: [`warn ${WARN}`] });
    expect(extract([])).toEqual({ ctx: undefined, lines: [] });
  });

  test('no x-cloud-trace-context gives nothing', () => {
    expect(extractHeaders({ 'x-other': `${TRACE}/1;o=1` })).toEqual({ ctx: undefined, lines: [] });
  });
});

describe('gcp injector', () => {
  test('shape: 16-byte trace ids, requires trace and span, log key gcp', () => {
    expect(gcpInjector.sizes).toEqual([16]);
    expect(gcpInjector.requires).toEqual(['traceId', 'spanId']);
    expect(gcpInjector.logKey).toBe('gcp');
  });

  test.each([
    [true, '1'],
    [false, '0'],
    [undefined, '0'],
  ])('§4.5 row: <trace32>/<decimal span>;o=<1 or 0> (shouldSample %s)', (shouldSample, flag) => {
    const { headers, logId } = inject({
      traceId: TRACE,
      spanId: 'b7ad6b7169203331',
      parentId: 'a2fb4a1d1a96d312',
      shouldSample,
    });
    expect(headers).toEqual({ 'x-cloud-trace-context': `${TRACE}/13235353014750950193;o=${flag}` });
    expect(logId).toBe(TRACE);
  });

  test('the decimal span id has no leading zeros', () => {
    expect(inject({ traceId: TRACE, spanId: '0000000000000001', shouldSample: true }).headers).toEqual({
      'x-cloud-trace-context': `${TRACE}/1;o=1`,
    });
    expect(inject({ traceId: TRACE, spanId: 'ffffffffffffffff' }).headers).toEqual({
      'x-cloud-trace-context': `${TRACE}/18446744073709551615;o=0`,
    });
    expect(inject({ traceId: TRACE, spanId: '0000000000000000' }).headers).toEqual({
      'x-cloud-trace-context': `${TRACE}/0;o=0`,
    });
  });

  test('a 64-bit trace id is sent zero-padded to 32 hex (the engine resizes to 16 bytes)', () => {
    const traceId = resizeHex('8448eb211c80319d', gcpInjector.sizes[0]);
    const { headers, logId } = inject({ traceId, spanId: '0000000000000003', shouldSample: true });
    expect(headers).toEqual({ 'x-cloud-trace-context': '00000000000000008448eb211c80319d/3;o=1' });
    expect(logId).toBe('00000000000000008448eb211c80319d');
  });

  test('replaces an existing header and leaves others alone', () => {
    const { headers } = inject(
      { traceId: TRACE, spanId: '0000000000000003', shouldSample: true },
      { 'x-cloud-trace-context': 'old', 'x-other': 'kept' },
    );
    expect(headers).toEqual({ 'x-cloud-trace-context': `${TRACE}/3;o=1`, 'x-other': 'kept' });
  });

  test('writes nothing if called without the required ids (the engine prevents this)', () => {
    expect(inject({ spanId: '0000000000000003' })).toEqual({ headers: {}, logId: '' });
    expect(inject({ traceId: TRACE })).toEqual({ headers: {}, logId: TRACE });
  });

  test('round trip: what is injected extracts to the same ids and decision', () => {
    for (const shouldSample of [true, false]) {
      const { headers } = inject({ traceId: TRACE, spanId: 'b7ad6b7169203331', shouldSample });
      const { ctx, lines } = extractHeaders(headers);
      expect(lines).toEqual([]);
      expect(normalise(ctx!)).toEqual({
        traceId: TRACE,
        spanId: 'b7ad6b7169203331',
        shouldSample,
        traceIdOriginalSize: 16,
      });
    }
  });
});
