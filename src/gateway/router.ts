/**
 * Kong's routing for the fields the reference gateway supports, precompiled once at load.
 *
 * HTTP, as Kong 3.x's default `traditional_compatible` router orders routes
 * (`kong/router/transform.lua` `get_priority`). A route with several paths is split as Kong
 * splits it: one candidate for its regex paths, one per distinct prefix length. Candidates
 * are tried in this order, the first one that matches wins:
 *   1. more of `methods`, `hosts`, `paths` set first;
 *   2. then routes whose hosts are all plain (no wildcard);
 *   3. then regex paths before prefix paths;
 *   4. among regex paths, higher `regex_priority` first;
 *   5. among prefix paths, longer prefixes first;
 *   6. then file order. (Kong breaks this last tie by internal matcher ids, which a decK
 *      user cannot see; file order is what they can.)
 * A candidate matches when the method is one of `methods`, the host (case-insensitive,
 * without its port) is one of `hosts` (`*.example.com` matches by suffix, `example.*` by
 * prefix, `host:port` also needs the local port), and the normalized path starts with a
 * prefix or matches a regex. A regex
 * path `~re` is compiled as Kong does, `^` + `re` (so `~/a|/b` is `^/a` or `/b` anywhere,
 * as in Kong); JavaScript regex syntax applies instead of PCRE. Route `protocols` do not
 * take part in matching: a request over http to an https-only route matches it and the
 * gateway answers 426 (`httpsRequired`), as Kong does.
 *
 * Stream: routes whose `protocols` include the connection's protocol, matched on the
 * local (destination) address and port of `destinations`; Kong's stream priority puts
 * routes with an exact IP first, then a port, then a CIDR block, then file order.
 *
 * Plugins: for each route and protocol the zipkin instance that runs is resolved once:
 * the enabled instance listing that protocol with the most specific scope,
 * route+service > route > service > global. An instance that is disabled or does not list
 * the protocol lets the next scope apply. (Kong builds its plugin table from the enabled
 * instances of the request's subsystem, http or stream; telling http from https apart as
 * well is this gateway's reading of `protocols`.)
 *
 * Per request, matching allocates nothing beyond the result object, the path split and
 * regex results; there is no cache (Kong's LRU cache pays off for thousands of routes).
 */
import { BlockList } from 'node:net';
import { hostWithoutPort } from '../trace/http-values';
import { canonicalIp, parseIpOrCidr, splitHostPort } from './addresses';
import type {
  DeclarativeConfig,
  GatewayPlugin,
  GatewayRoute,
  GatewayService,
  HttpProtocol,
  KongProtocol,
  RouteProtocol,
  StreamProtocol,
} from './model';
import { splitRequestTarget, upstreamTarget } from './uri';

/** What the router needs from an HTTP request. */
export interface HttpRequestInfo {
  /** Upper-case method as received (`req.method`). */
  readonly method: string;
  /** The request target as received (`req.url`): path and optional query. */
  readonly url: string;
  /** The Host header (may carry a port), or undefined. */
  readonly host: string | undefined;
  /** How the client reached the gateway. */
  readonly protocol: HttpProtocol;
  /** Local port the request arrived on; needed only by `hosts` entries with a port. */
  readonly port?: number;
}

export interface HttpMatch {
  readonly route: GatewayRoute;
  readonly service: GatewayService;
  /** Path and query to request upstream: Kong's join of the service path, escaped. */
  readonly upstreamUri: string;
  /** With `preserve_host`, the request's Host header to send upstream; otherwise null. */
  readonly upstreamHost: string | null;
  /** The stripped prefix (for `X-Forwarded-Prefix`), or null when nothing was stripped. */
  readonly prefix: string | null;
  /**
   * The route accepts only https and the request came over http: Kong answers 426
   * `{"message":"Please use HTTPS protocol"}` with `Connection: Upgrade` and
   * `Upgrade: TLS/1.2, HTTP/1.1` instead of proxying.
   */
  readonly httpsRequired: boolean;
  /** The zipkin instance that runs for this request, or null. */
  readonly plugin: GatewayPlugin | null;
  /** The normalized request path without query (what `http_span_name = method_path` shows). */
  readonly path: string;
}

/** What the router needs from an accepted TCP/TLS connection. */
export interface StreamConnectionInfo {
  readonly protocol: StreamProtocol;
  /** The local address the connection arrived on (`socket.localAddress`). */
  readonly destinationIp: string;
  /** The local port (`socket.localPort`). */
  readonly destinationPort: number;
}

export interface StreamMatch {
  readonly route: GatewayRoute;
  readonly service: GatewayService;
  readonly plugin: GatewayPlugin | null;
}

/** The zipkin instance per protocol a request can arrive with. */
type PluginTable = Readonly<Record<RouteProtocol, GatewayPlugin | null>>;

const HOST_EXACT = 0;
const HOST_SUFFIX = 1;
const HOST_PREFIX = 2;

interface HostMatcher {
  readonly kind: 0 | 1 | 2;
  /** Lower-case; without the `*` (suffix keeps its leading `.`, prefix its trailing `.`). */
  readonly value: string;
  /** Local port the request must have arrived on, or -1. */
  readonly port: number;
}

interface HttpCandidate {
  readonly route: GatewayRoute;
  readonly plugins: PluginTable;
  readonly httpsOnly: boolean;
  readonly methods: readonly string[] | null;
  readonly hosts: readonly HostMatcher[] | null;
  /** Same-length prefixes (one group of Kong's split), or null. */
  readonly prefixes: readonly string[] | null;
  /** The route's regex paths, in file order, or null. */
  readonly regexes: readonly RegExp[] | null;
  // Sort keys, most significant first.
  readonly weight: number;
  readonly plainHostOnly: boolean;
  readonly regexPriority: number;
  readonly prefixLength: number;
  readonly order: number;
}

interface StreamCandidate {
  readonly route: GatewayRoute;
  readonly plugins: PluginTable;
  readonly destinations: readonly { readonly ips: BlockList | null; readonly port: number }[];
  readonly priority: number;
  readonly order: number;
}

// Kong's stream priority bits for destinations.
const DST_IP_BIT = 8;
const DST_PORT_BIT = 4;
const DST_CIDR_BIT = 1;

const REQUEST_PROTOCOLS: readonly RouteProtocol[] = ['http', 'https', 'tcp', 'tls'];

function compareHttp(a: HttpCandidate, b: HttpCandidate): number {
  return (
    b.weight - a.weight ||
    Number(b.plainHostOnly) - Number(a.plainHostOnly) ||
    Number(b.regexes !== null) - Number(a.regexes !== null) ||
    b.regexPriority - a.regexPriority ||
    b.prefixLength - a.prefixLength ||
    a.order - b.order
  );
}

function compileHosts(hosts: readonly string[]): HostMatcher[] {
  return hosts.map((text) => {
    const split = splitHostPort(text);
    // The loader validated every entry; a string here cannot happen.
    const host = typeof split === 'string' ? text : split.host;
    const port = typeof split === 'string' || split.port === null ? -1 : split.port;
    if (host.startsWith('*')) return { kind: HOST_SUFFIX, value: host.slice(1), port };
    if (host.endsWith('*')) return { kind: HOST_PREFIX, value: host.slice(0, -1), port };
    return { kind: HOST_EXACT, value: host, port };
  });
}

/** The host part of a Host header, lower-cased: `Example.com:8000` → `example.com`, `[::1]:80` → `::1`. */
function requestHostName(header: string): string {
  const host = hostWithoutPort(header).toLowerCase();
  return host.length > 1 && host.charCodeAt(0) === 91 /* [ */ && host.endsWith(']') ? host.slice(1, -1) : host;
}

function hostMatches(matchers: readonly HostMatcher[], host: string, port: number): boolean {
  for (let i = 0; i < matchers.length; i++) {
    const m = matchers[i];
    if (m.port !== -1 && m.port !== port) continue;
    if (
      m.kind === HOST_EXACT
        ? host === m.value
        : m.kind === HOST_SUFFIX
          ? host.endsWith(m.value)
          : host.startsWith(m.value)
    ) {
      return true;
    }
  }
  return false;
}

export class GatewayRouter {
  private readonly http: readonly HttpCandidate[];
  private readonly stream: readonly StreamCandidate[];
  private readonly pluginsByRoute: ReadonlyMap<string, PluginTable>;
  private readonly globalPlugins: PluginTable;
  /** True when some route needs the local port (a `hosts` entry with a port). */
  readonly needsLocalPort: boolean;

  constructor(config: DeclarativeConfig) {
    const enabled = config.plugins.filter((p) => p.enabled);
    this.globalPlugins = resolvePlugins(enabled, null);
    const byRoute = new Map<string, PluginTable>();
    const http: HttpCandidate[] = [];
    const stream: StreamCandidate[] = [];
    let needsLocalPort = false;

    config.routes.forEach((route, index) => {
      const plugins = resolvePlugins(enabled, route);
      byRoute.set(route.id, plugins);
      if (route.subsystem === 'stream') {
        stream.push(compileStream(route, plugins, index));
        return;
      }
      const hosts = route.hosts === null ? null : compileHosts(route.hosts);
      if (hosts !== null && hosts.some((h) => h.port !== -1)) needsLocalPort = true;
      const base = {
        route,
        plugins,
        httpsOnly: route.protocols.includes('https') && !route.protocols.includes('http'),
        methods: route.methods,
        hosts,
        weight: Number(route.methods !== null) + Number(route.hosts !== null) + Number(route.paths !== null),
        plainHostOnly: route.hosts !== null && route.hosts.every((h) => !h.includes('*')),
      };
      if (route.paths === null) {
        http.push({ ...base, prefixes: null, regexes: null, regexPriority: 0, prefixLength: 0, order: index });
        return;
      }
      const regexes = route.paths.filter((p) => p.startsWith('~')).map((p) => new RegExp('^' + p.slice(1)));
      if (regexes.length > 0) {
        http.push({
          ...base,
          prefixes: null,
          regexes,
          regexPriority: route.regex_priority,
          prefixLength: 0,
          order: index,
        });
      }
      const byLength = new Map<number, string[]>();
      for (const p of route.paths) {
        if (p.startsWith('~')) continue;
        const group = byLength.get(p.length);
        if (group === undefined) byLength.set(p.length, [p]);
        else if (!group.includes(p)) group.push(p);
      }
      for (const [length, prefixes] of byLength) {
        http.push({ ...base, prefixes, regexes: null, regexPriority: 0, prefixLength: length, order: index });
      }
    });

    http.sort(compareHttp);
    stream.sort((a, b) => b.priority - a.priority || a.order - b.order);
    this.http = http;
    this.stream = stream;
    this.pluginsByRoute = byRoute;
    this.needsLocalPort = needsLocalPort;
  }

  /** The route for an HTTP request, or null (Kong then answers 404 `no Route matched with those values`). */
  matchHttp(req: HttpRequestInfo): HttpMatch | null {
    const target = splitRequestTarget(req.url);
    const path = target.path;
    const host = req.host === undefined || req.host === '' ? null : requestHostName(req.host);
    const port = req.port ?? -1;
    const candidates = this.http;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      if (c.methods !== null && !c.methods.includes(req.method)) continue;
      if (c.hosts !== null && (host === null || !hostMatches(c.hosts, host, port))) continue;
      let matched: string | null = null;
      if (c.prefixes !== null) {
        for (let j = 0; j < c.prefixes.length; j++) {
          if (path.startsWith(c.prefixes[j])) {
            matched = c.prefixes[j];
            break;
          }
        }
        if (matched === null) continue;
      } else if (c.regexes !== null) {
        for (let j = 0; j < c.regexes.length; j++) {
          const m = c.regexes[j].exec(path);
          if (m !== null) {
            matched = m[0];
            break;
          }
        }
        if (matched === null) continue;
      }
      const route = c.route;
      const service = route.service;
      const prefix = route.strip_path ? matched : null;
      return {
        route,
        service,
        upstreamUri: upstreamTarget(service.path ?? '/', route.strip_path, prefix, path, target.query),
        upstreamHost: route.preserve_host && req.host !== undefined ? req.host : null,
        prefix,
        httpsRequired: c.httpsOnly && req.protocol !== 'https',
        plugin: c.plugins[req.protocol],
        path,
      };
    }
    return null;
  }

  /** The route for a TCP/TLS connection, or null (Kong closes the connection). */
  matchStream(conn: StreamConnectionInfo): StreamMatch | null {
    const candidates = this.stream;
    let ip: string | null = null;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      if (!c.route.protocols.includes(conn.protocol)) continue;
      for (let j = 0; j < c.destinations.length; j++) {
        const d = c.destinations[j];
        if (d.port !== -1 && d.port !== conn.destinationPort) continue;
        if (d.ips !== null) {
          if (ip === null) ip = canonicalIp(conn.destinationIp);
          if (!d.ips.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4')) continue;
        }
        return { route: c.route, service: c.route.service, plugin: c.plugins[conn.protocol] };
      }
    }
    return null;
  }

  /**
   * The zipkin instance for a request on `route` (null: an unmatched request, where only a
   * global instance can apply) over `protocol`; null when none applies.
   */
  pluginFor(route: GatewayRoute | null, protocol: KongProtocol): GatewayPlugin | null {
    if (!(REQUEST_PROTOCOLS as readonly string[]).includes(protocol)) return null;
    const table = route === null ? this.globalPlugins : this.pluginsByRoute.get(route.id);
    return table === undefined ? null : table[protocol as RouteProtocol];
  }
}

function compileStream(route: GatewayRoute, plugins: PluginTable, order: number): StreamCandidate {
  let priority = 0;
  const destinations = (route.destinations ?? []).map((d) => {
    let ips: BlockList | null = null;
    if (d.ip !== null) {
      const parsed = parseIpOrCidr(d.ip);
      if (parsed !== null) {
        ips = new BlockList();
        const type = parsed.family === 4 ? 'ipv4' : 'ipv6';
        if (parsed.prefix === null) {
          ips.addAddress(parsed.address, type);
          priority |= DST_IP_BIT;
        } else {
          ips.addSubnet(parsed.address, parsed.prefix, type);
          priority |= DST_CIDR_BIT;
        }
      }
    }
    if (d.port !== null) priority |= DST_PORT_BIT;
    return { ips, port: d.port ?? -1 };
  });
  return { route, plugins, destinations, priority, order };
}

/** The most specific enabled instance per protocol for `route` (null: unmatched requests). */
function resolvePlugins(enabled: readonly GatewayPlugin[], route: GatewayRoute | null): PluginTable {
  const table: Record<RouteProtocol, GatewayPlugin | null> = { http: null, https: null, tcp: null, tls: null };
  for (const protocol of REQUEST_PROTOCOLS) {
    let best: GatewayPlugin | null = null;
    for (const plugin of enabled) {
      if (!plugin.protocols.includes(protocol)) continue;
      if (!appliesTo(plugin, route)) continue;
      if (best === null || plugin.precedence > best.precedence) best = plugin;
    }
    table[protocol] = best;
  }
  return Object.freeze(table);
}

function appliesTo(plugin: GatewayPlugin, route: GatewayRoute | null): boolean {
  switch (plugin.scope) {
    case 'global':
      return true;
    case 'service':
      return route !== null && plugin.service === route.service;
    case 'route':
      return route !== null && plugin.route === route;
    case 'route+service':
      return route !== null && plugin.route === route && plugin.service === route.service;
  }
}
