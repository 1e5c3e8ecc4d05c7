import { parseTagsHeader } from '../../src/trace/tags-header';

const WARN = 'Could not parse the following Zipkin tags: ';

function parse(value: string | string[]) {
  const r = parseTagsHeader(value);
  if (r === undefined) throw new Error('undefined');
  return { tags: { ...r.tags }, warning: r.warning };
}

describe('tags_header parsing (§2.9)', () => {
  test('an absent header gives nothing and no warning', () => {
    expect(parseTagsHeader(undefined)).toBeUndefined();
  });

  test.each(['foo=bar', 'foo=  bar', 'foo =bar', '  foo = bar   '])('%j → {foo: bar}', (value) => {
    expect(parse(value)).toEqual({ tags: { foo: 'bar' }, warning: undefined });
  });

  test('inner spaces stay in the value', () => {
    expect(parse('foo=bar baz')).toEqual({ tags: { foo: 'bar baz' }, warning: undefined });
  });

  test('a key with a space is rejected with the warning', () => {
    expect(parse('foo bar=baz')).toEqual({ tags: {}, warning: `${WARN}foo bar=baz` });
  });

  test('bad items are listed raw, the good ones kept', () => {
    expect(parse('foobar;foo=;=bar;keep=true;=')).toEqual({
      tags: { keep: 'true' },
      warning: `${WARN}foobar, foo=, =bar, =`,
    });
  });

  test('empty items are ignored silently', () => {
    expect(parse(';;foo=bar;;;;baz=qux;;')).toEqual({ tags: { foo: 'bar', baz: 'qux' }, warning: undefined });
  });

  test('a repeated header is parsed value by value', () => {
    expect(parse(['foo=bar;baz=qux', 'quux=quuz'])).toEqual({
      tags: { foo: 'bar', baz: 'qux', quux: 'quuz' },
      warning: undefined,
    });
  });

  test('later keys overwrite earlier ones, across values too', () => {
    expect(parse(['a=1;a=2', 'a=3;b=4'])).toEqual({ tags: { a: '3', b: '4' }, warning: undefined });
  });

  test('the key runs to the last `=` leaving a value', () => {
    expect(parse('a=b=c')).toEqual({ tags: { 'a=b': 'c' }, warning: undefined });
    expect(parse('k==v')).toEqual({ tags: { 'k=': 'v' }, warning: undefined });
  });

  test('a blank item is not empty: reported like Kong does', () => {
    expect(parse('a=1;  ;b=2')).toEqual({ tags: { a: '1', b: '2' }, warning: `${WARN}  ` });
  });

  test('bad items of several header values make one warning', () => {
    expect(parse(['x', 'a=1;y'])).toEqual({ tags: { a: '1' }, warning: `${WARN}x, y` });
  });

  test('a tag may be called __proto__', () => {
    const r = parseTagsHeader('__proto__=x');
    expect(r?.tags['__proto__']).toBe('x');
  });
});
