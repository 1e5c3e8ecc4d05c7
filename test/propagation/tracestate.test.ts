/**
 * W3C `tracestate` (docs/design.md difference 8): the list grammar, its limits, and the OTel
 * `TraceState` carrying it. Kong does not parse tracestate at all.
 */
import { TraceState as CoreTraceState } from '@opentelemetry/core';
import {
  isTraceStateKey,
  isTraceStateValue,
  normaliseTraceState,
  parseTraceState,
  W3CTraceState,
} from '../../src/propagation/tracestate';

const members = (n: number, from = 1): string[] =>
  Array.from({ length: n }, (_, i) => `bar${String(i + from).padStart(2, '0')}=${i + from}`);

describe('tracestate list', () => {
  test('members in order, OWS (spaces, tabs) around members dropped, leading spaces of a value kept', () => {
    expect(normaliseTraceState('foo=1 \t , \t bar=2, \t baz=3')).toBe('foo=1,bar=2,baz=3');
    expect(normaliseTraceState('\t foo=1 \t')).toBe('foo=1');
    expect(normaliseTraceState('foo= 1')).toBe('foo= 1');
    expect([...(parseTraceState('foo= 1,bar=2') ?? [])]).toEqual([
      ['foo', ' 1'],
      ['bar', '2'],
    ]);
  });

  test('empty members (OWS only) are allowed and dropped; a list of only empty members is none', () => {
    expect(normaliseTraceState('foo=1,,  ,\t,bar=2,')).toBe('foo=1,bar=2');
    expect(normaliseTraceState('')).toBeUndefined();
    expect(normaliseTraceState(' , ,')).toBeUndefined();
    expect(normaliseTraceState(undefined)).toBeUndefined();
  });

  test('several header lines are one list, joined with a comma', () => {
    expect(normaliseTraceState(['foo=1,bar=2', 'rojo=1,congo=2', '', 'baz=3'])).toBe(
      'foo=1,bar=2,rojo=1,congo=2,baz=3',
    );
    // Node joins repeated header lines with ', ' into one value: the same list.
    expect(normaliseTraceState('foo=1,bar=2, rojo=1,congo=2, , baz=3')).toBe('foo=1,bar=2,rojo=1,congo=2,baz=3');
  });

  test('32 members are kept, 33 discard the whole list', () => {
    expect(normaliseTraceState(members(32).join(','))).toBe(members(32).join(','));
    expect(normaliseTraceState(members(33).join(','))).toBeUndefined();
    expect(normaliseTraceState([members(30).join(','), members(3, 31).join(',')])).toBeUndefined();
    // empty members do not count
    expect(normaliseTraceState(members(32).join(',,'))).toBe(members(32).join(','));
  });

  test('a repeated key keeps its first value; the later member is dropped, the list kept', () => {
    expect(normaliseTraceState('foo=1,foo=2,bar=3')).toBe('foo=1,bar=3');
    expect(normaliseTraceState(['foo=1', 'foo=1'])).toBe('foo=1');
    // a duplicate does not count towards the 32
    expect(normaliseTraceState([...members(32), 'bar01=x'].join(','))).toBe(members(32).join(','));
  });

  test.each([
    ['a key with a space before =', 'foo =1'],
    ['an upper-case key', 'FOO=1'],
    ['a dot in a key', 'foo.bar=1'],
    ['a key starting with @', '@foo=1,bar=2'],
    ['a key starting with _', '_foo=1'],
    ['a 257-character key', 'foo=1,' + 'z'.repeat(257) + '=1'],
    ['an = in a value', 'foo=bar=baz'],
    ['an empty value', 'foo=,bar=3'],
    ['a member without =', 'foo=1,bar'],
    ['an empty key', '=1'],
    ['a tab inside a value', 'foo=a\tb'],
    ['a non-ASCII value', 'foo=é'],
    ['a 257-character value', 'foo=' + 'v'.repeat(257)],
  ])('%s discards the whole list', (_name, value) => {
    expect(parseTraceState(value)).toBeUndefined();
  });

  test('keys: the current grammar (a lowercase letter or digit, then up to 255 of a-z 0-9 _ - * / @)', () => {
    const all = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
    for (const key of [
      all,
      all + '@a-z0-9_-*/',
      'foo@',
      'foo@@bar',
      'foo@bar@baz',
      '1abc',
      'z'.repeat(256),
      't'.repeat(241) + '@' + 'v'.repeat(14),
      't'.repeat(242) + '@v',
      't@' + 'v'.repeat(15),
    ]) {
      expect([key, isTraceStateKey(key)]).toEqual([key, true]);
      expect(normaliseTraceState(`foo=1,${key}=1`)).toBe(`foo=1,${key}=1`);
    }
    for (const key of ['', '@a', 'A', 'a.b', 'a b', 'z'.repeat(257), '-a']) {
      expect([key, isTraceStateKey(key)]).toEqual([key, false]);
    }
  });

  test('values: printable ASCII but , and =, 1 to 256 characters, not ending in a space', () => {
    const value = [0x20, 0x2b, 0x2d, 0x3c, 0x3e, 0x7e].map((c) => String.fromCharCode(c)).join('');
    const every = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
      .filter((c) => c !== ',' && c !== '=')
      .join('');
    expect(isTraceStateValue(value)).toBe(true);
    expect(isTraceStateValue(every)).toBe(true);
    expect(normaliseTraceState('k=' + every)).toBe('k=' + every);
    expect(isTraceStateValue('v'.repeat(256))).toBe(true);
    expect(isTraceStateValue('v'.repeat(257))).toBe(false);
    expect(isTraceStateValue('a ')).toBe(false);
    expect(isTraceStateValue(' ')).toBe(false);
    expect(isTraceStateValue('')).toBe(false);
  });

  test('linear time with an early exit: 1 MiB of members without = and 1 MiB of empty members', () => {
    const t0 = process.hrtime.bigint();
    expect(parseTraceState('a,'.repeat(512 * 1024))).toBeUndefined();
    expect(parseTraceState(',' + ' ,'.repeat(512 * 1024))).toBeUndefined();
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(500);
  });
});

describe('W3CTraceState (the OTel TraceState carried by createPropagator)', () => {
  test('keeps keys @opentelemetry/core TraceState drops (its Level 1 key grammar)', () => {
    const header = 'foo@=1,1abc=2,t@vvvvvvvvvvvvvvv=3,bar=4';
    expect(W3CTraceState.parse(header).serialize()).toBe(header);
    expect(new CoreTraceState(header).serialize()).toBe('bar=4');
  });

  test('core TraceState drops invalid members one by one and keeps the first 32 of 33; ours discards the list', () => {
    expect(new CoreTraceState('foo=1,FOO=2').serialize()).toBe('foo=1');
    expect(W3CTraceState.parse('foo=1,FOO=2').serialize()).toBe('');
    expect(new CoreTraceState(members(33).join(',')).serialize()).toBe(members(32).join(','));
    expect(W3CTraceState.parse(members(33).join(',')).serialize()).toBe('');
  });

  test('set puts the key first (moving an existing one), unset removes it, get reads, invalid sets are ignored', () => {
    const ts = W3CTraceState.parse('foo=1,bar=2');
    expect(ts.set('bar', '3').serialize()).toBe('bar=3,foo=1');
    expect(ts.set('new', 'x').serialize()).toBe('new=x,foo=1,bar=2');
    expect(ts.unset('foo').serialize()).toBe('bar=2');
    expect(ts.unset('nope')).toBe(ts);
    expect(ts.get('bar')).toBe('2');
    expect(ts.set('BAD', 'x')).toBe(ts);
    expect(ts.set('ok', 'a,b')).toBe(ts);
    expect(ts.serialize()).toBe('foo=1,bar=2');
  });

  test('adding a 33rd member removes the right-most one (W3C)', () => {
    const ts = W3CTraceState.parse(members(32).join(','));
    expect(ts.set('first', '1').serialize()).toBe(['first=1', ...members(31)].join(','));
  });
});
