import {
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  createContextKey,
  defaultTextMapGetter,
  isSpanContextValid,
  propagation,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { effectivePropagation, validateConfig } from '../config';
import { type EffectivePropagation, LEGACY_EXTRACT_ORDER, type ZipkinConfigInput } from '../config/types';
import { type Logger, stderrLogger } from '../logger';
import type { HeaderWriter, RequestHeaders, TraceContext } from './context';
import { type ExtractResult, type LogTraceIds, PropagationEngine } from './engine';
import { INJECTED_HEADERS } from './formats';

/** A Kong `config.propagation` record as a user writes it. */
export type PropagationInput = NonNullable<ZipkinConfigInput['propagation']>;

export interface PropagatorOptions {
  logger?: Logger;
}

const EXTRACTED_KEY = createContextKey('gateway-zipkin extracted context');

/**
 * The Kong context extracted into an OTel `Context` by this propagator: the fields OTel's
 * `SpanContext` cannot carry (no-decision sampling, b3 flags, original trace id width,
 * the winning format).
 */
export function getExtracted(context: Context): ExtractResult | undefined {
  return context.getValue(EXTRACTED_KEY) as ExtractResult | undefined;
}

/**
 * Kong's propagation engine as an OTel `TextMapPropagator`: extraction in the configured
 * order (first format wins), `clear`, then injection of every configured format.
 */
export class KongPropagator implements TextMapPropagator {
  readonly engine: PropagationEngine;
  private readonly fields_: string[];

  constructor(effective: EffectivePropagation, logger: Logger) {
    this.engine = new PropagationEngine(effective, logger);
    const names = new Set<string>();
    const formats = effective.inject.map((f) => (f === 'preserve' ? null : f));
    for (const f of formats) if (f !== null) for (const h of INJECTED_HEADERS[f]) names.add(h);
    if (formats.includes(null)) for (const list of Object.values(INJECTED_HEADERS)) for (const h of list) names.add(h);
    this.fields_ = [...names];
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter<unknown>): Context {
    const headers = toRequestHeaders(carrier, getter);
    if (headers === undefined) return context;
    const result = this.engine.extract(headers);
    const kong = result.context;
    if (kong === undefined) return context;
    let out = context.setValue(EXTRACTED_KEY, result);
    if (kong.traceId !== undefined && kong.spanId !== undefined) {
      const spanContext = {
        traceId: kong.traceId,
        spanId: kong.spanId,
        traceFlags: kong.shouldSample === true ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: true,
      };
      // All-zero ids are valid for some Kong formats but not for OTel: keep only the Kong value then.
      if (isSpanContextValid(spanContext)) out = trace.setSpanContext(out, spanContext);
    }
    if (kong.baggage !== undefined) {
      let bag = propagation.getBaggage(out) ?? propagation.createBaggage();
      for (const [key, value] of Object.entries(kong.baggage)) bag = bag.setEntry(key, { value });
      out = propagation.setBaggage(out, bag);
    }
    return out;
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter<unknown>): void {
    this.injectWithLogIds(context, carrier, setter);
  }

  /** `inject` that also returns the log serializer's `trace_id` object (§7) for this call. */
  injectWithLogIds(context: Context, carrier: unknown, setter: TextMapSetter<unknown>): LogTraceIds | undefined {
    if (isTracingSuppressed(context) || carrier === null || typeof carrier !== 'object') return undefined;
    const writer = headerWriter(carrier, setter);
    this.engine.clear(writer);
    const extracted = getExtracted(context);
    const ctx = injectContext(context, extracted?.context);
    if (ctx === undefined) return undefined;
    return this.engine.inject(ctx, extracted?.format, writer);
  }

  fields(): string[] {
    return this.fields_;
  }
}

/**
 * Build Kong's inject context from an OTel context. A span started under the extracted
 * context becomes the outgoing span, with an explicit sampling decision (DESIGN.md
 * difference 2); an extracted context forwarded without a new span keeps Kong's fields.
 */
function injectContext(context: Context, extracted: TraceContext | undefined): TraceContext | undefined {
  const span = trace.getSpan(context);
  const sc = span?.spanContext();
  const bag = propagation.getBaggage(context);
  let baggage = extracted?.baggage;
  if (bag !== undefined) {
    const entries: Record<string, string> = {};
    for (const [key, entry] of bag.getAllEntries()) entries[key] = entry.value;
    baggage = entries;
  }
  if (sc === undefined || !isSpanContextValid(sc)) {
    return extracted === undefined ? undefined : { ...extracted, baggage };
  }
  if (extracted !== undefined && sc.isRemote === true && sc.spanId === extracted.spanId && sc.traceId === extracted.traceId) {
    return { ...extracted, baggage };
  }
  const sameTrace = extracted !== undefined && extracted.traceId === sc.traceId;
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentId: parentSpanId(span),
    shouldSample: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
    baggage,
    flags: sameTrace ? extracted.flags : undefined,
    singleHeader: sameTrace ? extracted.singleHeader : undefined,
    traceIdOriginalSize: sameTrace ? extracted.traceIdOriginalSize : undefined,
  };
}

/** SDK spans expose their parent; other Span implementations may not. */
function parentSpanId(span: unknown): string | undefined {
  const parent = (span as { parentSpanContext?: { spanId?: unknown } } | undefined)?.parentSpanContext;
  return typeof parent?.spanId === 'string' ? parent.spanId : undefined;
}

const UPPER_RE = /[A-Z]/;

function toRequestHeaders(carrier: unknown, getter: TextMapGetter<unknown>): RequestHeaders | undefined {
  if (carrier === null || typeof carrier !== 'object') return undefined;
  if (getter === defaultTextMapGetter) {
    const keys = Object.keys(carrier);
    if (!keys.some((k) => UPPER_RE.test(k))) return carrier as RequestHeaders;
  }
  const out: Record<string, string | string[]> = {};
  for (const key of getter.keys(carrier)) {
    const value = getter.get(carrier, key);
    if (value !== undefined) out[key.toLowerCase()] = value;
  }
  return out;
}

function headerWriter(carrier: object, setter: TextMapSetter<unknown>): HeaderWriter {
  return {
    set: (name, value) => setter.set(carrier, name, value),
    remove: (name) => {
      const target = carrier as { removeHeader?: unknown } & Record<string, unknown>;
      // Node's OutgoingMessage (ClientRequest) and plain header objects are both supported.
      if (typeof target.removeHeader === 'function') {
        (target.removeHeader as (n: string) => void)(name);
        return;
      }
      for (const key of Object.keys(target)) if (key.toLowerCase() === name) delete target[key];
    },
  };
}

/**
 * Kong's propagation engine for a `config.propagation` record, as an OTel propagator.
 * Validated with Kong's schema (errors name the field path). When the record has none of
 * `extract` / `inject` / `clear`, Kong's legacy defaults apply: extract in the legacy order,
 * inject `preserve`, falling back to the record's `default_format`.
 */
export function createPropagator(input?: PropagationInput | null, options: PropagatorOptions = {}): KongPropagator {
  const config = validateConfig({ propagation: input ?? null });
  const given = input ?? {};
  const hasNew = given.extract != null || given.inject != null || given.clear != null;
  const effective: EffectivePropagation = hasNew
    ? effectivePropagation(config)
    : { extract: LEGACY_EXTRACT_ORDER, inject: ['preserve'], clear: [], default_format: config.propagation.default_format };
  return new KongPropagator(effective, options.logger ?? stderrLogger);
}
