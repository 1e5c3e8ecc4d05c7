/**
 * A private RabbitMQ node for the backend suite, from Debian's rabbitmq-server
 * (scripts/backends/install-rabbitmq.sh), never the system service: its own node name, AMQP
 * and distribution ports on 127.0.0.1, mnesia, logs and Erlang cookie in a temp folder, no
 * plugins. `stop()` and `start()` keep the ports and the data (the queue survives). With
 * `tls`, an AMQPS listener too, serving the broker certificate of those test certificates.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestCerts } from './certs';
import { dataDir, freePorts, portAccepts, restartable, startBackend, type ControlledBroker } from './processes';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface RabbitMqOptions {
  /** The broker's `max_message_size`, bytes (default RabbitMQ's, 128 MiB). */
  maxMessageSize?: number;
  /** Adds an AMQPS listener (`ssl_options`, no client certificate asked). */
  tls?: TestCerts;
}

export interface RabbitMqBroker extends ControlledBroker {
  readonly port: number;
  /** `amqp://guest:guest@127.0.0.1:<port>`, the default vhost. */
  readonly url: string;
  /** `127.0.0.1:<port>`, for RABBIT_ADDRESSES. */
  readonly address: string;
  /** With `tls`: `amqps://guest:guest@127.0.0.1:<port>`, its TLS listener. */
  readonly tlsUrl: string | null;
}

export async function startRabbitMq(options: RabbitMqOptions = {}): Promise<RabbitMqBroker> {
  if (!fs.existsSync(SERVER)) {
    throw new Error(`rabbitmq-server is not installed (${SERVER}): run bash scripts/backends/install.sh`);
  }
  const dir = dataDir('rabbitmq');
  const [port, distPort, sslPort] = await freePorts(3);
  const lines = [
    `listeners.tcp.default = 127.0.0.1:${port}`,
    'disk_free_limit.absolute = 10MB',
    'log.console = true',
    'log.console.level = info',
    'log.file = false',
  ];
  if (options.maxMessageSize !== undefined) lines.push(`max_message_size = ${options.maxMessageSize}`);
  const tlsPort = options.tls === undefined ? null : sslPort;
  if (options.tls !== undefined) {
    lines.push(
      `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
      `ssl_options.cacertfile = ${options.tls.caFile}`,
      `ssl_options.certfile = ${options.tls.certFile}`,
      `ssl_options.keyfile = ${options.tls.keyFile}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
    );
  }
  fs.writeFileSync(path.join(dir, 'rabbitmq.conf'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
  fs.writeFileSync(path.join(dir, '.erlang.cookie'), randomBytes(16).toString('hex'), { mode: 0o400 });
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    RABBITMQ_NODENAME: `gz${randomBytes(4).toString('hex')}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_SERVER_ERL_ARGS: '+S 1:1 +A 4',
  };

  const ports = tlsPort === null ? [port] : [port, tlsPort];
  const broker = restartable(() =>
    startBackend({
      name: 'rabbitmq',
      command: SERVER,
      args: [],
      env,
      ready: async (output) =>
        output.includes('Server startup complete') && (await Promise.all(ports.map(portAccepts))).every(Boolean),
    }),
  );
  await broker.start();
  return {
    ...broker,
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    tlsUrl: tlsPort === null ? null : `amqps://guest:guest@127.0.0.1:${tlsPort}`,
    close: async () => {
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
