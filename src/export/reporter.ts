/**
 * Kong's reporter for one plugin instance (§5.3): a `KongQueueSpanProcessor` named by the
 * plugin id, feeding a `ZipkinExporter` set up from the plugin's config: Kong's HTTP sender,
 * or, beyond Kong, a Kafka or RabbitMQ sender for a `kafka://` / `amqp(s)://` endpoint.
 */
import { parseEndpoint, type CollectorEndpoint } from '../config/endpoint';
import type { ZipkinConfig } from '../config/types';
import { stderrLogger, type Logger } from '../logger';
import { KafkaSender } from './kafka-sender';
import { KongQueueSpanProcessor } from './queue-span-processor';
import { RabbitMqSender } from './rabbitmq-sender';
import type { SpanListSender } from './span-list-sender';
import { type ZipkinEncoding, ZipkinExporter } from './zipkin-exporter';

export interface ZipkinReporterOptions {
  /** Kong's plugin id: the queue name and the `zipkin plugin <id>` log tag. */
  pluginId: string;
  /** Kong's plugin `instance_name`, appended to the log tag as ` (<name>)`. */
  instanceName?: string | null;
  logger?: Logger;
  /** Beyond Kong: `proto3` bodies (default `json`); a broker endpoint's `?encoding=` wins. */
  encoding?: ZipkinEncoding;
  /** Beyond Kong: gzip request bodies (default false); Kafka: gzip record batches; amqp: refused. */
  gzip?: boolean;
  /** Beyond Kong: a deadline for `shutdown()`, ms (see `KongQueueSpanProcessorOptions`). */
  shutdownTimeoutMillis?: number;
}

/**
 * How much longer than the sender's own bound on one POST (connect + send + read timeouts)
 * the queue waits for a delivery: the sender's `zipkin request failed: timeout` comes first.
 */
export const EXPORT_TIMEOUT_MARGIN_MS = 500;

/** A Kafka or RabbitMQ sender for a broker endpoint (endpoint.ts); undefined for HTTP (Kong's). */
function brokerSender(
  endpoint: CollectorEndpoint,
  config: ZipkinConfig,
  encoding: ZipkinEncoding | undefined,
  gzip: boolean,
  logger: Logger,
): SpanListSender | undefined {
  if (endpoint.transport === 'http') return undefined;
  if (endpoint.transport === 'kafka') {
    return new KafkaSender({
      endpoint,
      connectTimeout: config.connect_timeout,
      requestTimeout: config.send_timeout + config.read_timeout,
      gzip,
      logger,
    });
  }
  if (gzip) {
    throw new Error(
      "gzip is not available for amqp endpoints: Zipkin's RabbitMQ collector reads uncompressed messages only",
    );
  }
  return new RabbitMqSender({
    endpoint,
    contentType: encoding === 'proto3' ? 'application/x-protobuf' : 'application/json',
    connectTimeout: config.connect_timeout,
    logger,
  });
}

/** The span processor that reports a plugin's spans to `config.http_endpoint` as Kong does. */
export function createZipkinReporter(config: ZipkinConfig, options: ZipkinReporterOptions): KongQueueSpanProcessor {
  const logger = options.logger ?? stderrLogger;
  const endpoint = config.http_endpoint === null ? null : parseEndpoint(config.http_endpoint);
  const encoding =
    (endpoint !== null && endpoint.transport !== 'http' ? endpoint.encoding : undefined) ?? options.encoding;
  const exporter = new ZipkinExporter({
    httpEndpoint: config.http_endpoint,
    sender: endpoint === null ? undefined : brokerSender(endpoint, config, encoding, options.gzip ?? false, logger),
    localServiceName: config.local_service_name,
    defaultServiceName: config.default_service_name,
    encoding,
    gzip: options.gzip,
    connectTimeout: config.connect_timeout,
    sendTimeout: config.send_timeout,
    readTimeout: config.read_timeout,
    logger,
  });
  const name = options.instanceName
    ? `zipkin plugin ${options.pluginId} (${options.instanceName})`
    : `zipkin plugin ${options.pluginId}`;
  const { connect_timeout: connect, send_timeout: send, read_timeout: read } = config;
  // A timeout of 0 leaves that phase unbounded (Kong passes 0 through), so the POST and
  // the queue's shutdown drain are unbounded too.
  const exportTimeoutMillis =
    connect > 0 && send > 0 && read > 0 ? connect + send + read + EXPORT_TIMEOUT_MARGIN_MS : 0;
  return new KongQueueSpanProcessor({
    exporter,
    queue: config.queue,
    name: options.pluginId,
    logTag: name,
    logger,
    exportTimeoutMillis,
    shutdownTimeoutMillis: options.shutdownTimeoutMillis,
  });
}
