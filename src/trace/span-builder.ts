import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';
import { isZeroHex } from '../propagation/hex';
import { microsToHrTime } from './clock';
import { type DirectSpans, FinishedSpan } from './finished-span';
import { isPlainAttributes, SpanRecord, type SpanRecordSink } from './span-record';
import { hostOf, normalizePath, protocolOf } from './http-values';
import type { SlotIdGenerator } from './id-generator';
import { randomHex } from './ids';
import type { BalancerTry } from './balancer-try';
import type { KongEntity } from './request-inputs';
import type { RequestTrace } from './request-trace';
import type { SpanBuilder } from './runtime';
import { withSamplingDecision } from './sampler';
import { ATTR_PEER_ADDRESS, ATTR_PEER_PORT, ATTR_PEER_SERVICE, ATTR_TRACE_ID_BYTES } from './span-attributes';

/**
 * Kong's spans (§2.2–§2.7) as OTel spans: tags are attributes with Kong's names, the
 * annotations are events named by their code with their own times, the remote endpoint
 * travels as semantic-convention attributes. Spans end in Kong's report order: balancer
 * tries, proxy, request.
 */

/** Request span names whose derived names are kept (`http_span_name: method_path` names are many). */
const NAMES_KEPT = 256;
const derivedNames = new Map<string, string[]>();

/**
 * `<name> (proxy)` (`n` 0) or `<name> (balancer try <n>)`, the same string object every time
 * for a name seen before: a new string per span would be built, then flattened and hashed
 * again by the encoder's name cache.
 */
function childName(name: string, n: number): string {
  let names = derivedNames.get(name);
  if (names === undefined) {
    if (derivedNames.size >= NAMES_KEPT) return n === 0 ? `${name} (proxy)` : `${name} (balancer try ${n})`;
    names = [`${name} (proxy)`];
    derivedNames.set(name, names);
  }
  let child = names[n];
  if (child === undefined) {
    for (let i = names.length; i <= n; i++) names[i] = `${name} (balancer try ${i})`;
    child = names[n];
  }
  return child;
}

/** The plugin has decided: the sampler must agree (`KongSampler` reads this). */
const DECIDED: Context = withSamplingDecision(ROOT_CONTEXT, true);

/** The plugin's own provider: every span is built at log time, with the ids Kong's model gives. */
export class OwnProviderSpans implements SpanBuilder {
  readonly opensEarly = false;
  /** The record path's one record (span-record.ts). */
  private readonly record = new SpanRecord();

  /**
   * @param direct when given, finished spans go straight to the processors (finished-span.ts);
   * the Tracer remains for processors that must see spans start.
   */
  constructor(
    private readonly tracer: Tracer,
    private readonly ids: SlotIdGenerator,
    private readonly direct?: DirectSpans,
  ) {}

  open(): void {
    // Ids are the plugin's own; nothing to open before log.
  }

  finish(t: RequestTrace, nowUs: number): void {
    const direct = this.direct;
    if (direct !== undefined) {
      const requestCtx: SpanContext = {
        traceId: t.traceId,
        spanId: t.requestSpanId,
        traceFlags: TraceFlags.SAMPLED,
        traceState: undefined,
      };
      // An invalid request span context would make its children roots in the SDK: leave that to it.
      if (trace.isSpanContextValid(requestCtx)) {
        const sink = direct.records;
        if (sink !== undefined && finishRecords(sink, this.record, direct.attributeCountLimit, t, nowUs)) return;
        return finishDirect(direct, t, requestCtx, nowUs);
      }
    }
    const ids = this.ids;
    const name = t.spanName();
    const traceId = t.traceId;
    const parentId = t.requestParentId;
    // An all-zero parent (e.g. jaeger `:0:`) is no parent for OTel: the request span is then a root.
    const parentCtx =
      parentId !== undefined && !isZeroHex(parentId) && !isZeroHex(traceId)
        ? trace.setSpanContext(DECIDED, { traceId, spanId: parentId, traceFlags: TraceFlags.SAMPLED, isRemote: true })
        : DECIDED;

    let request: Span;
    ids.nextTraceId = traceId;
    ids.nextSpanId = t.requestSpanId;
    try {
      request = this.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: microsToHrTime(t.startUs) }, parentCtx);
    } finally {
      ids.reset();
    }
    const requestCtx = trace.setSpan(DECIDED, request);

    let proxy: Span;
    ids.nextSpanId = t.proxySpanId;
    try {
      proxy = this.tracer.startSpan(
        childName(name, 0),
        { kind: SpanKind.CLIENT, startTime: microsToHrTime(t.proxyStartUs) },
        requestCtx,
      );
    } finally {
      ids.reset();
    }

    // Attributes after the start: as a start option the SDK would copy them twice more.
    request.setAttributes(requestAttributes(t));
    proxy.setAttributes(proxyAttributes(t));
    emitBalancerSpans(this.tracer, t, name, requestCtx, nowUs);
    annotateProxy(t, sdkAnnotations(proxy), nowUs);
    proxy.end(microsToHrTime(t.proxyFinishUs(nowUs)));
    annotateRequest(t, sdkAnnotations(request));
    request.end(microsToHrTime(nowUs));
  }
}

/**
 * `finish` without the Tracer: the spans the SDK would end, in the same order (balancer
 * tries, proxy, request), with the same contexts: the SDK gives a span `{ traceId, spanId,
 * traceFlags, traceState }`, children inherit the request span's trace id and (absent)
 * trace state and point at its context object, and the request span's parent is the
 * remote context the plugin extracted when it is valid.
 */
function finishDirect(direct: DirectSpans, t: RequestTrace, requestCtx: SpanContext, nowUs: number): void {
  const name = t.spanName();
  const traceId = t.traceId;
  const parentId = t.requestParentId;
  let parent: SpanContext | undefined;
  if (parentId !== undefined && !isZeroHex(parentId) && !isZeroHex(traceId)) {
    parent = { traceId, spanId: parentId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
    if (!trace.isSpanContextValid(parent)) parent = undefined;
  }

  const tries = t.tries;
  if (tries !== undefined) {
    const count = tries.length;
    for (let i = 0; i < count; i++) {
      const attempt = tries[i];
      const spanCtx: SpanContext = {
        traceId,
        spanId: randomHex(8),
        traceFlags: TraceFlags.SAMPLED,
        traceState: undefined,
      };
      direct.deliver(
        new FinishedSpan(
          direct,
          childName(name, i + 1),
          SpanKind.CLIENT,
          spanCtx,
          requestCtx,
          microsToHrTime(attempt.startUs),
          microsToHrTime(attempt.endUs !== 0 ? attempt.endUs : nowUs),
          balancerAttributes(t, attempt, i + 1, count),
          direct.events(),
        ),
      );
    }
  }

  const proxyEvents = direct.events();
  annotateProxy(t, proxyEvents, nowUs);
  const proxyCtx: SpanContext = {
    traceId,
    spanId: t.proxySpanId,
    traceFlags: TraceFlags.SAMPLED,
    traceState: undefined,
  };
  direct.deliver(
    new FinishedSpan(
      direct,
      childName(name, 0),
      SpanKind.CLIENT,
      proxyCtx,
      requestCtx,
      microsToHrTime(t.proxyStartUs),
      microsToHrTime(t.proxyFinishUs(nowUs)),
      proxyAttributes(t),
      proxyEvents,
    ),
  );

  const requestEvents = direct.events();
  annotateRequest(t, requestEvents);
  direct.deliver(
    new FinishedSpan(
      direct,
      name,
      SpanKind.SERVER,
      requestCtx,
      parent,
      microsToHrTime(t.startUs),
      microsToHrTime(nowUs),
      requestAttributes(t),
      requestEvents,
    ),
  );
}

/** The request span's parent as the SDK keeps it: the extracted remote context, when valid. */
function remoteParentId(t: RequestTrace): string | undefined {
  const traceId = t.traceId;
  const parentId = t.requestParentId;
  if (parentId === undefined || isZeroHex(parentId) || isZeroHex(traceId)) return undefined;
  const parent = { traceId, spanId: parentId, traceFlags: TraceFlags.SAMPLED };
  return trace.isSpanContextValid(parent) ? parentId : undefined;
}

/**
 * `finishDirect` for a sink that encodes each span at once: the same spans, in the same order,
 * as span records (span-record.ts). Returns false, having delivered nothing, when a span would
 * not reach the encoder unchanged through the SDK's checks (an attribute it would drop or
 * warn about, more attributes than its count limit, a time that is not an integer, a span
 * ending before it starts): that request takes the `ReadableSpan` path.
 */
function finishRecords(
  sink: SpanRecordSink,
  r: SpanRecord,
  countLimit: number | undefined,
  t: RequestTrace,
  nowUs: number,
): boolean {
  const tries = t.tries;
  const tryCount = tries === undefined ? 0 : tries.length;
  const proxyStart = t.proxyStartUs;
  const proxyEnd = t.proxyFinishUs(nowUs);
  const requestAttrs = requestAttributes(t);
  const proxyAttrs = proxyAttributes(t);
  if (
    !isPlainAttributes(requestAttrs, countLimit) ||
    !isPlainAttributes(proxyAttrs, countLimit) ||
    !isSpanTime(t.startUs, nowUs) ||
    !isSpanTime(proxyStart, proxyEnd) ||
    !areAnnotationTimes(t)
  )
    return false;
  let tryAttrs: Attributes[] | undefined;
  if (tries !== undefined && tryCount > 0) {
    tryAttrs = new Array<Attributes>(tryCount);
    for (let i = 0; i < tryCount; i++) {
      const attempt = tries[i];
      const attrs = (tryAttrs[i] = balancerAttributes(t, attempt, i + 1, tryCount));
      if (
        !isPlainAttributes(attrs, countLimit) ||
        !isSpanTime(attempt.startUs, attempt.endUs !== 0 ? attempt.endUs : nowUs)
      )
        return false;
    }
  }

  const name = t.spanName();
  r.traceId = t.traceId;
  r.parentId = t.requestSpanId;
  r.kind = SpanKind.CLIENT;
  if (tries !== undefined && tryAttrs !== undefined) {
    for (let i = 0; i < tryCount; i++) {
      const attempt = tries[i];
      r.spanId = randomHex(8);
      r.name = childName(name, i + 1);
      r.startUs = attempt.startUs;
      r.endUs = attempt.endUs !== 0 ? attempt.endUs : nowUs;
      r.attributes = tryAttrs[i];
      r.eventCount = 0;
      sink.accept(r);
    }
  }

  r.spanId = t.proxySpanId;
  r.name = childName(name, 0);
  r.startUs = proxyStart;
  r.endUs = proxyEnd;
  r.attributes = proxyAttrs;
  r.eventCount = 0;
  annotateProxy(t, r, nowUs);
  sink.accept(r);

  r.spanId = t.requestSpanId;
  r.parentId = remoteParentId(t);
  r.name = name;
  r.kind = SpanKind.SERVER;
  r.startUs = t.startUs;
  r.endUs = nowUs;
  r.attributes = requestAttrs;
  r.eventCount = 0;
  annotateRequest(t, r);
  sink.accept(r);
  r.attributes = NO_ATTRIBUTES; // not kept until the next request
  return true;
}

const NO_ATTRIBUTES: Attributes = Object.freeze({});

/** A span from `startUs` to `endUs` whose times the record path passes as they are: integers, in order. */
function isSpanTime(startUs: number, endUs: number): boolean {
  return Number.isInteger(startUs) && Number.isInteger(endUs) && endUs >= startUs;
}

/** The phase times annotations are made of (`annotateProxy`, `annotateRequest`) are integers. */
function areAnnotationTimes(t: RequestTrace): boolean {
  return (
    Number.isInteger(t.rewriteEndUs) &&
    Number.isInteger(t.accessStartUs) &&
    Number.isInteger(t.accessEndUs) &&
    Number.isInteger(t.headerFilterUs) &&
    Number.isInteger(t.bodyStartUs) &&
    Number.isInteger(t.prereadStartUs) &&
    Number.isInteger(t.prereadEndUs)
  );
}

/**
 * A provider the caller already runs: ids cannot be forced, so the request and proxy
 * spans are created when their ids are first needed (access, the response header, or
 * log) and Kong's ids become theirs. The request span always gets a fresh id with the
 * incoming span as its remote parent (no shared span for b3 / jaeger); new trace ids
 * come from the provider's id generator (128-bit, whatever `traceid_byte_count` says);
 * the provider's sampler has the last word, and its decision is what propagates.
 */
export class ReusedProviderSpans implements SpanBuilder {
  readonly opensEarly = true;

  constructor(private readonly tracer: Tracer) {}

  open(t: RequestTrace): void {
    const name = t.spanName();
    const ex = t.extracted;
    let parentCtx = DECIDED;
    let parentId: string | undefined;
    if (
      ex !== undefined &&
      ex.traceId !== undefined &&
      ex.spanId !== undefined &&
      !isZeroHex(ex.traceId) &&
      !isZeroHex(ex.spanId)
    ) {
      parentId = ex.spanId;
      // The sampled flag lets a ParentBased sampler follow Kong's decision.
      parentCtx = trace.setSpanContext(DECIDED, {
        traceId: ex.traceId,
        spanId: parentId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
    }
    const request = this.tracer.startSpan(
      name,
      { kind: SpanKind.SERVER, startTime: microsToHrTime(t.startUs) },
      parentCtx,
    );
    const proxy = this.tracer.startSpan(
      childName(name, 0),
      { kind: SpanKind.CLIENT, startTime: microsToHrTime(t.proxyStartUs) },
      trace.setSpan(DECIDED, request),
    );
    const sc = request.spanContext();
    t.requestSpan = request;
    t.proxySpan = proxy;
    t.traceId = sc.traceId;
    t.traceIdBytes = 16;
    t.requestSpanId = sc.spanId;
    t.requestParentId = parentId;
    t.proxySpanId = proxy.spanContext().spanId;
    t.sampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
  }

  finish(t: RequestTrace, nowUs: number): void {
    const request = t.requestSpan;
    const proxy = t.proxySpan;
    if (request === undefined || proxy === undefined) return;
    request.setAttributes(requestAttributes(t));
    proxy.setAttributes(proxyAttributes(t));
    emitBalancerSpans(this.tracer, t, t.spanName(), trace.setSpan(DECIDED, request), nowUs);
    annotateProxy(t, sdkAnnotations(proxy), nowUs);
    proxy.end(microsToHrTime(t.proxyFinishUs(nowUs)));
    annotateRequest(t, sdkAnnotations(request));
    request.end(microsToHrTime(nowUs));
  }
}

// ------------------------------------------------------------------ tags (§2.5)

function requestAttributes(t: RequestTrace): Attributes {
  const rt = t.runtime;
  const config = rt.config;
  // A plain object, as the SDK's attributes are: a tag from the tags header named `__proto__`
  // is dropped here as the SDK drops it; any other name is an own key. (Without a prototype
  // the object would be a slow dictionary for every reader.)
  const a: Attributes = {};
  a['lc'] = 'kong';
  if (!t.stream) {
    a['http.method'] = t.method;
    const req = t.request;
    const hostHeader = t.headers['host'];
    const host = hostOf(typeof hostHeader === 'string' ? hostHeader : undefined, req?.socket?.localAddress);
    if (host !== undefined) a['http.host'] = host;
    a['http.path'] = normalizePath(t.url);
    const protocol = protocolOf(t.httpVersion);
    if (protocol !== undefined) a['http.protocol'] = protocol;
  }
  const statics = config.static_tags;
  if (statics !== null) for (let i = 0; i < statics.length; i++) a[statics[i].name] = statics[i].value;
  const headerTags = t.headerTags;
  if (headerTags !== undefined) for (const key in headerTags) a[key] = headerTags[key];
  if (!rt.annotations && !t.stream) {
    // Setting a tag to nil removes it in Kong, so an unknown duration deletes a header tag of that name.
    if (t.rewriteEndUs !== 0) a['kong.rewrite.duration_ms'] = ms(t.rewriteEndUs - t.startUs);
    else delete a['kong.rewrite.duration_ms'];
  }
  if (!t.stream) a['http.status_code'] = t.status;
  if (t.consumer) a['kong.consumer'] = t.consumer.id;
  if (config.include_credential && t.credential) a['kong.credential'] = t.credential.id;
  a['kong.node.id'] = rt.nodeId;
  if (t.clientIp !== undefined) a[ATTR_PEER_ADDRESS] = t.clientIp;
  if (t.clientPort !== undefined) a[ATTR_PEER_PORT] = t.clientPort;
  // The request span's remote service is never the Kong service (§2.7).
  if (config.default_service_name !== null) a[ATTR_PEER_SERVICE] = config.default_service_name;
  if (t.traceIdBytes === 8) a[ATTR_TRACE_ID_BYTES] = 8;
  return a;
}

function proxyAttributes(t: RequestTrace): Attributes {
  const a: Attributes = {};
  if (!t.runtime.annotations) {
    if (t.stream) {
      if (t.prereadStartUs !== 0 && t.prereadEndUs !== 0)
        a['kong.preread.duration_ms'] = ms(t.prereadEndUs - t.prereadStartUs);
    } else {
      if (t.accessStartUs !== 0 && t.accessEndUs !== 0)
        a['kong.access.duration_ms'] = ms(t.accessEndUs - t.accessStartUs);
      if (t.headerFilterUs !== 0 && t.bodyStartUs !== 0)
        a['kong.header_filter.duration_ms'] = ms(t.bodyStartUs - t.headerFilterUs);
      if (t.bodyStartUs !== 0 && t.bodyEndUs !== 0) a['kong.body_filter.duration_ms'] = ms(t.bodyEndUs - t.bodyStartUs);
    }
  }
  const tries = t.tries;
  if (tries !== undefined && tries.length > 0) {
    if (t.hostname !== undefined) a['peer.hostname'] = t.hostname;
    const last = tries[tries.length - 1];
    if (last.ip !== undefined) a[ATTR_PEER_ADDRESS] = last.ip;
    if (last.port !== undefined) a[ATTR_PEER_PORT] = last.port;
  }
  tagServiceAndRoute(t, a);
  if (t.traceIdBytes === 8) a[ATTR_TRACE_ID_BYTES] = 8;
  return a;
}

function balancerAttributes(t: RequestTrace, attempt: BalancerTry, i: number, count: number): Attributes {
  const a: Attributes = { 'kong.balancer.try': i };
  if (i < count) {
    a['error'] = true;
    if (attempt.state !== undefined) a['kong.balancer.state'] = attempt.state;
    if (attempt.code !== undefined) a['http.status_code'] = attempt.code;
  }
  tagServiceAndRoute(t, a);
  if (attempt.ip !== undefined) a[ATTR_PEER_ADDRESS] = attempt.ip;
  if (attempt.port !== undefined) a[ATTR_PEER_PORT] = attempt.port;
  if (t.traceIdBytes === 8) a[ATTR_TRACE_ID_BYTES] = 8;
  return a;
}

/** Kong's `tag_with_service_and_route`, plus the remote service name (§2.7). */
function tagServiceAndRoute(t: RequestTrace, a: Attributes): void {
  const service: KongEntity | null | undefined = t.service;
  let serviceName: string | null = t.runtime.config.default_service_name;
  if (service && service.id) {
    a['kong.service'] = service.id;
    if (typeof service.name === 'string') {
      serviceName = service.name;
      a['kong.service_name'] = service.name;
    }
  }
  const route = t.route;
  if (route) {
    if (route.id) a['kong.route'] = route.id;
    if (typeof route.name === 'string') a['kong.route_name'] = route.name;
  }
  if (serviceName !== null) a[ATTR_PEER_SERVICE] = serviceName;
}

function ms(us: number): number {
  return us / 1000;
}

// ------------------------------------------------------------------ spans and annotations (§2.4, §2.6)

function emitBalancerSpans(tracer: Tracer, t: RequestTrace, name: string, parent: Context, nowUs: number): void {
  const tries = t.tries;
  if (tries === undefined) return;
  const count = tries.length;
  for (let i = 0; i < count; i++) {
    const attempt = tries[i];
    const span = tracer.startSpan(
      childName(name, i + 1),
      { kind: SpanKind.CLIENT, startTime: microsToHrTime(attempt.startUs) },
      parent,
    );
    span.setAttributes(balancerAttributes(t, attempt, i + 1, count));
    span.end(microsToHrTime(attempt.endUs !== 0 ? attempt.endUs : nowUs));
  }
}

/** What annotations are added to, at integer epoch µs: an SDK span, a direct span's event list, a span record. */
interface Annotations {
  mark(name: string, us: number): void;
}

/** An SDK span's `addEvent`, as `Annotations`. */
function sdkAnnotations(span: Span): Annotations {
  return { mark: (name, us) => span.addEvent(name, microsToHrTime(us)) };
}

/** Request span: `[krf, krs]` (HTTP only). */
function annotateRequest(t: RequestTrace, span: Annotations): void {
  if (!t.runtime.annotations || t.stream) return;
  if (t.rewriteEndUs !== 0) span.mark('krf', t.rewriteEndUs);
  span.mark('krs', t.startUs);
}

/** Proxy span: `[khs, khf, kbs, kas, kaf, kbf]` in the order Kong records them; stream `[kps, kpf]`. */
function annotateProxy(t: RequestTrace, span: Annotations, nowUs: number): void {
  if (!t.runtime.annotations) return;
  const finish = t.proxyFinishUs(nowUs);
  if (t.stream) {
    if (t.prereadStartUs !== 0) span.mark('kps', t.prereadStartUs);
    span.mark('kpf', t.prereadEndUs !== 0 ? t.prereadEndUs : finish);
    return;
  }
  if (t.headerFilterUs !== 0) span.mark('khs', t.headerFilterUs);
  if (t.bodyStartUs !== 0) {
    span.mark('khf', t.bodyStartUs);
    span.mark('kbs', t.bodyStartUs);
  }
  span.mark('kas', t.accessStartUs !== 0 ? t.accessStartUs : t.proxyStartUs);
  span.mark('kaf', t.accessEndUs !== 0 ? t.accessEndUs : finish);
  if (t.bodyStartUs === 0) span.mark('khf', nowUs);
  span.mark('kbf', nowUs);
}
