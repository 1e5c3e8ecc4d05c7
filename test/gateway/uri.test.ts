import {
  escapePath,
  joinUpstreamPath,
  sanitizePostfix,
  splitRequestTarget,
  upstreamTarget,
} from '../../src/gateway/uri';
import { normalizeRawPath } from '../../src/trace/uri-normalize';

describe('normalizeRawPath (Kong normalize, merging slashes)', () => {
  it.each([
    ['/', '/'],
    ['', ''],
    ['/plain/path', '/plain/path'],
    ['/a//b///c', '/a/b/c'],
    ['/a/./b', '/a/b'],
    ['/a/b/../c', '/a/c'],
    ['/../a', '/a'],
    ['/a/..', '/'],
    ['/a/.', '/a/'],
    ['/%7euser/%41%42', '/~user/AB'],
    ['/a%2fb%3f', '/a%2Fb%3F'],
    ['/%2e%2e/x', '/x'],
    ['/a%20b', '/a b'],
    ['/%zz', '/%zz'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeRawPath(input)).toBe(expected);
  });
});

describe('escapePath (Kong escape when forwarding)', () => {
  it.each([
    ['/a b', '/a%20b'],
    ['/~user/x-y_z.(1)', '/~user/x-y_z.(1)'],
    ['/a"b<c>', '/a%22b%3Cc%3E'],
    ['/\u00e9', '/%E9'],
    ['/\u20ac', '/%E2%82%AC'],
    ['/%2F', '/%2F'],
  ])('%j → %j', (input, expected) => {
    expect(escapePath(input)).toBe(expected);
  });
});

describe('splitRequestTarget', () => {
  it('splits path and query, keeping an empty query', () => {
    expect(splitRequestTarget('/a/../b?x=1&y')).toEqual({ path: '/b', query: 'x=1&y' });
    expect(splitRequestTarget('/a?')).toEqual({ path: '/a', query: '' });
    expect(splitRequestTarget('/a')).toEqual({ path: '/a', query: null });
    expect(splitRequestTarget('http://example.com/p?q')).toEqual({ path: '/p', query: 'q' });
    expect(splitRequestTarget('http://example.com')).toEqual({ path: '/', query: null });
  });
});

describe('sanitizePostfix', () => {
  it.each([
    ['', ''],
    ['.', ''],
    ['..', ''],
    ['./a', 'a'],
    ['../a', 'a'],
    ['a/b', 'a/b'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizePostfix(input)).toBe(expected);
  });
});

// Kong's v0 path handling: service path, route prefix, request path → upstream path,
// with strip_path true and false (the table of Kong's proxy docs, plus edge cases).
describe('upstream path join (Kong v0 path handling)', () => {
  const cases: [string, string, string, string, string][] = [
    // service.path, route prefix, request, strip_path=true, strip_path=false
    ['/', '/fee', '/fee', '/', '/fee'],
    ['/', '/fee', '/fee/', '/', '/fee/'],
    ['/', '/fee', '/fee/x', '/x', '/fee/x'],
    ['/', '/fee', '/feex', '/x', '/feex'],
    ['/', '/fee/', '/fee/x', '/x', '/fee/x'],
    ['/foo', '/fee', '/fee', '/foo', '/foo/fee'],
    ['/foo', '/fee', '/fee/', '/foo/', '/foo/fee/'],
    ['/foo', '/fee', '/fee/x', '/foo/x', '/foo/fee/x'],
    ['/foo', '/fee/', '/fee/x', '/foo/x', '/foo/fee/x'],
    ['/foo', '/fee', '/feex', '/foo/x', '/foo/feex'],
    ['/foo/', '/fee', '/fee', '/foo', '/foo/fee'],
    ['/foo/', '/fee', '/fee/', '/foo/', '/foo/fee/'],
    ['/foo/', '/fee', '/fee/x', '/foo/x', '/foo/fee/x'],
    ['/foo/', '/fee/', '/fee/x', '/foo/x', '/foo/fee/x'],
    ['/foo', '/', '/', '/foo', '/foo'],
    ['/foo/', '/', '/', '/foo/', '/foo/'],
    ['/', '/', '/', '/', '/'],
  ];
  it.each(cases)('service %j, route %j, request %j → strip %j, keep %j', (base, prefix, req, stripped, kept) => {
    expect(upstreamTarget(base, true, prefix, req, null)).toBe(stripped);
    expect(upstreamTarget(base, false, null, req, null)).toBe(kept);
  });

  it('strip_path without a matched prefix strips nothing (route without paths)', () => {
    expect(upstreamTarget('/svc', true, null, '/a/b', null)).toBe('/svc/a/b');
    expect(upstreamTarget('/', true, null, '/a/b', null)).toBe('/a/b');
  });

  it('appends the query when the request had a `?`, escapes the path', () => {
    expect(upstreamTarget('/', true, '/api', '/api/a b', 'q=1')).toBe('/a%20b?q=1');
    expect(upstreamTarget('/', false, null, '/api', '')).toBe('/api?');
  });

  it('joinUpstreamPath takes an already sanitized postfix', () => {
    expect(joinUpstreamPath('/s/', true, '/x', '/p/x')).toBe('/s/x');
    expect(joinUpstreamPath('/s', true, 'x', '/px')).toBe('/s/x');
  });
});
