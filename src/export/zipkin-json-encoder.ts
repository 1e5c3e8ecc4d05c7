/**
 * The fast Zipkin v2 JSON encoder of one span: the same text as `JSON.stringify(toZipkinSpan(…))`
 * built from cached fragments (span and event names, attribute chains, endpoints, the
 * seconds of timestamps): it runs once per reported span, on the hot path.
 */
import { SpanKind, type AttributeValue, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hrTimeToMicros } from '../trace/clock';
import type { SpanRecord } from '../trace/span-record';
import { ByteArena } from './byte-arena';
import { ATTR_PEER_ADDRESS, ATTR_PEER_PORT, ATTR_PEER_SERVICE, ATTR_TRACE_ID_BYTES } from '../trace/span-attributes';
import {
  durationMicros,
  isTagAttribute,
  nonEmptyString,
  portOf,
  reportedParentId,
  tagValueText,
  type ZipkinSpanOptions,
} from './zipkin-span';

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
const AFTER_ID: readonly string[] = [
  '","name":',
  '","kind":"SERVER","name":',
  '","kind":"CLIENT","name":',
  '","kind":"PRODUCER","name":',
  '","kind":"CONSUMER","name":',
];

/** Where an annotation is: the first after tags (closing them), the first with no tags, a later one. */
const enum AnnotationAt {
  FirstAfterTags = 0,
  First = 1,
  Next = 2,
}

const ANNOTATION_OPENERS: readonly string[] = [
  '},"annotations":[{"value":',
  ',"annotations":[{"value":',
  '},{"value":',
];

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
  /**
   * The last plain primitive value (arrays are not remembered: their contents can change),
   * as first tag or not, and its pair.
   */
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
 * them. The encoder also knows whether what it returned is ASCII (no string that is not plain
 * went in), so `encodeBytes` copies it byte for byte without a UTF-8 pass.
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
  /** Whether the last span encoded is all plain ASCII (its UTF-8 size is then its length). */
  private lastPlain = false;
  private readonly arena = new ByteArena();

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
    let s = this.ids(context.traceId, reportedParentId(span), context.spanId);

    const start = span.startTime;
    const seconds = start[0];
    const micros = Math.floor(start[1] / 1e3);
    if (isSplittable(seconds, micros)) s += this.nameHead(span.name, span.kind, seconds) + sixDigits(micros);
    else s += (AFTER_ID[span.kind] ?? AFTER_ID[0]) + this.quote(span.name) + ',"timestamp":' + hrTimeToMicros(start);
    s += ',"duration":' + decimal(durationMicros(start, span.endTime)) + this.endpointsAndTags(tags);

    const first = tags === '';
    const events = span.events;
    const last = events.length - 1;
    if (last < 0) s += first ? '}' : '}}';
    for (let i = 0; i <= last; i++) {
      const event = events[i];
      const time = event.time;
      const eventSeconds = time[0];
      const eventMicros = Math.floor(time[1] / 1e3);
      const at = i > 0 ? AnnotationAt.Next : first ? AnnotationAt.First : AnnotationAt.FirstAfterTags;
      if (isSplittable(eventSeconds, eventMicros))
        s += this.annotation(event.name, at, eventSeconds, eventMicros, i === last);
      else s += this.unsplitAnnotation(event.name, at, hrTimeToMicros(time), i === last);
    }
    return this.done(s);
  }

  /**
   * The same text as `encode` of the `ReadableSpan` the SDK would make of `r` (span-record.ts:
   * times are integer µs, the end not before the start, the attributes plain).
   */
  encodeRecord(r: SpanRecord): string {
    this.plain = this.localPlain;
    const tags = this.scanAttributes(r.attributes);
    let s = this.ids(r.traceId, r.parentId, r.spanId);

    const startUs = r.startUs;
    const seconds = Math.floor(startUs / 1e6);
    const micros = startUs - seconds * 1e6;
    if (isSplittable(seconds, micros)) s += this.nameHead(r.name, r.kind, seconds) + sixDigits(micros);
    else s += (AFTER_ID[r.kind] ?? AFTER_ID[0]) + this.quote(r.name) + ',"timestamp":' + startUs;
    s += ',"duration":' + decimal(r.endUs - startUs) + this.endpointsAndTags(tags);

    const first = tags === '';
    const last = r.eventCount - 1;
    if (last < 0) s += first ? '}' : '}}';
    const names = r.eventNames;
    const times = r.eventTimes;
    for (let i = 0; i <= last; i++) {
      const us = times[i];
      const eventSeconds = Math.floor(us / 1e6);
      const eventMicros = us - eventSeconds * 1e6;
      const at = i > 0 ? AnnotationAt.Next : first ? AnnotationAt.First : AnnotationAt.FirstAfterTags;
      if (isSplittable(eventSeconds, eventMicros))
        s += this.annotation(names[i], at, eventSeconds, eventMicros, i === last);
      else s += this.unsplitAnnotation(names[i], at, us, i === last);
    }
    return this.done(s);
  }

  /** `encodeRecord` as bytes (`encodeBytes`). */
  encodeRecordBytes(r: SpanRecord): Buffer {
    const json = this.encodeRecord(r);
    return this.arena.copy(json, this.lastPlain);
  }

  /** `{"traceId":"…","parentId":"…","id":"…` (§2.11: the low half of a trace id generated with 8 bytes). */
  private ids(traceId: string, parentId: string | undefined, spanId: string): string {
    let s = '{"traceId":"' + (this.traceIdBytes === 8 ? traceId.slice(traceId.length - 16) : traceId);
    if (parentId !== undefined) s += '","parentId":"' + parentId;
    return s + '","id":"' + spanId;
  }

  /** The endpoints (§2.7, as remoteEndpointOf: present with a port or a service name; the IP only then), then the tags. */
  private endpointsAndTags(tags: string): string {
    const serviceName = nonEmptyString(this.peerService) ?? this.defaultServiceName;
    const port = portOf(this.peerPort);
    let s: string;
    if (port === undefined && serviceName === undefined) s = this.localEndpointJson;
    else {
      s = this.endpoints(serviceName, nonEmptyString(this.peerAddress), port !== undefined);
      s += port === undefined ? '}' : decimal(port) + '}';
    }
    return tags === '' ? s : s + tags;
  }

  /** One annotation, its time split into cached seconds and 6 µs digits; closes the span after the last. */
  private annotation(name: string, at: AnnotationAt, seconds: number, micros: number, last: boolean): string {
    // Short enough to be copied rather than linked: one piece.
    return this.annotationHead(name, at, seconds) + (last ? sixDigits(micros) + '}]}' : sixDigits(micros));
  }

  /** One annotation whose time does not split (before 1970 + 1 s, or not an integer µs). */
  private unsplitAnnotation(name: string, at: AnnotationAt, us: number, last: boolean): string {
    return ANNOTATION_OPENERS[at] + this.quote(name) + ',"timestamp":' + us + (last ? '}]}' : '');
  }

  private done(s: string): string {
    this.lastPlain = this.plain;
    return s;
  }

  /**
   * `encode(span)` as UTF-8 bytes in the encoder's arena: a span of plain strings only is
   * ASCII, copied byte for byte (no UTF-8 scan). The string, a tree of the fragments it was
   * built from, is garbage at once; as bytes the span takes its size and no more.
   */
  encodeBytes(span: ReadableSpan): Buffer {
    const json = this.encode(span);
    return this.arena.copy(json, this.lastPlain);
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
      if (version >= 0 && current !== null && typeof value !== 'object')
        version = current.rememberSection(value, version, tags, ++this.sectionVersions);
      else version = -1;
    }
    if (reused !== null) reused.flattenSection();
    return tags;
  }

  /**
   * A new node for `key` after `previous` (which forgets the one it had), or the chain's
   * first; null when no more chains are kept.
   */
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
      if (this.names.size >= CACHE_LIMIT || NOT_PLAIN.test(name))
        return AFTER_ID[at] + this.quote(name) + ',"timestamp":' + seconds;
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
      if (this.annotations.size >= CACHE_LIMIT || NOT_PLAIN.test(name))
        return ANNOTATION_OPENERS[at] + this.quote(name) + ',"timestamp":' + seconds;
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
      text +=
        (serviceName !== undefined ? ',' : '') +
        (ip.includes(':') ? '"ipv6":' : '"ipv4":') +
        (ipPlain ? '"' + ip + '"' : JSON.stringify(ip));
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
