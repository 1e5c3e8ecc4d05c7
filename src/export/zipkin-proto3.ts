/**
 * Zipkin proto3 (`zipkin.proto3.ListOfSpans`, test/fixtures/zipkin-api/zipkin.proto) written by hand,
 * so protobufjs stays a test-only dependency. Trace ids are always 16 bytes (the OTel
 * Collector rejects 8), ids are raw big-endian bytes, `timestamp` is fixed64 and
 * `duration` a varint; proto3 defaults (0, "", empty) are left out.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ZipkinEndpoint, ZipkinSpan } from './zipkin-span';

/** Wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

const KIND_NUMBERS: Readonly<Record<string, number>> = { CLIENT: 1, SERVER: 2, PRODUCER: 3, CONSUMER: 4 };

const TWO_32 = 2 ** 32;

/**
 * Append-only byte writer over one reusable scratch buffer. A nested message reserves one
 * length byte and shifts its body in the rare case the length needs more. Short ASCII strings,
 * ids and fixed64 values are written byte by byte in JS: Kong's strings are short, and a
 * native `write` call costs more than the loop.
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

  /** A field key: one byte for the fields and wire types used here (field × 8 + type < 128). */
  key(field: number, wireType: number): void {
    this.reserve(1);
    this.buf[this.pos++] = field * 8 + wireType;
  }

  fixed64(field: number, value: number): void {
    this.reserve(9);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = field * 8 + FIXED64;
    const high = Math.floor(value / TWO_32);
    const low = value - high * TWO_32; // value % 2^32 (exact below 2^53), without a slow float modulo
    buf[p++] = low & 0xff;
    buf[p++] = (low >>> 8) & 0xff;
    buf[p++] = (low >>> 16) & 0xff;
    buf[p++] = low >>> 24;
    buf[p++] = high & 0xff;
    buf[p++] = (high >>> 8) & 0xff;
    buf[p++] = (high >>> 16) & 0xff;
    buf[p++] = high >>> 24;
    this.pos = p;
  }

  string(field: number, value: string): void {
    if (value === '') return;
    const n = value.length;
    if (n < 128) {
      // ASCII below 128 characters: one length byte, one byte per character.
      this.reserve(n + 2);
      const buf = this.buf;
      let p = this.pos + 2;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) {
          p = -1;
          break;
        }
        buf[p++] = c;
      }
      if (p !== -1) {
        buf[this.pos] = field * 8 + LEN;
        buf[this.pos + 1] = n;
        this.pos = p;
        return;
      }
    }
    const length = Buffer.byteLength(value);
    this.key(field, LEN);
    this.varint(length);
    this.reserve(length);
    this.pos += this.buf.write(value, this.pos, length, 'utf8');
  }

  /** Raw bytes from hex (ids), left-padded with zero bytes to `bytes`. */
  hexBytes(field: number, hex: string, bytes: number): void {
    this.reserve(bytes + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = field * 8 + LEN;
    buf[p++] = bytes; // 8 or 16
    const padding = bytes - (hex.length >> 1);
    for (let i = 0; i < padding; i++) buf[p++] = 0;
    for (let i = 0; i + 1 < hex.length && i >> 1 < bytes; i += 2) {
      const high = hex.charCodeAt(i);
      const low = hex.charCodeAt(i + 1);
      buf[p++] = ((high < 128 ? HEX_VALUES[high] : 0) << 4) | (low < 128 ? HEX_VALUES[low] : 0);
    }
    this.pos = p;
  }

  raw(field: number, bytes: readonly number[]): void {
    this.key(field, LEN);
    this.varint(bytes.length);
    this.reserve(bytes.length);
    for (let i = 0; i < bytes.length; i++) this.buf[this.pos++] = bytes[i];
  }

  /** Starts a length-delimited nested message; returns where its length byte is. */
  begin(field: number): number {
    this.reserve(2);
    this.buf[this.pos++] = field * 8 + LEN;
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

/** Hex digit values by ASCII code (0 for anything else, as before). */
const HEX_VALUES = new Uint8Array(128);
for (let i = 0; i < 10; i++) HEX_VALUES[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUES[97 + i] = HEX_VALUES[65 + i] = 10 + i;

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

/** The last IP texts parsed, with their bytes (spans repeat the same few addresses; '' parses to none). */
const lastIp = {
  v4: '',
  v4Bytes: undefined as number[] | undefined,
  v6: '',
  v6Bytes: undefined as number[] | undefined,
};

function writeEndpoint(w: ProtoWriter, field: number, endpoint: ZipkinEndpoint): void {
  const at = w.begin(field);
  if (endpoint.serviceName !== undefined) w.string(1, endpoint.serviceName);
  const ipv4 = endpoint.ipv4;
  if (ipv4 !== undefined) {
    if (ipv4 !== lastIp.v4) {
      lastIp.v4 = ipv4;
      lastIp.v4Bytes = ipv4Bytes(ipv4);
    }
    if (lastIp.v4Bytes !== undefined) w.raw(2, lastIp.v4Bytes);
  }
  const ipv6 = endpoint.ipv6;
  if (ipv6 !== undefined) {
    if (ipv6 !== lastIp.v6) {
      lastIp.v6 = ipv6;
      lastIp.v6Bytes = ipv6Bytes(ipv6);
    }
    if (lastIp.v6Bytes !== undefined) w.raw(3, lastIp.v6Bytes);
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
