/**
 * Faults of the collector, each with real traffic through the reference gateway
 * (`startGateway` from a decK object; the last cases through Express + http-proxy-middleware
 * with a foreign exporter). For every fault:
 * - every proxied response keeps the upstream's status and body;
 * - the queue stays within `max_entries` / `max_bytes` (health sampled every 2 ms under load);
 * - every span is delivered or dropped and counted: sent + dropped = produced = 3 × requests,
 *   and the log says the same thing line by line (Kong's texts);
 * - the failure is logged with Kong's text, and `shutdown()` resolves within
 *   max_retry_time plus the timeouts;
 * - the endpoint's credentials reach the collector as Basic auth and appear in no log line.
 */
import { SpanKind } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { ZipkinExporter as StockZipkinExporter } from '@opentelemetry/exporter-zipkin';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { QueueConfig } from '../../src/config/types';
import { KongQueueSpanProcessor } from '../../src/export/queue-span-processor';
import { EXPORT_TIMEOUT_MARGIN_MS } from '../../src/export/reporter';
import { KongQueue, type QueueHealth } from '../../src/export/queue';
import { createZipkinPlugin } from '../../src/plugin';
import { makeSpans, queueConfig } from '../export/helpers';
import { startGateway as startExpressGateway } from '../integrations/helpers';
import {
  CREDENTIAL_FORMS,
  EXPECTED_AUTHORIZATION,
  FaultCollector,
  PLUGIN_ID,
  QUEUE_PREFIX as P,
  UntrustedTlsCollector,
  capturingLogger,
  closedPort,
  drive,
  endpointWithCredentials,
  logAccount,
  sampleHealth,
  startFaultGateway,
  startUpstream,
  totalDropped,
  traceIdOf,
  type CapturingLogger,
  type CollectorBehavior,
  type FaultGateway,
  type HealthPeaks,
  type TrafficResult,
} from './collector-kit';

jest.setTimeout(30_000);

/** Short timeouts keep the suite fast; the faults below are slower than them. */
const TIMEOUTS = { connect: 200, send: 200, read: 200 };
type Timeouts = typeof TIMEOUTS;
/** Fast retries, a short retry budget. */
const RETRY = { initial_retry_delay: 0.01, max_retry_delay: 0.05, max_retry_time: 0.3 };
/** Scheduling slack for a loaded 2-core machine. */
const SLACK_MS = 1500;
/** Kong's request, proxy and balancer spans. */
const SPANS_PER_REQUEST = 3;

/**
 * `shutdown()` bound: the drain gets max_retry_time plus one delivery's bound (the three
 * timeouts plus the queue's margin over them), then a delivery started just before that
 * deadline finishes within one more delivery's bound.
 */
function shutdownBoundMs(queue: Partial<QueueConfig>, t: Timeouts): number {
  const attempt = t.connect + t.send + t.read + EXPORT_TIMEOUT_MARGIN_MS;
  return Math.max(0, queue.max_retry_time ?? 60) * 1000 + 2 * attempt + SLACK_MS;
}

// Everything the file logged and every collector it ran, for the credentials test at the end.
const allLoggers: CapturingLogger[] = [];
const allCollectors: FaultCollector[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function collector(behavior: CollectorBehavior): Promise<FaultCollector> {
  const c = await new FaultCollector(behavior).start();
  allCollectors.push(c);
  cleanups.push(() => c.stop());
  return c;
}

interface Run {
  fg: FaultGateway;
  logger: CapturingLogger;
  traffic: TrafficResult[];
  peaks: HealthPeaks;
  health: QueueHealth;
  produced: number;
  shutdownMs: number;
}

interface RunOptions {
  endpoint: string;
  queue: Partial<QueueConfig>;
  requests: number;
  concurrency: number;
  timeouts?: Timeouts;
  /** Runs after the traffic and before the shutdown; may drive more traffic (returned). */
  between?: (fg: FaultGateway, logger: CapturingLogger) => Promise<TrafficResult[]>;
}

/** Gateway up, traffic, optional middle act, graceful shutdown (timed), final counters. */
async function run(options: RunOptions): Promise<Run> {
  const logger = capturingLogger();
  allLoggers.push(logger);
  const upstream = await startUpstream();
  cleanups.push(() => upstream.close());
  const fg = await startFaultGateway({
    endpoint: options.endpoint,
    upstreamPort: upstream.port,
    logger,
    timeouts: options.timeouts ?? TIMEOUTS,
    queue: options.queue,
  });
  let stopped = false;
  cleanups.push(() => {
    // A failed test may leave a drain behind: cut it loose rather than wait.
    if (!stopped) fg.gateway.forceClose();
  });
  const sampler = sampleHealth(() => fg.plugin.health());
  const traffic = [await drive(fg.port, 0, options.requests, options.concurrency)];
  if (options.between !== undefined) traffic.push(...(await options.between(fg, logger)));
  const t0 = performance.now();
  await fg.gateway.shutdown(2000);
  const shutdownMs = performance.now() - t0;
  stopped = true;
  const peaks = sampler.stop();
  const health = fg.plugin.health() as QueueHealth;
  const produced = SPANS_PER_REQUEST * traffic.reduce((n, t) => n + t.sent, 0);
  return { fg, logger, traffic, peaks, health, produced, shutdownMs };
}

/** The guarantees every fault must keep. */
function expectGuarantees(r: Run, queue: Partial<QueueConfig>, timeouts: Timeouts = TIMEOUTS): void {
  for (const t of r.traffic) expect(t.wrong).toEqual([]);
  // The queue stayed within its bounds at every sample (and ends empty).
  expect(r.peaks.samples).toBeGreaterThan(10);
  expect(r.peaks.entries).toBeLessThanOrEqual(queue.max_entries ?? 10000);
  if (queue.max_bytes !== undefined && queue.max_bytes !== null)
    expect(r.peaks.bytes).toBeLessThanOrEqual(queue.max_bytes);
  expect(r.health.size).toEqual({ entries: 0, bytes: 0 });
  expect(r.health.inFlight).toBe(0);
  // Every span delivered or dropped and counted; the log tells the same story.
  expect(r.health.sent + totalDropped(r.health)).toBe(r.produced);
  expect(logAccount(r.logger.lines)).toEqual({ sent: r.health.sent, ...r.health.dropped });
  expect(r.shutdownMs).toBeLessThan(shutdownBoundMs(queue, timeouts));
}

/** The reasons of the queue's failure warnings, as a set. */
function failureReasons(lines: readonly string[]): string[] {
  const head = `warn ${P}handler could not process entries: `;
  return [...new Set(lines.filter((l) => l.startsWith(head)).map((l) => l.slice(head.length)))];
}

function expectCredentialsSent(c: FaultCollector): void {
  expect(c.requests.length).toBeGreaterThan(0);
  expect(new Set(c.requests.map((q) => q.authorization))).toEqual(new Set([EXPECTED_AUTHORIZATION]));
}

describe('a collector that fails every delivery', () => {
  const QUEUE: Partial<QueueConfig> = { max_entries: 20, ...RETRY };

  test.each([
    ['black-holed (reads, never answers)', { kind: 'blackhole' }, 'zipkin request failed: timeout'],
    [
      'slower than read_timeout (202 after 600 ms)',
      { kind: 'answer', status: 202, reason: 'Accepted', delayMs: 600 },
      'zipkin request failed: timeout',
    ],
    [
      'trickling its answer (a byte every 50 ms: no single read waits 200 ms)',
      { kind: 'trickle', intervalMs: 50 },
      'zipkin request failed: timeout',
    ],
    [
      'answering 500',
      { kind: 'answer', status: 500, reason: 'Internal Server Error', body: 'boom' },
      'zipkin server responded unexpectedly: 500 Internal Server Error',
    ],
    [
      'answering 429',
      { kind: 'answer', status: 429, reason: 'Too Many Requests', body: 'slow down' },
      'zipkin server responded unexpectedly: 429 Too Many Requests',
    ],
    ['closing the connection mid-response', { kind: 'close-mid-response' }, 'zipkin request failed: closed'],
    [
      'resetting the connection instead of answering',
      { kind: 'reset' },
      'zipkin request failed: connection reset by peer',
    ],
  ] as [string, CollectorBehavior, string][])(
    '%s: responses intact, queue bounded, every span accounted for',
    async (_name, behavior, reason) => {
      const c = await collector(behavior);
      const r = await run({ endpoint: c.url, queue: QUEUE, requests: 30, concurrency: 6 });
      expectGuarantees(r, QUEUE);
      expect(r.health.sent).toBe(0);
      expect(c.accepted).toBe(0);
      expect(failureReasons(r.logger.lines)).toEqual([reason]);
      // 90 spans against a queue of 20 that never drains: it filled up and dropped the oldest.
      expect(r.peaks.entries).toBe(20);
      expect(r.health.dropped.queue_full).toBeGreaterThan(0);
      expect(r.health.dropped.retry_exhausted).toBeGreaterThan(0);
      expectCredentialsSent(c);
    },
  );

  test('answering bytes that are not HTTP: the parser error, Kong-prefixed', async () => {
    const c = await collector({ kind: 'not-http' });
    const r = await run({ endpoint: c.url, queue: QUEUE, requests: 10, concurrency: 2 });
    expectGuarantees(r, QUEUE);
    expect(r.health.sent).toBe(0);
    expect(failureReasons(r.logger.lines)).toEqual([
      'zipkin request failed: Parse Error: Expected HTTP/, RTSP/ or ICE/',
    ]);
    expectCredentialsSent(c);
  });

  test('https endpoint with a self-signed certificate: refused by verification, nothing sent, even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const tlsCollector = await new UntrustedTlsCollector().start();
    cleanups.push(() => tlsCollector.stop());
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    cleanups.push(() => {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    });
    const r = await run({ endpoint: tlsCollector.url, queue: QUEUE, requests: 10, concurrency: 2 });
    expectGuarantees(r, QUEUE);
    expect(r.health.sent).toBe(0);
    // OpenSSL's verify code and text, as ngx_lua reports a failed handshake.
    expect(failureReasons(r.logger.lines)).toEqual(['zipkin request failed: 18: self-signed certificate']);
    expect(tlsCollector.connections).toBeGreaterThan(0);
    expect(tlsCollector.secureConnections).toBe(0);
    expect(tlsCollector.applicationBytes).toBe(0);
  });
});

describe('collectors that accept', () => {
  test('200 with a garbage body is a success: every span delivered once', async () => {
    const garbage = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37 + 11) % 256));
    const c = await collector({ kind: 'answer', status: 200, reason: 'OK', body: garbage });
    const queue: Partial<QueueConfig> = { max_entries: 1000, ...RETRY };
    const r = await run({ endpoint: c.url, queue, requests: 30, concurrency: 6 });
    expectGuarantees(r, queue);
    expect(r.health.sent).toBe(90);
    expect(totalDropped(r.health)).toBe(0);
    expect(c.accepted).toBe(90);
    expect(c.spansReceived).toBe(90);
    expect(failureReasons(r.logger.lines)).toEqual([]);
    expectCredentialsSent(c);
  });

  test('slow but within the timeouts (202 after 40 ms): the byte cap holds, what is sent is exactly what the collector accepted', async () => {
    const c = await collector({ kind: 'answer', status: 202, reason: 'Accepted', delayMs: 40 });
    const queue: Partial<QueueConfig> = { max_entries: 10, max_bytes: 5000, ...RETRY };
    const timeouts = { connect: 200, send: 200, read: 1000 };
    const r = await run({ endpoint: c.url, queue, requests: 30, concurrency: 6, timeouts });
    expectGuarantees(r, queue, timeouts);
    expect(failureReasons(r.logger.lines)).toEqual([]);
    // One span per 40 ms cannot keep up with 90: the byte cap bound first (spans are ~700 bytes).
    expect(r.health.dropped.max_bytes).toBeGreaterThan(0);
    expect(r.peaks.bytes).toBeGreaterThan(2500);
    expect(r.health.sent).toBeGreaterThan(0);
    expect(r.health.sent).toBe(c.accepted);
    expect(c.spansReceived).toBe(c.accepted);
    expectCredentialsSent(c);
  });
});

test('down (connection refused), then back on the same port: delivery resumes, backlog and new spans arrive', async () => {
  const port = await closedPort();
  const c = new FaultCollector({ kind: 'answer', status: 202, reason: 'Accepted' });
  allCollectors.push(c);
  cleanups.push(() => c.stop());
  const queue: Partial<QueueConfig> = { max_entries: 30, ...RETRY, max_retry_time: 5 };
  let downHealth: QueueHealth | undefined;
  const r = await run({
    endpoint: endpointWithCredentials('http', port),
    queue,
    requests: 40,
    concurrency: 8,
    between: async (fg) => {
      downHealth = fg.plugin.health();
      await c.start(port);
      // The batch being retried goes through on its next try, then the backlog.
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && (fg.plugin.health()?.size.entries !== 0 || fg.plugin.health()?.inFlight !== 0))
        await new Promise((res) => setTimeout(res, 5));
      return [await drive(fg.port, 1000, 10, 1)];
    },
  });
  expectGuarantees(r, queue);
  // While down: refused, retried, the queue full and dropping, nothing sent.
  expect(downHealth?.sent).toBe(0);
  expect(downHealth?.retried).toBeGreaterThan(0);
  expect(r.peaks.entries).toBe(30);
  expect(r.health.dropped.queue_full).toBeGreaterThan(0);
  expect(failureReasons(r.logger.lines)).toEqual(['zipkin request failed: connection refused']);
  expect(r.logger.lines).toContain(`info ${P}queue resumed processing`);
  // Up again: the backlog (spans of the first 40 requests) and every span of the 10 new ones.
  const received = c.traceIdsReceived();
  expect(Array.from({ length: 40 }, (_, i) => traceIdOf(i)).filter((id) => received.has(id)).length).toBeGreaterThan(0);
  expect(Array.from({ length: 10 }, (_, i) => traceIdOf(1000 + i)).filter((id) => !received.has(id))).toEqual([]);
  expect(r.health.dropped.retry_exhausted + r.health.dropped.shutdown).toBe(0);
  expect(r.health.sent).toBe(c.accepted);
  expect(r.health.sent).toBe(r.produced - r.health.dropped.queue_full);
  expectCredentialsSent(c);
});

describe('shutdown() while the collector is black-holed or slow', () => {
  test('black-holed: resolves within max_retry_time + the timeouts; what was not sent is dropped, counted and logged', async () => {
    const c = await collector({ kind: 'blackhole' });
    const queue: Partial<QueueConfig> = { max_entries: 100, ...RETRY, max_retry_time: 0.5 };
    const r = await run({ endpoint: c.url, queue, requests: 20, concurrency: 4 });
    expectGuarantees(r, queue);
    // 60 spans, one per POST, each retried for 0.5 s would take > 30 s: the drain was cut.
    expect(r.health.sent).toBe(0);
    expect(r.health.dropped.shutdown).toBeGreaterThan(0);
    expect(r.health.dropped.queue_full + r.health.dropped.max_bytes).toBe(0);
    expect(
      r.logger.lines.some((l) => l.startsWith(`error ${P}could not send entries before the shutdown deadline.`)),
    ).toBe(true);
  });

  test('slow (202 after 150 ms, read_timeout 300 ms): the drain delivers until the deadline, then drops the rest', async () => {
    const c = await collector({ kind: 'answer', status: 202, reason: 'Accepted', delayMs: 150 });
    const queue: Partial<QueueConfig> = { max_entries: 100, ...RETRY, max_retry_time: 0.5 };
    const timeouts = { connect: 200, send: 200, read: 300 };
    const r = await run({ endpoint: c.url, queue, requests: 20, concurrency: 4, timeouts });
    expectGuarantees(r, queue, timeouts);
    expect(failureReasons(r.logger.lines)).toEqual([]);
    expect(r.health.sent).toBeGreaterThan(0);
    expect(r.health.sent).toBe(c.accepted);
    expect(r.health.dropped.shutdown).toBeGreaterThan(0);
    expect(r.health.sent + r.health.dropped.shutdown).toBe(60);
  });
});

test('concurrency_limit -1 against a black hole: deliveries in flight never exceed max_entries, the excess is dropped and logged', async () => {
  const c = await collector({ kind: 'blackhole' });
  const queue: Partial<QueueConfig> = { concurrency_limit: -1, max_entries: 10, ...RETRY };
  const r = await run({ endpoint: c.url, queue, requests: 20, concurrency: 4 });
  expectGuarantees(r, queue);
  expect(r.peaks.inFlight).toBe(10);
  expect(r.health.sent).toBe(0);
  expect(r.health.dropped.queue_full).toBeGreaterThan(0);
  expect(r.health.dropped.queue_full + r.health.dropped.retry_exhausted + r.health.dropped.shutdown).toBe(60);
  expect(failureReasons(r.logger.lines)).toEqual(['zipkin request failed: timeout']);
  expectCredentialsSent(c);
});

test('a foreign exporter (stock @opentelemetry/exporter-zipkin) against a black hole: each export is bounded, shutdown resolves', async () => {
  const c = await collector({ kind: 'blackhole' });
  const logger = capturingLogger();
  allLoggers.push(logger);
  const queue: QueueConfig = {
    max_batch_size: 5,
    max_coalescing_delay: 0.05,
    max_entries: 100,
    max_bytes: null,
    max_retry_time: 0.5,
    initial_retry_delay: 0.01,
    max_retry_delay: 0.05,
    concurrency_limit: 1,
  };
  const processor = new KongQueueSpanProcessor({
    exporter: new StockZipkinExporter({ url: `http://127.0.0.1:${c.port}/api/v2/spans` }),
    queue,
    name: PLUGIN_ID,
    logger,
    exportTimeoutMillis: 300,
  });
  const plugin = createZipkinPlugin({ sample_ratio: 1 }, { spanProcessors: [processor], logger, pluginId: PLUGIN_ID });
  const upstream = await startUpstream();
  cleanups.push(() => upstream.close());
  const gateway = await startExpressGateway(plugin, upstream.port);
  cleanups.push(() => gateway.close());
  const sampler = sampleHealth(() => processor.health());
  const traffic = await drive(gateway.port, 0, 10, 2, '/api');
  await new Promise((res) => setTimeout(res, 100)); // the last spans end after the responses
  const t0 = performance.now();
  await plugin.shutdown();
  const shutdownMs = performance.now() - t0;
  const peaks = sampler.stop();
  const health = processor.health();

  expect(traffic.wrong).toEqual([]);
  expect(peaks.entries).toBeLessThanOrEqual(100);
  expect(health.sent).toBe(0);
  expect(health.sent + totalDropped(health)).toBe(30);
  expect(logAccount(logger.lines)).toEqual({ sent: 0, ...health.dropped });
  expect(failureReasons(logger.lines)).toEqual(['timed out after 300 ms']);
  // max_retry_time 0.5 s + 2 × 300 ms; the stock exporter's own shutdown never resolves (it waits for its hung POSTs).
  expect(shutdownMs).toBeLessThan(500 + 2 * 300 + 300 + SLACK_MS);
  expect(logger.lines).toContain('warn exporter shutdown did not complete within 300 ms');
  expect(c.requests.length).toBeGreaterThan(0);
});

describe('the bounds behind these guarantees (fake timers, exact times)', () => {
  const Q = '[zipkin plugin q] queue q: ';
  let t0 = 0;
  const at = (): number => performance.now() - t0;
  const advance = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms);
  const notDebug = (l: CapturingLogger): string[] => l.lines.filter((line) => !line.startsWith('debug '));

  beforeEach(() => {
    jest.useFakeTimers();
    t0 = performance.now();
  });
  afterEach(() => jest.useRealTimers());

  test('handlerTimeout: a handler that never settles fails after it, is retried as Kong retries, its late success ignored', async () => {
    const logger = capturingLogger();
    const calls: number[] = [];
    const late: Array<() => void> = [];
    const q = new KongQueue<string>({
      name: 'q',
      logTag: 'zipkin plugin q',
      config: queueConfig({ max_retry_time: 0.25, initial_retry_delay: 0.01, max_retry_delay: 0.01 }),
      handler: () => {
        calls.push(at());
        return new Promise<void>((resolve) => late.push(resolve));
      },
      logger,
      handlerTimeout: 100,
    });
    q.enqueue('a', 1);
    await advance(1000);
    // 0 → timed out at 100, retry at 110 → 210, retry at 220 → 320: 0.32 s > max_retry_time.
    expect(calls).toEqual([0, 110, 220]);
    for (const resolve of late) resolve();
    await advance(0);
    expect(q.health()).toMatchObject({
      sent: 0,
      retried: 2,
      batches: 1,
      inFlight: 0,
      dropped: { retry_exhausted: 1, shutdown: 0 },
    });
    expect(notDebug(logger)).toEqual([
      `warn ${Q}handler could not process entries: timed out after 100 ms`,
      `warn ${Q}handler could not process entries: timed out after 100 ms`,
      `warn ${Q}handler could not process entries: timed out after 100 ms`,
      `error ${Q}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    ]);
  });

  test('shutdown deadline (max_retry_time + handlerTimeout): a longer retry wait is cut, the batch and the rest of the queue are dropped and logged', async () => {
    const logger = capturingLogger();
    const calls: number[] = [];
    const q = new KongQueue<string>({
      name: 'q',
      logTag: 'zipkin plugin q',
      // Kong allows a retry wait (5 s) longer than max_retry_time (0.5 s).
      config: queueConfig({ max_retry_time: 0.5, initial_retry_delay: 5, max_retry_delay: 5 }),
      handler: () => {
        calls.push(at());
        return Promise.reject(new Error('down'));
      },
      logger,
      handlerTimeout: 100,
    });
    q.enqueue('a', 1);
    q.enqueue('b', 1);
    await advance(100);
    let doneAt = -1;
    void q.shutdown().then(() => (doneAt = at()));
    await advance(10_000);
    // Deadline 100 + 500 + 100 ms: the wait until 5000 ends at 700, and nothing is tried after it.
    expect(calls).toEqual([0]);
    expect(doneAt).toBe(700);
    expect(q.health()).toMatchObject({
      queued: 2,
      sent: 0,
      size: { entries: 0, bytes: 0 },
      inFlight: 0,
      dropped: { retry_exhausted: 0, shutdown: 2 },
    });
    expect(notDebug(logger)).toEqual([
      `warn ${Q}handler could not process entries: down`,
      `error ${Q}could not send entries before the shutdown deadline. 1 queue entries were lost`,
      `error ${Q}could not send entries before the shutdown deadline. 1 queue entries were lost`,
    ]);
  });

  test('KongQueueSpanProcessor: export, forceFlush and shutdown of an exporter that never calls back are bounded by exportTimeoutMillis', async () => {
    const logger = capturingLogger();
    const exportedAt: number[] = [];
    const exporter: SpanExporter = {
      export: (_spans: ReadableSpan[], _done: (result: ExportResult) => void) => void exportedAt.push(at()),
      forceFlush: () => new Promise<void>(() => undefined),
      shutdown: () => new Promise<void>(() => undefined),
    };
    const processor = new KongQueueSpanProcessor({
      exporter,
      queue: queueConfig({ max_retry_time: 0.15, initial_retry_delay: 0.01, max_retry_delay: 0.01 }),
      name: 'q',
      logger,
      exportTimeoutMillis: 100,
    });
    makeSpans(
      [
        {
          name: 'GET',
          kind: SpanKind.SERVER,
          spanId: '1111111111111111',
          start: [1700000000, 0],
          end: [1700000000, 1000],
        },
      ],
      processor,
    );
    await advance(1000);
    expect(exportedAt).toEqual([0, 110]);
    let flushedAt = -1;
    void processor.forceFlush().then(() => (flushedAt = at()));
    await advance(1000);
    expect(flushedAt).toBe(1100);
    let shutAt = -1;
    void processor.shutdown().then(() => (shutAt = at()));
    await advance(1000);
    expect(shutAt).toBe(2100);
    expect(processor.health()).toMatchObject({ queued: 1, sent: 0, dropped: { retry_exhausted: 1 } });
    expect(notDebug(logger)).toEqual([
      `warn ${Q}handler could not process entries: timed out after 100 ms`,
      `warn ${Q}handler could not process entries: timed out after 100 ms`,
      `error ${Q}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
      'warn exporter flush did not complete within 100 ms',
      'warn exporter shutdown did not complete within 100 ms',
    ]);
  });
});

test('credentials of http_endpoint: sent as Basic auth to every collector above, in no log line or error text', () => {
  const lines = allLoggers.flatMap((l) => l.lines);
  expect(lines.length).toBeGreaterThan(1000);
  const leaks = lines.filter((line) => CREDENTIAL_FORMS.some((secret) => line.includes(secret)));
  expect(leaks).toEqual([]);
  const checked = allCollectors.filter((c) => c.requests.length > 0 && c.requests[0].authorization !== undefined);
  expect(checked.length).toBeGreaterThan(8);
  for (const c of checked) expectCredentialsSent(c);
});
