/**
 * A single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM) for the
 * backend suite, from the jars scripts/backends/install-kafka.sh puts in the cache: storage
 * formatted with a random cluster id in a temp folder, both listeners on free 127.0.0.1 ports
 * that survive `restart()`, topics auto-created on first use
 * unless `autoCreateTopics: false` (then the client's admin API creates them).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  backendsCache,
  dataDir,
  freePort,
  portAccepts,
  startBackend,
  type BackendProcess,
  type ControlledBroker,
} from './processes';

const run = promisify(execFile);

/** The version scripts/backends/kafka/pom.xml pins. */
export const KAFKA_VERSION = '4.4.0';

/** Kafka's default `message.max.bytes` (1 MiB + 12 bytes of record batch overhead). */
export const KAFKA_DEFAULT_MESSAGE_MAX_BYTES = 1048588;

export interface KafkaOptions {
  /** The broker's `message.max.bytes` (default Kafka's). */
  messageMaxBytes?: number;
  /** `auto.create.topics.enable` (default true). */
  autoCreateTopics?: boolean;
}

export interface KafkaBroker extends ControlledBroker {
  /** `127.0.0.1:<port>`, for KAFKA_BOOTSTRAP_SERVERS and `kafka://` endpoints. */
  readonly bootstrap: string;
  readonly port: number;
  readonly messageMaxBytes: number;
  restart(): Promise<void>;
}

function kafkaHome(): string {
  const home = path.join(backendsCache(), `kafka-${KAFKA_VERSION}`);
  if (!fs.existsSync(path.join(home, '.installed'))) {
    throw new Error(`Kafka ${KAFKA_VERSION} is not installed in ${home}: run bash scripts/backends/install.sh`);
  }
  return home;
}

/** Kafka's `Uuid.randomUuid().toString()`: 16 random bytes, base64url, never starting with `-`. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function javaArgs(home: string, mainClass: string, heap: string): string[] {
  return [
    `-Xmx${heap}`,
    `-Xms${heap}`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${path.join(home, 'log4j2.properties')}`,
    '-cp',
    path.join(home, 'libs', '*'),
    mainClass,
  ];
}

export async function startKafka(options: KafkaOptions = {}): Promise<KafkaBroker> {
  const home = kafkaHome();
  const dir = dataDir('kafka');
  const port = await freePort();
  const controllerPort = await freePort();
  const messageMaxBytes = options.messageMaxBytes ?? KAFKA_DEFAULT_MESSAGE_MAX_BYTES;
  const config = path.join(dir, 'server.properties');
  fs.writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      `auto.create.topics.enable=${options.autoCreateTopics ?? true}`,
      `message.max.bytes=${messageMaxBytes}`,
      '',
    ].join('\n'),
  );
  await run('java', [
    ...javaArgs(home, 'kafka.tools.StorageTool', '256m'),
    'format',
    '--cluster-id',
    clusterId(),
    '--config',
    config,
  ]);

  let proc: BackendProcess | null = null;
  const start = async (): Promise<void> => {
    proc = await startBackend({
      name: 'kafka',
      command: 'java',
      args: [...javaArgs(home, 'kafka.Kafka', '512m'), config],
      ready: async (output) => output.includes('Kafka Server started') && (await portAccepts(port)),
    });
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = null;
    await p?.stop(20000);
  };
  await start();

  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    messageMaxBytes,
    stop,
    kill: async () => {
      const p = proc;
      proc = null;
      await p?.kill();
    },
    start,
    restart: async () => {
      await stop();
      await start();
    },
    output: () => (proc as BackendProcess | null)?.output() ?? '',
    close: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
