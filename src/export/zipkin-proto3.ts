/**
 * Zipkin proto3 (`zipkin.proto3.ListOfSpans`, spec/zipkin-api/zipkin.proto) written by hand,
 * so protobufjs stays a test-only dependency. Trace ids are always 16 bytes (the OTel
 * Collector rejects 8), ids are raw big-endian bytes, `timestamp` is fixed64 and
 * `duration` a varint; proto3 defaults (0, "", empty) are left out.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ZipkinEndpoint, ZipkinSpan } from './zipkin-json';

/** Wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

const KIND_NUMBERS: Readonly<Record<string, number>> = { CLIENT: 1, SERVER: 2, PRODUCER: 3, CONSUMER: 4 };

const TWO_32 = 2 ** 32;

/**
 * Append-only byte writer over one reusable scratch buffer. A nested message reserves one
 * length byte and shifts its body in the rare case the length needs more.
 */
class ProtoWriter {
  buf: Buffer = Buffer.allocUnsafe(1024);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Non-negative integers up to 2^53. */
  varint(value: number): void {
    this.reserve(10);
    let v = value;
    while (v > 127) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  fixed64(field: number, value: number): void {
    this.key(field, FIXED64);
    this.reserve(8);
    this.buf.writeUInt32LE(value % TWO_32, this.pos);
    this.buf.writeUInt32LE(Math.floor(value / TWO_32), this.pos + 4);
    this.pos += 8;
  }

  string(field: number, value: string): void {
    if (value === '') return;
    const length = Buffer.byteLength(value);
    this.key(field, LEN);
    this.varint(length);
    this.reserve(length);
    this.pos += this.buf.write(value, this.pos, length, 'utf8');
  }

  /** Raw bytes from hex (ids), left-padded with zero bytes to `bytes`. */
  hexBytes(field: number, hex: string, bytes: number): void {
    this.key(field, LEN);
    this.varint(bytes);
    this.reserve(bytes);
    const padding = bytes - (hex.length >> 1);
    for (let i = 0; i < padding; i++) this.buf[this.pos++] = 0;
    for (let i = 0; i + 1 < hex.length && i >> 1 < bytes; i += 2) {
      this.buf[this.pos++] = (hexDigit(hex.charCodeAt(i)) << 4) | hexDigit(hex.charCodeAt(i + 1));
    }
  }

  raw(field: number, bytes: readonly number[]): void {
    this.key(field, LEN);
    this.varint(bytes.length);
    this.reserve(bytes.length);
    for (let i = 0; i < bytes.length; i++) this.buf[this.pos++] = bytes[i];
  }

  /** Starts a length-delimited nested message; returns where its length byte is. */
  begin(field: number): number {
    this.key(field, LEN);
    this.reserve(1);
    return this.pos++;
  }

  end(lengthAt: number): void {
    const length = this.pos - lengthAt - 1;
    if (length < 128) {
      this.buf[lengthAt] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.reserve(extra);
    this.buf.copy(this.buf, lengthAt + 1 + extra, lengthAt + 1, this.pos);
    const end = this.pos + extra;
    this.pos = lengthAt;
    this.varint(length);
    this.pos = end;
  }

  /** A copy of what was written (the scratch buffer is reused). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return 0;
}

function varintSize(value: number): number {
  let size = 1;
  let v = value;
  while (v > 127) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** Dotted IPv4 text → 4 bytes, or undefined when it is not one. */
export function ipv4Bytes(ip: string): number[] | undefined {
  if (!isIPv4(ip)) return undefined;
  return ip.split('.').map(Number);
}

/** IPv6 text (`::` compression, embedded IPv4, optional `%zone`) → 16 bytes, or undefined. */
export function ipv6Bytes(ip: string): number[] | undefined {
  const zone = ip.indexOf('%');
  const text = zone === -1 ? ip : ip.slice(0, zone);
  if (!isIPv6(text)) return undefined;
  const words: number[] = [];
  const halves = text.split('::');
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const v4 = group.split('.').map(Number);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        out.push(parseInt(group, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = halves.length > 1 ? parse(halves[1]) : [];
  words.push(...head);
  for (let i = head.length + tail.length; i < 8; i++) words.push(0);
  words.push(...tail);
  const bytes: number[] = [];
  for (const w of words) bytes.push(w >> 8, w & 0xff);
  return bytes;
}

function writeEndpoint(w: ProtoWriter, field: number, endpoint: ZipkinEndpoint): void {
  const at = w.begin(field);
  if (endpoint.serviceName !== undefined) w.string(1, endpoint.serviceName);
  if (endpoint.ipv4 !== undefined) {
    const bytes = ipv4Bytes(endpoint.ipv4);
    if (bytes !== undefined) w.raw(2, bytes);
  }
  if (endpoint.ipv6 !== undefined) {
    const bytes = ipv6Bytes(endpoint.ipv6);
    if (bytes !== undefined) w.raw(3, bytes);
  }
  // int32 on the wire; a negative port would need a 10-byte varint and means "absent" anyway.
  if (endpoint.port !== undefined && endpoint.port > 0 && endpoint.port < TWO_32 / 2) {
    w.key(4, VARINT);
    w.varint(endpoint.port);
  }
  w.end(at);
}

const writer = new ProtoWriter();

/** One `zipkin.proto3.Span` message (the bytes of a `ListOfSpans.spans` element). */
export function encodeProto3Span(span: ZipkinSpan): Buffer {
  const w = writer;
  w.reset();
  w.hexBytes(1, span.traceId, 16);
  if (span.parentId !== undefined) w.hexBytes(2, span.parentId, 8);
  w.hexBytes(3, span.id, 8);
  if (span.kind !== undefined) {
    w.key(4, VARINT);
    w.varint(KIND_NUMBERS[span.kind]);
  }
  w.string(5, span.name);
  if (span.timestamp > 0) w.fixed64(6, span.timestamp);
  if (span.duration > 0) {
    w.key(7, VARINT);
    w.varint(span.duration);
  }
  writeEndpoint(w, 8, span.localEndpoint);
  if (span.remoteEndpoint !== undefined) writeEndpoint(w, 9, span.remoteEndpoint);
  if (span.annotations !== undefined) {
    for (const annotation of span.annotations) {
      const at = w.begin(10);
      if (annotation.timestamp > 0) w.fixed64(1, annotation.timestamp);
      w.string(2, annotation.value);
      w.end(at);
    }
  }
  if (span.tags !== undefined) {
    const tags = span.tags;
    for (const key in tags) {
      const at = w.begin(11);
      w.string(1, key);
      w.string(2, tags[key]);
      w.end(at);
    }
  }
  return w.take();
}

/** A `ListOfSpans` body: each span as field 1, length-delimited. */
export function proto3ListBody(spans: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const span of spans) size += 1 + varintSize(span.length) + span.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const span of spans) {
    out[pos++] = 0x0a; // field 1, wire type 2
    let v = span.length;
    while (v > 127) {
      out[pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    out[pos++] = v;
    out.set(span, pos);
    pos += span.length;
  }
  return out;
}
