/**
 * Shared pieces of the traffic-fault and load tests (and the soak script): a span
 * processor that accounts for every span started and ended, a capture of OTel's `diag`
 * (where a second `end()` is reported), an upstream that misbehaves on request, and the two
 * gateways under test, each fed a plugin the test made:
 * - Express + http-proxy-middleware with the library's integrations;
 * - the reference gateway's HTTP proxy (`GatewayHttpProxy`, what `startGateway` runs), built
 *   from a decK object but with the test's plugin instance, so its spans reach the ledger.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { type Context, diag, type DiagLogger, DiagLogLevel } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { ZipkinConfigInput } from '../../src/config/types';
import { createBalancers } from '../../src/gateway/balancer';
import { resolveDeclarativeConfig } from '../../src/gateway/declarative';
import { GatewayHttpProxy } from '../../src/gateway/proxy';
import { GatewayRouter } from '../../src/gateway/router';
import { GatewayStreamProxy } from '../../src/gateway/stream';
import { zipkinMiddleware, zipkinProxyPlugin, zipkinRoute } from '../../src/integrations';
import type { Logger } from '../../src/logger';
import { createZipkinPlugin, type ZipkinPlugin } from '../../src/plugin';

// ------------------------------------------------------------------ span accounting

/**
 * Accounts for every span: started, ended, still open, ended more than once (the SDK
 * calls `onEnd` once per `end()` that it accepts). `keep` retains the ended spans for
 * assertions; without it only counters are kept (load runs).
 */
export class SpanLedger implements SpanProcessor {
  started = 0;
  ended = 0;
  /** `onEnd` for a span that was not open (ended twice, or never started here). */
  strayEnds = 0;
  readonly open = new Set<object>();
  readonly finished: ReadableSpan[] = [];

  constructor(private readonly keep = true) {}

  onStart(span: Span, _parent: Context): void {
    this.started++;
    this.open.add(span);
  }

  onEnd(span: ReadableSpan): void {
    this.ended++;
    if (!this.open.delete(span)) this.strayEnds++;
    if (this.keep) this.finished.push(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  reset(): void {
    this.started = 0;
    this.ended = 0;
    this.strayEnds = 0;
    this.open.clear();
    this.finished.length = 0;
  }
}

/** OTel's diag errors and warnings (`You can only call end() on a span once.`, operations on ended spans). */
export interface DiagCapture {
  readonly lines: string[];
  restore(): void;
}

export function captureDiag(): DiagCapture {
  const lines: string[] = [];
  const push =
    (level: string) =>
    (message: string, ...args: unknown[]): void => {
      lines.push(`${level} ${message}${args.length > 0 ? ' ' + args.map(String).join(' ') : ''}`);
    };
  const logger: DiagLogger = {
    error: push('error'),
    warn: push('warn'),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { lines, restore: () => diag.disable() };
}

/** Errors that escape to the process (`uncaughtException`, `unhandledRejection`) and process warnings. */
export interface EscapeWatch {
  readonly escaped: string[];
  stop(): void;
}

/**
 * The Node process object. Under jest, `process` is the test sandbox's copy: listeners added
 * to it never see the real process's `uncaughtException`, `unhandledRejection` or `warning`.
 * Core modules come from the real realm, so a function built by their `Function`
 * constructor reads the real global.
 */
export function realProcess(): NodeJS.Process {
  const outerFunction = (http.Server as unknown as { constructor: FunctionConstructor }).constructor;
  return outerFunction('return process')() as NodeJS.Process;
}

export function watchEscapes(): EscapeWatch {
  const proc = realProcess();
  const escaped: string[] = [];
  const onException = (err: unknown): void => {
    escaped.push(`uncaughtException ${describe(err)}`);
  };
  const onRejection = (reason: unknown): void => {
    escaped.push(`unhandledRejection ${describe(reason)}`);
  };
  // MaxListenersExceededWarning and the like: a listener piling up per request shows here.
  const onWarning = (warning: Error): void => {
    escaped.push(`warning ${describe(warning)}`);
  };
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  proc.on('warning', onWarning);
  return {
    escaped,
    stop: () => {
      proc.removeListener('uncaughtException', onException);
      proc.removeListener('unhandledRejection', onRejection);
      proc.removeListener('warning', onWarning);
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

// ------------------------------------------------------------------ logging

/** A logger keeping every line (fault tests). */
export interface LineLogger extends Logger {
  readonly lines: string[];
}

export function lineLogger(): LineLogger {
  const lines: string[] = [];
  return {
    lines,
    debug: () => undefined,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/**
 * A logger counting lines by level, bounded however many requests run (load tests): warning
 * texts quote header values, so only the first 20 distinct texts of each level are kept.
 */
export interface CountingLogger extends Logger {
  /** `level text`, the first 20 distinct ones of each level. */
  readonly samples: Set<string>;
  total(level: string): number;
}

export function countingLogger(): CountingLogger {
  const counts = new Map<string, number>();
  const samples = new Set<string>();
  const add =
    (level: string) =>
    (m: string): void => {
      const n = (counts.get(level) ?? 0) + 1;
      counts.set(level, n);
      if (n <= 20) samples.add(`${level} ${m}`);
    };
  return {
    samples,
    debug: () => undefined,
    info: add('info'),
    warn: add('warn'),
    error: add('error'),
    total: (level) => counts.get(level) ?? 0,
  };
}

// ------------------------------------------------------------------ plugins

/** `own`: the plugin's provider (spans built at log). `reused`: a caller's provider (spans opened at access, ended at log). */
export type ProviderMode = 'own' | 'reused';

export interface TracedPlugin {
  plugin: ZipkinPlugin;
  ledger: SpanLedger;
}

export const PLUGIN_ID = '6a4d2f52-5a0e-4c43-9d6e-2bd0f1a0c0de';

/** A plugin whose spans go to a `SpanLedger` (then to `more` processors, e.g. Kong's reporter). */
export function tracedPlugin(
  config: ZipkinConfigInput,
  mode: ProviderMode,
  logger: Logger,
  keep = true,
  more: SpanProcessor[] = [],
): TracedPlugin {
  const ledger = new SpanLedger(keep);
  const spanProcessors = [ledger, ...more];
  const options = { logger, pluginId: PLUGIN_ID, nodeId: '11111111-2222-3333-4444-555555555555' };
  const plugin =
    mode === 'own'
      ? createZipkinPlugin(config, { ...options, spanProcessors })
      : createZipkinPlugin(config, { ...options, tracerProvider: new BasicTracerProvider({ spanProcessors }) });
  return { plugin, ledger };
}

// ------------------------------------------------------------------ servers

export interface Listening {
  readonly server: http.Server;
  readonly port: number;
  close(): Promise<void>;
}

export function listen(server: http.Server): Promise<Listening> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const l = await listen(http.createServer());
  await l.close();
  return l.port;
}

/** What the upstream saw of one request. */
export interface UpstreamRequest {
  readonly path: string;
  /** Index of the upstream connection it came on (0, 1, …). */
  readonly connection: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly httpVersion: string;
  /** Body bytes received so far. */
  bytes: number;
  /** The request's connection closed before the response finished. */
  aborted: boolean;
  /** The response was sent whole. */
  finished: boolean;
}

export interface FaultyUpstream extends Listening {
  readonly requests: UpstreamRequest[];
  /** Upstream connections accepted. */
  connections(): number;
  /** Resolves once `n` requests have arrived (headers read). */
  arrived(n: number): Promise<void>;
  /** Resolves once request `i`'s response was abandoned (its socket closed early). */
  abandoned(i: number): Promise<void>;
}

/**
 * An upstream whose behavior the path chooses:
 * - `/ok…`: 200 `ok <path>` after reading the body;
 * - `/sum…`: 200 `<bytes> <sha256 hex>` of the body;
 * - `/hang…`: reads the request and never answers;
 * - `/cut…`: 200 with `content-length: 100000`, 7 bytes `partial`, then a TCP reset;
 * - `/drip…`: 200 chunked, one 1 KiB chunk every 10 ms until the connection goes;
 * - `/slow…`: 200 `slow` after 300 ms.
 */
export async function startFaultyUpstream(): Promise<FaultyUpstream> {
  const requests: UpstreamRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const abandonWaiters = new Map<number, () => void>();
  const abandonedSet = new Set<number>();
  let connections = 0;
  const connectionIds = new WeakMap<Socket, number>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const seen: UpstreamRequest = {
      path,
      connection: connectionIds.get(req.socket) ?? -1,
      headers: req.headers,
      httpVersion: req.httpVersion,
      bytes: 0,
      aborted: false,
      finished: false,
    };
    const index = requests.push(seen) - 1;
    for (const w of waiters.filter((x) => requests.length >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    res.on('finish', () => (seen.finished = true));
    res.on('close', () => {
      if (!res.writableFinished) {
        seen.aborted = true;
        abandonedSet.add(index);
        abandonWaiters.get(index)?.();
      }
    });
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => {
      seen.bytes += chunk.length;
      if (path.startsWith('/sum')) hash.update(chunk);
    });
    req.on('end', () => {
      if (path.startsWith('/hang')) return;
      if (path.startsWith('/cut')) {
        res.writeHead(200, { 'content-length': '100000' });
        res.write('partial');
        setTimeout(() => req.socket.resetAndDestroy(), 20);
        return;
      }
      if (path.startsWith('/drip')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(1024, 0x61);
        const timer = setInterval(() => res.write(chunk), 10);
        res.write(chunk);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (path.startsWith('/slow')) {
        const timer = setTimeout(() => res.end('slow'), 300);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      const body = path.startsWith('/sum') ? `${seen.bytes} ${hash.digest('hex')}` : `ok ${path}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('connection', (socket: Socket) => connectionIds.set(socket, connections++));
  const l = await listen(server);
  return {
    ...l,
    requests,
    connections: () => connections,
    arrived: (n) =>
      requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    abandoned: (i) =>
      abandonedSet.has(i) ? Promise.resolve() : new Promise<void>((resolve) => abandonWaiters.set(i, resolve)),
  };
}

// ------------------------------------------------------------------ gateways

export const SERVICE = { id: '0b6c6ab6-43b5-4c7d-9a53-6f6a8ba7f9c1', name: 'orders' };
export const ROUTE = { id: '5f2f4c52-7e0e-4a8f-8c1c-0a3c2bf1d7a2', name: 'orders-route' };

export interface Gateway extends Listening {
  /** The agent for upstream connections (keep-alive). */
  readonly agent: http.Agent;
}

export interface HpmOptions {
  /** http-proxy's `proxyTimeout` (ms): the upstream answer must come within it. */
  proxyTimeout?: number;
}

/**
 * Express + http-proxy-middleware: `zipkinMiddleware` first, `/api` proxied through
 * `zipkinRoute` and the HPM plugin to `upstreamPort` with a keep-alive agent; the rest is
 * Express's 404.
 */
export async function hpmGateway(
  plugin: ZipkinPlugin,
  upstreamPort: number,
  options: HpmOptions = {},
): Promise<Gateway> {
  const agent = new http.Agent({ keepAlive: true });
  const app = express();
  app.use(zipkinMiddleware(plugin));
  app.use(
    '/api',
    zipkinRoute(plugin, { route: ROUTE, service: SERVICE }),
    createProxyMiddleware({
      target: `http://127.0.0.1:${upstreamPort}`,
      agent,
      proxyTimeout: options.proxyTimeout,
      plugins: [zipkinProxyPlugin(plugin)],
    }),
  );
  const l = await listen(http.createServer(app));
  return {
    ...l,
    agent,
    close: async () => {
      await l.close();
      agent.destroy();
    },
  };
}

export interface ReferenceOptions {
  /** Upstream targets (`host:port`), tried in this order by the round-robin. */
  targets: string[];
  retries?: number;
  read_timeout?: number;
}

/**
 * The reference gateway's HTTP proxy for one service (route `/api`, `strip_path`) over an
 * upstream with `targets`, traced by `plugin` as a global zipkin plugin.
 */
export async function referenceGateway(
  plugin: ZipkinPlugin,
  logger: Logger,
  options: ReferenceOptions,
): Promise<Gateway> {
  const config = resolveDeclarativeConfig({
    _format_version: '3.0',
    upstreams: [{ name: 'pool.test', targets: options.targets.map((target) => ({ target })) }],
    services: [
      {
        id: SERVICE.id,
        name: SERVICE.name,
        host: 'pool.test',
        port: 80,
        protocol: 'http',
        retries: options.retries ?? 0,
        read_timeout: options.read_timeout ?? 60_000,
        routes: [{ id: ROUTE.id, name: ROUTE.name, paths: ['/api'] }],
      },
    ],
    plugins: [{ id: plugin.id, name: 'zipkin', config: {} }],
  });
  const proxy = new GatewayHttpProxy({
    router: new GatewayRouter(config),
    balancers: createBalancers(config),
    plugins: new Map([[plugin.id, plugin]]),
    logger,
  });
  const l = await listen(proxy.server);
  return {
    ...l,
    agent: proxy.httpAgent,
    close: async () => {
      await l.close();
      proxy.destroyAgents();
    },
  };
}

export interface StreamGateway {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The reference gateway's stream proxy: every TCP connection to 127.0.0.1 goes to an
 * upstream with `targets`, traced by `plugin` as a global zipkin plugin for `tcp`.
 */
export async function streamGateway(
  plugin: ZipkinPlugin,
  logger: Logger,
  targets: string[],
  retries = 0,
): Promise<StreamGateway> {
  const config = resolveDeclarativeConfig({
    _format_version: '3.0',
    upstreams: [{ name: 'tcp.pool.test', targets: targets.map((target) => ({ target })) }],
    services: [
      {
        id: SERVICE.id,
        name: SERVICE.name,
        host: 'tcp.pool.test',
        port: 80,
        protocol: 'tcp',
        retries,
        routes: [{ id: ROUTE.id, name: ROUTE.name, protocols: ['tcp'], destinations: [{ ip: '127.0.0.1' }] }],
      },
    ],
    plugins: [{ id: plugin.id, name: 'zipkin', protocols: ['tcp'], config: {} }],
  });
  const proxy = new GatewayStreamProxy({
    router: new GatewayRouter(config),
    balancers: createBalancers(config),
    plugins: new Map([[plugin.id, plugin]]),
    logger,
  });
  const port = await listenTcp(proxy.server);
  return {
    port,
    close: async () => {
      proxy.destroySessions();
      await proxy.stopAccepting();
    },
  };
}

function listenTcp(server: TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export interface TcpUpstream {
  readonly port: number;
  /** Connections accepted. */
  readonly sockets: Socket[];
  close(): Promise<void>;
}

/** A TCP upstream echoing what it receives. */
export async function startTcpEcho(): Promise<TcpUpstream> {
  const sockets: Socket[] = [];
  const server = createTcpServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const port = await listenTcp(server);
  return {
    port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
