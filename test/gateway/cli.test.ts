/**
 * The command line end to end: the built CLI as a child process with a generated decK
 * file, a real upstream echoing the request it received, a TCP echo upstream, and the
 * development receiver as the zipkin plugins' `http_endpoint`.
 */
import { startReceiver, type Receiver } from '../../src/receiver/receiver';
import type { ReceivedSpan } from '../../src/receiver/span-validator';
import {
  annotationValues,
  type CliProcess,
  type EchoedRequest,
  type EchoServer,
  freePort,
  named,
  nullSink,
  request,
  runCli,
  spansOf,
  startEcho,
  startTcpEcho,
  tcpExchange,
  tempDir,
  type TempDir,
  waitForSpans,
} from './cli-harness';

const SVC = {
  main: '5b0c3b86-0000-4000-8000-000000000001',
  scoped: '5b0c3b86-0000-4000-8000-000000000002',
  flaky: '5b0c3b86-0000-4000-8000-000000000003',
  dead: '5b0c3b86-0000-4000-8000-000000000004',
  nopeer: '5b0c3b86-0000-4000-8000-000000000005',
  tcp: '5b0c3b86-0000-4000-8000-000000000006',
};
const ROUTE = {
  main: '5b0c3b86-0000-4000-8000-000000000011',
  routed: '5b0c3b86-0000-4000-8000-000000000012',
  quiet: '5b0c3b86-0000-4000-8000-000000000013',
  svc: '5b0c3b86-0000-4000-8000-000000000014',
  svcroute: '5b0c3b86-0000-4000-8000-000000000015',
  flaky: '5b0c3b86-0000-4000-8000-000000000016',
  dead: '5b0c3b86-0000-4000-8000-000000000017',
  nopeer: '5b0c3b86-0000-4000-8000-000000000018',
  secure: '5b0c3b86-0000-4000-8000-000000000019',
  tcp: '5b0c3b86-0000-4000-8000-00000000001a',
  disabled: '5b0c3b86-0000-4000-8000-00000000001b',
  kept: '5b0c3b86-0000-4000-8000-00000000001c',
};
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let receiver: Receiver;
let echo: EchoServer;
let tcpEcho: { port: number; close(): Promise<void> };
let dir: TempDir;
let gateway: CliProcess;
let proxyPort: number;
let streamPort: number;
let unroutedStreamPort: number;
let down: number;
/** Traces that must never reach the receiver, checked once the gateway has drained. */
const unsampled: string[] = [];

let traceSeq = 0;
/** A fresh sampled w3c context per request, so every request is its own trace. */
function w3c(): { traceId: string; parentId: string; header: string } {
  traceSeq++;
  const traceId = `4bf92f3577b34da6a3ce929d${traceSeq.toString(16).padStart(8, '0')}`;
  const parentId = `00f067aa0b${traceSeq.toString(16).padStart(6, '0')}`;
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
}

function zipkin(localServiceName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'zipkin',
    config: { http_endpoint: receiver.url, local_service_name: localServiceName, sample_ratio: 1, ...extra },
  };
}

function echoed(body: string): EchoedRequest {
  return JSON.parse(body) as EchoedRequest;
}

async function traced(traceId: string): Promise<ReceivedSpan[]> {
  return waitForSpans(() => spansOf(receiver, traceId));
}

beforeAll(async () => {
  receiver = await startReceiver({ port: 0, out: nullSink(), errOut: nullSink() });
  echo = await startEcho();
  tcpEcho = await startTcpEcho();
  [down, streamPort, unroutedStreamPort] = await Promise.all([freePort(), freePort(), freePort()]);
  dir = tempDir();
  const deck = {
    _format_version: '3.0',
    upstreams: [
      { name: 'flaky.pool', targets: [{ target: `127.0.0.1:${down}` }, { target: `127.0.0.1:${echo.port}` }] },
      { name: 'dead.pool', targets: [{ target: `127.0.0.1:${down}` }] },
      { name: 'empty.pool', targets: [{ target: `127.0.0.1:${echo.port}`, weight: 0 }] },
    ],
    services: [
      {
        id: SVC.main,
        name: 'svc-main',
        url: `http://127.0.0.1:${echo.port}`,
        routes: [
          { id: ROUTE.main, name: 'main', paths: ['/main'] },
          { id: ROUTE.routed, name: 'routed', paths: ['/routed'], plugins: [zipkin('route-plugin')] },
          { id: ROUTE.quiet, name: 'quiet', paths: ['/quiet'], plugins: [zipkin('quiet-plugin', { sample_ratio: 0 })] },
          {
            id: ROUTE.disabled,
            name: 'disabled',
            paths: ['/disabled'],
            plugins: [{ ...zipkin('disabled-plugin'), enabled: false }],
          },
          { id: ROUTE.secure, name: 'secure', paths: ['/secure'], protocols: ['https'] },
          { id: ROUTE.kept, name: 'kept', paths: ['/kept'], strip_path: false, preserve_host: true },
        ],
      },
      {
        id: SVC.scoped,
        name: 'svc-scoped',
        url: `http://127.0.0.1:${echo.port}/base`,
        plugins: [zipkin('service-plugin')],
        routes: [
          { id: ROUTE.svc, name: 'svc', paths: ['/svc'] },
          { id: ROUTE.svcroute, name: 'svcroute', paths: ['/svcroute'], plugins: [zipkin('route-over-service')] },
        ],
      },
      {
        id: SVC.flaky,
        name: 'svc-flaky',
        host: 'flaky.pool',
        retries: 1,
        routes: [{ id: ROUTE.flaky, name: 'flaky', paths: ['/flaky'] }],
      },
      {
        id: SVC.dead,
        name: 'svc-dead',
        host: 'dead.pool',
        retries: 2,
        routes: [{ id: ROUTE.dead, name: 'dead', paths: ['/dead'] }],
      },
      {
        id: SVC.nopeer,
        name: 'svc-nopeer',
        host: 'empty.pool',
        routes: [{ id: ROUTE.nopeer, name: 'nopeer', paths: ['/nopeer'] }],
      },
      {
        id: SVC.tcp,
        name: 'svc-tcp',
        url: `tcp://127.0.0.1:${tcpEcho.port}`,
        routes: [
          {
            id: ROUTE.tcp,
            name: 'tcp',
            protocols: ['tcp'],
            destinations: [{ port: streamPort }],
            plugins: [{ ...zipkin('stream-plugin'), protocols: ['tcp'] }],
          },
        ],
      },
    ],
    plugins: [
      zipkin('global-plugin', {
        http_response_header_for_traceid: 'x-trace-id',
        static_tags: [{ name: 'env', value: 'test' }],
      }),
    ],
  };
  const file = dir.write('kong.json', deck);
  gateway = runCli([
    '--config',
    file,
    '--listen',
    '127.0.0.1:0',
    '--stream-listen',
    `127.0.0.1:${streamPort}`,
    '--stream-listen',
    `127.0.0.1:${unroutedStreamPort}`,
  ]);
  const lines = await gateway.ready(3);
  expect(lines).toEqual([
    expect.stringMatching(/^proxy listening on http:\/\/127\.0\.0\.1:\d+$/),
    `stream listening on tcp://127.0.0.1:${streamPort}`,
    `stream listening on tcp://127.0.0.1:${unroutedStreamPort}`,
  ]);
  proxyPort = Number(/:(\d+)$/.exec(lines[0])?.[1]);
});

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await receiver?.close();
  await echo?.close();
  await tcpEcho?.close();
  dir?.remove();
});

describe('gateway-zipkin --config: HTTP', () => {
  test('a matched request is proxied with Kong headers and traced by the global plugin', async () => {
    const t = w3c();
    const reply = await request(proxyPort, '/main/hello?x=1', {
      headers: {
        host: 'Example.COM:1234',
        traceparent: t.header,
        connection: 'keep-alive, x-drop-me',
        'x-drop-me': 'yes',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        te: 'trailers',
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'spoofed.example',
        'x-custom': 'kept',
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-upstream']).toBe('echo');
    expect(reply.headers['x-trace-id']).toBe(t.traceId);
    const seen = echoed(reply.body);
    expect(seen.url).toBe('/hello?x=1');
    const spans = await traced(t.traceId);
    const proxySpan = named(spans, 'GET (proxy)');
    expect(seen.headers).toEqual({
      host: `127.0.0.1:${echo.port}`,
      connection: 'keep-alive',
      te: 'trailers',
      'x-custom': 'kept',
      traceparent: `00-${t.traceId}-${proxySpan.id}-01`,
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'example.com',
      'x-forwarded-port': String(proxyPort),
      'x-forwarded-path': '/main/hello',
      'x-forwarded-prefix': '/main',
      'x-real-ip': '127.0.0.1',
    });

    expect(spans).toHaveLength(3);
    const requestSpan = named(spans, 'GET');
    const balancer = named(spans, 'GET (balancer try 1)');
    expect([requestSpan.kind, proxySpan.kind, balancer.kind]).toEqual(['SERVER', 'CLIENT', 'CLIENT']);
    expect(requestSpan.parentId).toBe(t.parentId);
    expect(proxySpan.parentId).toBe(requestSpan.id);
    expect(balancer.parentId).toBe(requestSpan.id);
    for (const s of spans) expect(s.localEndpoint).toEqual({ serviceName: 'global-plugin' });

    expect(requestSpan.tags).toEqual({
      lc: 'kong',
      env: 'test',
      'http.method': 'GET',
      'http.host': 'example.com',
      'http.path': '/main/hello',
      'http.protocol': 'HTTP/1.1',
      'http.status_code': '200',
      'kong.node.id': expect.stringMatching(UUID_RE),
    });
    const routeTags = {
      'kong.route': ROUTE.main,
      'kong.route_name': 'main',
      'kong.service': SVC.main,
      'kong.service_name': 'svc-main',
    };
    expect(proxySpan.tags).toEqual({ ...routeTags, 'peer.hostname': '127.0.0.1' });
    expect(balancer.tags).toEqual({ ...routeTags, 'kong.balancer.try': '1' });
    expect(requestSpan.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: expect.any(Number) });
    expect(proxySpan.remoteEndpoint).toEqual({ serviceName: 'svc-main', ipv4: '127.0.0.1', port: echo.port });
    expect(balancer.remoteEndpoint).toEqual({ serviceName: 'svc-main', ipv4: '127.0.0.1', port: echo.port });
    expect(annotationValues(requestSpan)).toEqual(['krf', 'krs']);
    expect(annotationValues(proxySpan)).toEqual(['kaf', 'kas', 'kbf', 'kbs', 'khf', 'khs']);
    expect(balancer.annotations).toBeUndefined();
    expect(requestSpan.duration).toBeGreaterThanOrEqual(proxySpan.duration ?? Infinity);
  });

  test('preserve_host keeps the Host header, strip_path false keeps the path, a client X-Forwarded-Prefix is dropped', async () => {
    const t = w3c();
    const reply = await request(proxyPort, '/kept/a/b', {
      headers: { host: 'api.example.com', traceparent: t.header, 'x-forwarded-prefix': '/spoofed' },
    });
    expect(reply.status).toBe(200);
    const seen = echoed(reply.body);
    expect(seen.url).toBe('/kept/a/b');
    expect(seen.headers.host).toBe('api.example.com');
    expect(seen.headers['x-forwarded-prefix']).toBeUndefined();
    expect(seen.headers['x-forwarded-path']).toBe('/kept/a/b');
  });

  test('a request body is streamed upstream; the service path is joined', async () => {
    const t = w3c();
    const reply = await request(proxyPort, '/svc/items', {
      method: 'POST',
      headers: { traceparent: t.header, 'content-type': 'text/plain' },
      body: 'hello body',
    });
    expect(reply.status).toBe(200);
    const seen = echoed(reply.body);
    expect(seen).toMatchObject({ method: 'POST', url: '/base/items', body: 'hello body' });
    expect(seen.headers['content-length']).toBe('10');
  });

  test('an unmatched request gets Kong 404 and is traced by the global plugin', async () => {
    const t = w3c();
    const before = echo.requests.length;
    const reply = await request(proxyPort, '/nowhere', { headers: { traceparent: t.header } });
    expect(reply.status).toBe(404);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.headers['x-trace-id']).toBe(t.traceId);
    expect(reply.body).toBe('{"message":"no Route matched with those values"}');
    expect(echo.requests.length).toBe(before);

    const spans = await traced(t.traceId);
    expect(spans.map((s) => s.name).sort()).toEqual(['GET', 'GET (proxy)']);
    const requestSpan = named(spans, 'GET');
    const proxySpan = named(spans, 'GET (proxy)');
    expect(requestSpan.parentId).toBe(t.parentId);
    expect(requestSpan.tags?.['http.status_code']).toBe('404');
    expect(requestSpan.tags?.['http.path']).toBe('/nowhere');
    expect(requestSpan.localEndpoint).toEqual({ serviceName: 'global-plugin' });
    expect(proxySpan.tags).toBeUndefined();
    expect(proxySpan.remoteEndpoint).toBeUndefined();
    expect(annotationValues(proxySpan)).toEqual(['kaf', 'kas', 'kbf', 'kbs', 'khf', 'khs']);
  });

  test('a connection failure is retried on the next target: two balancer spans, the first tagged', async () => {
    const t = w3c();
    const reply = await request(proxyPort, '/flaky/retry', {
      method: 'POST',
      headers: { traceparent: t.header },
      body: 'replayed body',
    });
    expect(reply.status).toBe(200);
    const seen = echoed(reply.body);
    expect(seen.body).toBe('replayed body');
    expect(seen.url).toBe('/retry');
    expect(seen.headers.host).toBe(`127.0.0.1:${echo.port}`);

    const spans = await traced(t.traceId);
    expect(spans).toHaveLength(4);
    const requestSpan = named(spans, 'POST');
    const first = named(spans, 'POST (balancer try 1)');
    const second = named(spans, 'POST (balancer try 2)');
    const routeTags = {
      'kong.route': ROUTE.flaky,
      'kong.route_name': 'flaky',
      'kong.service': SVC.flaky,
      'kong.service_name': 'svc-flaky',
    };
    expect(first.tags).toEqual({
      ...routeTags,
      'kong.balancer.try': '1',
      error: 'true',
      'kong.balancer.state': 'failed',
      'http.status_code': '502',
    });
    expect(second.tags).toEqual({ ...routeTags, 'kong.balancer.try': '2' });
    expect(first.remoteEndpoint).toEqual({ serviceName: 'svc-flaky', ipv4: '127.0.0.1', port: down });
    expect(second.remoteEndpoint).toEqual({ serviceName: 'svc-flaky', ipv4: '127.0.0.1', port: echo.port });
    expect(first.parentId).toBe(requestSpan.id);
    expect(second.parentId).toBe(requestSpan.id);
    expect(named(spans, 'POST (proxy)').remoteEndpoint).toEqual({
      serviceName: 'svc-flaky',
      ipv4: '127.0.0.1',
      port: echo.port,
    });
    expect((second.timestamp ?? 0) >= (first.timestamp ?? 0) + (first.duration ?? 0)).toBe(true);
    expect(gateway.stderr).toContain(
      `error connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: kong, ` +
        `request: "POST /flaky/retry HTTP/1.1", upstream: "http://127.0.0.1:${down}/retry"`,
    );
  });

  test('exhausted tries answer Kong 502; every try but the last is tagged', async () => {
    const t = w3c();
    const reply = await request(proxyPort, '/dead', { headers: { traceparent: t.header } });
    expect(reply.status).toBe(502);
    expect(reply.body).toBe('{"message":"An invalid response was received from the upstream server"}');
    const spans = await traced(t.traceId);
    const tries = spans
      .filter((s) => s.name?.startsWith('GET (balancer try'))
      .sort((a, b) => a.name!.localeCompare(b.name!));
    expect(
      tries.map((s) => [
        s.tags?.['kong.balancer.try'],
        s.tags?.error,
        s.tags?.['kong.balancer.state'],
        s.tags?.['http.status_code'],
      ]),
    ).toEqual([
      ['1', 'true', 'failed', '502'],
      ['2', 'true', 'failed', '502'],
      ['3', undefined, undefined, undefined],
    ]);
    expect(named(spans, 'GET').tags?.['http.status_code']).toBe('502');
  });

  test('no pickable target answers Kong 503; an https-only route answers 426', async () => {
    const noPeer = await request(proxyPort, '/nopeer');
    expect(noPeer.status).toBe(503);
    expect(noPeer.body).toBe('{"message":"failure to get a peer from the ring-balancer"}');

    const t = w3c();
    const secure = await request(proxyPort, '/secure', { headers: { traceparent: t.header } });
    expect(secure.status).toBe(426);
    expect(secure.body).toBe('{"message":"Please use HTTPS protocol"}');
    expect(secure.headers.upgrade).toBe('TLS/1.2, HTTP/1.1');
    const spans = await traced(t.traceId);
    // Kong exits before the route's plugins are known: the global plugin traces it, with no route tags.
    expect(spans.map((s) => s.name).sort()).toEqual(['GET', 'GET (proxy)']);
    expect(named(spans, 'GET').tags?.['http.status_code']).toBe('426');
    expect(named(spans, 'GET (proxy)').tags).toBeUndefined();
  });

  test('plugin precedence: route > service > global, a disabled plugin lets the next scope apply', async () => {
    const cases: [string, string, string][] = [
      ['/main/p', 'global-plugin', 'svc-main'],
      ['/routed/p', 'route-plugin', 'svc-main'],
      ['/svc/p', 'service-plugin', 'svc-scoped'],
      ['/svcroute/p', 'route-over-service', 'svc-scoped'],
      ['/disabled/p', 'global-plugin', 'svc-main'],
    ];
    for (const [path, plugin, service] of cases) {
      const t = w3c();
      const reply = await request(proxyPort, path, { headers: { traceparent: t.header } });
      expect(reply.status).toBe(200);
      // Only the global plugin sets the trace id response header.
      expect(reply.headers['x-trace-id']).toBe(plugin === 'global-plugin' ? t.traceId : undefined);
      const spans = await traced(t.traceId);
      expect([path, spans.length, [...new Set(spans.map((s) => s.localEndpoint?.serviceName))]]).toEqual([
        path,
        3,
        [plugin],
      ]);
      expect(named(spans, 'GET (proxy)').tags?.['kong.service_name']).toBe(service);
    }
  });

  test('sampled-out requests still propagate, with the not-sampled flag', async () => {
    // The route plugin samples nothing.
    const quiet = await request(proxyPort, '/quiet/x');
    expect(quiet.status).toBe(200);
    const q = echoed(quiet.body).headers;
    expect(q['x-b3-sampled']).toBe('0');
    expect(q['x-b3-traceid']).toMatch(/^[0-9a-f]{32}$/);
    expect(q['x-b3-spanid']).toMatch(/^[0-9a-f]{16}$/);
    unsampled.push(q['x-b3-traceid']);

    // An incoming not-sampled decision is kept by the global plugin.
    const t = w3c();
    const header = t.header.replace(/-01$/, '-00');
    const kept = await request(proxyPort, '/main/unsampled', { headers: { traceparent: header } });
    expect(kept.status).toBe(200);
    expect(kept.headers['x-trace-id']).toBe(t.traceId);
    expect(echoed(kept.body).headers.traceparent).toMatch(new RegExp(`^00-${t.traceId}-[0-9a-f]{16}-00$`));
    unsampled.push(t.traceId);
  });
});

describe('gateway-zipkin --config: stream', () => {
  test('a tcp route proxies bytes both ways and is traced with Kong stream spans', async () => {
    const seen = receiver.spans.length;
    expect(await tcpExchange(streamPort, 'ping over tcp')).toBe('ping over tcp');
    const spans = await waitForSpans(() =>
      receiver.spans.slice(seen).filter((s) => s.localEndpoint?.serviceName === 'stream-plugin'),
    );
    expect(spans.map((s) => s.name).sort()).toEqual(['stream', 'stream (balancer try 1)', 'stream (proxy)']);
    const requestSpan = named(spans, 'stream');
    const proxySpan = named(spans, 'stream (proxy)');
    const balancer = named(spans, 'stream (balancer try 1)');
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(requestSpan.parentId).toBeUndefined();
    expect(proxySpan.parentId).toBe(requestSpan.id);
    expect(balancer.parentId).toBe(requestSpan.id);
    expect(requestSpan.kind).toBe('SERVER');
    expect(requestSpan.tags).toEqual({ lc: 'kong', 'kong.node.id': expect.stringMatching(UUID_RE) });
    expect(requestSpan.annotations).toBeUndefined();
    const routeTags = {
      'kong.route': ROUTE.tcp,
      'kong.route_name': 'tcp',
      'kong.service': SVC.tcp,
      'kong.service_name': 'svc-tcp',
    };
    expect(proxySpan.tags).toEqual({ ...routeTags, 'peer.hostname': '127.0.0.1' });
    expect(annotationValues(proxySpan)).toEqual(['kpf', 'kps']);
    expect(balancer.tags).toEqual({ ...routeTags, 'kong.balancer.try': '1' });
    expect(balancer.remoteEndpoint).toEqual({ serviceName: 'svc-tcp', ipv4: '127.0.0.1', port: tcpEcho.port });
  });

  test('a connection no route matches is closed and logged', async () => {
    expect(await tcpExchange(unroutedStreamPort, 'nobody')).toBe('');
    const deadline = Date.now() + 2000;
    while (!gateway.stderr.includes('error no Route found with those values') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(gateway.stderr).toContain('error no Route found with those values\n');
  });
});

describe('gateway-zipkin --config: shutdown', () => {
  test('SIGTERM exits 0; sampled-out traces never reached the receiver', async () => {
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(gateway.stderr).toMatch(/^info loaded .*kong\.json: 6 services, 12 routes, 3 upstreams, 6 zipkin plugins$/m);
    expect(gateway.stderr).toContain(
      'info SIGTERM received: finishing requests in flight and delivering queued spans\n',
    );
    expect(gateway.stderr).toContain('info gateway stopped\n');
    for (const line of gateway.stderr.trimEnd().split('\n')) expect(line).toMatch(/^(info|warn|error) /);
    expect(unsampled).toHaveLength(2);
    for (const id of unsampled) expect(spansOf(receiver, id)).toEqual([]);
  });
});
