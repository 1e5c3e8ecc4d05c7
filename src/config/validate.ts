/**
 * Validation of the zipkin `config` record the way Kong's schema library does it
 * (`kong/db/schema/init.lua`): same types, defaults, checks, check order and texts.
 *
 * Per field, as Kong: the type check first, then `not_one_of`, `one_of`, `between`, the
 * implicit "strings are non-empty" rule (`length must be at least 1`), then the custom
 * validator; only the first failing check is reported. Array elements are all checked
 * and the array's own check runs only when every element passed. Every wrong field is
 * reported, not just the first.
 *
 * Where this differs from Kong, on purpose:
 * - `null` is treated like an absent key: it takes the default, and is `required field
 *   missing` only where there is no default (`propagation.default_format`, static tag
 *   fields, array elements). Kong rejects `null` on its required fields and stores `null`
 *   for optional ones (e.g. `sample_ratio: null`), which then breaks at run time.
 * - `NaN` is `expected a number` (Kong's `between` lets it through).
 * - `http_endpoint` must also parse with Node's `URL` (`could not parse url. Invalid URL`);
 *   Kong accepts such a URL and fails on every send.
 * - `kafka://` and `amqp(s)://` endpoints (beyond Kong, endpoint.ts) are checked by their own
 *   parser, whose texts name what is wrong (`unknown kafka endpoint parameter 'x' …`).
 * - An empty object is not an empty array (Lua cannot tell them apart).
 * - `http_response_header_for_traceid` must be an HTTP token (`checkResponseHeaderName`).
 * - Control characters echoed from the input (a header name, a tag name, an unknown key)
 *   are shown escaped, so an error text is always one line per issue (errors.ts).
 */
import { PROPAGATION_DEFAULTS, PROTECTED_TAGS, QUEUE_DEFAULTS, TIMEOUT_MAX, ZIPKIN_DEFAULTS } from './defaults';
import { EndpointError, isBrokerEndpoint, parseEndpoint } from './endpoint';
import { ConfigError, type ConfigIssue } from './errors';
import { absent, checkValue, type FieldSpec, INVALID, type RecordSpec } from './schema';
import { EXTRACT_FORMATS, INJECT_FORMATS, type ZipkinConfig } from './types';

// Lua `%w` is ASCII alphanumeric; this is luasocket's `url.parse` scheme pattern.
const URL_SCHEME_RE = /^[A-Za-z0-9][A-Za-z0-9+\-.]*:/;
const URL_PORT_RE = /:[^:\]]*$/;
// kong.tools.http validate_header_name: `^[a-zA-Z0-9-_]+$`.
const HEADER_NAME_RE = /^[A-Za-z0-9_-]+$/;
// An HTTP token (RFC 9110 `tchar`): what Node accepts as a header name.
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Kong's `typedefs.url` check: luasocket's `url.parse` must find a host (checked first)
 * and a scheme. Then Node's `URL` must accept it, since that is what the sender uses, or,
 * for a broker endpoint, its parser.
 */
function checkUrl(url: string): string | undefined {
  const scheme = URL_SCHEME_RE.exec(url);
  const rest = scheme === null ? url : url.slice(scheme[0].length);
  let host = '';
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    let authority = end === -1 ? rest.slice(2) : rest.slice(2, end);
    const at = authority.indexOf('@');
    if (at !== -1) authority = authority.slice(at + 1);
    host = authority.replace(URL_PORT_RE, '');
  }
  if (host === '') return 'missing host in url';
  if (scheme === null) return 'missing scheme in url';
  if (isBrokerEndpoint(url)) {
    try {
      parseEndpoint(url);
      return undefined;
    } catch (err) {
      return err instanceof EndpointError ? err.message : String(err);
    }
  }
  try {
    new URL(url);
  } catch {
    return 'could not parse url. Invalid URL';
  }
  return undefined;
}

function checkHeaderName(name: string): string | undefined {
  // The empty name never gets here: Kong's implicit `length must be at least 1` runs first.
  if (HEADER_NAME_RE.test(name)) return undefined;
  return `bad header name '${name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`;
}

/**
 * `http_response_header_for_traceid` must be a header name Node can send. Kong does not
 * validate it (nginx then sends whatever it is given); here a name with a space, a colon,
 * CR or LF would make Node throw on every response, so it is rejected when the config is
 * loaded instead (a deliberate difference). Any token is allowed, so every name Kong users
 * have in practice (`X-Trace-Id`, `x_trace.id`) stays valid.
 */
function checkResponseHeaderName(name: string): string | undefined {
  if (TOKEN_RE.test(name)) return undefined;
  return `bad header name '${name}', allowed characters are A-Z, a-z, 0-9 and !#$%&'*+-.^_\`|~`;
}

function checkStaticTags(tags: readonly unknown[]): string | undefined {
  const seen = new Set<string>();
  for (const tag of tags) {
    const name = (tag as { name: string }).name;
    if (seen.has(name)) return `repeated tags are not allowed: ${name}`;
    seen.add(name);
  }
  return undefined;
}

function record(
  fields: ReadonlyArray<readonly [string, FieldSpec]>,
  extra: Omit<RecordSpec, 'type' | 'fields'> = {},
): RecordSpec {
  return { type: 'record', fields: new Map(fields), ...extra };
}

// Kong's one_of lists, in Kong's order, since the order shows in the error text.
const HEADER_TYPE_VALUES = [
  'preserve',
  'ignore',
  'b3',
  'b3-single',
  'w3c',
  'jaeger',
  'ot',
  'aws',
  'datadog',
  'gcp',
  'instana',
];
const DEFAULT_HEADER_TYPE_VALUES = ['b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'datadog', 'gcp', 'instana'];
// Kong builds these from a hash (`pairs`), so its order is LuaJIT's; this is the declaration order.
const INJECT_VALUES = ['preserve', ...INJECT_FORMATS];

const D = ZIPKIN_DEFAULTS;
const Q = QUEUE_DEFAULTS;

const QUEUE_SCHEMA = record(
  [
    ['max_batch_size', { type: 'integer', default: Q.max_batch_size, between: [1, 1000000] }],
    ['max_coalescing_delay', { type: 'number', default: Q.max_coalescing_delay, between: [0, 3600] }],
    ['max_entries', { type: 'integer', default: Q.max_entries, between: [1, 1000000] }],
    ['max_bytes', { type: 'integer' }],
    ['max_retry_time', { type: 'number', default: Q.max_retry_time }],
    ['initial_retry_delay', { type: 'number', default: Q.initial_retry_delay, between: [0.001, 1000000] }],
    ['max_retry_delay', { type: 'number', default: Q.max_retry_delay, between: [0.001, 1000000] }],
    ['concurrency_limit', { type: 'integer', default: Q.concurrency_limit, oneOf: [-1, 1] }],
  ],
  { required: true },
);

const PROPAGATION_SCHEMA = record(
  [
    ['extract', { type: 'array', elements: { type: 'string', oneOf: EXTRACT_FORMATS } }],
    ['clear', { type: 'array', elements: { type: 'string', check: checkHeaderName } }],
    ['inject', { type: 'array', elements: { type: 'string', oneOf: INJECT_VALUES } }],
    ['default_format', { type: 'string', required: true, oneOf: INJECT_FORMATS }],
  ],
  { required: true, default: { default_format: PROPAGATION_DEFAULTS.default_format } },
);

const STATIC_TAG_SCHEMA = record([
  ['name', { type: 'string', required: true, notOneOf: PROTECTED_TAGS }],
  ['value', { type: 'string', required: true }],
]);

const TIMEOUT_RANGE = [0, TIMEOUT_MAX] as const;

const CONFIG_SCHEMA = record(
  [
    ['local_service_name', { type: 'string', required: true, default: D.local_service_name }],
    ['http_endpoint', { type: 'string', check: checkUrl }],
    ['sample_ratio', { type: 'number', default: D.sample_ratio, between: [0, 1] }],
    ['default_service_name', { type: 'string' }],
    ['include_credential', { type: 'boolean', required: true, default: D.include_credential }],
    ['traceid_byte_count', { type: 'integer', required: true, default: D.traceid_byte_count, oneOf: [8, 16] }],
    ['header_type', { type: 'string', required: true, default: D.header_type, oneOf: HEADER_TYPE_VALUES }],
    [
      'default_header_type',
      { type: 'string', required: true, default: D.default_header_type, oneOf: DEFAULT_HEADER_TYPE_VALUES },
    ],
    ['tags_header', { type: 'string', required: true, default: D.tags_header }],
    ['static_tags', { type: 'array', elements: STATIC_TAG_SCHEMA, check: checkStaticTags }],
    ['http_span_name', { type: 'string', required: true, default: D.http_span_name, oneOf: ['method', 'method_path'] }],
    ['connect_timeout', { type: 'integer', default: D.connect_timeout, between: TIMEOUT_RANGE }],
    ['send_timeout', { type: 'integer', default: D.send_timeout, between: TIMEOUT_RANGE }],
    ['read_timeout', { type: 'integer', default: D.read_timeout, between: TIMEOUT_RANGE }],
    ['http_response_header_for_traceid', { type: 'string', check: checkResponseHeaderName }],
    [
      'phase_duration_flavor',
      { type: 'string', required: true, default: D.phase_duration_flavor, oneOf: ['annotations', 'tags'] },
    ],
    ['queue', QUEUE_SCHEMA],
    ['propagation', PROPAGATION_SCHEMA],
  ],
  { required: true },
);

export interface ValidateOptions {
  /** Path of the record in error texts; `config` by default (Kong's field name). */
  path?: string;
}

/**
 * Validates a Kong zipkin `config` object (snake_case, as in decK files) and returns a
 * new, deeply frozen record with every default filled in. The input is not modified.
 * Throws `ConfigError` listing every wrong field.
 */
export function validateConfig(input: unknown, options: ValidateOptions = {}): ZipkinConfig {
  const path = options.path ?? 'config';
  const issues: ConfigIssue[] = [];
  const result = input == null ? absent(CONFIG_SCHEMA, path, issues) : checkValue(CONFIG_SCHEMA, input, path, issues);
  if (issues.length > 0 || result === INVALID) throw new ConfigError(issues);
  return result as ZipkinConfig;
}
