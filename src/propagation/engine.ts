import type { EffectivePropagation, ExtractFormat, InjectFormat } from '../config/types';
import { type Logger, silentLogger } from '../logger';
import type {
  FormatExtractor,
  FormatInjector,
  HeaderWriter,
  InjectContext,
  RequestHeaders,
  TraceContext,
} from './context';
import { limitBaggage } from './baggage';
import { EXTRACTORS, INJECTORS, parseTraceparent, WRITES_BAGGAGE } from './formats';
import { resizeHex } from './hex';
import { MAX_TRACE_HEADER_BYTES, traceHeaderTooLarge } from './limits';
import { normaliseTraceState } from './tracestate';

/** What extraction found: the winning format's context, normalised (§4.2), or nothing. */
export interface ExtractResult {
  context: TraceContext | undefined;
  /** The format that won, remembered for `preserve`. */
  format: ExtractFormat | undefined;
  /** Trace headers ignored for their size: the integrations remove them from the upstream request. */
  oversized?: readonly string[];
}

/** The log serializer's `trace_id` object (§7): injector key → formatted trace id. */
export type LogTraceIds = Record<string, string>;

const NOTHING: ExtractResult = Object.freeze({ context: undefined, format: undefined });

interface ExtractStep {
  readonly format: ExtractFormat;
  readonly extractor: FormatExtractor;
}

/**
 * Kong's propagation engine (§4.2–§4.6) for one effective propagation record. Built once
 * per plugin; `extract`, `clear` and `inject` run per request and keep no request state.
 */
export class PropagationEngine {
  private readonly steps: readonly ExtractStep[] | null;
  /** Every trigger header of the extracted formats: a request with none has nothing to extract. */
  private readonly triggerNames: ReadonlySet<string>;
  private readonly injectEntries: readonly (InjectFormat | 'preserve')[];
  private readonly clearNames: readonly string[];
  private readonly defaultFormat: InjectFormat;
  /** `clear` names `tracestate`: it is never written again. */
  private readonly clearsTraceState: boolean;
  /** `clear` names `traceparent`: a `tracestate` passed on untouched would lose its `traceparent`. */
  private readonly clearsTraceparent: boolean;

  constructor(
    readonly config: EffectivePropagation,
    private readonly log: Logger,
  ) {
    this.steps =
      config.extract === null ? null : config.extract.map((format) => ({ format, extractor: EXTRACTORS[format] }));
    this.triggerNames = new Set(this.steps === null ? [] : this.steps.flatMap((step) => step.extractor.triggers));
    this.injectEntries = config.inject;
    this.clearNames = config.clear.map((name) => name.toLowerCase());
    this.defaultFormat = config.default_format;
    this.clearsTraceState = this.clearNames.includes('tracestate');
    this.clearsTraceparent = this.clearNames.includes('traceparent');
  }

  /**
   * Extraction in the configured order; the first format yielding a non-empty context wins.
   * A format with a trace header over `MAX_TRACE_HEADER_BYTES` is skipped with a warning
   * (ours: Kong has no limit), so nothing derived from that header is injected upstream.
   */
  extract(headers: RequestHeaders): ExtractResult {
    const steps = this.steps;
    if (steps === null || !mayHaveTrigger(headers, this.triggerNames)) return NOTHING;
    let oversized: string[] | undefined;
    for (let i = 0; i < steps.length; i++) {
      const { format, extractor } = steps[i];
      const present = presentTriggers(headers, extractor.triggers);
      if (present === NONE_PRESENT) continue;
      if (present !== ALL_FIT) {
        this.log.warn(traceHeaderTooLarge(present));
        (oversized ??= []).push(present);
        continue;
      }
      const raw = extractor.extract(headers, this.log);
      if (raw === undefined) continue;
      const context = normalise(raw);
      if (isNonEmpty(context)) return oversized === undefined ? { context, format } : { context, format, oversized };
    }
    return oversized === undefined ? NOTHING : { context: undefined, format: undefined, oversized };
  }

  /** Remove the configured `clear` headers (before injection, whatever extraction found). */
  clear(headers: HeaderWriter): void {
    const names = this.clearNames;
    for (let i = 0; i < names.length; i++) headers.remove(names[i]);
  }

  /**
   * Run the injectors in order. `ctx` is the inject context (§4.7); `extractedFrom` is the
   * format that won extraction, for `preserve`. Returns the `trace_id` log object, or
   * undefined when nothing was injected.
   */
  inject(ctx: TraceContext, extractedFrom: ExtractFormat | undefined, headers: HeaderWriter): LogTraceIds | undefined {
    const entries = this.injectEntries;
    if (entries.length === 0) return undefined;
    let ids: LogTraceIds | undefined;
    let errors: string[] | undefined;
    let trace16: string | undefined;
    let trace8: string | undefined;
    const spanId = ctx.spanId === undefined ? undefined : resizeHex(ctx.spanId, 8);
    const parentId = ctx.parentId === undefined ? undefined : resizeHex(ctx.parentId, 8);
    // Baggage is capped (limits.ts) once per call, and only when a format sends it.
    let baggage = ctx.baggage;
    let baggageLimited = baggage === undefined;
    for (let i = 0; i < entries.length; i++) {
      let format = entries[i];
      if (format === 'preserve') {
        format = extractedFrom ?? this.defaultFormat;
        // b3 has one extractor and two injectors: keep the single-header form it came in.
        if (format === 'b3' && ctx.singleHeader === true) format = 'b3-single';
      }
      const injector = INJECTORS[format];
      const invalid = missingField(injector, ctx);
      if (invalid !== undefined) {
        (errors ??= []).push(`${format} injector context is invalid: ${invalid}`);
        continue;
      }
      let traceId: string | undefined;
      if (ctx.traceId !== undefined) {
        const size = chooseSize(injector, ctx.traceIdOriginalSize);
        traceId = size === 16 ? (trace16 ??= resizeHex(ctx.traceId, 16)) : (trace8 ??= resizeHex(ctx.traceId, 8));
      }
      if (!baggageLimited && WRITES_BAGGAGE.has(format)) {
        baggage = limitBaggage(baggage as Readonly<Record<string, string>>, this.log);
        baggageLimited = true;
      }
      const injectCtx: InjectContext = {
        traceId,
        spanId,
        parentId,
        shouldSample: ctx.shouldSample,
        baggage,
        flags: ctx.flags,
        w3cFlags: ctx.w3cFlags,
        traceState: this.clearsTraceState ? undefined : ctx.traceState,
      };
      (ids ??= {})[injector.logKey] = injector.inject(injectCtx, headers);
    }
    if (errors !== undefined) this.log.error(errors.join(', '));
    return ids;
  }

  /**
   * For a proxy that copies the request headers upstream and did not inject w3c: the
   * incoming `traceparent` goes upstream untouched (Kong), and `tracestate` stays with it
   * only when both are valid W3C (normalised); otherwise, or when `clear` names either
   * header, `tracestate` is removed (docs/design.md difference 8). Silent: these headers
   * were not extracted, so they get no warning.
   */
  passTraceState(headers: RequestHeaders, writer: HeaderWriter): void {
    const raw = headers['tracestate'];
    if (raw === undefined) return;
    const traceparent = headers['traceparent'];
    const traceState =
      this.clearsTraceState ||
      this.clearsTraceparent ||
      typeof traceparent !== 'string' ||
      traceparent.length > MAX_TRACE_HEADER_BYTES ||
      parseTraceparent(traceparent, silentLogger) === undefined
        ? undefined
        : normaliseTraceState(raw);
    if (traceState === undefined) writer.remove('tracestate');
    else writer.set('tracestate', traceState);
  }
}

// `tracestate` is bounded by its own grammar (32 members of up to 513 characters, checked by
// a linear parse with an early exit, tracestate.ts), and W3C lets it exceed 8 KiB.
const UNLIMITED = 'tracestate';
const NONE_PRESENT = 0;
const ALL_FIT = 1;

/**
 * False when `headers`, a plain object, has none of `names` as a key: one pass over the
 * request's own header names instead of a lookup of every trigger name (21 with every
 * format), about 3,000 instructions less per request without trace headers (cachegrind).
 * Any other object (a class instance, whose values may come from its prototype) is looked up.
 */
function mayHaveTrigger(headers: RequestHeaders, names: ReadonlySet<string>): boolean {
  const proto: unknown = Object.getPrototypeOf(headers);
  if (proto !== Object.prototype && proto !== null) return true;
  for (const key in headers) if (names.has(key)) return true;
  return false;
}

/**
 * Whether any of the trigger headers is present, and if so whether all fit the size limit
 * (every value of a repeated one): `NONE_PRESENT`, `ALL_FIT`, or the first oversized name.
 */
function presentTriggers(
  headers: RequestHeaders,
  names: readonly string[],
): typeof NONE_PRESENT | typeof ALL_FIT | string {
  let found: typeof NONE_PRESENT | typeof ALL_FIT = NONE_PRESENT;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = headers[name];
    if (value === undefined) continue;
    found = ALL_FIT;
    if (name === UNLIMITED) continue;
    if (typeof value === 'string') {
      if (value.length > MAX_TRACE_HEADER_BYTES) return name;
    } else {
      for (let j = 0; j < value.length; j++) {
        const v = value[j];
        if (typeof v === 'string' && v.length > MAX_TRACE_HEADER_BYTES) return name;
      }
    }
  }
  return found;
}

/**
 * §4.2 step 3: remember the trace id width, then trace → 16 bytes, span and parent → 8.
 * One fixed-shape object (no spread, no dynamic keys): this runs on every extraction.
 */
export function normalise(raw: TraceContext): TraceContext {
  const traceId = raw.traceId;
  return {
    traceId: traceId === undefined ? undefined : resizeHex(traceId, 16),
    spanId: raw.spanId === undefined ? undefined : resizeHex(raw.spanId, 8),
    parentId: raw.parentId === undefined ? undefined : resizeHex(raw.parentId, 8),
    reuseSpanId: raw.reuseSpanId,
    shouldSample: raw.shouldSample,
    baggage: raw.baggage,
    flags: raw.flags,
    w3cFlags: raw.w3cFlags,
    traceState: raw.traceState,
    singleHeader: raw.singleHeader,
    traceIdOriginalSize: traceId === undefined ? undefined : traceId.length / 2,
  };
}

/** Kong's `next(ctx) ~= nil`: any field set counts, even without a trace id (§4.2 quirk). */
function isNonEmpty(c: TraceContext): boolean {
  return (
    c.traceId !== undefined ||
    c.spanId !== undefined ||
    c.parentId !== undefined ||
    c.reuseSpanId !== undefined ||
    c.shouldSample !== undefined ||
    c.baggage !== undefined ||
    c.flags !== undefined ||
    c.w3cFlags !== undefined ||
    c.singleHeader !== undefined
  );
}

function chooseSize(injector: FormatInjector, original: number | undefined): 8 | 16 {
  const sizes = injector.sizes;
  for (let i = 0; i < sizes.length; i++) if (sizes[i] === original) return sizes[i];
  return sizes[0];
}

function missingField(injector: FormatInjector, ctx: TraceContext): string | undefined {
  for (const field of injector.requires) {
    if (field === 'traceId' && ctx.traceId === undefined) return 'field trace_id not found in context';
    if (field === 'spanId' && ctx.spanId === undefined) return 'field span_id not found in context';
  }
  return undefined;
}
