/**
 * Jaeger v2 (the binary built by scripts/backends/install-jaeger.sh): memory storage, the
 * Zipkin receiver and the query API on free 127.0.0.1 ports and nothing else, and reading a
 * trace back through the query API's v1 JSON (`/api/traces/{id}`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backendsCache, type BackendProcess, dataDir, freePorts, portAccepts, startBackend } from './processes';

export const JAEGER_VERSION = 'v1.75.0';

export interface JaegerTag {
  key: string;
  type: string;
  value: string | number | boolean;
}

/** A span of the v1 query API, with its process (service name and process tags) attached. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  /** µs since the epoch */
  startTime: number;
  /** µs */
  duration: number;
  tags: JaegerTag[];
  logs: { timestamp: number; fields: JaegerTag[] }[];
  processID: string;
  warnings: string[] | null;
  process: { serviceName: string; tags: JaegerTag[] };
}

export interface Jaeger {
  /** The Zipkin receiver: POST `<zipkinUrl>` (any path is v2, zipkin-backends §5.4). */
  readonly zipkinUrl: string;
  readonly queryUrl: string;
  readonly process: BackendProcess;
  stop(): Promise<void>;
  /** The trace's spans (none when Jaeger has not got it: its 404). */
  getTrace(traceIdHex: string): Promise<JaegerSpan[]>;
  waitForSpans(traceIdHex: string, count: number, timeoutMs?: number): Promise<JaegerSpan[]>;
}

export function jaegerBinary(): string {
  return path.join(backendsCache(), `jaeger-${JAEGER_VERSION}`, 'jaeger');
}

function configYaml(zipkinPort: number, queryPort: number, grpcPort: number): string {
  // No metrics reader (its Prometheus port), no OTLP or Jaeger receivers; no batch
  // processor, so a span is queryable as soon as the receiver answered.
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [zipkin]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    max_clock_skew_adjust: 0s
    http:
      endpoint: 127.0.0.1:${queryPort}
    grpc:
      endpoint: 127.0.0.1:${grpcPort}
receivers:
  zipkin:
    endpoint: 127.0.0.1:${zipkinPort}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

interface TraceResponse {
  data: { spans: Omit<JaegerSpan, 'process'>[]; processes: Record<string, JaegerSpan['process']> }[] | null;
}

export async function startJaeger(): Promise<Jaeger> {
  const [zipkinPort, queryPort, grpcPort] = await freePorts(3);
  const dir = dataDir('jaeger');
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, configYaml(zipkinPort, queryPort, grpcPort));
  const queryUrl = `http://127.0.0.1:${queryPort}`;
  const proc = await startBackend({
    name: 'jaeger',
    command: jaegerBinary(),
    args: [`--config=${config}`],
    cwd: dir,
    ready: async () => {
      const res = await fetch(`${queryUrl}/api/services`);
      await res.arrayBuffer();
      return res.status === 200 && (await portAccepts(zipkinPort));
    },
  });
  const getTrace = async (traceIdHex: string): Promise<JaegerSpan[]> => {
    const res = await fetch(`${queryUrl}/api/traces/${traceIdHex}`);
    const text = await res.text();
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`GET /api/traces/${traceIdHex}: ${res.status} ${text}`);
    const trace = (JSON.parse(text) as TraceResponse).data?.[0];
    if (trace === undefined) return [];
    return trace.spans.map((span) => ({ ...span, process: trace.processes[span.processID] }));
  };
  return {
    zipkinUrl: `http://127.0.0.1:${zipkinPort}/api/v2/spans`,
    queryUrl,
    process: proc,
    stop: async () => {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    getTrace,
    async waitForSpans(traceIdHex, count, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const spans = await getTrace(traceIdHex);
        if (spans.length >= count) return spans;
        if (Date.now() > deadline) {
          throw new Error(`jaeger has ${spans.length} of ${count} spans of ${traceIdHex}: ${JSON.stringify(spans)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
