/**
 * `createZipkinPlugin`: Kong's zipkin plugin for one `config` record, on OpenTelemetry.
 *
 * Two ways to own the spans:
 * - **The plugin's own provider** (default): a `BasicTracerProvider` with the Kong sampler,
 *   a resource whose `service.name` is `local_service_name`, and the span processors given
 *   in `options.spanProcessors`. Spans are built when the request is logged, with exactly
 *   Kong's ids: the request span reuses the incoming b3 / jaeger span id (shared span),
 *   8-byte trace ids (`traceid_byte_count: 8`) are padded to OTel's 32 hex characters and
 *   marked with the `gateway_zipkin.trace_id_bytes` attribute so the Zipkin encoder
 *   reports 16. Unsampled requests create no spans at all.
 * - **A provider the service already runs** (`options.tracerProvider`): the plugin's spans
 *   go to that provider's processors and exporters. OTel lets no caller pick span ids, so
 *   the request and proxy spans are created as soon as their ids are needed (the access
 *   phase, the trace id response header, or log) and those ids are what is propagated.
 *   Differences from Kong's model there: the request span always has a fresh id with the
 *   incoming span as its parent (no shared span for b3 / jaeger); new trace ids come from
 *   the provider's id generator, so they are 128-bit whatever `traceid_byte_count` says;
 *   an incoming trace id without a span id cannot be continued (OTel needs a parent span
 *   context) and a new trace starts; the provider's sampler has the last word — the parent
 *   passed to it carries Kong's decision as its sampled flag, so a `ParentBasedSampler`
 *   (the OTel default) follows Kong, and `KongSampler` reads the decision directly — and
 *   the final decision is what is propagated upstream. `shutdown()` only flushes a reused
 *   provider: its owner shuts it down.
 *
 * The plugin's spans are always created from explicit contexts (never `context.active()`),
 * so they do not nest under spans of other instrumentation. An OTel http instrumentation
 * in the same process still makes its own SERVER span for each incoming request (exclude
 * the gateway's routes with its `ignoreIncomingRequestHook` to avoid a duplicate request
 * span) and CLIENT spans for outgoing requests; the Express route middleware suppresses
 * tracing for what runs after it (`suppressInstrumentation`), so the upstream call is
 * represented by Kong's proxy span only and the instrumentation does not overwrite the
 * injected propagation headers.
 */
import { randomUUID } from 'node:crypto';
import type { TracerProvider } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { deprecationWarnings, effectivePropagation, validateConfig } from './config';
import type { ZipkinConfig, ZipkinConfigInput } from './config/types';
import { createZipkinReporter, type KongQueueSpanProcessor, type QueueHealth, type ZipkinEncoding } from './export';
import { bounded } from './export/bounded';
import { type Logger, stderrLogger } from './logger';
import { PropagationEngine, type LogTraceIds } from './propagation/engine';
import { nowMicros } from './trace/clock';
import { DirectSpans } from './trace/finished-span';
import { SlotIdGenerator } from './trace/id-generator';
import type { HttpRequestLike, KongAuthEntity, RouteIdentity, StreamClientLike } from './trace/request-inputs';
import { RequestTrace } from './trace/request-trace';
import type { SpanBuilder, TraceRuntime } from './trace/runtime';
import { KongSampler } from './trace/sampler';
import { OwnProviderSpans, ReusedProviderSpans } from './trace/span-builder';

export interface ZipkinPluginOptions {
  /** Reuse this provider (the service's own OTel SDK) instead of the plugin's own. */
  tracerProvider?: TracerProvider;
  /**
   * Processors of the plugin's own provider (ignored with `tracerProvider`). Default: Kong's
   * reporter, the queue of `config.queue` feeding the Zipkin exporter for `http_endpoint`.
   */
  spanProcessors?: SpanProcessor[];
  /** Kong's plugin id: the queue name and log tag of the default reporter (default: a random UUID). */
  pluginId?: string;
  /** Kong's plugin `instance_name`, shown in the queue's log tag. */
  instanceName?: string | null;
  /** Beyond Kong, for the default reporter: `proto3` request bodies (default `json`). */
  encoding?: ZipkinEncoding;
  /** Beyond Kong, for the default reporter: gzip request bodies (default false). */
  gzip?: boolean;
  /** Where Kong's log lines go (default: warnings and errors to stderr). */
  logger?: Logger;
  /** `kong.node.id` (default: a random UUID, one per process). */
  nodeId?: string;
  /**
   * Beyond Kong: at most this many ms for `shutdown()` and `forceFlush()` (the default
   * reporter's drain included; a pending POST is abandoned at the deadline). Spans not
   * delivered by then are counted as `shutdown` drops and logged. Default: no deadline of
   * its own (the reporter's drain ends within `max_retry_time` plus one POST's timeouts).
   */
  shutdownTimeoutMillis?: number;
}

/** A provider's optional flush and shutdown (the API's `TracerProvider` has neither). */
interface FlushableProvider {
  forceFlush?: () => Promise<void>;
  shutdown?: () => Promise<void>;
}

/**
 * The provider that really holds the processors: `trace.getTracerProvider()` returns a
 * `ProxyTracerProvider` (what NodeSDK users have), whose delegate is the registered SDK
 * provider, or the no-op provider before one is registered.
 */
export function delegateOf(provider: TracerProvider): TracerProvider {
  let current = provider;
  for (let i = 0; i < 4; i++) {
    const next = (current as { getDelegate?: () => TracerProvider }).getDelegate?.();
    if (next === undefined || next === current) break;
    current = next;
  }
  return current;
}

let processNodeId: string | undefined;

/** The default reporter ends its drain at the deadline itself; this only catches other processors. */
const SHUTDOWN_WARNING_SLACK_MS = 50;

const TRACE = Symbol('gateway-zipkin request trace');

/** Anything a request trace can be attached to (a request, a socket). */
type Carrier = object & { [TRACE]?: RequestTrace };

/** The trace attached to `carrier` by an integration, if any (whichever plugin started it). */
export function traceOf(carrier: object): RequestTrace | undefined {
  return (carrier as Carrier)[TRACE];
}

/** Attach `trace` to `carrier` (a request or socket), replacing any earlier one. */
export function attachTrace(carrier: object, trace: RequestTrace): void {
  (carrier as Carrier)[TRACE] = trace;
}

/** Kong's zipkin plugin for one config; the integrations drive its request traces. */
export class ZipkinPlugin {
  /** The validated config, every default filled in. */
  readonly config: ZipkinConfig;
  readonly nodeId: string;
  readonly logger: Logger;
  /** The provider the spans go to (the plugin's own, or the reused one). */
  readonly tracerProvider: TracerProvider;
  /** false when `options.tracerProvider` was given. */
  readonly ownsProvider: boolean;
  /** Kong's plugin id (queue name). */
  readonly id: string;
  /** The default reporter, when the plugin built it (no `tracerProvider`, no `spanProcessors`). */
  readonly reporter: KongQueueSpanProcessor | undefined;
  /** @internal shared by this plugin's request traces */
  readonly runtime: TraceRuntime;
  private readonly shutdownTimeout: number | undefined;
  private warnedUnflushable = false;

  constructor(config: ZipkinConfigInput, options: ZipkinPluginOptions = {}) {
    const validated = validateConfig(config);
    const logger = options.logger ?? stderrLogger;
    this.config = validated;
    this.logger = logger;
    this.nodeId = options.nodeId ?? (processNodeId ??= randomUUID());
    this.id = options.pluginId ?? randomUUID();
    for (const warning of deprecationWarnings(validated)) logger.warn(warning);

    let spans: SpanBuilder;
    this.reporter = undefined;
    this.shutdownTimeout = options.shutdownTimeoutMillis;
    const elsewhere =
      options.tracerProvider !== undefined ? 'tracerProvider' : options.spanProcessors ? 'spanProcessors' : null;
    if (elsewhere !== null && (config.http_endpoint != null || config.queue != null)) {
      logger.warn(
        `http_endpoint and queue are not used with options.${elsewhere}: Kong's spans go to ` +
          `that provider's span processors (add createZipkinReporter(config, { pluginId }) to them to report to http_endpoint)`,
      );
    }
    if (options.tracerProvider !== undefined) {
      this.tracerProvider = options.tracerProvider;
      this.ownsProvider = false;
      spans = new ReusedProviderSpans(options.tracerProvider.getTracer('gateway-zipkin'));
    } else {
      const ids = new SlotIdGenerator();
      if (options.spanProcessors === undefined) {
        this.reporter = createZipkinReporter(validated, {
          pluginId: this.id,
          instanceName: options.instanceName,
          logger,
          encoding: options.encoding,
          gzip: options.gzip,
          shutdownTimeoutMillis: options.shutdownTimeoutMillis,
        });
      }
      const resource = resourceFromAttributes({ 'service.name': validated.local_service_name });
      const processors = options.spanProcessors ?? [this.reporter as KongQueueSpanProcessor];
      // The provider still holds the processors (forceFlush, shutdown) and serves processors
      // that watch spans start; the others get finished spans directly (finished-span.ts).
      const provider = new BasicTracerProvider({
        sampler: new KongSampler(validated.sample_ratio),
        idGenerator: ids,
        resource,
        spanProcessors: processors,
      });
      this.tracerProvider = provider;
      this.ownsProvider = true;
      const tracer = provider.getTracer('gateway-zipkin');
      spans = new OwnProviderSpans(tracer, ids, DirectSpans.for(tracer, resource, processors));
    }

    this.runtime = {
      config: validated,
      logger,
      engine: new PropagationEngine(effectivePropagation(validated), logger),
      nodeId: this.nodeId,
      sampleRatio: validated.sample_ratio,
      traceIdBytes: validated.traceid_byte_count,
      annotations: validated.phase_duration_flavor === 'annotations',
      tagsHeader: validated.tags_header.toLowerCase(),
      responseHeader: validated.http_response_header_for_traceid,
      spans,
    };
  }

  /**
   * Start tracing an HTTP request (Kong's rewrite phase starts now, or at `startUs`,
   * epoch µs) and attach the trace to `req`. Response hooks are the integration's job
   * (see `traceHttp` in the node:http integration).
   */
  startHttp(req: HttpRequestLike, startUs?: number): RequestTrace {
    const trace = new RequestTrace(this.runtime, false, startUs ?? nowMicros(), req, undefined);
    attachTrace(req, trace);
    return trace;
  }

  /** Start tracing a TCP connection (Kong's stream subsystem) and attach the trace to `client`. */
  startStream(client: StreamClientLike, startUs?: number): RequestTrace {
    const trace = new RequestTrace(this.runtime, true, startUs ?? nowMicros(), undefined, client);
    attachTrace(client, trace);
    return trace;
  }

  /** The trace of `req` (or of a stream client socket), if this or another plugin started one. */
  getTrace(req: object): RequestTrace | undefined {
    return traceOf(req);
  }

  /**
   * The log serializer's `trace_id` object of `req` (§7), e.g. `{ b3: "…", w3c: "…" }`,
   * for the application's access log; undefined when nothing was injected (no route
   * matched, or `inject` is empty).
   */
  traceIds(req: object): LogTraceIds | undefined {
    return traceOf(req)?.traceIds;
  }

  /** Route and service identity of `req` (`kong.route`, `kong.service`, … tags). */
  setRoute(req: object, identity: RouteIdentity): void {
    traceOf(req)?.setRoute(identity);
  }

  /** The authenticated consumer and credential of `req` (`kong.consumer`, `kong.credential`). */
  setConsumer(req: object, consumer: KongAuthEntity | null | undefined, credential?: KongAuthEntity | null): void {
    traceOf(req)?.setConsumer(consumer, credential);
  }

  /** The default reporter's queue counters (queued, sent, dropped by reason, …), if the plugin built it. */
  health(): QueueHealth | undefined {
    return this.reporter?.health();
  }

  /**
   * Export what the provider's processors hold (through a `ProxyTracerProvider` to its
   * delegate); a provider that cannot flush is said in a warning, once.
   */
  async forceFlush(timeoutMillis: number | undefined = this.shutdownTimeout): Promise<void> {
    const provider = delegateOf(this.tracerProvider) as FlushableProvider;
    if (typeof provider.forceFlush !== 'function') {
      if (!this.warnedUnflushable) {
        this.warnedUnflushable = true;
        this.logger.warn(
          'the tracer provider has no forceFlush (is the OpenTelemetry SDK started?): spans it holds are not flushed',
        );
      }
      return;
    }
    await this.withinDeadline(provider.forceFlush(), 'flush', timeoutMillis);
  }

  /**
   * Shut the plugin's own provider down (flushing it); a reused provider is only flushed.
   * `timeoutMillis` (default `shutdownTimeoutMillis`) bounds this call.
   */
  async shutdown(timeoutMillis: number | undefined = this.shutdownTimeout): Promise<void> {
    if (!this.ownsProvider) return this.forceFlush(timeoutMillis);
    // The default reporter drains within the deadline itself; the provider's shutdown then finds it done.
    const drained = this.reporter?.shutdownWithin(timeoutMillis);
    await this.withinDeadline((this.tracerProvider as BasicTracerProvider).shutdown(), 'shutdown', timeoutMillis);
    await drained;
  }

  /** `work`, or a warning when `ms` passes first. */
  private withinDeadline(work: Promise<void>, what: string, ms: number | undefined): Promise<void> {
    if (ms === undefined) return work;
    return bounded(work, ms + SHUTDOWN_WARNING_SLACK_MS, () =>
      this.logger.warn(`tracer provider ${what} did not complete within ${ms} ms: spans it still holds may be lost`),
    );
  }
}

/**
 * Kong's zipkin plugin for `config` (a Kong `config` record, snake_case, as decK writes it).
 * Throws a `ConfigError` naming the field and Kong's text when the config is invalid.
 */
export function createZipkinPlugin(config: ZipkinConfigInput, options?: ZipkinPluginOptions): ZipkinPlugin {
  return new ZipkinPlugin(config, options);
}
