/**
 * The library (createZipkinPlugin with Kong's queue and the Zipkin exporter) in an
 * Express + http-proxy-middleware gateway with a real upstream, reporting over HTTP in each
 * encoding the exporter has (JSON v2, proto3, each plain and gzipped) through the span relay
 * to the real Zipkin server and Jaeger v2 at once. Afterwards every body the relay saw is
 * decoded by the zipkin2 Java codec: without error, and equal to what was sent.
 */
import { createZipkinPlugin, type ZipkinPlugin } from '../../src/plugin';
import { decodeWithZipkin2 } from '../support/backends/codec';
import { byId, zipkinForm } from '../support/backends/compare';
import { startJaeger } from '../support/backends/jaeger';
import { sentSpans, startSpanRelay } from '../support/backends/span-relay';
import { startZipkin } from '../support/backends/zipkin';
import { recordingLogger } from '../support/recording-logger';
import {
  type Listening,
  ROUTE,
  SERVICE,
  send,
  startGateway,
  startUpstream,
  upstreamHeaders,
} from '../integrations/helpers';
import { type Backends, checkTrace, named } from './http-trace-check';

const ENCODINGS = [
  { encoding: 'json', gzip: false },
  { encoding: 'json', gzip: true },
  { encoding: 'proto3', gzip: false },
  { encoding: 'proto3', gzip: true },
] as const;

let backends: Backends;
let upstream: Listening;

beforeAll(async () => {
  const [zipkin, jaeger] = await Promise.all([startZipkin(), startJaeger()]);
  const relay = await startSpanRelay([zipkin.spansUrl, jaeger.zipkinUrl]);
  backends = { zipkin, jaeger, relay };
  upstream = await startUpstream();
});

afterAll(async () => {
  await upstream?.close();
  await backends?.relay.close();
  await Promise.all([backends?.zipkin.stop(), backends?.jaeger.stop()]);
});

describe.each(ENCODINGS)('library → Zipkin and Jaeger over HTTP: $encoding, gzip $gzip', ({ encoding, gzip }) => {
  let plugin: ZipkinPlugin;
  let gateway: Listening;
  const logs = recordingLogger();
  const serviceName = `gateway-lib-${encoding}${gzip ? '-gzip' : ''}`;
  // Distinct ids per encoding, so each run's traces are its own.
  const n = ENCODINGS.findIndex((e) => e.encoding === encoding && e.gzip === gzip) + 1;

  beforeAll(async () => {
    plugin = createZipkinPlugin(
      {
        http_endpoint: backends.relay.url,
        local_service_name: serviceName,
        sample_ratio: 1,
        static_tags: [{ name: 'encoding', value: encoding }],
        queue: { max_coalescing_delay: 0.1 },
      },
      { encoding, gzip, logger: logs },
    );
    gateway = await startGateway(plugin, upstream.port);
  });

  afterAll(async () => {
    await plugin.shutdown();
    await gateway.close();
  });

  test('w3c with a 16-byte trace id', async () => {
    const traceId = `4bf92f3577b34da6a3ce929d0e0e47${n.toString(16).padStart(2, '0')}`;
    const parent = `00f067aa0ba902${n.toString(16).padStart(2, '0')}`;
    const reply = await send(gateway.port, '/api/items', { traceparent: `00-${traceId}-${parent}-01` });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-upstream']).toBe('yes');

    const spans = await checkTrace(backends, traceId, 3);
    const root = named(spans, 'GET');
    const proxy = named(spans, 'GET (proxy)');
    expect(root).toMatchObject({ traceId, parentId: parent, kind: 'SERVER', localEndpoint: { serviceName } });
    expect(root.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: reply.clientPort });
    expect(root.tags).toMatchObject({ encoding, 'http.status_code': '200' });
    // §2.5: the route and service tags are the proxy span's.
    expect(proxy).toMatchObject({
      kind: 'CLIENT',
      parentId: root.id,
      remoteEndpoint: { serviceName: SERVICE.name, ipv4: '127.0.0.1', port: upstream.port },
      tags: { 'kong.route': ROUTE.id, 'kong.service': SERVICE.id },
    });
    expect(upstreamHeaders(reply).traceparent).toBe(`00-${traceId}-${proxy.id}-01`);
  });

  test('b3 with an 8-byte trace id: the request span keeps the client span id', async () => {
    const traceId = `6e0c63257de34c${n.toString(16).padStart(2, '0')}`;
    const spanId = `2a3b4c5d6e7f80${n.toString(16).padStart(2, '0')}`;
    const reply = await send(gateway.port, '/api/b3', { b3: `${traceId}-${spanId}-1` });
    expect(reply.status).toBe(200);
    const spans = await checkTrace(backends, traceId, 3);
    expect(named(spans, 'GET')).toMatchObject({ id: spanId, kind: 'SERVER' });
    expect(named(spans, 'GET').parentId).toBeUndefined();
  });

  test('the queue sent everything and logged no error', async () => {
    await plugin.forceFlush();
    const health = plugin.health();
    expect(health).toMatchObject({ queued: 6, sent: 6, retried: 0 });
    expect(Object.values(health?.dropped ?? {}).reduce((a, b) => a + b, 0)).toBe(0);
    expect(logs.lines.filter((line) => line.startsWith('error'))).toEqual([]);
  });
});

test('every body sent is decoded by the zipkin2 Java codec, equal to what was sent', async () => {
  const bodies = backends.relay.bodies;
  expect(bodies.length).toBeGreaterThanOrEqual(ENCODINGS.length);
  const results = await decodeWithZipkin2(bodies.map((b) => b.raw));
  results.forEach((result, i) => {
    const body = bodies[i];
    expect({ path: body.path, statuses: body.statuses }).toEqual({ path: '/api/v2/spans', statuses: [202, 202] });
    expect(result).toEqual({
      ok: true,
      encoding: body.contentType === 'application/x-protobuf' ? 'PROTO3' : 'JSON_V2',
      gzip: body.contentEncoding === 'gzip',
      spans: expect.any(Array),
    });
    if (result.ok) expect(byId(result.spans)).toEqual(byId(sentSpans(body).map(zipkinForm)));
  });
  const kinds = new Set(bodies.map((b) => `${b.contentType} ${b.contentEncoding ?? 'identity'}`));
  expect([...kinds].sort()).toEqual([
    'application/json gzip',
    'application/json identity',
    'application/x-protobuf gzip',
    'application/x-protobuf identity',
  ]);
});
