/**
 * The real Zipkin server down at the start, and killed under load then restarted: the
 * proxied responses never change, Kong's queue accounts for every span (sent + dropped =
 * produced, §6), and the spans counted as sent are in Zipkin. Zipkin keeps spans in memory,
 * so a killed server forgets what it had stored: only what reached the restarted one is
 * read back.
 */
import * as http from 'node:http';
import { createZipkinPlugin, type ZipkinPlugin } from '../../src/plugin';
import type { QueueHealth } from '../../src/export/queue';
import { startCliGateway, tempDir } from '../gateway/cli-harness';
import { type Listening, listen, send, startGateway } from '../integrations/helpers';
import { freePort } from '../support/backends/processes';
import { startZipkin, type StoredSpan, type Zipkin } from '../support/backends/zipkin';
import { recordingLogger } from '../support/recording-logger';

const SPANS_PER_REQUEST = 3; // request, proxy and one balancer try (§2.2 to §2.4)

let upstream: Listening;
const open: { close(): Promise<void> }[] = [];
const plugins: ZipkinPlugin[] = [];
const zipkins: Zipkin[] = [];

/** Answers every request with a body naming its path, so each reply can be checked exactly. */
function startFixedUpstream(): Promise<Listening> {
  return listen(
    http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello ${req.url}`));
    }),
  );
}

beforeAll(async () => {
  upstream = await startFixedUpstream();
});

afterEach(async () => {
  await Promise.all(plugins.splice(0).map((p) => p.shutdown(5000)));
  await Promise.all(open.splice(0).map((s) => s.close()));
  await Promise.all(zipkins.splice(0).map((z) => z.stop()));
});

afterAll(async () => {
  await upstream?.close();
});

async function gatewayTo(port: number, serviceName: string): Promise<{ plugin: ZipkinPlugin; gateway: Listening }> {
  const plugin = createZipkinPlugin(
    {
      http_endpoint: `http://127.0.0.1:${port}/api/v2/spans`,
      local_service_name: serviceName,
      sample_ratio: 1,
      // Retries every second at most, for two minutes: longer than a JVM's start-up here.
      queue: { max_coalescing_delay: 0.1, max_retry_delay: 1, max_retry_time: 120 },
    },
    { logger: recordingLogger() },
  );
  plugins.push(plugin);
  const gateway = await startGateway(plugin, upstream.port);
  open.push(gateway);
  return { plugin, gateway };
}

let seq = 0;
/** One proxied request with its own trace id; checks the reply; returns the trace id. */
async function proxied(gateway: Listening): Promise<string> {
  const n = ++seq;
  const traceId = `${n.toString(16).padStart(16, '0')}${'c0ffee00'.repeat(2)}`;
  const reply = await send(gateway.port, `/api/item/${n}`, { traceparent: `00-${traceId}-00000000000000aa-01` });
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: `hello /item/${n}` });
  return traceId;
}

const droppedTotal = (h: QueueHealth): number => Object.values(h.dropped).reduce((a, b) => a + b, 0);

async function drained(plugin: ZipkinPlugin, produced: number, timeoutMs = 150000): Promise<QueueHealth> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = plugin.health() as QueueHealth;
    if (h.sent + droppedTotal(h) === produced && h.inFlight === 0 && h.size.entries === 0) return h;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${JSON.stringify(h)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function traceIdsOf(spans: readonly StoredSpan[]): Set<string> {
  return new Set(spans.map((s) => s.traceId));
}

test('Zipkin down at the start, then started: nothing lost, every response unchanged', async () => {
  const port = await freePort();
  const { plugin, gateway } = await gatewayTo(port, 'outage-start');
  const traceIds: string[] = [];
  for (let i = 0; i < 20; i++) traceIds.push(await proxied(gateway));
  const produced = traceIds.length * SPANS_PER_REQUEST;
  expect(plugin.health()?.sent).toBe(0);

  const zipkin = await startZipkin({ port });
  zipkins.push(zipkin);
  const health = await drained(plugin, produced);
  expect({ queued: health.queued, sent: health.sent, dropped: droppedTotal(health) }).toEqual({
    queued: produced,
    sent: produced,
    dropped: 0,
  });
  const stored = await zipkin.allSpans('outage-start');
  expect(stored).toHaveLength(produced);
  expect([...traceIdsOf(stored)].sort()).toEqual([...traceIds].sort());
  // zipkin2 lower-cases span names (zipkin-backends §6.1).
  for (const id of traceIds) {
    expect((await zipkin.getTrace(id)).map((s) => s.name).sort()).toEqual([
      'get',
      'get (balancer try 1)',
      'get (proxy)',
    ]);
  }
});

test('Zipkin killed under load and restarted: responses unchanged, sent + dropped = produced, sent spans stored', async () => {
  const zipkin = await startZipkin();
  zipkins.push(zipkin);
  const { plugin, gateway } = await gatewayTo(zipkin.port, 'outage-kill');
  const traceIds: string[] = [];
  let loading = true;
  // A steady stream: two clients, each sending its next request as soon as the last one ended.
  const load = Promise.all(
    [0, 1].map(async () => {
      while (loading) {
        traceIds.push(await proxied(gateway));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }),
  );
  const waitUntil = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  await waitUntil(() => (plugin.health()?.sent ?? 0) >= 60);
  // What the first server acknowledged before this moment is in its storage.
  const sentBeforeQuery = plugin.health()?.sent ?? 0;
  expect((await zipkin.allSpans('outage-kill')).length).toBeGreaterThanOrEqual(sentBeforeQuery);

  let sentAtKill = 0;
  const requestsBeforeRestart = { count: 0 };
  await zipkin.killAndRestart(async () => {
    // A 202 already on its way may still arrive just after the exit: let it, then count.
    await new Promise((resolve) => setTimeout(resolve, 500));
    sentAtKill = plugin.health()?.sent ?? 0;
    requestsBeforeRestart.count = traceIds.length;
  });
  const countAtRestart = traceIds.length;
  await waitUntil(() => traceIds.length >= countAtRestart + 50);
  loading = false;
  await load;
  // The load went on while the server was down (a JVM start takes seconds here).
  expect(countAtRestart).toBeGreaterThan(requestsBeforeRestart.count);

  const produced = traceIds.length * SPANS_PER_REQUEST;
  const health = await drained(plugin, produced);
  expect({
    queued: health.queued,
    sentPlusDropped: health.sent + droppedTotal(health),
    dropped: droppedTotal(health),
  }).toEqual({
    queued: produced,
    sentPlusDropped: produced,
    dropped: 0,
  });
  const stored = await zipkin.allSpans('outage-kill');
  expect(stored).toHaveLength(health.sent - sentAtKill);
  const known = new Set(traceIds);
  expect([...traceIdsOf(stored)].filter((id) => !known.has(id))).toEqual([]);
  expect(new Set(stored.map((s) => s.id)).size).toBe(stored.length);
});

test('CLI gateway, Zipkin down at the start, then started: responses unchanged, every span arrives, clean exit', async () => {
  const port = await freePort();
  const dir = tempDir();
  const deck = {
    _format_version: '3.0',
    services: [
      {
        name: 'svc-fixed',
        url: `http://127.0.0.1:${upstream.port}`,
        routes: [{ name: 'fixed', paths: ['/api'] }],
      },
    ],
    plugins: [
      {
        name: 'zipkin',
        config: {
          http_endpoint: `http://127.0.0.1:${port}/api/v2/spans`,
          local_service_name: 'outage-cli',
          sample_ratio: 1,
          queue: { max_coalescing_delay: 0.1, max_retry_delay: 1, max_retry_time: 120 },
        },
      },
    ],
  };
  const { cli, port: proxyPort } = await startCliGateway(dir, deck).catch((err: unknown) => {
    dir.remove();
    throw err;
  });
  try {
    const gateway = { port: proxyPort } as Listening;
    const traceIds: string[] = [];
    for (let i = 0; i < 10; i++) traceIds.push(await proxied(gateway));

    const zipkin = await startZipkin({ port });
    zipkins.push(zipkin);
    for (const id of traceIds) expect(await zipkin.waitForSpans(id, SPANS_PER_REQUEST, 60000)).toHaveLength(3);
    expect(await zipkin.allSpans('outage-cli')).toHaveLength(traceIds.length * SPANS_PER_REQUEST);
    expect(await cli.stop('SIGTERM')).toBe(0);
    expect(cli.stderr).not.toMatch(/dropped|lost/);
  } finally {
    await cli.stop('SIGKILL');
    dir.remove();
  }
});
