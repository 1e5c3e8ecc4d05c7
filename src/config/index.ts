/** Kong's zipkin `config` record: types, defaults, validation, legacy propagation mapping. */
export * from './types';
export { PROPAGATION_DEFAULTS, PROTECTED_TAGS, QUEUE_DEFAULTS, TIMEOUT_MAX, ZIPKIN_DEFAULTS } from './defaults';
export { ConfigError, type ConfigIssue } from './errors';
export { type ValidateOptions, validateConfig } from './validate';
export {
  DEFAULT_HEADER_TYPE_DEPRECATION,
  HEADER_TYPE_DEPRECATION,
  deprecationWarnings,
  effectivePropagation,
} from './propagation';
