/**
 * Collector soak (issue 6): continuous traffic through the reference gateway while the
 * collector cycles through every fault of test/reliability/collector-faults.test.ts, phase
 * after phase, coming back up between them. At the end the gateway is shut down and the
 * run fails (exit 1) unless:
 * - every proxied answer had the upstream's status and body;
 * - the queue never held more than max_entries entries or max_bytes bytes (sampled every 10 ms);
 * - sent + dropped = 3 × requests, the log lines tell the same, and the collector
 *   accepted exactly what the gateway counts as sent;
 * - the endpoint's credentials reached the collector as Basic auth on every POST and
 *   appear in no log line;
 * - shutdown(), called with the queue full in front of a black-holed collector, resolved
 *   within max_retry_time plus twice one delivery's bound.
 * It prints the figures (JSON, then a markdown table) for the README.
 *
 *   npm run build && node --expose-gc build/test/soak/collector-faults.soak.js
 *   DURATION_S=60 PHASE_S=3 node --expose-gc build/test/soak/collector-faults.soak.js   # smoke
 *
 * Env: DURATION_S (300) PHASE_S (10) CONCURRENCY (16). Not run by jest.
 */
import type { QueueConfig } from '../../src/config/types';
import type { QueueHealth } from '../../src/export/queue';
import { EXPORT_TIMEOUT_MARGIN_MS } from '../../src/export/reporter';
import type { Logger } from '../../src/logger';
import {
  CREDENTIAL_FORMS,
  FaultCollector,
  LogTally,
  driveUntil,
  sampleHealth,
  startFaultGateway,
  startUpstream,
  totalDropped,
  type CollectorBehavior,
} from '../reliability/collector-kit';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const DURATION_S = num('DURATION_S', 300);
const PHASE_S = num('PHASE_S', 10);
const CONCURRENCY = num('CONCURRENCY', 16);

const TIMEOUTS = { connect: 200, send: 200, read: 500 };
const QUEUE: Partial<QueueConfig> = {
  max_batch_size: 100,
  max_coalescing_delay: 0.1,
  max_entries: 5000,
  max_bytes: 2 * 1024 * 1024,
  max_retry_time: 2,
  initial_retry_delay: 0.01,
  max_retry_delay: 0.5,
};

type Phase = { name: string; behavior: CollectorBehavior | 'down' };
const UP: Phase = { name: 'up', behavior: { kind: 'answer', status: 202, reason: 'Accepted' } };
const PHASES: Phase[] = [
  UP,
  { name: 'black-holed', behavior: { kind: 'blackhole' } },
  UP,
  {
    name: 'slow beyond read_timeout (1 s)',
    behavior: { kind: 'answer', status: 202, reason: 'Accepted', delayMs: 1000 },
  },
  UP,
  { name: '500', behavior: { kind: 'answer', status: 500, reason: 'Internal Server Error', body: 'boom' } },
  { name: '429', behavior: { kind: 'answer', status: 429, reason: 'Too Many Requests', body: 'later' } },
  UP,
  { name: 'trickle', behavior: { kind: 'trickle', intervalMs: 50 } },
  { name: 'close mid-response', behavior: { kind: 'close-mid-response' } },
  { name: 'reset', behavior: { kind: 'reset' } },
  UP,
  { name: 'not HTTP', behavior: { kind: 'not-http' } },
  { name: 'down', behavior: 'down' },
  UP,
  {
    name: 'slow within timeouts (100 ms)',
    behavior: { kind: 'answer', status: 202, reason: 'Accepted', delayMs: 100 },
  },
  { name: '200 garbage', behavior: { kind: 'answer', status: 200, reason: 'OK', body: Buffer.alloc(4096, 0xfe) } },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const tally = new LogTally();
  const levels = { debug: 0, info: 0, warn: 0, error: 0 };
  let leaks = 0;
  const failureReasons = new Map<string, number>();
  const see = (level: keyof typeof levels, message: string): void => {
    levels[level]++;
    const line = `${level} ${message}`;
    tally.add(line);
    if (CREDENTIAL_FORMS.some((secret) => line.includes(secret))) leaks++;
    const i = message.indexOf('handler could not process entries: ');
    if (level === 'warn' && i !== -1) {
      const reason = message.slice(i + 'handler could not process entries: '.length);
      failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);
    }
  };
  const logger: Logger = {
    debug: (m) => see('debug', m),
    info: (m) => see('info', m),
    warn: (m) => see('warn', m),
    error: (m) => see('error', m),
  };

  const upstream = await startUpstream();
  const collector = await new FaultCollector(UP.behavior as CollectorBehavior, false).start();
  const collectorPort = collector.port;
  const fg = await startFaultGateway({
    endpoint: collector.url,
    upstreamPort: upstream.port,
    logger,
    timeouts: TIMEOUTS,
    queue: QUEUE,
  });
  const sampler = sampleHealth(() => fg.plugin.health(), 10);

  const started = performance.now();
  const loadEndsAt = started + DURATION_S * 1000;
  let stopLoad = false;
  const load = driveUntil(fg.port, () => stopLoad, CONCURRENCY);

  const heap: { at_s: number; phase: string; heap_mib: number; rss_mib: number }[] = [];
  const phases: { phase: string; sent: number; dropped: number }[] = [];
  let down = false;
  let before = fg.plugin.health() as QueueHealth;
  for (let i = 0; performance.now() < loadEndsAt; i++) {
    const phase = PHASES[i % PHASES.length];
    if (phase.behavior === 'down') {
      await collector.stop();
      down = true;
    } else {
      if (down) {
        await collector.start(collectorPort);
        down = false;
      }
      collector.behavior = phase.behavior;
    }
    await sleep(Math.min(PHASE_S * 1000, Math.max(0, loadEndsAt - performance.now())));
    const after = fg.plugin.health() as QueueHealth;
    phases.push({
      phase: phase.name,
      sent: after.sent - before.sent,
      dropped: totalDropped(after) - totalDropped(before),
    });
    before = after;
    if (phase === UP) {
      const u = process.memoryUsage();
      heap.push({
        at_s: Math.round((performance.now() - started) / 1000),
        phase: phase.name,
        heap_mib: mib(heapAfterGc()),
        rss_mib: mib(u.rss),
      });
    }
  }
  // The end: a black hole under load, then the shutdown with a full queue in front of it.
  if (down) await collector.start(collectorPort);
  collector.behavior = { kind: 'blackhole' };
  await sleep(PHASE_S * 1000);
  stopLoad = true;
  const traffic = await load;
  const loadSeconds = (performance.now() - started) / 1000;
  const atShutdown = fg.plugin.health() as QueueHealth;
  const t0 = performance.now();
  await fg.gateway.shutdown(5000);
  const shutdownMs = Math.round(performance.now() - t0);
  const peaks = sampler.stop();
  const health = fg.plugin.health() as QueueHealth;
  await collector.stop();
  await upstream.close();

  const produced = 3 * traffic.sent;
  const attempt = TIMEOUTS.connect + TIMEOUTS.send + TIMEOUTS.read + EXPORT_TIMEOUT_MARGIN_MS;
  const shutdownBound = (QUEUE.max_retry_time as number) * 1000 + 2 * attempt;
  const checks: [string, boolean][] = [
    ['every answer had the upstream status and body', traffic.wrong === 0],
    ['queue entries ≤ max_entries at every sample', peaks.entries <= (QUEUE.max_entries as number)],
    ['queue bytes ≤ max_bytes at every sample', peaks.bytes <= (QUEUE.max_bytes as number)],
    ['sent + dropped = 3 × requests', health.sent + totalDropped(health) === produced],
    [
      'the log lines account for the same',
      JSON.stringify(tally.account) === JSON.stringify({ sent: health.sent, ...health.dropped }),
    ],
    ['the collector accepted exactly what was counted sent', collector.accepted === health.sent],
    ['Basic auth on every POST the collector read', collector.wrongAuthorization === 0 && collector.requestCount > 0],
    ['credentials in no log line', leaks === 0],
    [`shutdown within ${shutdownBound} ms`, shutdownMs <= shutdownBound],
  ];
  const summary = {
    soak: 'collector-faults',
    node: process.version,
    duration_s: DURATION_S,
    phase_s: PHASE_S,
    concurrency: CONCURRENCY,
    queue: QUEUE,
    timeouts_ms: TIMEOUTS,
    requests: traffic.sent,
    load_s: Math.round(loadSeconds),
    requests_per_s: Math.round(traffic.sent / loadSeconds),
    wrong_answers: traffic.wrong,
    wrong_examples: traffic.examples,
    spans_produced: produced,
    health,
    log_account: tally.account,
    log_lines: levels,
    failure_reasons: Object.fromEntries(failureReasons),
    collector: {
      posts: collector.requestCount,
      spans_received: collector.spanCount,
      spans_accepted: collector.accepted,
      wrong_authorization: collector.wrongAuthorization,
    },
    peaks: { ...peaks, max_entries: QUEUE.max_entries, max_bytes: QUEUE.max_bytes },
    queue_at_shutdown: atShutdown.size,
    shutdown_ms: shutdownMs,
    heap_after_gc_in_up_phases: heap,
    phases,
    checks: Object.fromEntries(checks),
  };
  console.log(JSON.stringify(summary, null, 2));
  const d = health.dropped;
  console.log('');
  console.log(
    '| run | requests (req/s) | wrong answers | spans produced | sent | dropped: queue_full / max_bytes / retry_exhausted / shutdown | peak entries (max) | peak bytes (max) | heap after GC, first → last up phase | shutdown (queued then) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const h0 = heap[0];
  const h1 = heap[heap.length - 1];
  console.log(
    `| ${DURATION_S} + ${PHASE_S} s, ${PHASE_S} s phases, ${CONCURRENCY} clients | ${traffic.sent} (${summary.requests_per_s}) | ${traffic.wrong} | ${produced} | ${health.sent} | ` +
      `${d.queue_full} / ${d.max_bytes} / ${d.retry_exhausted} / ${d.shutdown} | ${peaks.entries} (${QUEUE.max_entries}) | ${peaks.bytes} (${QUEUE.max_bytes}) | ` +
      `${h0 === undefined ? '–' : h0.heap_mib} → ${h1 === undefined ? '–' : h1.heap_mib} MiB | ${shutdownMs} ms (${atShutdown.size.entries}) |`,
  );
  const failed = checks.filter(([, ok]) => !ok);
  for (const [name, ok] of checks) console.error(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
