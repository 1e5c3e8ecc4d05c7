import {
  type Attributes,
  type AttributeValue,
  diag,
  type HrTime,
  type Link,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  type SpanStatus,
} from '@opentelemetry/api';
import { type InstrumentationScope, isAttributeValue } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanLimits,
  type SpanProcessor,
  type TimedEvent,
} from '@opentelemetry/sdk-trace-base';
import { microsToHrTime } from './clock';
import { isMarkedInertOnStart } from './inert-on-start';
import type { SpanRecordSink } from './span-record';

/**
 * The plugin's own provider builds every span at log time, already finished, so the SDK's
 * `Tracer.startSpan` → `SpanImpl` → `end()` round trip (sampler, id generator, per-call
 * checks) is pure overhead. `DirectSpans` makes the same `ReadableSpan` the SDK would
 * (same fields, values, attribute order, limits and `diag` messages) and hands it to the
 * processors' `onEnd` in the SDK's order. It is used only when every processor ignores
 * `onStart` and has no `onEnding` (the stock Simple / Batch / Noop processors and our
 * queue): a processor that watches spans start, or edits them while they end, still gets
 * them through the Tracer.
 */

/**
 * Stock processor classes whose `onStart` does nothing (compared by function, so subclasses
 * count); our own processors mark theirs with `markInertOnStart`.
 */
const INERT_ON_START: ReadonlySet<unknown> = new Set([
  SimpleSpanProcessor.prototype.onStart,
  BatchSpanProcessor.prototype.onStart,
  NoopSpanProcessor.prototype.onStart,
]);

const hasOwn = Object.prototype.hasOwnProperty;

/** The most annotations a Kong span has: the proxy span's six (span-builder.ts `annotateProxy`). */
const MAX_KONG_ANNOTATIONS = 6;

/** A processor that takes span records instead of spans (span-record.ts). */
function recordSinkOf(processor: SpanProcessor): SpanRecordSink | undefined {
  const candidate = processor as SpanProcessor & { recordSink?: () => SpanRecordSink | undefined };
  return typeof candidate.recordSink === 'function' ? candidate.recordSink() : undefined;
}

/** A finished span, shaped as the SDK's `SpanImpl` is after `end()` (fields assigned in one fixed order). */
export class FinishedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEvent[];
  readonly ended: boolean;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
  private readonly _spanContext: SpanContext;

  constructor(
    owner: DirectSpans,
    name: string,
    kind: SpanKind,
    spanContext: SpanContext,
    parentSpanContext: SpanContext | undefined,
    startTime: HrTime,
    endTime: HrTime,
    attributes: Attributes,
    events: EventList,
  ) {
    this.name = name;
    this.kind = kind;
    this.parentSpanContext = parentSpanContext;
    this.startTime = startTime;
    // SpanImpl.end: a span ending before it started lasts 0 (same warning).
    let seconds = endTime[0] - startTime[0];
    let nanos = endTime[1] - startTime[1];
    if (nanos < 0) {
      seconds -= 1;
      nanos += 1e9;
    }
    if (seconds < 0) {
      diag.warn(
        'Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.',
        startTime,
        endTime,
      );
      this.endTime = startTime.slice() as HrTime;
      this.duration = [0, 0];
    } else {
      this.endTime = endTime;
      this.duration = [seconds, nanos];
    }
    this.status = { code: SpanStatusCode.UNSET };
    this.attributes = owner.settle(attributes);
    this.links = [];
    this.events = events.list;
    this.ended = true;
    this.resource = owner.resource;
    this.instrumentationScope = owner.scope;
    this.droppedAttributesCount = owner.lastDropped;
    this.droppedEventsCount = events.dropped;
    this.droppedLinksCount = 0;
    this._spanContext = spanContext;
    if (events.dropped > 0) diag.warn(`Dropped ${events.dropped} events because eventCountLimit reached`);
  }

  spanContext(): SpanContext {
    return this._spanContext;
  }
}

/** A span's annotations as `SpanImpl.addEvent(name, time)` records them, under the event count limit. */
export class EventList {
  readonly list: TimedEvent[] = [];
  dropped = 0;

  constructor(private readonly limit: number | undefined) {}

  /** `Annotations.mark`: an annotation at integer epoch µs. */
  mark(name: string, us: number): void {
    this.addEvent(name, microsToHrTime(us));
  }

  addEvent(name: string, time: HrTime): void {
    const limit = this.limit;
    if (limit === 0) {
      diag.warn('No events allowed.');
      this.dropped++;
      return;
    }
    if (limit !== undefined && this.list.length >= limit) {
      if (this.dropped === 0) diag.debug('Dropping extra events.');
      this.list.shift();
      this.dropped++;
    }
    this.list.push({ name, attributes: {}, time, droppedAttributesCount: 0 });
  }
}

/** The own provider's span factory and delivery: resource, scope, limits and processors of its Tracer. */
export class DirectSpans {
  /** Attributes dropped by the last `settle` (the count limit). */
  lastDropped = 0;
  /**
   * The record path's sink (span-record.ts), when the limits cannot change a Kong span: no
   * value length limit and room for every annotation; the attribute count is checked per span.
   */
  readonly records: SpanRecordSink | undefined;
  private readonly countLimit: number | undefined;
  private readonly lengthLimit: number;

  private constructor(
    readonly resource: Resource,
    readonly scope: InstrumentationScope,
    readonly limits: SpanLimits,
    private readonly processors: readonly SpanProcessor[],
  ) {
    this.countLimit = limits.attributeCountLimit;
    // SpanImpl: `attributeValueLengthLimit ?? 0`.
    this.lengthLimit = limits.attributeValueLengthLimit ?? 0;
    const sink = processors.length === 1 ? recordSinkOf(processors[0]) : undefined;
    const events = limits.eventCountLimit;
    this.records =
      sink !== undefined && this.lengthLimit === Infinity && (events === undefined || events >= MAX_KONG_ANNOTATIONS)
        ? sink
        : undefined;
  }

  /** `attributeCountLimit`, for the record path's check. */
  get attributeCountLimit(): number | undefined {
    return this.countLimit;
  }

  /**
   * Direct delivery for `tracer` (of a BasicTracerProvider built with `resource` and
   * `processors`), or undefined when a processor may see spans start or end (then the
   * Tracer is used) or the SDK's internals are not as expected.
   */
  static for(tracer: object, resource: Resource, processors: readonly SpanProcessor[]): DirectSpans | undefined {
    for (const p of processors) {
      if (!(INERT_ON_START.has(p.onStart) || isMarkedInertOnStart(p.onStart)) || p.onEnding !== undefined)
        return undefined;
    }
    const internals = tracer as unknown as {
      _spanLimits?: SpanLimits;
      _resource?: Resource;
      instrumentationScope?: InstrumentationScope;
    };
    const limits = internals._spanLimits;
    const scope = internals.instrumentationScope;
    if (limits === undefined || scope === undefined || internals._resource !== resource) return undefined;
    return new DirectSpans(resource, scope, limits, processors.slice());
  }

  events(): EventList {
    return new EventList(this.limits.eventCountLimit);
  }

  /** What the processors' `onEnd` gets, as `MultiSpanProcessor.onEnd` delivers it. */
  deliver(span: FinishedSpan): void {
    const processors = this.processors;
    for (let i = 0; i < processors.length; i++) processors[i].onEnd(span);
  }

  /** `SpanImpl.setAttributes` on a new span: same checks, warnings, limits and key order. */
  settle(source: Attributes): Attributes {
    const out: Attributes = {};
    const countLimit = this.countLimit;
    let count = 0;
    let dropped = 0;
    for (const key in source) {
      if (!hasOwn.call(source, key)) continue;
      const value = source[key];
      if (value == null) continue;
      if (key.length === 0) {
        diag.warn(`Invalid attribute key: ${key}`);
        continue;
      }
      if (!isAttributeValue(value)) {
        diag.warn(`Invalid attribute value set for key: ${key}`);
        continue;
      }
      // Keys of one object are distinct, so each accepted key is new to `out`.
      if (countLimit !== undefined && count >= countLimit) {
        dropped++;
        continue;
      }
      out[key] = this.lengthLimit === Infinity ? value : this.truncate(value);
      count++;
    }
    this.lastDropped = dropped;
    return out;
  }

  private truncate(value: AttributeValue): AttributeValue {
    const limit = this.lengthLimit;
    if (limit <= 0) {
      diag.warn(`Attribute value limit must be positive, got ${limit}`);
      return value;
    }
    if (typeof value === 'string') return value.length <= limit ? value : value.substring(0, limit);
    if (Array.isArray(value)) {
      return (value as unknown[]).map((v) =>
        typeof v === 'string' && v.length > limit ? v.substring(0, limit) : v,
      ) as AttributeValue;
    }
    return value;
  }
}
