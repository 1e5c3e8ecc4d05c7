import type { ZipkinConfig } from '../config/types';
import type { Logger } from '../logger';
import type { PropagationEngine } from '../propagation/engine';
import type { RequestTrace } from './request-trace';

/**
 * Turns finished request traces into OTel spans. Two strategies (span-builder.ts): with
 * the plugin's own provider the spans are built at log time with forced ids; with a
 * reused provider they are opened as soon as ids are needed (`opensEarly`).
 */
export interface SpanBuilder {
  readonly opensEarly: boolean;
  /** Create the request and proxy spans and take their ids (reused provider only). */
  open(t: RequestTrace): void;
  /** Build, annotate and end every span of a sampled request. */
  finish(t: RequestTrace, nowUs: number): void;
}

/** What every request trace of one plugin shares, computed once from the config. */
export interface TraceRuntime {
  readonly config: ZipkinConfig;
  readonly logger: Logger;
  readonly engine: PropagationEngine;
  readonly nodeId: string;
  readonly sampleRatio: number;
  readonly traceIdBytes: 8 | 16;
  /** `phase_duration_flavor: annotations` */
  readonly annotations: boolean;
  /** `tags_header`, lowercased for the lookup in Node's lowercase header names. */
  readonly tagsHeader: string;
  /** `http_response_header_for_traceid` */
  readonly responseHeader: string | null;
  readonly spans: SpanBuilder;
}
