/**
 * 10,000 requests with random propagation headers (Kong's nine formats, valid and
 * malformed, alone or several at once, from a seeded generator) through each gateway: Express +
 * http-proxy-middleware with the plugin's own provider, and the reference gateway with a
 * reused provider (spans opened at access). After a warm-up of 2,000 requests and again
 * after all 10,000 (client connections closed each time):
 * - no unhandled rejection or uncaught exception, no tracing failure logged;
 * - every span started was ended (none open), one request span per sampled request;
 * - the same active handles by type (`process.getActiveResourcesInfo()`), the same
 *   listener counts on the process, the server, the upstream agent and its idle sockets;
 * - every sampled request trace (and its request) is collectable once its response is
 *   done: nothing per request is retained after log;
 * - heap used after forced GCs within a small margin of the warm-up figure.
 * And once everything is closed, the active handles are those from before the test.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { ZipkinPlugin } from '../../src/plugin';
import {
  countingLogger,
  type CountingLogger,
  type Gateway,
  hpmGateway,
  type ProviderMode,
  referenceGateway,
  type SpanLedger,
  tracedPlugin,
  watchEscapes,
  captureDiag,
} from './traffic-harness';
import {
  activeResources,
  exposeGc,
  FORMATS,
  LOAD_CONFIG,
  listenerCounts,
  listenerSnapshot,
  type LoadResult,
  runLoad,
  seededRng,
  settledHeap,
  startCheckingUpstream,
  TraceSampler,
} from './traffic-load';

const WARMUP = 2_000;
const TOTAL = 10_000;
const CONCURRENCY = 16;
/**
 * Allowed heap growth between the warm-up and the end: 1.5 MiB, i.e. under 200 bytes per
 * request over the 8,000 measured ones (a retained request trace alone is over 1 KiB).
 * Measured growth is a few hundred KiB either way (V8's own bookkeeping, JIT code).
 */
const HEAP_MARGIN = 1.5 * 1024 * 1024;

const gc = exposeGc();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The active resources once transient ones are gone. The test runner's own timers come and
 * go, so: with `expected`, poll (up to 3 s) until the snapshot equals it, returning the last
 * one; without, the smallest of ten snapshots 100 ms apart. Anything the requests left
 * behind (a handle or timer per request, or one that stays) is in every snapshot.
 */
async function quietResources(expected?: Record<string, number>): Promise<Record<string, number>> {
  const size = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const same = (a: Record<string, number>, b: Record<string, number>): boolean =>
    JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  let best = activeResources();
  for (let i = 0; i < (expected === undefined ? 10 : 30); i++) {
    if (expected !== undefined && same(best, expected)) return best;
    await sleep(100);
    const now = activeResources();
    if (expected !== undefined || size(now) < size(best)) best = now;
  }
  return best;
}

/** Waits until `server` has no connection left (its clients closed theirs). */
async function closedConnections(server: Gateway['server']): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const count = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    if (count === 0) return;
    if (Date.now() > deadline) throw new Error(`${count} client connections still open`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function total(statuses: Map<number, number>): number {
  let n = 0;
  for (const c of statuses.values()) n += c;
  return n;
}

interface Run {
  warm: LoadResult;
  rest: LoadResult;
  resources: Record<string, number>[];
  listeners: Record<string, string>[];
  /** Listener counts of the gateway's side of the client connections, at the end of each phase. */
  clientConnections: string[];
  heap: number[];
  tracesTaken: number;
  tracesAlive: number;
  ledger: SpanLedger;
  logs: CountingLogger;
  /** Uncaught exceptions, unhandled rejections and process warnings during the run. */
  escaped: string[];
  /** OTel diag errors and warnings (a second `end()`, operations on ended spans). */
  diag: string[];
}

const cases: [string, 'hpm' | 'reference', ProviderMode, number][] = [
  ['Express + http-proxy-middleware, own provider', 'hpm', 'own', 0x5eed1],
  ['reference gateway, reused provider', 'reference', 'reused', 0x5eed2],
];

describe.each(cases)('%s: 10,000 requests with random trace headers', (_label, kind, mode, seed) => {
  let run: Run;

  beforeAll(async () => {
    const escapes = watchEscapes();
    const diag = captureDiag();
    const baseline = await quietResources();
    const logs = countingLogger();
    const upstream = await startCheckingUpstream();
    const { plugin, ledger } = tracedPlugin(LOAD_CONFIG, mode, logs, false);
    const gw =
      kind === 'hpm'
        ? await hpmGateway(plugin, upstream.port)
        : await referenceGateway(plugin, logs, { targets: [`127.0.0.1:${upstream.port}`] });
    const sampler = new TraceSampler(gw.server, plugin as ZipkinPlugin, 50);
    const rng = seededRng(seed);

    const resources: Record<string, number>[] = [baseline];
    const listeners: Record<string, string>[] = [];
    const clientConnections: string[] = [];
    const heap: number[] = [];
    // The gateway's side of the client connections of the current phase.
    let clientSockets: Socket[] = [];
    gw.server.on('connection', (socket: Socket) => clientSockets.push(socket));
    const phase = async (requests: number): Promise<LoadResult> => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const result = await runLoad(gw.port, requests, CONCURRENCY, rng, agent);
      await sleep(20);
      // Every kept-alive client connection alike, whether it carried 100 or 600 requests.
      clientConnections.push([...new Set(clientSockets.map((c) => listenerCounts(c)))].join(' | '));
      clientSockets = [];
      agent.destroy();
      return result;
    };
    const measure = async (): Promise<void> => {
      await closedConnections(gw.server);
      listeners.push(listenerSnapshot(gw.server, gw.agent));
      // Idle upstream connections come and go (the upstream's keep-alive timeout): close
      // them so that the handle count depends on nothing but what the requests left.
      gw.agent.destroy();
      await closedConnections(upstream.server);
      heap.push(await settledHeap(gc));
      const previous = resources.length > 1 ? resources[resources.length - 1] : undefined;
      resources.push(await quietResources(previous));
    };
    try {
      const started = Date.now();
      const warm = await phase(WARMUP);
      await measure();
      const rest = await phase(TOTAL - WARMUP);
      await measure();
      const elapsed = Date.now() - started;
      const tracesAlive = sampler.alive();
      expect([upstream.received(), upstream.badTraceparent()]).toEqual([TOTAL, 0]);
      run = {
        warm,
        rest,
        resources,
        listeners,
        clientConnections,
        heap,
        tracesTaken: sampler.taken,
        tracesAlive,
        ledger,
        logs,
        escaped: [],
        diag: [],
      };
      if (process.env.RELIABILITY_VERBOSE)
        console.log(
          JSON.stringify({
            kind,
            elapsed,
            heap,
            resources,
            tracesAlive,
            started: ledger.started,
            warns: logs.total('warn'),
            continued: warm.continued + rest.continued,
            formats: rest.formats,
          }),
        );
    } finally {
      await gw.close();
      await upstream.close();
      resources.push(await quietResources(baseline));
      escapes.stop();
      diag.restore();
    }
    run.escaped = escapes.escaped;
    run.diag = diag.lines;
  }, 180_000); // 10,000 requests: about 45 s alone on 2 cores, more beside other jest workers

  test('all nine formats were sent, valid and malformed, hundreds of times each', () => {
    const counts: Record<string, string> = {};
    for (const format of FORMATS) {
      const a = run.warm.formats[format] ?? { valid: 0, malformed: 0 };
      const b = run.rest.formats[format] ?? { valid: 0, malformed: 0 };
      counts[format] =
        a.valid + b.valid >= 400 && a.malformed + b.malformed >= 250
          ? 'ok'
          : `${a.valid + b.valid} valid, ${a.malformed + b.malformed} malformed`;
    }
    expect(counts).toEqual(Object.fromEntries(FORMATS.map((f) => [f, 'ok'])));
  });

  test('every request answered 200 with the trace id the upstream was sent; no socket error', () => {
    expect(total(run.warm.statuses) + total(run.rest.statuses)).toBe(TOTAL);
    expect([...run.warm.statuses.keys(), ...run.rest.statuses.keys()].every((s) => s === 200)).toBe(true);
    expect(run.warm.badTraceIds + run.rest.badTraceIds).toBe(0);
    expect(run.warm.errors + run.rest.errors).toBe(0);
  });

  test('each request with one valid incoming trace continued exactly that trace, under concurrency', () => {
    expect(run.warm.notContinued + run.rest.notContinued).toBe(0);
    expect(run.warm.continued + run.rest.continued).toBeGreaterThan(TOTAL * 0.2);
  });

  test('nothing escaped to the process (uncaught exception, unhandled rejection, warning); no OTel diag error', () => {
    expect(run.escaped).toEqual([]);
    expect(run.diag).toEqual([]);
  });

  test('no tracing failure; malformed headers were seen (Kong warnings) and ignored', () => {
    expect(run.logs.total('error')).toBe(0);
    expect(run.logs.total('warn')).toBeGreaterThan(500);
  });

  test('every span started was ended; about half the requests sampled (3 spans each)', () => {
    const { ledger } = run;
    expect(ledger.open.size).toBe(0);
    expect(ledger.strayEnds).toBe(0);
    expect(ledger.ended).toBe(ledger.started);
    expect(ledger.ended % 3).toBe(0);
    const sampled = ledger.ended / 3;
    expect(sampled).toBeGreaterThan(TOTAL * 0.3);
    expect(sampled).toBeLessThan(TOTAL * 0.7);
  });

  test('no leaked handle or timer: the same active resources after 2,000 and 10,000 requests, and none left after closing', () => {
    const [baseline, warm, end, closed] = run.resources;
    expect(end).toEqual(warm);
    expect(closed).toEqual(baseline);
  });

  test('no leaked listener: process, server, upstream agent, idle upstream and client connections', () => {
    expect(run.listeners[1]).toEqual(run.listeners[0]);
    expect(run.clientConnections[1]).toBe(run.clientConnections[0]);
    expect(run.clientConnections[0]).not.toContain('|');
  });

  test('no request state retained after log: every sampled request and trace is collectable', () => {
    expect(run.tracesTaken).toBe((TOTAL / 50) * 2);
    expect(run.tracesAlive).toBe(0);
  });

  test('memory flat after the warm-up (heap after forced GC)', () => {
    const [warm, end] = run.heap;
    expect(end - warm).toBeLessThan(HEAP_MARGIN);
  });
});
