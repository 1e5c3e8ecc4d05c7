/** The edit-distance helper behind "did you mean" (config/suggest.ts). */
import { closestName, didYouMean, editDistance } from '../../src/config/suggest';

describe('editDistance (optimal string alignment)', () => {
  test.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['sample_ratio', 'sample_ratio', 0],
    ['servcies', 'services', 1],
    ['htpp_endpoint', 'http_endpoint', 1],
    ['sample_rate', 'sample_ratio', 2],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
    ['routs', 'routes', 1],
  ])('%j → %j: %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closestName / didYouMean', () => {
  const FIELDS = ['services', 'routes', 'upstreams', 'plugins', 'sample_ratio', 'http_endpoint'];

  test('the closest within the limit: 1 edit below 8 characters, 2 from 8', () => {
    expect(closestName('servcies', FIELDS)).toBe('services');
    expect(closestName('sample_rate', FIELDS)).toBe('sample_ratio');
    expect(closestName('htpp_endpoint', FIELDS)).toBe('http_endpoint');
    expect(closestName('route', FIELDS)).toBe('routes');
    // 7 characters, 2 edits from `plugins_`: too far.
    expect(closestName('pluginz', ['plugins_'])).toBeUndefined();
    expect(closestName('plugin', FIELDS)).toBe('plugins');
    expect(closestName('foo', FIELDS)).toBeUndefined();
  });

  test('case is ignored; keys under 3 characters get none; the first of equals wins', () => {
    expect(closestName('Services', FIELDS)).toBe('services');
    expect(closestName('ip', ['id'])).toBeUndefined();
    expect(closestName('abcd', ['abce', 'abcf'])).toBe('abce');
    expect(closestName('abcd', ['abcdef', 'abce'])).toBe('abce');
  });

  test('the appended text', () => {
    expect(didYouMean('servcies', FIELDS)).toBe(" (did you mean 'services'?)");
    expect(didYouMean('nothing_like_it', FIELDS)).toBe('');
  });
});
