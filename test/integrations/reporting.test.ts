/**
 * The plugin's default reporting (Kong's queue feeding the Zipkin exporter), end to end:
 * an Express + http-proxy-middleware gateway, a real upstream and a real receiver on
 * 127.0.0.1. Whatever the collector does, the proxied response keeps its status and body.
 */
import { createZipkinPlugin, type ZipkinPlugin } from '../../src/plugin';
import type { ZipkinConfigInput } from '../../src/config/types';
import { closedPort, startReceiver, type Receiver } from '../export/helpers';
import { decodeProto3, listOfSpansValidator } from '../export/wire';
import {
  captureLogger,
  type CapturedLogs,
  type Listening,
  send,
  startGateway,
  startUpstream,
  upstreamHeaders,
  waitFor,
} from './helpers';

const PLUGIN_ID = '9d2a6f7c-1b3e-4c5d-8e9f-0a1b2c3d4e5f';
const PREFIX = `[zipkin plugin ${PLUGIN_ID}] queue ${PLUGIN_ID}: `;

interface Setup {
  plugin: ZipkinPlugin;
  logs: CapturedLogs;
  upstream: Listening;
  gateway: Listening;
}

const open: Array<{ close(): Promise<void> }> = [];
const plugins: ZipkinPlugin[] = [];

async function setup(
  config: ZipkinConfigInput,
  options: { encoding?: 'json' | 'proto3'; gzip?: boolean } = {},
): Promise<Setup> {
  const logs = captureLogger();
  const plugin = createZipkinPlugin(config, { logger: logs, pluginId: PLUGIN_ID, ...options });
  plugins.push(plugin);
  const upstream = await startUpstream();
  const gateway = await startGateway(plugin, upstream.port);
  open.push(upstream, gateway);
  return { plugin, logs, upstream, gateway };
}

async function receiver(statuses: number[]): Promise<Receiver> {
  const r = await startReceiver(statuses);
  open.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(plugins.splice(0).map((p) => p.shutdown()));
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function spansOf(r: Receiver): Array<Record<string, unknown>> {
  return r.requests.flatMap((req) => JSON.parse(req.body.toString('utf8')) as Array<Record<string, unknown>>);
}

test('with only http_endpoint, each span is POSTed alone (Kong defaults) in Kong order: balancer, proxy, request', async () => {
  const r = await receiver([202]);
  const { plugin, gateway, upstream, logs } = await setup({ http_endpoint: r.url, sample_ratio: 1 });
  const reply = await send(gateway.port, '/api/orders', {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  });
  expect(reply.status).toBe(200);
  await r.waitFor(3);

  const validate = listOfSpansValidator();
  for (const req of r.requests) {
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/v2/spans');
    expect(req.headers['content-type']).toBe('application/json');
    const list = JSON.parse(req.body.toString('utf8')) as unknown[];
    expect(list).toHaveLength(1);
    expect(validate(list)).toBe(true);
  }
  const [balancer, proxy, request] = spansOf(r);
  expect([balancer.name, proxy.name, request.name]).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
  expect([balancer.kind, proxy.kind, request.kind]).toEqual(['CLIENT', 'CLIENT', 'SERVER']);
  expect(request.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  expect(request.parentId).toBe('b7ad6b7169203331');
  expect(proxy.parentId).toBe(request.id);
  expect(balancer.parentId).toBe(request.id);
  expect(request.localEndpoint).toEqual({ serviceName: 'kong' });
  expect(proxy.remoteEndpoint).toEqual({ serviceName: 'orders', ipv4: '127.0.0.1', port: upstream.port });
  // The upstream got the proxy span as its parent.
  expect(upstreamHeaders(reply).traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${String(proxy.id)}-01`);
  // One kept-alive connection for the three POSTs.
  expect(new Set(r.requests.map((q) => q.remotePort)).size).toBe(1);
  await waitFor(() => plugin.health()?.sent === 3);
  expect(plugin.health()).toMatchObject({ queued: 3, sent: 3, retried: 0, batches: 3, size: { entries: 0, bytes: 0 } });
  expect(logs.lines.filter((l) => !l.startsWith('debug'))).toEqual([]);
});

test('a collector answering 500 is retried until it accepts; the proxied response is unchanged', async () => {
  const r = await receiver([500, 202]);
  const { plugin, gateway, logs } = await setup({
    http_endpoint: r.url,
    sample_ratio: 1,
    queue: { max_batch_size: 10, max_coalescing_delay: 0.1 },
  });
  const reply = await send(gateway.port, '/api/orders');
  expect(reply.status).toBe(200);
  expect(JSON.parse(reply.body).method).toBe('GET');
  await r.waitFor(2);
  expect(r.requests.map((q) => (JSON.parse(q.body.toString('utf8')) as unknown[]).length)).toEqual([3, 3]);
  expect(logs.lines).toContain(
    `warn ${PREFIX}handler could not process entries: zipkin server responded unexpectedly: 500 Internal Server Error`,
  );
  await waitFor(() => plugin.health()?.sent === 3);
  expect(plugin.health()).toMatchObject({ queued: 3, sent: 3, retried: 1, batches: 1 });
});

test("a refused connection is logged with Kong's text, the batch is given up after max_retry_time and counted", async () => {
  const port = await closedPort();
  const { plugin, gateway, logs } = await setup({
    http_endpoint: `http://127.0.0.1:${port}/api/v2/spans`,
    sample_ratio: 1,
    queue: { max_batch_size: 10, max_coalescing_delay: 0.05, max_retry_time: 0.05, initial_retry_delay: 0.01 },
  });
  const reply = await send(gateway.port, '/api/orders');
  expect(reply.status).toBe(200);
  await waitFor(() => (plugin.health()?.dropped.retry_exhausted ?? 0) === 3);
  expect(logs.lines).toContain(
    `warn ${PREFIX}handler could not process entries: zipkin request failed: connection refused`,
  );
  expect(logs.lines).toContain(
    `error ${PREFIX}could not send entries due to max_retry_time exceeded. 3 queue entries were lost`,
  );
  const h = plugin.health();
  expect((h?.sent ?? 0) + (h?.dropped.retry_exhausted ?? 0)).toBe(h?.queued);
});

test('a collector that never answers times out (read_timeout) and traffic flows meanwhile', async () => {
  const r = await receiver([0]);
  const { plugin, gateway, logs } = await setup({
    http_endpoint: r.url,
    sample_ratio: 1,
    read_timeout: 50,
    queue: { max_batch_size: 10, max_coalescing_delay: 0.05, max_retry_time: 0.1 },
  });
  for (let i = 0; i < 3; i++) expect((await send(gateway.port, '/api/orders')).status).toBe(200);
  await waitFor(() =>
    logs.lines.includes(`warn ${PREFIX}handler could not process entries: zipkin request failed: timeout`),
  );
  await waitFor(() => (plugin.health()?.dropped.retry_exhausted ?? 0) + (plugin.health()?.sent ?? 0) === 9, 5000);
});

test('a collector answering 200 (Pitchfork) counts as success', async () => {
  const r = await receiver([200]);
  const { plugin, gateway, logs } = await setup({ http_endpoint: r.url, sample_ratio: 1 });
  expect((await send(gateway.port, '/api/orders')).status).toBe(200);
  await waitFor(() => plugin.health()?.sent === 3);
  expect(logs.lines.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
});

test('proto3 and gzip options of the default reporter', async () => {
  const r = await receiver([202]);
  const { gateway } = await setup(
    { http_endpoint: r.url, sample_ratio: 1, queue: { max_batch_size: 3, max_coalescing_delay: 1 } },
    { encoding: 'proto3', gzip: true },
  );
  expect((await send(gateway.port, '/api/orders')).status).toBe(200);
  await r.waitFor(1);
  const [req] = r.requests;
  expect(req.headers['content-type']).toBe('application/x-protobuf');
  expect(req.headers['content-encoding']).toBe('gzip');
  const spans = decodeProto3(req.body);
  expect(spans.map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
});

test('unsampled requests report nothing, and http_endpoint null sends nothing at all', async () => {
  const r = await receiver([202]);
  const quiet = await setup({ http_endpoint: r.url, sample_ratio: 0 });
  expect((await send(quiet.gateway.port, '/api/orders')).status).toBe(200);
  const silent = await setup({ http_endpoint: null, sample_ratio: 1 });
  expect((await send(silent.gateway.port, '/api/orders')).status).toBe(200);
  await waitFor(() => silent.plugin.health()?.sent === 3);
  await quiet.plugin.forceFlush();
  expect(quiet.plugin.health()?.queued).toBe(0);
  expect(r.requests).toEqual([]);
});
