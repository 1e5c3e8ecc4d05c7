import * as http from 'node:http';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { LogTraceIds } from '../../src/propagation/engine';
import {
  annotations,
  eventNames,
  kongSpans,
  type Listening,
  micros,
  NODE_ID,
  ROUTE,
  send,
  SERVICE,
  startGateway,
  startUpstream,
  tags,
  testPlugin,
  upstreamHeaders,
  waitFor,
  waitForSpans,
} from './helpers';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

let upstream: Listening;
const open: Listening[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
});

afterEach(async () => {
  while (open.length > 0) await (open.pop() as Listening).close();
});

afterAll(async () => {
  await upstream.close();
});

async function gateway(...args: Parameters<typeof startGateway>): Promise<Listening> {
  const gw = await startGateway(...args);
  open.push(gw);
  return gw;
}

function isIntegerMicros(span: ReadableSpan): boolean {
  return (
    span.startTime[1] % 1000 === 0 && span.endTime[1] % 1000 === 0 && span.events.every((e) => e.time[1] % 1000 === 0)
  );
}

function duration(span: ReadableSpan): number {
  return micros(span.endTime) - micros(span.startTime);
}

function dec(hex: string): string {
  return BigInt('0x' + hex).toString(10);
}

describe('matched request (Express + http-proxy-middleware)', () => {
  test('three spans with Kong names, kinds, ids, tags, endpoints and annotations; b3 injected', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    let logIds: LogTraceIds | undefined;
    const gw = await gateway(plugin, upstream.port, { onFinish: (req) => (logIds = plugin.traceIds(req)) });
    const startedAt = Date.now() * 1000;

    const reply = await send(gw.port, '/api/hello?x=1');
    const spans = await waitForSpans(exporter, 3);

    // The response is the upstream's, untouched.
    expect(reply.status).toBe(200);
    expect(reply.headers['x-upstream']).toBe('yes');
    const echoed = JSON.parse(reply.body) as { method: string; url: string };
    expect(echoed.method).toBe('GET');
    expect(echoed.url).toBe('/hello?x=1');

    // Report order: balancer tries, proxy, request.
    expect(spans.map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
    const { request, proxy, balancers } = kongSpans(spans);
    const balancer = balancers[0];
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(proxy.kind).toBe(SpanKind.CLIENT);
    expect(balancer.kind).toBe(SpanKind.CLIENT);

    const traceId = request.spanContext().traceId;
    expect(traceId).toMatch(HEX32);
    expect(request.parentSpanContext).toBeUndefined();
    for (const s of [proxy, balancer]) {
      expect(s.spanContext().traceId).toBe(traceId);
      expect(s.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    }
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    expect(ids.size).toBe(3);

    expect(tags(request)).toEqual({
      lc: 'kong',
      'http.method': 'GET',
      'http.host': '127.0.0.1',
      'http.path': '/api/hello',
      'http.protocol': 'HTTP/1.1',
      'http.status_code': '200',
      'kong.node.id': NODE_ID,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(reply.clientPort),
    });
    const serviceAndRoute = {
      'kong.service': SERVICE.id,
      'kong.service_name': SERVICE.name,
      'kong.route': ROUTE.id,
      'kong.route_name': ROUTE.name,
      'peer.service': SERVICE.name,
    };
    expect(tags(proxy)).toEqual({
      'peer.hostname': '127.0.0.1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(upstream.port),
      ...serviceAndRoute,
    });
    expect(tags(balancer)).toEqual({
      'kong.balancer.try': '1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(upstream.port),
      ...serviceAndRoute,
    });

    // Annotations: exactly 2 on the request span, 6 on the proxy span, in Kong's order.
    expect(eventNames(request)).toEqual(['krf', 'krs']);
    expect(eventNames(proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
    expect(eventNames(balancer)).toEqual([]);
    const ra = annotations(request);
    const pa = annotations(proxy);
    expect(ra.krs).toBe(micros(request.startTime));
    expect(ra.krs).toBeLessThanOrEqual(ra.krf);
    expect(pa.kas).toBe(micros(proxy.startTime));
    expect(ra.krf).toBeLessThanOrEqual(pa.kas);
    expect(pa.kas).toBeLessThanOrEqual(pa.kaf);
    expect(pa.khs).toBeLessThanOrEqual(pa.khf);
    expect(pa.kbs).toBeLessThanOrEqual(pa.kbf);
    expect(pa.khs).toBeLessThanOrEqual(pa.kbs);
    expect(pa.khf).toBe(pa.kbs);
    expect(pa.kbf).toBe(micros(request.endTime));
    expect(micros(proxy.endTime)).toBeLessThanOrEqual(pa.kbf);
    // The try starts when the target is chosen (access end) and ends at connect, before the response.
    expect(micros(balancer.startTime)).toBeGreaterThanOrEqual(pa.kaf);
    expect(micros(balancer.endTime)).toBeLessThanOrEqual(pa.khs);

    // Times: integer µs, recent, durations consistent.
    for (const s of spans) {
      expect(isIntegerMicros(s)).toBe(true);
      expect(micros(s.startTime)).toBeGreaterThan(startedAt - 5 * 60e6);
    }
    expect(duration(request)).toBeGreaterThanOrEqual(duration(proxy));
    expect(duration(proxy)).toBeGreaterThanOrEqual(0);

    // Propagation: default config injects b3 (nothing extracted): proxy span id, request span as parent.
    const h = upstreamHeaders(reply);
    expect(h['x-b3-traceid']).toBe(traceId);
    expect(h['x-b3-spanid']).toBe(proxy.spanContext().spanId);
    expect(h['x-b3-parentspanid']).toBe(request.spanContext().spanId);
    expect(h['x-b3-sampled']).toBe('1');
    expect(logIds).toEqual({ b3: traceId });
  });

  test('a POST body goes through unchanged', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/api/items', { 'content-type': 'text/plain' }, 'POST', 'hello body');
    expect(JSON.parse(reply.body)).toMatchObject({ method: 'POST', url: '/items', body: 'hello body' });
    const spans = await waitForSpans(exporter, 3);
    expect(spans.map((s) => s.name)).toEqual(['POST (balancer try 1)', 'POST (proxy)', 'POST']);
  });

  test('http_span_name method_path names every span after the normalized path', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, http_span_name: 'method_path' });
    const gw = await gateway(plugin, upstream.port);
    await send(gw.port, '/api//a/./b/%7Ec?q=1');
    const spans = await waitForSpans(exporter, 3);
    expect(spans.map((s) => s.name)).toEqual([
      'GET /api/a/b/~c (balancer try 1)',
      'GET /api/a/b/~c (proxy)',
      'GET /api/a/b/~c',
    ]);
    expect(tags(kongSpans(spans).request)['http.path']).toBe('/api/a/b/~c');
  });

  test('tracing does not change the response: same status, headers and body as an untraced proxy', async () => {
    const { plugin } = testPlugin({ sample_ratio: 1 });
    const traced = await gateway(plugin, upstream.port);
    const { createProxyMiddleware } = await import('http-proxy-middleware');
    const express = (await import('express')).default;
    const app = express();
    app.use('/api', createProxyMiddleware({ target: `http://127.0.0.1:${upstream.port}` }));
    const { listen } = await import('./helpers');
    const plain = await listen(http.createServer(app));
    open.push(plain);
    for (const path of ['/api/x', '/nope']) {
      const a = await send(traced.port, path, { host: 'gw.test' });
      const b = await send(plain.port, path, { host: 'gw.test' });
      expect(a.status).toBe(b.status);
      const strip = (r: typeof a) => {
        const { date: _d, ...rest } = r.headers;
        return rest;
      };
      expect(strip(a)).toEqual(strip(b));
      // Echoed upstream headers differ only by the injected propagation headers.
      if (a.status === 200) {
        const ha = upstreamHeaders(a);
        const hb = upstreamHeaders(b);
        for (const k of ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled']) delete ha[k];
        expect(ha).toEqual(hb);
      } else {
        expect(a.body).toBe(b.body);
      }
    }
  });
});

describe('unmatched request (no route: Express 404)', () => {
  test('request and proxy spans only, proxy span without tags, 6 annotations, no trace_id log object', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    let logIds: LogTraceIds | undefined = { marker: 'x' };
    const gw = await gateway(plugin, upstream.port, { onFinish: (req) => (logIds = plugin.traceIds(req)) });
    const reply = await send(gw.port, '/nope', {
      'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
    });
    expect(reply.status).toBe(404);
    const spans = await waitForSpans(exporter, 2);
    expect(spans.map((s) => s.name)).toEqual(['GET (proxy)', 'GET']);
    const { request, proxy } = kongSpans(spans);
    // Extraction still happens (header_filter initializes the context): shared b3 span.
    expect(request.spanContext().traceId).toBe('463ac35c9f6413ad48485a3953bb6124');
    expect(request.spanContext().spanId).toBe('a2fb4a1d1a96d312');
    expect(proxy.parentSpanContext?.spanId).toBe('a2fb4a1d1a96d312');
    expect(tags(proxy)).toEqual({});
    expect(tags(request)).toEqual({
      lc: 'kong',
      'http.method': 'GET',
      'http.host': '127.0.0.1',
      'http.path': '/nope',
      'http.protocol': 'HTTP/1.1',
      'http.status_code': '404',
      'kong.node.id': NODE_ID,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(reply.clientPort),
    });
    expect(eventNames(request)).toEqual(['krf', 'krs']);
    expect(eventNames(proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
    const pa = annotations(proxy);
    // No access phase: kas is the proxy span start (header_filter), kaf its finish.
    expect(pa.kas).toBe(micros(proxy.startTime));
    expect(pa.kas).toBe(pa.khs);
    expect(pa.kaf).toBe(micros(proxy.endTime));
    expect(pa.kas).toBeLessThanOrEqual(pa.kaf);
    expect(pa.khs).toBeLessThanOrEqual(pa.khf);
    expect(pa.kbs).toBeLessThanOrEqual(pa.kbf);
    expect(annotations(request).krs).toBeLessThanOrEqual(annotations(request).krf);
    expect(logIds).toBeUndefined();
  });

  test('default_service_name is the remote service of the proxy and request spans', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, default_service_name: 'fallback-svc' });
    const gw = await gateway(plugin, upstream.port);
    await send(gw.port, '/nope');
    const { request, proxy } = kongSpans(await waitForSpans(exporter, 2));
    expect(tags(proxy)).toEqual({ 'peer.service': 'fallback-svc' });
    expect(tags(request)['peer.service']).toBe('fallback-svc');
  });

  test('a matched route whose service has no name falls back to default_service_name', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, default_service_name: 'fallback-svc' });
    const gw = await gateway(plugin, upstream.port, { identity: { service: { id: 'svc-1' }, route: { id: 'r-1' } } });
    await send(gw.port, '/api/x');
    const { proxy, balancers } = kongSpans(await waitForSpans(exporter, 3));
    expect(tags(proxy)).toMatchObject({ 'kong.service': 'svc-1', 'kong.route': 'r-1', 'peer.service': 'fallback-svc' });
    expect(tags(proxy)['kong.service_name']).toBeUndefined();
    expect(tags(proxy)['kong.route_name']).toBeUndefined();
    expect(tags(balancers[0])['peer.service']).toBe('fallback-svc');
  });
});

describe('propagation formats in and out (legacy default: extract any, inject preserve)', () => {
  const T = '463ac35c9f6413ad48485a3953bb6124';
  const T64 = '48485a3953bb6124';
  const S = 'a2fb4a1d1a96d312';
  const P = '0020000000000001';

  interface Case {
    name: string;
    headers: Record<string, string>;
    traceId: string;
    shared: boolean;
    parent: string | undefined;
    expected: (ids: { req: string; proxy: string }) => Record<string, string>;
    log: Record<string, string>;
  }

  const cases: Case[] = [
    {
      name: 'b3 multi',
      headers: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' },
      traceId: T,
      shared: true,
      parent: P,
      expected: ({ req, proxy }) => ({
        'x-b3-traceid': T,
        'x-b3-spanid': proxy,
        'x-b3-parentspanid': req,
        'x-b3-sampled': '1',
      }),
      log: { b3: T },
    },
    {
      name: 'b3 multi, 64-bit trace id',
      headers: { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '1' },
      traceId: '0000000000000000' + T64,
      shared: true,
      parent: undefined,
      expected: ({ req, proxy }) => ({
        'x-b3-traceid': T64,
        'x-b3-spanid': proxy,
        'x-b3-parentspanid': req,
        'x-b3-sampled': '1',
      }),
      log: { b3: T64 },
    },
    {
      name: 'b3 single',
      headers: { b3: `${T}-${S}-1-${P}` },
      traceId: T,
      shared: true,
      parent: P,
      expected: ({ req, proxy }) => ({ b3: `${T}-${proxy}-1-${req}` }),
      log: { b3: T },
    },
    {
      name: 'b3 debug flag',
      headers: { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-flags': '1' },
      traceId: T,
      shared: true,
      parent: undefined,
      expected: ({ req, proxy }) => ({
        'x-b3-traceid': T,
        'x-b3-spanid': proxy,
        'x-b3-parentspanid': req,
        'x-b3-flags': '1',
      }),
      log: { b3: T },
    },
    {
      name: 'w3c',
      headers: { traceparent: `00-${T}-${S}-01` },
      traceId: T,
      shared: false,
      parent: S,
      expected: ({ proxy }) => ({ traceparent: `00-${T}-${proxy}-01` }),
      log: { w3c: T },
    },
    {
      name: 'jaeger (with baggage)',
      headers: { 'uber-trace-id': `${T}:${S}:${P}:01`, 'uberctx-user': 'ana maria' },
      traceId: T,
      shared: true,
      parent: P,
      expected: ({ req, proxy }) => ({ 'uber-trace-id': `${T}:${proxy}:${req}:01`, 'uberctx-user': 'ana%20maria' }),
      log: { jaeger: T },
    },
    {
      name: 'ot (64-bit, with baggage)',
      headers: { 'ot-tracer-traceid': T64, 'ot-tracer-spanid': S, 'ot-tracer-sampled': 'true', 'ot-baggage-k': 'v' },
      traceId: '0000000000000000' + T64,
      shared: false,
      parent: S,
      expected: ({ proxy }) => ({
        'ot-tracer-traceid': T64,
        'ot-tracer-spanid': proxy,
        'ot-tracer-sampled': '1',
        'ot-baggage-k': 'v',
      }),
      log: { ot: T64 },
    },
    {
      name: 'datadog',
      headers: { 'x-datadog-trace-id': dec(T64), 'x-datadog-parent-id': dec(S), 'x-datadog-sampling-priority': '1' },
      traceId: '0000000000000000' + T64,
      shared: false,
      parent: S,
      expected: ({ proxy }) => ({
        'x-datadog-trace-id': dec(T64),
        'x-datadog-parent-id': dec(proxy),
        'x-datadog-sampling-priority': '1',
      }),
      log: { datadog: dec(T64) },
    },
    {
      name: 'aws',
      headers: { 'x-amzn-trace-id': `Root=1-${T.slice(0, 8)}-${T.slice(8)};Parent=${S};Sampled=1` },
      traceId: T,
      shared: false,
      parent: S,
      expected: ({ proxy }) => ({
        'x-amzn-trace-id': `Root=1-${T.slice(0, 8)}-${T.slice(8)};Parent=${proxy};Sampled=1`,
      }),
      log: { aws: T },
    },
    {
      name: 'gcp',
      headers: { 'x-cloud-trace-context': `${T}/${dec(S)};o=1` },
      traceId: T,
      shared: false,
      parent: S,
      expected: ({ proxy }) => ({ 'x-cloud-trace-context': `${T}/${dec(proxy)};o=1` }),
      log: { gcp: T },
    },
    {
      name: 'instana',
      headers: { 'x-instana-t': T, 'x-instana-s': S, 'x-instana-l': '1' },
      traceId: T,
      shared: false,
      parent: S,
      expected: ({ proxy }) => ({ 'x-instana-t': T, 'x-instana-s': proxy, 'x-instana-l': '1' }),
      log: { instana: T },
    },
  ];

  const TRACING_HEADER =
    /^(x-b3-|b3$|traceparent$|tracestate$|uber-trace-id$|uberctx-|ot-tracer-|ot-baggage-|x-datadog-|x-amzn-trace-id$|x-cloud-trace-context$|x-instana-)/;

  test.each(cases)('$name', async (c) => {
    // sample_ratio 0: every case carries a sampled decision, which must win.
    const { plugin, exporter } = testPlugin({ sample_ratio: 0 });
    let logIds: LogTraceIds | undefined;
    const gw = await gateway(plugin, upstream.port, { onFinish: (req) => (logIds = plugin.traceIds(req)) });
    const reply = await send(gw.port, '/api/p', c.headers);
    const { request, proxy } = kongSpans(await waitForSpans(exporter, 3));
    expect(request.spanContext().traceId).toBe(c.traceId);
    if (c.shared) expect(request.spanContext().spanId).toBe(S);
    else expect(request.spanContext().spanId).not.toBe(S);
    expect(request.parentSpanContext?.spanId).toBe(c.parent);
    const received = Object.fromEntries(Object.entries(upstreamHeaders(reply)).filter(([k]) => TRACING_HEADER.test(k)));
    expect(received).toEqual(c.expected({ req: request.spanContext().spanId, proxy: proxy.spanContext().spanId }));
    expect(logIds).toEqual(c.log);
    // Every span of the request is in the same trace.
    for (const s of exporter.getFinishedSpans()) expect(s.spanContext().traceId).toBe(c.traceId);
  });

  test('traceparent plus a tracestate without b3= is read as w3c (docs/design.md difference 1), tracestate forwarded', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/api/p', { traceparent: `00-${T}-${S}-01`, tracestate: 'vendor=1' });
    const { request, proxy } = kongSpans(await waitForSpans(exporter, 3));
    expect(request.spanContext().traceId).toBe(T);
    expect(request.parentSpanContext?.spanId).toBe(S);
    const h = upstreamHeaders(reply);
    expect(h.traceparent).toBe(`00-${T}-${proxy.spanContext().spanId}-01`);
    expect(h.tracestate).toBe('vendor=1');
    expect(h['x-b3-traceid']).toBeUndefined();
  });

  test('every format injected at once, with ids from the spans', async () => {
    const { plugin, exporter } = testPlugin({
      sample_ratio: 1,
      propagation: {
        extract: [],
        inject: ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'],
        default_format: 'b3',
      },
    });
    let logIds: LogTraceIds | undefined;
    const gw = await gateway(plugin, upstream.port, { onFinish: (req) => (logIds = plugin.traceIds(req)) });
    const reply = await send(gw.port, '/api/p');
    const { request, proxy } = kongSpans(await waitForSpans(exporter, 3));
    const t = request.spanContext().traceId;
    const req = request.spanContext().spanId;
    const px = proxy.spanContext().spanId;
    const received = Object.fromEntries(Object.entries(upstreamHeaders(reply)).filter(([k]) => TRACING_HEADER.test(k)));
    expect(received).toEqual({
      // a new trace of ours: sampled, random flag (docs/design.md difference 8)
      traceparent: `00-${t}-${px}-03`,
      'x-b3-traceid': t,
      'x-b3-spanid': px,
      'x-b3-parentspanid': req,
      'x-b3-sampled': '1',
      b3: `${t}-${px}-1-${req}`,
      'uber-trace-id': `${t}:${px}:${req}:01`,
      'ot-tracer-traceid': t.slice(16),
      'ot-tracer-spanid': px,
      'ot-tracer-sampled': '1',
      'x-datadog-trace-id': dec(t.slice(16)),
      'x-datadog-parent-id': dec(px),
      'x-datadog-sampling-priority': '1',
      'x-amzn-trace-id': `Root=1-${t.slice(0, 8)}-${t.slice(8)};Parent=${px};Sampled=1`,
      'x-cloud-trace-context': `${t}/${dec(px)};o=1`,
      'x-instana-t': t,
      'x-instana-s': px,
      'x-instana-l': '1',
    });
    expect(logIds).toEqual({
      w3c: t,
      b3: t,
      jaeger: t,
      ot: t.slice(16),
      datadog: dec(t.slice(16)),
      aws: t,
      gcp: t,
      instana: t,
    });
  });

  test('clear removes headers before injection', async () => {
    const { plugin, exporter } = testPlugin({
      sample_ratio: 1,
      propagation: {
        extract: ['w3c'],
        inject: ['w3c'],
        clear: ['X-Secret-Trace', 'traceparent'],
        default_format: 'w3c',
      },
    });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/api/p', {
      'x-secret-trace': 'abc',
      traceparent: `00-${T}-${S}-01`,
      'x-keep': '1',
    });
    const { proxy } = kongSpans(await waitForSpans(exporter, 3));
    const h = upstreamHeaders(reply);
    expect(h['x-secret-trace']).toBeUndefined();
    expect(h['x-keep']).toBe('1');
    expect(h.traceparent).toBe(`00-${T}-${proxy.spanContext().spanId}-01`);
  });
});

describe('sampling', () => {
  test('unsampled: no spans, every format propagates an explicit not-sampled flag, response header still added', async () => {
    const { plugin, exporter } = testPlugin({
      sample_ratio: 0,
      http_response_header_for_traceid: 'X-Trace-Id',
      propagation: {
        extract: [],
        inject: ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'],
        default_format: 'b3',
      },
    });
    let logIds: LogTraceIds | undefined;
    const gw = await gateway(plugin, upstream.port, { onFinish: (req) => (logIds = plugin.traceIds(req)) });
    const reply = await send(gw.port, '/api/p');
    expect(reply.status).toBe(200);
    await waitFor(() => logIds !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans()).toEqual([]);
    const h = upstreamHeaders(reply);
    // not sampled; a trace id of ours carries the random flag (docs/design.md difference 8)
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-02$/.exec(h.traceparent);
    expect(m).not.toBeNull();
    const [, t, px] = m as RegExpExecArray;
    const req = h['x-b3-parentspanid'];
    expect(req).toMatch(HEX16);
    expect(req).not.toBe(px);
    expect(h['x-b3-traceid']).toBe(t);
    expect(h['x-b3-spanid']).toBe(px);
    expect(h['x-b3-sampled']).toBe('0');
    expect(h.b3).toBe(`${t}-${px}-0-${req}`);
    expect(h['uber-trace-id']).toBe(`${t}:${px}:${req}:00`);
    expect(h['ot-tracer-sampled']).toBe('0');
    expect(h['x-datadog-sampling-priority']).toBe('0');
    expect(h['x-amzn-trace-id']).toBe(`Root=1-${t.slice(0, 8)}-${t.slice(8)};Parent=${px};Sampled=0`);
    expect(h['x-cloud-trace-context']).toBe(`${t}/${dec(px)};o=0`);
    expect(h['x-instana-l']).toBe('0');
    expect(reply.headers['x-trace-id']).toBe(t);
    expect(logIds?.w3c).toBe(t);
  });

  test('an incoming not-sampled decision wins over sample_ratio 1', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const gw = await gateway(plugin, upstream.port);
    const T = '463ac35c9f6413ad48485a3953bb6124';
    const reply = await send(gw.port, '/api/p', { b3: `${T}-a2fb4a1d1a96d312-0` });
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans()).toEqual([]);
    const b3 = upstreamHeaders(reply).b3;
    // b3 single stays single; the proxy span is new, its parent the (shared) incoming span.
    expect(b3).toMatch(new RegExp(`^${T}-[0-9a-f]{16}-0-a2fb4a1d1a96d312$`));
  });

  test('no incoming decision: sample_ratio decides (0 → unsampled b3 multi)', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 0 });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/api/p', {
      'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(upstreamHeaders(reply)['x-b3-sampled']).toBe('0');
  });
});

describe('upstream failures and client aborts', () => {
  async function closedPort(): Promise<number> {
    const { listen } = await import('./helpers');
    const l = await listen(http.createServer());
    await l.close();
    return l.port;
  }

  test('connection refused: the HPM default 504 reaches the client; a failed final try has no error tags', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const port = await closedPort();
    const gw = await gateway(plugin, upstream.port, { targetPort: port });
    const reply = await send(gw.port, '/api/x');
    expect(reply.status).toBe(504);
    expect(reply.body).toBe(`Error occurred while trying to proxy: 127.0.0.1:${gw.port}/x`);
    const spans = await waitForSpans(exporter, 3);
    expect(spans.map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
    const { request, proxy, balancers } = kongSpans(spans);
    expect(tags(request)['http.status_code']).toBe('504');
    const serviceAndRoute = {
      'kong.service': SERVICE.id,
      'kong.service_name': SERVICE.name,
      'kong.route': ROUTE.id,
      'kong.route_name': ROUTE.name,
      'peer.service': SERVICE.name,
    };
    expect(tags(balancers[0])).toEqual({
      'kong.balancer.try': '1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(port),
      ...serviceAndRoute,
    });
    expect(tags(proxy)).toEqual({
      'peer.hostname': '127.0.0.1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(port),
      ...serviceAndRoute,
    });
    const pa = annotations(proxy);
    expect(eventNames(proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
    // The failure is recorded before HPM writes its error response.
    expect(micros(balancers[0].endTime)).toBeLessThanOrEqual(pa.khs);
    expect(micros(balancers[0].startTime)).toBeGreaterThanOrEqual(pa.kaf);
  });

  test('client abort: logged once at close with status 499, no khs/kbs', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const gw = await gateway(plugin, upstream.port);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port: gw.port,
        path: '/api/slow',
        headers: { 'x-test-delay': '300' },
        agent: false,
      });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    const spans = await waitForSpans(exporter, 3);
    await new Promise((r) => setTimeout(r, 400)); // the upstream answer would have come by now
    expect(exporter.getFinishedSpans().length).toBe(3);
    const { request, proxy, balancers } = kongSpans(spans);
    expect(tags(request)['http.status_code']).toBe('499');
    expect(eventNames(proxy)).toEqual(['kas', 'kaf', 'khf', 'kbf']);
    const pa = annotations(proxy);
    expect(pa.kas).toBeLessThanOrEqual(pa.kaf);
    expect(pa.khf).toBe(pa.kbf);
    expect(balancers.length).toBe(1);
    expect(tags(balancers[0])['kong.balancer.try']).toBe('1');
    expect(duration(request)).toBeGreaterThanOrEqual(duration(proxy));
  });
});

describe('phase_duration_flavor tags', () => {
  test('duration tags instead of annotations', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, phase_duration_flavor: 'tags' });
    const gw = await gateway(plugin, upstream.port);
    // A tags-header tag of the same name is overwritten by the measured duration.
    await send(gw.port, '/api/x', { 'zipkin-tags': 'kong.rewrite.duration_ms=not-a-number' });
    const spans = await waitForSpans(exporter, 3);
    for (const s of spans) expect(s.events).toEqual([]);
    const { request, proxy, balancers } = kongSpans(spans);
    const num = (v: unknown) => typeof v === 'number' && v >= 0 && Number.isFinite(v);
    expect(Object.keys(request.attributes).sort()).toEqual(
      [
        'lc',
        'http.method',
        'http.host',
        'http.path',
        'http.protocol',
        'kong.rewrite.duration_ms',
        'http.status_code',
        'kong.node.id',
        'network.peer.address',
        'network.peer.port',
      ].sort(),
    );
    expect(num(request.attributes['kong.rewrite.duration_ms'])).toBe(true);
    for (const k of ['kong.access.duration_ms', 'kong.header_filter.duration_ms', 'kong.body_filter.duration_ms']) {
      expect(num(proxy.attributes[k])).toBe(true);
    }
    expect(Object.keys(proxy.attributes).length).toBe(3 + 8);
    expect(balancers[0].attributes['kong.access.duration_ms']).toBeUndefined();
  });

  test('unmatched request: no access duration, the others known', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, phase_duration_flavor: 'tags' });
    const gw = await gateway(plugin, upstream.port);
    await send(gw.port, '/nope');
    const { proxy } = kongSpans(await waitForSpans(exporter, 2));
    expect(Object.keys(proxy.attributes).sort()).toEqual([
      'kong.body_filter.duration_ms',
      'kong.header_filter.duration_ms',
    ]);
  });
});

describe('tags', () => {
  test('static tags, then tags_header tags (which win), with the warning for bad items', async () => {
    const { plugin, exporter, logs } = testPlugin({
      sample_ratio: 1,
      static_tags: [
        { name: 'static', value: 'ok' },
        { name: 'env', value: 'prod' },
        { name: 'http.host', value: 'static-host' },
      ],
      tags_header: 'X-My-Tags',
    });
    const gw = await gateway(plugin, upstream.port);
    await send(gw.port, '/api/x', { 'x-my-tags': 'foo=bar; env = test ;bad item;http.status_code=999' });
    const { request, proxy } = kongSpans(await waitForSpans(exporter, 3));
    expect(tags(request)).toMatchObject({
      static: 'ok',
      env: 'test',
      foo: 'bar',
      'http.host': 'static-host',
      'http.status_code': '200',
    });
    expect(tags(proxy).static).toBeUndefined();
    expect(logs.lines).toEqual(['warn Could not parse the following Zipkin tags: bad item']);
  });

  test('kong.consumer always, kong.credential only with include_credential', async () => {
    for (const include of [true, false]) {
      const { plugin, exporter } = testPlugin({ sample_ratio: 1, include_credential: include });
      const gw = await gateway(plugin, upstream.port, {
        before: (req, p) => p.setConsumer(req, { id: 'consumer-1' }, { id: 'credential-1' }),
      });
      await send(gw.port, '/api/x');
      const { request } = kongSpans(await waitForSpans(exporter, 3));
      expect(tags(request)['kong.consumer']).toBe('consumer-1');
      expect(tags(request)['kong.credential']).toBe(include ? 'credential-1' : undefined);
    }
  });
});

describe('http_response_header_for_traceid', () => {
  test('appended to the upstream value, 32 hex', async () => {
    const up = await startUpstream({ 'X-Trace-Id': 'from-upstream' });
    open.push(up);
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, http_response_header_for_traceid: 'X-Trace-Id' });
    const gw = await gateway(plugin, up.port);
    const reply = await send(gw.port, '/api/x');
    const { request } = kongSpans(await waitForSpans(exporter, 3));
    const t = request.spanContext().traceId;
    const values = reply.rawHeaders.filter(
      (_, i) => i % 2 === 1 && reply.rawHeaders[i - 1].toLowerCase() === 'x-trace-id',
    );
    expect(values).toEqual(['from-upstream', t]);
  });

  test('an incoming 64-bit trace id comes back padded to 32', async () => {
    const { plugin } = testPlugin({ sample_ratio: 1, http_response_header_for_traceid: 'X-B3-TraceId' });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/api/x', {
      'x-b3-traceid': '48485a3953bb6124',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
    });
    expect(reply.headers['x-b3-traceid']).toBe('000000000000000048485a3953bb6124');
  });

  test('unmatched requests get it too', async () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, http_response_header_for_traceid: 'X-Trace-Id' });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/nope');
    const { request } = kongSpans(await waitForSpans(exporter, 2));
    expect(reply.headers['x-trace-id']).toBe(request.spanContext().traceId);
  });

  test('traceid_byte_count 8: 16 hex in the header, padded for OTel and 16-byte injectors, marked on every span', async () => {
    const { plugin, exporter } = testPlugin({
      sample_ratio: 1,
      traceid_byte_count: 8,
      http_response_header_for_traceid: 'X-Trace-Id',
      propagation: { extract: [], inject: ['b3', 'ot'], default_format: 'b3' },
    });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/api/x');
    const spans = await waitForSpans(exporter, 3);
    const short = reply.headers['x-trace-id'] as string;
    expect(short).toMatch(HEX16);
    for (const s of spans) {
      expect(s.spanContext().traceId).toBe('0000000000000000' + short);
      expect(s.attributes['gateway_zipkin.trace_id_bytes']).toBe(8);
    }
    const h = upstreamHeaders(reply);
    expect(h['x-b3-traceid']).toBe('0000000000000000' + short);
    expect(h['ot-tracer-traceid']).toBe(short);
  });
});

describe('failures inside tracing never reach the request', () => {
  test('a throwing logger: the request is proxied unchanged and the failure logged', async () => {
    const errors: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => {
        throw new Error('logger exploded');
      },
      error: (m: string) => errors.push(m),
    };
    const { plugin } = testPlugin({ sample_ratio: 1 }, { logger });
    const gw = await gateway(plugin, upstream.port);
    const reply = await send(gw.port, '/api/x', { 'zipkin-tags': 'broken' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ method: 'GET', url: '/x' });
    expect(errors).toEqual(['zipkin tracing failed: logger exploded']);
  });
});
