import { main as expressHpm } from '../../examples/express-hpm';
import { main as nodeHttpProxy } from '../../examples/node-http-proxy';
import { main as otelReuse } from '../../examples/otel-reuse';
import { main as tcpProxy } from '../../examples/tcp-proxy';
import type { SpanSummary } from '../../examples/span-summary';

function byName(spans: SpanSummary[], name: string): SpanSummary {
  const s = spans.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no span ${name}: ${spans.map((x) => x.name).join(', ')}`);
  return s;
}

const T = '463ac35c9f6413ad48485a3953bb6124';

test('examples/express-hpm: b3 single in, shared span, response header, trace_id log object', async () => {
  const r = await expressHpm();
  expect(r.status).toBe(200);
  expect(r.traceIdHeader).toBe(T);
  expect(r.traceIds).toEqual({ b3: T });
  expect(r.spans.map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
  const request = byName(r.spans, 'GET');
  const proxy = byName(r.spans, 'GET (proxy)');
  expect(request.id).toBe('a2fb4a1d1a96d312');
  expect(request.parentId).toBeUndefined();
  expect(proxy.parentId).toBe('a2fb4a1d1a96d312');
  expect(r.upstreamHeaders.b3).toBe(`${T}-${proxy.id}-1-a2fb4a1d1a96d312`);
  expect(proxy.tags['kong.service_name']).toBe('orders');
  expect(proxy.annotations).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
});

test('examples/node-http-proxy: a refused first try, retried; the failed try carries the error tags', async () => {
  const r = await nodeHttpProxy();
  expect(r.status).toBe(200);
  expect(r.spans.map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (balancer try 2)', 'GET (proxy)', 'GET']);
  const request = byName(r.spans, 'GET');
  const proxy = byName(r.spans, 'GET (proxy)');
  expect(r.body).toBe(`hello from upstream, b3 span ${proxy.id}\n`);
  const identity = {
    'kong.service': 'svc-greeter',
    'kong.service_name': 'greeter',
    'kong.route': 'route-greeter',
    'kong.route_name': 'greeter-route',
    'peer.service': 'greeter',
  };
  expect(byName(r.spans, 'GET (balancer try 1)').tags).toEqual({
    'kong.balancer.try': '1',
    error: 'true',
    'kong.balancer.state': 'failed',
    'http.status_code': '502',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': String(r.refusedPort),
    ...identity,
  });
  expect(byName(r.spans, 'GET (balancer try 2)').tags).toEqual({
    'kong.balancer.try': '2',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': String(r.upstreamPort),
    ...identity,
  });
  expect(proxy.tags).toEqual({
    'peer.hostname': '127.0.0.1',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': String(r.upstreamPort),
    ...identity,
  });
  for (const s of r.spans) if (s !== request) expect(s.parentId).toBe(request.id);
});

test('examples/tcp-proxy: Kong stream spans', async () => {
  const r = await tcpProxy();
  expect(r.echoed).toBe('ping');
  expect(r.spans.map((s) => s.name)).toEqual(['stream (balancer try 1)', 'stream (proxy)', 'stream']);
  const request = byName(r.spans, 'stream');
  const proxy = byName(r.spans, 'stream (proxy)');
  const balancer = byName(r.spans, 'stream (balancer try 1)');
  expect(request.kind).toBe('SERVER');
  expect(proxy.kind).toBe('CLIENT');
  expect(balancer.kind).toBe('CLIENT');
  expect(request.parentId).toBeUndefined();
  expect(proxy.parentId).toBe(request.id);
  expect(balancer.parentId).toBe(request.id);
  expect(request.tags).toEqual({
    lc: 'kong',
    'kong.node.id': request.tags['kong.node.id'],
    'network.peer.address': '127.0.0.1',
    'network.peer.port': String(r.clientPort),
  });
  expect(request.tags['kong.node.id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const identity = {
    'kong.service': 'svc-echo',
    'kong.service_name': 'echo',
    'kong.route': 'route-echo',
    'kong.route_name': 'echo-route',
    'peer.service': 'echo',
  };
  expect(proxy.tags).toEqual({
    'peer.hostname': '127.0.0.1',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': String(r.upstreamPort),
    ...identity,
  });
  expect(balancer.tags).toEqual({
    'kong.balancer.try': '1',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': String(r.upstreamPort),
    ...identity,
  });
  expect(request.annotations).toEqual([]);
  expect(proxy.annotations).toEqual(['kps', 'kpf']);
});

test('examples/otel-reuse: the plugin’s spans land in the service’s provider', async () => {
  const r = await otelReuse({ console: false });
  expect(r.status).toBe(200);
  expect(r.spans.map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
  const request = byName(r.spans, 'GET');
  expect(request.traceId).toBe(T);
  expect(request.parentId).toBe('a2fb4a1d1a96d312');
  expect(request.id).not.toBe('a2fb4a1d1a96d312');
});
