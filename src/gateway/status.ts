/**
 * The status listener (`--status-listen`, Kong's `status_listen`): a separate HTTP server,
 * off the proxy's path and never traced, answering `GET /status` with one JSON document:
 *
 * - `process`: `pid`, `uptime_seconds` (whole seconds), `node_version`, `version` (this
 *   package's, null if its package.json cannot be read);
 * - `server`: the HTTP proxy listener's `connections_accepted`, `connections_active` and
 *   `total_requests` (Kong's names for nginx's counters); `stream`: the stream listeners'
 *   `connections_accepted` and `connections_active` (all of them together);
 * - `plugins`: each enabled zipkin plugin in file order, with `id`, `name`, `instance_name`,
 *   `scope`, the `service` and `route` it is attached to (`{ id, name }` or null), and
 *   `queue`: its queue's counters exactly as `ZipkinPlugin.health()` gives them
 *   (`QueueHealth`; null would mean a plugin without its own reporter, which the gateway
 *   never builds).
 *
 * Other paths get 404 `{"message":"Not found"}`, other methods on `/status` 405
 * `{"message":"Method not allowed"}` with `Allow: GET, HEAD` (Kong's Admin API texts).
 * The status server's own connections are not counted in `server`.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { Server, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { QueueHealth } from '../export/queue';
import type { ZipkinPlugin } from '../plugin';
import { sendExit } from './kong-responses';
import type { DeclarativeConfig, PluginScope } from './model';

export const STATUS_PATH = '/status';
export const NOT_FOUND_MESSAGE = 'Not found';
export const METHOD_NOT_ALLOWED_MESSAGE = 'Method not allowed';

/** Connections (and, for an HTTP server, requests) of the servers it watches; a listener per event, nothing per byte. */
export class ConnectionCounters {
  accepted = 0;
  active = 0;
  requests = 0;

  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.accepted++;
      this.active++;
      socket.once('close', () => this.active--);
    });
    if (server instanceof http.Server) server.on('request', () => this.requests++);
  }
}

export interface StatusEntityRef {
  readonly id: string;
  readonly name: string | null;
}

export interface StatusPlugin {
  readonly id: string;
  readonly name: 'zipkin';
  readonly instance_name: string | null;
  readonly scope: PluginScope;
  readonly service: StatusEntityRef | null;
  readonly route: StatusEntityRef | null;
  readonly queue: QueueHealth | null;
}

/** The `GET /status` document. */
export interface GatewayStatus {
  readonly process: {
    readonly pid: number;
    readonly uptime_seconds: number;
    readonly node_version: string;
    readonly version: string | null;
  };
  readonly server: {
    readonly connections_accepted: number;
    readonly connections_active: number;
    readonly total_requests: number;
  };
  readonly stream: { readonly connections_accepted: number; readonly connections_active: number };
  readonly plugins: readonly StatusPlugin[];
}

export interface StatusSources {
  readonly config: DeclarativeConfig;
  /** The running instances by plugin id (enabled plugins only). */
  readonly plugins: ReadonlyMap<string, ZipkinPlugin>;
  readonly http: ConnectionCounters;
  readonly stream: ConnectionCounters;
}

/** This package's version, from the package.json above this file (in `src/` or `dist/`). */
export function packageVersion(): string | null {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'gateway-zipkin' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not here: look one folder up.
    }
    dir = dirname(dir);
  }
  return null;
}

function ref(entity: { readonly id: string; readonly name: string | null } | null): StatusEntityRef | null {
  return entity === null ? null : { id: entity.id, name: entity.name };
}

/** The `plugins` entries: each plugin with a queue in file order (`queueOf` undefined: not running, left out). */
export function statusPlugins(
  config: DeclarativeConfig,
  queueOf: (pluginId: string) => QueueHealth | null | undefined,
): StatusPlugin[] {
  const plugins: StatusPlugin[] = [];
  for (const plugin of config.plugins) {
    const queue = queueOf(plugin.id);
    if (queue === undefined) continue;
    plugins.push({
      id: plugin.id,
      name: plugin.name,
      instance_name: plugin.instance_name,
      scope: plugin.scope,
      service: ref(plugin.service),
      route: ref(plugin.route),
      queue,
    });
  }
  return plugins;
}

/** The `process` entry for this process. */
export function processStatus(version: string | null): GatewayStatus['process'] {
  return {
    pid: process.pid,
    uptime_seconds: Math.floor(process.uptime()),
    node_version: process.version,
    version,
  };
}

export function gatewayStatus(sources: StatusSources, version: string | null): GatewayStatus {
  return {
    process: processStatus(version),
    server: {
      connections_accepted: sources.http.accepted,
      connections_active: sources.http.active,
      total_requests: sources.http.requests,
    },
    stream: { connections_accepted: sources.stream.accepted, connections_active: sources.stream.active },
    plugins: statusPlugins(sources.config, (id) => {
      const instance = sources.plugins.get(id);
      return instance === undefined ? undefined : (instance.health() ?? null);
    }),
  };
}

const ALLOWED = 'GET, HEAD';

/** The status listener's server (not listening yet), answering with what `snapshot` gives. */
export class StatusServer {
  readonly server: http.Server;

  /** `snapshot`: the document, computed per request (a cluster primary asks its workers, so it may wait). */
  constructor(private readonly snapshot: () => object | Promise<object>) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== STATUS_PATH) return sendExit(res, 404, NOT_FOUND_MESSAGE);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendExit(res, 405, METHOD_NOT_ALLOWED_MESSAGE, { allow: ALLOWED });
    }
    const body = Buffer.from(JSON.stringify(await this.snapshot()));
    if (res.destroyed) return;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', body.length);
    res.setHeader('cache-control', 'no-store');
    res.writeHead(200);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Stops accepting and closes idle kept-alive connections; resolves once every connection is gone. */
  stopAccepting(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    return closed;
  }
}
