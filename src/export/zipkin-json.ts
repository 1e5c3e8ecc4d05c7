/**
 * OTel `ReadableSpan` → Kong's Zipkin v2 JSON span (reference §5.1, §2.5–2.7, §2.11–2.12),
 * with DESIGN.md differences 4 (no `remoteEndpoint` instead of `null`) and 7 (µs timestamps).
 * Spans follow src/trace/span-attributes.ts: Kong tags are attributes, annotations are
 * events, the remote endpoint comes from the peer attributes.
 */
import { SpanKind, type AttributeValue, type Attributes, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_PEER_ADDRESS, ATTR_PEER_PORT, ATTR_PEER_SERVICE, ATTR_TRACE_ID_BYTES, ENDPOINT_ATTRS, INTERNAL_ATTR_PREFIX } from '../trace/span-attributes';
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
function portOf(port: AttributeValue | undefined): number | undefined {
  if (typeof port === 'number') return Number.isInteger(port) ? port : undefined;
  if (typeof port === 'string' && port !== '') {
    const n = Number(port);
    return Number.isInteger(n) ? n : undefined;
  }
  return undefined;
}

function nonEmptyString(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * §2.7: present when the span has a port or a service name (its own `peer.service` or the
 * default); the IP is added only then, under `ipv6` if it contains `:`.
 */
export function remoteEndpointOf(attributes: Attributes, defaultServiceName: string | null | undefined): ZipkinEndpoint | undefined {
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

/**
 * Matches any character outside printable ASCII, or `"` / `\`. A string without one is its own
 * JSON text between quotes, and its UTF-8 length is its length; anything else (controls,
 * quotes, backslashes and lone surrogates to escape, non-ASCII to count in UTF-8) goes through
 * JSON.stringify, 3–4× slower than this test. Only plain strings are cached.
 */
const NOT_PLAIN = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/** A search that never matches: searching flattens the string searched (see `flattened`). */
const NUL = /\0/;

/** Entries per cache keyed by names (span, event, first attribute): they repeat, but need a bound. */
const CACHE_LIMIT = 256;

/** What follows the span id, by OTel SpanKind: the Zipkin kind, if any, and the `name` key. */
const AFTER_ID: readonly string[] = ['","name":', '","kind":"SERVER","name":', '","kind":"CLIENT","name":', '","kind":"PRODUCER","name":', '","kind":"CONSUMER","name":'];

/** Where an annotation is: the first after tags (closing them), the first with no tags, a later one. */
const enum AnnotationAt {
  FirstAfterTags = 0,
  First = 1,
  Next = 2,
}

const ANNOTATION_OPENERS: readonly string[] = ['},"annotations":[{"value":', ',"annotations":[{"value":', '},{"value":'];

/** 0 … 999 and 000 … 999: integers below 1e6 from two lookups, 2–3× faster than formatting them. */
const DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i));
const THREE_DIGITS: readonly string[] = DIGITS.map((d) => d.padStart(3, '0'));

/**
 * `text` stored by V8 as one flat string from now on (a regexp search flattens its subject in
 * place), so a cached fragment is one block of characters, not the tree of the pieces it was
 * built from: cheaper to append again and again.
 */
function flattened(text: string): string {
  NUL.test(text);
  return text;
}

/** An integer as decimal text, the same as `String(n)`. */
function decimal(n: number): string {
  if (n < 1000) return n >= 0 ? DIGITS[n] : '' + n;
  if (n >= 1e6) return '' + n;
  // For integers below 1e6, floor(n × 0.001) = floor(n / 1000) (checked for all of them), and multiplies are cheaper.
  const thousands = Math.floor(n * 0.001);
  return DIGITS[thousands] + THREE_DIGITS[n - thousands * 1000];
}

/** µs in [0, 1e6) (an integer) as exactly 6 digits. */
function sixDigits(micros: number): string {
  const thousands = Math.floor(micros * 0.001);
  return THREE_DIGITS[thousands] + THREE_DIGITS[micros - thousands * 1000];
}

/**
 * True when `hrTimeToMicros(time)` is the seconds' digits followed by the µs as 6 digits:
 * below 9e9 s, seconds × 1e6 + µs is an exact integer (< 2^53).
 */
function isSplittable(seconds: number, micros: number): boolean {
  return seconds >= 1 && seconds < 9e9 && Number.isInteger(seconds) && micros >= 0 && micros < 1e6;
}

/** A cached fragment that ends with a timestamp's whole seconds. */
interface SecondsHead {
  seconds: number;
  text: string;
}

/** What an attribute is to the encoder. */
const enum Role {
  /** A tag with a plain key: its JSON is cached. */
  Tag,
  /** A tag whose key needs escaping (or counting in UTF-8). */
  EscapedTag,
  /** Bookkeeping, never reported. */
  Internal,
  PeerService,
  PeerAddress,
  PeerPort,
  TraceIdBytes,
}

function roleOf(key: string): Role {
  switch (key) {
    case ATTR_PEER_SERVICE:
      return Role.PeerService;
    case ATTR_PEER_ADDRESS:
      return Role.PeerAddress;
    case ATTR_PEER_PORT:
      return Role.PeerPort;
    case ATTR_TRACE_ID_BYTES:
      return Role.TraceIdBytes;
  }
  if (!isTagAttribute(key)) return Role.Internal;
  return NOT_PLAIN.test(key) ? Role.EscapedTag : Role.Tag;
}

/**
 * One attribute key at one place in a span's attribute order: a chain of these, one per
 * first key, follows the order spans of one kind set their attributes in, so a span's keys
 * are matched by identity instead of being looked up. A tag's node also remembers its last
 * `"key":"text"` and the whole tags section through it (Kong's tags repeat from span to span,
 * so the tags of most spans are one piece).
 */
class AttributeNode {
  /** The node of the attribute that came next last time (one: a chain, bounded by the attribute count). */
  next: AttributeNode | null = null;
  /** `,"tags":{"<key>":"` and `,"<key>":"` for a Tag. */
  private readonly firstHead: string;
  private readonly nextHead: string;
  /** The last plain primitive value (arrays are not remembered: their contents can change), as first tag or not, and its pair. */
  private value: AttributeValue | undefined = undefined;
  private first = false;
  private pair = '';
  private pairFlat = false;
  /** The tags section through this tag, for `sectionValue` after the section of version `sectionAfter`. */
  sectionValue: AttributeValue | undefined = undefined;
  sectionAfter = -1;
  section = '';
  version = 0;
  private sectionFlat = false;

  constructor(
    readonly key: string,
    readonly role: Role,
  ) {
    this.firstHead = role === Role.Tag ? flattened(',"tags":{"' + key + '":"') : '';
    this.nextHead = role === Role.Tag ? flattened(',"' + key + '":"') : '';
  }

  /** `,"tags":{"key":"text"` (first) or `,"key":"text"`; '' when the text is empty or not plain. */
  pairFor(value: AttributeValue, first: boolean): string {
    if (value === this.value && first === this.first) {
      if (!this.pairFlat) {
        flattened(this.pair);
        this.pairFlat = true;
      }
      return this.pair;
    }
    const text = tagValueText(value);
    if (text === '' || NOT_PLAIN.test(text)) return '';
    // `text"` is copied, not linked, when short: one piece less.
    const pair = (first ? this.firstHead : this.nextHead) + (text + '"');
    if (typeof value !== 'object') {
      this.value = value;
      this.first = first;
      this.pair = pair;
      this.pairFlat = false;
    }
    return pair;
  }

  /** Remembers the section through this tag; returns its version. */
  rememberSection(value: AttributeValue, after: number, section: string, version: number): number {
    this.sectionValue = value;
    this.sectionAfter = after;
    this.section = section;
    this.version = version;
    this.sectionFlat = false;
    return version;
  }

  /** Flattens the remembered section (once); returns null for the caller's `reused`. */
  flattenSection(): null {
    if (!this.sectionFlat) {
      flattened(this.section);
      this.sectionFlat = true;
    }
    return null;
  }
}

/** The last plain remote endpoint of one shape, up to its port: `,"localEndpoint":{…},"remoteEndpoint":{…`. */
class EndpointMemo {
  serviceName: string | undefined = undefined;
  ip: string | undefined = undefined;
  port = false;
  /** '' until set. */
  text = '';
  /** Whether `text` was flattened: only once it is reused. */
  flat = false;
}

/**
 * Fast JSON for one span: one string in the same key order as `toZipkinSpan` and
 * byte-identical to JSON.stringify of it. Ids are hex and the numbers are integers, so neither
 * needs escaping; strings go through JSON.stringify only when NOT_PLAIN finds something in
 * them. The encoder also knows the UTF-8 size of what it returned: its length, unless a string
 * that is not plain went in.
 */
export class ZipkinJsonEncoder {
  private readonly localEndpointJson: string;
  private readonly localPlain: boolean;
  private readonly defaultServiceName: string | undefined;
  /** First attribute key → the chain of attribute nodes for spans that start with it. */
  private readonly chains = new Map<string, AttributeNode>();
  /** Span name → `","kind":"…","name":"<name>","timestamp":<seconds>` by kind. */
  private readonly names = new Map<string, (SecondsHead | undefined)[]>();
  /** Event name → `…{"value":"<name>","timestamp":<seconds>` by AnnotationAt. */
  private readonly annotations = new Map<string, SecondsHead[]>();
  /** The last remote endpoints with and without a service name (balancer / proxy spans vs request spans). */
  private readonly withService = new EndpointMemo();
  private readonly withoutService = new EndpointMemo();
  /** The attributes `scanAttributes` found for the endpoint and the trace id. */
  private peerService: AttributeValue | undefined = undefined;
  private peerAddress: AttributeValue | undefined = undefined;
  private peerPort: AttributeValue | undefined = undefined;
  private traceIdBytes: AttributeValue | undefined = undefined;
  /** Counter for the tags sections AttributeNodes remember. */
  private sectionVersions = 0;
  /** While encoding: false once a string that is not plain went in. */
  private plain = true;
  /** The last span encoded, and whether it is all plain ASCII. */
  private lastJson = '';
  private lastPlain = false;

  constructor(options: ZipkinSpanOptions) {
    this.localEndpointJson = flattened(`,"localEndpoint":{"serviceName":${JSON.stringify(options.localServiceName)}}`);
    this.localPlain = !NOT_PLAIN.test(options.localServiceName);
    this.defaultServiceName = options.defaultServiceName || undefined;
  }

  encode(span: ReadableSpan): string {
    this.plain = this.localPlain;
    // First, as it also finds the attributes the trace id and the endpoint need.
    const tags = this.scanAttributes(span.attributes);

    const context = span.spanContext();
    const traceId = context.traceId;
    let s = '{"traceId":"' + (this.traceIdBytes === 8 ? traceId.slice(traceId.length - 16) : traceId); // §2.11, as reportedTraceId
    const parentId = reportedParentId(span);
    if (parentId !== undefined) s += '","parentId":"' + parentId;
    s += '","id":"' + context.spanId;

    const start = span.startTime;
    const seconds = start[0];
    const micros = Math.floor(start[1] / 1e3);
    if (isSplittable(seconds, micros)) s += this.nameHead(span.name, span.kind, seconds) + sixDigits(micros);
    else s += (AFTER_ID[span.kind] ?? AFTER_ID[0]) + this.quote(span.name) + ',"timestamp":' + hrTimeToMicros(start);
    s += ',"duration":' + decimal(durationMicros(start, span.endTime));

    // §2.7, as remoteEndpointOf: present with a port or a service name; the IP only then.
    const serviceName = nonEmptyString(this.peerService) ?? this.defaultServiceName;
    const port = portOf(this.peerPort);
    if (port === undefined && serviceName === undefined) s += this.localEndpointJson;
    else {
      s += this.endpoints(serviceName, nonEmptyString(this.peerAddress), port !== undefined);
      s += port === undefined ? '}' : decimal(port) + '}';
    }

    const first = tags === '';
    if (!first) s += tags;
    const events = span.events;
    const last = events.length - 1;
    if (last < 0) s += first ? '}' : '}}';
    for (let i = 0; i <= last; i++) {
      const event = events[i];
      const time = event.time;
      const eventSeconds = time[0];
      const eventMicros = Math.floor(time[1] / 1e3);
      const at = i > 0 ? AnnotationAt.Next : first ? AnnotationAt.First : AnnotationAt.FirstAfterTags;
      if (!isSplittable(eventSeconds, eventMicros)) {
        s += ANNOTATION_OPENERS[at] + this.quote(event.name) + ',"timestamp":' + hrTimeToMicros(time) + (i === last ? '}]}' : '');
        continue;
      }
      s += this.annotationHead(event.name, at, eventSeconds);
      // Short enough to be copied rather than linked: one piece.
      s += i === last ? sixDigits(eventMicros) + '}]}' : sixDigits(eventMicros);
    }

    this.lastJson = s;
    this.lastPlain = this.plain;
    return s;
  }

  /**
   * UTF-8 size of `json`: its length, without counting, for the span just encoded when every
   * string in it was plain (ids are hex); counted otherwise.
   */
  byteLength(json: string): number {
    return this.lastPlain && json === this.lastJson ? json.length : Buffer.byteLength(json);
  }

  /** A string as JSON; notes one that is not plain. */
  private quote(text: string): string {
    if (!NOT_PLAIN.test(text)) return '"' + text + '"';
    this.plain = false;
    return JSON.stringify(text);
  }

  /**
   * One pass over the attributes: returns the tags as `,"tags":{…` without the closing brace
   * ('' when there are none) and keeps the endpoint and trace id attributes for `encode`.
   */
  private scanAttributes(attributes: Attributes): string {
    this.peerService = this.peerAddress = this.peerPort = this.traceIdBytes = undefined;
    let tags = '';
    /** Version of `tags` as a node remembered it: 0 while empty, -1 once it holds something not remembered. */
    let version = 0;
    /** The node whose remembered section `tags` is: it is flattened once it is extended or returned. */
    let reused = null as AttributeNode | null;
    /** The previous attribute's node; null before the first, or when the chains are full. */
    let node = null as AttributeNode | null; // (not narrowed to null: it changes in the loop)
    let chained = true;
    for (const key in attributes) {
      let current = node === null ? null : node.next;
      if (current === null || current.key !== key) {
        current = chained ? this.attributeNode(node, key) : null;
        if (current === null) chained = false;
      }
      node = current;
      const value = attributes[key];
      if (value === undefined || value === null) continue;
      const role = current === null ? roleOf(key) : current.role;
      switch (role) {
        case Role.Tag:
        case Role.EscapedTag:
          break;
        case Role.PeerService:
          this.peerService = value;
          continue;
        case Role.PeerAddress:
          this.peerAddress = value;
          continue;
        case Role.PeerPort:
          this.peerPort = value;
          continue;
        case Role.TraceIdBytes:
          this.traceIdBytes = value;
          continue;
        default:
          continue;
      }
      if (current !== null && version >= 0 && value === current.sectionValue && version === current.sectionAfter) {
        tags = current.section; // the same tags up to here as last time
        version = current.version;
        reused = current;
        continue;
      }
      const pair = current === null || role !== Role.Tag ? '' : current.pairFor(value, tags === '');
      if (pair === '') {
        const text = tagValueText(value);
        if (text === '') continue;
        if (reused !== null) reused = reused.flattenSection();
        tags += (tags === '' ? ',"tags":{' : ',') + this.quote(key) + ':' + this.quote(text);
        version = -1;
        continue;
      }
      if (reused !== null) reused = reused.flattenSection();
      tags += pair;
      if (version >= 0 && current !== null && typeof value !== 'object') version = current.rememberSection(value, version, tags, ++this.sectionVersions);
      else version = -1;
    }
    if (reused !== null) reused.flattenSection();
    return tags;
  }

  /** A new node for `key` after `previous` (which forgets the one it had), or the chain's first; null when no more chains are kept. */
  private attributeNode(previous: AttributeNode | null, key: string): AttributeNode | null {
    if (previous === null) {
      const chain = this.chains.get(key);
      if (chain !== undefined) return chain;
      if (this.chains.size >= CACHE_LIMIT) return null;
    }
    const node = new AttributeNode(key, roleOf(key));
    if (previous === null) this.chains.set(key, node);
    else previous.next = node;
    return node;
  }

  /** `","kind":"…","name":"<name>","timestamp":<seconds>` (the µs digits follow). */
  private nameHead(name: string, kind: SpanKind, seconds: number): string {
    const at = AFTER_ID[kind] === undefined ? 0 : kind;
    let heads = this.names.get(name);
    if (heads === undefined) {
      if (this.names.size >= CACHE_LIMIT || NOT_PLAIN.test(name)) return AFTER_ID[at] + this.quote(name) + ',"timestamp":' + seconds;
      heads = [];
      this.names.set(name, heads);
    }
    let head = heads[at];
    if (head === undefined) head = heads[at] = { seconds: NaN, text: '' };
    if (head.seconds !== seconds) {
      head.seconds = seconds;
      head.text = flattened(AFTER_ID[at] + '"' + name + '","timestamp":' + seconds);
    }
    return head.text;
  }

  /** An annotation's JSON up to its µs digits: the opener for `at`, then `{"value":"<name>","timestamp":<seconds>`. */
  private annotationHead(name: string, at: AnnotationAt, seconds: number): string {
    let heads = this.annotations.get(name);
    if (heads === undefined) {
      if (this.annotations.size >= CACHE_LIMIT || NOT_PLAIN.test(name)) return ANNOTATION_OPENERS[at] + this.quote(name) + ',"timestamp":' + seconds;
      heads = [
        { seconds: NaN, text: '' },
        { seconds: NaN, text: '' },
        { seconds: NaN, text: '' },
      ];
      this.annotations.set(name, heads);
    }
    const head = heads[at];
    if (head.seconds !== seconds) {
      head.seconds = seconds;
      head.text = flattened(ANNOTATION_OPENERS[at] + '"' + name + '","timestamp":' + seconds);
    }
    return head.text;
  }

  /** `,"localEndpoint":{…},"remoteEndpoint":{…` up to the port's digits (or the closing brace). */
  private endpoints(serviceName: string | undefined, ip: string | undefined, port: boolean): string {
    const memo = serviceName === undefined ? this.withoutService : this.withService;
    if (memo.text !== '' && memo.serviceName === serviceName && memo.ip === ip && memo.port === port) {
      if (!memo.flat) {
        flattened(memo.text);
        memo.flat = true;
      }
      return memo.text;
    }
    let text = this.localEndpointJson + ',"remoteEndpoint":{';
    let plain = true;
    if (serviceName !== undefined) {
      plain = !NOT_PLAIN.test(serviceName);
      text += '"serviceName":' + (plain ? '"' + serviceName + '"' : JSON.stringify(serviceName));
    }
    if (ip !== undefined) {
      const ipPlain = !NOT_PLAIN.test(ip);
      text += (serviceName !== undefined ? ',' : '') + (ip.includes(':') ? '"ipv6":' : '"ipv4":') + (ipPlain ? '"' + ip + '"' : JSON.stringify(ip));
      plain &&= ipPlain;
    }
    if (port) text += serviceName !== undefined || ip !== undefined ? ',"port":' : '"port":';
    if (plain) {
      memo.serviceName = serviceName;
      memo.ip = ip;
      memo.port = port;
      memo.text = text;
      memo.flat = false;
    } else {
      this.plain = false;
    }
    return text;
  }
}

/**
 * Characters per joined chunk of a body. V8 allocates a string over 128 KiB in freshly mapped
 * memory, a page fault per 4 KiB touched (about 0.3 µs per span of a 500 KB body); chunks stay
 * in its young heap and are linked, as JSON.stringify links the parts of a large result. The
 * sender flattens the body once when it converts it to bytes.
 */
const BODY_CHUNK_CHARS = 32 * 1024;

/** A `ListOfSpans` JSON body from encoded spans: starts with `[` at byte 0, as Zipkin requires. */
export function zipkinJsonBody(spans: readonly string[]): string {
  let body = '[';
  let from = 0;
  let chars = 0;
  for (let i = 0; i < spans.length; i++) {
    chars += spans[i].length + 1;
    if (chars < BODY_CHUNK_CHARS) continue;
    body += (from === 0 ? '' : ',') + spans.slice(from, i + 1).join(',');
    from = i + 1;
    chars = 0;
  }
  if (from === 0) return '[' + spans.join(',') + ']';
  return from < spans.length ? body + ',' + spans.slice(from).join(',') + ']' : body + ']';
}
