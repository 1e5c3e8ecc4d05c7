/**
 * The `gateway-zipkin` command line (dist/gateway/cli.js) with a decK file, a real upstream,
 * and its zipkin plugin reporting JSON v2 over HTTP through the span relay to the real
 * Zipkin server and Jaeger v2 at once. Each span sent is read back from both and compared
 * field by field; ids, names, kinds and endpoints are also checked against the request.
 */
import {
  type CliProcess,
  type EchoServer,
  freePort,
  request,
  startCliGateway,
  startEcho,
  tempDir,
  type TempDir,
} from '../gateway/cli-harness';
import { decodeWithZipkin2 } from '../support/backends/codec';
import { byId, zipkinForm } from '../support/backends/compare';
import { startJaeger } from '../support/backends/jaeger';
import { sentSpans, startSpanRelay } from '../support/backends/span-relay';
import { startZipkin } from '../support/backends/zipkin';
import { type Backends, checkTrace, named } from './http-trace-check';

const SVC = { main: '7c1d0e55-0000-4000-8000-000000000001', flaky: '7c1d0e55-0000-4000-8000-000000000002' };
const ROUTE = {
  main: '7c1d0e55-0000-4000-8000-000000000011',
  short: '7c1d0e55-0000-4000-8000-000000000012',
  flaky: '7c1d0e55-0000-4000-8000-000000000013',
};

let backends: Backends;
let echo: EchoServer;
let dir: TempDir;
let gateway: CliProcess;
let proxyPort: number;
let down: number;

beforeAll(async () => {
  const [zipkin, jaeger] = await Promise.all([startZipkin(), startJaeger()]);
  const relay = await startSpanRelay([zipkin.spansUrl, jaeger.zipkinUrl]);
  backends = { zipkin, jaeger, relay };
  echo = await startEcho();
  down = await freePort();
  dir = tempDir();
  const zipkinPlugin = (extra: Record<string, unknown>): Record<string, unknown> => ({
    name: 'zipkin',
    config: {
      http_endpoint: relay.url,
      local_service_name: 'gateway-cli',
      sample_ratio: 1,
      static_tags: [{ name: 'env', value: 'backends' }],
      queue: { max_coalescing_delay: 0.1 },
      ...extra,
    },
  });
  const deck = {
    _format_version: '3.0',
    upstreams: [
      { name: 'flaky.pool', targets: [{ target: `127.0.0.1:${down}` }, { target: `127.0.0.1:${echo.port}` }] },
    ],
    services: [
      {
        id: SVC.main,
        name: 'svc-main',
        url: `http://127.0.0.1:${echo.port}`,
        routes: [
          { id: ROUTE.main, name: 'main', paths: ['/main'] },
          {
            id: ROUTE.short,
            name: 'short',
            paths: ['/short'],
            plugins: [zipkinPlugin({ traceid_byte_count: 8, http_response_header_for_traceid: 'x-trace-id' })],
          },
        ],
      },
      {
        id: SVC.flaky,
        name: 'svc-flaky',
        host: 'flaky.pool',
        retries: 1,
        routes: [{ id: ROUTE.flaky, name: 'flaky', paths: ['/flaky'] }],
      },
    ],
    plugins: [zipkinPlugin({ http_response_header_for_traceid: 'x-trace-id' })],
  };
  ({ cli: gateway, port: proxyPort } = await startCliGateway(dir, deck));
});

afterAll(async () => {
  await gateway?.stop('SIGTERM');
  await echo?.close();
  await backends?.relay.close();
  await Promise.all([backends?.zipkin.stop(), backends?.jaeger.stop()]);
  dir?.remove();
});

describe('CLI gateway → Zipkin and Jaeger over HTTP (JSON v2)', () => {
  test('w3c, 16-byte trace id: request, proxy and balancer spans', async () => {
    const traceId = '5e1f1d2c3b4a59687f6e5d4c3b2a1901';
    const parent = 'a1b2c3d4e5f60718';
    const reply = await request(proxyPort, '/main/orders?id=7', {
      headers: { traceparent: `00-${traceId}-${parent}-01` },
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ method: 'GET', url: '/orders?id=7' });
    expect(reply.headers['x-trace-id']).toBe(traceId);

    const spans = await checkTrace(backends, traceId, 3);
    const root = named(spans, 'GET');
    const proxy = named(spans, 'GET (proxy)');
    const balancer = named(spans, 'GET (balancer try 1)');
    expect([root.traceId, proxy.traceId, balancer.traceId]).toEqual([traceId, traceId, traceId]);
    expect(root).toMatchObject({ kind: 'SERVER', parentId: parent, localEndpoint: { serviceName: 'gateway-cli' } });
    expect(proxy).toMatchObject({
      kind: 'CLIENT',
      parentId: root.id,
      remoteEndpoint: { ipv4: '127.0.0.1', port: echo.port },
    });
    // §2.4: a balancer span is a child of the request span, not of the proxy span.
    expect(balancer).toMatchObject({
      kind: 'CLIENT',
      parentId: root.id,
      remoteEndpoint: { ipv4: '127.0.0.1', port: echo.port },
    });
    expect(root.tags).toMatchObject({
      env: 'backends',
      'http.method': 'GET',
      'http.status_code': '200',
      'http.path': '/main/orders',
    });
    expect(echo.requests.at(-1)?.headers.traceparent).toBe(`00-${traceId}-${proxy.id}-01`);
  });

  test('b3, 8-byte trace id: the shared-span model (the request span is the client span)', async () => {
    const traceId = '7f3a2b1c0d9e8f70';
    const spanId = '1b2c3d4e5f607182';
    const parentSpanId = '0a0b0c0d0e0f1011';
    const reply = await request(proxyPort, '/main/b3', {
      headers: {
        'x-b3-traceid': traceId,
        'x-b3-spanid': spanId,
        'x-b3-parentspanid': parentSpanId,
        'x-b3-sampled': '1',
      },
    });
    expect(reply.status).toBe(200);

    const spans = await checkTrace(backends, traceId, 3);
    const root = named(spans, 'GET');
    // §2.11: a 64-bit incoming id goes out zero-padded to 32 characters; Zipkin shortens it.
    expect(root).toMatchObject({
      traceId: `${'0'.repeat(16)}${traceId}`,
      id: spanId,
      parentId: parentSpanId,
      kind: 'SERVER',
    });
    // Kong never writes `shared` (§2.8); Zipkin stores the flag as it came: absent.
    const stored = await backends.zipkin.getTrace(traceId);
    expect(stored.find((s) => s.id === spanId)?.shared).toBeUndefined();
  });

  test('a new trace with an 8-byte trace id (traceid_byte_count: 8)', async () => {
    const reply = await request(proxyPort, '/short/new');
    expect(reply.status).toBe(200);
    const traceId = String(reply.headers['x-trace-id']);
    expect(traceId).toMatch(/^[0-9a-f]{16}$/);
    const spans = await checkTrace(backends, traceId, 3);
    expect(named(spans, 'GET').parentId).toBeUndefined();
  });

  test('a failed balancer try and its retry: error tags and four spans', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const reply = await request(proxyPort, '/flaky/x', {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    expect(reply.status).toBe(200);
    const spans = await checkTrace(backends, traceId, 4);
    expect(named(spans, 'GET (balancer try 1)')).toMatchObject({
      remoteEndpoint: { ipv4: '127.0.0.1', port: down },
      tags: { error: 'true', 'kong.balancer.state': 'failed', 'http.status_code': '502' },
    });
    expect(named(spans, 'GET (balancer try 2)').remoteEndpoint).toEqual({
      serviceName: 'svc-flaky', // §2.7: the Kong service's name
      ipv4: '127.0.0.1',
      port: echo.port,
    });
  });
});

test('every body the CLI gateway sent is decoded by the zipkin2 Java codec, equal to what was sent', async () => {
  const bodies = backends.relay.bodies;
  expect(bodies.length).toBeGreaterThan(0);
  const results = await decodeWithZipkin2(bodies.map((b) => b.raw));
  results.forEach((result, i) => {
    const body = bodies[i];
    expect({ contentType: body.contentType, contentEncoding: body.contentEncoding, statuses: body.statuses }).toEqual({
      contentType: 'application/json',
      contentEncoding: undefined,
      statuses: [202, 202],
    });
    expect(result).toEqual({
      ok: true,
      encoding: 'JSON_V2',
      gzip: false,
      spans: byId(sentSpans(body).map(zipkinForm)),
    });
    if (result.ok) expect(byId(result.spans)).toEqual(byId(sentSpans(body).map(zipkinForm)));
  });
});
