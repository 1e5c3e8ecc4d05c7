import { SpanKind, type HrTime } from '@opentelemetry/api';
import * as fc from 'fast-check';
import { zipkinJsonBody } from '../../src/export/zipkin-json-body';
import { ZipkinJsonEncoder } from '../../src/export/zipkin-json-encoder';
import { toZipkinSpan, type ZipkinSpanOptions } from '../../src/export/zipkin-span';
import { encodeProto3Span, ipv6Bytes, proto3ListBody } from '../../src/export/zipkin-proto3';
import { kongExampleSpecs, makeSpans, type SpanSpec } from './helpers';
import { decodeProto3, expectedProto3, listOfSpansValidator } from './wire';

const OPTIONS: ZipkinSpanOptions = { localServiceName: 'kong', defaultServiceName: null };
const validate = listOfSpansValidator();

const T0: HrTime = [1700000000, 0];
const at = (us: number): HrTime => [1700000000 + Math.floor(us / 1e6), (us % 1e6) * 1e3];

function one(spec: Partial<SpanSpec>, options: ZipkinSpanOptions = OPTIONS) {
  const [span] = makeSpans([
    { name: 'GET', kind: SpanKind.SERVER, spanId: '00f067aa0ba902b7', start: T0, end: at(1500), ...spec },
  ]);
  const json = new ZipkinJsonEncoder(options).encode(span);
  const object = toZipkinSpan(span, options);
  // The fast encoder and the object form always agree, byte for byte.
  expect(json).toBe(JSON.stringify(object));
  return { span, json, object };
}

describe('Kong span → Zipkin v2 JSON (§5.1)', () => {
  test('the reference example: exact objects, in the body order the spans ended', () => {
    const spans = makeSpans(kongExampleSpecs());
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const body = zipkinJsonBody(spans.map((s) => encoder.encodeBytes(s)));
    expect(body[0]).toBe(0x5b); // [
    const parsed: unknown = JSON.parse(body.toString());
    expect(validate(parsed)).toBe(true);
    expect(parsed).toEqual([
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        parentId: 'b7ad6b7169203331',
        id: '1111111111111111',
        kind: 'CLIENT',
        name: 'GET (balancer try 1)',
        timestamp: 1700000000052000,
        duration: 3250,
        localEndpoint: { serviceName: 'kong' },
        remoteEndpoint: { serviceName: 'my-svc', ipv4: '10.0.0.5', port: 8080 },
        tags: {
          'kong.balancer.try': '1',
          'kong.service': 'svc-uuid',
          'kong.service_name': 'my-svc',
          'kong.route': 'route-uuid',
          'kong.route_name': 'my-route',
        },
      },
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        parentId: 'b7ad6b7169203331',
        id: '2222222222222222',
        kind: 'CLIENT',
        name: 'GET (proxy)',
        timestamp: 1700000000050000,
        duration: 20001,
        localEndpoint: { serviceName: 'kong' },
        remoteEndpoint: { serviceName: 'my-svc', ipv4: '10.0.0.5', port: 8080 },
        tags: {
          'peer.hostname': 'backend.local',
          'kong.service': 'svc-uuid',
          'kong.service_name': 'my-svc',
          'kong.route': 'route-uuid',
          'kong.route_name': 'my-route',
        },
        annotations: [
          { value: 'khs', timestamp: 1700000000065000 },
          { value: 'khf', timestamp: 1700000000066000 },
          { value: 'kbs', timestamp: 1700000000066001 },
          { value: 'kas', timestamp: 1700000000050000 },
          { value: 'kaf', timestamp: 1700000000052000 },
          { value: 'kbf', timestamp: 1700000000071000 },
        ],
      },
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        parentId: 'b7ad6b7169203332',
        id: 'b7ad6b7169203331',
        kind: 'SERVER',
        name: 'GET',
        timestamp: 1700000000048000,
        duration: 23000,
        localEndpoint: { serviceName: 'kong' },
        remoteEndpoint: { ipv4: '127.0.0.1', port: 53412 },
        tags: {
          lc: 'kong',
          'http.method': 'GET',
          'http.host': 'example.com',
          'http.path': '/',
          'http.protocol': 'HTTP/1.1',
          'http.status_code': '200',
          'kong.node.id': 'node-uuid',
        },
        annotations: [
          { value: 'krf', timestamp: 1700000000049000 },
          { value: 'krs', timestamp: 1700000000048000 },
        ],
      },
    ]);
    // Kong's first-level key order.
    expect(Object.keys((parsed as object[])[1])).toEqual([
      'traceId',
      'parentId',
      'id',
      'kind',
      'name',
      'timestamp',
      'duration',
      'localEndpoint',
      'remoteEndpoint',
      'tags',
      'annotations',
    ]);
  });

  test('a root span has no parentId; no tags and no events leave both fields out', () => {
    const { object, json } = one({});
    expect(object).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      id: '00f067aa0ba902b7',
      kind: 'SERVER',
      name: 'GET',
      timestamp: 1700000000000000,
      duration: 1500,
      localEndpoint: { serviceName: 'kong' },
    });
    expect(json).not.toContain('parentId');
    expect(json).not.toContain('remoteEndpoint'); // docs/design.md difference 4: no `null`
  });

  test('a generated 64-bit trace id (gateway_zipkin.trace_id_bytes = 8) reports 16 characters (§2.11)', () => {
    const { object } = one({
      traceId: '0000000000000000463ac35c9f6413ad',
      attributes: { 'gateway_zipkin.trace_id_bytes': 8 },
    });
    expect(object.traceId).toBe('463ac35c9f6413ad');
    expect(object.tags).toBeUndefined(); // internal attributes are never tags
    const extracted = one({ traceId: '0000000000000000463ac35c9f6413ad', parentId: 'b7ad6b7169203331' });
    expect(extracted.object.traceId).toBe('0000000000000000463ac35c9f6413ad'); // padded form (§2.11)
  });

  test('tags: stringified like Lua tostring, empty strings dropped, endpoint and internal attributes left out', () => {
    const { object } = one({
      attributes: {
        'http.status_code': 502,
        'kong.balancer.try': 2,
        error: true,
        ok: false,
        'kong.access.duration_ms': 0.1 + 0.2,
        ratio: 1.5,
        empty: '',
        'gateway_zipkin.anything': 'x',
        'network.peer.address': '10.1.2.3',
        'network.peer.port': 443,
        'peer.service': 'svc',
        list: ['a', 'b'],
      },
    });
    expect(object.tags).toEqual({
      'http.status_code': '502',
      'kong.balancer.try': '2',
      error: 'true',
      ok: 'false',
      'kong.access.duration_ms': '0.3',
      ratio: '1.5',
      list: 'a,b',
    });
  });

  test('no OTel resource, status or dropped-count tags; no shared/debug', () => {
    const [span] = makeSpans([{ name: 'x', kind: SpanKind.CLIENT, spanId: '00f067aa0ba902b7', start: T0, end: at(5) }]);
    expect(span.resource.attributes['service.name']).toBeDefined();
    const json = new ZipkinJsonEncoder(OPTIONS).encode(span);
    expect(JSON.parse(json)).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      id: '00f067aa0ba902b7',
      kind: 'CLIENT',
      name: 'x',
      timestamp: 1700000000000000,
      duration: 5,
      localEndpoint: { serviceName: 'kong' },
    });
  });

  test('remoteEndpoint (§2.7): port or service name needed; IP only with them; ipv6 when it has a colon', () => {
    const ep = (attributes: Record<string, string | number>, defaultServiceName: string | null = null) =>
      one({ attributes }, { localServiceName: 'gw', defaultServiceName }).object.remoteEndpoint;
    expect(ep({ 'network.peer.address': '10.0.0.1' })).toBeUndefined();
    expect(ep({ 'network.peer.address': '10.0.0.1' }, 'fallback')).toEqual({
      serviceName: 'fallback',
      ipv4: '10.0.0.1',
    });
    expect(ep({ 'network.peer.port': 9000 })).toEqual({ port: 9000 });
    expect(ep({ 'peer.service': 'svc' }, 'fallback')).toEqual({ serviceName: 'svc' });
    expect(ep({ 'network.peer.address': '2001:db8::c001', 'network.peer.port': 443 })).toEqual({
      ipv6: '2001:db8::c001',
      port: 443,
    });
    expect(ep({})).toBeUndefined();
    expect(ep({}, 'fallback')).toEqual({ serviceName: 'fallback' });
    expect(one({}, { localServiceName: 'gw', defaultServiceName: null }).object.localEndpoint).toEqual({
      serviceName: 'gw',
    });
  });

  test('times: integer µs floored from HrTime (docs/design.md difference 7); duration = floor(end − start), never negative', () => {
    const start: HrTime = [1700000000, 123456789]; // …123456.789 µs
    const end: HrTime = [1700000001, 123455000]; // 999998.211 µs later
    const { object } = one({ start, end, events: [['krs', [1700000000, 999999999]]] });
    expect(object.timestamp).toBe(1700000000123456);
    expect(object.duration).toBe(999998);
    expect(object.annotations).toEqual([{ value: 'krs', timestamp: 1700000000999999 }]);
    expect(one({ start, end: start }).object.duration).toBe(0); // Kong allows 0
  });

  test('kinds: INTERNAL has no kind; PRODUCER and CONSUMER map by name', () => {
    expect(one({ kind: SpanKind.INTERNAL }).object.kind).toBeUndefined();
    expect(one({ kind: SpanKind.PRODUCER }).object.kind).toBe('PRODUCER');
    expect(one({ kind: SpanKind.CONSUMER }).object.kind).toBe('CONSUMER');
  });

  test('strings are JSON-escaped', () => {
    const { json } = one({
      name: 'GET /"quoted"\\\n\u2028ü',
      attributes: { 'k"ey': 'v\u0000al' },
      events: [['a"b', T0]],
    });
    const parsed = JSON.parse(json) as { name: string; tags: Record<string, string>; annotations: { value: string }[] };
    expect(parsed.name).toBe('GET /"quoted"\\\n\u2028ü');
    expect(parsed.tags).toEqual({ 'k"ey': 'v\u0000al' });
    expect(parsed.annotations[0].value).toBe('a"b');
  });

  test('the anchored schema rejects what the unanchored yaml patterns would let through', () => {
    const good = { traceId: '0af7651916cd43dd', id: '00f067aa0ba902b7' };
    expect(validate([good])).toBe(true);
    expect(validate([{ ...good, traceId: 'Z0af7651916cd43dd' }])).toBe(false);
    expect(validate([{ ...good, id: '00F067AA0BA902B7' }])).toBe(false);
    expect(validate([{ ...good, timestamp: 1.5 }])).toBe(false);
    expect(validate([{ ...good, tags: { a: 1 } }])).toBe(false);
  });
});

describe('proto3 ListOfSpans', () => {
  test('the reference example decodes with protobufjs to the same spans', () => {
    const spans = makeSpans(kongExampleSpecs());
    const objects = spans.map((s) => toZipkinSpan(s, OPTIONS));
    const body = proto3ListBody(objects.map(encodeProto3Span));
    expect(body[0]).toBe(0x0a);
    expect(decodeProto3(body)).toEqual(objects.map(expectedProto3));
  });

  test('64-bit trace ids travel as 16 bytes; ipv6, zero duration and a root span', () => {
    const [span] = makeSpans([
      {
        name: 'GET',
        kind: SpanKind.SERVER,
        traceId: '0000000000000000463ac35c9f6413ad',
        spanId: '00f067aa0ba902b7',
        start: T0,
        end: T0,
        attributes: {
          'gateway_zipkin.trace_id_bytes': 8,
          'network.peer.address': '::ffff:127.0.0.1',
          'network.peer.port': 5000,
        },
      },
    ]);
    const object = toZipkinSpan(span, OPTIONS);
    const [decoded] = decodeProto3(proto3ListBody([encodeProto3Span(object)]));
    expect(decoded).toEqual({
      traceId: '0000000000000000463ac35c9f6413ad',
      id: '00f067aa0ba902b7',
      kind: 'SERVER',
      name: 'GET',
      timestamp: 1700000000000000,
      localEndpoint: { serviceName: 'kong' },
      remoteEndpoint: { ipv6: '0:0:0:0:0:ffff:7f00:1', port: 5000 },
    });
  });

  test('ipv6 text to bytes', () => {
    expect(Buffer.from(ipv6Bytes('2001:db8::c001') as number[]).toString('hex')).toBe(
      '20010db8' + '0000'.repeat(5) + 'c001',
    );
    expect(Buffer.from(ipv6Bytes('::1') as number[]).toString('hex')).toBe('00000000000000000000000000000001');
    expect(Buffer.from(ipv6Bytes('fe80::1%eth0') as number[]).toString('hex')).toBe('fe800000000000000000000000000001');
    expect(ipv6Bytes('not-an-ip')).toBeUndefined();
  });

  test('a long span (nested lengths past one varint byte) decodes', () => {
    const long = 'x'.repeat(300);
    const { object } = one({
      name: long,
      attributes: { big: long, 'peer.service': long, 'network.peer.port': 1 },
      events: [[long, T0]],
    });
    expect(decodeProto3(proto3ListBody([encodeProto3Span(object)]))).toEqual([expectedProto3(object)]);
  });
});

describe('generated spans: every JSON body validates, every proto3 body decodes to the same spans', () => {
  const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => !/^0+$/.test(s));
  const attrValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
  );
  const spec = fc.record({
    name: fc.string(),
    kind: fc.constantFrom(SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL),
    traceId: hex(32),
    spanId: hex(16),
    parentId: fc.option(hex(16), { nil: undefined }),
    startUs: fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }),
    durationUs: fc.integer({ min: 1, max: 600_000_000 }),
    attributes: fc.dictionary(fc.string({ minLength: 1 }), attrValue, { maxKeys: 6 }),
    ip: fc.option(fc.oneof(fc.ipV4(), fc.ipV6()), { nil: undefined }),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    service: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
    events: fc.uniqueArray(
      fc.tuple(
        fc.constantFrom('krs', 'krf', 'kas', 'kaf', 'khs', 'khf', 'kbs', 'kbf'),
        fc.integer({ min: 0, max: 1000 }),
      ),
      {
        selector: (e) => e[0],
        maxLength: 6,
      },
    ),
    bytes8: fc.boolean(),
  });

  test('property', () => {
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 4 }),
        fc.option(fc.string({ minLength: 1 }), { nil: null }),
        (specs, defaultServiceName) => {
          const options = { localServiceName: 'kong', defaultServiceName };
          const spans = makeSpans(
            specs.map((s) => {
              const attributes: Record<string, string | number | boolean> = {};
              for (const [k, v] of Object.entries(s.attributes)) if (k !== '__proto__') attributes[k] = v;
              if (s.ip !== undefined) attributes['network.peer.address'] = s.ip;
              if (s.port !== undefined) attributes['network.peer.port'] = s.port;
              if (s.service !== undefined) attributes['peer.service'] = s.service;
              if (s.bytes8 && s.parentId === undefined) attributes['gateway_zipkin.trace_id_bytes'] = 8;
              return {
                name: s.name,
                kind: s.kind,
                traceId: s.bytes8 && s.parentId === undefined ? '0000000000000000' + s.traceId.slice(16) : s.traceId,
                spanId: s.spanId,
                parentId: s.parentId,
                start: at(s.startUs),
                end: at(s.startUs + s.durationUs),
                attributes,
                events: s.events.map(([name, offset]): [string, HrTime] => [name, at(s.startUs + offset)]),
              };
            }),
          );
          const encoder = new ZipkinJsonEncoder(options);
          const objects = spans.map((span) => toZipkinSpan(span, options));
          const body = zipkinJsonBody(spans.map((span) => encoder.encodeBytes(span)));
          const parsed: unknown = JSON.parse(body.toString());
          if (!validate(parsed)) throw new Error(JSON.stringify(validate.errors));
          expect(parsed).toEqual(JSON.parse(JSON.stringify(objects)));
          expect(decodeProto3(proto3ListBody(objects.map(encodeProto3Span)))).toEqual(objects.map(expectedProto3));
        },
      ),
      { numRuns: 150 },
    );
  });
});
