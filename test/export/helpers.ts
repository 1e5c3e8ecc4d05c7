/** Shared helpers for the export tests: a recording logger, real OTel spans, a local receiver. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { QueueConfig } from '../../src/config/types';
import { QUEUE_DEFAULTS } from '../../src/config/defaults';

export type { RecordingLogger } from '../support/recording-logger';
export { recordingLogger } from '../support/recording-logger';

/** Kong's queue defaults (§6.1), with overrides. */
export function queueConfig(overrides: Partial<QueueConfig> = {}): QueueConfig {
  return { ...QUEUE_DEFAULTS, ...overrides };
}

class FixedIds implements IdGenerator {
  traceIds: string[] = [];
  spanIds: string[] = [];
  private n = 0;
  generateTraceId(): string {
    return this.traceIds.shift() ?? (++this.n).toString(16).padStart(32, 'a');
  }
  generateSpanId(): string {
    return this.spanIds.shift() ?? (++this.n).toString(16).padStart(16, 'b');
  }
}

export interface SpanSpec {
  name: string;
  kind: SpanKind;
  traceId?: string;
  spanId: string;
  /** A remote parent span id (same trace); none = root. */
  parentId?: string;
  sampled?: boolean;
  start: HrTime;
  end: HrTime;
  attributes?: Attributes;
  events?: [string, HrTime][];
}

/**
 * Ends real SDK spans built from `specs` and returns what a processor received. With
 * `processor` the spans go (also) through it, as the tracer would deliver them.
 */
export function makeSpans(specs: SpanSpec[], processor?: SpanProcessor): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const ids = new FixedIds();
  const processors: SpanProcessor[] = [new SimpleSpanProcessor(memory)];
  if (processor !== undefined) processors.push(processor);
  const provider = new BasicTracerProvider({ idGenerator: ids, spanProcessors: processors });
  const tracer = provider.getTracer('export-tests');
  const out: ReadableSpan[] = [];
  for (const spec of specs) {
    const traceId = spec.traceId ?? '0af7651916cd43dd8448eb211c80319c';
    let parent = ROOT_CONTEXT;
    if (spec.parentId !== undefined) {
      parent = trace.setSpanContext(ROOT_CONTEXT, {
        traceId,
        spanId: spec.parentId,
        traceFlags: spec.sampled === false ? TraceFlags.NONE : TraceFlags.SAMPLED,
        isRemote: true,
      });
    } else {
      ids.traceIds.push(traceId);
    }
    ids.spanIds.push(spec.spanId);
    const span = tracer.startSpan(
      spec.name,
      { kind: spec.kind, startTime: spec.start, attributes: spec.attributes },
      parent,
    );
    for (const [name, time] of spec.events ?? []) span.addEvent(name, time);
    span.end(spec.end);
  }
  out.push(...memory.getFinishedSpans());
  return out;
}

/** The three spans of the reference example (§5.1), with µs-precise times. */
export function kongExampleSpecs(): SpanSpec[] {
  const t = (ms: number, us = 0): HrTime => [1700000000, ms * 1e6 + us * 1e3];
  return [
    {
      name: 'GET (balancer try 1)',
      kind: SpanKind.CLIENT,
      spanId: '1111111111111111',
      parentId: 'b7ad6b7169203331',
      start: t(52),
      end: t(55, 250),
      attributes: {
        'kong.balancer.try': 1,
        'kong.service': 'svc-uuid',
        'kong.service_name': 'my-svc',
        'kong.route': 'route-uuid',
        'kong.route_name': 'my-route',
        'network.peer.address': '10.0.0.5',
        'network.peer.port': 8080,
        'peer.service': 'my-svc',
      },
    },
    {
      name: 'GET (proxy)',
      kind: SpanKind.CLIENT,
      spanId: '2222222222222222',
      parentId: 'b7ad6b7169203331',
      start: t(50),
      end: t(70, 1),
      attributes: {
        'peer.hostname': 'backend.local',
        'kong.service': 'svc-uuid',
        'kong.service_name': 'my-svc',
        'kong.route': 'route-uuid',
        'kong.route_name': 'my-route',
        'network.peer.address': '10.0.0.5',
        'network.peer.port': 8080,
        'peer.service': 'my-svc',
      },
      events: [
        ['khs', t(65)],
        ['khf', t(66)],
        ['kbs', t(66, 1)],
        ['kas', t(50)],
        ['kaf', t(52)],
        ['kbf', t(71)],
      ],
    },
    {
      name: 'GET',
      kind: SpanKind.SERVER,
      spanId: 'b7ad6b7169203331',
      parentId: 'b7ad6b7169203332',
      start: t(48),
      end: t(71),
      attributes: {
        lc: 'kong',
        'http.method': 'GET',
        'http.host': 'example.com',
        'http.path': '/',
        'http.protocol': 'HTTP/1.1',
        'http.status_code': 200,
        'kong.node.id': 'node-uuid',
        'network.peer.address': '127.0.0.1',
        'network.peer.port': 53412,
      },
      events: [
        ['krf', t(49)],
        ['krs', t(48)],
      ],
    },
  ];
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The body as received (still gzipped if it was). */
  raw: Buffer;
  /** The body after undoing `content-encoding: gzip`. */
  body: Buffer;
  /** Client port: equal across requests when the connection was kept alive. */
  remotePort: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Statuses to answer, in order; the last one repeats. `0` = never answer. */
  statuses: number[];
  close(): Promise<void>;
  /** Resolves once `n` requests arrived. */
  waitFor(n: number): Promise<void>;
}

/** A Zipkin-like receiver on 127.0.0.1 recording every POST. */
export async function startReceiver(statuses: number[] = [202]): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const hanging = new Set<http.ServerResponse>();
  const receiver = { requests, statuses } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        raw,
        body,
        remotePort: req.socket.remotePort ?? 0,
      });
      for (const w of waiters.filter((w) => requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const status = receiver.statuses.length > 1 ? (receiver.statuses.shift() as number) : receiver.statuses[0];
      if (status === 0) {
        hanging.add(res);
        return;
      }
      res.statusCode = status;
      res.end(status >= 400 ? 'failed' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  receiver.port = port;
  receiver.url = `http://127.0.0.1:${port}/api/v2/spans`;
  receiver.waitFor = (n) =>
    requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
  receiver.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
