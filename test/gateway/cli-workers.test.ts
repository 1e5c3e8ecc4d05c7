/**
 * `gateway-zipkin --config FILE --workers 2` through the built CLI: the listeners shared by
 * two `node:cluster` workers (each ready line printed once), requests and TCP sessions
 * proxied and traced by both workers with their own `kong.node.id`, `/status` served by the
 * primary with per-worker entries and sums, workers ignoring SIGTERM themselves, a killed
 * worker logged and replaced, SIGTERM draining every worker's queue; and the failures: an
 * address in use, a bad config, a bad `--workers`, a second signal.
 */
import { readFileSync } from 'node:fs';
import { startReceiver, type Receiver } from '../../src/receiver/receiver';
import type { ReceivedSpan } from '../../src/receiver/span-validator';
import {
  type CliProcess,
  type EchoServer,
  freePort,
  heldPort,
  IDLE_QUEUE,
  named,
  nullSink,
  refused,
  request,
  runCli,
  spansOf,
  startEcho,
  startTcpEcho,
  tcpExchange,
  tempDir,
  type TempDir,
  processEntry,
  waitForSpans,
} from './cli-harness';

const ID = {
  global: '3c0e0000-0000-4000-8000-000000000001',
  queued: '3c0e0000-0000-4000-8000-000000000002',
  stream: '3c0e0000-0000-4000-8000-000000000003',
};
/** Two workers start in about a second each on a quiet machine; a shared one can take longer. */
const READY_MS = 15_000;
/** Traced requests, each on its own connection: the primary hands connections to the workers in turn. */
const N = 8;

type Queue = typeof IDLE_QUEUE;
interface Counters {
  connections_accepted: number;
  connections_active: number;
  total_requests?: number;
}
interface Status {
  process: { pid: number; uptime_seconds: number; node_version: string; version: string | null };
  server: Required<Counters>;
  stream: Counters;
  plugins: Array<{ id: string; queue: Queue } & Record<string, unknown>>;
  workers: Array<{
    id: number;
    pid: number | null;
    node_id: string | null;
    ready: boolean;
    restarts: number;
    uptime_seconds: number | null;
    server: Required<Counters> | null;
    stream: Counters | null;
    plugins: Array<{ id: string; queue: Queue }> | null;
  }>;
}

let receiver: Receiver;
let echo: EchoServer;
let tcpEcho: { port: number; close(): Promise<void> };
let dir: TempDir;

beforeAll(async () => {
  receiver = await startReceiver({ port: 0, out: nullSink(), errOut: nullSink() });
  echo = await startEcho();
  tcpEcho = await startTcpEcho();
  dir = tempDir();
});

afterAll(async () => {
  await receiver?.close();
  await echo?.close();
  await tcpEcho?.close();
  dir?.remove();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` returns a value (at most `timeoutMs`), failing with `what`. */
async function until<T>(what: () => string, done: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await done();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(20);
  }
}

/** False once `pid` is gone or a zombie (the CLI's workers are not reaped by this test process). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** `info worker N (pid P) ready` lines: the pid of each worker slot, latest last. */
function readyPids(stderr: string, slot: number): number[] {
  return [...stderr.matchAll(new RegExp(`^info worker ${slot} \\(pid (\\d+)\\) ready$`, 'gm'))].map((m) =>
    Number(m[1]),
  );
}

function nodeIdOf(span: ReceivedSpan): string {
  return span.tags?.['kong.node.id'] ?? '';
}

describe('--workers 2: one gateway shared by two workers', () => {
  let gateway: CliProcess;
  let proxyPort: number;
  let streamPort: number;
  let statusPort: number;
  const pids: number[] = [];
  /** The request span of each traced request, by trace id. */
  const traced = new Map<string, ReceivedSpan>();
  let traceSeq = 0;
  const w3c = (): { traceId: string; header: string } => {
    traceSeq++;
    const traceId = `5e0c${traceSeq.toString(16).padStart(28, '0')}`;
    return { traceId, header: `00-${traceId}-00f067aa0ba902b7-01` };
  };

  async function status(): Promise<Status> {
    const reply = await request(statusPort, '/status');
    expect([reply.status, reply.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
    return JSON.parse(reply.body) as Status;
  }

  const statusWhen = (what: string, done: (s: Status) => boolean): Promise<Status> =>
    until(
      () => what,
      async () => {
        const s = await status();
        return done(s) ? s : undefined;
      },
    );

  /** N traced requests on separate connections; resolves with their request spans. */
  async function tracedRequests(count: number, path = '/traced'): Promise<ReceivedSpan[]> {
    const spans: ReceivedSpan[] = [];
    for (let i = 0; i < count; i++) {
      const { traceId, header } = w3c();
      const reply = await request(proxyPort, `${path}/${i}`, { headers: { traceparent: header } });
      expect(reply.status).toBe(200);
      const seen = JSON.parse(reply.body) as { url: string; headers: Record<string, string> };
      expect(seen.url).toBe(`/${i}`);
      // Kong's w3c injection: same trace, the gateway's proxy span as parent, sampled.
      expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(seen.headers.traceparent).not.toBe(header);
      if (path !== '/traced') continue;
      const trace = await waitForSpans(() => spansOf(receiver, traceId));
      const server = named(trace, 'GET');
      traced.set(traceId, server);
      spans.push(server);
    }
    return spans;
  }

  beforeAll(async () => {
    streamPort = await freePort();
    const zipkin = (id: string, service: string, queue: Record<string, unknown>): Record<string, unknown> => ({
      id,
      name: 'zipkin',
      config: { http_endpoint: receiver.url, sample_ratio: 1, local_service_name: service, queue },
    });
    const file = dir.write('workers.json', {
      _format_version: '3.0',
      services: [
        {
          name: 'echo',
          url: `http://127.0.0.1:${echo.port}`,
          routes: [
            { name: 'traced', paths: ['/traced'] },
            // An hour of coalescing: these spans wait in the workers' queues until the shutdown.
            {
              name: 'queued',
              paths: ['/queued'],
              plugins: [zipkin(ID.queued, 'queued', { max_batch_size: 1000, max_coalescing_delay: 3600 })],
            },
          ],
        },
        {
          name: 'tcp',
          url: `tcp://127.0.0.1:${tcpEcho.port}`,
          routes: [
            {
              name: 'tcp',
              protocols: ['tcp'],
              destinations: [{ port: streamPort }],
              plugins: [
                {
                  ...zipkin(ID.stream, 'stream', { max_batch_size: 3, max_coalescing_delay: 3600 }),
                  protocols: ['tcp'],
                },
              ],
            },
          ],
        },
      ],
      // Batches of exactly one request's 3 spans (full batches only): each worker's `batches` is its request count.
      plugins: [zipkin(ID.global, 'workers', { max_batch_size: 3, max_coalescing_delay: 3600 })],
    });
    gateway = runCli([
      '--config',
      file,
      '--listen',
      '127.0.0.1:0',
      '--stream-listen',
      `127.0.0.1:${streamPort}`,
      '--status-listen',
      '127.0.0.1:0',
      '--workers',
      '2',
    ]);
    const lines = await gateway.ready(3, READY_MS);
    proxyPort = Number(/^proxy listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(lines[0])?.[1]);
    statusPort = Number(/^status listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(lines[2])?.[1]);
    pids.push(readyPids(gateway.stderr, 1)[0], readyPids(gateway.stderr, 2)[0]);
  });

  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  test('each ready line printed once, when both workers listen; two worker processes under the CLI', async () => {
    await sleep(200);
    expect(gateway.stdout).toBe(
      `proxy listening on http://127.0.0.1:${proxyPort}\n` +
        `stream listening on tcp://127.0.0.1:${streamPort}\n` +
        `status listening on http://127.0.0.1:${statusPort}\n`,
    );
    const logged = gateway.stderr.split('\n');
    expect(logged[0]).toMatch(/^info loaded .*workers\.json: 2 services, 3 routes, 0 upstreams, 3 zipkin plugins$/);
    expect(logged.slice(1).sort()).toEqual([
      '',
      `info worker 1 (pid ${pids[0]}) ready`,
      `info worker 2 (pid ${pids[1]}) ready`,
    ]);
    expect(new Set([gateway.child.pid, ...pids]).size).toBe(3);
    for (const pid of pids) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 4, the parent pid.
      expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])).toBe(gateway.child.pid);
    }
  });

  test(`${N} requests on separate connections: proxied with Kong's propagation, traced by both workers, each with its own kong.node.id`, async () => {
    const spans = await tracedRequests(N);
    const nodeIds = new Set(spans.map(nodeIdOf));
    expect(nodeIds.size).toBe(2);
    for (const id of nodeIds)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Exactly 3 spans per request, none twice.
    await sleep(200);
    const mine = receiver.spans.filter((s) => s.localEndpoint?.serviceName === 'workers');
    expect(mine).toHaveLength(N * 3);
    expect(new Set(mine.map((s) => s.id)).size).toBe(N * 3);
  });

  test('/status from the primary: the single-process document summed over the workers, plus each worker', async () => {
    const s = await statusWhen('all spans sent, no connection open', (x) => {
      const global = x.plugins.find((p) => p.id === ID.global);
      return global?.queue.sent === N * 3 && x.server.connections_active === 0;
    });
    // Which worker served which request: the node id on its spans, matched with the worker's.
    const requestsOf = (nodeId: string | null): number =>
      [...traced.values()].filter((span) => nodeIdOf(span) === nodeId).length;
    const perWorker = s.workers.map((w) => requestsOf(w.node_id));
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(N);
    const sentQueue = (n: number): Queue => ({ ...IDLE_QUEUE, queued: n * 3, sent: n * 3, batches: n });
    expect(s).toEqual({
      process: processEntry(gateway.child.pid, s.process.uptime_seconds),
      server: { connections_accepted: N, connections_active: 0, total_requests: N },
      stream: { connections_accepted: 0, connections_active: 0 },
      plugins: [
        expect.objectContaining({ id: ID.queued, instance_name: null, scope: 'route', queue: IDLE_QUEUE }),
        expect.objectContaining({ id: ID.stream, scope: 'route', queue: IDLE_QUEUE }),
        {
          id: ID.global,
          name: 'zipkin',
          instance_name: null,
          scope: 'global',
          service: null,
          route: null,
          queue: sentQueue(N),
        },
      ],
      workers: [1, 2].map((id, i) => ({
        id,
        pid: pids[i],
        node_id: s.workers[i].node_id,
        ready: true,
        restarts: 0,
        uptime_seconds: s.workers[i].uptime_seconds,
        server: { connections_accepted: perWorker[i], connections_active: 0, total_requests: perWorker[i] },
        stream: { connections_accepted: 0, connections_active: 0 },
        plugins: [
          { id: ID.queued, queue: IDLE_QUEUE },
          { id: ID.stream, queue: IDLE_QUEUE },
          { id: ID.global, queue: sentQueue(perWorker[i]) },
        ],
      })),
    });
    expect(perWorker.every((n) => n > 0)).toBe(true);
    expect(new Set(s.workers.map((w) => w.node_id))).toEqual(new Set([...traced.values()].map(nodeIdOf)));
  });

  test('the stream listener is shared too: TCP sessions proxied and traced by both workers', async () => {
    for (let i = 0; i < 4; i++) expect(await tcpExchange(streamPort, `ping ${i}`)).toBe(`ping ${i}`);
    const spans = await until(
      () => 'the 4 stream sessions traced',
      () => {
        const found = receiver.spans.filter((s) => s.localEndpoint?.serviceName === 'stream');
        return found.length === 12 ? found : undefined;
      },
    );
    const sessions = spans.filter((s) => s.name === 'stream');
    expect(sessions).toHaveLength(4);
    expect(new Set(sessions.map(nodeIdOf)).size).toBe(2);
    const s = await statusWhen('the stream sessions closed', (x) => x.stream.connections_active === 0);
    expect(s.stream).toEqual({ connections_accepted: 4, connections_active: 0 });
    expect(s.workers.map((w) => w.stream?.connections_accepted)).toEqual(
      s.workers.map((w) => sessions.filter((span) => nodeIdOf(span) === w.node_id).length),
    );
  });

  test('a worker ignores SIGTERM sent to it (the primary decides)', async () => {
    process.kill(pids[0], 'SIGTERM');
    await sleep(300);
    expect(alive(pids[0])).toBe(true);
    expect(gateway.stderr).not.toContain('exited');
    expect((await status()).workers.map((w) => [w.pid, w.ready, w.restarts])).toEqual([
      [pids[0], true, 0],
      [pids[1], true, 0],
    ]);
  });

  test('a worker killed: logged, replaced in its slot with a new node id, traffic goes on', async () => {
    const before = await status();
    process.kill(pids[1], 'SIGKILL');
    const line = `warn worker 2 (pid ${pids[1]}) exited with signal SIGKILL: starting a new one\n`;
    await until(
      () => line,
      () => (gateway.stderr.includes(line) ? true : undefined),
    );
    // Worker 1 takes every connection meanwhile.
    expect((await request(proxyPort, '/traced/during')).status).toBe(200);
    const replacement = await until(
      () => 'worker 2 replaced',
      () => readyPids(gateway.stderr, 2)[1],
      READY_MS,
    );
    pids.push(replacement);
    expect(replacement).not.toBe(pids[1]);
    expect(alive(pids[1])).toBe(false);
    const after = await status();
    expect(after.workers[1]).toEqual({
      id: 2,
      pid: replacement,
      node_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      ready: true,
      restarts: 1,
      uptime_seconds: after.workers[1].uptime_seconds,
      server: { connections_accepted: 0, connections_active: 0, total_requests: 0 },
      stream: { connections_accepted: 0, connections_active: 0 },
      plugins: [
        { id: ID.queued, queue: IDLE_QUEUE },
        { id: ID.stream, queue: IDLE_QUEUE },
        { id: ID.global, queue: IDLE_QUEUE },
      ],
    });
    expect([before.workers[0].node_id, before.workers[1].node_id]).not.toContain(after.workers[1].node_id);
    expect(after.workers[0]).toMatchObject({ id: 1, pid: pids[0], node_id: before.workers[0].node_id, restarts: 0 });
    // Both workers serve again, the new one under its new node id.
    const spans = await tracedRequests(4);
    expect(new Set(spans.map(nodeIdOf))).toEqual(new Set([after.workers[0].node_id, after.workers[1].node_id]));
  });

  test('SIGTERM: every worker drains its own queue (spans held for an hour arrive), exit 0', async () => {
    const M = 6;
    await tracedRequests(M, '/queued');
    const queuedSpans = (): ReceivedSpan[] => receiver.spans.filter((s) => s.localEndpoint?.serviceName === 'queued');
    const s = await statusWhen('the queued spans', (x) => x.plugins[0].queue.queued === M * 3);
    expect(s.plugins[0].queue).toMatchObject({ queued: M * 3, sent: 0, size: { entries: M * 3 } });
    expect(s.workers.map((w) => (w.plugins?.[0].queue.queued ?? 0) > 0)).toEqual([true, true]);
    await sleep(100);
    expect(queuedSpans()).toEqual([]);

    expect(await gateway.stop('SIGTERM')).toBe(0);
    // The exit comes after every worker's drain.
    const spans = queuedSpans();
    expect(spans).toHaveLength(M * 3);
    // kong.node.id is a request-span tag.
    const requestSpans = spans.filter((span) => span.kind === 'SERVER');
    expect(requestSpans).toHaveLength(M);
    expect(new Set(requestSpans.map(nodeIdOf))).toEqual(new Set(s.workers.map((w) => w.node_id)));
    expect(gateway.stderr).toContain(
      'info SIGTERM received: finishing requests in flight and delivering queued spans\n',
    );
    expect(gateway.stderr.endsWith('info gateway stopped\n')).toBe(true);
    for (const pid of [pids[0], pids[2]]) expect(alive(pid)).toBe(false);
    expect(await refused(proxyPort)).toBe(true);
    expect(await refused(streamPort)).toBe(true);
    expect(await refused(statusPort)).toBe(true);
  });
});

test('--workers 1 is the single process: no cluster, no worker lines, the single-process /status', async () => {
  const run = runCli([
    '--config',
    dir.write('one.json', { _format_version: '3.0' }),
    '--listen',
    '127.0.0.1:0',
    '--status-listen',
    '127.0.0.1:0',
    '--workers',
    '1',
  ]);
  try {
    const lines = await run.ready(2, READY_MS);
    const statusPort = Number(/:(\d+)$/.exec(lines[1])?.[1]);
    const s = JSON.parse((await request(statusPort, '/status')).body) as Record<string, unknown>;
    expect(Object.keys(s)).toEqual(['process', 'server', 'stream', 'plugins']);
    expect(readFileSync(`/proc/${run.child.pid}/task/${run.child.pid}/children`, 'utf8')).toBe('');
    expect(run.stderr).toMatch(/^info loaded .*one\.json: 0 services, 0 routes, 0 upstreams, 0 zipkin plugins\n$/);
  } finally {
    expect(await run.stop('SIGTERM')).toBe(0);
  }
  expect(run.stderr.endsWith('info gateway stopped\n')).toBe(true);
});

describe('--workers failures', () => {
  test('an address in use: the workers fail to bind, exit 1 with the error line once, nothing listening', async () => {
    const held = await heldPort();
    const streamPort = await freePort();
    const args = ['--listen', `127.0.0.1:${held.port}`, '--stream-listen', `127.0.0.1:${streamPort}`];
    const run = runCli(['--config', dir.write('ok.json', { _format_version: '3.0' }), ...args, '--workers', '2']);
    try {
      expect(await run.exited).toBe(1);
    } finally {
      await held.close();
    }
    expect(run.stdout).toBe('');
    // node:cluster's wording: the primary binds for its workers.
    const line = `error could not listen on 127.0.0.1:${held.port}: bind EADDRINUSE 127.0.0.1:${held.port}\n`;
    expect(run.stderr).toMatch(/^info loaded .*ok\.json: 0 services, 0 routes, 0 upstreams, 0 zipkin plugins\n/);
    expect(run.stderr.slice(run.stderr.indexOf('\n') + 1)).toBe(line);
    expect(await refused(streamPort)).toBe(true);
  });

  test('a bad config exits 1 before any worker starts, with the same lines as one process', async () => {
    const file = dir.write('bad.json', {
      _format_version: '3.0',
      plugins: [{ name: 'zipkin', config: { sample_ratio: 2 } }],
    });
    const run = runCli(['--config', file, '--listen', '127.0.0.1:0', '--workers', '2']);
    expect(await run.exited).toBe(1);
    expect([run.stdout, run.stderr]).toEqual([
      '',
      'error plugins[0].config.sample_ratio: value should be between 0 and 1\n',
    ]);
  });

  test.each(['0', '-1', '1.5', 'many'])('--workers=%s: usage error, exit 2', async (n) => {
    const run = runCli(['--config', 'kong.yml', `--workers=${n}`]);
    expect(await run.exited).toBe(2);
    expect(run.stderr).toBe(
      `error --workers: expected a number of processes (1 or more) or 'auto', got '${n}' (see gateway-zipkin --help)\n`,
    );
  });

  /** A decK file whose zipkin plugin reports, every request sampled, to a port nothing listens on. */
  async function deadCollectorDeck(name: string): Promise<string> {
    const collector = await freePort();
    return dir.write(name, {
      _format_version: '3.0',
      services: [{ name: 's', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'r', paths: ['/'] }] }],
      plugins: [
        { name: 'zipkin', config: { http_endpoint: `http://127.0.0.1:${collector}/api/v2/spans`, sample_ratio: 1 } },
      ],
    });
  }

  test("--drain-timeout bounds every worker's drain against a dead collector: exit 0, each loss counted and logged", async () => {
    const file = await deadCollectorDeck('dead-drain.json');
    const run = runCli(['--config', file, '--listen', '127.0.0.1:0', '--workers', '2', '--drain-timeout', '0.5']);
    const [ready] = await run.ready(1, READY_MS);
    const port = Number(/:(\d+)$/.exec(ready)?.[1]);
    const pids = [readyPids(run.stderr, 1)[0], readyPids(run.stderr, 2)[0]];
    const R = 6;
    for (let i = 0; i < R; i++) expect((await request(port, `/x${i}`)).status).toBe(200);
    const started = Date.now();
    expect(await run.stop('SIGTERM')).toBe(0);
    // Without it each worker's queue retries for max_retry_time (60 s).
    expect(Date.now() - started).toBeLessThan(5000);
    const lost = [
      ...run.stderr.matchAll(
        /^error \[worker [12]\] .*could not send entries before the shutdown deadline\. (\d+) queue entries were lost$/gm,
      ),
    ];
    expect(lost.reduce((n, m) => n + Number(m[1]), 0)).toBe(R * 3);
    expect(run.stderr.endsWith('info gateway stopped\n')).toBe(true);
    expect(pids.every((pid) => !alive(pid))).toBe(true);
  });

  test('a second signal while the queues retry a dead collector: workers killed, exit 1 at once', async () => {
    const file = await deadCollectorDeck('dead.json');
    const run = runCli(['--config', file, '--listen', '127.0.0.1:0', '--workers', '2']);
    const [ready] = await run.ready(1, READY_MS);
    const port = Number(/:(\d+)$/.exec(ready)?.[1]);
    const pids = [readyPids(run.stderr, 1)[0], readyPids(run.stderr, 2)[0]];
    for (let i = 0; i < 2; i++) expect((await request(port, `/x${i}`)).status).toBe(200);
    await until(
      () => 'a refused delivery',
      () => (run.stderr.includes('zipkin request failed: connection refused') ? true : undefined),
    );
    run.child.kill('SIGTERM');
    await sleep(300);
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain('warn second signal: exiting now, spans still queued are lost\n');
    await until(
      () => 'the workers gone',
      () => (pids.every((pid) => !alive(pid)) ? true : undefined),
    );
  });
});
