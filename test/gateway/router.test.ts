import { resolveDeclarativeConfig } from '../../src/gateway/declarative';
import { GatewayRouter, type HttpRequestInfo } from '../../src/gateway/router';

/** A router over one service per route, each named after its route. */
function routerOf(routes: Record<string, unknown>[], services: Record<string, unknown>[] = []): GatewayRouter {
  return new GatewayRouter(
    resolveDeclarativeConfig({
      _format_version: '3.0',
      services: [
        ...services,
        ...routes.map((r) => ({
          name: `svc-${String(r.name)}`,
          host: 'upstream.local',
          ...(r.protocols !== undefined && (r.protocols as string[]).some((p) => p === 'tcp' || p === 'tls')
            ? { protocol: 'tcp', port: 7000 }
            : {}),
          routes: [r],
        })),
      ],
    }),
  );
}

function req(url: string, host?: string, method = 'GET', extra: Partial<HttpRequestInfo> = {}): HttpRequestInfo {
  return { method, url, host, protocol: 'http', ...extra };
}

function routeName(router: GatewayRouter, r: HttpRequestInfo): string | null {
  return router.matchHttp(r)?.route.name ?? null;
}

describe('HTTP routing order (traditional_compatible)', () => {
  it('hosts: exact, suffix wildcard, prefix wildcard; plain hosts beat wildcards', () => {
    const router = routerOf([
      { name: 'wild', hosts: ['*.example.com'], paths: ['/'] },
      { name: 'exact', hosts: ['api.example.com'], paths: ['/'] },
      { name: 'prefix', hosts: ['example.*'], paths: ['/'] },
    ]);
    expect(routeName(router, req('/', 'api.example.com'))).toBe('exact');
    expect(routeName(router, req('/', 'API.Example.com:8000'))).toBe('exact');
    expect(routeName(router, req('/', 'www.example.com'))).toBe('wild');
    expect(routeName(router, req('/', 'a.b.example.com'))).toBe('wild');
    expect(routeName(router, req('/', 'example.org'))).toBe('prefix');
    expect(routeName(router, req('/', 'example.com'))).toBe('prefix');
    expect(routeName(router, req('/', 'other.org'))).toBeNull();
    expect(routeName(router, req('/', undefined))).toBeNull();
  });

  it('a host with a port also needs the local port', () => {
    const router = routerOf([
      { name: 'on8000', hosts: ['example.com:8000'], paths: ['/'] },
      { name: 'any', hosts: ['example.com'], paths: ['/'] },
    ]);
    expect(router.needsLocalPort).toBe(true);
    expect(routeName(router, req('/', 'example.com', 'GET', { port: 8000 }))).toBe('on8000');
    expect(routeName(router, req('/', 'example.com:8000', 'GET', { port: 9000 }))).toBe('any');
  });

  it('more of methods/hosts/paths first, then longer prefixes', () => {
    const router = routerOf([
      { name: 'a', paths: ['/a'] },
      { name: 'ab', paths: ['/a/b'] },
      { name: 'get-root', paths: ['/'], methods: ['GET'] },
      { name: 'host-only', hosts: ['h.local'] },
    ]);
    expect(routeName(router, req('/a/b/c', undefined, 'POST'))).toBe('ab');
    expect(routeName(router, req('/a/c', undefined, 'POST'))).toBe('a');
    // methods + paths (weight 2) beats a longer path alone (weight 1).
    expect(routeName(router, req('/a/b'))).toBe('get-root');
    expect(routeName(router, req('/x', undefined, 'DELETE'))).toBeNull();
    expect(routeName(router, req('/anything', 'h.local', 'DELETE'))).toBe('host-only');
    // Prefixes are plain string prefixes, as in Kong.
    expect(routeName(router, req('/abc', undefined, 'POST'))).toBe('a');
  });

  it('regex paths before prefixes, then regex_priority, then file order', () => {
    const router = routerOf([
      { name: 'long-prefix', paths: ['/users/42/profile'] },
      { name: 'regex-low', paths: ['~/users/\\d+'] },
      { name: 'regex-high', paths: ['~/users/4\\d'], regex_priority: 5 },
      { name: 'first', paths: ['/same'] },
      { name: 'second', paths: ['/same'] },
    ]);
    expect(routeName(router, req('/users/42/profile'))).toBe('regex-high');
    expect(routeName(router, req('/users/7/profile'))).toBe('regex-low');
    expect(routeName(router, req('/users/x/profile'))).toBeNull();
    expect(routeName(router, req('/same/x'))).toBe('first');
  });

  it('a route with prefixes of several lengths competes with each of them', () => {
    const router = routerOf([
      { name: 'multi', paths: ['/x', '/longer'] },
      { name: 'mid', paths: ['/long'] },
    ]);
    expect(routeName(router, req('/longer/1'))).toBe('multi');
    expect(routeName(router, req('/long/1'))).toBe('mid');
    expect(routeName(router, req('/x/1'))).toBe('multi');
  });

  it('a regex is anchored as Kong anchors it: `^` + the regex', () => {
    const router = routerOf([{ name: 'alt', paths: ['~/a|/b'] }]);
    expect(routeName(router, req('/a'))).toBe('alt');
    expect(routeName(router, req('/zz/b'))).toBe('alt');
    expect(routeName(router, req('/zz/a'))).toBeNull();
  });

  it('matches the normalized path', () => {
    const router = routerOf([{ name: 'b', paths: ['/b/~x'] }]);
    expect(routeName(router, req('/a/../b//%7ex?q=1'))).toBe('b');
  });
});

describe('HTTP match result', () => {
  const router = routerOf(
    [],
    [
      {
        name: 'svc',
        url: 'http://backend.local:8080/base',
        routes: [
          { name: 'strip', paths: ['/api'] },
          { name: 'keep', paths: ['/keep'], strip_path: false, preserve_host: true },
          { name: 'regex', paths: ['~/v\\d+/items'] },
          { name: 'tls-only', paths: ['/secure'], protocols: ['https'] },
          { name: 'no-path', hosts: ['nopath.local'] },
        ],
      },
    ],
  );

  it('strip_path strips the matched prefix and joins the service path', () => {
    const m = router.matchHttp(req('/api/orders?id=1', 'gw.local'));
    expect(m).not.toBeNull();
    expect(m?.route.name).toBe('strip');
    expect(m?.service.name).toBe('svc');
    expect(m?.upstreamUri).toBe('/base/orders?id=1');
    expect(m?.prefix).toBe('/api');
    expect(m?.upstreamHost).toBeNull();
    expect(m?.httpsRequired).toBe(false);
    expect(m?.path).toBe('/api/orders');
    expect(m?.plugin).toBeNull();
  });

  it('a regex path strips what it matched', () => {
    const m = router.matchHttp(req('/v2/items/7'));
    expect([m?.route.name, m?.upstreamUri, m?.prefix]).toEqual(['regex', '/base/7', '/v2/items']);
  });

  it('strip_path false keeps the path; preserve_host passes the Host header on', () => {
    const m = router.matchHttp(req('/keep/a b?', 'Front.example:8000'));
    expect([m?.upstreamUri, m?.prefix, m?.upstreamHost]).toEqual(['/base/keep/a%20b?', null, 'Front.example:8000']);
  });

  it('a route without paths forwards the whole path', () => {
    const m = router.matchHttp(req('/x/y', 'nopath.local'));
    expect([m?.route.name, m?.upstreamUri, m?.prefix]).toEqual(['no-path', '/base/x/y', null]);
  });

  it('an https-only route reached over http asks for https (Kong 426)', () => {
    expect(router.matchHttp(req('/secure'))?.httpsRequired).toBe(true);
    expect(router.matchHttp(req('/secure', undefined, 'GET', { protocol: 'https' }))?.httpsRequired).toBe(false);
  });
});

describe('plugin precedence: route+service > route > service > global', () => {
  const config = resolveDeclarativeConfig({
    _format_version: '3.0',
    services: [
      {
        name: 'a',
        host: 'a.local',
        plugins: [{ name: 'zipkin', instance_name: 'svc-a' }],
        routes: [
          { name: 'a-plain', paths: ['/a'] },
          { name: 'a-route', paths: ['/ar'], plugins: [{ name: 'zipkin', instance_name: 'route-ar' }] },
          {
            name: 'a-both',
            paths: ['/ab'],
            plugins: [{ name: 'zipkin', instance_name: 'route-ab', protocols: ['https'] }],
          },
        ],
      },
      {
        name: 'b',
        host: 'b.local',
        plugins: [{ name: 'zipkin', instance_name: 'svc-b-off', enabled: false }],
        routes: [{ name: 'b-plain', paths: ['/b'] }],
      },
      { name: 'c', host: 'c.local', routes: [{ name: 'c-plain', paths: ['/c'] }] },
      {
        name: 't',
        protocol: 'tcp',
        host: 't.local',
        port: 7000,
        routes: [{ name: 't-route', protocols: ['tcp'], destinations: [{ port: 9000 }] }],
      },
    ],
    plugins: [
      { name: 'zipkin', instance_name: 'global', protocols: ['http', 'https', 'tcp'] },
      { name: 'zipkin', instance_name: 'pair-ab', service: 'a', route: 'a-both' },
      { name: 'zipkin', instance_name: 'pair-mismatch', service: 'b', route: 'a-plain' },
    ],
  });
  const router = new GatewayRouter(config);
  const name = (url: string, protocol: 'http' | 'https' = 'http'): string | null =>
    router.matchHttp(req(url, undefined, 'GET', { protocol }))?.plugin?.instance_name ?? null;

  it('picks the most specific enabled instance', () => {
    expect(name('/a')).toBe('svc-a');
    expect(name('/ar')).toBe('route-ar');
    expect(name('/ab')).toBe('pair-ab');
    expect(name('/ab', 'https')).toBe('pair-ab');
  });

  it('a disabled instance lets the next scope apply', () => {
    expect(name('/b')).toBe('global');
  });

  it('global applies to routes without their own and to unmatched requests', () => {
    expect(name('/c')).toBe('global');
    expect(router.pluginFor(null, 'http')?.instance_name).toBe('global');
    expect(router.pluginFor(null, 'grpc')).toBeNull();
  });

  it('honors the instance protocols', () => {
    const route = config.routes.find((r) => r.name === 'a-both') ?? null;
    expect(router.pluginFor(route, 'tcp')?.instance_name).toBe('global');
    const stream = router.matchStream({ protocol: 'tcp', destinationIp: '127.0.0.1', destinationPort: 9000 });
    expect(stream?.plugin?.instance_name).toBe('global');
    expect(router.pluginFor(stream?.route ?? null, 'tls')).toBeNull();
  });

  it('a route+service pair whose route is not on that service never applies', () => {
    const route = config.routes.find((r) => r.name === 'a-plain') ?? null;
    expect(router.pluginFor(route, 'http')?.instance_name).toBe('svc-a');
  });
});

describe('stream routing by destination', () => {
  const router = routerOf([
    { name: 'port', protocols: ['tcp'], destinations: [{ port: 9000 }] },
    { name: 'ip-port', protocols: ['tcp'], destinations: [{ ip: '127.0.0.1', port: 9000 }] },
    { name: 'cidr', protocols: ['tcp'], destinations: [{ ip: '10.0.0.0/8' }] },
    { name: 'v6', protocols: ['tcp'], destinations: [{ ip: '::1', port: 9001 }] },
    { name: 'tls', protocols: ['tls'], destinations: [{ port: 9002 }] },
  ]);
  const stream = (ip: string, port: number, protocol: 'tcp' | 'tls' = 'tcp'): string | null =>
    router.matchStream({ protocol, destinationIp: ip, destinationPort: port })?.route.name ?? null;

  it('an exact ip beats a port, a port beats a CIDR block', () => {
    expect(stream('127.0.0.1', 9000)).toBe('ip-port');
    expect(stream('::ffff:127.0.0.1', 9000)).toBe('ip-port');
    expect(stream('127.0.0.2', 9000)).toBe('port');
    expect(stream('10.1.2.3', 9000)).toBe('port');
    expect(stream('10.1.2.3', 1234)).toBe('cidr');
    expect(stream('::1', 9001)).toBe('v6');
    expect(stream('127.0.0.1', 9001)).toBeNull();
  });

  it('only routes listing the connection protocol', () => {
    expect(stream('127.0.0.1', 9002)).toBeNull();
    expect(stream('127.0.0.1', 9002, 'tls')).toBe('tls');
  });

  it('returns the service', () => {
    expect(
      router.matchStream({ protocol: 'tcp', destinationIp: '127.0.0.1', destinationPort: 9000 })?.service.port,
    ).toBe(7000);
  });
});
