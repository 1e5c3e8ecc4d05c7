import type { Logger } from '../logger';

/**
 * Kong's internal tracing context (§4.1). Ids are lowercase hex strings standing for
 * Kong's byte strings: a `traceId` of 32 characters is 16 bytes. After the engine has
 * normalised an extracted context, `traceId` is 32 characters and `spanId` / `parentId`
 * are 16; a format's extractor may return other (even) lengths, which the engine resizes.
 */
export interface TraceContext {
  traceId?: string;
  spanId?: string;
  parentId?: string;
  /** b3 and jaeger: the request span reuses the incoming span id (shared-span model). */
  reuseSpanId?: boolean;
  /** true / false is a decision; undefined is "no decision" (sample_ratio decides). */
  shouldSample?: boolean;
  baggage?: Readonly<Record<string, string>>;
  /** b3 `x-b3-flags` value, or `"1"` for debug. */
  flags?: string;
  /**
   * The whole W3C trace-flags byte (§4.1: informational in Kong). Only its random bit
   * (`0x02`) goes upstream again, with the trace id it came with (docs/design.md difference 8).
   */
  w3cFlags?: number;
  /**
   * w3c only: the incoming `tracestate`, validated and normalised (`k=v,k=v`); absent when
   * the header was absent, empty or invalid (docs/design.md difference 8).
   */
  traceState?: string;
  /** b3 only: the context came from the single `b3` header (or tracestate `b3=`). */
  singleHeader?: boolean;
  /** byte length of the trace id before normalisation; injection keeps it where allowed. */
  traceIdOriginalSize?: number;
}

/** Request headers as Node gives them: lowercase names; a repeated header may be an array. */
export type HeaderValue = string | readonly string[] | undefined;
export interface RequestHeaders {
  readonly [name: string]: HeaderValue;
}

/** Where injected headers go (the upstream request). Names are lowercase. */
export interface HeaderWriter {
  set(name: string, value: string): void;
  remove(name: string): void;
}

/** One format's parser (§4.3). */
export interface FormatExtractor {
  /** The parser runs only if at least one of these (lowercase) headers is present. */
  readonly triggers: readonly string[];
  /**
   * Parse the format's headers. Problems are reported with Kong's warning text through
   * `log.warn` and the bad parts ignored; it never throws. Returns undefined for "nothing".
   */
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined;
}

export type TraceIdSize = 8 | 16;

/** A context ready for one injector: ids already resized (trace to 8 or 16 bytes, span/parent to 8). */
export interface InjectContext {
  traceId?: string;
  spanId?: string;
  parentId?: string;
  shouldSample?: boolean;
  baggage?: Readonly<Record<string, string>>;
  flags?: string;
  /** W3C trace-flags whose random bit (`0x02`) the w3c injector sends (the sampled bit is `shouldSample`). */
  w3cFlags?: number;
  /** The validated `tracestate` the w3c injector sends with its `traceparent`; absent: none is sent. */
  traceState?: string;
}

/** One format's writer (§4.5). */
export interface FormatInjector {
  /** Allowed trace id sizes in bytes; the first is the default. */
  readonly sizes: readonly TraceIdSize[];
  /** Context fields that must be present, checked by the engine before `inject`. */
  readonly requires: readonly ('traceId' | 'spanId')[];
  /** Key of this injector's entry in the log `trace_id` object (§7). */
  readonly logKey: string;
  /** Write the headers; return the formatted trace id for the log `trace_id` object. */
  inject(ctx: InjectContext, headers: HeaderWriter): string;
}

/** Read a header as a single string: the first value of a repeated header. */
export function firstHeader(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.length > 0 ? value[0] : undefined;
}
