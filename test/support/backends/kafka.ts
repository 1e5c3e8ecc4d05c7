/**
 * A single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM) for the
 * backend suite, from the jars scripts/backends/install-kafka.sh puts in the cache: storage
 * formatted with a random cluster id in a temp folder, every listener on a free 127.0.0.1
 * port that survives `restart()`, topics auto-created on first use unless
 * `autoCreateTopics: false` (then the client's admin API creates them). With `secure`, the
 * same JVM also serves SASL (PLAIN, SCRAM) and TLS listeners: one broker, not four, on a
 * small machine.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  backendsCache,
  dataDir,
  freePorts,
  portAccepts,
  restartable,
  startBackend,
  type ControlledBroker,
} from './processes';
import type { TestCerts } from './certs';

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
  /**
   * Adds SASL_PLAINTEXT, SSL and SASL_SSL listeners to the same JVM, the TLS ones serving
   * `certs`' broker certificate; SASL knows `KAFKA_SASL_USER` for PLAIN, SCRAM-SHA-256 and
   * SCRAM-SHA-512.
   */
  secure?: TestCerts;
}

/** The one SASL user of a `secure` broker. */
export const KAFKA_SASL_USER = { username: 'zipkin', password: 'zipkin-secret' } as const;

export interface KafkaBroker extends ControlledBroker {
  /** `127.0.0.1:<port>`, for KAFKA_BOOTSTRAP_SERVERS and `kafka://` endpoints. */
  readonly bootstrap: string;
  readonly port: number;
  readonly messageMaxBytes: number;
  /** With `secure`: `127.0.0.1:<port>` of the SASL_PLAINTEXT, SSL and SASL_SSL listeners. */
  readonly sasl: string | null;
  readonly ssl: string | null;
  readonly saslSsl: string | null;
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

interface SecurePorts {
  sasl: number;
  ssl: number;
  saslSsl: number;
}

/** server.properties lines of the SASL and TLS listeners (Kafka's per-listener `listener.name.<x>.` prefix). */
function secureProperties(certs: TestCerts): string[] {
  const { username, password } = KAFKA_SASL_USER;
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const plain = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`;
  const lines = ['sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512'];
  for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
    lines.push(
      `listener.name.${listener}.plain.sasl.jaas.config=${plain}`,
      `listener.name.${listener}.scram-sha-256.sasl.jaas.config=${scram}`,
      `listener.name.${listener}.scram-sha-512.sasl.jaas.config=${scram}`,
    );
  }
  lines.push(
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${certs.pkcs12File}`,
    `ssl.keystore.password=${certs.pkcs12Password}`,
    `ssl.key.password=${certs.pkcs12Password}`,
    'ssl.client.auth=none',
  );
  return lines;
}

export async function startKafka(options: KafkaOptions = {}): Promise<KafkaBroker> {
  const home = kafkaHome();
  const dir = dataDir('kafka');
  const [port, controllerPort, sasl, ssl, saslSsl] = await freePorts(5);
  const secure: SecurePorts | null = options.secure === undefined ? null : { sasl, ssl, saslSsl };
  const messageMaxBytes = options.messageMaxBytes ?? KAFKA_DEFAULT_MESSAGE_MAX_BYTES;
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`];
  if (secure !== null) {
    listeners.push(
      `SASL_PLAINTEXT://127.0.0.1:${secure.sasl}`,
      `SSL://127.0.0.1:${secure.ssl}`,
      `SASL_SSL://127.0.0.1:${secure.saslSsl}`,
    );
  }
  const config = path.join(dir, 'server.properties');
  fs.writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=${[...listeners, `CONTROLLER://127.0.0.1:${controllerPort}`].join(',')}`,
      `advertised.listeners=${listeners.join(',')}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
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
      ...(options.secure === undefined ? [] : secureProperties(options.secure)),
      '',
    ].join('\n'),
  );
  // SCRAM credentials live in the cluster metadata: written when the storage is formatted.
  const { username, password } = KAFKA_SASL_USER;
  const scram =
    secure === null
      ? []
      : ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
          '--add-scram',
          `${m}=[name=${username},password=${password}]`,
        ]);
  await run('java', [
    ...javaArgs(home, 'kafka.tools.StorageTool', '256m'),
    'format',
    '--cluster-id',
    clusterId(),
    '--config',
    config,
    ...scram,
  ]);

  const ports = secure === null ? [port] : [port, secure.sasl, secure.ssl, secure.saslSsl];
  const broker = restartable(() =>
    startBackend({
      name: 'kafka',
      command: 'java',
      args: [...javaArgs(home, 'kafka.Kafka', '512m'), config],
      ready: async (output) =>
        output.includes('Kafka Server started') && (await Promise.all(ports.map(portAccepts))).every(Boolean),
    }),
  );
  await broker.start();
  const address = (p: number | undefined): string | null => (p === undefined ? null : `127.0.0.1:${p}`);
  return {
    ...broker,
    bootstrap: `127.0.0.1:${port}`,
    port,
    messageMaxBytes,
    sasl: address(secure?.sasl),
    ssl: address(secure?.ssl),
    saslSsl: address(secure?.saslSsl),
    restart: async () => {
      await broker.stop();
      await broker.start();
    },
    close: async () => {
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
