import { annotations, eventNames, kongSpans, micros, NODE_ID, tags, testPlugin } from '../integrations/helpers';

function fakeRequest(headers: Record<string, string> = {}, url = '/a?b=c') {
  return {
    method: 'PUT',
    url,
    httpVersion: '1.0',
    headers: { host: 'Gateway.Example:8000', ...headers },
    socket: { remoteAddress: '10.0.0.7', remotePort: 51234 },
  };
}

describe('RequestTrace phase fallbacks (§2.6)', () => {
  test('log without any other phase: proxy span starts at log, annotations fall back', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const t = plugin.startHttp(fakeRequest());
    t.log(500);
    const { request, proxy, balancers } = kongSpans(exporter.getFinishedSpans());
    expect(balancers).toEqual([]);
    expect(tags(request)).toEqual({
      lc: 'kong',
      'http.method': 'PUT',
      'http.host': 'gateway.example',
      'http.path': '/a',
      'http.protocol': 'HTTP/1',
      'http.status_code': '500',
      'kong.node.id': NODE_ID,
      'network.peer.address': '10.0.0.7',
      'network.peer.port': '51234',
    });
    // Rewrite end unknown: no krf.
    expect(eventNames(request)).toEqual(['krs']);
    expect(eventNames(proxy)).toEqual(['kas', 'kaf', 'khf', 'kbf']);
    const a = annotations(proxy);
    const end = micros(request.endTime);
    expect(a).toEqual({ kas: end, kaf: end, khf: end, kbf: end });
    expect(micros(proxy.startTime)).toBe(end);
    expect(micros(proxy.endTime)).toBe(end);
  });

  test('log runs once', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const t = plugin.startHttp(fakeRequest());
    t.log(200);
    t.log(200);
    t.headerFilter();
    expect(exporter.getFinishedSpans().length).toBe(2);
    expect(t.headerFilterUs).toBe(0);
  });

  test('tags flavor: an unknown duration removes a tags-header tag of that name', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, phase_duration_flavor: 'tags' });
    const t = plugin.startHttp(fakeRequest({ 'zipkin-tags': 'kong.rewrite.duration_ms=7;keep=1' }));
    t.log(200);
    const { request, proxy } = kongSpans(exporter.getFinishedSpans());
    expect(request.attributes['kong.rewrite.duration_ms']).toBeUndefined();
    expect(request.attributes['keep']).toBe('1');
    expect(request.events).toEqual([]);
    expect(tags(proxy)).toEqual({});
  });

  test('tags flavor: durations in ms from the phase times', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, phase_duration_flavor: 'tags' });
    const t = plugin.startHttp(fakeRequest(), 1_800_000_000_000_000);
    t.rewriteEndUs = 1_800_000_000_001_500;
    t.access();
    t.accessStartUs = 1_800_000_000_002_000;
    t.accessEndUs = 1_800_000_000_004_250;
    t.headerFilterUs = 1_800_000_000_010_000;
    t.bodyStartUs = 1_800_000_000_010_001;
    t.bodyEndUs = 1_800_000_000_012_001;
    t.log(200);
    const { request, proxy } = kongSpans(exporter.getFinishedSpans());
    expect(request.attributes['kong.rewrite.duration_ms']).toBe(1.5);
    expect(proxy.attributes['kong.access.duration_ms']).toBe(2.25);
    expect(proxy.attributes['kong.header_filter.duration_ms']).toBe(0.001);
    expect(proxy.attributes['kong.body_filter.duration_ms']).toBe(2);
  });

  test('jaeger parent `0` is no OTel parent: the shared request span becomes a root of the incoming trace', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 0 });
    const t = plugin.startHttp(
      fakeRequest({ 'uber-trace-id': '463ac35c9f6413ad48485a3953bb6124:a2fb4a1d1a96d312:0:01' }),
    );
    t.log(200);
    const { request, proxy } = kongSpans(exporter.getFinishedSpans());
    expect(request.spanContext().traceId).toBe('463ac35c9f6413ad48485a3953bb6124');
    expect(request.spanContext().spanId).toBe('a2fb4a1d1a96d312');
    expect(request.parentSpanContext).toBeUndefined();
    expect(proxy.parentSpanContext?.spanId).toBe('a2fb4a1d1a96d312');
  });

  test('b3 with only a sampling flag: new trace, flag honoured', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 0 });
    const headers: Record<string, string> = {};
    const t = plugin.startHttp(fakeRequest({ 'x-b3-sampled': '1' }));
    t.access(null, headers);
    t.log(200);
    const { request, proxy } = kongSpans(exporter.getFinishedSpans());
    expect(request.parentSpanContext).toBeUndefined();
    expect(headers).toEqual({
      'x-b3-traceid': request.spanContext().traceId,
      'x-b3-spanid': proxy.spanContext().spanId,
      'x-b3-parentspanid': request.spanContext().spanId,
      'x-b3-sampled': '1',
    });
  });

  test('access writes into a ClientRequest-like target and replaces any spelling in a plain object', () => {
    const { plugin } = testPlugin({
      sample_ratio: 0,
      propagation: { extract: [], inject: ['w3c'], default_format: 'w3c' },
    });
    const set: [string, string][] = [];
    const t1 = plugin.startHttp(fakeRequest());
    t1.access(null, { setHeader: (n: string, v: string) => set.push([n, v]), removeHeader: () => undefined });
    expect(set.map(([n]) => n)).toEqual(['traceparent']);
    // a new trace: not sampled, our random id (docs/design.md difference 8)
    expect(set[0][1]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-02$/);
    const obj: Record<string, string> = { TraceParent: 'stale', Other: 'x' };
    const t2 = plugin.startHttp(fakeRequest());
    t2.access(null, obj);
    expect(Object.keys(obj).sort()).toEqual(['Other', 'traceparent']);
  });

  test('balancer tries: an open try is closed as failed when the next starts; codes and states of non-final tries', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const t = plugin.startHttp(fakeRequest());
    t.access({ service: { id: 's1', name: 'svc' } });
    t.accessEnd();
    t.balancerTry({ hostname: 'a.internal', ip: '10.1.0.1', port: 8080 });
    t.balancerTry({ hostname: 'b.internal', ip: '10.1.0.2', port: 8080 });
    t.upstreamConnected('10.1.0.2', 8080);
    t.upstreamFailed('next', 503);
    t.balancerTry({ hostname: 'c.internal', port: 9090 });
    t.upstreamConnected('10.1.0.3', 9090);
    t.log(200);
    const { proxy, balancers } = kongSpans(exporter.getFinishedSpans());
    expect(balancers.map((b) => tags(b))).toEqual([
      {
        'kong.balancer.try': '1',
        error: 'true',
        'kong.balancer.state': 'failed',
        'kong.service': 's1',
        'kong.service_name': 'svc',
        'peer.service': 'svc',
        'network.peer.address': '10.1.0.1',
        'network.peer.port': '8080',
      },
      {
        'kong.balancer.try': '2',
        error: 'true',
        'kong.balancer.state': 'next',
        'http.status_code': '503',
        'kong.service': 's1',
        'kong.service_name': 'svc',
        'peer.service': 'svc',
        'network.peer.address': '10.1.0.2',
        'network.peer.port': '8080',
      },
      {
        'kong.balancer.try': '3',
        'kong.service': 's1',
        'kong.service_name': 'svc',
        'peer.service': 'svc',
        'network.peer.address': '10.1.0.3',
        'network.peer.port': '9090',
      },
    ]);
    expect(tags(proxy)).toMatchObject({
      'peer.hostname': 'c.internal',
      'network.peer.address': '10.1.0.3',
      'network.peer.port': '9090',
    });
  });

  test('a try that never connected ends at log time', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1 });
    const t = plugin.startHttp(fakeRequest());
    t.access();
    t.balancerTry({ hostname: 'x', port: 1 });
    t.log(499);
    const { request, balancers } = kongSpans(exporter.getFinishedSpans());
    expect(micros(balancers[0].endTime)).toBe(micros(request.endTime));
  });

  test('stream: no extraction, no HTTP tags, static tags, kps/kpf', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 1, static_tags: [{ name: 'env', value: 'prod' }] });
    const t = plugin.startStream({ remoteAddress: '10.0.0.9', remotePort: 4000 });
    t.preread({ route: { id: 'r', name: 'rn' }, service: { id: 's', name: 'sn' } });
    t.prereadEnd();
    t.balancerTry({ hostname: 'db', ip: '10.2.0.1', port: 5432 });
    t.upstreamConnected();
    t.log();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['stream (balancer try 1)', 'stream (proxy)', 'stream']);
    const { request, proxy } = kongSpans(spans);
    expect(tags(request)).toEqual({
      lc: 'kong',
      env: 'prod',
      'kong.node.id': NODE_ID,
      'network.peer.address': '10.0.0.9',
      'network.peer.port': '4000',
    });
    expect(request.events).toEqual([]);
    expect(eventNames(proxy)).toEqual(['kps', 'kpf']);
    const a = annotations(proxy);
    expect(a.kps).toBeLessThanOrEqual(a.kpf);
    expect(a.kps).toBe(micros(proxy.startTime));
  });
});

describe('RequestTrace decided unsampled (own provider)', () => {
  test('the phases after the decision record nothing; headers still go upstream, not sampled', () => {
    const { plugin, exporter } = testPlugin({ sample_ratio: 0 });
    const t = plugin.startHttp(fakeRequest());
    const upstream: Record<string, string> = {};
    t.access({ route: { id: 'r-1' }, service: { id: 's-1' } }, upstream, true);
    expect(t.sampled).toBe(false);
    expect(t.untimed).toBe(true);
    t.accessEnd();
    t.balancerTry({ hostname: 'backend', ip: '10.0.0.9', port: 8080 });
    t.upstreamConnected('10.0.0.9', 8080);
    t.headerFilter();
    t.bodyFilter();
    t.bodyFilterEnd();
    t.log(200);
    expect([t.accessEndUs, t.bodyStartUs, t.bodyEndUs, t.tries, t.hostname]).toEqual([0, 0, 0, undefined, undefined]);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(upstream).toEqual({
      'x-b3-traceid': t.traceId,
      'x-b3-spanid': t.proxySpanId,
      'x-b3-parentspanid': t.requestSpanId,
      'x-b3-sampled': '0',
    });
  });

  test('an incoming sampled decision keeps every phase', () => {
    const { plugin } = testPlugin({ sample_ratio: 0 });
    const t = plugin.startHttp(fakeRequest({ 'x-b3-sampled': '1' }));
    t.access(undefined, {}, true);
    t.balancerTry({ hostname: 'backend', ip: '10.0.0.9', port: 8080 });
    t.bodyFilterEnd();
    expect(t.untimed).toBe(false);
    expect(t.tries).toHaveLength(1);
    expect(t.bodyEndUs).toBeGreaterThan(0);
  });
});
