import type { ExtractFormat, InjectFormat } from '../config/types';
import type { FormatExtractor, FormatInjector } from './context';
import { awsExtractor, awsInjector } from './aws';
import { b3Extractor, b3Injector, b3SingleInjector } from './b3';
import { datadogExtractor, datadogInjector } from './datadog';
import { gcpExtractor, gcpInjector } from './gcp';
import { instanaExtractor, instanaInjector } from './instana';
import { jaegerExtractor, jaegerInjector } from './jaeger';
import { otExtractor, otInjector } from './ot';
import { w3cExtractor, w3cInjector } from './w3c';

/** W3C's traceparent parser, for `tracestate` passed on next to an untouched `traceparent`. */
export { parseTraceparent } from './w3c';

/** The one place that knows every format; format files do not know each other. */
export const EXTRACTORS: Readonly<Record<ExtractFormat, FormatExtractor>> = {
  w3c: w3cExtractor,
  b3: b3Extractor,
  jaeger: jaegerExtractor,
  ot: otExtractor,
  datadog: datadogExtractor,
  aws: awsExtractor,
  gcp: gcpExtractor,
  instana: instanaExtractor,
};

export const INJECTORS: Readonly<Record<InjectFormat, FormatInjector>> = {
  w3c: w3cInjector,
  b3: b3Injector,
  'b3-single': b3SingleInjector,
  jaeger: jaegerInjector,
  ot: otInjector,
  datadog: datadogInjector,
  aws: awsInjector,
  gcp: gcpInjector,
  instana: instanaInjector,
};

/**
 * Fixed headers each injector may write (baggage prefixes excluded), for
 * `TextMapPropagator.fields()`.
 */
export const INJECTED_HEADERS: Readonly<Record<InjectFormat, readonly string[]>> = {
  w3c: ['traceparent', 'tracestate'],
  b3: ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'],
  'b3-single': ['b3'],
  jaeger: ['uber-trace-id'],
  ot: ['ot-tracer-traceid', 'ot-tracer-spanid', 'ot-tracer-sampled'],
  datadog: ['x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority'],
  aws: ['x-amzn-trace-id'],
  gcp: ['x-cloud-trace-context'],
  instana: ['x-instana-t', 'x-instana-s', 'x-instana-l'],
};

/** The injectors that write baggage headers (`uberctx-*`, `ot-baggage-*`). */
export const WRITES_BAGGAGE: ReadonlySet<InjectFormat> = new Set<InjectFormat>(['jaeger', 'ot']);
