/**
 * End-to-end harness for the `gateway-zipkin` command line: the built CLI
 * (`dist/gateway/cli.js`, the packaged CLI: run `npm run build` first) as a child process,
 * an HTTP upstream echoing what it received, a TCP echo upstream, free ports and generated
 * decK files.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { traceKey, type Receiver } from '../../src/receiver/receiver';
import type { ReceivedSpan } from '../../src/receiver/span-validator';

export const CLI = resolve(__dirname, '../../dist/gateway/cli.js');

/** This package's version, as `/status` reports it. */
export const VERSION = (
  JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { version: string }
).version;
/** The `/status` `process` entry expected of the CLI process `pid` (its uptime as reported). */
export function processEntry(pid: number | undefined, uptimeSeconds: number): Record<string, unknown> {
  return { pid, uptime_seconds: uptimeSeconds, node_version: process.version, version: VERSION };
}
export const NO_DROPS = { queue_full: 0, max_bytes: 0, too_large: 0, retry_exhausted: 0, shutdown: 0 };
/** `/status` counters of a queue that has seen nothing. */
export const IDLE_QUEUE = {
  queued: 0,
  sent: 0,
  dropped: NO_DROPS,
  retried: 0,
  batches: 0,
  size: { entries: 0, bytes: 0 },
  inFlight: 0,
};

/** Discards what is written (the receiver's waterfalls). */
export const nullSink = (): Writable => new Writable({ write: (_c, _e, done) => done() });

export interface EchoedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface EchoServer {
  port: number;
  /** Every request received, in order. */
  requests: EchoedRequest[];
  close(): Promise<void>;
}

/** Answers 200 with the request it received as JSON; a path containing `slow` waits 400 ms. */
export async function startEcho(): Promise<EchoServer> {
  const requests: EchoedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const seen: EchoedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers as Record<string, string>,
        body,
      };
      requests.push(seen);
      const reply = (): void => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-upstream', 'echo');
        res.end(JSON.stringify(seen));
      };
      if ((req.url ?? '').includes('slow')) setTimeout(reply, 400);
      else reply();
    });
  });
  const port = await listenOn(server);
  return {
    port,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** A TCP server sending back what it receives (half-close aware). */
export async function startTcpEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const port = await listenOn(server);
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}

function listenOn(server: net.Server): Promise<number> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as net.AddressInfo).port)));
}

/** A port nothing listens on (bound, then released). */
export { freePort } from '../support/backends/processes';

/** A port held by a plain listener on 127.0.0.1, until `close()`. */
export async function heldPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer();
  const port = await listenOn(server);
  return { port, close: () => new Promise((done) => server.close(() => done())) };
}

/** True once connecting to 127.0.0.1:port is refused (the listener is closed). */
export function refused(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}

export interface TempDir {
  write(name: string, content: unknown): string;
  remove(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-zipkin-cli-'));
  return {
    write: (name, content) => {
      const file = join(dir, name);
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves with the ready lines once `count` of them were printed. */
  ready(count: number, timeoutMs?: number): Promise<string[]>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const READY_RE = /^(?:proxy|stream|status|receiver) listening on \S+$/gm;

/** `env`: variables added to the child's (a test's own `process.env` is jest's copy, which children do not see). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const proc: CliProcess = {
    child,
    stdout: '',
    stderr: '',
    exited,
    ready(count, timeoutMs = 5000) {
      return new Promise((done, fail) => {
        const check = (): boolean => {
          const lines = proc.stdout.match(READY_RE) ?? [];
          if (lines.length < count) return false;
          done(lines.slice(0, count));
          return true;
        };
        if (check()) return;
        const timer = setTimeout(
          () => fail(new Error(`not ready after ${timeoutMs} ms:\n${proc.stdout}\n${proc.stderr}`)),
          timeoutMs,
        );
        child.stdout.on('data', () => {
          if (check()) clearTimeout(timer);
        });
        exited.then((code) => {
          clearTimeout(timer);
          fail(new Error(`exited with ${code} before ready:\n${proc.stdout}\n${proc.stderr}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (c: string) => (proc.stdout += c));
  child.stderr.on('data', (c: string) => (proc.stderr += c));
  return proc;
}

/**
 * The CLI gateway on `deck` (written to `dir` as kong.json), on a free port: the process and
 * its proxy port once ready. A gateway that is not ready is killed before the error goes on.
 */
export async function startCliGateway(
  dir: TempDir,
  deck: unknown,
  env: NodeJS.ProcessEnv = {},
): Promise<{ cli: CliProcess; port: number }> {
  const cli = runCli(['--config', dir.write('kong.json', deck), '--listen', '127.0.0.1:0'], env);
  try {
    const [line] = await cli.ready(1);
    return { cli, port: Number(/:(\d+)$/.exec(line)?.[1]) };
  } catch (err) {
    await cli.stop('SIGKILL');
    throw err;
  }
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(
  port: number,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end(options.body);
  });
}

/** Sends `data`, half-closes, resolves with everything received until the server closed. */
export function tcpExchange(port: number, data: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(data));
    socket.on('data', (c: string) => (received += c));
    socket.on('close', () => done(received));
    socket.on('error', fail);
  });
}

export function spansOf(receiver: Receiver, traceId: string): ReceivedSpan[] {
  const key = traceKey(traceId);
  return receiver.spans.filter((s) => traceKey(s.traceId) === key);
}

/** Polls the receiver until `pick` returns spans satisfying `complete` (default: a SERVER span, which Kong reports last). */
export async function waitForSpans(
  pick: () => ReceivedSpan[],
  complete: (spans: ReceivedSpan[]) => boolean = (spans) => spans.some((s) => s.kind === 'SERVER'),
  timeoutMs = 5000,
): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = pick();
    if (complete(spans)) return spans;
    if (Date.now() > deadline) throw new Error(`spans incomplete after ${timeoutMs} ms: ${JSON.stringify(spans)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The span named `name`, failing loudly when absent. */
export function named(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const span = spans.find((s) => s.name === name);
  if (span === undefined) throw new Error(`no span named ${name} in ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

export function annotationValues(span: ReceivedSpan): string[] {
  return (span.annotations ?? []).map((a) => a.value).sort();
}
