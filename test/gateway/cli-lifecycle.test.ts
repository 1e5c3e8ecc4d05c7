/**
 * The command line's lifecycle through real processes: graceful shutdown delivering the
 * spans still queued and finishing requests in flight, upstream timeouts, bad configs and
 * command lines exiting before listening, listen failures, `--help`, and `receive`.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { HEADER_TYPE_DEPRECATION } from '../../src/config';
import { startReceiver, type Receiver } from '../../src/receiver/receiver';
import {
  type EchoServer,
  freePort,
  named,
  nullSink,
  request,
  refused,
  runCli,
  spansOf,
  startEcho,
  tempDir,
  type TempDir,
} from './cli-harness';

let receiver: Receiver;
let echo: EchoServer;
let dir: TempDir;

beforeAll(async () => {
  receiver = await startReceiver({ port: 0, out: nullSink(), errOut: nullSink() });
  echo = await startEcho();
  dir = tempDir();
});

afterAll(async () => {
  await receiver?.close();
  await echo?.close();
  dir?.remove();
});

test('SIGTERM: stops accepting, finishes the request in flight, delivers every queued span, exits 0', async () => {
  const file = dir.write(
    'batched.yml',
    [
      '_format_version: "3.0"',
      'services:',
      '  - name: batched',
      `    url: http://127.0.0.1:${echo.port}`,
      '    routes:',
      '      - name: a',
      '        paths: [/a]',
      '  - name: impatient',
      `    url: http://127.0.0.1:${echo.port}`,
      '    read_timeout: 150',
      '    routes:',
      '      - name: timeout',
      '        paths: [/timeout]',
      'plugins:',
      '  - name: zipkin',
      '    config:',
      `      http_endpoint: ${receiver.url}`,
      '      sample_ratio: 1',
      '      header_type: b3',
      '      queue:',
      '        max_batch_size: 100',
      '        max_coalescing_delay: 60',
      '',
    ].join('\n'),
  );
  const gateway = runCli(['--config', file, '--listen', '127.0.0.1:0']);
  const [ready] = await gateway.ready(1);
  const port = Number(/:(\d+)$/.exec(ready)?.[1]);
  expect(gateway.stderr).toContain(`warn ${HEADER_TYPE_DEPRECATION}\n`);

  const ids = [
    '0af7651916cd43dd8448eb211c803101',
    '0af7651916cd43dd8448eb211c803102',
    '0af7651916cd43dd8448eb211c803103',
  ];
  const headers = (i: number): http.OutgoingHttpHeaders => ({ traceparent: `00-${ids[i]}-b7ad6b7169203331-01` });

  expect((await request(port, '/a/one', { headers: headers(0) })).status).toBe(200);
  // read_timeout: the upstream takes 400 ms to answer.
  const late = await request(port, '/timeout/slow', { headers: headers(1) });
  expect(late.status).toBe(504);
  expect(late.body).toBe('{"message":"The upstream server is timing out"}');
  expect(gateway.stderr).toContain(
    'error upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, ' +
      `server: kong, request: "GET /timeout/slow HTTP/1.1", upstream: "http://127.0.0.1:${echo.port}/slow"`,
  );

  // Batches of 100 with 60 s of coalescing: nothing has been sent yet.
  await new Promise((r) => setTimeout(r, 200));
  expect(receiver.spans.filter((s) => ids.includes(s.traceId))).toEqual([]);

  const inFlight = request(port, '/a/slow', { headers: headers(2) });
  await new Promise((r) => setTimeout(r, 100));
  gateway.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  expect(await refused(port)).toBe(true);
  const slow = await inFlight;
  expect(slow.status).toBe(200);
  expect(JSON.parse(slow.body).url).toBe('/slow');

  expect(await gateway.exited).toBe(0);
  // Exit comes after the drain: every span is there now.
  for (const id of ids) expect(spansOf(receiver, id)).toHaveLength(3);
  expect(named(spansOf(receiver, ids[1]), 'GET').tags?.['http.status_code']).toBe('504');
  expect(named(spansOf(receiver, ids[1]), 'GET (balancer try 1)').tags?.error).toBeUndefined();
  expect(named(spansOf(receiver, ids[2]), 'GET').tags?.['http.status_code']).toBe('200');
  expect(gateway.stderr).toContain('info gateway stopped\n');
});

/** A decK file: one service on the echo upstream, one zipkin plugin reporting to `collector` (nothing listens). */
function deadCollectorDeck(name: string, pluginId: string, collector: number): string {
  return dir.write(name, {
    _format_version: '3.0',
    services: [{ name: 's', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'r', paths: ['/'] }] }],
    plugins: [
      {
        id: pluginId,
        name: 'zipkin',
        config: { http_endpoint: `http://127.0.0.1:${collector}/api/v2/spans`, sample_ratio: 1 },
      },
    ],
  });
}

test('a collector that refuses: Kong queue warnings on stderr, requests unaffected; a second SIGTERM exits 1 at once', async () => {
  const collector = await freePort();
  const pluginId = '9e1a1d6c-0000-4000-8000-0000000000aa';
  const file = deadCollectorDeck('refused.json', pluginId, collector);
  const gateway = runCli(['--config', file, '--listen', '127.0.0.1:0']);
  const [ready] = await gateway.ready(1);
  const port = Number(/:(\d+)$/.exec(ready)?.[1]);
  expect((await request(port, '/x')).status).toBe(200);
  const warning = `warn [zipkin plugin ${pluginId}] queue ${pluginId}: handler could not process entries: zipkin request failed: connection refused\n`;
  const deadline = Date.now() + 3000;
  while (!gateway.stderr.includes(warning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(gateway.stderr).toContain(warning);

  // The first SIGTERM waits for the queue, which retries for up to max_retry_time (60 s).
  gateway.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  expect(gateway.child.exitCode).toBeNull();
  gateway.child.kill('SIGTERM');
  expect(await gateway.exited).toBe(1);
  expect(gateway.stderr).toContain('warn second signal: exiting now, spans still queued are lost\n');
});

test('--drain-timeout bounds the whole shutdown against a dead collector: exit 0, the loss counted and logged', async () => {
  const collector = await freePort();
  const pluginId = '9e1a1d6c-0000-4000-8000-0000000000ab';
  const file = deadCollectorDeck('drain.json', pluginId, collector);
  const gateway = runCli(['--config', file, '--listen', '127.0.0.1:0', '--drain-timeout', '0.5']);
  const [ready] = await gateway.ready(1);
  const port = Number(/:(\d+)$/.exec(ready)?.[1]);
  expect((await request(port, '/x')).status).toBe(200);
  const started = Date.now();
  expect(await gateway.stop('SIGTERM')).toBe(0);
  expect(Date.now() - started).toBeLessThan(5000); // without it: max_retry_time, 60 s
  const prefix = `[zipkin plugin ${pluginId}] queue ${pluginId}: `;
  const lost = gateway.stderr
    .split('\n')
    .filter((l) => l.startsWith(`error ${prefix}could not send entries before the shutdown deadline.`));
  const count = lost.reduce((n, l) => n + Number(/\. (\d+) queue entries were lost$/.exec(l)?.[1]), 0);
  expect(count).toBe(3);
  expect(gateway.stderr).toContain('info gateway stopped\n');
});

describe('bad command lines and configs exit before listening', () => {
  test('invalid decK files: exit 1, one "error <path>: <reason>" line per issue, nothing on stdout', async () => {
    const port = await freePort();
    const cases: [unknown, string][] = [
      [
        { _format_version: '3.0', plugins: [{ name: 'zipkin', config: { sample_ratio: 2 } }] },
        'error plugins[0].config.sample_ratio: value should be between 0 and 1\n',
      ],
      [
        {
          _format_version: '3.0',
          services: [{ name: 's', url: 'http://x', routes: [{ paths: ['nope'] }] }],
          plugins: [{ name: 'rate-limiting' }],
        },
        'error services[0].routes[0].paths[0]: should start with: / (fixed path) or ~ (regex path)\n' +
          "error plugins[0].name: plugin 'rate-limiting' is not supported (supported: zipkin)\n",
      ],
    ];
    const runs = cases.map(([deck], i) =>
      runCli(['--config', dir.write(`bad${i}.json`, deck), '--listen', `127.0.0.1:${port}`]),
    );
    const missing = runCli(['--config', '/nonexistent/kong.yml', '--listen', `127.0.0.1:${port}`]);
    const codes = await Promise.all([...runs, missing].map((r) => r.exited));
    expect(codes).toEqual([1, 1, 1]);
    runs.forEach((run, i) => {
      expect(run.stderr).toBe(cases[i][1]);
      expect(run.stdout).toBe('');
    });
    expect(missing.stderr).toMatch(/^error cannot read \/nonexistent\/kong\.yml: ENOENT/);
    expect(await refused(port)).toBe(true);
  });

  test('usage errors exit 2; --help prints the usage and exits 0', async () => {
    const none = runCli([]);
    const badListen = runCli(['--config', 'kong.yml', '--listen', 'localhost']);
    const unknown = runCli(['--config', 'kong.yml', '--port', '1']);
    const help = runCli(['--help']);
    expect(await Promise.all([none.exited, badListen.exited, unknown.exited, help.exited])).toEqual([2, 2, 2, 0]);
    expect(none.stderr).toBe('error --config FILE is required (see gateway-zipkin --help)\n');
    expect(badListen.stderr).toBe(
      "error --listen: expected HOST:PORT (e.g. 127.0.0.1:8000, [::1]:0), got 'localhost' (see gateway-zipkin --help)\n",
    );
    expect(unknown.stderr).toBe("error unknown option '--port' (see gateway-zipkin --help)\n");
    expect(help.stdout).toMatch(
      /^Usage:\n {2}gateway-zipkin --config FILE \[--listen HOST:PORT\] \[--stream-listen HOST:PORT\]\.\.\.\n/,
    );
    expect(help.stderr).toBe('');
  });

  test('an address in use: exit 1 naming it, the other listeners closed again', async () => {
    const file = dir.write('ok.json', { _format_version: '3.0' });
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const proxyPort = await freePort();
    try {
      const run = runCli([
        '--config',
        file,
        '--listen',
        `127.0.0.1:${proxyPort}`,
        '--stream-listen',
        `127.0.0.1:${busyPort}`,
      ]);
      expect(await run.exited).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(
        `error could not listen on 127.0.0.1:${busyPort}: listen EADDRINUSE: address already in use 127.0.0.1:${busyPort}\n`,
      );
      expect(await refused(proxyPort)).toBe(true);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});

describe('gateway-zipkin receive', () => {
  const span = {
    traceId: '5af7183fb1d4cf5f',
    id: '6b221d5bc9e6496c',
    kind: 'SERVER',
    name: 'get',
    timestamp: 1472470996199000,
    duration: 207000,
    localEndpoint: { serviceName: 'frontend' },
    tags: { 'http.path': '/api' },
  };

  function post(url: string, body: string): Promise<number> {
    return new Promise((done, fail) => {
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  test('--json prints each accepted span as a JSON line; SIGTERM exits 0', async () => {
    const run = runCli(['receive', '--listen', '127.0.0.1:0', '--json']);
    const [ready] = await run.ready(1);
    const url = /^receiver listening on (http:\/\/127\.0\.0\.1:\d+\/api\/v2\/spans)$/.exec(ready)?.[1] ?? '';
    expect(url).not.toBe('');
    expect(await post(url, JSON.stringify([span]))).toBe(202);
    expect(await run.stop('SIGTERM')).toBe(0);
    expect(run.stdout.split('\n').slice(1)).toEqual([JSON.stringify(span), '']);
  });

  test('waterfalls with --tags; pending traces are drawn on SIGINT', async () => {
    const run = runCli(['receive', '--listen', '127.0.0.1:0', '--tags']);
    const [ready] = await run.ready(1);
    const url = ready.slice('receiver listening on '.length);
    expect(await post(url, JSON.stringify([span]))).toBe(202);
    expect(await run.stop('SIGINT')).toBe(0);
    expect(run.stdout).toContain('trace 5af7183fb1d4cf5f · 1 span · 207.000ms\n');
    expect(run.stdout).toContain('http.path=/api\n');
  });
});
