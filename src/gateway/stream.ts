/**
 * The reference gateway's stream (TCP) proxy: Kong's stream subsystem for `tcp` routes,
 * matched on the connection's destination address and port (`destinations`), proxied
 * with `node:net` and traced with the library's `node:net` integration: the request span
 * `stream`, the proxy span `stream (proxy)` with `kps` (connection accepted) and `kpf`
 * (upstream chosen), one balancer span per connect attempt.
 *
 * A connection no route matches is closed (Kong logs `no Route found with those values`
 * and exits); a global zipkin plugin still traces it, as for unmatched HTTP requests.
 * Tries work as for HTTP: a connection failure or a connect timeout (`connect_timeout`)
 * goes to the balancer's next pick while tries remain; when none is left, or no target
 * can be picked, the client connection is closed. Once connected, bytes flow both ways
 * until either side ends (half-close is passed on); a session idle for longer than the
 * service's `read_timeout` / `write_timeout` (the larger one; nginx's `proxy_timeout`) is
 * closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { traceConnection } from '../integrations/node-net';
import { connectUpstream } from '../integrations/tcp-upstream';
import type { Logger } from '../logger';
import type { ZipkinPlugin } from '../plugin';
import type { RouteIdentity } from '../trace/request-inputs';
import type { RequestTrace } from '../trace/request-trace';
import type { BalancerTarget, ServiceBalancer, UpstreamTries } from './balancer';
import type { GatewayPlugin, GatewayService } from './model';
import type { GatewayRouter, StreamMatch } from './router';
import { NO_PEER_MESSAGE } from './kong-responses';
import { describeFailure } from './upstream-error-log';

export interface StreamProxyOptions {
  readonly router: GatewayRouter;
  readonly balancers: ReadonlyMap<string, ServiceBalancer>;
  /** The plugin instance of each enabled zipkin plugin, by plugin id. */
  readonly plugins: ReadonlyMap<string, ZipkinPlugin>;
  readonly logger: Logger;
}

export class GatewayStreamProxy {
  readonly server: Server;
  private readonly router: GatewayRouter;
  private readonly balancers: ReadonlyMap<string, ServiceBalancer>;
  private readonly plugins: ReadonlyMap<string, ZipkinPlugin>;
  private readonly logger: Logger;
  private readonly sockets = new Set<Socket>();
  private readonly identities = new Map<string, RouteIdentity>();

  constructor(options: StreamProxyOptions) {
    this.router = options.router;
    this.balancers = options.balancers;
    this.plugins = options.plugins;
    this.logger = options.logger;
    // Half-open: a client that sends, then ends its side, still gets the upstream's answer.
    this.server = createServer({ allowHalfOpen: true }, (client) => this.handle(client));
  }

  private instance(plugin: GatewayPlugin | null): ZipkinPlugin | undefined {
    return plugin === null ? undefined : this.plugins.get(plugin.id);
  }

  private handle(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    const match = this.router.matchStream({
      protocol: 'tcp',
      destinationIp: client.localAddress ?? '',
      destinationPort: client.localPort ?? 0,
    });
    if (match === null) {
      this.logger.error('no Route found with those values');
      const plugin = this.instance(this.router.pluginFor(null, 'tcp'));
      if (plugin !== undefined) traceConnection(plugin, client);
      closeClient(client);
      return;
    }
    const plugin = this.instance(match.plugin);
    const trace = plugin === undefined ? undefined : traceConnection(plugin, client, this.identity(match));
    client.pause();
    const balancer = this.balancers.get(match.service.id);
    const tries = balancer === undefined ? null : balancer.tries();
    const first = tries === null ? null : tries.next();
    if (trace !== undefined) trace.prereadEnd();
    if (first === null || tries === null) {
      this.logger.error(NO_PEER_MESSAGE);
      closeClient(client);
      return;
    }
    this.attempt(client, match.service, tries, first, trace);
  }

  private identity(match: StreamMatch): RouteIdentity {
    let identity = this.identities.get(match.route.id);
    if (identity === undefined) {
      identity = Object.freeze({ route: match.route, service: match.service });
      this.identities.set(match.route.id, identity);
    }
    return identity;
  }

  private attempt(
    client: Socket,
    service: GatewayService,
    tries: UpstreamTries,
    first: BalancerTarget,
    trace: RequestTrace | undefined,
  ): void {
    connectUpstream(client, trace, first, () => tries.next(), {
      connectTimeout: service.connect_timeout,
      idleTimeout: Math.max(service.read_timeout, service.write_timeout),
      onConnectError: (err, target, timedOut) =>
        this.logger.error(
          `${describeFailure(err, 'while connecting to upstream', timedOut)}, client: ${client.remoteAddress ?? ''}, server: ${client.localAddress ?? ''}:${client.localPort ?? ''}, upstream: "${target.name}"`,
        ),
      onIdleTimeout: (target) =>
        this.logger.error(
          `upstream timed out (110: Connection timed out) while proxying upstream, client: ${client.remoteAddress ?? ''}, upstream: "${target.name}"`,
        ),
      onExhausted: closeClient,
    });
  }

  /** Stops accepting; resolves once every session has ended. */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Ends every open session now (grace period over). */
  destroySessions(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/** How long a refused client may keep its side open after the gateway closed its own. */
const LINGER_MS = 5000;

/**
 * Closes a connection the gateway will not proxy: FIN rather than RST (what the client
 * sent is read and discarded), and the socket is destroyed if the client lingers.
 */
function closeClient(client: Socket): void {
  client.resume();
  client.end();
  const timer = setTimeout(() => client.destroy(), LINGER_MS);
  client.once('close', () => clearTimeout(timer));
}
