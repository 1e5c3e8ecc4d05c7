/**
 * OTel `ReadableSpan` → Kong's Zipkin v2 JSON span (reference §5.1, §2.5–2.7, §2.11–2.12),
 * with docs/design.md differences 4 (no `remoteEndpoint` instead of `null`) and 7 (µs timestamps).
 * Spans follow src/trace/span-attributes.ts: Kong tags are attributes, annotations are
 * events, the remote endpoint comes from the peer attributes.
 */
import { SpanKind, type AttributeValue, type Attributes, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_PEER_ADDRESS,
  ATTR_PEER_PORT,
  ATTR_PEER_SERVICE,
  ATTR_TRACE_ID_BYTES,
  ENDPOINT_ATTRS,
  INTERNAL_ATTR_PREFIX,
} from '../trace/span-attributes';
import { isZeroHex } from '../propagation/hex';
import { hrTimeToMicros } from '../trace/clock';

export type ZipkinKind = 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';

export interface ZipkinEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface ZipkinAnnotation {
  timestamp: number;
  value: string;
}

/** One Zipkin v2 span as Kong reports it (never `shared` or `debug`). */
export interface ZipkinSpan {
  traceId: string;
  parentId?: string;
  id: string;
  kind?: ZipkinKind;
  name: string;
  /** epoch µs, integer */
  timestamp: number;
  /** µs, integer, ≥ 0 */
  duration: number;
  localEndpoint: ZipkinEndpoint;
  remoteEndpoint?: ZipkinEndpoint;
  tags?: Record<string, string>;
  annotations?: ZipkinAnnotation[];
}

export interface ZipkinSpanOptions {
  /** Kong's `local_service_name`: the only field of `localEndpoint`. */
  localServiceName: string;
  /** Kong's `default_service_name`: `remoteEndpoint.serviceName` when a span has no `peer.service`. */
  defaultServiceName?: string | null;
}

/** Zipkin kind by OTel SpanKind; INTERNAL has none (a local span). */
const KIND_NAMES: Readonly<Record<number, ZipkinKind | undefined>> = {
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

/** floor(end − start) in µs, never negative (Kong asserts on a negative duration). */
export function durationMicros(start: HrTime, end: HrTime): number {
  const nanos = (end[0] - start[0]) * 1e9 + (end[1] - start[1]);
  return nanos <= 0 ? 0 : Math.floor(nanos / 1e3);
}

/** §2.11: 16 hex characters for a generated 64-bit trace id, otherwise the 32-character id. */
export function reportedTraceId(span: ReadableSpan): string {
  const traceId = span.spanContext().traceId;
  return span.attributes[ATTR_TRACE_ID_BYTES] === 8 ? traceId.slice(traceId.length - 16) : traceId;
}

/** The parent span id, or undefined on a root (or an invalid all-zero parent). */
export function reportedParentId(span: ReadableSpan): string | undefined {
  const parentId = span.parentSpanContext?.spanId;
  return parentId === undefined || parentId.length === 0 || isZeroHex(parentId) ? undefined : parentId;
}

/**
 * Lua's `tostring` for tag values: integers as plain decimals, fractions with Lua's 14
 * significant digits (so float noise such as `0.30000000000000004` reads `0.3`), booleans
 * as `true` / `false`.
 */
export function tagValueText(value: AttributeValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
    return String(Number(value.toPrecision(14)));
  }
  return String(value);
}

/** True for attributes that are reported as tags. */
export function isTagAttribute(key: string): boolean {
  return !ENDPOINT_ATTRS.has(key) && !key.startsWith(INTERNAL_ATTR_PREFIX);
}

function peerPort(attributes: Attributes): number | undefined {
  return portOf(attributes[ATTR_PEER_PORT]);
}

/** An integer port from a number or a numeric string. */
export function portOf(port: AttributeValue | undefined): number | undefined {
  if (typeof port === 'number') return Number.isInteger(port) ? port : undefined;
  if (typeof port === 'string' && port !== '') {
    const n = Number(port);
    return Number.isInteger(n) ? n : undefined;
  }
  return undefined;
}

export function nonEmptyString(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * §2.7: present when the span has a port or a service name (its own `peer.service` or the
 * default); the IP is added only then, under `ipv6` if it contains `:`.
 */
export function remoteEndpointOf(
  attributes: Attributes,
  defaultServiceName: string | null | undefined,
): ZipkinEndpoint | undefined {
  const serviceName = nonEmptyString(attributes[ATTR_PEER_SERVICE]) ?? (defaultServiceName || undefined);
  const port = peerPort(attributes);
  if (port === undefined && serviceName === undefined) return undefined;
  const endpoint: ZipkinEndpoint = {};
  if (serviceName !== undefined) endpoint.serviceName = serviceName;
  const ip = nonEmptyString(attributes[ATTR_PEER_ADDRESS]);
  if (ip !== undefined) {
    if (ip.includes(':')) endpoint.ipv6 = ip;
    else endpoint.ipv4 = ip;
  }
  if (port !== undefined) endpoint.port = port;
  return endpoint;
}

/** The span as a Zipkin v2 object (the proto3 encoder and tests start from this). */
export function toZipkinSpan(span: ReadableSpan, options: ZipkinSpanOptions): ZipkinSpan {
  // Keys are assigned in Kong's order so JSON.stringify of this equals ZipkinJsonEncoder's output.
  const traceId = reportedTraceId(span);
  const parentId = reportedParentId(span);
  const ordered = (parentId === undefined ? { traceId } : { traceId, parentId }) as ZipkinSpan;
  ordered.id = span.spanContext().spanId;
  const kind = KIND_NAMES[span.kind];
  if (kind !== undefined) ordered.kind = kind;
  ordered.name = span.name;
  ordered.timestamp = hrTimeToMicros(span.startTime);
  ordered.duration = durationMicros(span.startTime, span.endTime);
  ordered.localEndpoint = { serviceName: options.localServiceName };
  const remote = remoteEndpointOf(span.attributes, options.defaultServiceName);
  if (remote !== undefined) ordered.remoteEndpoint = remote;
  let tags: Record<string, string> | undefined;
  const attributes = span.attributes;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null || !isTagAttribute(key)) continue;
    const text = tagValueText(value);
    if (text === '') continue;
    (tags ??= {})[key] = text;
  }
  if (tags !== undefined) ordered.tags = tags;
  const events = span.events;
  if (events.length > 0) {
    const annotations = new Array<ZipkinAnnotation>(events.length);
    for (let i = 0; i < events.length; i++) {
      annotations[i] = { value: events[i].name, timestamp: hrTimeToMicros(events[i].time) };
    }
    ordered.annotations = annotations;
  }
  return ordered;
}

/*
 * The fast encoder below is bound by how V8 builds strings: each `+` giving 13 characters or
 * more makes a tree node (a "cons string") that is walked and copied when the string is
 * flattened (by the body's join, a socket write), about 14 ns per piece all told. So it appends
 * as few pieces as it can: what repeats across spans (tag pairs, names with the JSON around
 * them, endpoints, a timestamp's whole seconds) is cached as one flat string, and only ids and
 * the varying numbers are appended on their own.
 */
