/**
 * A hand-written decoder for Zipkin's proto3 `ListOfSpans` (`zipkin.proto`), for the
 * development receiver: protobufjs is only a dev dependency. It turns each `Span` into
 * the JSON v2 shape (hex ids, dotted/text addresses) so one validator checks both
 * encodings. proto3 defaults mean "absent": an empty string or byte string, 0, `false`
 * and kind `SPAN_KIND_UNSPECIFIED` are left out, as Zipkin's proto reader does. Unknown
 * fields are skipped by wire type. Wire-level problems (truncation, wrong wire type,
 * wrong id lengths, unknown `kind` numbers) are reported as `<path>: <reason>` lines.
 */

type Json = Record<string, unknown>;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const KIND_NAMES: readonly (string | undefined)[] = [undefined, 'CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'];

class Truncated extends Error {}

/** A cursor over one message's bytes. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Truncated();
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new Truncated();
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new Truncated();
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 4; i++) lo += this.buf[this.pos + i] * 2 ** (8 * i);
    for (let i = 0; i < 4; i++) hi += this.buf[this.pos + 4 + i] * 2 ** (8 * i);
    this.pos += 8;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A length-delimited field: a sub-reader over its bytes. */
  sub(): Reader {
    const len = this.varint();
    if (len > BigInt(this.end - this.pos)) throw new Truncated();
    const start = this.pos;
    this.pos += Number(len);
    return new Reader(this.buf, start, this.pos);
  }

  bytes(): Uint8Array {
    const r = this.sub();
    return this.buf.subarray(r.pos, r.end);
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.fixed64();
    else if (wire === WIRE_LEN) this.sub();
    else if (wire === WIRE_FIXED32) {
      if (this.pos + 4 > this.end) throw new Truncated();
      this.pos += 4;
    } else throw new WireError(`unsupported wire type ${wire}`);
  }
}

class WireError extends Error {}

/** Reads the fields of one message, calling `field` for each (it must consume the value). */
function fields(r: Reader, field: (num: number, wire: number) => boolean): void {
  while (!r.done) {
    const key = r.varint();
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (num === 0) throw new WireError('field number 0');
    if (!field(num, wire)) r.skip(wire);
  }
}

function expectWire(path: string, wire: number, expected: number): void {
  if (wire !== expected) throw new WireError(`${path}: wire type ${wire}, expected ${expected}`);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function ipv6Text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  // RFC 5952: compress the longest run (at least two) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart === -1) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLen).join(':')}`;
}

function safeNumber(v: bigint, path: string, issues: string[]): number | undefined {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    issues.push(`${path}: ${v} is too large (above 2^53 microseconds)`);
    return undefined;
  }
  return Number(v);
}

function endpoint(r: Reader, path: string, issues: string[]): Json | undefined {
  const out: Json = {};
  fields(r, (num, wire) => {
    switch (num) {
      case 1: {
        expectWire(`${path}.serviceName`, wire, WIRE_LEN);
        const s = r.string();
        if (s === '') delete out.serviceName;
        else out.serviceName = s;
        return true;
      }
      case 2:
      case 3: {
        const name = num === 2 ? 'ipv4' : 'ipv6';
        expectWire(`${path}.${name}`, wire, WIRE_LEN);
        const b = r.bytes();
        if (b.length === 0) delete out[name];
        else if (b.length !== (num === 2 ? 4 : 16))
          issues.push(`${path}.${name}: expected ${num === 2 ? 4 : 16} bytes, got ${b.length}`);
        else out[name] = num === 2 ? Array.from(b).join('.') : ipv6Text(b);
        return true;
      }
      case 4: {
        expectWire(`${path}.port`, wire, WIRE_VARINT);
        const port = Number(BigInt.asIntN(32, r.varint()));
        if (port === 0) delete out.port;
        else out.port = port;
        return true;
      }
      default:
        return false;
    }
  });
  return Object.keys(out).length === 0 ? undefined : out;
}

function annotation(r: Reader, path: string, issues: string[]): Json {
  const out: Json = {};
  fields(r, (num, wire) => {
    if (num === 1) {
      expectWire(`${path}.timestamp`, wire, WIRE_FIXED64);
      const ts = r.fixed64();
      // 0 is the proto3 default, so it reads as "missing", which the validator rejects.
      if (ts === 0n) delete out.timestamp;
      else out.timestamp = safeNumber(ts, `${path}.timestamp`, issues) ?? 0;
      return true;
    }
    if (num === 2) {
      expectWire(`${path}.value`, wire, WIRE_LEN);
      const v = r.string();
      if (v === '') delete out.value;
      else out.value = v;
      return true;
    }
    return false;
  });
  return out;
}

function span(r: Reader, path: string, issues: string[]): Json {
  const out: Json = {};
  const annotations: Json[] = [];
  const tags: Record<string, string> = {};
  let hasTags = false;
  const id = (name: string, wire: number, lengths: readonly number[]): void => {
    expectWire(`${path}.${name}`, wire, WIRE_LEN);
    const b = r.bytes();
    if (b.length === 0) delete out[name];
    else if (!lengths.includes(b.length))
      issues.push(`${path}.${name}: expected ${lengths.join(' or ')} bytes, got ${b.length}`);
    else out[name] = hex(b);
  };
  fields(r, (num, wire) => {
    switch (num) {
      case 1:
        id('traceId', wire, [8, 16]);
        return true;
      case 2:
        id('parentId', wire, [8]);
        return true;
      case 3:
        id('id', wire, [8]);
        return true;
      case 4: {
        expectWire(`${path}.kind`, wire, WIRE_VARINT);
        const k = Number(BigInt.asIntN(32, r.varint()));
        if (k === 0) delete out.kind;
        else if (k < 0 || k >= KIND_NAMES.length) issues.push(`${path}.kind: unknown enum value ${k}`);
        else out.kind = KIND_NAMES[k];
        return true;
      }
      case 5: {
        expectWire(`${path}.name`, wire, WIRE_LEN);
        const s = r.string();
        if (s === '') delete out.name;
        else out.name = s;
        return true;
      }
      case 6: {
        expectWire(`${path}.timestamp`, wire, WIRE_FIXED64);
        const ts = r.fixed64();
        if (ts === 0n) delete out.timestamp;
        else {
          const n = safeNumber(ts, `${path}.timestamp`, issues);
          if (n !== undefined) out.timestamp = n;
        }
        return true;
      }
      case 7: {
        expectWire(`${path}.duration`, wire, WIRE_VARINT);
        const d = r.varint();
        if (d === 0n) delete out.duration;
        else {
          const n = safeNumber(d, `${path}.duration`, issues);
          if (n !== undefined) out.duration = n;
        }
        return true;
      }
      case 8:
      case 9: {
        const name = num === 8 ? 'localEndpoint' : 'remoteEndpoint';
        expectWire(`${path}.${name}`, wire, WIRE_LEN);
        const e = endpoint(r.sub(), `${path}.${name}`, issues);
        if (e === undefined) delete out[name];
        else out[name] = e;
        return true;
      }
      case 10:
        expectWire(`${path}.annotations`, wire, WIRE_LEN);
        annotations.push(annotation(r.sub(), `${path}.annotations[${annotations.length}]`, issues));
        return true;
      case 11: {
        expectWire(`${path}.tags`, wire, WIRE_LEN);
        const entry = r.sub();
        let key = '';
        let value = '';
        fields(entry, (n, w) => {
          if (n !== 1 && n !== 2) return false;
          expectWire(`${path}.tags`, w, WIRE_LEN);
          if (n === 1) key = entry.string();
          else value = entry.string();
          return true;
        });
        tags[key] = value;
        hasTags = true;
        return true;
      }
      case 12:
      case 13: {
        const name = num === 12 ? 'debug' : 'shared';
        expectWire(`${path}.${name}`, wire, WIRE_VARINT);
        if (r.varint() !== 0n) out[name] = true;
        else delete out[name];
        return true;
      }
      default:
        return false;
    }
  });
  if (annotations.length > 0) out.annotations = annotations;
  if (hasTags) out.tags = tags;
  return out;
}

/**
 * Decodes a `ListOfSpans` body into JSON v2-shaped span objects (still to be validated),
 * or the reasons it cannot be decoded.
 */
export function decodeProto3SpanList(body: Uint8Array): { spans: unknown[] } | { errors: string[] } {
  const issues: string[] = [];
  const spans: unknown[] = [];
  const r = new Reader(body, 0, body.length);
  try {
    fields(r, (num, wire) => {
      if (num !== 1) return false;
      const path = `spans[${spans.length}]`;
      expectWire(path, wire, WIRE_LEN);
      spans.push(span(r.sub(), path, issues));
      return true;
    });
  } catch (err) {
    if (err instanceof Truncated) return { errors: [`spans[${spans.length}]: truncated proto3 message`] };
    if (err instanceof WireError) {
      return { errors: [err.message.startsWith('spans[') ? err.message : `spans[${spans.length}]: ${err.message}`] };
    }
    throw err;
  }
  return issues.length > 0 ? { errors: issues } : { spans };
}
