import { parse as parseYaml } from 'yaml';
import {
  ConfigError,
  type ConfigIssue,
  PROPAGATION_DEFAULTS,
  PROTECTED_TAGS,
  QUEUE_DEFAULTS,
  ZIPKIN_DEFAULTS,
  type ZipkinConfig,
  validateConfig,
} from '../../src/config';

/** Every issue validateConfig reports for `input`, or [] when it passes. */
function issuesOf(input: unknown, path?: string): ConfigIssue[] {
  try {
    validateConfig(input, path === undefined ? undefined : { path });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).errors.map((i) => ({ path: i.path, reason: i.reason }));
  }
  return [];
}

/** The single issue for `input` (fails if there are zero or several). */
function issueOf(input: unknown): ConfigIssue {
  const issues = issuesOf(input);
  expect(issues).toHaveLength(1);
  return issues[0];
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value).every(isDeepFrozen);
}

const ALL_DEFAULTS: ZipkinConfig = {
  local_service_name: 'kong',
  http_endpoint: null,
  sample_ratio: 0.001,
  default_service_name: null,
  include_credential: true,
  traceid_byte_count: 16,
  header_type: 'preserve',
  default_header_type: 'b3',
  tags_header: 'Zipkin-Tags',
  static_tags: null,
  http_span_name: 'method',
  connect_timeout: 2000,
  send_timeout: 5000,
  read_timeout: 5000,
  http_response_header_for_traceid: null,
  phase_duration_flavor: 'annotations',
  queue: {
    max_batch_size: 1,
    max_coalescing_delay: 1,
    max_entries: 10000,
    max_bytes: null,
    max_retry_time: 60,
    initial_retry_delay: 0.01,
    max_retry_delay: 60,
    concurrency_limit: 1,
  },
  propagation: { extract: null, inject: null, clear: null, default_format: 'b3' },
};

const HEADER_TYPE_LIST = 'preserve, ignore, b3, b3-single, w3c, jaeger, ot, aws, datadog, gcp, instana';
const DEFAULT_HEADER_TYPE_LIST = 'b3, b3-single, w3c, jaeger, ot, aws, datadog, gcp, instana';
const EXTRACT_LIST = 'w3c, b3, jaeger, ot, datadog, aws, gcp, instana';
const INJECT_LIST = 'preserve, w3c, b3, b3-single, jaeger, ot, datadog, aws, gcp, instana';
const FORMAT_LIST = 'w3c, b3, b3-single, jaeger, ot, datadog, aws, gcp, instana';
const PROTECTED_LIST =
  'error, http.method, http.path, http.status_code, kong.balancer.state, kong.balancer.try, kong.consumer, ' +
  'kong.credential, kong.node.id, kong.route, kong.service, lc, peer.hostname';

describe('defaults', () => {
  test('an empty config resolves to every Kong default', () => {
    expect(validateConfig({})).toEqual(ALL_DEFAULTS);
  });

  test('undefined and null configs resolve like {}', () => {
    expect(validateConfig(undefined)).toEqual(ALL_DEFAULTS);
    expect(validateConfig(null)).toEqual(ALL_DEFAULTS);
  });

  test('exported default constants match', () => {
    expect(ZIPKIN_DEFAULTS).toEqual(ALL_DEFAULTS);
    expect(QUEUE_DEFAULTS).toEqual(ALL_DEFAULTS.queue);
    expect(PROPAGATION_DEFAULTS).toEqual(ALL_DEFAULTS.propagation);
    expect(isDeepFrozen(ZIPKIN_DEFAULTS)).toBe(true);
  });

  test('each top-level default on its own', () => {
    const c = validateConfig({});
    expect(c.local_service_name).toBe('kong');
    expect(c.http_endpoint).toBeNull();
    expect(c.sample_ratio).toBe(0.001);
    expect(c.default_service_name).toBeNull();
    expect(c.include_credential).toBe(true);
    expect(c.traceid_byte_count).toBe(16);
    expect(c.header_type).toBe('preserve');
    expect(c.default_header_type).toBe('b3');
    expect(c.tags_header).toBe('Zipkin-Tags');
    expect(c.static_tags).toBeNull();
    expect(c.http_span_name).toBe('method');
    expect(c.connect_timeout).toBe(2000);
    expect(c.send_timeout).toBe(5000);
    expect(c.read_timeout).toBe(5000);
    expect(c.http_response_header_for_traceid).toBeNull();
    expect(c.phase_duration_flavor).toBe('annotations');
  });

  test('each queue default on its own (§6.1)', () => {
    const q = validateConfig({}).queue;
    expect(q.max_batch_size).toBe(1);
    expect(q.max_coalescing_delay).toBe(1);
    expect(q.max_entries).toBe(10000);
    expect(q.max_bytes).toBeNull();
    expect(q.max_retry_time).toBe(60);
    expect(q.initial_retry_delay).toBe(0.01);
    expect(q.max_retry_delay).toBe(60);
    expect(q.concurrency_limit).toBe(1);
  });

  test('a partial queue keeps the defaults of the fields it leaves out', () => {
    expect(validateConfig({ queue: { max_batch_size: 200, max_coalescing_delay: 0.5 } }).queue).toEqual({
      ...ALL_DEFAULTS.queue,
      max_batch_size: 200,
      max_coalescing_delay: 0.5,
    });
    expect(validateConfig({ queue: {} }).queue).toEqual(ALL_DEFAULTS.queue);
  });

  test('propagation defaults to {default_format: b3} only when the whole record is absent', () => {
    expect(validateConfig({}).propagation).toEqual({ extract: null, inject: null, clear: null, default_format: 'b3' });
    expect(validateConfig({ propagation: { default_format: 'w3c' } }).propagation).toEqual({
      extract: null,
      inject: null,
      clear: null,
      default_format: 'w3c',
    });
    expect(issueOf({ propagation: {} })).toEqual({
      path: 'config.propagation.default_format',
      reason: 'required field missing',
    });
    expect(issueOf({ propagation: { extract: ['w3c'] } })).toEqual({
      path: 'config.propagation.default_format',
      reason: 'required field missing',
    });
  });

  test('the result is a new, deeply frozen object; the input is left as it was', () => {
    const input = {
      sample_ratio: 0.5,
      static_tags: [{ name: 'env', value: 'prod' }],
      queue: { max_batch_size: 10 },
      propagation: { extract: ['w3c'], inject: ['w3c'], clear: ['x-foo'], default_format: 'w3c' },
    };
    const copy = structuredClone(input);
    const c = validateConfig(input);
    expect(input).toEqual(copy);
    expect(Object.keys(input)).toEqual(['sample_ratio', 'static_tags', 'queue', 'propagation']);
    expect(isDeepFrozen(c)).toBe(true);
    expect(c.static_tags).not.toBe(input.static_tags);
    expect(c.static_tags?.[0]).not.toBe(input.static_tags[0]);
    expect(c.propagation.extract).not.toBe(input.propagation.extract);
    expect(c.queue).not.toBe(input.queue);
  });

  test('a frozen input is accepted', () => {
    const input = Object.freeze({ queue: Object.freeze({ max_entries: 5 }) });
    expect(validateConfig(input).queue.max_entries).toBe(5);
  });

  test('two validations give equal but distinct records', () => {
    const a = validateConfig({});
    const b = validateConfig({});
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
  });
});

describe('nulls', () => {
  test('null on a field with a default takes the default', () => {
    const c = validateConfig({
      local_service_name: null,
      sample_ratio: null,
      include_credential: null,
      traceid_byte_count: null,
      header_type: null,
      default_header_type: null,
      tags_header: null,
      http_span_name: null,
      connect_timeout: null,
      send_timeout: null,
      read_timeout: null,
      phase_duration_flavor: null,
      queue: {
        max_batch_size: null,
        max_coalescing_delay: null,
        max_entries: null,
        max_bytes: null,
        max_retry_time: null,
        initial_retry_delay: null,
        max_retry_delay: null,
        concurrency_limit: null,
      },
    });
    expect(c).toEqual(ALL_DEFAULTS);
  });

  test('null on an optional field without a default stays null', () => {
    const c = validateConfig({
      http_endpoint: null,
      default_service_name: null,
      static_tags: null,
      http_response_header_for_traceid: null,
      propagation: { extract: null, inject: null, clear: null, default_format: 'b3' },
    });
    expect(c).toEqual(ALL_DEFAULTS);
  });

  test('null records are absent records: queue defaults, propagation {default_format: b3}', () => {
    const c = validateConfig({ queue: null, propagation: null });
    expect(c.queue).toEqual(ALL_DEFAULTS.queue);
    expect(c.propagation).toEqual(ALL_DEFAULTS.propagation);
  });

  test('undefined values are absent keys', () => {
    expect(validateConfig({ sample_ratio: undefined, queue: undefined })).toEqual(ALL_DEFAULTS);
  });

  test('null where nothing can replace it is "required field missing"', () => {
    expect(issueOf({ propagation: { default_format: null } })).toEqual({
      path: 'config.propagation.default_format',
      reason: 'required field missing',
    });
    expect(issueOf({ static_tags: [{ name: null, value: 'x' }] })).toEqual({
      path: 'config.static_tags[0].name',
      reason: 'required field missing',
    });
    expect(issueOf({ propagation: { extract: ['w3c', null], default_format: 'b3' } })).toEqual({
      path: 'config.propagation.extract[1]',
      reason: 'required field missing',
    });
  });
});

describe('types', () => {
  test.each([
    ['local_service_name', 1, 'expected a string'],
    ['http_endpoint', true, 'expected a string'],
    ['sample_ratio', '0.5', 'expected a number'],
    ['sample_ratio', Number.NaN, 'expected a number'],
    ['default_service_name', {}, 'expected a string'],
    ['include_credential', 'true', 'expected a boolean'],
    ['include_credential', 1, 'expected a boolean'],
    ['traceid_byte_count', '16', 'expected a number'],
    ['traceid_byte_count', 8.5, 'expected an integer'],
    ['header_type', ['b3'], 'expected a string'],
    ['default_header_type', 3, 'expected a string'],
    ['tags_header', false, 'expected a string'],
    ['static_tags', 'env:prod', 'expected an array'],
    ['static_tags', { name: 'a', value: 'b' }, 'expected an array'],
    ['http_span_name', 0, 'expected a string'],
    ['connect_timeout', '2000', 'expected a number'],
    ['connect_timeout', 2000.5, 'expected an integer'],
    ['send_timeout', Number.POSITIVE_INFINITY, 'expected an integer'],
    ['read_timeout', Number.NaN, 'expected a number'],
    ['http_response_header_for_traceid', 5, 'expected a string'],
    ['phase_duration_flavor', 1, 'expected a string'],
    ['queue', 'fast', 'expected a record'],
    ['queue', [1], 'expected a record'],
    ['propagation', 'b3', 'expected a record'],
    ['propagation', ['b3'], 'expected a record'],
  ])('config.%s = %p → %s', (field, value, reason) => {
    expect(issueOf({ [field]: value })).toEqual({ path: `config.${field}`, reason });
  });

  test.each([
    ['max_batch_size', 1.5, 'expected an integer'],
    ['max_batch_size', '1', 'expected a number'],
    ['max_coalescing_delay', 'soon', 'expected a number'],
    ['max_entries', 10.1, 'expected an integer'],
    ['max_bytes', 1.5, 'expected an integer'],
    ['max_bytes', '1k', 'expected a number'],
    ['max_retry_time', true, 'expected a number'],
    ['initial_retry_delay', [], 'expected a number'],
    ['max_retry_delay', {}, 'expected a number'],
    ['concurrency_limit', 1.5, 'expected an integer'],
  ])('config.queue.%s = %p → %s', (field, value, reason) => {
    expect(issueOf({ queue: { [field]: value } })).toEqual({ path: `config.queue.${field}`, reason });
  });

  test.each([
    ['extract', 'w3c', 'expected an array'],
    ['inject', { 0: 'w3c' }, 'expected an array'],
    ['clear', 'x-foo', 'expected an array'],
    ['default_format', 1, 'expected a string'],
  ])('config.propagation.%s = %p → %s', (field, value, reason) => {
    expect(issueOf({ propagation: { default_format: 'b3', [field]: value } })).toEqual({
      path: `config.propagation.${field}`,
      reason,
    });
  });

  test('a non-plain object is not a record', () => {
    expect(issueOf(new Map())).toEqual({ path: 'config', reason: 'expected a record' });
    expect(issueOf({ queue: new Date(0) })).toEqual({ path: 'config.queue', reason: 'expected a record' });
  });

  test('a config that is not an object', () => {
    expect(issueOf('zipkin')).toEqual({ path: 'config', reason: 'expected a record' });
    expect(issueOf([])).toEqual({ path: 'config', reason: 'expected a record' });
    expect(issueOf(42)).toEqual({ path: 'config', reason: 'expected a record' });
  });

  test('an object with a null prototype is a record', () => {
    const input = Object.assign(Object.create(null) as object, { sample_ratio: 1 });
    expect(validateConfig(input).sample_ratio).toBe(1);
  });
});

describe('ranges and enums', () => {
  test.each([0, 0.5, 1])('sample_ratio %p is accepted', (v) => {
    expect(validateConfig({ sample_ratio: v }).sample_ratio).toBe(v);
  });

  test.each([-0.001, 1.0001, 2, -1])('sample_ratio %p → value should be between 0 and 1', (v) => {
    expect(issueOf({ sample_ratio: v })).toEqual({
      path: 'config.sample_ratio',
      reason: 'value should be between 0 and 1',
    });
  });

  test.each(['connect_timeout', 'send_timeout', 'read_timeout'])('%s: 0 .. 2147483646', (field) => {
    expect(validateConfig({ [field]: 0 })[field as 'connect_timeout']).toBe(0);
    expect(validateConfig({ [field]: 2147483646 })[field as 'connect_timeout']).toBe(2147483646);
    for (const bad of [-1, 2147483647]) {
      expect(issueOf({ [field]: bad })).toEqual({
        path: `config.${field}`,
        reason: 'value should be between 0 and 2147483646',
      });
    }
  });

  test('traceid_byte_count is one of 8, 16', () => {
    expect(validateConfig({ traceid_byte_count: 8 }).traceid_byte_count).toBe(8);
    expect(validateConfig({ traceid_byte_count: 16 }).traceid_byte_count).toBe(16);
    for (const bad of [0, 4, 32, -16]) {
      expect(issueOf({ traceid_byte_count: bad })).toEqual({
        path: 'config.traceid_byte_count',
        reason: 'expected one of: 8, 16',
      });
    }
  });

  test('header_type: every value accepted, others listed in Kong order', () => {
    for (const v of HEADER_TYPE_LIST.split(', ')) expect(validateConfig({ header_type: v }).header_type).toBe(v);
    for (const bad of ['B3', 'zipkin', '']) {
      expect(issueOf({ header_type: bad })).toEqual({
        path: 'config.header_type',
        reason: `expected one of: ${HEADER_TYPE_LIST}`,
      });
    }
  });

  test('default_header_type: every value accepted; preserve and ignore are not formats', () => {
    for (const v of DEFAULT_HEADER_TYPE_LIST.split(', ')) {
      expect(validateConfig({ default_header_type: v }).default_header_type).toBe(v);
    }
    for (const bad of ['preserve', 'ignore', 'W3C']) {
      expect(issueOf({ default_header_type: bad })).toEqual({
        path: 'config.default_header_type',
        reason: `expected one of: ${DEFAULT_HEADER_TYPE_LIST}`,
      });
    }
  });

  test('http_span_name and phase_duration_flavor', () => {
    expect(validateConfig({ http_span_name: 'method_path' }).http_span_name).toBe('method_path');
    expect(validateConfig({ phase_duration_flavor: 'tags' }).phase_duration_flavor).toBe('tags');
    expect(issueOf({ http_span_name: 'path' })).toEqual({
      path: 'config.http_span_name',
      reason: 'expected one of: method, method_path',
    });
    expect(issueOf({ phase_duration_flavor: 'spans' })).toEqual({
      path: 'config.phase_duration_flavor',
      reason: 'expected one of: annotations, tags',
    });
  });

  test('strings must not be empty', () => {
    for (const field of [
      'local_service_name',
      'default_service_name',
      'tags_header',
      'http_response_header_for_traceid',
    ]) {
      expect(issueOf({ [field]: '' })).toEqual({ path: `config.${field}`, reason: 'length must be at least 1' });
    }
  });

  test('free strings are taken as given (names are not validated)', () => {
    const c = validateConfig({
      local_service_name: 'my gateway',
      default_service_name: 'upstream',
      tags_header: 'X Weird:Header',
      http_response_header_for_traceid: 'X-Trace-Id',
    });
    expect(c.local_service_name).toBe('my gateway');
    expect(c.default_service_name).toBe('upstream');
    expect(c.tags_header).toBe('X Weird:Header');
    expect(c.http_response_header_for_traceid).toBe('X-Trace-Id');
  });

  describe('queue (§6.1)', () => {
    test.each([
      ['max_batch_size', 1, 1000000, 0, 1000001, 'value should be between 1 and 1000000'],
      ['max_coalescing_delay', 0, 3600, -0.1, 3600.5, 'value should be between 0 and 3600'],
      ['max_entries', 1, 1000000, 0, 1000001, 'value should be between 1 and 1000000'],
      // Kong prints the bounds with %d, so 0.001 shows as 0.
      ['initial_retry_delay', 0.001, 1000000, 0.0005, 1000000.5, 'value should be between 0 and 1000000'],
      ['max_retry_delay', 0.001, 1000000, 0, 2000000, 'value should be between 0 and 1000000'],
    ])('%s: accepts %p and %p, rejects %p and %p', (field, lo, hi, below, above, reason) => {
      expect(validateConfig({ queue: { [field]: lo } }).queue[field as 'max_batch_size']).toBe(lo);
      expect(validateConfig({ queue: { [field]: hi } }).queue[field as 'max_batch_size']).toBe(hi);
      expect(issueOf({ queue: { [field]: below } })).toEqual({ path: `config.queue.${field}`, reason });
      expect(issueOf({ queue: { [field]: above } })).toEqual({ path: `config.queue.${field}`, reason });
    });

    test('max_retry_time has no range: negative means a single attempt', () => {
      expect(validateConfig({ queue: { max_retry_time: -1 } }).queue.max_retry_time).toBe(-1);
      expect(validateConfig({ queue: { max_retry_time: 0 } }).queue.max_retry_time).toBe(0);
      expect(validateConfig({ queue: { max_retry_time: 86400.5 } }).queue.max_retry_time).toBe(86400.5);
    });

    test('max_bytes is any integer', () => {
      expect(validateConfig({ queue: { max_bytes: 1048576 } }).queue.max_bytes).toBe(1048576);
      expect(validateConfig({ queue: { max_bytes: 0 } }).queue.max_bytes).toBe(0);
    });

    test('concurrency_limit is one of -1, 1', () => {
      expect(validateConfig({ queue: { concurrency_limit: -1 } }).queue.concurrency_limit).toBe(-1);
      for (const bad of [0, 2, -2]) {
        expect(issueOf({ queue: { concurrency_limit: bad } })).toEqual({
          path: 'config.queue.concurrency_limit',
          reason: 'expected one of: -1, 1',
        });
      }
    });
  });
});

describe('http_endpoint', () => {
  test.each([
    'http://zipkin:9411/api/v2/spans',
    'https://user:pw@zipkin.example.com/api/v2/spans?x=1',
    'http://127.0.0.1:9411/api/v2/spans',
    'http://[::1]:9411/api/v2/spans',
    'http://zipkin',
  ])('%s is accepted as given', (url) => {
    expect(validateConfig({ http_endpoint: url }).http_endpoint).toBe(url);
  });

  test.each([
    ['zipkin:9411/api/v2/spans', 'missing host in url'],
    ['localhost', 'missing host in url'],
    ['/api/v2/spans', 'missing host in url'],
    ['http:zipkin', 'missing host in url'],
    ['http://', 'missing host in url'],
    ['http://:9411/api', 'missing host in url'],
    ['http://user@/api', 'missing host in url'],
    // A missing host is reported before a missing scheme, as Kong checks it first.
    ['zipkin', 'missing host in url'],
    ['//zipkin:9411/api/v2/spans', 'missing scheme in url'],
    ['http://exa mple.com/api', 'could not parse url. Invalid URL'],
    ['', 'length must be at least 1'],
  ])('%p → %s', (url, reason) => {
    expect(issueOf({ http_endpoint: url })).toEqual({ path: 'config.http_endpoint', reason });
  });
});

describe('static_tags', () => {
  test('valid tags are kept in order', () => {
    const tags = [
      { name: 'env', value: 'prod' },
      { name: 'http.host', value: 'override' },
      { name: 'region', value: 'eu' },
    ];
    expect(validateConfig({ static_tags: tags }).static_tags).toEqual(tags);
    expect(validateConfig({ static_tags: [] }).static_tags).toEqual([]);
  });

  test("every protected name is rejected with Kong's full list", () => {
    expect(PROTECTED_TAGS.join(', ')).toBe(PROTECTED_LIST);
    for (const name of PROTECTED_TAGS) {
      expect(
        issueOf({
          static_tags: [
            { name: 'ok', value: '1' },
            { name, value: 'x' },
          ],
        }),
      ).toEqual({
        path: 'config.static_tags[1].name',
        reason: `must not be one of: ${PROTECTED_LIST}`,
      });
    }
  });

  test('protection is exact: other spellings pass', () => {
    expect(
      validateConfig({
        static_tags: [
          { name: 'Error', value: 'x' },
          { name: 'http.method2', value: 'y' },
        ],
      }).static_tags,
    ).toEqual([
      { name: 'Error', value: 'x' },
      { name: 'http.method2', value: 'y' },
    ]);
  });

  test('repeated names are rejected at config.static_tags', () => {
    expect(
      issueOf({
        static_tags: [
          { name: 'foo', value: '1' },
          { name: 'bar', value: '2' },
          { name: 'foo', value: '3' },
        ],
      }),
    ).toEqual({ path: 'config.static_tags', reason: 'repeated tags are not allowed: foo' });
  });

  test('the repeat check runs only once every tag is valid', () => {
    expect(
      issuesOf({
        static_tags: [
          { name: 'foo', value: '1' },
          { name: 'foo', value: 2 },
        ],
      }),
    ).toEqual([{ path: 'config.static_tags[1].value', reason: 'expected a string' }]);
  });

  test('tag fields: required, typed, non-empty, no extra keys', () => {
    expect(issuesOf({ static_tags: [{ value: 'x' }] })).toEqual([
      { path: 'config.static_tags[0].name', reason: 'required field missing' },
    ]);
    expect(issuesOf({ static_tags: [{ name: 'x' }] })).toEqual([
      { path: 'config.static_tags[0].value', reason: 'required field missing' },
    ]);
    expect(issuesOf({ static_tags: [{ name: 7, value: 'x' }] })).toEqual([
      { path: 'config.static_tags[0].name', reason: 'expected a string' },
    ]);
    expect(issuesOf({ static_tags: [{ name: '', value: '' }] })).toEqual([
      { path: 'config.static_tags[0].name', reason: 'length must be at least 1' },
      { path: 'config.static_tags[0].value', reason: 'length must be at least 1' },
    ]);
    expect(issuesOf({ static_tags: [{ name: 'a', value: 'b', tag: 'c' }] })).toEqual([
      { path: 'config.static_tags[0].tag', reason: 'unknown field' },
    ]);
    expect(issuesOf({ static_tags: ['env=prod', null] })).toEqual([
      { path: 'config.static_tags[0]', reason: 'expected a record' },
      { path: 'config.static_tags[1]', reason: 'required field missing' },
    ]);
  });
});

describe('propagation (§1.2)', () => {
  test('a full record is taken as given', () => {
    const p = {
      extract: ['instana', 'w3c', 'b3', 'jaeger', 'ot', 'datadog', 'aws', 'gcp'],
      inject: ['preserve', 'b3-single', 'w3c', 'b3', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'],
      clear: ['traceparent', 'X-B3-TraceId', 'uber_trace_id', 'x-amzn-trace-id'],
      default_format: 'b3-single',
    };
    expect(validateConfig({ propagation: p }).propagation).toEqual(p);
  });

  test('empty arrays are kept (they mean "nothing")', () => {
    expect(
      validateConfig({ propagation: { extract: [], inject: [], clear: [], default_format: 'w3c' } }).propagation,
    ).toEqual({
      extract: [],
      inject: [],
      clear: [],
      default_format: 'w3c',
    });
  });

  test('extract elements: the b3 extractor reads b3-single, so b3-single and preserve are rejected', () => {
    expect(
      issuesOf({ propagation: { extract: ['w3c', 'b3', 'b3-single', 'preserve'], default_format: 'b3' } }),
    ).toEqual([
      { path: 'config.propagation.extract[2]', reason: `expected one of: ${EXTRACT_LIST}` },
      { path: 'config.propagation.extract[3]', reason: `expected one of: ${EXTRACT_LIST}` },
    ]);
  });

  test('inject elements', () => {
    expect(issuesOf({ propagation: { inject: ['preserve', 'zipkin', 5], default_format: 'b3' } })).toEqual([
      { path: 'config.propagation.inject[1]', reason: `expected one of: ${INJECT_LIST}` },
      { path: 'config.propagation.inject[2]', reason: 'expected a string' },
    ]);
  });

  test('default_format: a format, not preserve', () => {
    for (const bad of ['preserve', 'ignore', 'B3']) {
      expect(issueOf({ propagation: { default_format: bad } })).toEqual({
        path: 'config.propagation.default_format',
        reason: `expected one of: ${FORMAT_LIST}`,
      });
    }
    for (const ok of FORMAT_LIST.split(', ')) {
      expect(validateConfig({ propagation: { default_format: ok } }).propagation.default_format).toBe(ok);
    }
  });

  test('clear header names', () => {
    expect(
      validateConfig({ propagation: { clear: ['A-z_0-9', 'x'], default_format: 'b3' } }).propagation.clear,
    ).toEqual(['A-z_0-9', 'x']);
    expect(issuesOf({ propagation: { clear: ['ok', 'x.y', 'a b', 'é', ':authority'], default_format: 'b3' } })).toEqual(
      [
        {
          path: 'config.propagation.clear[1]',
          reason: "bad header name 'x.y', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
        },
        {
          path: 'config.propagation.clear[2]',
          reason: "bad header name 'a b', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
        },
        {
          path: 'config.propagation.clear[3]',
          reason: "bad header name 'é', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
        },
        {
          path: 'config.propagation.clear[4]',
          reason: "bad header name ':authority', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
        },
      ],
    );
  });

  test("an empty clear header name: Kong's string length check fires before the header-name check", () => {
    expect(issueOf({ propagation: { clear: [''], default_format: 'b3' } })).toEqual({
      path: 'config.propagation.clear[0]',
      reason: 'length must be at least 1',
    });
  });
});

describe('unknown fields', () => {
  test('at every level, at their own path', () => {
    expect(issuesOf({ foo: 1 })).toEqual([{ path: 'config.foo', reason: 'unknown field' }]);
    expect(issuesOf({ queue: { foo: 1 } })).toEqual([{ path: 'config.queue.foo', reason: 'unknown field' }]);
    expect(issuesOf({ propagation: { default_format: 'b3', foo: 1 } })).toEqual([
      { path: 'config.propagation.foo', reason: 'unknown field' },
    ]);
  });

  test('a null unknown field is still unknown', () => {
    expect(issuesOf({ bar: null })).toEqual([{ path: 'config.bar', reason: 'unknown field' }]);
  });

  test('camelCase spellings and legacy queue fields are unknown', () => {
    expect(issuesOf({ sampleRatio: 1, queue: { queue_size: 10, batch_flush_delay: 2 } })).toEqual([
      { path: 'config.queue.queue_size', reason: 'unknown field' },
      { path: 'config.queue.batch_flush_delay', reason: 'unknown field' },
      { path: 'config.sampleRatio', reason: "unknown field (did you mean 'sample_ratio'?)" },
    ]);
  });

  test("a key close to a field of its own record gets a suggestion after Kong's text", () => {
    expect(
      issuesOf({
        sample_rate: 1,
        htpp_endpoint: 'http://z:9411/api/v2/spans',
        Local_Service_Name: 'x',
        queue: { max_batch_sise: 10, max_entires: 5, max_byte: 1 },
        propagation: { default_format: 'b3', injcet: ['w3c'], extract: ['b3'] },
        static_tags: [{ name: 'a', valeu: 'b' }],
      }),
    ).toEqual([
      { path: 'config.static_tags[0].value', reason: 'required field missing' },
      { path: 'config.static_tags[0].valeu', reason: "unknown field (did you mean 'value'?)" },
      { path: 'config.queue.max_batch_sise', reason: "unknown field (did you mean 'max_batch_size'?)" },
      { path: 'config.queue.max_entires', reason: "unknown field (did you mean 'max_entries'?)" },
      { path: 'config.queue.max_byte', reason: "unknown field (did you mean 'max_bytes'?)" },
      { path: 'config.propagation.injcet', reason: "unknown field (did you mean 'inject'?)" },
      { path: 'config.sample_rate', reason: "unknown field (did you mean 'sample_ratio'?)" },
      { path: 'config.htpp_endpoint', reason: "unknown field (did you mean 'http_endpoint'?)" },
      { path: 'config.Local_Service_Name', reason: "unknown field (did you mean 'local_service_name'?)" },
    ]);
  });

  test('no suggestion when nothing is close, nor for very short keys, nor from another record', () => {
    expect(
      issuesOf({ id: 1, tag: 'x', queue: { sample_ratio: 1 }, propagation: { default_format: 'b3', clean: [] } }),
    ).toEqual([
      { path: 'config.queue.sample_ratio', reason: 'unknown field' },
      { path: 'config.propagation.clean', reason: "unknown field (did you mean 'clear'?)" },
      { path: 'config.id', reason: 'unknown field' },
      { path: 'config.tag', reason: 'unknown field' },
    ]);
  });

  test('prototype-ish keys from JSON are unknown fields, not lookups', () => {
    const input = JSON.parse('{"__proto__": {"sample_ratio": 1}, "constructor": 1}') as unknown;
    expect(issuesOf(input)).toEqual([
      { path: 'config.__proto__', reason: 'unknown field' },
      { path: 'config.constructor', reason: 'unknown field' },
    ]);
  });

  test('an object with its own prototype is not a record, so inherited fields are never read', () => {
    const input = Object.create({ sample_ratio: 1 }) as object;
    expect(issueOf(input)).toEqual({ path: 'config', reason: 'expected a record' });
  });
});

describe('ConfigError', () => {
  test('one issue: message is "<path>: <reason>"', () => {
    let error: unknown;
    try {
      validateConfig({ sample_ratio: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(Error);
    const e = error as ConfigError;
    expect(e.name).toBe('ConfigError');
    expect(e.message).toBe('config.sample_ratio: value should be between 0 and 1');
    expect(e.path).toBe('config.sample_ratio');
    expect(e.reason).toBe('value should be between 0 and 1');
    expect(e.errors).toEqual([{ path: 'config.sample_ratio', reason: 'value should be between 0 and 1' }]);
  });

  test('the repeated-tag message', () => {
    expect(() =>
      validateConfig({
        static_tags: [
          { name: 'foo', value: 'a' },
          { name: 'foo', value: 'b' },
        ],
      }),
    ).toThrow(new ConfigError([{ path: 'config.static_tags', reason: 'repeated tags are not allowed: foo' }]));
    try {
      validateConfig({
        static_tags: [
          { name: 'foo', value: 'a' },
          { name: 'foo', value: 'b' },
        ],
      });
    } catch (e) {
      expect((e as ConfigError).message).toBe('config.static_tags: repeated tags are not allowed: foo');
    }
  });

  test('several issues: all listed, one per line, in schema order then unknown keys', () => {
    let error: ConfigError | undefined;
    try {
      validateConfig({
        zzz: true,
        queue: { max_batch_size: 0, foo: 1 },
        sample_ratio: 7,
        local_service_name: '',
        propagation: { extract: ['nope'] },
        http_endpoint: 'zipkin:9411',
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeDefined();
    const expected = [
      { path: 'config.local_service_name', reason: 'length must be at least 1' },
      { path: 'config.http_endpoint', reason: 'missing host in url' },
      { path: 'config.sample_ratio', reason: 'value should be between 0 and 1' },
      { path: 'config.queue.max_batch_size', reason: 'value should be between 1 and 1000000' },
      { path: 'config.queue.foo', reason: 'unknown field' },
      { path: 'config.propagation.extract[0]', reason: `expected one of: ${EXTRACT_LIST}` },
      { path: 'config.propagation.default_format', reason: 'required field missing' },
      { path: 'config.zzz', reason: 'unknown field' },
    ];
    expect(error?.errors).toEqual(expected);
    expect(error?.message).toBe(expected.map((i) => `${i.path}: ${i.reason}`).join('\n'));
    expect(error?.path).toBe('config.local_service_name');
    expect(error?.reason).toBe('length must be at least 1');
  });

  test('options.path prefixes every path', () => {
    expect(issuesOf({ sample_ratio: -1, queue: { x: 1 } }, 'plugins[2].config')).toEqual([
      { path: 'plugins[2].config.sample_ratio', reason: 'value should be between 0 and 1' },
      { path: 'plugins[2].config.queue.x', reason: 'unknown field' },
    ]);
  });

  test('errors are frozen and a ConfigError needs an issue', () => {
    const e = new ConfigError([{ path: 'a', reason: 'b' }]);
    expect(Object.isFrozen(e.errors)).toBe(true);
    expect(Object.isFrozen(e.errors[0])).toBe(true);
    expect(() => new ConfigError([])).toThrow(TypeError);
  });
});

describe('decK files pasted verbatim', () => {
  test('a decK dump of a default zipkin plugin', () => {
    const file = parseYaml(`
_format_version: "3.0"
plugins:
- config:
    connect_timeout: 2000
    default_header_type: b3
    default_service_name: null
    header_type: preserve
    http_endpoint: http://zipkin.internal:9411/api/v2/spans
    http_response_header_for_traceid: null
    http_span_name: method
    include_credential: true
    local_service_name: kong
    phase_duration_flavor: annotations
    propagation:
      clear: null
      default_format: b3
      extract: null
      inject: null
    queue:
      concurrency_limit: 1
      initial_retry_delay: 0.01
      max_batch_size: 1
      max_bytes: null
      max_coalescing_delay: 1
      max_entries: 10000
      max_retry_delay: 60
      max_retry_time: 60
    read_timeout: 5000
    sample_ratio: 0.001
    send_timeout: 5000
    static_tags: null
    tags_header: Zipkin-Tags
    traceid_byte_count: 16
  enabled: true
  name: zipkin
  protocols:
  - grpc
  - grpcs
  - http
  - https
`) as { plugins: { config: unknown }[] };
    expect(validateConfig(file.plugins[0].config)).toEqual({
      ...ALL_DEFAULTS,
      http_endpoint: 'http://zipkin.internal:9411/api/v2/spans',
    });
  });

  test('a customised plugin with propagation, static tags and a batching queue', () => {
    const file = parseYaml(`
_format_version: "3.0"
services:
- name: orders
  url: http://orders.internal:8080
  plugins:
  - name: zipkin
    config:
      local_service_name: edge-gateway
      http_endpoint: https://collector.example.com:9411/api/v2/spans
      sample_ratio: 1
      default_service_name: unknown-upstream
      include_credential: false
      traceid_byte_count: 8
      header_type: w3c
      default_header_type: jaeger
      tags_header: X-Trace-Tags
      static_tags:
      - name: env
        value: production
      - name: http.host
        value: api.example.com
      http_span_name: method_path
      connect_timeout: 100
      send_timeout: 250
      read_timeout: 250
      http_response_header_for_traceid: X-Trace-Id
      phase_duration_flavor: tags
      queue:
        max_batch_size: 200
        max_coalescing_delay: 0.5
        max_entries: 50000
        max_bytes: 1048576
        max_retry_time: -1
        initial_retry_delay: 0.05
        max_retry_delay: 10
        concurrency_limit: -1
      propagation:
        extract: [w3c, b3]
        inject: [preserve, datadog]
        clear: [x-b3-traceid, x-b3-spanid]
        default_format: w3c
`) as { services: { plugins: { config: unknown }[] }[] };
    const expected: ZipkinConfig = {
      local_service_name: 'edge-gateway',
      http_endpoint: 'https://collector.example.com:9411/api/v2/spans',
      sample_ratio: 1,
      default_service_name: 'unknown-upstream',
      include_credential: false,
      traceid_byte_count: 8,
      header_type: 'w3c',
      default_header_type: 'jaeger',
      tags_header: 'X-Trace-Tags',
      static_tags: [
        { name: 'env', value: 'production' },
        { name: 'http.host', value: 'api.example.com' },
      ],
      http_span_name: 'method_path',
      connect_timeout: 100,
      send_timeout: 250,
      read_timeout: 250,
      http_response_header_for_traceid: 'X-Trace-Id',
      phase_duration_flavor: 'tags',
      queue: {
        max_batch_size: 200,
        max_coalescing_delay: 0.5,
        max_entries: 50000,
        max_bytes: 1048576,
        max_retry_time: -1,
        initial_retry_delay: 0.05,
        max_retry_delay: 10,
        concurrency_limit: -1,
      },
      propagation: {
        extract: ['w3c', 'b3'],
        inject: ['preserve', 'datadog'],
        clear: ['x-b3-traceid', 'x-b3-spanid'],
        default_format: 'w3c',
      },
    };
    expect(validateConfig(file.services[0].plugins[0].config)).toEqual(expected);
  });

  test('the JSON form of the Admin API works the same', () => {
    const body = JSON.parse(
      '{"sample_ratio":0.25,"http_endpoint":"http://zipkin:9411/api/v2/spans","queue":{"max_batch_size":10},' +
        '"propagation":{"extract":["b3"],"inject":["b3-single"],"default_format":"b3-single"}}',
    ) as unknown;
    const c = validateConfig(body);
    expect(c.sample_ratio).toBe(0.25);
    expect(c.queue).toEqual({ ...ALL_DEFAULTS.queue, max_batch_size: 10 });
    expect(c.propagation).toEqual({ extract: ['b3'], inject: ['b3-single'], clear: null, default_format: 'b3-single' });
  });
});
