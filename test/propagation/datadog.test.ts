import type { InjectContext, RequestHeaders, TraceContext } from '../../src/propagation/context';
import { datadogExtractor, datadogInjector } from '../../src/propagation/datadog';
import { resizeHex } from '../../src/propagation/hex';
import { extractLines, injectWith, normalise } from '../support/format-harness';

// Kong's texts, verbatim.
const WARN_TRACE = 'x-datadog-trace-id header invalid; ignoring.';
const WARN_PARENT = 'x-datadog-parent-id header invalid; ignoring.';
const WARN_PRIORITY = 'x-datadog-sampling-priority header invalid; ignoring.';

function extract(headers: RequestHeaders): { ctx: TraceContext | undefined; lines: string[] } {
  return extractLines(datadogExtractor, headers);
}

function inject(
  ctx: InjectContext,
  initial?: Record<string, string>,
): { headers: Record<string, string>; logId: string } {
  return injectWith(datadogInjector, ctx, initial);
}

describe('datadog extractor', () => {
  test('triggers on the three x-datadog headers', () => {
    expect(datadogExtractor.triggers).toEqual([
      'x-datadog-trace-id',
      'x-datadog-parent-id',
      'x-datadog-sampling-priority',
    ]);
  });

  test('valid 64-bit ids: decimal to minimal big-endian bytes, parent-id becomes span_id', () => {
    const { ctx, lines } = extract({
      'x-datadog-trace-id': '9532127138774266269',
      'x-datadog-parent-id': '6023947403358210776',
      'x-datadog-sampling-priority': '1',
    });
    expect(ctx).toEqual({ traceId: '8448eb211c80319d', spanId: '53995c3f42cd8ad8', shouldSample: true });
    expect(lines).toEqual([]);
    expect(normalise(ctx!)).toEqual({
      traceId: '00000000000000008448eb211c80319d',
      spanId: '53995c3f42cd8ad8',
      shouldSample: true,
      traceIdOriginalSize: 8,
    });
  });

  test('small ids are minimal bytes (original size below 8) and are padded by the engine', () => {
    const { ctx } = extract({ 'x-datadog-trace-id': '1234', 'x-datadog-parent-id': '5678' });
    expect(ctx).toEqual({ traceId: '04d2', spanId: '162e' });
    expect(normalise(ctx!)).toEqual({
      traceId: '000000000000000000000000000004d2',
      spanId: '000000000000162e',
      traceIdOriginalSize: 2,
    });
  });

  test('leading zeros do not widen the id', () => {
    expect(extract({ 'x-datadog-trace-id': '000000000001', 'x-datadog-parent-id': '0010' }).ctx).toEqual({
      traceId: '01',
      spanId: '0a',
    });
  });

  test('2^64-1 is 8 bytes of ff', () => {
    expect(
      extract({ 'x-datadog-trace-id': '18446744073709551615', 'x-datadog-parent-id': '18446744073709551615' }).ctx,
    ).toEqual({
      traceId: 'ffffffffffffffff',
      spanId: 'ffffffffffffffff',
    });
  });

  test('a 128-bit decimal trace id is accepted (original size 16)', () => {
    const { ctx, lines } = extract({
      'x-datadog-trace-id': '100985630638751179400743189419042799617',
      'x-datadog-parent-id': '3',
    });
    expect(lines).toEqual([]);
    expect(ctx).toEqual({ traceId: '4bf92000000000000000000000000001', spanId: '03' });
    expect(normalise(ctx!).traceIdOriginalSize).toBe(16);
    expect(extract({ 'x-datadog-trace-id': '340282366920938463463374607431768211455' }).ctx).toEqual({
      traceId: 'f'.repeat(32),
    });
  });

  test('ids wider than 128 bits keep all bytes; the engine keeps the low 16 / 8', () => {
    const { ctx } = extract({
      'x-datadog-trace-id': '340282366920938463463374607431768211456',
      'x-datadog-parent-id': '18446744073709551617',
    });
    expect(ctx).toEqual({ traceId: '01' + '0'.repeat(32), spanId: '010000000000000001' });
    expect(normalise(ctx!)).toEqual({ traceId: '0'.repeat(32), spanId: '0000000000000001', traceIdOriginalSize: 17 });
  });

  test.each([
    ['leading and trailing spaces', '  42  '],
    ['tabs', '\t42\t'],
    ['all of C isspace', ' \t\n\v\f\r42 \t\n\v\f\r'],
  ])('unsigned decimal surrounded by whitespace is accepted: %s', (_name, value) => {
    const { ctx, lines } = extract({ 'x-datadog-trace-id': value, 'x-datadog-parent-id': value });
    expect(ctx).toEqual({ traceId: '2a', spanId: '2a' });
    expect(lines).toEqual([]);
  });

  test.each([
    ['empty string', ''],
    ['whitespace only', '   '],
    ['hex letters', 'abc'],
    ['trailing junk', '123abc'],
    ['hex prefix', '0x10'],
    ['negative', '-1'],
    ['plus sign', '+1'],
    ['inner space', '1 2'],
    ['decimal point', '1.0'],
    ['exponent', '1e3'],
    ['non-ASCII whitespace (Lua %s is C isspace)', '\u00a042'],
    ['non-ASCII digits', '\uff11\uff12'],
  ])('invalid trace id (%s) warns, drops the trace id and the parent', (_name, value) => {
    const { ctx, lines } = extract({
      'x-datadog-trace-id': value,
      'x-datadog-parent-id': '5',
      'x-datadog-sampling-priority': '2',
    });
    expect(lines).toEqual([`warn ${WARN_TRACE}`]);
    expect(ctx).toEqual({ shouldSample: true });
  });

  test.each([
    ['empty string', ''],
    ['hex letters', 'ff'],
    ['negative', '-5'],
    ['trailing junk', '5;'],
  ])('invalid parent id (%s) warns and keeps the trace id', (_name, value) => {
    const { ctx, lines } = extract({ 'x-datadog-trace-id': '10', 'x-datadog-parent-id': value });
    expect(lines).toEqual([`warn ${WARN_PARENT}`]);
    expect(ctx).toEqual({ traceId: '0a' });
  });

  test('both ids invalid: two warnings, trace first; nothing left gives nothing', () => {
    const { ctx, lines } = extract({ 'x-datadog-trace-id': 'x', 'x-datadog-parent-id': 'y' });
    expect(lines).toEqual([`warn ${WARN_TRACE}`, `warn ${WARN_PARENT}`]);
    expect(ctx).toBeUndefined();
  });

  test('no trace id: the parent is dropped', () => {
    expect(extract({ 'x-datadog-parent-id': '5' })).toEqual({ ctx: undefined, lines: [] });
    expect(extract({ 'x-datadog-parent-id': '5', 'x-datadog-sampling-priority': '0' })).toEqual({
      ctx: { shouldSample: false },
      lines: [],
    });
  });

  test.each([
    ['1', true],
    ['2', true],
    ['0', false],
    ['-1', false],
  ])('sampling priority %s → %s', (priority, expected) => {
    expect(extract({ 'x-datadog-sampling-priority': priority }).ctx).toEqual({ shouldSample: expected });
    expect(extract({ 'x-datadog-trace-id': '7', 'x-datadog-sampling-priority': priority }).ctx).toEqual({
      traceId: '07',
      shouldSample: expected,
    });
  });

  test.each([['3'], ['-2'], [''], [' 1'], ['1 '], ['01'], ['true'], ['1.0'], ['+1']])(
    'invalid sampling priority %j warns and returns nothing, even with valid ids',
    (priority) => {
      const { ctx, lines } = extract({
        'x-datadog-trace-id': '9532127138774266269',
        'x-datadog-parent-id': '6023947403358210776',
        'x-datadog-sampling-priority': priority,
      });
      expect(ctx).toBeUndefined();
      expect(lines).toEqual([`warn ${WARN_PRIORITY}`]);
    },
  );

  test('an invalid priority returns before the ids are read: no id warnings', () => {
    const { ctx, lines } = extract({ 'x-datadog-trace-id': 'bad', 'x-datadog-sampling-priority': 'bad' });
    expect(ctx).toBeUndefined();
    expect(lines).toEqual([`warn ${WARN_PRIORITY}`]);
  });

  test('a zero trace id becomes nil silently (OpenSSL bignum zero has no bytes) but its parent survives', () => {
    expect(extract({ 'x-datadog-trace-id': '0', 'x-datadog-parent-id': '5' })).toEqual({
      ctx: { spanId: '05' },
      lines: [],
    });
    expect(extract({ 'x-datadog-trace-id': ' 000 ' })).toEqual({ ctx: undefined, lines: [] });
  });

  test('a zero parent id becomes nil silently', () => {
    expect(extract({ 'x-datadog-trace-id': '5', 'x-datadog-parent-id': '0' })).toEqual({
      ctx: { traceId: '05' },
      lines: [],
    });
  });

  test('a repeated header (array) counts as its first value', () => {
    const { ctx, lines } = extract({
      'x-datadog-trace-id': ['10', 'junk'],
      'x-datadog-parent-id': ['11', '12'],
      'x-datadog-sampling-priority': ['0', 'junk'],
    });
    expect(lines).toEqual([]);
    expect(ctx).toEqual({ traceId: '0a', spanId: '0b', shouldSample: false });
    // An invalid first value is invalid even if a later one is good.
    expect(extract({ 'x-datadog-trace-id': ['junk', '10'] }).lines).toEqual([`warn ${WARN_TRACE}`]);
    // An empty array is as if the header were absent.
    expect(extract({ 'x-datadog-trace-id': [], 'x-datadog-sampling-priority': '1' })).toEqual({
      ctx: { shouldSample: true },
      lines: [],
    });
  });

  test('no datadog headers at all gives nothing, silently', () => {
    expect(extract({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).toEqual({
      ctx: undefined,
      lines: [],
    });
  });
});

describe('datadog injector', () => {
  test('shape: 8-byte trace ids only, nothing required, log key datadog', () => {
    expect(datadogInjector.sizes).toEqual([8]);
    expect(datadogInjector.requires).toEqual([]);
    expect(datadogInjector.logKey).toBe('datadog');
  });

  test('§4.5 row: decimal trace and parent ids, priority 1 when sampled; log id is the decimal trace id', () => {
    const { headers, logId } = inject({
      traceId: '8448eb211c80319d',
      spanId: '53995c3f42cd8ad8',
      parentId: 'a2fb4a1d1a96d312',
      shouldSample: true,
    });
    expect(headers).toEqual({
      'x-datadog-trace-id': '9532127138774266269',
      'x-datadog-parent-id': '6023947403358210776',
      'x-datadog-sampling-priority': '1',
    });
    expect(logId).toBe('9532127138774266269');
  });

  test('decimal has no leading zeros', () => {
    const { headers, logId } = inject({ traceId: '0000000000000001', spanId: '00000000000000ff' });
    expect(headers).toEqual({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '255' });
    expect(logId).toBe('1');
  });

  test('a 128-bit trace id is sent as its low 64 bits once the engine resized it to 8 bytes', () => {
    const traceId = resizeHex('4bf92000000000000000000000000001', datadogInjector.sizes[0]);
    const { headers, logId } = inject({ traceId, spanId: '0000000000000003', shouldSample: true });
    expect(headers['x-datadog-trace-id']).toBe('1');
    expect(logId).toBe('1');
  });

  test('2^64-1 in decimal', () => {
    expect(inject({ traceId: 'ffffffffffffffff', spanId: 'ffffffffffffffff' }).headers).toEqual({
      'x-datadog-trace-id': '18446744073709551615',
      'x-datadog-parent-id': '18446744073709551615',
    });
  });

  test('no sampling decision (undefined) omits the priority header, as Kong does', () => {
    expect(inject({ traceId: '000000000000000a', spanId: '000000000000000b' }).headers).toEqual({
      'x-datadog-trace-id': '10',
      'x-datadog-parent-id': '11',
    });
  });

  test('deliberate difference 2: shouldSample false sends x-datadog-sampling-priority: 0', () => {
    expect(inject({ traceId: '000000000000000a', spanId: '000000000000000b', shouldSample: false }).headers).toEqual({
      'x-datadog-trace-id': '10',
      'x-datadog-parent-id': '11',
      'x-datadog-sampling-priority': '0',
    });
  });

  test('each id only if present; without a trace id the log id is ""', () => {
    expect(inject({ spanId: '000000000000000b', shouldSample: true })).toEqual({
      headers: { 'x-datadog-parent-id': '11', 'x-datadog-sampling-priority': '1' },
      logId: '',
    });
    expect(inject({ traceId: '000000000000000a' })).toEqual({ headers: { 'x-datadog-trace-id': '10' }, logId: '10' });
    expect(inject({})).toEqual({ headers: {}, logId: '' });
  });

  test('replaces existing datadog headers and leaves others alone', () => {
    const { headers } = inject(
      { traceId: '000000000000000a', spanId: '000000000000000b', shouldSample: true },
      { 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '2', 'x-datadog-sampling-priority': '0', 'x-other': 'kept' },
    );
    expect(headers).toEqual({
      'x-datadog-trace-id': '10',
      'x-datadog-parent-id': '11',
      'x-datadog-sampling-priority': '1',
      'x-other': 'kept',
    });
  });

  test('an absent id leaves an existing header of that name untouched (Kong sets nil, i.e. nothing)', () => {
    const { headers } = inject(
      { traceId: '000000000000000a' },
      { 'x-datadog-parent-id': '2', 'x-datadog-sampling-priority': '1' },
    );
    expect(headers).toEqual({
      'x-datadog-trace-id': '10',
      'x-datadog-parent-id': '2',
      'x-datadog-sampling-priority': '1',
    });
  });

  test('round trip: what is injected extracts to the same ids and decision', () => {
    for (const shouldSample of [true, false]) {
      const { headers } = inject({ traceId: '8448eb211c80319d', spanId: '53995c3f42cd8ad8', shouldSample });
      const { ctx, lines } = extract(headers);
      expect(lines).toEqual([]);
      expect(ctx).toEqual({ traceId: '8448eb211c80319d', spanId: '53995c3f42cd8ad8', shouldSample });
    }
  });
});
