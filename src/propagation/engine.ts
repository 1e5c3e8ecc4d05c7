import type { EffectivePropagation, ExtractFormat, InjectFormat } from '../config/types';
import type { Logger } from '../logger';
import type { FormatExtractor, FormatInjector, HeaderWriter, InjectContext, RequestHeaders, TraceContext } from './context';
import { EXTRACTORS, INJECTORS } from './formats';
import { resizeHex } from './hex';

/** What extraction found: the winning format's context, normalised (§4.2), or nothing. */
export interface ExtractResult {
  context: TraceContext | undefined;
  /** The format that won, remembered for `preserve`. */
  format: ExtractFormat | undefined;
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
  private readonly inject_: readonly (InjectFormat | 'preserve')[];
  private readonly clear_: readonly string[];
  private readonly defaultFormat: InjectFormat;

  constructor(
    readonly config: EffectivePropagation,
    private readonly log: Logger,
  ) {
    this.steps = config.extract === null ? null : config.extract.map((format) => ({ format, extractor: EXTRACTORS[format] }));
    this.inject_ = config.inject;
    this.clear_ = config.clear.map((name) => name.toLowerCase());
    this.defaultFormat = config.default_format;
  }

  /** Extraction in the configured order; the first format yielding a non-empty context wins. */
  extract(headers: RequestHeaders): ExtractResult {
    const steps = this.steps;
    if (steps === null) return NOTHING;
    for (let i = 0; i < steps.length; i++) {
      const { format, extractor } = steps[i];
      if (!hasAny(headers, extractor.triggers)) continue;
      const raw = extractor.extract(headers, this.log);
      if (raw === undefined) continue;
      const context = normalise(raw);
      if (isNonEmpty(context)) return { context, format };
    }
    return NOTHING;
  }

  /** Remove the configured `clear` headers (before injection, whatever extraction found). */
  clear(headers: HeaderWriter): void {
    const names = this.clear_;
    for (let i = 0; i < names.length; i++) headers.remove(names[i]);
  }

  /**
   * Run the injectors in order. `ctx` is the inject context (§4.7); `extractedFrom` is the
   * format that won extraction, for `preserve`. Returns the `trace_id` log object, or
   * undefined when nothing was injected.
   */
  inject(ctx: TraceContext, extractedFrom: ExtractFormat | undefined, headers: HeaderWriter): LogTraceIds | undefined {
    const entries = this.inject_;
    if (entries.length === 0) return undefined;
    let ids: LogTraceIds | undefined;
    let errors: string[] | undefined;
    let trace16: string | undefined;
    let trace8: string | undefined;
    const spanId = ctx.spanId === undefined ? undefined : resizeHex(ctx.spanId, 8);
    const parentId = ctx.parentId === undefined ? undefined : resizeHex(ctx.parentId, 8);
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
      const injectCtx: InjectContext = {
        traceId,
        spanId,
        parentId,
        shouldSample: ctx.shouldSample,
        baggage: ctx.baggage,
        flags: ctx.flags,
      };
      (ids ??= {})[injector.logKey] = injector.inject(injectCtx, headers);
    }
    if (errors !== undefined) this.log.error(errors.join(', '));
    return ids;
  }
}

function hasAny(headers: RequestHeaders, names: readonly string[]): boolean {
  for (let i = 0; i < names.length; i++) if (headers[names[i]] !== undefined) return true;
  return false;
}

/** §4.2 step 3: remember the trace id width, then trace → 16 bytes, span and parent → 8. */
function normalise(raw: TraceContext): TraceContext {
  const ctx: TraceContext = { ...raw };
  if (raw.traceId !== undefined) {
    ctx.traceIdOriginalSize = raw.traceId.length / 2;
    ctx.traceId = resizeHex(raw.traceId, 16);
  }
  if (raw.spanId !== undefined) ctx.spanId = resizeHex(raw.spanId, 8);
  if (raw.parentId !== undefined) ctx.parentId = resizeHex(raw.parentId, 8);
  return ctx;
}

/** Kong's `next(ctx) ~= nil`: any field set counts, even without a trace id (§4.2 quirk). */
function isNonEmpty(ctx: TraceContext): boolean {
  for (const key in ctx) if ((ctx as Record<string, unknown>)[key] !== undefined) return true;
  return false;
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
