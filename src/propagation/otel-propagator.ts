import {
  type Context,
  type SpanContext,
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
import { isZeroHex } from './hex';
import { normaliseTraceState, W3CTraceState } from './tracestate';
import { W3C_FLAG_RANDOM } from './w3c';

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
  private readonly fieldNames: string[];

  constructor(effective: EffectivePropagation, logger: Logger) {
    this.engine = new PropagationEngine(effective, logger);
    const names = new Set<string>();
    const formats = effective.inject.map((f) => (f === 'preserve' ? null : f));
    for (const f of formats) if (f !== null) for (const h of INJECTED_HEADERS[f]) names.add(h);
    if (formats.includes(null)) for (const list of Object.values(INJECTED_HEADERS)) for (const h of list) names.add(h);
    this.fieldNames = [...names];
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter<unknown>): Context {
    const headers = toRequestHeaders(carrier, getter);
    if (headers === undefined) return context;
    const result = this.engine.extract(headers);
    const kong = result.context;
    if (kong === undefined) return context;
    // Kept under its own key so that it survives a child span set in the context. A chained
    // context link instead of OTel's Map copy: extraction runs on every request.
    let out: Context = new ChainedContext(context, EXTRACTED_KEY, result, 1);
    if (kong.traceId !== undefined && kong.spanId !== undefined) {
      const spanContext: SpanContext = {
        traceId: kong.traceId,
        spanId: kong.spanId,
        // docs/design.md difference 8: w3c's random flag is part of the span context.
        traceFlags: ((kong.w3cFlags ?? 0) & W3C_FLAG_RANDOM) | (kong.shouldSample === true ? TraceFlags.SAMPLED : 0),
        isRemote: true,
      };
      if (kong.traceState !== undefined) spanContext.traceState = W3CTraceState.parse(kong.traceState);
      // The engine's ids are lowercase hex of the right length already; all-zero ids are valid
      // for some Kong formats but not for OTel: keep only the Kong value then.
      if (!isZeroHex(kong.traceId) && !isZeroHex(kong.spanId)) out = trace.setSpanContext(out, spanContext);
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
    const writer = new CarrierWriter(carrier, setter);
    this.engine.clear(writer);
    const extracted = getExtracted(context);
    const ctx = injectContext(context, extracted?.context);
    if (ctx === undefined) return undefined;
    return this.engine.inject(ctx, extracted?.format, writer);
  }

  fields(): string[] {
    return this.fieldNames;
  }
}

/** Links kept before a chain is copied onto its base context (lookups walk the links). */
const MAX_CHAIN = 8;

/**
 * An immutable `Context` that adds one value to its parent: setting a value costs one small
 * object instead of a copy of the whole map. Beyond `MAX_CHAIN` links the values are set on
 * the base context the usual way, so lookups stay short.
 */
class ChainedContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
    private readonly depth: number,
  ) {}

  getValue(key: symbol): unknown {
    if (this.key === key) return this.value;
    let c = this.parent;
    while (c instanceof ChainedContext) {
      if (c.key === key) return c.value;
      c = c.parent;
    }
    return c.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    if (this.depth >= MAX_CHAIN) return this.materialize().setValue(key, value);
    return new ChainedContext(this, key, value, this.depth + 1);
  }

  deleteValue(key: symbol): Context {
    return this.materialize().deleteValue(key);
  }

  /** The same values on the base context, through its own `setValue`. */
  private materialize(): Context {
    const links: ChainedContext[] = [this];
    let c = this.parent;
    while (c instanceof ChainedContext) {
      links.push(c);
      c = c.parent;
    }
    for (let i = links.length - 1; i >= 0; i--) c = c.setValue(links[i].key, links[i].value);
    return c;
  }
}

/**
 * Build Kong's inject context from an OTel context. A span started under the extracted
 * context becomes the outgoing span, with an explicit sampling decision (docs/design.md
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
  // The extracted context itself (no new span under it) goes out as it came: the engine
  // never mutates what it injects.
  if (
    extracted !== undefined &&
    (sc === undefined || (sc.isRemote === true && sc.spanId === extracted.spanId && sc.traceId === extracted.traceId))
  ) {
    return bag === undefined ? extracted : { ...extracted, baggage };
  }
  if (sc === undefined || !isSpanContextValid(sc)) {
    return extracted === undefined ? undefined : bag === undefined ? extracted : { ...extracted, baggage };
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
    // docs/design.md difference 8. The SDK gives a child span only the sampled flag: the
    // incoming random flag is added back for the same trace id. A trace id the SDK made keeps
    // the SDK's flags (its id generator is not ours to vouch for).
    w3cFlags: sameTrace ? (extracted.w3cFlags ?? 0) | sc.traceFlags : sc.traceFlags,
    // The child's tracestate (the SDK copies the parent's; a sampler may change it),
    // validated again: a TraceState of another implementation may hold anything.
    traceState: sc.traceState === undefined ? undefined : normaliseTraceState(sc.traceState.serialize()),
  };
}

/** SDK spans expose their parent; other Span implementations may not. */
function parentSpanId(span: unknown): string | undefined {
  const parent = (span as { parentSpanContext?: { spanId?: unknown } } | undefined)?.parentSpanContext;
  return typeof parent?.spanId === 'string' ? parent.spanId : undefined;
}

/**
 * With OTel's default getter the carrier is read as it is, with lowercase names (Node's
 * `req.headers`), as every stock propagator does; a custom getter is asked for every key.
 */
function toRequestHeaders(carrier: unknown, getter: TextMapGetter<unknown>): RequestHeaders | undefined {
  if (carrier === null || typeof carrier !== 'object') return undefined;
  if (getter === defaultTextMapGetter) return carrier as RequestHeaders;
  const out: Record<string, string | string[]> = {};
  for (const key of getter.keys(carrier)) {
    const value = getter.get(carrier, key);
    if (value !== undefined) out[key.toLowerCase()] = value;
  }
  return out;
}

/** Writes through the OTel setter; removes from Node's `OutgoingMessage` or a plain header object. */
class CarrierWriter implements HeaderWriter {
  constructor(
    private readonly carrier: object,
    private readonly setter: TextMapSetter<unknown>,
  ) {}

  set(name: string, value: string): void {
    this.setter.set(this.carrier, name, value);
  }

  remove(name: string): void {
    const target = this.carrier as { removeHeader?: unknown } & Record<string, unknown>;
    if (typeof target.removeHeader === 'function') {
      (target.removeHeader as (n: string) => void)(name);
      return;
    }
    for (const key of Object.keys(target)) if (key.toLowerCase() === name) delete target[key];
  }
}

/**
 * Kong's propagation engine for a `config.propagation` record, as an OTel propagator.
 * Validated with Kong's schema (errors name the field path). When the record has none of
 * `extract` / `inject` / `clear`, Kong's legacy defaults apply: extract in the legacy order,
 * inject `preserve`, falling back to the record's `default_format`.
 */
export function createPropagator(input?: PropagationInput | null, options: PropagatorOptions = {}): KongPropagator {
  const config = validateConfig({ propagation: input ?? null });
  const hasNew = input != null && (input.extract != null || input.inject != null || input.clear != null);
  const effective: EffectivePropagation = hasNew
    ? effectivePropagation(config)
    : {
        extract: LEGACY_EXTRACT_ORDER,
        inject: ['preserve'],
        clear: [],
        default_format: config.propagation.default_format,
      };
  return new KongPropagator(effective, options.logger ?? stderrLogger);
}
