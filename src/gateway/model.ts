/**
 * The resolved gateway model built from a Kong declarative (decK) file: every default
 * filled in, every reference (route → service, service → upstream, plugin → route/service)
 * turned into an object reference. Kong's own field names are kept (`strip_path`,
 * `connect_timeout`, ...) so a Kong user recognises them; fields this project adds are
 * camelCase (`entryPath`, `upstream`, `scope`).
 *
 * Everything is frozen after loading: the router and the balancer precompile from it once.
 */
import type { ZipkinConfig } from '../config/types';

/** Service protocols the reference gateway can proxy to. */
export const SERVICE_PROTOCOLS = ['http', 'https', 'tcp', 'tls'] as const;
export type ServiceProtocol = (typeof SERVICE_PROTOCOLS)[number];

/** Route protocols: the HTTP subsystem (`http`, `https`) or the stream one (`tcp`, `tls`). */
export const ROUTE_PROTOCOLS = ['http', 'https', 'tcp', 'tls'] as const;
export type RouteProtocol = (typeof ROUTE_PROTOCOLS)[number];
export type HttpProtocol = 'http' | 'https';
export type StreamProtocol = 'tcp' | 'tls';

/** Every protocol Kong knows; a plugin's `protocols` may name any of them (Kong's schema). */
export const KONG_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp'] as const;
export type KongProtocol = (typeof KONG_PROTOCOLS)[number];

/** Kong's default plugin `protocols` (`typedefs.protocols_http`). */
export const DEFAULT_PLUGIN_PROTOCOLS: readonly KongProtocol[] = Object.freeze(['grpc', 'grpcs', 'http', 'https']);

/** One `upstreams[].targets[]` entry. */
export interface GatewayTarget {
  readonly id: string;
  /** As written: `host:port` (Kong's port default 8000 is filled into `port`, not here). */
  readonly target: string;
  readonly host: string;
  readonly port: number;
  /** 0 disables the target (Kong: it takes no slot on the wheel). */
  readonly weight: number;
  readonly entryPath: string;
}

export interface GatewayUpstream {
  readonly id: string;
  readonly name: string;
  readonly algorithm: 'round-robin';
  /** Accepted for decK compatibility; smooth weighted round-robin needs no wheel. */
  readonly slots: number;
  readonly targets: readonly GatewayTarget[];
  readonly entryPath: string;
}

export interface GatewayService {
  readonly id: string;
  readonly name: string | null;
  readonly protocol: ServiceProtocol;
  readonly host: string;
  readonly port: number;
  /** `null` when the file has none; Kong then uses `/` as the upstream base path. */
  readonly path: string | null;
  readonly retries: number;
  /** milliseconds */
  readonly connect_timeout: number;
  /** milliseconds */
  readonly write_timeout: number;
  /** milliseconds */
  readonly read_timeout: number;
  /** The upstream whose `name` equals `host`, if any (Kong's rule); otherwise `host:port` is the only target. */
  readonly upstream: GatewayUpstream | null;
  readonly entryPath: string;
}

/** A stream route destination: `port` and/or `ip` (an address or a CIDR block). */
export interface GatewayDestination {
  readonly ip: string | null;
  readonly port: number | null;
}

export interface GatewayRoute {
  readonly id: string;
  readonly name: string | null;
  readonly service: GatewayService;
  readonly protocols: readonly RouteProtocol[];
  /** Upper-case methods, or null for any. */
  readonly methods: readonly string[] | null;
  /** Lower-cased hosts (wildcards kept as written), or null for any. */
  readonly hosts: readonly string[] | null;
  /** Prefixes (`/...`) and regexes (`~...`) as written, or null for any. */
  readonly paths: readonly string[] | null;
  readonly regex_priority: number;
  readonly strip_path: boolean;
  readonly preserve_host: boolean;
  /** Stream routes only. */
  readonly destinations: readonly GatewayDestination[] | null;
  /** `'http'` for http/https routes, `'stream'` for tcp/tls ones. */
  readonly subsystem: 'http' | 'stream';
  readonly entryPath: string;
}

/**
 * Where a plugin applies. Kong's precedence, most specific first:
 * route+service > route > service > global (consumers are not supported).
 */
export type PluginScope = 'route+service' | 'route' | 'service' | 'global';

/** Higher wins when several plugin instances could apply to one request. */
export const PLUGIN_SCOPE_PRECEDENCE: Readonly<Record<PluginScope, number>> = Object.freeze({
  'route+service': 3,
  route: 2,
  service: 1,
  global: 0,
});

export interface GatewayPlugin {
  readonly id: string;
  readonly name: 'zipkin';
  readonly instance_name: string | null;
  readonly enabled: boolean;
  readonly protocols: readonly KongProtocol[];
  /** The `config` record exactly as the file had it (undefined when absent), for `createZipkinPlugin`. */
  readonly config: unknown;
  /** The same record validated, every default filled in. */
  readonly zipkinConfig: ZipkinConfig;
  readonly service: GatewayService | null;
  readonly route: GatewayRoute | null;
  readonly scope: PluginScope;
  /** `PLUGIN_SCOPE_PRECEDENCE[scope]`. */
  readonly precedence: number;
  readonly entryPath: string;
}

/** A loaded decK file. Arrays are in file order (nested entities at their parent's place). */
export interface DeclarativeConfig {
  readonly format_version: '3.0';
  readonly services: readonly GatewayService[];
  readonly routes: readonly GatewayRoute[];
  readonly upstreams: readonly GatewayUpstream[];
  readonly plugins: readonly GatewayPlugin[];
}
