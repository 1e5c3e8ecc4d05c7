/**
 * The real Zipkin server (the exec jar installed by scripts/backends/install-zipkin.sh) on
 * 127.0.0.1 with in-memory storage, and reading traces back through its v2 query API.
 * Memory storage: a restarted server has forgotten every span it stored before.
 */
import * as path from 'node:path';
import { backendsCache, type BackendProcess, freePort, startBackend } from './processes';

export const ZIPKIN_VERSION = '3.6.1';

/**
 * Start the broker first: with no Kafka broker the server stays unhealthy (startZipkin times
 * out), with no RabbitMQ it exits at start-up (zipkin-backends §6.1).
 */
export interface ZipkinOptions {
  /** Turns on Zipkin's Kafka collector (KAFKA_BOOTSTRAP_SERVERS, e.g. `127.0.0.1:9092`). */
  kafkaBootstrapServers?: string;
  /** KAFKA_TOPIC (Zipkin's default: `zipkin`). */
  kafkaTopic?: string;
  /** Turns on Zipkin's RabbitMQ collector (RABBIT_ADDRESSES, `host:port[,host:port]`). */
  rabbitAddresses?: string;
  /** RABBIT_QUEUE (Zipkin's default: `zipkin`). */
  rabbitQueue?: string;
  /** A fixed port (default: a free one). */
  port?: number;
}

/** A span as Zipkin's `/api/v2/trace/{id}` returns it (JSON v2). */
export interface StoredSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: string;
  name?: string;
  timestamp?: number;
  duration?: number;
  shared?: boolean;
  debug?: boolean;
  localEndpoint?: Record<string, unknown>;
  remoteEndpoint?: Record<string, unknown>;
  tags?: Record<string, string>;
  annotations?: { timestamp: number; value: string }[];
}

export interface Zipkin {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** `<baseUrl>/api/v2/spans`, for a plugin's `http_endpoint`. */
  readonly spansUrl: string;
  readonly process: BackendProcess;
  /** Stops (SIGTERM) and starts again on the same port with the same options. */
  restart(): Promise<void>;
  /** SIGKILL, then starts again on the same port. */
  killAndRestart(beforeStart?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /**
   * `/health`: 200 only when every component is UP, the Kafka and RabbitMQ collectors
   * included when they are configured (each is listed under `zipkin.details`).
   */
  health(): Promise<{ status: number; body: unknown }>;
  /** The trace's spans (none when Zipkin has none: its 404). */
  getTrace(traceId: string): Promise<StoredSpan[]>;
  /** Polls `getTrace` until it has at least `count` spans (fails after `timeoutMs`). */
  waitForSpans(traceId: string, count: number, timeoutMs?: number): Promise<StoredSpan[]>;
  /** Every stored span of `serviceName`'s traces (`/api/v2/traces`, up to `limit` traces). */
  allSpans(serviceName: string, limit?: number): Promise<StoredSpan[]>;
}

export function zipkinJar(): string {
  return path.join(backendsCache(), `zipkin-server-${ZIPKIN_VERSION}-exec.jar`);
}

/** The environment zipkin-server-shared.yml reads (its variable names). */
function zipkinEnv(port: number, options: ZipkinOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    QUERY_PORT: String(port),
    STORAGE_TYPE: 'mem',
    SELF_TRACING_ENABLED: 'false',
  };
  if (options.kafkaBootstrapServers !== undefined) env.KAFKA_BOOTSTRAP_SERVERS = options.kafkaBootstrapServers;
  if (options.kafkaTopic !== undefined) env.KAFKA_TOPIC = options.kafkaTopic;
  if (options.rabbitAddresses !== undefined) env.RABBIT_ADDRESSES = options.rabbitAddresses;
  if (options.rabbitQueue !== undefined) env.RABBIT_QUEUE = options.rabbitQueue;
  return env;
}

async function healthy(baseUrl: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}/health`);
  await res.arrayBuffer();
  return res.status === 200;
}

function launch(port: number, options: ZipkinOptions): Promise<BackendProcess> {
  const baseUrl = `http://127.0.0.1:${port}`;
  return startBackend({
    name: 'zipkin',
    command: 'java',
    // A small heap and the C1 compiler only: quick start-up on 2 cores, enough for tests.
    args: [
      '-Xms64m',
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-jar',
      zipkinJar(),
      // Armeria's port list: bind the one HTTP port to the loopback address only.
      '--armeria.ports[0].ip=127.0.0.1',
      `--armeria.ports[0].port=${port}`,
    ],
    env: zipkinEnv(port, options),
    ready: () => healthy(baseUrl),
  });
}

export async function startZipkin(options: ZipkinOptions = {}): Promise<Zipkin> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  let proc = await launch(port, options);
  const getTrace = async (traceId: string): Promise<StoredSpan[]> => {
    const res = await fetch(`${baseUrl}/api/v2/trace/${traceId}`);
    const text = await res.text();
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`GET /api/v2/trace/${traceId}: ${res.status} ${text}`);
    return JSON.parse(text) as StoredSpan[];
  };
  const zipkin: Zipkin = {
    port,
    baseUrl,
    spansUrl: `${baseUrl}/api/v2/spans`,
    get process() {
      return proc;
    },
    async restart() {
      await proc.stop();
      proc = await launch(port, options);
    },
    async killAndRestart(beforeStart) {
      await proc.kill();
      if (beforeStart !== undefined) await beforeStart();
      proc = await launch(port, options);
    },
    stop: () => proc.stop(),
    async health() {
      const res = await fetch(`${baseUrl}/health`);
      return { status: res.status, body: JSON.parse(await res.text()) as unknown };
    },
    getTrace,
    async waitForSpans(traceId, count, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const spans = await getTrace(traceId);
        if (spans.length >= count) return spans;
        if (Date.now() > deadline) {
          throw new Error(`zipkin has ${spans.length} of ${count} spans of ${traceId}: ${JSON.stringify(spans)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async allSpans(serviceName, limit = 100000) {
      const query = new URLSearchParams({ serviceName, limit: String(limit), lookback: String(86400000) });
      const res = await fetch(`${baseUrl}/api/v2/traces?${query.toString()}`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET /api/v2/traces: ${res.status} ${text}`);
      return (JSON.parse(text) as StoredSpan[][]).flat();
    },
  };
  return zipkin;
}
