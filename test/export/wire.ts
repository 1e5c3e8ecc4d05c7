/** Oracles for the wire formats: zipkin2-api.yaml (anchored id patterns) and zipkin.proto. */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import * as protobuf from 'protobufjs';
import type { ZipkinSpan } from '../../src/export/zipkin-span';

const API_DIR = path.join(__dirname, '..', 'fixtures', 'zipkin-api');

interface SchemaNode {
  pattern?: string;
  properties?: Record<string, SchemaNode>;
  [key: string]: unknown;
}

/** The `ListOfSpans` validator; the yaml's id patterns are unanchored, so they are anchored here. */
export function listOfSpansValidator(): ValidateFunction {
  const doc = parse(readFileSync(path.join(API_DIR, 'zipkin2-api.yaml'), 'utf8')) as {
    definitions: Record<string, SchemaNode>;
  };
  const definitions = structuredClone(doc.definitions);
  const span = definitions.Span.properties as Record<string, SchemaNode>;
  for (const field of ['traceId', 'id', 'parentId']) {
    const pattern = span[field].pattern as string;
    span[field].pattern = pattern.startsWith('^') ? pattern : `^(?:${pattern})$`;
  }
  // Swagger 2.0 keywords such as `example` are not JSON Schema: not strict.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('ipv4', { type: 'string', validate: (s: string) => isIPv4(s) });
  ajv.addFormat('ipv6', { type: 'string', validate: (s: string) => isIPv6(s) });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv.compile({ type: 'array', items: { $ref: '#/definitions/Span' }, definitions });
}

const root = protobuf.loadSync(path.join(API_DIR, 'zipkin.proto'));
const ListOfSpans = root.lookupType('zipkin.proto3.ListOfSpans');

interface DecodedEndpoint {
  serviceName?: string;
  ipv4?: Buffer;
  ipv6?: Buffer;
  port?: number;
}

interface DecodedSpan {
  traceId: Buffer;
  parentId?: Buffer;
  id: Buffer;
  kind?: string;
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: DecodedEndpoint;
  remoteEndpoint?: DecodedEndpoint;
  annotations?: { timestamp: number; value: string }[];
  tags?: Record<string, string>;
  debug?: boolean;
  shared?: boolean;
}

function ipv6Text(bytes: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(bytes.readUInt16BE(i).toString(16));
  return words.join(':');
}

/** Expands an IPv6 text to the uncompressed lowercase form `ipv6Text` produces. */
export function normalizeIpv6(ip: string): string {
  const text = ip.split('%')[0];
  const bytes = Buffer.alloc(16);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): number[] =>
    s === undefined || s === ''
      ? []
      : s.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const v = g.split('.').map(Number);
          return [(v[0] << 8) | v[1], (v[2] << 8) | v[3]];
        });
  const h = groups(head);
  const t = groups(tail);
  const words = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  words.forEach((w, i) => bytes.writeUInt16BE(w, i * 2));
  return ipv6Text(bytes);
}

function endpoint(e: DecodedEndpoint | undefined): Record<string, unknown> | undefined {
  if (e === undefined) return undefined;
  const out: Record<string, unknown> = {};
  if (e.serviceName !== undefined) out.serviceName = e.serviceName;
  if (e.ipv4 !== undefined) out.ipv4 = [...e.ipv4].join('.');
  if (e.ipv6 !== undefined) out.ipv6 = ipv6Text(e.ipv6);
  if (e.port !== undefined) out.port = e.port;
  return out;
}

/** Decodes a proto3 body with protobufjs into the JSON v2 shape (ids as hex, IPs as text). */
export function decodeProto3(body: Uint8Array): Record<string, unknown>[] {
  const message = ListOfSpans.decode(body);
  const object = ListOfSpans.toObject(message, { longs: Number, enums: String, defaults: false }) as {
    spans?: DecodedSpan[];
  };
  return (object.spans ?? []).map((s) => {
    const out: Record<string, unknown> = { traceId: s.traceId.toString('hex') };
    if (s.parentId !== undefined) out.parentId = s.parentId.toString('hex');
    out.id = s.id.toString('hex');
    if (s.kind !== undefined) out.kind = s.kind;
    if (s.name !== undefined) out.name = s.name;
    if (s.timestamp !== undefined) out.timestamp = s.timestamp;
    if (s.duration !== undefined) out.duration = s.duration;
    if (s.localEndpoint !== undefined) out.localEndpoint = endpoint(s.localEndpoint);
    if (s.remoteEndpoint !== undefined) out.remoteEndpoint = endpoint(s.remoteEndpoint);
    if (s.annotations !== undefined)
      out.annotations = s.annotations.map((a) => ({ value: a.value, timestamp: a.timestamp }));
    if (s.tags !== undefined) out.tags = { ...s.tags };
    if (s.debug !== undefined) out.debug = s.debug;
    if (s.shared !== undefined) out.shared = s.shared;
    return out;
  });
}

/**
 * What a proto3 body must decode to for a given JSON span: trace ids padded to 16 bytes,
 * IPv6 uncompressed, proto3 defaults (duration 0) absent.
 */
export function expectedProto3(span: ZipkinSpan): Record<string, unknown> {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(span)) as Record<string, unknown>;
  out.traceId = span.traceId.padStart(32, '0');
  if (span.duration === 0) delete out.duration;
  if (span.name === '') delete out.name;
  const remote = out.remoteEndpoint as Record<string, unknown> | undefined;
  if (remote !== undefined && typeof remote.ipv6 === 'string') remote.ipv6 = normalizeIpv6(remote.ipv6);
  return out;
}
