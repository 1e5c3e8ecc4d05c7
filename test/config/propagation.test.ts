import {
  DEFAULT_HEADER_TYPE_DEPRECATION,
  type EffectivePropagation,
  HEADER_TYPE_DEPRECATION,
  type ZipkinConfigInput,
  deprecationWarnings,
  effectivePropagation,
  validateConfig,
} from '../../src/config';

const LEGACY_ORDER = ['b3', 'w3c', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'];

function effective(input: ZipkinConfigInput): EffectivePropagation {
  return effectivePropagation(validateConfig(input));
}

describe('effectivePropagation: legacy path (§1.3)', () => {
  test('all defaults: extract in the legacy order, inject preserve, fall back to b3', () => {
    expect(effective({})).toEqual({ extract: LEGACY_ORDER, inject: ['preserve'], clear: [], default_format: 'b3' });
  });

  // header_type → [extract, inject], with default_header_type = w3c throughout.
  test.each([
    ['preserve', LEGACY_ORDER, ['preserve']],
    ['ignore', null, ['w3c']],
    ['b3', LEGACY_ORDER, ['preserve', 'b3']],
    ['b3-single', LEGACY_ORDER, ['preserve', 'b3-single']],
    ['w3c', LEGACY_ORDER, ['preserve', 'w3c']],
    ['jaeger', LEGACY_ORDER, ['preserve', 'jaeger']],
    ['ot', LEGACY_ORDER, ['preserve', 'ot']],
    ['aws', LEGACY_ORDER, ['preserve', 'aws']],
    ['datadog', LEGACY_ORDER, ['preserve', 'datadog']],
    ['gcp', LEGACY_ORDER, ['preserve', 'gcp']],
    ['instana', LEGACY_ORDER, ['preserve', 'instana']],
  ] as const)('header_type %s', (headerType, extract, inject) => {
    expect(effective({ header_type: headerType, default_header_type: 'w3c' })).toEqual({
      extract,
      inject,
      clear: [],
      default_format: 'w3c',
    });
  });

  test('header_type ignore injects default_header_type and extracts nothing', () => {
    expect(effective({ header_type: 'ignore' })).toEqual({
      extract: null,
      inject: ['b3'],
      clear: [],
      default_format: 'b3',
    });
    expect(effective({ header_type: 'ignore', default_header_type: 'datadog' })).toEqual({
      extract: null,
      inject: ['datadog'],
      clear: [],
      default_format: 'datadog',
    });
  });

  test('header_type w3c with the default default_header_type: preserve falls back to b3, so b3 and w3c are both injected', () => {
    expect(effective({ header_type: 'w3c' })).toEqual({
      extract: LEGACY_ORDER,
      inject: ['preserve', 'w3c'],
      clear: [],
      default_format: 'b3',
    });
  });

  test('propagation.default_format without extract/inject/clear is overwritten by default_header_type', () => {
    expect(effective({ propagation: { default_format: 'w3c' } })).toEqual({
      extract: LEGACY_ORDER,
      inject: ['preserve'],
      clear: [],
      default_format: 'b3',
    });
    expect(effective({ default_header_type: 'jaeger', propagation: { default_format: 'w3c' } }).default_format).toBe(
      'jaeger',
    );
    expect(
      effective({
        default_header_type: 'ot',
        propagation: { extract: null, inject: null, clear: null, default_format: 'gcp' },
      }).default_format,
    ).toBe('ot');
  });
});

describe('effectivePropagation: the propagation record as given', () => {
  test('a full record is used unchanged and the legacy fields are ignored', () => {
    expect(
      effective({
        header_type: 'jaeger',
        default_header_type: 'ot',
        propagation: {
          extract: ['w3c', 'b3'],
          inject: ['preserve', 'datadog'],
          clear: ['x-b3-traceid'],
          default_format: 'w3c',
        },
      }),
    ).toEqual({
      extract: ['w3c', 'b3'],
      inject: ['preserve', 'datadog'],
      clear: ['x-b3-traceid'],
      default_format: 'w3c',
    });
  });

  test('only extract given: inject and clear become empty', () => {
    expect(effective({ header_type: 'b3', propagation: { extract: ['aws'], default_format: 'aws' } })).toEqual({
      extract: ['aws'],
      inject: [],
      clear: [],
      default_format: 'aws',
    });
  });

  test('only inject given: extract stays null (no extraction at all)', () => {
    expect(effective({ propagation: { inject: ['w3c'], default_format: 'b3' } })).toEqual({
      extract: null,
      inject: ['w3c'],
      clear: [],
      default_format: 'b3',
    });
  });

  test('only clear given: nothing extracted, nothing injected, headers cleared', () => {
    expect(effective({ header_type: 'w3c', propagation: { clear: ['traceparent'], default_format: 'gcp' } })).toEqual({
      extract: null,
      inject: [],
      clear: ['traceparent'],
      default_format: 'gcp',
    });
  });

  const emptyCases: [string, ZipkinConfigInput['propagation'], EffectivePropagation][] = [
    ['extract', { extract: [], default_format: 'w3c' }, { extract: [], inject: [], clear: [], default_format: 'w3c' }],
    ['inject', { inject: [], default_format: 'w3c' }, { extract: null, inject: [], clear: [], default_format: 'w3c' }],
    ['clear', { clear: [], default_format: 'w3c' }, { extract: null, inject: [], clear: [], default_format: 'w3c' }],
  ];
  test.each(emptyCases)('an empty %s counts as present', (_name, propagation, expected) => {
    expect(effective({ header_type: 'b3', default_header_type: 'jaeger', propagation })).toEqual(expected);
  });
});

describe('effectivePropagation: result', () => {
  test('frozen, and the same object for the same config', () => {
    const config = validateConfig({ header_type: 'ot' });
    const a = effectivePropagation(config);
    expect(effectivePropagation(config)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.extract)).toBe(true);
    expect(Object.isFrozen(a.inject)).toBe(true);
    expect(Object.isFrozen(a.clear)).toBe(true);
  });

  test('different configs get their own records', () => {
    expect(effective({ header_type: 'ot' }).inject).toEqual(['preserve', 'ot']);
    expect(effective({ header_type: 'aws' }).inject).toEqual(['preserve', 'aws']);
  });

  test("the given arrays are the validated config's (no copy per call)", () => {
    const config = validateConfig({
      propagation: { extract: ['w3c'], inject: ['w3c'], clear: ['a'], default_format: 'w3c' },
    });
    const e = effectivePropagation(config);
    expect(e.extract).toBe(config.propagation.extract);
    expect(e.inject).toBe(config.propagation.inject);
    expect(e.clear).toBe(config.propagation.clear);
  });
});

describe('deprecationWarnings', () => {
  const HT =
    'zipkin: config.header_type is deprecated, please use config.propagation options instead (deprecated after 4.0)';
  const DHT =
    'zipkin: config.default_header_type is deprecated, please use config.propagation.default_format instead (deprecated after 4.0)';

  test("texts are Kong's, with its deprecation helper suffix", () => {
    expect(HEADER_TYPE_DEPRECATION).toBe(HT);
    expect(DEFAULT_HEADER_TYPE_DEPRECATION).toBe(DHT);
  });

  test('none for the old defaults preserve / b3', () => {
    expect(deprecationWarnings(validateConfig({}))).toEqual([]);
    expect(deprecationWarnings(validateConfig({ header_type: 'preserve', default_header_type: 'b3' }))).toEqual([]);
  });

  test('none when only the new propagation options are used', () => {
    expect(
      deprecationWarnings(
        validateConfig({ propagation: { extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' } }),
      ),
    ).toEqual([]);
  });

  test('header_type other than preserve', () => {
    for (const v of ['ignore', 'b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'datadog', 'gcp', 'instana'] as const) {
      expect(deprecationWarnings(validateConfig({ header_type: v }))).toEqual([HT]);
    }
  });

  test('default_header_type other than b3', () => {
    for (const v of ['b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'datadog', 'gcp', 'instana'] as const) {
      expect(deprecationWarnings(validateConfig({ default_header_type: v }))).toEqual([DHT]);
    }
  });

  test('both', () => {
    expect(deprecationWarnings(validateConfig({ header_type: 'w3c', default_header_type: 'w3c' }))).toEqual([HT, DHT]);
  });

  test("the substring Kong's spec checks for is present", () => {
    for (const w of [HT, DHT]) expect(w).toContain('is deprecated, please use config.propagation');
  });
});
