/**
 * Kong's zipkin plugin `config` record (Kong 3.10), spelled exactly as Kong's schema and
 * decK files spell it, so a Kong user can paste theirs. `ZipkinConfig` is the validated
 * record with every default filled in; `ZipkinConfigInput` is what a user may pass.
 */

/** Formats an injector can write (`propagation.inject`, `default_format`, `default_header_type`). */
export const INJECT_FORMATS = ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'] as const;
export type InjectFormat = (typeof INJECT_FORMATS)[number];

/** Formats an extractor can read (`propagation.extract`): no `b3-single`, the b3 extractor reads both. */
export const EXTRACT_FORMATS = ['w3c', 'b3', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'] as const;
export type ExtractFormat = (typeof EXTRACT_FORMATS)[number];

/** An entry of `propagation.inject`: a format or `preserve` (the extracted one). */
export type InjectEntry = InjectFormat | 'preserve';

/** Legacy `header_type` values (deprecated in Kong, removed in 4.0). */
export const HEADER_TYPES = ['preserve', 'ignore', ...INJECT_FORMATS] as const;
export type HeaderType = (typeof HEADER_TYPES)[number];

/** Kong's legacy extraction order, used when only `header_type` is configured (§1.3). */
export const LEGACY_EXTRACT_ORDER: readonly ExtractFormat[] = [
  'b3',
  'w3c',
  'jaeger',
  'ot',
  'datadog',
  'aws',
  'gcp',
  'instana',
];

export interface QueueConfig {
  max_batch_size: number;
  /** seconds */
  max_coalescing_delay: number;
  max_entries: number;
  max_bytes: number | null;
  /** seconds; negative means a single attempt */
  max_retry_time: number;
  /** seconds */
  initial_retry_delay: number;
  /** seconds */
  max_retry_delay: number;
  concurrency_limit: 1 | -1;
}

export interface PropagationConfig {
  extract: ExtractFormat[] | null;
  inject: InjectEntry[] | null;
  clear: string[] | null;
  default_format: InjectFormat;
}

export interface StaticTag {
  name: string;
  value: string;
}

export interface ZipkinConfig {
  local_service_name: string;
  http_endpoint: string | null;
  sample_ratio: number;
  default_service_name: string | null;
  include_credential: boolean;
  traceid_byte_count: 8 | 16;
  header_type: HeaderType;
  default_header_type: InjectFormat;
  tags_header: string;
  static_tags: StaticTag[] | null;
  http_span_name: 'method' | 'method_path';
  /** milliseconds */
  connect_timeout: number;
  /** milliseconds */
  send_timeout: number;
  /** milliseconds */
  read_timeout: number;
  http_response_header_for_traceid: string | null;
  phase_duration_flavor: 'annotations' | 'tags';
  queue: QueueConfig;
  propagation: PropagationConfig;
}

/** What a user may pass: any field may be left out (Kong fills the default) or null. */
export type ZipkinConfigInput = {
  [K in keyof Omit<ZipkinConfig, 'queue' | 'propagation'>]?: ZipkinConfig[K] | null;
} & {
  queue?: { [K in keyof QueueConfig]?: QueueConfig[K] | null } | null;
  /** Kong requires `default_format` in a given record; only a missing record gets the default. */
  propagation?: {
    extract?: ExtractFormat[] | null;
    inject?: InjectEntry[] | null;
    clear?: string[] | null;
    default_format: InjectFormat;
  } | null;
};

/**
 * The propagation record the engine runs with, after Kong's legacy mapping (§1.3).
 * `extract: null` means no extraction at all.
 */
export interface EffectivePropagation {
  extract: readonly ExtractFormat[] | null;
  inject: readonly InjectEntry[];
  clear: readonly string[];
  default_format: InjectFormat;
}
