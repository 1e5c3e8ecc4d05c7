import type { Span } from '@opentelemetry/api';
import type { ExtractFormat } from '../config/types';
import type { RequestHeaders, TraceContext } from '../propagation/context';
import { BalancerTry, type BalancerState } from './balancer-try';
import type { LogTraceIds } from '../propagation/engine';
import { W3C_FLAG_RANDOM } from '../propagation/w3c';
import { nowMicros } from './clock';
import { appendResponseHeader, type HeaderTarget, headerWriterFor, type ResponseHeadersLike } from './header-targets';
import { normalizePath } from './http-values';
import { randomSpanId, randomTraceId } from './ids';
import type { TraceRuntime } from './runtime';
import type {
  HttpRequestLike,
  KongAuthEntity,
  KongEntity,
  RouteIdentity,
  StreamClientLike,
  UpstreamTarget,
} from './request-inputs';
import { parseTagsHeader } from './tags-header';
import { reportTracingFailure } from '../logger';

const ZERO_HIGH = '0000000000000000';

/**
 * One request (or TCP connection) going through the gateway: Kong's per-request zipkin
 * context (§2.1). Integrations call the phase methods as the request moves on; the
 * plugin decides sampling at the first phase that needs it, generates ids when they are
 * first needed, and builds the spans at `log`. Unsampled requests never create spans.
 *
 * Phase methods never throw: a failure inside tracing is logged and the request goes on.
 * Times are integer epoch microseconds; 0 means "did not happen". The trace's state
 * (phase times, ids, identity, tries) is internal: the span builder reads it, the phase
 * methods change it, and the package's declarations leave it out. Callers read what they
 * need through the plugin (`traceIds`, `responseTraceId`).
 */
export class RequestTrace {
  readonly stream: boolean;
  readonly method: string;
  /** The request target as received (path and query), before any rewrite. */
  readonly url: string;
  readonly headers: RequestHeaders;
  readonly httpVersion: string | undefined;
  /** @internal Client address (the request span's remote endpoint), read once the request is sampled. */
  clientIp: string | undefined = undefined;
  /** @internal */
  clientPort: number | undefined = undefined;
  private client: StreamClientLike | null | undefined;
  /** @internal The request, kept to read the local address for `http.host` when there is no Host. */
  readonly request: HttpRequestLike | undefined;

  // Phase times (epoch µs, 0 = unknown).
  readonly startUs: number;
  /** @internal */
  rewriteEndUs = 0;
  /** @internal */
  accessStartUs = 0;
  /** @internal */
  accessEndUs = 0;
  /** @internal */
  headerFilterUs = 0;
  /** @internal */
  bodyStartUs = 0;
  /** @internal */
  bodyEndUs = 0;
  /** @internal */
  prereadStartUs = 0;
  /** @internal */
  prereadEndUs = 0;
  /** @internal */
  proxyStartUs = 0;
  /** @internal */
  logUs = 0;

  // Extraction and sampling, decided once (`init`).
  /** @internal */
  initialized = false;
  /** @internal */
  extracted: TraceContext | undefined = undefined;
  /** @internal */
  extractedFrom: ExtractFormat | undefined = undefined;
  /** @internal Trace headers ignored for their size, removed from the upstream request with `clear`. */
  private oversized: readonly string[] | undefined = undefined;
  /** @internal */
  sampled = false;
  /**
   * @internal Decided unsampled for good (the plugin's own provider): no span will be made,
   * so the phases after the decision record no times and no balancer tries.
   */
  untimed = false;
  /** @internal */
  headerTags: Record<string, string> | undefined = undefined;

  // Ids, generated once (`ensureIds`). traceId is always 32 hex (padded when 8 bytes).
  /** @internal */
  hasIds = false;
  /** @internal */
  traceId = '';
  /** @internal */
  traceIdBytes: 8 | 16 = 16;
  /** @internal */
  requestSpanId = '';
  /** @internal */
  requestParentId: string | undefined = undefined;
  /** @internal */
  proxySpanId = '';

  // Identity and outcome.
  /** @internal */
  route: KongEntity | null | undefined = undefined;
  /** @internal */
  service: KongEntity | null | undefined = undefined;
  /** @internal */
  consumer: KongAuthEntity | null | undefined = undefined;
  /** @internal */
  credential: KongAuthEntity | null | undefined = undefined;
  /** @internal */
  status = 0;
  /** @internal */
  tries: BalancerTry[] | undefined = undefined;
  /** @internal */
  hostname: string | undefined = undefined;

  /** @internal The log serializer's `trace_id` object (§7), set when headers were injected. */
  traceIds: LogTraceIds | undefined = undefined;

  /** @internal */
  accessed = false;
  /** @internal */
  logged = false;

  /** @internal Spans opened early on a reused provider. */
  requestSpan: Span | undefined = undefined;
  /** @internal */
  proxySpan: Span | undefined = undefined;

  /** @internal Traces come from the plugin (`startHttp`, `startStream`). */
  constructor(
    /** @internal */
    readonly runtime: TraceRuntime,
    stream: boolean,
    startUs: number,
    request: HttpRequestLike | undefined,
    client: StreamClientLike | null | undefined,
  ) {
    this.stream = stream;
    this.startUs = startUs;
    this.request = request;
    if (request !== undefined) {
      this.method = request.method ?? 'GET';
      this.url = request.originalUrl ?? request.url ?? '/';
      this.headers = request.headers;
      this.httpVersion = request.httpVersion;
      client = request.socket;
    } else {
      this.method = '';
      this.url = '';
      this.headers = NO_HEADERS;
      this.httpVersion = undefined;
    }
    // Read once the request is known to be sampled (the getters ask the OS on a new
    // connection). A request logged before any other phase after its client went away
    // may then have no address left.
    this.client = client;
  }

  // ---------------------------------------------------------------- identity

  /** Route and service of the request (Kong's router match). */
  setRoute(identity: RouteIdentity): void {
    if (identity.route !== undefined) this.route = identity.route;
    if (identity.service !== undefined) this.service = identity.service;
  }

  /** The authenticated consumer and credential (`kong.consumer`, `kong.credential`). */
  setConsumer(consumer: KongAuthEntity | null | undefined, credential?: KongAuthEntity | null): void {
    this.consumer = consumer;
    if (credential !== undefined) this.credential = credential;
  }

  // ---------------------------------------------------------------- HTTP phases

  /** End of Kong's rewrite phase (optional: access or the response ends it otherwise). */
  rewriteEnd(): void {
    if (this.rewriteEndUs === 0 && !this.logged && !this.untimed) this.rewriteEndUs = nowMicros();
  }

  /**
   * Kong's access phase, for a request that matched a route: starts the proxy span,
   * decides sampling, then clears and injects the propagation headers into `upstream`
   * (the headers the upstream request will be built from) and records the `trace_id`
   * log object. Runs once; later calls only update the identity.
   */
  access(identity?: RouteIdentity | null, upstream?: HeaderTarget | null, lowercaseKeys = false): void {
    try {
      if (identity) this.setRoute(identity);
      if (this.accessed || this.logged) return;
      this.accessed = true;
      const now = nowMicros();
      if (this.rewriteEndUs === 0) this.rewriteEndUs = now;
      this.accessStartUs = now;
      if (this.proxyStartUs === 0) this.proxyStartUs = now;
      if (!this.initialized) this.init();
      this.ensureIds();
      if (upstream) this.propagate(upstream, lowercaseKeys);
    } catch (err) {
      this.fail(err);
    }
  }

  /** End of the access phase: the upstream request is about to be created. */
  accessEnd(): void {
    if (this.accessEndUs === 0 && !this.logged && !this.untimed) this.accessEndUs = nowMicros();
  }

  /**
   * A balancer try starts: target `target` was chosen. A try left open by the caller is
   * closed as failed (retries only happen after failures).
   */
  balancerTry(target: UpstreamTarget): void {
    try {
      if (this.logged || this.untimed) return;
      const now = nowMicros();
      const tries = (this.tries ??= []);
      const last = tries.length === 0 ? undefined : tries[tries.length - 1];
      if (last !== undefined && last.state === undefined) {
        last.state = 'failed';
        if (last.endUs === 0) last.endUs = now;
      }
      if (target.hostname !== undefined) this.hostname = target.hostname;
      tries.push(new BalancerTry(now, target.ip, target.port));
    } catch (err) {
      this.fail(err);
    }
  }

  /** The current try's connection is established (ends its balancer span). */
  upstreamConnected(ip?: string, port?: number): void {
    const t = this.currentTry();
    if (t === undefined || t.endUs !== 0 || this.logged) return;
    t.endUs = nowMicros();
    if (ip !== undefined) t.ip = ip;
    if (port !== undefined) t.port = port;
  }

  /**
   * The current try failed: `failed` for a connection failure, `next` when its response
   * status sent the request to another target; `code` is the status Kong reports for it.
   */
  upstreamFailed(state: BalancerState = 'failed', code?: number, ip?: string, port?: number): void {
    const t = this.currentTry();
    if (t === undefined || this.logged) return;
    if (t.endUs === 0) t.endUs = nowMicros();
    t.state = state;
    if (code !== undefined) t.code = code;
    if (ip !== undefined && t.ip === undefined) t.ip = ip;
    if (port !== undefined && t.port === undefined) t.port = port;
  }

  /** Close the current try as failed unless it already connected or failed. */
  upstreamFailedIfOpen(code?: number, ip?: string, port?: number): void {
    const t = this.currentTry();
    if (t === undefined || t.endUs !== 0 || this.logged) return;
    this.upstreamFailed('failed', code, ip, port);
  }

  /** Upstream address seen once the response came: fills what the connect did not report. */
  upstreamPeer(ip: string | undefined, port: number | undefined): void {
    const t = this.currentTry();
    if (t === undefined || this.logged) return;
    if (t.endUs === 0) t.endUs = nowMicros();
    if (t.ip === undefined && ip !== undefined) t.ip = ip;
    if (t.port === undefined && port !== undefined) t.port = port;
  }

  /**
   * Kong's header_filter: response headers are about to go downstream. Adds the trace id
   * response header (`http_response_header_for_traceid`) to `res`.
   */
  headerFilter(res?: ResponseHeadersLike | null): void {
    try {
      if (this.headerFilterUs !== 0 || this.logged) return;
      const now = nowMicros();
      this.headerFilterUs = now;
      if (this.rewriteEndUs === 0) this.rewriteEndUs = now;
      if (this.proxyStartUs === 0) this.proxyStartUs = now;
      if (!this.initialized) this.init();
      const name = this.runtime.responseHeader;
      if (name !== null && res) {
        this.ensureIds();
        appendResponseHeader(res, name, this.responseTraceId());
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Kong's first body_filter call: the first body bytes go downstream. */
  bodyFilter(): void {
    if (this.bodyStartUs === 0 && !this.logged && !this.untimed) this.bodyStartUs = nowMicros();
  }

  /** The last body bytes went downstream (`res.end`). */
  bodyFilterEnd(): void {
    if (this.bodyEndUs !== 0 || this.logged || this.untimed) return;
    const now = nowMicros();
    if (this.bodyStartUs === 0) this.bodyStartUs = now;
    this.bodyEndUs = now;
  }

  // ---------------------------------------------------------------- stream phases

  /** Kong's preread phase (stream): the connection was accepted and is being routed. */
  preread(identity?: RouteIdentity | null): void {
    if (identity) this.setRoute(identity);
    if (this.prereadStartUs !== 0 || this.logged) return;
    const now = nowMicros();
    this.prereadStartUs = now;
    if (this.proxyStartUs === 0) this.proxyStartUs = now;
    // Kong's stream context starts here; the client address is still readable.
    if (!this.initialized) this.init();
  }

  /** End of preread: the upstream was chosen. */
  prereadEnd(): void {
    if (this.prereadEndUs === 0 && !this.logged && !this.untimed) this.prereadEndUs = nowMicros();
  }

  // ---------------------------------------------------------------- log

  /**
   * Kong's log phase, exactly once: finishes the spans of a sampled request and hands
   * them to the provider's processors. `status` is the downstream status (HTTP).
   */
  log(status?: number): void {
    if (this.logged) return;
    this.logged = true;
    try {
      const now = nowMicros();
      this.logUs = now;
      if (status !== undefined) this.status = status;
      if (!this.initialized) this.init();
      if (this.proxyStartUs === 0) this.proxyStartUs = now;
      if (!this.sampled) return;
      this.ensureIds();
      if (!this.sampled) return; // a reused provider's sampler may still refuse
      this.runtime.spans.finish(this, now);
    } catch (err) {
      this.fail(err);
    }
  }

  // ---------------------------------------------------------------- derived values

  /** The trace id as the response header and Kong's reporter show it (16 or 32 hex). */
  responseTraceId(): string {
    this.ensureIds();
    return this.traceIdBytes === 8 ? this.traceId.slice(16) : this.traceId;
  }

  /** The request span name (§2.2): `GET`, `GET /path` or `stream`. */
  spanName(): string {
    if (this.stream) return 'stream';
    return this.runtime.config.http_span_name === 'method_path'
      ? `${this.method} ${normalizePath(this.url)}`
      : this.method;
  }

  /** When the proxy span ends: body sent, or log time. */
  proxyFinishUs(nowUs: number): number {
    return this.bodyEndUs !== 0 ? this.bodyEndUs : nowUs;
  }

  // ---------------------------------------------------------------- internals

  /** Kong's `initialize_request`: extraction (HTTP), the sampling decision, the tags header. */
  private init(): void {
    this.initialized = true;
    const rt = this.runtime;
    if (this.stream) {
      this.sampled = Math.random() < rt.sampleRatio;
      this.untimed = !this.sampled && !rt.spans.opensEarly;
      if (this.sampled) this.readClient();
      return;
    }
    const headers = this.headers;
    const found = rt.engine.extract(headers);
    this.extracted = found.context;
    this.extractedFrom = found.format;
    this.oversized = found.oversized;
    const incoming = found.context === undefined ? undefined : found.context.shouldSample;
    this.sampled = incoming === undefined ? Math.random() < rt.sampleRatio : incoming;
    this.untimed = !this.sampled && !rt.spans.opensEarly;
    if (this.sampled) this.readClient();
    const raw = headers[rt.tagsHeader];
    if (raw !== undefined) {
      const parsed = parseTagsHeader(raw);
      if (parsed !== undefined) {
        if (parsed.warning !== undefined) rt.logger.warn(parsed.warning);
        this.headerTags = parsed.tags;
      }
    }
  }

  private readClient(): void {
    const client = this.client;
    if (client) {
      this.clientIp = client.remoteAddress;
      this.clientPort = client.remotePort;
    }
  }

  /** Ids of the request and proxy spans (§2.2, §2.3), once. */
  private ensureIds(): void {
    if (this.hasIds) return;
    if (!this.initialized) this.init();
    this.hasIds = true;
    const rt = this.runtime;
    const ex = this.extracted;
    if (ex !== undefined && ex.traceId !== undefined) {
      this.traceId = ex.traceId;
      this.traceIdBytes = 16;
    } else {
      const bytes = rt.traceIdBytes;
      const id = randomTraceId(bytes);
      this.traceId = bytes === 8 ? ZERO_HIGH + id : id;
      this.traceIdBytes = bytes;
    }
    if (ex !== undefined && ex.reuseSpanId === true) {
      // Shared-span model (b3, jaeger): the request span is the client's span.
      this.requestSpanId = ex.spanId ?? randomSpanId();
      this.requestParentId = ex.parentId;
    } else {
      this.requestSpanId = randomSpanId();
      this.requestParentId = ex === undefined ? undefined : ex.spanId;
    }
    this.proxySpanId = randomSpanId();
    if (this.sampled && rt.spans.opensEarly) {
      if (this.proxyStartUs === 0) this.proxyStartUs = nowMicros();
      rt.spans.open(this);
    }
  }

  /** §4.6, §4.7: clear, then inject the proxy span's context (docs/design.md difference 2: explicit not-sampled). */
  private propagate(upstream: HeaderTarget, lowercaseKeys: boolean): void {
    const engine = this.runtime.engine;
    const writer = headerWriterFor(upstream, lowercaseKeys);
    engine.clear(writer);
    const oversized = this.oversized;
    if (oversized !== undefined) for (let i = 0; i < oversized.length; i++) writer.remove(oversized[i]);
    const ex = this.extracted;
    const keptTrace = ex !== undefined && ex.traceId !== undefined;
    const ctx: TraceContext = {
      traceId: this.traceId,
      spanId: this.proxySpanId,
      parentId: this.requestSpanId,
      shouldSample: this.sampled,
      baggage: ex === undefined ? undefined : ex.baggage,
      flags: ex === undefined ? undefined : ex.flags,
      singleHeader: ex === undefined ? undefined : ex.singleHeader,
      traceIdOriginalSize: ex === undefined ? undefined : ex.traceIdOriginalSize,
      reuseSpanId: ex === undefined ? undefined : ex.reuseSpanId,
      // docs/design.md difference 8: the random flag travels with the trace id. An incoming
      // w3c id keeps its flag; our ids are random (crypto) so a new trace sets it; an id
      // from another format says nothing about how it was made.
      w3cFlags: keptTrace ? ex.w3cFlags : W3C_FLAG_RANDOM,
      // Only a w3c extraction carries one, and only with the incoming trace id.
      traceState: keptTrace ? ex.traceState : undefined,
    };
    const ids = engine.inject(ctx, this.extractedFrom, writer);
    if (ids !== undefined) this.traceIds = this.traceIds === undefined ? ids : Object.assign(this.traceIds, ids);
    // Without a traceparent of ours, tracestate may only stay with the incoming one.
    if (ids === undefined || ids.w3c === undefined) engine.passTraceState(this.headers, writer);
  }

  private currentTry(): BalancerTry | undefined {
    const tries = this.tries;
    return tries === undefined || tries.length === 0 ? undefined : tries[tries.length - 1];
  }

  /** @internal Log a failure inside tracing; the request is never affected. */
  fail(err: unknown): void {
    reportTracingFailure(this.runtime.logger, err);
  }
}

const NO_HEADERS: RequestHeaders = Object.freeze({});
