import { hostOf, normalizePath, protocolOf } from '../../src/trace/http-values';

describe('normalizePath (kong.request.get_path)', () => {
  test.each([
    ['/', '/'],
    ['/api/hello?x=1', '/api/hello'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a%2fb', '/a%2Fb'],
    ['/%7Euser/%41bc', '/~user/Abc'],
    ['/a/./b/../c', '/a/c'],
    ['/a//b///c', '/a/b/c'],
    ['/a/%2e%2e/b', '/b'],
    ['/..', '/'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/caf%C3%A9', '/café'],
    ['/x%3Fy%23z', '/x%3Fy%23z'],
    ['/%20space', '/ space'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });
});

describe('hostOf ($host)', () => {
  test.each([
    ['Example.COM:8000', 'example.com'],
    ['example.com', 'example.com'],
    ['[::1]:8000', '[::1]'],
    ['127.0.0.1:3000', '127.0.0.1'],
  ])('%s → %s', (input, expected) => {
    expect(hostOf(input, undefined)).toBe(expected);
  });

  test('falls back when there is no Host', () => {
    expect(hostOf(undefined, '0.0.0.0')).toBe('0.0.0.0');
    expect(hostOf('', '10.0.0.1')).toBe('10.0.0.1');
    expect(hostOf(undefined, undefined)).toBeUndefined();
  });
});

describe('protocolOf (Lua prints the version number)', () => {
  test.each([
    ['1.1', 'HTTP/1.1'],
    ['1.0', 'HTTP/1'],
    ['2.0', 'HTTP/2'],
    ['3.0', 'HTTP/3'],
  ])('%s → %s', (input, expected) => {
    expect(protocolOf(input)).toBe(expected);
  });

  test('unknown version: no tag', () => {
    expect(protocolOf(undefined)).toBeUndefined();
    expect(protocolOf('')).toBeUndefined();
  });
});
