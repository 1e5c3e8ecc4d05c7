/**
 * `npm run demo`: the reference gateway end to end, with nothing but Node.
 *
 * Starts an echo server (it answers with the headers it received), picks a port nobody
 * listens on (the "down" target), starts the development Zipkin receiver in-process, and
 * runs the real command line, `gateway-zipkin --config <kong.yml> --listen 127.0.0.1:0`, as
 * a child process, on a copy of `examples/kong.yml` pointing at those ports. Then it sends
 * one request per propagation format, one without tracing headers, one to a route whose
 * zipkin plugin samples nothing and one no route matches; stops the gateway with SIGTERM
 * (its queue drains into the receiver before it exits) and prints, per request, what was
 * sent, what the upstream received and the trace as a waterfall, then the gateway's log.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { startReceiver, traceKey } from '../src/receiver/receiver';
import { renderWaterfall } from '../src/receiver/waterfall';
import type { ReceivedSpan } from '../src/receiver/span-validator';

const WIDTH = 100;

interface DemoRequest {
  readonly label: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

const REQUESTS: readonly DemoRequest[] = [
  {
    label: 'w3c',
    path: '/echo/w3c',
    headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  },
  {
    label: 'b3',
    path: '/echo/b3',
    headers: {
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-sampled': '1',
    },
  },
  { label: 'b3-single', path: '/echo/b3-single', headers: { b3: 'a3ce929d0e0e4736-6e0c63257de34c92-1' } },
  {
    label: 'jaeger',
    path: '/echo/jaeger',
    headers: { 'uber-trace-id': '6ba7b8109dad11d180b400c04fd430c8:a2fb4a1d1a96d312:0:1' },
  },
  {
    label: 'ot',
    path: '/echo/ot',
    headers: {
      'ot-tracer-traceid': '5f2a2c3b1d7e4f60',
      'ot-tracer-spanid': '7b1d2e3f4a5b6c7d',
      'ot-tracer-sampled': 'true',
    },
  },
  {
    label: 'datadog',
    path: '/echo/datadog',
    headers: {
      'x-datadog-trace-id': '1234567890123456789',
      'x-datadog-parent-id': '987654321',
      'x-datadog-sampling-priority': '1',
    },
  },
  {
    label: 'aws',
    path: '/echo/aws',
    headers: { 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
  },
  {
    label: 'gcp',
    path: '/echo/gcp',
    headers: { 'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1234567890;o=1' },
  },
  {
    label: 'instana',
    path: '/echo/instana',
    headers: { 'x-instana-t': '1a2b3c4d5e6f7081', 'x-instana-s': '9f8e7d6c5b4a3921', 'x-instana-l': '1' },
  },
  { label: 'no headers', path: '/echo/plain', headers: {} },
  { label: 'sampled out', path: '/quiet/orders', headers: {} },
  { label: 'no route', path: '/nowhere', headers: {} },
];

/** Headers every upstream request carries; shown on one compact line instead. */
const ROUTINE = new Set(['host', 'connection', 'x-real-ip', 'content-length']);

interface Outcome {
  readonly request: DemoRequest;
  readonly status: number;
  readonly traceId: string | undefined;
  /** What the echo server received, or undefined when the gateway answered itself. */
  readonly upstream: Record<string, string> | undefined;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)));
}

/** An echo target: answers with the request line and headers it received, as JSON. */
function echoServer(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
  });
}

/** A port nothing listens on: bound, then released. */
async function downPort(): Promise<number> {
  const server = http.createServer();
  const port = await listen(server);
  await new Promise((done) => server.close(done));
  return port;
}

function send(port: number, request: DemoRequest): Promise<Outcome> {
  return new Promise((done, fail) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: request.path, headers: request.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const traceHeader = res.headers['x-trace-id'];
          let upstream: Record<string, string> | undefined;
          if (res.statusCode === 200) upstream = (JSON.parse(body) as { headers: Record<string, string> }).headers;
          done({
            request,
            status: res.statusCode ?? 0,
            traceId: typeof traceHeader === 'string' ? traceHeader : undefined,
            upstream,
          });
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** Zipkin reads a 32-hex id with 16 leading zeros as the 64-bit one. */
/** The trace id the upstream was told about (for requests whose response carried none). */
function upstreamTraceId(headers: Record<string, string>): string | undefined {
  return headers['x-b3-traceid'] ?? headers.traceparent?.split('-')[1];
}

/** Wraps a waterfall detail line at its `  ◆` separators to stay within WIDTH columns. */
function fit(line: string): string[] {
  if (line.length <= WIDTH) return [line];
  const first = line.indexOf('◆');
  if (first <= 0) return [line.slice(0, WIDTH - 1) + '…'];
  const prefix = line.slice(0, first);
  const items = line.slice(first).split('  ');
  const out: string[] = [];
  let current = prefix;
  for (const item of items) {
    const next = current === prefix ? current + item : `${current}  ${item}`;
    if (next.length > WIDTH && current !== prefix) {
      out.push(current);
      current = prefix + item;
    } else {
      current = next;
    }
  }
  out.push(current);
  return out;
}

/** Long log lines continue on indented lines. */
function wrap(line: string): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > WIDTH) {
    const cut = rest.lastIndexOf(' ', WIDTH);
    const at = cut > WIDTH / 2 ? cut : WIDTH;
    out.push(rest.slice(0, at));
    rest = '    ' + rest.slice(at).trimStart();
  }
  out.push(rest);
  return out;
}

function clip(line: string): string {
  return line.length <= WIDTH ? line : line.slice(0, WIDTH - 1) + '…';
}

function describe(outcome: Outcome, spans: readonly ReceivedSpan[], print: (line: string) => void): void {
  const { request, status, upstream } = outcome;
  print(`── ${request.label} ${'─'.repeat(Math.max(3, WIDTH - request.label.length - 4))}`);
  print(`GET ${request.path} → ${status}${outcome.traceId !== undefined ? `   x-trace-id: ${outcome.traceId}` : ''}`);
  const sent = Object.entries(request.headers);
  if (sent.length === 0) print('  sent      (no tracing headers)');
  sent.forEach(([name, value], i) => print(clip(`  ${i === 0 ? 'sent    ' : '        '}  ${name}: ${value}`)));
  if (upstream === undefined) {
    print('  upstream  (not reached: the gateway answered)');
  } else {
    const tracing = Object.entries(upstream).filter(([name]) => !ROUTINE.has(name) && !name.startsWith('x-forwarded-'));
    tracing.forEach(([name, value], i) => print(clip(`  ${i === 0 ? 'upstream' : '        '}  ${name}: ${value}`)));
    const forwarded = (keys: readonly string[]): string =>
      keys
        .filter((k) => upstream[`x-forwarded-${k}`] !== undefined)
        .map((k) => `${k}=${upstream[`x-forwarded-${k}`]}`)
        .join(' ');
    print(clip(`            x-forwarded-*  ${forwarded(['for', 'proto', 'host', 'port'])}`));
    print(clip(`                           ${forwarded(['path', 'prefix'])}`));
    print(`            host: ${upstream.host}`);
  }
  for (const span of spans) {
    if (span.tags?.error === 'true') {
      const e = span.remoteEndpoint;
      print(
        clip(
          `  ${span.name} ${e?.ipv4 ?? ''}:${e?.port ?? ''} error=true ` +
            `kong.balancer.state=${span.tags['kong.balancer.state'] ?? ''} http.status_code=${span.tags['http.status_code'] ?? ''}`,
        ),
      );
    }
  }
  if (spans.length === 0) {
    print('  no spans: not sampled (the upstream was told: x-b3-sampled: 0)');
  } else {
    for (const line of renderWaterfall(spans, { width: 24 }).trimEnd().split('\n'))
      for (const part of fit(line)) print(part);
  }
  print('');
}

export async function main(out: Writable = process.stdout): Promise<number> {
  const print = (line: string): void => void out.write(line + '\n');
  const echo = echoServer();
  const echoPort = await listen(echo);
  const down = await downPort();
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const receiver = await startReceiver({ port: 0, out: sink, errOut: process.stderr });
  const dir = await mkdtemp(join(tmpdir(), 'gateway-zipkin-demo-'));

  try {
    // Source run (ts) or build (build/examples): find the decK file and the CLI either way.
    const source = existsSync(join(__dirname, 'kong.yml'))
      ? join(__dirname, 'kong.yml')
      : resolve(__dirname, '../../examples/kong.yml');
    const cli = existsSync(resolve(__dirname, '../src/gateway/cli.js'))
      ? resolve(__dirname, '../src/gateway/cli.js')
      : resolve(__dirname, '../dist/gateway/cli.js');
    let deck = await readFile(source, 'utf8');
    for (const [from, to] of [
      ['http://127.0.0.1:9411/api/v2/spans', receiver.url],
      ['127.0.0.1:9001', `127.0.0.1:${echoPort}`],
      ['127.0.0.1:9002', `127.0.0.1:${down}`],
    ]) {
      if (!deck.includes(from)) throw new Error(`${source} no longer contains ${from}`);
      deck = deck.split(from).join(to);
    }
    const config = join(dir, 'kong.yml');
    await writeFile(config, deck);

    print('gateway-zipkin demo');
    print(`  echo target  127.0.0.1:${echoPort}    down target  127.0.0.1:${down} (nothing listens)`);
    print(`  receiver     ${receiver.url}`);
    const child = spawn(process.execPath, [cli, '--config', config, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    let stderrText = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderrText += c));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const proxyUrl = await new Promise<string>((done, fail) => {
      let text = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => {
        text += c;
        const m = /^proxy listening on (http:\/\/\S+)$/m.exec(text);
        if (m !== null) done(m[1]);
      });
      exited.then((code) => fail(new Error(`the gateway exited with ${code}:\n${stderrText}`)));
    });
    print(
      `  gateway      ${proxyUrl}  (node ${cli.replace(resolve(__dirname, '..', '..'), '').replace(/^\//, '')} --config …)`,
    );
    print('');
    const port = Number(new URL(proxyUrl).port);

    const outcomes: Outcome[] = [];
    for (const request of REQUESTS) outcomes.push(await send(port, request));

    // Graceful stop: the spans still queued (batches of 20, 5 s coalescing) are delivered now.
    child.kill('SIGTERM');
    const code = await exited;
    log.push(...stderrText.split('\n').filter((l) => l !== ''));

    const byTrace = new Map<string, ReceivedSpan[]>();
    for (const span of receiver.spans) {
      const key = traceKey(span.traceId);
      const list = byTrace.get(key);
      if (list === undefined) byTrace.set(key, [span]);
      else list.push(span);
    }
    for (const outcome of outcomes) {
      const id = outcome.traceId ?? (outcome.upstream !== undefined ? upstreamTraceId(outcome.upstream) : undefined);
      describe(outcome, id === undefined ? [] : (byTrace.get(traceKey(id)) ?? []), print);
    }
    print(`── gateway log (stderr) ${'─'.repeat(WIDTH - 24)}`);
    for (const line of log) for (const part of wrap(line)) print(part);
    print('');
    print(`gateway exited with ${code}; the receiver got ${receiver.spans.length} spans in ${byTrace.size} traces.`);
    return code === 0 ? 0 : 1;
  } finally {
    await receiver.close();
    echo.closeAllConnections();
    await new Promise((done) => echo.close(done));
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
