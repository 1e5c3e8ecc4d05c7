/**
 * Loads a Kong declarative config (decK `_format_version: "3.0"`, YAML or JSON) into the
 * resolved model of `./model`. Only what the reference gateway runs is accepted:
 * services, routes (nested or top-level), upstreams with targets, and `zipkin` plugins at
 * global, service, route or route+service scope. Anything else is rejected with the path
 * of the offending entry and a text saying what is supported, so a Kong user never gets a
 * gateway that silently ignores part of their file. Every issue is reported, not just the
 * first.
 *
 * Defaults are Kong's: service `port` 80, `retries` 5, timeouts 60000 ms; route
 * `protocols` [http, https], `strip_path` true, `preserve_host` false, `regex_priority` 0;
 * target port 8000, `weight` 100; plugin `enabled` true, `protocols`
 * [grpc, grpcs, http, https]. A `url` sets protocol, host, port (80/443 by scheme) and path.
 * Ids are kept from the file (they must be UUIDs, as in Kong) or generated. `tags` are
 * accepted everywhere and ignored (metadata in Kong too).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TIMEOUT_MAX } from '../config/defaults';
import { ConfigError } from '../config/errors';
import { validateConfig } from '../config/validate';
import type { ZipkinConfig } from '../config/types';
import { isHostOrIp, isHostname, parseIpOrCidr, splitHostPort, unbracket } from './addresses';
import { BAD, type Bad, Checker, isRecord, quote, type Rec, Registry, type Slot } from './declarative-checks';
import {
  DEFAULT_PLUGIN_PROTOCOLS,
  KONG_PROTOCOLS,
  PLUGIN_SCOPE_PRECEDENCE,
  ROUTE_PROTOCOLS,
  SERVICE_PROTOCOLS,
  type DeclarativeConfig,
  type GatewayDestination,
  type GatewayPlugin,
  type GatewayRoute,
  type GatewayService,
  type GatewayTarget,
  type GatewayUpstream,
  type KongProtocol,
  type PluginScope,
  type RouteProtocol,
  type ServiceProtocol,
} from './model';


// ---------------------------------------------------------------------------------------
// Field lists. "supported" lists what this gateway reads; "known" lists Kong fields it
// does not, so that a decK dump gets "not supported" rather than "unknown field".

const TOP_KEYS = ['_format_version', 'services', 'routes', 'upstreams', 'plugins'] as const;
const SERVICE_KEYS = [
  'id', 'name', 'url', 'protocol', 'host', 'port', 'path', 'retries',
  'connect_timeout', 'write_timeout', 'read_timeout', 'routes', 'plugins', 'tags',
] as const;
const SERVICE_KONG_ONLY = [
  'enabled', 'client_certificate', 'tls_verify', 'tls_verify_depth', 'ca_certificates', 'created_at', 'updated_at',
];
const ROUTE_KEYS = [
  'id', 'name', 'service', 'protocols', 'methods', 'hosts', 'paths', 'regex_priority',
  'strip_path', 'preserve_host', 'destinations', 'plugins', 'tags',
] as const;
const ROUTE_KONG_ONLY = [
  'headers', 'snis', 'sources', 'https_redirect_status_code', 'path_handling', 'request_buffering',
  'response_buffering', 'expression', 'priority', 'created_at', 'updated_at',
];
const DESTINATION_KEYS = ['ip', 'port'] as const;
const UPSTREAM_KEYS = ['id', 'name', 'algorithm', 'slots', 'targets', 'tags'] as const;
const UPSTREAM_KONG_ONLY = [
  'hash_on', 'hash_fallback', 'hash_on_header', 'hash_fallback_header', 'hash_on_cookie', 'hash_on_cookie_path',
  'hash_on_query_arg', 'hash_fallback_query_arg', 'hash_on_uri_capture', 'hash_fallback_uri_capture',
  'healthchecks', 'host_header', 'client_certificate', 'use_srv_name', 'created_at',
];
const TARGET_KEYS = ['id', 'target', 'weight', 'tags'] as const;
const TARGET_KONG_ONLY = ['upstream', 'failover', 'created_at', 'updated_at'];
const PLUGIN_KEYS = ['id', 'name', 'instance_name', 'enabled', 'protocols', 'config', 'service', 'route', 'tags'] as const;
const PLUGIN_KONG_ONLY = ['consumer', 'consumer_group', 'ordering', 'created_at', 'updated_at'];

const SUPPORTED_PLUGINS = ['zipkin'];
const HTTP_ROUTE_PROTOCOLS: readonly RouteProtocol[] = Object.freeze(['http', 'https']);
const UPSTREAM_ALGORITHMS = ['round-robin'];
const KONG_UPSTREAM_ALGORITHMS = ['consistent-hashing', 'least-connections', 'latency', 'sticky-sessions'];

const DEFAULT_TIMEOUT = 60000;
const DEFAULT_RETRIES = 5;
const DEFAULT_TARGET_PORT = 8000;
const DEFAULT_WEIGHT = 100;

// Kong's typedef http_method.
const METHOD_RE = /^[A-Z]+$/;
const URL_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#[\]]*)(?::([0-9]*))?([^?#]*)$/;

// ---------------------------------------------------------------------------------------

class Loader {
  private readonly check = new Checker();
  private readonly upstreams = new Registry<GatewayUpstream>('upstream');
  private readonly services = new Registry<GatewayService>('service');
  private readonly routes = new Registry<GatewayRoute>('route');
  private readonly upstreamList: Slot<GatewayUpstream>[] = [];
  private readonly serviceList: Slot<GatewayService>[] = [];
  private readonly routeList: Slot<GatewayRoute>[] = [];
  private readonly pluginList: GatewayPlugin[] = [];
  // Plugin uniqueness: Kong allows one instance of a plugin per (route, service) pair.
  private readonly pluginScopes = new Map<string, string>();
  private readonly pluginIds = new Map<string, string>();
  private readonly pluginInstanceNames = new Map<string, string>();

  load(input: unknown): DeclarativeConfig {
    const check = this.check;
    if (!isRecord(input)) throw new ConfigError([{ path: '', reason: 'expected a record at the top level of the file' }]);

    for (const key of Object.keys(input)) {
      if (!(TOP_KEYS as readonly string[]).includes(key)) {
        check.fail(key, `not supported by gateway-zipkin (supported top-level keys: ${TOP_KEYS.join(', ')})`);
      }
    }
    this.formatVersion(input._format_version);

    // In this order, so that every reference points backwards: a service's host may name
    // an upstream, a top-level route names a service, a top-level plugin a service or route.
    // Nested entities are handled at their parent's place.
    this.each(input, 'upstreams', (rec, path) => this.upstream(rec, path));
    this.each(input, 'services', (rec, path) => this.service(rec, path));
    this.each(input, 'routes', (rec, path) => this.route(rec, path, null));
    this.each(input, 'plugins', (rec, path) => this.plugin(rec, path, null, null));

    if (check.issues.length > 0) throw new ConfigError(check.issues);
    return Object.freeze({
      format_version: '3.0',
      services: Object.freeze(this.serviceList.map((s) => s.value as GatewayService)),
      routes: Object.freeze(this.routeList.map((r) => r.value as GatewayRoute)),
      upstreams: Object.freeze(this.upstreamList.map((u) => u.value as GatewayUpstream)),
      plugins: Object.freeze(this.pluginList),
    });
  }

  private formatVersion(value: unknown): void {
    if (value === undefined || value === null) {
      this.check.fail('_format_version', 'required field missing (this gateway reads decK files with _format_version: "3.0")');
    } else if (typeof value !== 'string') {
      this.check.fail('_format_version', `expected a string: write "3.0" (quoted in YAML), got ${quote(value)}`);
    } else if (value !== '3.0') {
      this.check.fail('_format_version', `unsupported version '${value}' (supported: "3.0")`);
    }
  }

  /** Runs `fn` on each record of an array field; reports non-records. */
  private each(parent: Rec, key: string, fn: (rec: Rec, path: string) => void, parentPath = ''): void {
    const value = parent[key];
    const path = parentPath === '' ? key : `${parentPath}.${key}`;
    if (value === undefined || value === null) return;
    if (!Array.isArray(value)) {
      this.check.fail(path, 'expected an array');
      return;
    }
    value.forEach((item, i) => {
      const itemPath = `${path}[${i}]`;
      if (!isRecord(item)) this.check.fail(itemPath, 'expected a record');
      else fn(item, itemPath);
    });
  }

  // ---- upstreams ----------------------------------------------------------------------

  private upstream(rec: Rec, path: string): void {
    const check = this.check;
    check.keys(rec, path, UPSTREAM_KEYS, UPSTREAM_KONG_ONLY);
    const id = check.id(rec, path);
    let name = check.string(rec, 'name', path, true);
    if (typeof name === 'string' && !isHostname(name)) {
      name = check.fail(`${path}.name`, `Invalid name ('${name}'); must be a valid hostname`);
    }
    const slot: Slot<GatewayUpstream> = {
      id: id === BAD ? null : id,
      name: typeof name === 'string' ? name : null,
      entryPath: path,
      value: null,
    };
    this.upstreams.add(check, slot);
    this.upstreamList.push(slot);

    let algorithm = check.string(rec, 'algorithm', path);
    if (typeof algorithm === 'string' && !UPSTREAM_ALGORITHMS.includes(algorithm)) {
      algorithm = check.fail(
        `${path}.algorithm`,
        KONG_UPSTREAM_ALGORITHMS.includes(algorithm)
          ? `'${algorithm}' is not supported by gateway-zipkin (supported: ${UPSTREAM_ALGORITHMS.join(', ')})`
          : `expected one of: ${UPSTREAM_ALGORITHMS.join(', ')}`,
      );
    }
    const slots = check.integer(rec, 'slots', path, 10000, 10, 2 ** 16);

    const targets: GatewayTarget[] = [];
    const seen = new Map<string, string>();
    let targetsOk = true;
    this.each(
      rec,
      'targets',
      (t, tPath) => {
        const target = this.target(t, tPath);
        if (target === BAD) {
          targetsOk = false;
          return;
        }
        const key = `${target.host}:${target.port}`;
        const other = seen.get(key);
        if (other !== undefined) {
          targetsOk = false;
          check.fail(`${tPath}.target`, `duplicate target '${target.target}' (also at ${other})`);
          return;
        }
        seen.set(key, tPath);
        targets.push(target);
      },
      path,
    );
    if (rec.targets !== undefined && rec.targets !== null && !Array.isArray(rec.targets)) targetsOk = false;

    if (id === BAD || typeof name !== 'string' || algorithm === BAD || slots === BAD || !targetsOk) return;
    slot.value = Object.freeze({
      id,
      name,
      algorithm: 'round-robin',
      slots,
      targets: Object.freeze(targets),
      entryPath: path,
    });
  }

  private target(rec: Rec, path: string): GatewayTarget | Bad {
    const check = this.check;
    check.keys(rec, path, TARGET_KEYS, TARGET_KONG_ONLY);
    const id = check.id(rec, path);
    const text = check.string(rec, 'target', path, true);
    const weight = check.integer(rec, 'weight', path, DEFAULT_WEIGHT, 0, 65535);
    let host: string | null = null;
    let port = DEFAULT_TARGET_PORT;
    if (typeof text === 'string') {
      const split = splitHostPort(text);
      if (typeof split === 'string' || !isHostOrIp(split.host)) {
        check.fail(`${path}.target`, `Invalid target ('${text}'); not a valid hostname or ip address`);
      } else {
        host = split.host;
        if (split.port !== null) port = split.port;
      }
    }
    if (id === BAD || typeof text !== 'string' || host === null || weight === BAD) return BAD;
    return Object.freeze({ id, target: text, host, port, weight, entryPath: path });
  }

  // ---- services -----------------------------------------------------------------------

  private service(rec: Rec, path: string): void {
    const check = this.check;
    check.keys(rec, path, SERVICE_KEYS, SERVICE_KONG_ONLY);
    const id = check.id(rec, path);
    const name = check.name(rec, 'name', path);
    const slot: Slot<GatewayService> = {
      id: id === BAD ? null : id,
      name: typeof name === 'string' ? name : null,
      entryPath: path,
      value: null,
    };
    this.services.add(check, slot);
    this.serviceList.push(slot);

    const target = this.serviceTarget(rec, path);
    const retries = check.integer(rec, 'retries', path, DEFAULT_RETRIES, 0, 32767);
    const connectTimeout = check.integer(rec, 'connect_timeout', path, DEFAULT_TIMEOUT, 1, TIMEOUT_MAX);
    const writeTimeout = check.integer(rec, 'write_timeout', path, DEFAULT_TIMEOUT, 1, TIMEOUT_MAX);
    const readTimeout = check.integer(rec, 'read_timeout', path, DEFAULT_TIMEOUT, 1, TIMEOUT_MAX);

    if (
      id !== BAD && name !== BAD && target !== BAD &&
      retries !== BAD && connectTimeout !== BAD && writeTimeout !== BAD && readTimeout !== BAD
    ) {
      const upstream = this.upstreams.byNameOnly(target.host);
      slot.value = Object.freeze({
        id,
        name,
        protocol: target.protocol,
        host: target.host,
        port: target.port,
        path: target.path,
        retries,
        connect_timeout: connectTimeout,
        write_timeout: writeTimeout,
        read_timeout: readTimeout,
        upstream: upstream?.value ?? null,
        entryPath: path,
      });
    }

    // Nested entities are checked even when the service itself is wrong.
    this.each(rec, 'routes', (r, rPath) => this.route(r, rPath, slot), path);
    this.each(rec, 'plugins', (p, pPath) => this.plugin(p, pPath, slot, null), path);
  }

  /** protocol/host/port/path, from `url` or from the separate fields. */
  private serviceTarget(
    rec: Rec,
    path: string,
  ): { protocol: ServiceProtocol; host: string; port: number; path: string | null } | Bad {
    const check = this.check;
    const url = check.string(rec, 'url', path);
    if (url === BAD) return BAD;
    if (url !== null) {
      const combined = ['protocol', 'host', 'port', 'path'].filter((k) => rec[k] !== undefined && rec[k] !== null);
      if (combined.length > 0) {
        return check.fail(`${path}.url`, `cannot be combined with ${combined.map((k) => `'${k}'`).join(', ')}`);
      }
      const m = URL_RE.exec(url);
      if (m === null) return check.fail(`${path}.url`, `invalid url '${url}' (expected protocol://host[:port][/path])`);
      const protocol = m[1].toLowerCase();
      if (!(SERVICE_PROTOCOLS as readonly string[]).includes(protocol)) {
        return check.fail(`${path}.url`, `protocol '${protocol}' is not supported (supported: ${SERVICE_PROTOCOLS.join(', ')})`);
      }
      const host = unbracket(m[2]);
      if (host === '' || !isHostOrIp(host)) return check.fail(`${path}.url`, `invalid hostname in url '${url}'`);
      let port: number;
      if (m[3] !== undefined && m[3] !== '') {
        port = Number(m[3]);
        if (port > 65535) return check.fail(`${path}.url`, `invalid port in url '${url}'`);
      } else if (protocol === 'http' || protocol === 'https') {
        port = protocol === 'https' ? 443 : 80;
      } else {
        return check.fail(`${path}.url`, `a ${protocol} url needs a port`);
      }
      const urlPath = m[4] === '' ? null : m[4];
      if (urlPath !== null && protocol !== 'http' && protocol !== 'https') {
        return check.fail(`${path}.url`, `a path can only be set when the protocol is 'http' or 'https'`);
      }
      return { protocol: protocol as ServiceProtocol, host, port, path: urlPath };
    }

    let protocol = check.string(rec, 'protocol', path);
    if (typeof protocol === 'string' && !(SERVICE_PROTOCOLS as readonly string[]).includes(protocol)) {
      protocol = check.fail(`${path}.protocol`, `expected one of: ${SERVICE_PROTOCOLS.join(', ')}`);
    }
    let host = check.string(rec, 'host', path, true);
    if (typeof host === 'string') {
      const bare = unbracket(host);
      host = isHostOrIp(bare) ? bare : check.fail(`${path}.host`, `invalid hostname: ${host}`);
    }
    const port = check.integer(rec, 'port', path, 80, 0, 65535);
    let servicePath = check.string(rec, 'path', path);
    const effectiveProtocol = (protocol ?? 'http') as ServiceProtocol | Bad;
    if (typeof servicePath === 'string') {
      if (!servicePath.startsWith('/')) servicePath = check.fail(`${path}.path`, 'should start with: /');
      else if (effectiveProtocol !== 'http' && effectiveProtocol !== 'https' && effectiveProtocol !== BAD) {
        servicePath = check.fail(`${path}.path`, `can only be set when 'protocol' is 'http' or 'https'`);
      }
    }
    if (effectiveProtocol === BAD || host === BAD || host === null || port === BAD || servicePath === BAD) return BAD;
    return { protocol: effectiveProtocol, host, port, path: servicePath };
  }

  // ---- routes -------------------------------------------------------------------------

  /** A route; `parent` is the service it is nested under, or null for a top-level one. */
  private route(rec: Rec, path: string, parent: Slot<GatewayService> | null): void {
    const check = this.check;
    check.keys(rec, path, ROUTE_KEYS, ROUTE_KONG_ONLY);
    const id = check.id(rec, path);
    const name = check.name(rec, 'name', path);
    const slot: Slot<GatewayRoute> = {
      id: id === BAD ? null : id,
      name: typeof name === 'string' ? name : null,
      entryPath: path,
      value: null,
    };
    this.routes.add(check, slot);
    this.routeList.push(slot);
    this.buildRoute(rec, path, parent, slot);
    this.each(rec, 'plugins', (p, pPath) => this.plugin(p, pPath, null, slot), path);
  }

  private buildRoute(rec: Rec, path: string, parent: Slot<GatewayService> | null, slot: Slot<GatewayRoute>): void {
    const check = this.check;
    let serviceSlot: Slot<GatewayService> | Bad;
    if (parent !== null) {
      serviceSlot = parent;
      if (rec.service !== undefined && rec.service !== null) {
        check.fail(`${path}.service`, 'not allowed on a route nested under a service (the parent service is used)');
      }
    } else if (rec.service === undefined || rec.service === null) {
      serviceSlot = check.fail(
        `${path}.service`,
        'required field missing (nest the route under services[].routes or reference a service by name or id)',
      );
    } else {
      serviceSlot = this.services.resolve(check, rec.service, `${path}.service`);
    }

    let protocols: RouteProtocol[] | Bad = [...HTTP_ROUTE_PROTOCOLS];
    const protocolList = check.strings(rec, 'protocols', path, (p) =>
      (ROUTE_PROTOCOLS as readonly string[]).includes(p) ? undefined : `expected one of: ${ROUTE_PROTOCOLS.join(', ')}`,
    );
    if (protocolList === BAD) protocols = BAD;
    else if (protocolList !== null) protocols = [...new Set(protocolList)] as RouteProtocol[];

    let subsystem: 'http' | 'stream' | Bad = BAD;
    if (protocols !== BAD) {
      const http = protocols.some((p) => p === 'http' || p === 'https');
      const stream = protocols.some((p) => p === 'tcp' || p === 'tls');
      if (http && stream) {
        check.fail(`${path}.protocols`, 'cannot mix http protocols (http, https) with stream protocols (tcp, tls)');
      } else {
        subsystem = stream ? 'stream' : 'http';
      }
    }

    const methods = check.strings(rec, 'methods', path, (m) =>
      METHOD_RE.test(m) ? undefined : `invalid value: ${m} (methods are upper-case, e.g. GET)`,
    );
    const hosts = check.strings(rec, 'hosts', path, checkRouteHost);
    const paths = check.strings(rec, 'paths', path, checkRoutePath);
    const regexPriority = check.integer(rec, 'regex_priority', path, 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const stripPath = check.boolean(rec, 'strip_path', path, true);
    const preserveHost = check.boolean(rec, 'preserve_host', path, false);
    const destinations = this.destinations(rec, path);

    if (subsystem === 'http') {
      if (destinations !== null && destinations !== BAD) {
        check.fail(`${path}.destinations`, `can only be set when 'protocols' is 'tcp' or 'tls'`);
      }
      if (methods === null && hosts === null && paths === null) {
        check.fail(path, `must set one of 'methods', 'hosts', 'paths' when 'protocols' is 'http' or 'https'`);
      }
    } else if (subsystem === 'stream') {
      for (const [key, value] of [['methods', methods], ['hosts', hosts], ['paths', paths]] as const) {
        if (value !== null && value !== BAD) check.fail(`${path}.${key}`, `can only be set when 'protocols' is 'http' or 'https'`);
      }
      if (destinations === null) {
        check.fail(path, `must set 'destinations' when 'protocols' is 'tcp' or 'tls' (sources and snis are not supported)`);
      }
    }

    const service = serviceSlot === BAD ? null : serviceSlot.value;
    if (service !== null && subsystem !== BAD) {
      const serviceIsStream = service.protocol === 'tcp' || service.protocol === 'tls';
      if (serviceIsStream !== (subsystem === 'stream')) {
        check.fail(
          path,
          `a route with protocols ${(protocols as RouteProtocol[]).join(', ')} cannot use service ` +
            `'${service.name ?? service.id}' whose protocol is '${service.protocol}'`,
        );
        return;
      }
    }

    const nameOk = slot.name !== null || rec.name === undefined || rec.name === null;
    if (
      slot.id === null || !nameOk || service === null ||
      protocols === BAD || subsystem === BAD || methods === BAD || hosts === BAD || paths === BAD ||
      regexPriority === BAD || stripPath === BAD || preserveHost === BAD || destinations === BAD
    ) {
      return;
    }
    slot.value = Object.freeze({
      id: slot.id,
      name: slot.name,
      service,
      protocols: Object.freeze(protocols),
      methods: methods === null ? null : Object.freeze([...new Set(methods)]),
      hosts: hosts === null ? null : Object.freeze(hosts.map((h) => h.toLowerCase())),
      paths: paths === null ? null : Object.freeze(paths),
      regex_priority: regexPriority,
      strip_path: stripPath,
      preserve_host: preserveHost,
      destinations,
      subsystem,
      entryPath: path,
    });
  }

  private destinations(rec: Rec, path: string): readonly GatewayDestination[] | null | Bad {
    const check = this.check;
    const list = check.array(rec, 'destinations', path);
    if (list === null) return null;
    if (list === BAD) return BAD;
    const out: GatewayDestination[] = [];
    let ok = true;
    list.forEach((item, i) => {
      const dPath = `${path}.destinations[${i}]`;
      if (!isRecord(item)) {
        ok = false;
        check.fail(dPath, 'expected a record');
        return;
      }
      const before = check.issues.length;
      check.keys(item, dPath, DESTINATION_KEYS, []);
      let ip = check.string(item, 'ip', dPath);
      if (typeof ip === 'string' && parseIpOrCidr(ip) === null) ip = check.fail(`${dPath}.ip`, `invalid ip or cidr range: '${ip}'`);
      const port = item.port === undefined || item.port === null ? null : check.integer(item, 'port', dPath, 0, 0, 65535);
      if (ip === null && port === null) check.fail(dPath, `at least one of these fields must be non-empty: 'ip', 'port'`);
      if (check.issues.length !== before || ip === BAD || port === BAD) {
        ok = false;
        return;
      }
      out.push(Object.freeze({ ip, port }));
    });
    return ok ? Object.freeze(out) : BAD;
  }

  // ---- plugins ------------------------------------------------------------------------

  /** A plugin; `service` / `route` is the entity it is nested under (both null at top level). */
  private plugin(rec: Rec, path: string, parentService: Slot<GatewayService> | null, parentRoute: Slot<GatewayRoute> | null): void {
    const plugin = this.buildPlugin(rec, path, parentService, parentRoute);
    if (plugin === BAD) return;
    const check = this.check;
    const otherId = this.pluginIds.get(plugin.id);
    if (otherId !== undefined) {
      check.fail(`${path}.id`, `duplicate id '${plugin.id}' (also at ${otherId})`);
      return;
    }
    this.pluginIds.set(plugin.id, path);
    if (plugin.instance_name !== null) {
      const other = this.pluginInstanceNames.get(plugin.instance_name);
      if (other !== undefined) {
        check.fail(`${path}.instance_name`, `duplicate instance_name '${plugin.instance_name}' (also at ${other})`);
        return;
      }
      this.pluginInstanceNames.set(plugin.instance_name, path);
    }
    const key = `${plugin.route?.id ?? ''}|${plugin.service?.id ?? ''}`;
    const other = this.pluginScopes.get(key);
    if (other !== undefined) {
      check.fail(path, `duplicate zipkin plugin for ${describeScope(plugin)} (also at ${other})`);
      return;
    }
    this.pluginScopes.set(key, path);
    this.pluginList.push(plugin);
  }

  private buildPlugin(
    rec: Rec,
    path: string,
    parentService: Slot<GatewayService> | null,
    parentRoute: Slot<GatewayRoute> | null,
  ): GatewayPlugin | Bad {
    const check = this.check;
    const name = check.string(rec, 'name', path, true);
    if (name === BAD) return BAD;
    if (!SUPPORTED_PLUGINS.includes(name as string)) {
      return check.fail(`${path}.name`, `plugin '${name}' is not supported (supported: ${SUPPORTED_PLUGINS.join(', ')})`);
    }
    check.keys(rec, path, PLUGIN_KEYS, PLUGIN_KONG_ONLY);
    const id = check.id(rec, path);
    const instanceName = check.name(rec, 'instance_name', path);
    const enabled = check.boolean(rec, 'enabled', path, true);
    let protocols: readonly KongProtocol[] | Bad = DEFAULT_PLUGIN_PROTOCOLS;
    const protocolList = check.strings(rec, 'protocols', path, (p) =>
      (KONG_PROTOCOLS as readonly string[]).includes(p) ? undefined : `expected one of: ${KONG_PROTOCOLS.join(', ')}`,
    );
    if (protocolList === BAD) protocols = BAD;
    else if (protocolList !== null) protocols = Object.freeze([...new Set(protocolList)] as KongProtocol[]);

    let zipkinConfig: ZipkinConfig | Bad = BAD;
    try {
      zipkinConfig = validateConfig(rec.config, { path: `${path}.config` });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.errors) check.fail(issue.path, issue.reason);
    }

    // Scope: fixed by nesting, or from top-level references.
    let service: Slot<GatewayService> | null | Bad = parentService;
    let route: Slot<GatewayRoute> | null | Bad = parentRoute;
    if (parentService !== null || parentRoute !== null) {
      for (const key of ['service', 'route'] as const) {
        if (rec[key] !== undefined && rec[key] !== null) {
          check.fail(`${path}.${key}`, `not allowed on a nested plugin (it applies to the entity it is nested under)`);
        }
      }
    } else {
      if (rec.service !== undefined && rec.service !== null) service = this.services.resolve(check, rec.service, `${path}.service`);
      if (rec.route !== undefined && rec.route !== null) route = this.routes.resolve(check, rec.route, `${path}.route`);
    }

    if (id === BAD || instanceName === BAD || enabled === BAD || protocols === BAD || zipkinConfig === BAD) return BAD;
    if (service === BAD || route === BAD) return BAD;
    // An entity that failed its own checks was reported already.
    if ((service !== null && service.value === null) || (route !== null && route.value === null)) return BAD;

    const scope: PluginScope =
      route !== null && service !== null ? 'route+service' : route !== null ? 'route' : service !== null ? 'service' : 'global';
    return Object.freeze({
      id,
      name: 'zipkin' as const,
      instance_name: instanceName,
      enabled,
      protocols,
      config: rec.config,
      zipkinConfig,
      service: service?.value ?? null,
      route: route?.value ?? null,
      scope,
      precedence: PLUGIN_SCOPE_PRECEDENCE[scope],
      entryPath: path,
    });
  }
}

function describeScope(plugin: GatewayPlugin): string {
  const svc = plugin.service === null ? '' : `service '${plugin.service.name ?? plugin.service.id}'`;
  const rte = plugin.route === null ? '' : `route '${plugin.route.name ?? plugin.route.id}'`;
  if (svc !== '' && rte !== '') return `${rte} and ${svc}`;
  return svc !== '' ? svc : rte !== '' ? rte : 'the global scope';
}

/** Kong's host checks for route `hosts`: one wildcard at most, leftmost or rightmost label, optional port. */
function checkRouteHost(host: string): string | undefined {
  const split = splitHostPort(host);
  if (typeof split === 'string') return split;
  const name = split.host;
  const stars = name.split('*').length - 1;
  if (stars > 1) return 'invalid wildcard: must have at most one wildcard';
  if (stars === 1) {
    const left = name.startsWith('*.');
    const right = name.endsWith('.*');
    if (!left && !right) return 'invalid wildcard: must be placed at leftmost or rightmost label';
    const rest = left ? name.slice(2) : name.slice(0, -2);
    return isHostname(rest) ? undefined : `invalid hostname: ${host}`;
  }
  return isHostOrIp(name) ? undefined : `invalid hostname: ${host}`;
}

/** Route `paths`: `/prefix` or `~regex`; the regex must compile as Kong anchors it (`^` + body). */
function checkRoutePath(path: string): string | undefined {
  if (path.startsWith('~')) {
    try {
      new RegExp('^' + path.slice(1));
      return undefined;
    } catch (err) {
      return `invalid regex: '${path.slice(1)}' (${(err as Error).message})`;
    }
  }
  return path.startsWith('/') ? undefined : 'should start with: / (fixed path) or ~ (regex path)';
}

// ---------------------------------------------------------------------------------------
// Entry points.

/** Resolves an already-parsed decK document (the object YAML/JSON parsing gives). */
export function resolveDeclarativeConfig(input: unknown): DeclarativeConfig {
  return new Loader().load(input);
}

export interface ParseOptions {
  /** `json` parses with `JSON.parse`; `yaml` (default) also reads JSON, YAML being a superset. */
  readonly format?: 'yaml' | 'json';
}

// Parser messages quote the source around the error, which may hold the http_endpoint
// password: only the position (and YAML's error code) is reported.

function yamlErrorReason(err: unknown): string {
  const e = err as { code?: unknown; linePos?: ReadonlyArray<{ line: number; col: number }> };
  const at = e.linePos?.[0];
  const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
  return `invalid YAML${where}${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
}

function jsonErrorReason(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (m === null) return 'invalid JSON';
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split('\n');
  return `invalid JSON at line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Parses decK text (YAML or JSON) and resolves it. Throws `ConfigError`. */
export function parseDeclarativeConfig(text: string, options: ParseOptions = {}): DeclarativeConfig {
  let doc: unknown;
  if (options.format === 'json') {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([{ path: '', reason: jsonErrorReason(text, err) }]);
    }
  } else {
    try {
      doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
    } catch (err) {
      throw new ConfigError([{ path: '', reason: yamlErrorReason(err) }]);
    }
  }
  return resolveDeclarativeConfig(doc);
}

/** Reads and loads a decK file; `.json` files are parsed as JSON, anything else as YAML. */
export async function loadDeclarativeConfigFile(file: string): Promise<DeclarativeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', reason: `cannot read ${file}: ${(err as Error).message}` }]);
  }
  return parseDeclarativeConfig(text, { format: extname(file).toLowerCase() === '.json' ? 'json' : 'yaml' });
}
