/**
 * Sends list bodies to a Kafka topic, one message per list, as Zipkin's Kafka collector reads
 * them (zipkin-backends §4.1: the value is one list of spans, no key). The client is kafkajs,
 * an optional peer dependency loaded when a sender is created (README "Kafka"). Its own
 * retries are off: Kong's queue retries a failed batch with its backoff (§6.5).
 */
import type * as KafkaJs from 'kafkajs';
import type { KafkaEndpoint } from '../config/endpoint';
import type { Logger } from '../logger';
import { BrokerSender } from './broker-sender';
import { connectFailure } from './connect-failure';
import { loadOptionalPeer } from './optional-peer';

export interface KafkaSenderOptions {
  /** A parsed `kafka://` endpoint (`parseEndpoint`). */
  endpoint: KafkaEndpoint;
  /** ms to connect to a broker (Kong's `connect_timeout`; 0: kafkajs' default). */
  connectTimeout: number;
  /** ms for a produce request to be acknowledged (`send_timeout` + `read_timeout`; 0: kafkajs' default). */
  requestTimeout: number;
  /** Compress record batches with gzip (the consumer undoes it; a gzipped value would not be read). */
  gzip?: boolean;
  /** kafkajs' own log lines go here at debug level. */
  logger: Logger;
}

type KafkaModule = typeof KafkaJs;

interface KafkaJsErrorShape {
  name?: string;
  message?: string;
  type?: string;
  /** KafkaJSConnectionError: the socket's or TLS's error code. */
  code?: string;
  cause?: unknown;
}

const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNotImplemented',
]);

/** The text the queue logs for a failed send: what went wrong, in a few words, then kafkajs' message. */
export function kafkaErrorText(err: unknown, endpoint: KafkaEndpoint): string {
  let e = err as KafkaJsErrorShape;
  // KafkaJSNumberOfRetriesExceeded and friends carry the error that made them.
  while (e.name === 'KafkaJSNumberOfRetriesExceeded' && e.cause !== undefined) e = e.cause as KafkaJsErrorShape;
  const detail = e.message ?? String(err);
  const prefix = 'zipkin kafka send failed: ';
  const failure = connectFailure(e.code);
  if (failure !== null) return `${prefix}${failure} (${endpoint.brokers.join(',')}): ${detail}`;
  if (e.name !== undefined && UNREACHABLE.has(e.name)) {
    return `${prefix}broker unreachable (${endpoint.brokers.join(',')}): ${detail}`;
  }
  if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || e.name === 'KafkaJSTopicMetadataNotLoaded') {
    return `${prefix}topic '${endpoint.topic}' does not exist: ${detail}`;
  }
  if (e.type === 'MESSAGE_TOO_LARGE') return `${prefix}message too large for the broker: ${detail}`;
  if (e.name === 'KafkaJSRequestTimeoutError') return `${prefix}timeout: ${detail}`;
  if (e.name === 'KafkaJSSASLAuthenticationError') return `${prefix}authentication failed: ${detail}`;
  return prefix + detail;
}

export class KafkaSender extends BrokerSender {
  readonly transport = 'kafka';
  private readonly endpoint: KafkaEndpoint;
  private readonly kafkajs: KafkaModule;
  private readonly kafka: KafkaJs.Kafka;
  private readonly compression: KafkaJs.CompressionTypes;
  private readonly requestTimeout: number;
  private producer: KafkaJs.Producer | null = null;
  private connecting: Promise<KafkaJs.Producer> | null = null;

  /** Throws at once when kafkajs is not installed: `install kafkajs to use kafka:// endpoints …`. */
  constructor(options: KafkaSenderOptions) {
    const kafkajs = loadOptionalPeer<KafkaModule>('kafkajs', 'kafka://');
    const { endpoint, logger } = options;
    super(endpoint.maxMessageBytes, logger);
    this.kafkajs = kafkajs;
    this.endpoint = endpoint;
    this.requestTimeout = options.requestTimeout > 0 ? options.requestTimeout : 30000;
    this.compression = options.gzip === true ? kafkajs.CompressionTypes.GZIP : kafkajs.CompressionTypes.None;
    this.kafka = new kafkajs.Kafka({
      clientId: endpoint.clientId,
      brokers: [...endpoint.brokers],
      ssl: tlsOptions(endpoint),
      ...(endpoint.sasl === null ? {} : { sasl: saslOptions(endpoint.sasl) }),
      ...(options.connectTimeout > 0 ? { connectionTimeout: options.connectTimeout } : {}),
      requestTimeout: this.requestTimeout,
      // One quick retry absorbs a leader move or a topic being auto-created; the queue does the rest.
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: kafkajs.logLevel.WARN,
      logCreator: () => (entry) => logger.debug(`kafkajs ${entry.namespace}: ${entry.log.message}`),
    });
  }

  protected async deliver(value: Buffer): Promise<void> {
    try {
      const producer = await this.connect();
      await producer.send({
        topic: this.endpoint.topic,
        acks: -1,
        timeout: this.requestTimeout,
        compression: this.compression,
        messages: [{ value }],
      });
    } catch (err) {
      const text = kafkaErrorText(err, this.endpoint);
      // A fresh connection on the next attempt (the queue's retry) after a broker went away.
      if (/^zipkin kafka send failed: (broker unreachable|TLS )|timeout/.test(text)) await this.disconnect();
      throw new Error(text, { cause: err });
    }
  }

  private connect(): Promise<KafkaJs.Producer> {
    if (this.producer !== null) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: true,
        idempotent: false,
        maxInFlightRequests: 1,
        // kafkajs 2's default; named so it does not warn about its change from 1.x.
        createPartitioner: this.kafkajs.Partitioners.DefaultPartitioner,
      });
      try {
        await producer.connect();
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
      this.producer = producer;
      return producer;
    })().finally(() => (this.connecting = null));
    return this.connecting;
  }

  protected release(): Promise<void> {
    return this.disconnect();
  }

  private async disconnect(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await producer?.disconnect().catch(() => undefined);
  }
}

/**
 * kafkajs hands these to `tls.connect`. Verification is explicit, as for HTTPS (http-sender.ts),
 * so a process-wide NODE_TLS_REJECT_UNAUTHORIZED=0 cannot send spans to an unverified broker.
 */
function tlsOptions(endpoint: KafkaEndpoint): KafkaJs.KafkaConfig['ssl'] {
  if (!endpoint.tls) return false;
  return endpoint.ca === null ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca: [endpoint.ca] };
}

function saslOptions(sasl: NonNullable<KafkaEndpoint['sasl']>): KafkaJs.SASLOptions {
  const { username, password } = sasl;
  if (sasl.mechanism === 'plain') return { mechanism: 'plain', username, password };
  if (sasl.mechanism === 'scram-sha-256') return { mechanism: 'scram-sha-256', username, password };
  return { mechanism: 'scram-sha-512', username, password };
}
