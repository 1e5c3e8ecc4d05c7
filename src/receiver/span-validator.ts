/**
 * Validation of received Zipkin v2 spans, for the development receiver. The rules are
 * those of `zipkin2-api.yaml` (types, `kind` enum, annotation
 * `timestamp` + `value` required and unique, tag values strings, `ipv4`/`ipv6` formats)
 * plus what the Zipkin server enforces on top: ids are lower-case hex of the exact
 * lengths and not all zeros, timestamps are non-negative integers, and ports are 1-65535
 * ("please don't set to zero"). `null` is not a value of any field (the schema types
 * have no null). Unknown fields are ignored, as the schema allows.
 *
 * The output is a canonical copy (Zipkin's field order, only known fields), which is what
 * `--json` prints: one line per span whether it came as JSON or proto3.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ZipkinAnnotation, ZipkinEndpoint, ZipkinKind, ZipkinSpan } from '../export/zipkin-span';

/**
 * A validated span as received: the exporter's span model, with the fields Zipkin makes
 * optional and the two flags Kong never sends.
 */
export type ReceivedSpan = Omit<ZipkinSpan, 'name' | 'timestamp' | 'duration' | 'localEndpoint'> &
  Partial<Pick<ZipkinSpan, 'name' | 'timestamp' | 'duration' | 'localEndpoint'>> & {
    debug?: boolean;
    shared?: boolean;
  };

const KINDS: readonly string[] = ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'];
const TRACE_ID_RE = /^[0-9a-f]{16}(?:[0-9a-f]{16})?$/;
const SPAN_ID_RE = /^[0-9a-f]{16}$/;
const ZEROS_RE = /^0+$/;

type Rec = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON-ish path segment for a tag key: `tags["http.path"]`. */
function keyPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}

class SpanChecker {
  constructor(readonly issues: string[]) {}

  private fail(path: string, reason: string): undefined {
    this.issues.push(`${path}: ${reason}`);
    return undefined;
  }

  private id(value: unknown, path: string, re: RegExp, what: string): string | undefined {
    if (typeof value !== 'string') return this.fail(path, 'expected a string');
    if (!re.test(value))
      return this.fail(path, `expected ${what} lower-case hex characters, got ${JSON.stringify(value)}`);
    if (ZEROS_RE.test(value)) return this.fail(path, 'must not be all zeros');
    return value;
  }

  private micros(value: unknown, path: string, min: number): number | undefined {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      return this.fail(path, `expected an integer number of microseconds, got ${JSON.stringify(value)}`);
    }
    if (value < min) return this.fail(path, `must be at least ${min}`);
    return value;
  }

  private endpoint(value: unknown, path: string): ZipkinEndpoint | undefined {
    if (!isRecord(value)) return this.fail(path, 'expected an object');
    const out: ZipkinEndpoint = {};
    const before = this.issues.length;
    if (value.serviceName !== undefined) {
      if (typeof value.serviceName !== 'string') this.fail(`${path}.serviceName`, 'expected a string');
      else out.serviceName = value.serviceName;
    }
    if (value.ipv4 !== undefined) {
      if (typeof value.ipv4 !== 'string' || !isIPv4(value.ipv4)) {
        this.fail(`${path}.ipv4`, `expected an IPv4 address, got ${JSON.stringify(value.ipv4)}`);
      } else out.ipv4 = value.ipv4;
    }
    if (value.ipv6 !== undefined) {
      if (typeof value.ipv6 !== 'string' || !isIPv6(value.ipv6)) {
        this.fail(`${path}.ipv6`, `expected an IPv6 address, got ${JSON.stringify(value.ipv6)}`);
      } else out.ipv6 = value.ipv6;
    }
    if (value.port !== undefined) {
      const port = value.port;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        this.fail(`${path}.port`, `expected an integer between 1 and 65535, got ${JSON.stringify(port)}`);
      } else out.port = port;
    }
    return this.issues.length === before ? out : undefined;
  }

  private annotations(value: unknown, path: string): ZipkinAnnotation[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, 'expected an array');
    const out: ZipkinAnnotation[] = [];
    const seen = new Set<string>();
    value.forEach((a: unknown, i) => {
      const aPath = `${path}[${i}]`;
      if (!isRecord(a)) return this.fail(aPath, 'expected an object');
      const ts =
        a.timestamp === undefined
          ? this.fail(`${aPath}.timestamp`, 'required field missing')
          : this.micros(a.timestamp, `${aPath}.timestamp`, 0);
      let v: string | undefined;
      if (a.value === undefined) this.fail(`${aPath}.value`, 'required field missing');
      else if (typeof a.value !== 'string') this.fail(`${aPath}.value`, 'expected a string');
      else v = a.value;
      if (ts === undefined || v === undefined) return;
      const key = `${ts} ${v}`;
      if (seen.has(key)) return this.fail(aPath, `duplicate annotation (annotations must be unique)`);
      seen.add(key);
      out.push({ timestamp: ts, value: v });
    });
    return out;
  }

  private tags(value: unknown, path: string): Record<string, string> | undefined {
    if (!isRecord(value)) return this.fail(path, 'expected an object of string values');
    const out: Record<string, string> = {};
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (typeof v !== 'string') this.fail(keyPath(path, key), `expected a string, got ${JSON.stringify(v)}`);
      else out[key] = v;
    }
    return out;
  }

  span(value: unknown, path: string): ReceivedSpan | undefined {
    if (!isRecord(value)) return this.fail(path, 'expected an object');
    const before = this.issues.length;
    const traceId =
      value.traceId === undefined
        ? this.fail(`${path}.traceId`, 'required field missing')
        : this.id(value.traceId, `${path}.traceId`, TRACE_ID_RE, '16 or 32');
    const id =
      value.id === undefined
        ? this.fail(`${path}.id`, 'required field missing')
        : this.id(value.id, `${path}.id`, SPAN_ID_RE, '16');
    // Built in Zipkin's field order: traceId, parentId, id, kind, name, ...
    const ordered = { traceId: traceId ?? '' } as ReceivedSpan;
    if (value.parentId !== undefined) {
      const p = this.id(value.parentId, `${path}.parentId`, SPAN_ID_RE, '16');
      if (p !== undefined) ordered.parentId = p;
    }
    ordered.id = id ?? '';
    if (value.kind !== undefined) {
      if (typeof value.kind !== 'string' || !KINDS.includes(value.kind)) {
        this.fail(`${path}.kind`, `expected one of: ${KINDS.join(', ')}, got ${JSON.stringify(value.kind)}`);
      } else ordered.kind = value.kind as ZipkinKind;
    }
    if (value.name !== undefined) {
      if (typeof value.name !== 'string') this.fail(`${path}.name`, 'expected a string');
      else ordered.name = value.name;
    }
    if (value.timestamp !== undefined) {
      const ts = this.micros(value.timestamp, `${path}.timestamp`, 0);
      if (ts !== undefined) ordered.timestamp = ts;
    }
    if (value.duration !== undefined) {
      // The schema says minimum 1, but the Zipkin server takes 0 as "absent" and Kong sends
      // 0 for spans shorter than its millisecond clock, so 0 is accepted here.
      const d = this.micros(value.duration, `${path}.duration`, 0);
      if (d !== undefined) ordered.duration = d;
    }
    if (value.localEndpoint !== undefined) {
      const e = this.endpoint(value.localEndpoint, `${path}.localEndpoint`);
      if (e !== undefined) ordered.localEndpoint = e;
    }
    if (value.remoteEndpoint !== undefined) {
      const e = this.endpoint(value.remoteEndpoint, `${path}.remoteEndpoint`);
      if (e !== undefined) ordered.remoteEndpoint = e;
    }
    if (value.annotations !== undefined) {
      const a = this.annotations(value.annotations, `${path}.annotations`);
      if (a !== undefined) ordered.annotations = a;
    }
    if (value.tags !== undefined) {
      const t = this.tags(value.tags, `${path}.tags`);
      if (t !== undefined) ordered.tags = t;
    }
    for (const flag of ['debug', 'shared'] as const) {
      const v = value[flag];
      if (v === undefined) continue;
      if (typeof v !== 'boolean') this.fail(`${path}.${flag}`, 'expected a boolean');
      else ordered[flag] = v;
    }
    return this.issues.length === before ? ordered : undefined;
  }
}

/**
 * Validates a decoded list of spans (`ListOfSpans`). Returns the canonical spans, or the
 * reasons (one `<path>: <reason>` line each) when any span breaks a rule: like the Zipkin
 * server, one bad span rejects the whole request.
 */
export function validateSpanList(list: unknown): { spans: ReceivedSpan[] } | { errors: string[] } {
  if (!Array.isArray(list)) return { errors: ['expected a JSON array of spans (ListOfSpans)'] };
  const issues: string[] = [];
  const checker = new SpanChecker(issues);
  const spans: ReceivedSpan[] = [];
  list.forEach((item: unknown, i) => {
    const span = checker.span(item, `spans[${i}]`);
    if (span !== undefined) spans.push(span);
  });
  return issues.length > 0 ? { errors: issues } : { spans };
}
