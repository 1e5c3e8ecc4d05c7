import { type AddressInfo } from 'node:net';
import * as http from 'node:http';
import { type HrTime } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ZipkinConfigInput } from '../../src/config/types';
import { createZipkinPlugin, type ZipkinPlugin, type ZipkinPluginOptions } from '../../src/plugin';
import { type RecordingLogger, recordingLogger } from '../support/recording-logger';

export const NODE_ID = '11111111-2222-3333-4444-555555555555';

/** Kong's log lines as `<level> <message>` (the shared recording logger). */
export type CapturedLogs = RecordingLogger;
export const captureLogger = recordingLogger;

export interface TestPlugin {
  plugin: ZipkinPlugin;
  exporter: InMemorySpanExporter;
  logs: CapturedLogs;
}

/** A plugin whose spans land in an in-memory exporter. */
export function testPlugin(config: ZipkinConfigInput, options: ZipkinPluginOptions = {}): TestPlugin {
  const exporter = new InMemorySpanExporter();
  const logs = captureLogger();
  const plugin = createZipkinPlugin(config, {
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    logger: logs,
    nodeId: NODE_ID,
    ...options,
  });
  return { plugin, exporter, logs };
}

export interface Listening {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

export function listen(server: http.Server): Promise<Listening> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        server,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** An upstream echoing the request it received as JSON: method, url, headers. */
export function startUpstream(extraHeaders: Record<string, string> = {}): Promise<Listening> {
  return listen(
    http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const delay = Number(req.headers['x-test-delay'] ?? 0);
        const reply = () => {
          const body = JSON.stringify({
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: Buffer.concat(chunks).toString(),
          });
          res.writeHead(Number(req.headers['x-test-status'] ?? 200), {
            'content-type': 'application/json',
            'x-upstream': 'yes',
            ...extraHeaders,
          });
          res.end(body);
        };
        if (delay > 0) setTimeout(reply, delay);
        else reply();
      });
    }),
  );
}

export interface Reply {
  /** the client's local port (the request span's remote endpoint) */
  clientPort: number;
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export function send(
  port: number,
  path = '/',
  headers: http.OutgoingHttpHeaders = {},
  method = 'GET',
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let clientPort = 0;
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          clientPort,
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('socket', (s) => s.on('connect', () => (clientPort = s.localPort ?? 0)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Upstream echo body: the headers the upstream received. */
export function upstreamHeaders(reply: Reply): Record<string, string> {
  return (JSON.parse(reply.body) as { headers: Record<string, string> }).headers;
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function waitForSpans(
  exporter: InMemorySpanExporter,
  count: number,
  timeoutMs = 3000,
): Promise<ReadableSpan[]> {
  await waitFor(() => exporter.getFinishedSpans().length >= count, timeoutMs);
  // Give a stray extra span the chance to show up, so counts are exact.
  await new Promise((r) => setTimeout(r, 20));
  return exporter.getFinishedSpans();
}

export function micros(t: HrTime): number {
  return t[0] * 1e6 + Math.floor(t[1] / 1000);
}

export interface KongSpans {
  request: ReadableSpan;
  proxy: ReadableSpan;
  balancers: ReadableSpan[];
}

/** Split one request's spans by Kong's naming. */
export function kongSpans(spans: readonly ReadableSpan[]): KongSpans {
  const request = spans.find((s) => !s.name.includes('(')) as ReadableSpan;
  const proxy = spans.find((s) => s.name.endsWith('(proxy)')) as ReadableSpan;
  const balancers = spans.filter((s) => s.name.includes('(balancer try'));
  if (request === undefined || proxy === undefined)
    throw new Error(`missing spans: ${spans.map((s) => s.name).join(', ')}`);
  return { request, proxy, balancers };
}

/** Annotation code → µs timestamp; throws on a repeated code. */
export function annotations(span: ReadableSpan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of span.events) {
    if (e.name in out) throw new Error(`annotation ${e.name} twice`);
    out[e.name] = micros(e.time);
  }
  return out;
}

export function eventNames(span: ReadableSpan): string[] {
  return span.events.map((e) => e.name);
}

/** The attributes as plain strings (as the Zipkin encoder would report them). */
export function tags(span: ReadableSpan): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(span.attributes)) out[k] = String(v);
  return out;
}

import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { IncomingMessage } from 'node:http';
import { zipkinMiddleware, zipkinProxyPlugin, zipkinRoute } from '../../src/integrations';
import type { RouteIdentity } from '../../src/trace/request-inputs';

export const SERVICE = { id: '0b6c6ab6-43b5-4c7d-9a53-6f6a8ba7f9c1', name: 'orders' };
export const ROUTE = { id: '5f2f4c52-7e0e-4a8f-8c1c-0a3c2bf1d7a2', name: 'orders-route' };

export interface GatewayOptions {
  identity?: RouteIdentity | null;
  /** runs after the global middleware, before the route (e.g. to set a consumer) */
  before?: (req: IncomingMessage, plugin: ZipkinPlugin) => void;
  targetPort?: number;
  /** called when the downstream response finished (e.g. to read `plugin.traceIds(req)`) */
  onFinish?: (req: IncomingMessage) => void;
}

/** Express + http-proxy-middleware gateway: `/api/*` proxied to the upstream, the rest 404. */
export function startGateway(
  plugin: ZipkinPlugin,
  upstreamPort: number,
  options: GatewayOptions = {},
): Promise<Listening> {
  const app = express();
  app.use(zipkinMiddleware(plugin));
  if (options.onFinish !== undefined) {
    const onFinish = options.onFinish;
    app.use((req, res, next) => {
      res.on('finish', () => onFinish(req));
      next();
    });
  }
  if (options.before !== undefined) {
    const before = options.before;
    app.use((req, _res, next) => {
      before(req, plugin);
      next();
    });
  }
  app.use(
    '/api',
    zipkinRoute(plugin, options.identity === undefined ? { route: ROUTE, service: SERVICE } : options.identity),
    createProxyMiddleware({
      target: `http://127.0.0.1:${options.targetPort ?? upstreamPort}`,
      plugins: [zipkinProxyPlugin(plugin)],
    }),
  );
  return listen(http.createServer(app));
}
