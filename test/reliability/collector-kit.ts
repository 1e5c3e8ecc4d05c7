/**
 * Pieces of the collector-fault tests and of the collector soak: a Zipkin collector that
 * misbehaves on demand (written on `net`, so every byte on the wire is the test's choice),
 * the reference gateway (`startGateway` from a decK object) with one zipkin plugin in
 * front of an upstream whose answers are known, traffic that checks every answer, a
 * sampler of the queue's health counters, and the accounting of every span produced.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueueConfig, ZipkinConfigInput } from '../../src/config/types';
import type { QueueHealth } from '../../src/export/queue';
import { resolveDeclarativeConfig } from '../../src/gateway/declarative';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway';
import type { Logger } from '../../src/logger';
import type { ZipkinPlugin } from '../../src/plugin';

export const PLUGIN_ID = 'c011ec70-fa17-4a5b-9c3d-2e1f0a9b8c7d';
/** Kong's queue log prefix for the plugin (§6.3). */
export const QUEUE_PREFIX = `[zipkin plugin ${PLUGIN_ID}] queue ${PLUGIN_ID}: `;

/** userinfo of every test endpoint: it must reach the collector as Basic auth and nowhere else. */
export const CREDENTIALS = { user: 'zipkin-user', password: 'p@ss:w0rd/Secret-7' };
export const EXPECTED_AUTHORIZATION =
  'Basic ' + Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString('base64');
/** Every form of the credentials that could leak: raw, URL-encoded, the Basic token. */
export const CREDENTIAL_FORMS = [
  CREDENTIALS.user,
  CREDENTIALS.password,
  encodeURIComponent(CREDENTIALS.password),
  'w0rd/Secret',
  Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString('base64'),
];

export function endpointWithCredentials(scheme: 'http' | 'https', port: number): string {
  return `${scheme}://${encodeURIComponent(CREDENTIALS.user)}:${encodeURIComponent(CREDENTIALS.password)}@127.0.0.1:${port}/api/v2/spans`;
}

// ------------------------------------------------------------------ logging

export interface CapturingLogger extends Logger {
  readonly lines: string[];
}

/** Keeps every line, debug included (`<level> <message>`). */
export function capturingLogger(): CapturingLogger {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => void lines.push(`debug ${m}`),
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m) => void lines.push(`error ${m}`),
  };
}

// ------------------------------------------------------------------ the collector

/** What the collector does with each complete request. */
export type CollectorBehavior =
  /** Answer `status` (after `delayMs`), with `body`. */
  | { kind: 'answer'; status: number; reason: string; body?: Buffer | string; delayMs?: number }
  /** Read the request, never answer (the connection stays open). */
  | { kind: 'blackhole' }
  /** Send the head and part of a 100-byte body, then close the connection. */
  | { kind: 'close-mid-response' }
  /** Reset the connection (RST) instead of answering. */
  | { kind: 'reset' }
  /** Send a 200 head announcing 1000 bytes, then one byte every `intervalMs`. */
  | { kind: 'trickle'; intervalMs: number }
  /** Answer bytes that are not HTTP. */
  | { kind: 'not-http' };

export interface CollectedRequest {
  authorization: string | undefined;
  /** Spans in the JSON body; -1 when the body is not a JSON array. */
  spans: number;
  traceIds: string[];
}

/**
 * A Zipkin collector on 127.0.0.1 (plain HTTP/1.1 parsed by hand, content-length framing
 * as the sender always sends it). `accepted` counts the spans of 2xx answers written in
 * full on a connection still open: what a sender may count as delivered.
 */
export class FaultCollector {
  behavior: CollectorBehavior;
  /** Every request (only with `keepRequests`; long runs keep the counters below only). */
  readonly requests: CollectedRequest[] = [];
  accepted = 0;
  connections = 0;
  port = 0;
  /** Requests and the spans in them, and requests whose Authorization was not the expected one. */
  requestCount = 0;
  spanCount = 0;
  wrongAuthorization = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    behavior: CollectorBehavior,
    private readonly keepRequests = true,
  ) {
    this.behavior = behavior;
  }

  get url(): string {
    return endpointWithCredentials('http', this.port);
  }

  /** Listens (on `port` when given: the port a collector that was down comes back on). */
  async start(port = 0): Promise<this> {
    const server = net.createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  /** Stops listening and cuts every connection: the collector is down. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise((r) => server.close(r));
  }

  get spansReceived(): number {
    return this.requests.reduce((n, r) => n + Math.max(r.spans, 0), 0);
  }

  traceIdsReceived(): Set<string> {
    return new Set(this.requests.flatMap((r) => r.traceIds));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onConnection(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true); // as node:http servers do: no Nagle wait on the answers
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
        buffer = buffer.subarray(end + 4 + length);
        this.onRequest(socket, head, body);
      }
    });
  }

  private onRequest(socket: net.Socket, head: string, body: string): void {
    let spans = -1;
    let traceIds: string[] = [];
    try {
      const list = JSON.parse(body) as Array<{ traceId: string }>;
      if (Array.isArray(list)) {
        spans = list.length;
        traceIds = list.map((s) => s.traceId);
      }
    } catch {
      // counted as -1
    }
    const authorization = /\r\nauthorization: *([^\r]*)/i.exec(head)?.[1];
    this.requestCount++;
    this.spanCount += Math.max(spans, 0);
    if (authorization !== EXPECTED_AUTHORIZATION) this.wrongAuthorization++;
    if (this.keepRequests) this.requests.push({ authorization, spans, traceIds });
    const b = this.behavior;
    switch (b.kind) {
      case 'answer': {
        const payload = typeof b.body === 'string' ? Buffer.from(b.body) : (b.body ?? Buffer.alloc(0));
        const write = (): void => {
          if (socket.destroyed) return;
          const head = Buffer.from(
            `HTTP/1.1 ${b.status} ${b.reason}\r\ncontent-length: ${payload.length}\r\nconnection: keep-alive\r\n\r\n`,
            'latin1',
          );
          socket.write(Buffer.concat([head, payload]), () => {
            if (b.status >= 200 && b.status < 300 && !socket.destroyed && spans > 0) this.accepted += spans;
          });
        };
        if ((b.delayMs ?? 0) > 0) this.later(b.delayMs as number, write);
        else write();
        return;
      }
      case 'blackhole':
        return;
      case 'close-mid-response':
        socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 100\r\n\r\n{"partial":', 'latin1');
        this.later(5, () => socket.end());
        return;
      case 'reset':
        socket.resetAndDestroy();
        return;
      case 'trickle': {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n', 'latin1');
        let left = 1000;
        const drip = (): void => {
          if (socket.destroyed || left === 0) return;
          socket.write('.');
          left--;
          this.later(b.intervalMs, drip);
        };
        this.later(b.intervalMs, drip);
        return;
      }
      case 'not-http':
        socket.write('SSH-2.0-OpenSSH_9.6\r\nnot a zipkin collector\r\n\r\n', 'latin1');
        return;
    }
  }
}

/**
 * A TLS collector whose certificate is self-signed (test/fixtures/tls): no client may
 * trust it. Records whether any handshake completed and any application byte arrived.
 */
export class UntrustedTlsCollector {
  port = 0;
  connections = 0;
  secureConnections = 0;
  applicationBytes = 0;
  clientErrors = 0;
  private server: tls.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  get url(): string {
    return endpointWithCredentials('https', this.port);
  }

  async start(): Promise<this> {
    // test/reliability under jest, build/test/reliability when the soak runs compiled.
    const fixtures = [
      join(__dirname, '..', 'fixtures', 'tls'),
      join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls'),
    ].find((d) => existsSync(join(d, 'self-signed.cert.pem')));
    if (fixtures === undefined) throw new Error('test/fixtures/tls not found');
    const server = tls.createServer(
      {
        key: readFileSync(join(fixtures, 'self-signed.key.pem')),
        cert: readFileSync(join(fixtures, 'self-signed.cert.pem')),
      },
      (socket) => {
        this.secureConnections++;
        socket.on('data', (c: Buffer) => (this.applicationBytes += c.length));
        socket.on('error', () => socket.destroy());
      },
    );
    server.on('connection', (socket: net.Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('tlsClientError', () => this.clientErrors++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise((r) => server.close(r));
  }
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

// ------------------------------------------------------------------ upstream and gateway

const UPSTREAM_STATUSES = [200, 201, 404, 503];

/** What the upstream answers to `/r/<i>`: the proxied response must be exactly this. */
export function expectedAnswer(i: number): { status: number; body: string } {
  return {
    status: UPSTREAM_STATUSES[i % UPSTREAM_STATUSES.length],
    body: `upstream answer ${i} ${'x'.repeat(i % 64)}`,
  };
}

export interface Upstream {
  port: number;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const i = Number(/^\/r\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
      const { status, body } = expectedAnswer(i);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface FaultGatewayOptions {
  endpoint: string;
  upstreamPort: number;
  logger: Logger;
  /** ms; Kong's connect / send / read timeouts of the plugin. */
  timeouts: { connect: number; send: number; read: number };
  queue: Partial<QueueConfig>;
  extra?: Partial<ZipkinConfigInput>;
}

export interface FaultGateway {
  gateway: RunningGateway;
  plugin: ZipkinPlugin;
  port: number;
}

/** The reference gateway: one service on the upstream, one global zipkin plugin sampling every request. */
export async function startFaultGateway(options: FaultGatewayOptions): Promise<FaultGateway> {
  const config = resolveDeclarativeConfig({
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `http://127.0.0.1:${options.upstreamPort}`,
        retries: 0,
        routes: [{ name: 'all', paths: ['/'] }],
      },
    ],
    plugins: [
      {
        id: PLUGIN_ID,
        name: 'zipkin',
        config: {
          http_endpoint: options.endpoint,
          sample_ratio: 1,
          connect_timeout: options.timeouts.connect,
          send_timeout: options.timeouts.send,
          read_timeout: options.timeouts.read,
          queue: options.queue,
          ...options.extra,
        },
      },
    ],
  });
  const gateway = await startGateway({ config, listen: { host: '127.0.0.1', port: 0 }, logger: options.logger });
  const plugin = gateway.plugins.byId.get(PLUGIN_ID);
  if (plugin === undefined) throw new Error('plugin missing');
  return { gateway, plugin, port: gateway.listeners[0].port };
}

// ------------------------------------------------------------------ traffic

/** A W3C trace id for request `i`: the collector can tell which requests' spans arrived. */
export function traceIdOf(i: number): string {
  return `c0ffee00${i.toString(16).padStart(24, '0')}`;
}

export interface TrafficResult {
  sent: number;
  /** Requests whose status or body differed from the upstream's, or that failed: must be empty. */
  wrong: string[];
}

/**
 * Sends `/r/<from>` … `/r/<from + count - 1>` with `concurrency` requests at a time over
 * kept-alive connections, each continuing its own W3C trace, and checks every answer.
 */
export async function drive(
  port: number,
  from: number,
  count: number,
  concurrency: number,
  pathPrefix = '',
): Promise<TrafficResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const wrong: string[] = [];
  let next = from;
  const end = from + count;
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: `${pathPrefix}/r/${i}`,
          agent,
          headers: { traceparent: `00-${traceIdOf(i)}-00f067aa0ba902b7-01` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const want = expectedAnswer(i);
            const body = Buffer.concat(chunks).toString();
            if (res.statusCode !== want.status || body !== want.body)
              wrong.push(`/r/${i}: ${res.statusCode} ${JSON.stringify(body.slice(0, 80))}`);
            resolve();
          });
          res.on('error', (err) => {
            wrong.push(`/r/${i}: ${err.message}`);
            resolve();
          });
        },
      );
      req.on('error', (err) => {
        wrong.push(`/r/${i}: ${err.message}`);
        resolve();
      });
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (next < end) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { sent: count, wrong };
}

/**
 * Closed-loop load until `stop()` says so: `concurrency` clients, each sending the next
 * `/r/<i>` as soon as its previous answer was checked. Keeps only the first few wrong answers.
 */
export async function driveUntil(
  port: number,
  stop: () => boolean,
  concurrency: number,
  from = 0,
): Promise<{ sent: number; wrong: number; examples: string[] }> {
  let next = from;
  let wrong = 0;
  const examples: string[] = [];
  while (!stop()) {
    const batch = await drive(port, next, concurrency * 4, concurrency);
    next += batch.sent;
    wrong += batch.wrong.length;
    if (examples.length < 10) examples.push(...batch.wrong.slice(0, 10 - examples.length));
  }
  return { sent: next - from, wrong, examples };
}

// ------------------------------------------------------------------ health sampling and accounting

export interface HealthPeaks {
  samples: number;
  entries: number;
  bytes: number;
  inFlight: number;
}

/** Samples `health()` every `everyMs` until `stop()`, keeping the peaks. */
export function sampleHealth(
  read: () => QueueHealth | undefined,
  everyMs = 2,
): { stop(): HealthPeaks; peaks: HealthPeaks } {
  const peaks: HealthPeaks = { samples: 0, entries: 0, bytes: 0, inFlight: 0 };
  const take = (): void => {
    const h = read();
    if (h === undefined) return;
    peaks.samples++;
    peaks.entries = Math.max(peaks.entries, h.size.entries);
    peaks.bytes = Math.max(peaks.bytes, h.size.bytes);
    peaks.inFlight = Math.max(peaks.inFlight, h.inFlight);
  };
  const timer = setInterval(take, everyMs);
  return {
    peaks,
    stop: () => {
      clearInterval(timer);
      take();
      return peaks;
    },
  };
}

export function totalDropped(h: QueueHealth): number {
  const d = h.dropped;
  return d.queue_full + d.max_bytes + d.too_large + d.retry_exhausted + d.shutdown;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export type LogAccount = Record<'sent' | keyof QueueHealth['dropped'], number>;

/**
 * What the log says happened to the spans, read only from the log lines: delivered (the
 * queue's debug line per successful batch) and dropped by reason (Kong's err lines, and
 * ours where Kong has none). Fed line by line, so long runs need not keep the lines.
 */
export class LogTally {
  readonly account: LogAccount = {
    sent: 0,
    queue_full: 0,
    max_bytes: 0,
    too_large: 0,
    retry_exhausted: 0,
    shutdown: 0,
  };
  private readonly rules: [keyof LogAccount, RegExp][];

  constructor(prefix = QUEUE_PREFIX) {
    const p = escape(prefix);
    // A capture group is the count the line reports; without one the line counts 1.
    this.rules = [
      ['sent', new RegExp(`^debug ${p}handler processed (\\d+) entries successfully$`)],
      ['queue_full', new RegExp(`^error ${p}queue full, dropping old entries until processing is successful again$`)],
      [
        'queue_full',
        new RegExp(
          `^error ${p}queue full: \\d+ deliveries in flight \\(concurrency_limit -1\\), dropping the new entry$`,
        ),
      ],
      ['max_bytes', new RegExp(`^error ${p}byte capacity exceeded, (\\d+) queue entries were dropped$`)],
      [
        'max_bytes',
        new RegExp(
          `^error ${p}byte capacity exceeded: \\d+ bytes in flight \\(concurrency_limit -1\\), dropping the new entry$`,
        ),
      ],
      [
        'too_large',
        new RegExp(
          `^error ${p}string to be queued is longer \\(\\d+ bytes\\) than the queue's max_bytes \\(\\d+ bytes\\)$`,
        ),
      ],
      [
        'retry_exhausted',
        new RegExp(
          `^error ${p}could not send entries due to max_retry_time exceeded\\. (\\d+) queue entries were lost$`,
        ),
      ],
      ['shutdown', /^error failed to enqueue span: queue is shut down$/],
      [
        'shutdown',
        new RegExp(`^error ${p}could not send entries before the shutdown deadline\\. (\\d+) queue entries were lost$`),
      ],
    ];
  }

  add(line: string): void {
    for (const [key, re] of this.rules) {
      const m = re.exec(line);
      if (m !== null) {
        this.account[key] += m[1] === undefined ? 1 : Number(m[1]);
        return;
      }
    }
  }
}

export function logAccount(lines: readonly string[], prefix = QUEUE_PREFIX): LogAccount {
  const tally = new LogTally(prefix);
  for (const line of lines) tally.add(line);
  return tally.account;
}
