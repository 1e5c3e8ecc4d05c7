/**
 * Soak: a long run of the load-leak test's traffic (random propagation headers in Kong's
 * nine formats, valid and malformed) through a gateway, sampling memory and handles every
 * `--every` requests. Not run by jest (`npm test`); after `npm run build`:
 *
 *     node --expose-gc build/test/soak/traffic.soak.js [--gateway hpm|reference] [--requests 200000]
 *                                                      [--every 10000] [--concurrency 16] [--seed 1]
 *                                                      [--collector]
 *
 * `--collector` also reports every span through Kong's reporter (the queue, batches of up
 * to 200 spans, and the Zipkin exporter) to a local receiver counting what it gets, and
 * checks at the end that every span was delivered (queue counters and receiver agree,
 * nothing dropped).
 *
 * One line per sample: requests so far, heap used after forced GCs, RSS, active handles by
 * type (client connections closed, idle upstream connections closed), spans started /
 * ended / open, Kong warnings. Then a summary: heap growth from the first sample to the
 * last and its slope (least squares, bytes per request), whether handles and listeners
 * stayed as in the first sample, how many weakly held request traces are still alive. Exits
 * 1 when a span stayed open, something escaped, tracing logged an error, handles or
 * listeners changed, a trace stayed reachable, or the heap grew more than `--max-growth`
 * MiB (default 4) after the first sample.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { validateConfig } from '../../src/config';
import { createZipkinReporter, type KongQueueSpanProcessor } from '../../src/export';
import type { ProviderMode } from '../reliability/traffic-harness';
import {
  captureDiag,
  countingLogger,
  hpmGateway,
  PLUGIN_ID,
  referenceGateway,
  tracedPlugin,
  watchEscapes,
} from '../reliability/traffic-harness';
import {
  activeResources,
  exposeGc,
  LOAD_CONFIG,
  listenerSnapshot,
  runLoad,
  seededRng,
  settledHeap,
  startCheckingUpstream,
  TraceSampler,
} from '../reliability/traffic-load';

const { values } = parseArgs({
  options: {
    gateway: { type: 'string', default: 'hpm' },
    requests: { type: 'string', default: '200000' },
    every: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16' },
    seed: { type: 'string', default: '1' },
    'max-growth': { type: 'string', default: '4' },
    collector: { type: 'boolean', default: false },
  },
});

const kind = values.gateway === 'reference' ? 'reference' : 'hpm';
const mode: ProviderMode = kind === 'reference' ? 'reused' : 'own';
const requests = Number(values.requests);
const every = Number(values.every);
const concurrency = Number(values.concurrency);
const maxGrowth = Number(values['max-growth']) * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function noConnections(server: {
  getConnections(cb: (err: Error | null, n: number) => void): void;
}): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const n = await new Promise<number>((r) => server.getConnections((_e, c) => r(c)));
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`${n} connections still open`);
    await sleep(5);
  }
}

/** A Zipkin endpoint answering 202, counting the spans it receives. */
async function startCountingCollector(): Promise<{ url: string; spans(): number; close(): Promise<void> }> {
  let spans = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      spans += (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length;
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/v2/spans`,
    spans: () => spans,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(2);
}

async function main(): Promise<number> {
  const gc = exposeGc();
  const escapes = watchEscapes();
  const diag = captureDiag();
  const logs = countingLogger();
  const upstream = await startCheckingUpstream();
  const collector = values.collector ? await startCountingCollector() : undefined;
  let reporter: KongQueueSpanProcessor | undefined;
  if (collector !== undefined) {
    // Batches of up to 200 spans: with Kong's default of one span per POST, one sequential
    // sender cannot keep up with thousands of spans a second and drops the oldest (as Kong does).
    const config = validateConfig({ ...LOAD_CONFIG, http_endpoint: collector.url, queue: { max_batch_size: 200 } });
    reporter = createZipkinReporter(config, { pluginId: PLUGIN_ID, logger: logs });
  }
  const { plugin, ledger } = tracedPlugin(LOAD_CONFIG, mode, logs, false, reporter === undefined ? [] : [reporter]);
  const gw =
    kind === 'hpm'
      ? await hpmGateway(plugin, upstream.port)
      : await referenceGateway(plugin, logs, { targets: [`127.0.0.1:${upstream.port}`] });
  const sampler = new TraceSampler(gw.server, plugin, 1000);
  const rng = seededRng(Number(values.seed));
  console.log(
    `soak: ${kind} gateway (${mode} provider), ${requests} requests, ${concurrency} connections, sample every ${every}`,
  );

  const samples: { n: number; heap: number }[] = [];
  let firstResources = '';
  let firstListeners = '';
  let resourcesChanged = false;
  let listenersChanged = false;
  let failures = 0;
  const started = Date.now();
  let done = 0;
  while (done < requests) {
    const batch = Math.min(every, requests - done);
    const r = await runLoad(gw.port, batch, concurrency, rng);
    done += batch;
    if (r.errors !== 0 || r.badTraceIds !== 0 || (r.statuses.get(200) ?? 0) !== batch) failures++;
    await noConnections(gw.server);
    const listeners = JSON.stringify(listenerSnapshot(gw.server, gw.agent));
    gw.agent.destroy();
    await noConnections(upstream.server);
    const heap = await settledHeap(gc);
    await sleep(1100); // Node's Date-header cache timer
    const resources = JSON.stringify(activeResources());
    if (samples.length === 0) {
      firstResources = resources;
      firstListeners = listeners;
    } else {
      if (resources !== firstResources) resourcesChanged = true;
      if (listeners !== firstListeners) listenersChanged = true;
    }
    samples.push({ n: done, heap });
    const rss = process.memoryUsage().rss;
    const h = reporter?.health();
    const queue =
      h === undefined
        ? ''
        : `  queue ${h.size.entries} queued, ${h.sent} sent, ${Object.values(h.dropped).reduce((a, b) => a + b, 0)} dropped`;
    console.log(
      `${String(done).padStart(8)} req  heap ${mib(heap)} MiB  rss ${mib(rss)} MiB  handles ${resources}  ` +
        `spans ${ledger.started}/${ledger.ended} open ${ledger.open.size}  warnings ${logs.total('warn')}  ` +
        `${Math.round((done / (Date.now() - started)) * 1000)} req/s${queue}`,
    );
  }
  const alive = sampler.alive();
  await gw.close();
  await upstream.close();
  let delivered = true;
  if (reporter !== undefined && collector !== undefined) {
    await plugin.shutdown();
    const h = reporter.health();
    const dropped = Object.values(h.dropped).reduce((a, b) => a + b, 0);
    delivered =
      h.queued === ledger.ended && h.sent === ledger.ended && dropped === 0 && collector.spans() === ledger.ended;
    console.log(
      `collector: ${ledger.ended} spans ended, ${h.queued} queued, ${h.sent} sent in ${h.batches} batches, ${dropped} dropped, ${collector.spans()} received`,
    );
    await collector.close();
  }
  escapes.stop();
  diag.restore();

  const first = samples[0];
  const last = samples[samples.length - 1];
  const growth = last.heap - first.heap;
  // Least-squares slope of heap over requests, from the first sample on.
  const xs = samples.map((s) => s.n);
  const ys = samples.map((s) => s.heap);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope =
    xs.length < 2
      ? 0
      : xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const maxHeap = Math.max(...ys);
  console.log(
    `summary: heap ${mib(first.heap)} MiB after ${first.n} → ${mib(last.heap)} MiB after ${last.n} (growth ${mib(growth)} MiB, ` +
      `max ${mib(maxHeap)} MiB, slope ${slope.toFixed(2)} B/request); handles ${resourcesChanged ? 'CHANGED' : 'unchanged'}; ` +
      `listeners ${listenersChanged ? 'CHANGED' : 'unchanged'}; traces alive ${alive}/${sampler.taken}; spans ${ledger.started} started, ` +
      `${ledger.ended} ended, ${ledger.open.size} open; errors logged ${logs.total('error')}; escaped ${escapes.escaped.length}; diag ${diag.lines.length}; ` +
      `${Math.round((requests / (Date.now() - started)) * 1000)} req/s overall`,
  );
  const ok =
    failures === 0 &&
    ledger.open.size === 0 &&
    ledger.started === ledger.ended &&
    escapes.escaped.length === 0 &&
    diag.lines.length === 0 &&
    logs.total('error') === 0 &&
    !resourcesChanged &&
    !listenersChanged &&
    alive === 0 &&
    delivered &&
    growth < maxGrowth;
  if (!ok) for (const line of logs.samples) if (!line.startsWith('warn ')) console.log(`  logged: ${line}`);
  console.log(ok ? 'soak passed' : 'soak FAILED');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
