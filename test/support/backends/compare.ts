/**
 * What a backend should hold for a span we sent: Zipkin's stored form (the zipkin2 span
 * model's normalisation) and Jaeger's v1 query form (the OTel Collector's Zipkin
 * translation, zipkin-backends §5.4). Both take the span exactly as our reporter sent it.
 */
import type { JaegerSpan, JaegerTag } from './jaeger';
import type { StoredSpan } from './zipkin';

type Annotation = { timestamp: number; value: string };

/** zipkin2's Annotation order: timestamp, then value. */
function byTimestampThenValue(a: Annotation, b: Annotation): number {
  return a.timestamp - b.timestamp || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

function lowerServiceName(endpoint: Record<string, unknown>): Record<string, unknown> {
  const name = endpoint.serviceName;
  return typeof name === 'string' ? { ...endpoint, serviceName: name.toLowerCase() } : endpoint;
}

/**
 * A sent span as the zipkin2 model gives it back (zipkin-backends §6.1): the span name and
 * the service names lower-cased; annotations sorted (timestamp, then value); an 8-byte
 * trace id sent zero-padded to 16 bytes comes back as 16 hex characters.
 */
export function zipkinForm(sent: StoredSpan): StoredSpan {
  const out: StoredSpan = { ...sent, traceId: sent.traceId.replace(/^0{16}(?=[0-9a-f]{16}$)/, '') };
  if (sent.name !== undefined) out.name = sent.name.toLowerCase();
  if (sent.localEndpoint !== undefined) out.localEndpoint = lowerServiceName(sent.localEndpoint);
  if (sent.remoteEndpoint !== undefined) out.remoteEndpoint = lowerServiceName(sent.remoteEndpoint);
  if (sent.annotations !== undefined) out.annotations = [...sent.annotations].sort(byTimestampThenValue);
  return out;
}

/** Spans ordered by id, for comparing sets of spans. */
export function byId<T extends { id?: string; spanID?: string }>(spans: readonly T[]): T[] {
  const key = (s: T): string => s.id ?? s.spanID ?? '';
  return [...spans].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const JAEGER_KIND: Record<string, string> = {
  CLIENT: 'client',
  SERVER: 'server',
  PRODUCER: 'producer',
  CONSUMER: 'consumer',
};

function stringTag(key: string, value: string): JaegerTag {
  return { key, type: 'string', value };
}

/** The comparable part of a Jaeger span: tags sorted by key, logs by time. */
export interface JaegerView {
  traceID: string;
  spanID: string;
  operationName: string;
  parentSpanID: string | undefined;
  startTime: number;
  duration: number;
  serviceName: string;
  tags: JaegerTag[];
  logs: { timestamp: number; fields: JaegerTag[] }[];
}

function sortTags(tags: readonly JaegerTag[]): JaegerTag[] {
  return [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function jaegerView(span: JaegerSpan): JaegerView {
  return {
    traceID: span.traceID,
    spanID: span.spanID,
    operationName: span.operationName,
    parentSpanID: span.references.find((r) => r.refType === 'CHILD_OF')?.spanID,
    startTime: span.startTime,
    duration: span.duration,
    serviceName: span.process.serviceName,
    tags: sortTags(span.tags),
    logs: [...span.logs].sort((a, b) => a.timestamp - b.timestamp),
  };
}

/** The Jaeger view a sent span should have (zipkin-backends §5.4 and §6.2). */
export function expectedJaegerView(sent: StoredSpan): JaegerView {
  const tags: JaegerTag[] = [];
  for (const [key, value] of Object.entries(sent.tags ?? {})) {
    if (key === 'error') continue; // becomes the span status (below)
    tags.push(stringTag(key, value));
  }
  if (sent.kind !== undefined) tags.push(stringTag('span.kind', JAEGER_KIND[sent.kind]));
  const remote = sent.remoteEndpoint ?? {};
  if (typeof remote.serviceName === 'string') tags.push(stringTag('peer.service', remote.serviceName));
  if (typeof remote.ipv4 === 'string') tags.push(stringTag('net.peer.ip', remote.ipv4));
  if (typeof remote.ipv6 === 'string') tags.push(stringTag('net.peer.ip', remote.ipv6));
  if (typeof remote.port === 'number') tags.push({ key: 'net.peer.port', type: 'int64', value: remote.port });
  if (sent.tags?.error !== undefined) {
    tags.push({ key: 'error', type: 'bool', value: true });
    tags.push(stringTag('otel.status_code', 'ERROR'));
  }
  return {
    traceID: sent.traceId.replace(/^0{16}(?=[0-9a-f]{16}$)/, ''),
    spanID: sent.id,
    operationName: sent.name ?? '',
    parentSpanID: sent.parentId,
    startTime: sent.timestamp ?? 0,
    duration: sent.duration ?? 0,
    serviceName: String(sent.localEndpoint?.serviceName),
    tags: sortTags(tags),
    logs: (sent.annotations ?? [])
      .map((a) => ({ timestamp: a.timestamp, fields: [stringTag('event', a.value)] }))
      .sort((a, b) => a.timestamp - b.timestamp),
  };
}
