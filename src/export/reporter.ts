/**
 * Kong's reporter for one plugin instance (§5.3): a `KongQueueSpanProcessor` named by the
 * plugin id, feeding a `ZipkinExporter` set up from the plugin's config.
 */
import type { ZipkinConfig } from '../config/types';
import { stderrLogger, type Logger } from '../logger';
import { KongQueueSpanProcessor } from './queue-span-processor';
import { type ZipkinEncoding, ZipkinExporter } from './zipkin-exporter';

export interface ZipkinReporterOptions {
  /** Kong's plugin id: the queue name and the `zipkin plugin <id>` log tag. */
  pluginId: string;
  /** Kong's plugin `instance_name`, appended to the log tag as ` (<name>)`. */
  instanceName?: string | null;
  logger?: Logger;
  /** Beyond Kong: `proto3` bodies (default `json`). */
  encoding?: ZipkinEncoding;
  /** Beyond Kong: gzip request bodies (default false). */
  gzip?: boolean;
  /** Beyond Kong: a deadline for `shutdown()`, ms (see `KongQueueSpanProcessorOptions`). */
  shutdownTimeoutMillis?: number;
}

/**
 * How much longer than the sender's own bound on one POST (connect + send + read timeouts)
 * the queue waits for a delivery: the sender's `zipkin request failed: timeout` comes first.
 */
export const EXPORT_TIMEOUT_MARGIN_MS = 500;

/** The span processor that reports a plugin's spans to `config.http_endpoint` as Kong does. */
export function createZipkinReporter(config: ZipkinConfig, options: ZipkinReporterOptions): KongQueueSpanProcessor {
  const logger = options.logger ?? stderrLogger;
  const exporter = new ZipkinExporter({
    httpEndpoint: config.http_endpoint,
    localServiceName: config.local_service_name,
    defaultServiceName: config.default_service_name,
    encoding: options.encoding,
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
