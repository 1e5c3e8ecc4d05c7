/**
 * The status listener (`--status-listen`) through the built CLI: `GET /status` with the
 * process, the proxy's counters and each zipkin plugin's queue health after real traffic
 * (a healthy collector, a dead one retrying then dropping, a full queue); never traced;
 * 404 / 405 with Kong's texts; closed on SIGTERM before the queues are drained.
 */
import * as http from 'node:http';
import { startReceiver, type Receiver } from '../../src/receiver/receiver';
import {
  type CliProcess,
  type EchoServer,
  freePort,
  IDLE_QUEUE,
  NO_DROPS,
  nullSink,
  request,
  refused,
  runCli,
  startEcho,
  tempDir,
  type TempDir,
  processEntry,
} from './cli-harness';

const ID = {
  service: '7a1e0000-0000-4000-8000-000000000001',
  traced: '7a1e0000-0000-4000-8000-000000000011',
  dead: '7a1e0000-0000-4000-8000-000000000012',
  full: '7a1e0000-0000-4000-8000-000000000013',
  global: '7a1e0000-0000-4000-8000-000000000021',
  deadPlugin: '7a1e0000-0000-4000-8000-000000000022',
  fullPlugin: '7a1e0000-0000-4000-8000-000000000023',
};
/** Requests to the healthy route; each is 3 spans (balancer try, proxy, request). */
const N = 5;

let receiver: Receiver;
let echo: EchoServer;
let dir: TempDir;
let gateway: CliProcess;
let proxyPort: number;
let statusPort: number;

interface Status {
  process: { pid: number; uptime_seconds: number; node_version: string; version: string | null };
  server: { connections_accepted: number; connections_active: number; total_requests: number };
  stream: { connections_accepted: number; connections_active: number };
  plugins: Array<{
    id: string;
    name: string;
    instance_name: string | null;
    scope: string;
    service: { id: string; name: string | null } | null;
    route: { id: string; name: string | null } | null;
    queue: {
      queued: number;
      sent: number;
      dropped: typeof NO_DROPS;
      retried: number;
      batches: number;
      size: { entries: number; bytes: number };
      inFlight: number;
    };
  }>;
}

async function status(): Promise<Status> {
  const reply = await request(statusPort, '/status');
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(reply.body) as Status;
}

/** Polls `/status` until `done` holds (at most 5 s); returns that snapshot, or the last one. */
async function statusWhen(done: (s: Status) => boolean, timeoutMs = 5000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status();
    if (done(s) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function plugin(s: Status, id: string): Status['plugins'][number] {
  const p = s.plugins.find((x) => x.id === id);
  if (p === undefined) throw new Error(`no plugin ${id} in ${JSON.stringify(s.plugins)}`);
  return p;
}

/** Waits (at most 5 s) for `text` on the gateway's stderr, which may arrive after the counters show the event. */
async function logged(text: string): Promise<string> {
  const deadline = Date.now() + 5000;
  while (!gateway.stderr.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return gateway.stderr;
}

beforeAll(async () => {
  receiver = await startReceiver({ port: 0, out: nullSink(), errOut: nullSink() });
  echo = await startEcho();
  dir = tempDir();
  const down = `http://127.0.0.1:${await freePort()}/api/v2/spans`;
  const file = dir.write('status.json', {
    _format_version: '3.0',
    services: [
      {
        id: ID.service,
        name: 'echo',
        url: `http://127.0.0.1:${echo.port}`,
        routes: [
          { id: ID.traced, name: 'traced', paths: ['/traced'] },
          {
            id: ID.dead,
            name: 'dead',
            paths: ['/dead'],
            plugins: [
              {
                id: ID.deadPlugin,
                name: 'zipkin',
                instance_name: 'dead-collector',
                // One batch of 6 (two requests); attempts at 0, 0.5 and 1 s: 2 retries, then dropped.
                config: {
                  http_endpoint: down,
                  sample_ratio: 1,
                  queue: {
                    max_batch_size: 6,
                    max_coalescing_delay: 3600,
                    initial_retry_delay: 0.5,
                    max_retry_delay: 0.5,
                    max_retry_time: 0.75,
                  },
                },
              },
            ],
          },
          {
            id: ID.full,
            name: 'full',
            paths: ['/full'],
            plugins: [
              {
                id: ID.fullPlugin,
                name: 'zipkin',
                // Never sent before shutdown (an hour of coalescing); room for 3 entries.
                config: {
                  http_endpoint: down,
                  sample_ratio: 1,
                  queue: { max_entries: 3, max_batch_size: 100, max_coalescing_delay: 3600, max_retry_time: 0 },
                },
              },
            ],
          },
        ],
      },
    ],
    plugins: [
      {
        id: ID.global,
        name: 'zipkin',
        instance_name: 'main',
        // The N×3 spans go out as one batch when the last one is queued.
        config: {
          http_endpoint: receiver.url,
          sample_ratio: 1,
          queue: { max_batch_size: N * 3, max_coalescing_delay: 3600 },
        },
      },
    ],
  });
  gateway = runCli(['--config', file, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0']);
  const lines = await gateway.ready(2);
  expect(lines[0]).toMatch(/^proxy listening on http:\/\/127\.0\.0\.1:\d+$/);
  expect(lines[1]).toMatch(/^status listening on http:\/\/127\.0\.0\.1:\d+$/);
  proxyPort = Number(/:(\d+)$/.exec(lines[0])?.[1]);
  statusPort = Number(/:(\d+)$/.exec(lines[1])?.[1]);
});

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await receiver?.close();
  await echo?.close();
  dir?.remove();
});

test('before any traffic: the process, zero counters, every plugin with its scope and an empty queue', async () => {
  const s = await status();
  expect(s.process.pid).toBe(gateway.child.pid);
  expect(Number.isInteger(s.process.uptime_seconds) && s.process.uptime_seconds >= 0).toBe(true);
  expect(s).toEqual({
    process: processEntry(gateway.child.pid, s.process.uptime_seconds),
    server: { connections_accepted: 0, connections_active: 0, total_requests: 0 },
    stream: { connections_accepted: 0, connections_active: 0 },
    plugins: [
      // File order: nested plugins at their parent's place, then the top-level ones.
      {
        id: ID.deadPlugin,
        name: 'zipkin',
        instance_name: 'dead-collector',
        scope: 'route',
        service: null,
        route: { id: ID.dead, name: 'dead' },
        queue: IDLE_QUEUE,
      },
      {
        id: ID.fullPlugin,
        name: 'zipkin',
        instance_name: null,
        scope: 'route',
        service: null,
        route: { id: ID.full, name: 'full' },
        queue: IDLE_QUEUE,
      },
      {
        id: ID.global,
        name: 'zipkin',
        instance_name: 'main',
        scope: 'global',
        service: null,
        route: null,
        queue: IDLE_QUEUE,
      },
    ],
  });
});

test(`after ${N} traced requests: ${N * 3} spans queued and sent in one batch, the proxy's connections and requests counted, /status itself untraced`, async () => {
  for (let i = 0; i < N - 1; i++) expect((await request(proxyPort, `/traced/${i}`)).status).toBe(200);
  // One batch of N×3: nothing has gone out yet, the spans wait in the queue.
  const waiting = plugin(await statusWhen((s) => plugin(s, ID.global).queue.queued === (N - 1) * 3), ID.global).queue;
  expect({ ...waiting, size: { entries: waiting.size.entries } }).toEqual({
    queued: (N - 1) * 3,
    sent: 0,
    dropped: NO_DROPS,
    retried: 0,
    batches: 0,
    size: { entries: (N - 1) * 3 },
    inFlight: 0,
  });
  expect(waiting.size.bytes).toBeGreaterThan(0);

  expect((await request(proxyPort, `/traced/${N - 1}`)).status).toBe(200);
  const s = await statusWhen((x) => plugin(x, ID.global).queue.sent === N * 3 && x.server.connections_active === 0);
  expect(plugin(s, ID.global).queue).toEqual({
    queued: N * 3,
    sent: N * 3,
    dropped: NO_DROPS,
    retried: 0,
    batches: 1,
    size: { entries: 0, bytes: 0 },
    inFlight: 0,
  });
  // Each request on its own connection (no keep-alive); the status requests are not counted.
  expect(s.server).toEqual({ connections_accepted: N, connections_active: 0, total_requests: N });
  expect(receiver.spans.filter((span) => span.localEndpoint?.serviceName === 'kong')).toHaveLength(N * 3);
  // The other plugins saw nothing.
  expect(plugin(s, ID.deadPlugin).queue.queued).toBe(0);
  expect(plugin(s, ID.fullPlugin).queue.queued).toBe(0);
});

test('a dead collector: the batch in flight while retried, then 2 retries and the batch dropped (retry_exhausted)', async () => {
  for (let i = 0; i < 2; i++) expect((await request(proxyPort, `/dead/${i}`)).status).toBe(200);
  const retrying = plugin(await statusWhen((s) => plugin(s, ID.deadPlugin).queue.retried === 1), ID.deadPlugin);
  expect(retrying.queue).toEqual({
    queued: 6,
    sent: 0,
    dropped: NO_DROPS,
    retried: 1,
    batches: 1,
    size: { entries: 0, bytes: 0 },
    inFlight: 6,
  });
  const done = plugin(
    await statusWhen((s) => plugin(s, ID.deadPlugin).queue.dropped.retry_exhausted > 0),
    ID.deadPlugin,
  );
  expect(done.queue).toEqual({
    queued: 6,
    sent: 0,
    dropped: { ...NO_DROPS, retry_exhausted: 6 },
    retried: 2,
    batches: 1,
    size: { entries: 0, bytes: 0 },
    inFlight: 0,
  });
  const lost = `error [zipkin plugin ${ID.deadPlugin} (dead-collector)] queue ${ID.deadPlugin}: could not send entries due to max_retry_time exceeded. 6 queue entries were lost\n`;
  expect(await logged(lost)).toContain(lost);
});

test('a full queue: the oldest entries dropped (queue_full), the newest waiting', async () => {
  for (let i = 0; i < 2; i++) expect((await request(proxyPort, `/full/${i}`)).status).toBe(200);
  const full = plugin(await statusWhen((s) => plugin(s, ID.fullPlugin).queue.queued === 6), ID.fullPlugin).queue;
  expect({ ...full, size: { entries: full.size.entries } }).toEqual({
    queued: 6,
    sent: 0,
    dropped: { ...NO_DROPS, queue_full: 3 },
    retried: 0,
    batches: 0,
    size: { entries: 3 },
    inFlight: 0,
  });
  expect(full.size.bytes).toBeGreaterThan(0);
});

test("other paths 404 and other methods 405, with Kong's JSON; HEAD is GET without the body", async () => {
  for (const path of ['/', '/status/', '/traced/0', '/statusx']) {
    const reply = await request(statusPort, path);
    expect([path, reply.status, reply.headers['content-type'], reply.body]).toEqual([
      path,
      404,
      'application/json; charset=utf-8',
      '{"message":"Not found"}',
    ]);
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const reply = await request(statusPort, '/status', { method, body: method === 'OPTIONS' ? undefined : '{}' });
    expect([method, reply.status, reply.headers.allow, reply.body]).toEqual([
      method,
      405,
      'GET, HEAD',
      '{"message":"Method not allowed"}',
    ]);
  }
  const head = await request(statusPort, '/status?pretty', { method: 'HEAD' });
  expect([head.status, head.headers['content-type'], head.body]).toEqual([200, 'application/json; charset=utf-8', '']);
  expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  // None of this reached the proxy or a queue.
  const s = await status();
  expect(s.server.total_requests).toBe(N + 4);
  expect(s.plugins.map((p) => p.queue.queued)).toEqual([6, 6, N * 3]);
});

test('SIGTERM: the status listener closes (a kept-alive connection too) while the queues still drain, then exit 0', async () => {
  // A batch for the dead collector: the drain then takes about a second of retries.
  for (let i = 0; i < 2; i++) expect((await request(proxyPort, `/dead/again-${i}`)).status).toBe(200);
  await statusWhen((s) => plugin(s, ID.deadPlugin).queue.batches === 2);

  const lost = `error [zipkin plugin ${ID.deadPlugin} (dead-collector)] queue ${ID.deadPlugin}: could not send entries due to max_retry_time exceeded. 6 queue entries were lost\n`;
  const timesLost = (): number => gateway.stderr.split(lost).length - 1;
  expect(timesLost()).toBe(1);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // When the kept-alive status connection closes: how many batches had been given up by then.
  const socketClosed = new Promise<number>((done) => {
    const req = http.get({ host: '127.0.0.1', port: statusPort, path: '/status', agent }, (res) => {
      res.resume();
      res.on('end', () => req.socket?.once('close', () => done(timesLost())));
    });
  });
  await new Promise((r) => setTimeout(r, 50));

  gateway.child.kill('SIGTERM');
  // Closed at once, while the second batch is still being retried.
  expect(await socketClosed).toBe(1);
  await new Promise((r) => setTimeout(r, 50));
  expect(await refused(statusPort)).toBe(true);
  expect(await refused(proxyPort)).toBe(true);
  expect(gateway.child.exitCode).toBeNull();
  expect(await gateway.exited).toBe(0);
  agent.destroy();
  // The last line: everything before it has been read too.
  await logged('info gateway stopped\n');
  expect(timesLost()).toBe(2);
  // The full queue's 3 entries were tried once (max_retry_time 0) at shutdown.
  expect(gateway.stderr).toContain(
    `error [zipkin plugin ${ID.fullPlugin}] queue ${ID.fullPlugin}: could not send entries due to max_retry_time exceeded. 3 queue entries were lost\n`,
  );
});
