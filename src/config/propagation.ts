/**
 * Kong's legacy mapping (§1.3, `get_plugin_params` in the zipkin handler): which
 * propagation record the engine runs with, given `header_type`, `default_header_type` and
 * `propagation`. Plus the deprecation warnings Kong's schema raises for the legacy fields.
 */
import { type EffectivePropagation, type InjectEntry, LEGACY_EXTRACT_ORDER, type ZipkinConfig } from './types';

const NONE: readonly never[] = Object.freeze([]);
const PRESERVE_ONLY: readonly InjectEntry[] = Object.freeze(['preserve']);
const LEGACY_EXTRACT = Object.freeze([...LEGACY_EXTRACT_ORDER]);

// Kong computes this per request; a config is frozen, so compute it once per config.
const cache = new WeakMap<ZipkinConfig, EffectivePropagation>();

function compute(config: ZipkinConfig): EffectivePropagation {
  const p = config.propagation;
  // Any of the new fields present (an empty array counts): the record is used as given and
  // the legacy fields are ignored entirely.
  if (p.extract !== null || p.inject !== null || p.clear !== null) {
    return Object.freeze({
      extract: p.extract,
      inject: p.inject ?? NONE,
      clear: p.clear ?? NONE,
      default_format: p.default_format,
    });
  }
  // Legacy path: default_header_type always wins over propagation.default_format here.
  const defaultFormat = config.default_header_type;
  const headerType = config.header_type;
  let extract: EffectivePropagation['extract'];
  let inject: EffectivePropagation['inject'];
  if (headerType === 'preserve') {
    extract = LEGACY_EXTRACT;
    inject = PRESERVE_ONLY;
  } else if (headerType === 'ignore') {
    extract = null;
    inject = Object.freeze([defaultFormat]);
  } else {
    // `preserve` first: with nothing extracted it falls back to default_header_type, so
    // two formats are injected (e.g. header_type=w3c sends x-b3-* and traceparent).
    extract = LEGACY_EXTRACT;
    inject = Object.freeze<InjectEntry[]>(['preserve', headerType]);
  }
  return Object.freeze({ extract, inject, clear: NONE, default_format: defaultFormat });
}

/**
 * The propagation record the engine runs with (frozen; the same object for the same
 * config). `extract: null` means no extraction; `inject` / `clear` are never null.
 */
export function effectivePropagation(config: ZipkinConfig): EffectivePropagation {
  let effective = cache.get(config);
  if (effective === undefined) {
    effective = compute(config);
    cache.set(config, effective);
  }
  return effective;
}

/**
 * Kong's deprecation helper appends `(deprecated after <v>)`; the zipkin schema passes
 * `removal_in_version = "4.0"` as that `after` value, hence the odd wording.
 */
const DEPRECATION_SUFFIX = ' (deprecated after 4.0)';

export const HEADER_TYPE_DEPRECATION =
  'zipkin: config.header_type is deprecated, please use config.propagation options instead' + DEPRECATION_SUFFIX;
export const DEFAULT_HEADER_TYPE_DEPRECATION =
  'zipkin: config.default_header_type is deprecated, please use config.propagation.default_format instead' +
  DEPRECATION_SUFFIX;

/**
 * The warnings Kong logs (warn level) when a config is written: one per legacy field whose
 * value differs from its old default (`preserve`, `b3`).
 */
export function deprecationWarnings(config: ZipkinConfig): string[] {
  const warnings: string[] = [];
  if (config.header_type !== 'preserve') warnings.push(HEADER_TYPE_DEPRECATION);
  if (config.default_header_type !== 'b3') warnings.push(DEFAULT_HEADER_TYPE_DEPRECATION);
  return warnings;
}
