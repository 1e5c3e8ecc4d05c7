/**
 * Kong's defaults and fixed lists for the zipkin `config` record (Kong 3.10,
 * `kong/plugins/zipkin/schema.lua`, `kong/tools/queue_schema.lua`,
 * `kong/observability/tracing/propagation/schema.lua`).
 */
import type { PropagationConfig, QueueConfig, ZipkinConfig } from './types';

/** `config.queue` defaults (§6.1). Zipkin keeps `max_batch_size` 1: each span is POSTed alone. */
export const QUEUE_DEFAULTS: Readonly<QueueConfig> = Object.freeze({
  max_batch_size: 1,
  max_coalescing_delay: 1,
  max_entries: 10000,
  max_bytes: null,
  max_retry_time: 60,
  initial_retry_delay: 0.01,
  max_retry_delay: 60,
  concurrency_limit: 1,
});

/**
 * The `config.propagation` record used when the whole record is absent. A record the user
 * gives is not merged with it: its `default_format` is then required.
 */
export const PROPAGATION_DEFAULTS: Readonly<PropagationConfig> = Object.freeze({
  extract: null,
  inject: null,
  clear: null,
  default_format: 'b3',
});

/** Upper bound of `connect_timeout` / `send_timeout` / `read_timeout` (Kong's `typedefs.timeout`: 2^31 - 2 ms). */
export const TIMEOUT_MAX = 2147483646;

/** Tag names a `static_tags[].name` must not take, in Kong's order (it is the error text's order too). */
export const PROTECTED_TAGS: readonly string[] = Object.freeze([
  'error',
  'http.method',
  'http.path',
  'http.status_code',
  'kong.balancer.state',
  'kong.balancer.try',
  'kong.consumer',
  'kong.credential',
  'kong.node.id',
  'kong.route',
  'kong.service',
  'lc',
  'peer.hostname',
]);

/** The resolved record of a plugin configured with `config: {}`. Deeply frozen. */
export const ZIPKIN_DEFAULTS: Readonly<ZipkinConfig> = Object.freeze({
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
  queue: QUEUE_DEFAULTS,
  propagation: PROPAGATION_DEFAULTS,
});
