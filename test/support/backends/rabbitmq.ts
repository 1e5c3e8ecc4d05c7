/**
 * A private RabbitMQ node for the backend suite, from Debian's rabbitmq-server
 * (scripts/backends/install-rabbitmq.sh), never the system service: its own node name, AMQP
 * and distribution ports on 127.0.0.1, mnesia, logs and Erlang cookie in a temp folder, no
 * plugins. `stop()` and `start()` keep the ports and the data (the queue survives).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataDir, freePort, portAccepts, startBackend, type BackendProcess, type ControlledBroker } from './processes';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface RabbitMqOptions {
  /** The broker's `max_message_size`, bytes (default RabbitMQ's, 128 MiB). */
  maxMessageSize?: number;
}

export interface RabbitMqBroker extends ControlledBroker {
  readonly port: number;
  /** `amqp://guest:guest@127.0.0.1:<port>`, the default vhost. */
  readonly url: string;
  /** `127.0.0.1:<port>`, for RABBIT_ADDRESSES. */
  readonly address: string;
}

export async function startRabbitMq(options: RabbitMqOptions = {}): Promise<RabbitMqBroker> {
  if (!fs.existsSync(SERVER)) {
    throw new Error(`rabbitmq-server is not installed (${SERVER}): run bash scripts/backends/install.sh`);
  }
  const dir = dataDir('rabbitmq');
  const port = await freePort();
  const distPort = await freePort();
  const lines = [
    `listeners.tcp.default = 127.0.0.1:${port}`,
    'disk_free_limit.absolute = 10MB',
    'log.console = true',
    'log.console.level = info',
    'log.file = false',
  ];
  if (options.maxMessageSize !== undefined) lines.push(`max_message_size = ${options.maxMessageSize}`);
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

  let proc: BackendProcess | null = null;
  const start = async (): Promise<void> => {
    proc = await startBackend({
      name: 'rabbitmq',
      command: SERVER,
      args: [],
      env,
      ready: async (output) => output.includes('Server startup complete') && (await portAccepts(port)),
    });
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = null;
    await p?.stop(20000);
  };
  await start();
  return {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    stop,
    kill: async () => {
      const p = proc;
      proc = null;
      await p?.kill();
    },
    start,
    output: () => (proc as BackendProcess | null)?.output() ?? '',
    close: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
