import { awsExtractor, awsInjector } from '../../src/propagation/aws';
import type { InjectContext, RequestHeaders, TraceContext } from '../../src/propagation/context';
import { resizeHex } from '../../src/propagation/hex';
import { extractLines, injectWith } from '../support/format-harness';

// Kong's texts, verbatim.
const WARN_ROOT = 'invalid aws header trace id; ignoring.';
const WARN_PARENT = 'invalid aws header parent id; ignoring.';
const WARN_SAMPLED = 'invalid aws header sampled flag; ignoring.';

const ROOT = 'Root=1-5759e988-bd862e3fe1be46a994272793';
const TRACE = '5759e988bd862e3fe1be46a994272793';
const PARENT = 'Parent=53995c3f42cd8ad8';
const SPAN = '53995c3f42cd8ad8';

function extractHeaders(headers: RequestHeaders): { ctx: TraceContext | undefined; lines: string[] } {
  return extractLines(awsExtractor, headers);
}

function extract(value: string | readonly string[]): { ctx: TraceContext | undefined; lines: string[] } {
  return extractHeaders({ 'x-amzn-trace-id': value });
}

function inject(
  ctx: InjectContext,
  initial?: Record<string, string>,
): { headers: Record<string, string>; logId: string } {
  return injectWith(awsInjector, ctx, initial);
}

describe('aws extractor', () => {
  test('triggers on x-amzn-trace-id', () => {
    expect(awsExtractor.triggers).toEqual(['x-amzn-trace-id']);
  });

  test.each([
    ['1', true],
    ['0', false],
  ])('valid header, Sampled=%s', (flag, expected) => {
    expect(extract(`${ROOT};${PARENT};Sampled=${flag}`)).toEqual({
      ctx: { traceId: TRACE, spanId: SPAN, shouldSample: expected },
      lines: [],
    });
  });

  test('the trace id is always 128 bits (original size 16)', () => {
    expect(extract(`${ROOT};${PARENT}`).ctx!.traceId!.length).toBe(32);
  });

  test('without Sampled there is no decision (Kong accepts it)', () => {
    expect(extract(`${ROOT};${PARENT}`)).toEqual({ ctx: { traceId: TRACE, spanId: SPAN }, lines: [] });
  });

  test('key order is irrelevant and unknown keys are ignored', () => {
    expect(
      extract(
        `Self=1-67891233-abcdef012345678912345678;Sampled=1;Lineage=a87bd80c:1|68fd508a:5;${PARENT};foo=bar;${ROOT}`,
      ),
    ).toEqual({
      ctx: { traceId: TRACE, spanId: SPAN, shouldSample: true },
      lines: [],
    });
  });

  test('keys and values are trimmed of space, \\t \\n \\v \\f \\r', () => {
    const header = ` Root = 1-5759e988-bd862e3fe1be46a994272793 ;\tParent\t=\t53995c3f42cd8ad8\t;\v\f\rSampled =\n1\r\n`;
    expect(extract(header)).toEqual({ ctx: { traceId: TRACE, spanId: SPAN, shouldSample: true }, lines: [] });
  });

  test('non-ASCII whitespace is not trimmed (Kong strips C whitespace only)', () => {
    expect(extract(`${ROOT};${PARENT};Sampled=1\u00a0`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_SAMPLED}`] });
  });

  test('uppercase hex is accepted and lowercased', () => {
    expect(extract('Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995C3F42CD8AD8;Sampled=1').ctx).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      shouldSample: true,
    });
  });

  test('empty items and a trailing ; are ignored', () => {
    expect(extract(`;;${ROOT};;${PARENT};`).ctx).toEqual({ traceId: TRACE, spanId: SPAN });
  });

  test('a missing Root gives a context without a trace id (it still wins in the engine)', () => {
    expect(extract(`${PARENT};Sampled=1`)).toEqual({ ctx: { spanId: SPAN, shouldSample: true }, lines: [] });
    expect(extract('Sampled=0')).toEqual({ ctx: { shouldSample: false }, lines: [] });
  });

  test('Root alone gives only the trace id', () => {
    expect(extract(ROOT)).toEqual({ ctx: { traceId: TRACE }, lines: [] });
  });

  test.each([[''], ['Foo=bar'], [';;;'], ['Lineage=a87bd80c:1|68fd508a:5'], ['   ']])(
    'nothing usable in %j gives nothing, silently',
    (value) => {
      expect(extract(value)).toEqual({ ctx: undefined, lines: [] });
    },
  );

  test('keys are case-sensitive: root / PARENT / sampled are unknown keys', () => {
    expect(extract('root=1-5759e988-bd862e3fe1be46a994272793;PARENT=53995c3f42cd8ad8;sampled=1')).toEqual({
      ctx: undefined,
      lines: [],
    });
  });

  test('a key that merely starts with Root is not Root', () => {
    expect(extract(`Rooty=1-5759e988-bd862e3fe1be46a994272793;${PARENT}`)).toEqual({
      ctx: { spanId: SPAN },
      lines: [],
    });
  });

  test('a repeated key: the last one wins', () => {
    expect(extract(`${ROOT};Sampled=0;Sampled=1`).ctx).toEqual({ traceId: TRACE, shouldSample: true });
    expect(extract(`Root=1-00000000-000000000000000000000001;${ROOT}`).ctx).toEqual({ traceId: TRACE });
  });

  test('the value ends at a second = (Kong splits the item on every =)', () => {
    expect(extract(`${ROOT}=junk;${PARENT}=x;Sampled=1=0`)).toEqual({
      ctx: { traceId: TRACE, spanId: SPAN, shouldSample: true },
      lines: [],
    });
    expect(extract(`Sampled==1`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_SAMPLED}`] });
  });

  test.each([
    ['version 2', 'Root=2-5759e988-bd862e3fe1be46a994272793'],
    ['version 0', 'Root=0-5759e988-bd862e3fe1be46a994272793'],
    ['7 hex timestamp', 'Root=1-5759e98-bd862e3fe1be46a9942727930'],
    ['9 hex timestamp', 'Root=1-5759e9888-bd862e3fe1be46a99427279'],
    ['25 hex unique part', 'Root=1-5759e988-bd862e3fe1be46a9942727930'],
    ['23 hex unique part', 'Root=1-5759e988-bd862e3fe1be46a99427279'],
    ['non-hex timestamp', 'Root=1-5759e98g-bd862e3fe1be46a994272793'],
    ['non-hex unique part', 'Root=1-5759e988-bd862e3fe1be46a99427279z'],
    ['no dashes', 'Root=1x5759e988xbd862e3fe1be46a994272793'],
    ['an extra field', 'Root=1-5759e988-bd862e3f-e1be46a994272793'],
    ['just the 32 hex', 'Root=5759e988bd862e3fe1be46a994272793'],
    ['empty value', 'Root='],
    ['no =', 'Root'],
    ['inner space', 'Root=1-5759e988 -bd862e3fe1be46a99427279'],
  ])('invalid Root (%s) warns and returns nothing', (_name, root) => {
    expect(extract(`${PARENT};${root};Sampled=1`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_ROOT}`] });
  });

  test.each([
    ['15 characters', 'Parent=53995c3f42cd8ad'],
    ['17 characters', 'Parent=53995c3f42cd8ad80'],
    ['empty value', 'Parent='],
    ['no =', 'Parent'],
  ])('invalid Parent (%s) warns and returns nothing', (_name, parent) => {
    expect(extract(`${ROOT};${parent};Sampled=1`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_PARENT}`] });
  });

  test.each([['zzzzzzzzzzzzzzzz'], ['53995c3f42cd8adg'], ['53995c3f-2cd8ad8'], ['0x53995c3f42cd8a']])(
    'deliberate difference 6: a 16-character non-hex Parent %j warns and returns nothing (Kong only checks the length)',
    (parent) => {
      expect(extract(`${ROOT};Parent=${parent};Sampled=1`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_PARENT}`] });
    },
  );

  test.each([['?'], ['2'], [''], ['true'], ['01'], ['-1']])('invalid Sampled %j warns and returns nothing', (flag) => {
    expect(extract(`${ROOT};${PARENT};Sampled=${flag}`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_SAMPLED}`] });
  });

  test('Sampled without = is an empty flag: invalid', () => {
    expect(extract(`${ROOT};Sampled`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_SAMPLED}`] });
  });

  test('items are checked in order and the first invalid one stops parsing (one warning)', () => {
    expect(extract('Parent=bad;Root=bad;Sampled=bad')).toEqual({ ctx: undefined, lines: [`warn ${WARN_PARENT}`] });
    expect(extract('Sampled=bad;Root=bad')).toEqual({ ctx: undefined, lines: [`warn ${WARN_SAMPLED}`] });
    expect(extract(`${ROOT};${PARENT};Root=bad`)).toEqual({ ctx: undefined, lines: [`warn ${WARN_ROOT}`] });
  });

  test('a repeated header (array) counts as its first value', () => {
    expect(extract([`${ROOT};${PARENT};Sampled=1`, 'Root=bad'])).toEqual({
      ctx: { traceId: TRACE, spanId: SPAN, shouldSample: true },
      lines: [],
    });
    expect(extract(['Root=bad', `${ROOT}`])).toEqual({ ctx: undefined, lines: [`warn ${WARN_ROOT}`] });
    expect(extract([])).toEqual({ ctx: undefined, lines: [] });
  });

  test('no x-amzn-trace-id gives nothing', () => {
    expect(extractHeaders({ 'x-other': ROOT })).toEqual({ ctx: undefined, lines: [] });
  });
});

describe('aws injector', () => {
  test('shape: 16-byte trace ids, requires trace and span, log key aws', () => {
    expect(awsInjector.sizes).toEqual([16]);
    expect(awsInjector.requires).toEqual(['traceId', 'spanId']);
    expect(awsInjector.logKey).toBe('aws');
  });

  test.each([
    [true, '1'],
    [false, '0'],
    [undefined, '0'],
  ])('§4.5 row: Root=1-<8>-<24>;Parent=<span>;Sampled=<1 or 0> (shouldSample %s)', (shouldSample, flag) => {
    const { headers, logId } = inject({ traceId: TRACE, spanId: SPAN, parentId: 'a2fb4a1d1a96d312', shouldSample });
    expect(headers).toEqual({
      'x-amzn-trace-id': `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=${flag}`,
    });
    // §7: 32 hex, no dashes.
    expect(logId).toBe(TRACE);
  });

  test('a 64-bit trace id is sent zero-padded to 128 bits (the engine resizes to 16 bytes)', () => {
    const traceId = resizeHex('8448eb211c80319d', awsInjector.sizes[0]);
    const { headers, logId } = inject({ traceId, spanId: SPAN, shouldSample: true });
    expect(headers['x-amzn-trace-id']).toBe(
      'Root=1-00000000-00000000' + '8448eb211c80319d' + ';Parent=53995c3f42cd8ad8;Sampled=1',
    );
    expect(logId).toBe('00000000000000008448eb211c80319d');
  });

  test('replaces an existing x-amzn-trace-id and leaves other headers alone', () => {
    const { headers } = inject(
      { traceId: TRACE, spanId: SPAN, shouldSample: true },
      { 'x-amzn-trace-id': 'Root=old', 'x-other': 'kept' },
    );
    expect(headers).toEqual({ 'x-amzn-trace-id': `${ROOT};${PARENT};Sampled=1`, 'x-other': 'kept' });
  });

  test('writes nothing if called without the required ids (the engine prevents this)', () => {
    expect(inject({ spanId: SPAN })).toEqual({ headers: {}, logId: '' });
    expect(inject({ traceId: TRACE })).toEqual({ headers: {}, logId: TRACE });
  });

  test('round trip: what is injected extracts to the same ids and decision', () => {
    for (const shouldSample of [true, false]) {
      const { headers } = inject({ traceId: TRACE, spanId: SPAN, shouldSample });
      expect(extractHeaders(headers)).toEqual({ ctx: { traceId: TRACE, spanId: SPAN, shouldSample }, lines: [] });
    }
  });
});
