/**
 * The reference gateway assembled from a loaded decK file: the router, the balancers, one
 * zipkin plugin instance per enabled plugin, the HTTP proxy on one address and the stream
 * proxy on each `--stream-listen` address, the status listener on `--status-listen` (see
 * `./status`); and Kong's graceful shutdown: stop accepting (the status listener too),
 * let requests and sessions in flight finish (at most `graceMs`, then cut them), then
 * drain every plugin's queue.
 */
import type { Server } from 'node:net';
import type { Logger } from '../logger';
import { formatHost } from './addresses';
import { createBalancers } from './balancer';
import type { DeclarativeConfig } from './model';
import { createPluginInstances, type PluginInstances } from './plugin-instances';
import { GatewayHttpProxy } from './proxy';
import { GatewayRouter } from './router';
import { ConnectionCounters, gatewayStatus, packageVersion, StatusServer, type GatewayStatus } from './status';
import { GatewayStreamProxy } from './stream';

export interface ListenAddress {
  /** Without brackets for IPv6. */
  readonly host: string;
  /** 0 binds a free port. */
  readonly port: number;
}

export interface GatewayOptions {
  readonly config: DeclarativeConfig;
  /** The HTTP proxy address (Kong's default proxy port is 8000). */
  readonly listen: ListenAddress;
  readonly streamListen?: readonly ListenAddress[];
  /** The status listener's address (Kong's `status_listen`); none when absent. */
  readonly statusListen?: ListenAddress | null;
  readonly logger: Logger;
  /** `kong.node.id` (default: one random UUID per process). */
  readonly nodeId?: string;
  /**
   * A `node:cluster` worker's listeners: shared with the other workers through the primary
   * (`exclusive: false`); otherwise each address is bound by this process alone.
   */
  readonly sharedListeners?: boolean;
  /** Count connections and requests for `RunningGateway.status()` even without a status listener (a cluster worker's, served by the primary). */
  readonly collectStatus?: boolean;
}

export interface GatewayListener {
  readonly kind: 'proxy' | 'stream' | 'status';
  readonly host: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** `http://HOST:PORT` (proxy, status) or `tcp://HOST:PORT` (stream). */
  readonly url: string;
}

export interface RunningGateway {
  /** The proxy first, then the stream listeners in the order given, then the status listener. */
  readonly listeners: readonly GatewayListener[];
  readonly plugins: PluginInstances;
  /**
   * Graceful stop: no new connections; requests and sessions in flight finish (for at most
   * `graceMs`, default 10 s, then they are cut); then every queue is drained. With
   * `deadlineMs`, all of it ends within that time; spans still queued then are lost (counted
   * and logged).
   */
  shutdown(graceMs?: number, deadlineMs?: number): Promise<void>;
  /** Cuts every open connection now (a second signal during shutdown). */
  forceClose(): void;
  /** The `GET /status` document now; null unless a status listener or `collectStatus` was asked for. */
  status(): GatewayStatus | null;
}

export const DEFAULT_GRACE_MS = 10_000;

/** Binds `server` to `address`; resolves with the bound port. `exclusive: false` shares the handle among cluster workers. */
export function listenServer(server: Server, address: ListenAddress, exclusive: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port, exclusive }, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : address.port);
    });
  });
}

/** An error binding one of the listeners, naming the address. */
export class ListenError extends Error {
  constructor(
    readonly address: ListenAddress,
    cause: Error,
  ) {
    super(`could not listen on ${formatHost(address.host)}:${address.port}: ${cause.message}`);
    this.name = 'ListenError';
  }
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const router = new GatewayRouter(config);
  const balancers = createBalancers(config);
  const plugins = createPluginInstances(config, logger, options.nodeId);
  const http = new GatewayHttpProxy({ router, balancers, plugins: plugins.byId, logger });
  const streams = (options.streamListen ?? []).map(
    () => new GatewayStreamProxy({ router, balancers, plugins: plugins.byId, logger }),
  );
  let status: StatusServer | null = null;
  let snapshot: (() => GatewayStatus) | null = null;
  if (options.statusListen != null || options.collectStatus === true) {
    const httpCounters = new ConnectionCounters();
    const streamCounters = new ConnectionCounters();
    httpCounters.watch(http.server);
    for (const s of streams) streamCounters.watch(s.server);
    const sources = { config, plugins: plugins.byId, http: httpCounters, stream: streamCounters };
    const version = packageVersion();
    snapshot = () => gatewayStatus(sources, version);
    if (options.statusListen != null) status = new StatusServer(snapshot);
  }

  const listeners: GatewayListener[] = [];
  const bound: Server[] = [];
  const bind = async (server: Server, address: ListenAddress, kind: GatewayListener['kind']): Promise<void> => {
    let port: number;
    try {
      // The status listener is the process's own, never shared.
      port = await listenServer(server, address, kind === 'status' || options.sharedListeners !== true);
    } catch (err) {
      throw new ListenError(address, err as Error);
    }
    bound.push(server);
    const scheme = kind === 'stream' ? 'tcp' : 'http';
    listeners.push({ kind, host: address.host, port, url: `${scheme}://${formatHost(address.host)}:${port}` });
  };
  try {
    await bind(http.server, options.listen, 'proxy');
    const streamListen = options.streamListen ?? [];
    for (let i = 0; i < streams.length; i++) await bind(streams[i].server, streamListen[i], 'stream');
    if (status !== null && options.statusListen != null) await bind(status.server, options.statusListen, 'status');
  } catch (err) {
    await Promise.all(bound.map((s) => new Promise((r) => s.close(r))));
    http.destroyAgents();
    await plugins.shutdown();
    throw err;
  }

  const forceClose = (): void => {
    http.server.closeAllConnections();
    status?.server.closeAllConnections();
    for (const s of streams) s.destroySessions();
  };
  const closeIdle = (): void => {
    http.server.closeIdleConnections();
    status?.server.closeIdleConnections();
  };
  let stopping: Promise<void> | null = null;
  return {
    listeners,
    plugins,
    forceClose,
    status: () => snapshot?.() ?? null,
    shutdown(graceMs = DEFAULT_GRACE_MS, deadlineMs?: number): Promise<void> {
      stopping ??= (async () => {
        const started = performance.now();
        if (deadlineMs !== undefined) graceMs = Math.min(graceMs, deadlineMs);
        const closed = Promise.all([
          http.stopAccepting(),
          ...streams.map((s) => s.stopAccepting()),
          ...(status === null ? [] : [status.stopAccepting()]),
        ]);
        // Kept-alive client connections between requests: close them as soon as they are idle.
        closeIdle();
        const idle = setInterval(closeIdle, 50);
        const grace = setTimeout(forceClose, graceMs);
        try {
          await closed;
        } finally {
          clearInterval(idle);
          clearTimeout(grace);
        }
        http.destroyAgents();
        // Every request has been logged (its response closed): its spans are queued.
        await plugins.shutdown(
          deadlineMs === undefined ? undefined : Math.max(0, deadlineMs - (performance.now() - started)),
        );
      })();
      return stopping;
    },
  };
}
