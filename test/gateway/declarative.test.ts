import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import {
  loadDeclarativeConfigFile,
  parseDeclarativeConfig,
  resolveDeclarativeConfig,
} from '../../src/gateway/declarative';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const FULL = `
_format_version: "3.0"
upstreams:
  - name: orders.internal
    targets:
      - target: 127.0.0.1:9001
        weight: 50
      - target: "[::1]:9002"
      - target: localhost
services:
  - name: orders
    id: 6c9f6fb4-7a9d-4e6b-9c8a-8c2e0d9f1a01
    host: orders.internal
    path: /v1
    retries: 2
    connect_timeout: 1000
    routes:
      - name: orders-api
        paths: [/orders, "~/orders/\\\\d+$"]
        methods: [GET, POST]
        hosts: ["*.example.com", api.example.org]
        strip_path: false
        preserve_host: true
        regex_priority: 3
        plugins:
          - name: zipkin
            config:
              sample_ratio: 1
              http_endpoint: http://127.0.0.1:9411/api/v2/spans
    plugins:
      - name: zipkin
        enabled: false
        protocols: [http]
  - name: echo
    url: https://echo.local:8443/base
    routes:
      - paths: [/echo]
  - name: tcp-echo
    protocol: tcp
    host: 127.0.0.1
    port: 7000
routes:
  - name: tcp-route
    service: tcp-echo
    protocols: [tcp]
    destinations:
      - port: 9000
      - ip: 10.0.0.0/8
  - name: legacy
    service: { name: echo }
    paths: [/legacy]
plugins:
  - name: zipkin
    instance_name: global-zipkin
    config:
      sample_ratio: 0.5
  - name: zipkin
    service: echo
    route: legacy
    protocols: [http, https, tcp]
`;

function rejectionOf(input: unknown): ConfigError {
  try {
    resolveDeclarativeConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

function reasons(input: unknown): string[] {
  return rejectionOf(input).errors.map((e) => (e.path === '' ? e.reason : `${e.path}: ${e.reason}`));
}

/** A minimal valid file, with `patch` applied to the first service. */
function withService(patch: Record<string, unknown>): unknown {
  return { _format_version: '3.0', services: [{ name: 's', host: 'example.com', ...patch }] };
}

function withRoute(patch: Record<string, unknown>): unknown {
  return withService({ routes: [{ paths: ['/a'] }, patch] });
}

function withStreamRoute(patch: Record<string, unknown>): unknown {
  return withService({
    protocol: 'tcp',
    port: 7000,
    routes: [{ protocols: ['tcp'], destinations: [{ port: 1 }] }, patch],
  });
}

describe('parseDeclarativeConfig: a full file', () => {
  const config = parseDeclarativeConfig(FULL);

  it('resolves upstreams and targets with Kong defaults', () => {
    expect(config.upstreams).toHaveLength(1);
    const up = config.upstreams[0];
    expect(up.name).toBe('orders.internal');
    expect(up.algorithm).toBe('round-robin');
    expect(up.slots).toBe(10000);
    expect(up.id).toMatch(UUID_RE);
    expect(up.entryPath).toBe('upstreams[0]');
    expect(up.targets.map((t) => [t.target, t.host, t.port, t.weight, t.entryPath])).toEqual([
      ['127.0.0.1:9001', '127.0.0.1', 9001, 50, 'upstreams[0].targets[0]'],
      ['[::1]:9002', '::1', 9002, 100, 'upstreams[0].targets[1]'],
      ['localhost', 'localhost', 8000, 100, 'upstreams[0].targets[2]'],
    ]);
  });

  it('resolves services: separate fields, url shorthand, defaults, upstream link', () => {
    const [orders, echo, tcp] = config.services;
    expect(orders).toEqual({
      id: '6c9f6fb4-7a9d-4e6b-9c8a-8c2e0d9f1a01',
      name: 'orders',
      protocol: 'http',
      host: 'orders.internal',
      port: 80,
      path: '/v1',
      retries: 2,
      connect_timeout: 1000,
      write_timeout: 60000,
      read_timeout: 60000,
      upstream: config.upstreams[0],
      entryPath: 'services[0]',
    });
    expect(echo.protocol).toBe('https');
    expect(echo.host).toBe('echo.local');
    expect(echo.port).toBe(8443);
    expect(echo.path).toBe('/base');
    expect(echo.retries).toBe(5);
    expect(echo.upstream).toBeNull();
    expect(echo.id).toMatch(UUID_RE);
    expect(tcp.protocol).toBe('tcp');
    expect(tcp.port).toBe(7000);
    expect(tcp.path).toBeNull();
  });

  it('resolves nested and top-level routes in file order, with defaults', () => {
    expect(config.routes.map((r) => [r.name, r.entryPath, r.service.name, r.subsystem])).toEqual([
      ['orders-api', 'services[0].routes[0]', 'orders', 'http'],
      [null, 'services[1].routes[0]', 'echo', 'http'],
      ['tcp-route', 'routes[0]', 'tcp-echo', 'stream'],
      ['legacy', 'routes[1]', 'echo', 'http'],
    ]);
    const api = config.routes[0];
    expect(api.service).toBe(config.services[0]);
    expect(api.protocols).toEqual(['http', 'https']);
    expect(api.methods).toEqual(['GET', 'POST']);
    expect(api.hosts).toEqual(['*.example.com', 'api.example.org']);
    expect(api.paths).toEqual(['/orders', '~/orders/\\d+$']);
    expect(api.strip_path).toBe(false);
    expect(api.preserve_host).toBe(true);
    expect(api.regex_priority).toBe(3);
    expect(api.destinations).toBeNull();
    const plain = config.routes[1];
    expect([plain.strip_path, plain.preserve_host, plain.regex_priority, plain.methods, plain.hosts]).toEqual([
      true,
      false,
      0,
      null,
      null,
    ]);
    expect(config.routes[2].protocols).toEqual(['tcp']);
    expect(config.routes[2].destinations).toEqual([
      { ip: null, port: 9000 },
      { ip: '10.0.0.0/8', port: null },
    ]);
  });

  it('resolves plugins with scope, precedence, raw and validated config', () => {
    expect(
      config.plugins.map((p) => [
        p.entryPath,
        p.scope,
        p.precedence,
        p.enabled,
        p.protocols,
        p.route?.name ?? null,
        p.service?.name ?? null,
      ]),
    ).toEqual([
      ['services[0].routes[0].plugins[0]', 'route', 2, true, ['grpc', 'grpcs', 'http', 'https'], 'orders-api', null],
      ['services[0].plugins[0]', 'service', 1, false, ['http'], null, 'orders'],
      ['plugins[0]', 'global', 0, true, ['grpc', 'grpcs', 'http', 'https'], null, null],
      ['plugins[1]', 'route+service', 3, true, ['http', 'https', 'tcp'], 'legacy', 'echo'],
    ]);
    const routePlugin = config.plugins[0];
    expect(routePlugin.config).toEqual({ sample_ratio: 1, http_endpoint: 'http://127.0.0.1:9411/api/v2/spans' });
    expect(routePlugin.zipkinConfig.sample_ratio).toBe(1);
    expect(routePlugin.zipkinConfig.local_service_name).toBe('kong');
    expect(config.plugins[1].config).toBeUndefined();
    expect(config.plugins[1].zipkinConfig.sample_ratio).toBe(0.001);
    expect(config.plugins[2].instance_name).toBe('global-zipkin');
    expect(config.plugins[2].zipkinConfig.sample_ratio).toBe(0.5);
    for (const p of config.plugins) expect(p.id).toMatch(UUID_RE);
  });

  it('freezes the model', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.routes[0])).toBe(true);
    expect(Object.isFrozen(config.routes[0].paths)).toBe(true);
  });
});

describe('parseDeclarativeConfig: formats and files', () => {
  it('reads JSON', () => {
    const config = parseDeclarativeConfig(
      JSON.stringify({
        _format_version: '3.0',
        services: [{ name: 'a', url: 'http://a.local', routes: [{ paths: ['/'] }] }],
      }),
      { format: 'json' },
    );
    expect(config.services[0].port).toBe(80);
    expect(config.services[0].path).toBeNull();
    expect(config.routes[0].paths).toEqual(['/']);
  });

  it('reports unparsable text', () => {
    // Only the position: parser messages would quote the source (and its passwords).
    expect(() => parseDeclarativeConfig('{', { format: 'json' })).toThrow(/^invalid JSON at line 1, column 2$/);
    expect(() => parseDeclarativeConfig('a: [1,\n')).toThrow(/^invalid YAML at line 2, column 1 \(BAD_INDENT\)$/);
    expect(() => parseDeclarativeConfig('a: 1\na: 2\n')).toThrow(
      /^invalid YAML at line 2, column 1 \(DUPLICATE_KEY\)$/,
    );
  });

  it('loads files by extension', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gz-decl-'));
    try {
      await writeFile(join(dir, 'kong.yml'), '_format_version: "3.0"\nservices: []\n');
      await writeFile(join(dir, 'kong.json'), '{"_format_version":"3.0","plugins":[{"name":"zipkin"}]}');
      expect((await loadDeclarativeConfigFile(join(dir, 'kong.yml'))).services).toEqual([]);
      const json = await loadDeclarativeConfigFile(join(dir, 'kong.json'));
      expect(json.plugins[0].scope).toBe('global');
      await expect(loadDeclarativeConfigFile(join(dir, 'missing.yml'))).rejects.toThrow(
        `cannot read ${join(dir, 'missing.yml')}: ENOENT: no such file or directory, open '${join(dir, 'missing.yml')}'`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('rejections: every issue with its path and text', () => {
  it('top level', () => {
    expect(reasons([])).toEqual(['expected a record at the top level of the file']);
    expect(reasons({ services: [] })).toEqual([
      '_format_version: required field missing (this gateway reads decK files with _format_version: "3.0")',
    ]);
    expect(reasons({ _format_version: 3 })).toEqual([
      '_format_version: expected a string: write "3.0" (quoted in YAML), got 3',
    ]);
    expect(reasons({ _format_version: '1.1' })).toEqual([
      `_format_version: unsupported version '1.1' (supported: "3.0")`,
    ]);
    expect(reasons({ _format_version: '3.0', consumers: [{ username: 'x' }], services: {} })).toEqual([
      'consumers: not supported by gateway-zipkin (supported top-level keys: _format_version, services, routes, upstreams, plugins)',
      'services: expected an array',
    ]);
    expect(reasons({ _format_version: '3.0', services: ['x'] })).toEqual(['services[0]: expected a record']);
  });

  it('the message lists every issue, one line each', () => {
    const err = rejectionOf({ _format_version: '3.0', consumers: [], plugins: [{ name: 'rate-limiting' }] });
    expect(err.message).toBe(
      'consumers: not supported by gateway-zipkin (supported top-level keys: _format_version, services, routes, upstreams, plugins)\n' +
        "plugins[0].name: plugin 'rate-limiting' is not supported (supported: zipkin)",
    );
    expect(err.path).toBe('consumers');
    expect(err.name).toBe('ConfigError');
  });

  it('services', () => {
    expect(reasons(withService({ foo: 1, tls_verify: true }))).toEqual([
      'services[0].foo: unknown field (supported: id, name, url, protocol, host, port, path, retries, connect_timeout, write_timeout, read_timeout, routes, plugins, tags)',
      'services[0].tls_verify: not supported by gateway-zipkin (supported: id, name, url, protocol, host, port, path, retries, connect_timeout, write_timeout, read_timeout, routes, plugins, tags)',
    ]);
    expect(reasons({ _format_version: '3.0', services: [{ name: 'a' }] })).toEqual([
      'services[0].host: required field missing',
    ]);
    expect(reasons(withService({ id: 'nope', name: 'bad name', port: 70000, retries: 1.5, read_timeout: 0 }))).toEqual([
      'services[0].id: expected a valid UUID',
      "services[0].name: invalid value 'bad name': it must only contain alphanumeric and '., -, _, ~' characters",
      'services[0].port: value should be between 0 and 65535',
      'services[0].retries: expected an integer',
      'services[0].read_timeout: value should be between 1 and 2147483646',
    ]);
    expect(reasons(withService({ protocol: 'grpc', host: 'bad host', path: 'v1' }))).toEqual([
      'services[0].protocol: expected one of: http, https, tcp, tls',
      'services[0].host: invalid hostname: bad host',
      'services[0].path: should start with: /',
    ]);
    expect(reasons(withService({ protocol: 'tcp', path: '/x' }))).toEqual([
      "services[0].path: can only be set when 'protocol' is 'http' or 'https'",
    ]);
    expect(reasons({ _format_version: '3.0', services: [{ url: 'http://a.b/c', host: 'x', port: 1 }] })).toEqual([
      "services[0].url: cannot be combined with 'host', 'port'",
    ]);
    expect(
      reasons({ _format_version: '3.0', services: [{ url: 'ftp://a.b/c' }, { url: 'tcp://a.b' }, { url: 'a.b' }] }),
    ).toEqual([
      "services[0].url: protocol 'ftp' is not supported (supported: http, https, tcp, tls)",
      'services[1].url: a tcp url needs a port',
      "services[2].url: invalid url 'a.b' (expected protocol://host[:port][/path])",
    ]);
    expect(
      reasons({
        _format_version: '3.0',
        services: [
          { name: 'a', host: 'x' },
          { name: 'a', host: 'y' },
        ],
      }),
    ).toEqual(["services[1].name: duplicate name 'a' (also at services[0])"]);
  });

  it('routes', () => {
    expect(reasons(withRoute({ paths: ['/b'], headers: { x: ['1'] }, bogus: 1 }))).toEqual([
      'services[0].routes[1].headers: not supported by gateway-zipkin (supported: id, name, service, protocols, methods, hosts, paths, regex_priority, strip_path, preserve_host, destinations, plugins, tags)',
      'services[0].routes[1].bogus: unknown field (supported: id, name, service, protocols, methods, hosts, paths, regex_priority, strip_path, preserve_host, destinations, plugins, tags)',
    ]);
    expect(reasons(withRoute({ hosts: ['foo.*.com', '*.a.*', 'a.com:99999', 'bad_host!'] }))).toEqual([
      'services[0].routes[1].hosts[0]: invalid wildcard: must be placed at leftmost or rightmost label',
      'services[0].routes[1].hosts[1]: invalid wildcard: must have at most one wildcard',
      'services[0].routes[1].hosts[2]: invalid port number',
      'services[0].routes[1].hosts[3]: invalid hostname: bad_host!',
    ]);
    expect(reasons(withRoute({ paths: ['api', '~/(x', 7], methods: ['get'] }))).toEqual([
      'services[0].routes[1].methods[0]: invalid value: get (methods are upper-case, e.g. GET)',
      'services[0].routes[1].paths[0]: should start with: / (fixed path) or ~ (regex path)',
      "services[0].routes[1].paths[1]: invalid regex: '/(x' (Invalid regular expression: /^/(x/: Unterminated group)",
      'services[0].routes[1].paths[2]: expected a string',
    ]);
    expect(reasons(withRoute({ strip_path: 'yes', protocols: ['http', 'ws'] }))).toEqual([
      'services[0].routes[1].protocols[1]: expected one of: http, https, tcp, tls',
      'services[0].routes[1].strip_path: expected a boolean',
    ]);
    expect(reasons(withRoute({ hosts: [] }))).toEqual([
      "services[0].routes[1]: must set one of 'methods', 'hosts', 'paths' when 'protocols' is 'http' or 'https'",
    ]);
    expect(reasons(withRoute({ paths: ['/b'], destinations: [{ port: 1 }] }))).toEqual([
      "services[0].routes[1].destinations: can only be set when 'protocols' is 'tcp' or 'tls'",
    ]);
    expect(reasons(withRoute({ protocols: ['tcp', 'http'], paths: ['/b'] }))).toEqual([
      'services[0].routes[1].protocols: cannot mix http protocols (http, https) with stream protocols (tcp, tls)',
    ]);
    expect(reasons(withStreamRoute({ protocols: ['tcp'], paths: ['/b'] }))).toEqual([
      "services[0].routes[1].paths: can only be set when 'protocols' is 'http' or 'https'",
      "services[0].routes[1]: must set 'destinations' when 'protocols' is 'tcp' or 'tls' (sources and snis are not supported)",
    ]);
    expect(
      reasons(
        withStreamRoute({ protocols: ['tcp'], destinations: [{}, { ip: '300.1.1.1', port: -1 }, { ip: '::1/200' }] }),
      ),
    ).toEqual([
      "services[0].routes[1].destinations[0]: at least one of these fields must be non-empty: 'ip', 'port'",
      "services[0].routes[1].destinations[1].ip: invalid ip or cidr range: '300.1.1.1'",
      'services[0].routes[1].destinations[1].port: value should be between 0 and 65535',
      "services[0].routes[1].destinations[2].ip: invalid ip or cidr range: '::1/200'",
    ]);
    expect(reasons(withRoute({ protocols: ['tcp'], destinations: [{ port: 9000 }] }))).toEqual([
      "services[0].routes[1]: a route with protocols tcp cannot use service 's' whose protocol is 'http'",
    ]);
    expect(reasons(withRoute({ paths: ['/b'], service: 's' }))).toEqual([
      'services[0].routes[1].service: not allowed on a route nested under a service (the parent service is used)',
    ]);
    expect(
      reasons({
        _format_version: '3.0',
        services: [{ name: 's', host: 'x' }],
        routes: [{ paths: ['/a'] }, { paths: ['/b'], service: 'nope' }, { paths: ['/c'], service: { host: 'x' } }],
      }),
    ).toEqual([
      'routes[0].service: required field missing (nest the route under services[].routes or reference a service by name or id)',
      "routes[1].service: service 'nope' not found",
      'routes[2].service: expected a service name or id, or a record with one of: id, name',
    ]);
  });

  it('a route of a broken service is not reported twice', () => {
    expect(
      reasons({ _format_version: '3.0', services: [{ name: 's', port: 'x', routes: [{ paths: ['/'] }] }] }),
    ).toEqual(['services[0].host: required field missing', 'services[0].port: expected a number']);
  });

  it('upstreams and targets', () => {
    expect(
      reasons({
        _format_version: '3.0',
        upstreams: [
          { name: 'bad name', algorithm: 'least-connections', healthchecks: {} },
          {
            name: 'u',
            algorithm: 'random',
            targets: [{ target: 'a:1' }, { target: 'a:1' }, { target: '::1]:80' }, { target: 'b', weight: 70000 }, {}],
          },
        ],
      }),
    ).toEqual([
      'upstreams[0].healthchecks: not supported by gateway-zipkin (supported: id, name, algorithm, slots, targets, tags)',
      "upstreams[0].name: Invalid name ('bad name'); must be a valid hostname",
      "upstreams[0].algorithm: 'least-connections' is not supported by gateway-zipkin (supported: round-robin)",
      'upstreams[1].algorithm: expected one of: round-robin',
      "upstreams[1].targets[1].target: duplicate target 'a:1' (also at upstreams[1].targets[0])",
      "upstreams[1].targets[2].target: Invalid target ('::1]:80'); not a valid hostname or ip address",
      'upstreams[1].targets[3].weight: value should be between 0 and 65535',
      'upstreams[1].targets[4].target: required field missing',
    ]);
  });

  it('plugins', () => {
    expect(
      reasons({
        _format_version: '3.0',
        services: [{ name: 's', host: 'x', routes: [{ name: 'r', paths: ['/'] }] }],
        plugins: [
          { name: 'zipkin', consumer: 'bob' },
          { name: 'zipkin', route: 'r', protocols: ['http', 'gopher'], enabled: 'no' },
          { name: 'rate-limiting', config: { minute: 5 } },
          { config: {} },
          { name: 'zipkin', service: 'missing', config: { sample_ratio: 2, foo: true } },
        ],
      }),
    ).toEqual([
      'plugins[0].consumer: not supported by gateway-zipkin (supported: id, name, instance_name, enabled, protocols, config, service, route, tags)',
      'plugins[1].enabled: expected a boolean',
      'plugins[1].protocols[1]: expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp',
      "plugins[2].name: plugin 'rate-limiting' is not supported (supported: zipkin)",
      'plugins[3].name: required field missing',
      'plugins[4].config.sample_ratio: value should be between 0 and 1',
      'plugins[4].config.foo: unknown field',
      "plugins[4].service: service 'missing' not found",
    ]);
  });

  it("unknown keys close to a supported one: Kong's text, then the suggestion", () => {
    const SERVICE_KEYS =
      'id, name, url, protocol, host, port, path, retries, connect_timeout, write_timeout, read_timeout, routes, plugins, tags';
    const ROUTE_KEYS =
      'id, name, service, protocols, methods, hosts, paths, regex_priority, strip_path, preserve_host, destinations, plugins, tags';
    expect(
      reasons({
        _format_version: '3.0',
        servcies: [],
        services: [
          {
            name: 's',
            host: 'x',
            retires: 2,
            routes: [{ name: 'r', paths: ['/'], strip_pth: true, protocol: ['http'] }],
            plugins: [{ name: 'zipkin', instance: 'a', config: { sample_rate: 1, htpp_endpoint: 'http://z/' } }],
          },
        ],
        upstreams: [{ name: 'u', target: [], targets: [{ target: 'a:1', wieght: 5 }] }],
      }),
    ).toEqual([
      "servcies: not supported by gateway-zipkin (supported top-level keys: _format_version, services, routes, upstreams, plugins) (did you mean 'services'?)",
      "upstreams[0].target: unknown field (supported: id, name, algorithm, slots, targets, tags) (did you mean 'targets'?)",
      "upstreams[0].targets[0].wieght: unknown field (supported: id, target, weight, tags) (did you mean 'weight'?)",
      `services[0].retires: unknown field (supported: ${SERVICE_KEYS}) (did you mean 'retries'?)`,
      `services[0].routes[0].strip_pth: unknown field (supported: ${ROUTE_KEYS}) (did you mean 'strip_path'?)`,
      `services[0].routes[0].protocol: unknown field (supported: ${ROUTE_KEYS}) (did you mean 'protocols'?)`,
      `services[0].plugins[0].instance: unknown field (supported: id, name, instance_name, enabled, protocols, config, service, route, tags)`,
      "services[0].plugins[0].config.sample_rate: unknown field (did you mean 'sample_ratio'?)",
      "services[0].plugins[0].config.htpp_endpoint: unknown field (did you mean 'http_endpoint'?)",
    ]);
  });

  it('nested plugins cannot name another scope; one instance per scope', () => {
    expect(
      reasons({
        _format_version: '3.0',
        services: [
          {
            name: 's',
            host: 'x',
            plugins: [{ name: 'zipkin', route: 'r' }],
            routes: [{ name: 'r', paths: ['/'], plugins: [{ name: 'zipkin' }, { name: 'zipkin' }] }],
          },
        ],
        plugins: [
          { name: 'zipkin' },
          { name: 'zipkin', instance_name: 'a' },
          { name: 'zipkin', service: 's', route: 'r' },
        ],
      }),
    ).toEqual([
      "services[0].routes[0].plugins[1]: duplicate zipkin plugin for route 'r' (also at services[0].routes[0].plugins[0])",
      'services[0].plugins[0].route: not allowed on a nested plugin (it applies to the entity it is nested under)',
      'plugins[1]: duplicate zipkin plugin for the global scope (also at plugins[0])',
    ]);
  });

  it('ids: kept when given, duplicates rejected, references by id', () => {
    const id = '0b8a2f0e-4c8c-4f5e-9a4e-2f1b0c3d4e5f';
    const config = resolveDeclarativeConfig({
      _format_version: '3.0',
      services: [{ id: id.toUpperCase(), host: 'x' }],
      routes: [{ id: '1b8a2f0e-4c8c-4f5e-9a4e-2f1b0c3d4e5f', service: { id }, paths: ['/'] }],
      plugins: [{ name: 'zipkin', route: '1b8a2f0e-4c8c-4f5e-9a4e-2f1b0c3d4e5f' }],
    });
    expect(config.services[0].id).toBe(id);
    expect(config.routes[0].service).toBe(config.services[0]);
    expect(config.plugins[0].route).toBe(config.routes[0]);
    expect(
      reasons({
        _format_version: '3.0',
        services: [
          { id, host: 'x' },
          { id, host: 'y' },
        ],
      }),
    ).toEqual([`services[1].id: duplicate id '${id}' (also at services[0])`]);
  });
});
