/**
 * The fast paths of the Zipkin encoders: JSON strings copied without JSON.stringify when plain,
 * cached fragments (tag pairs and sections, names, endpoints, timestamp seconds), the size known
 * without counting, and the proto3 writer's byte-by-byte paths. Every output is compared with
 * its reference: JSON.stringify of `toZipkinSpan`, Buffer.byteLength, and protobufjs encoding
 * the same message.
 */
import * as path from 'node:path';
import { SpanKind, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as fc from 'fast-check';
import * as protobuf from 'protobufjs';
import { ZipkinExporter } from '../../src/export/zipkin-exporter';
import { zipkinJsonBody } from '../../src/export/zipkin-json-body';
import { ZipkinJsonEncoder } from '../../src/export/zipkin-json-encoder';
import { toZipkinSpan, type ZipkinSpan, type ZipkinSpanOptions } from '../../src/export/zipkin-span';
import { encodeProto3Span, ipv4Bytes, ipv6Bytes, proto3ListBody } from '../../src/export/zipkin-proto3';
import { kongExampleSpecs, makeSpans } from './helpers';
import { listOfSpansValidator } from './wire';

const OPTIONS: ZipkinSpanOptions = { localServiceName: 'kong', defaultServiceName: null };
const validate = listOfSpansValidator();

/** What the encoder reads of a span, for inputs the SDK would normalize or refuse. */
interface FakeSpec {
  name?: string;
  kind?: SpanKind;
  traceId?: string;
  spanId?: string;
  parentId?: string;
  start?: HrTime;
  end?: HrTime;
  attributes?: Attributes;
  events?: [string, HrTime][];
}

function fake(spec: FakeSpec): ReadableSpan {
  const traceId = spec.traceId ?? '0af7651916cd43dd8448eb211c80319c';
  const spanId = spec.spanId ?? '00f067aa0ba902b7';
  const start = spec.start ?? [1700000000, 123456789];
  return {
    name: spec.name ?? 'GET',
    kind: spec.kind ?? SpanKind.SERVER,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: spec.parentId === undefined ? undefined : { traceId, spanId: spec.parentId, traceFlags: 1 },
    startTime: start,
    endTime: spec.end ?? [start[0], start[1]],
    attributes: spec.attributes ?? {},
    events: (spec.events ?? []).map(([name, time]) => ({ name, time })),
  } as unknown as ReadableSpan;
}

/** Encodes with `encoder` and checks the output against the references; returns the JSON. */
function check(encoder: ZipkinJsonEncoder, span: ReadableSpan, options: ZipkinSpanOptions = OPTIONS): string {
  const json = encoder.encode(span);
  expect(json).toBe(JSON.stringify(toZipkinSpan(span, options)));
  expect(encoder.encodeBytes(span).equals(Buffer.from(json, 'utf8'))).toBe(true);
  return json;
}

/** Strings that exercise every branch of the plain test: escapes, controls, U+2028, surrogates, non-ASCII. */
const AWKWARD = [
  'say "hi"',
  'back\\slash',
  'tab\there',
  'nul\u0000',
  'unit\u001f',
  'del\u007f',
  'line\u2028sep\u2029',
  'lone high \ud800',
  'lone low \udc00 end',
  'pair \ud83d\ude00',
  'café',
  '中文',
  '/orders/ü?q=1',
  '',
  ' ',
  '~',
];

describe('ZipkinJsonEncoder: strings', () => {
  test.each(AWKWARD)(
    '%j as span name, tag key, tag value, event name, peer.service and address equals JSON.stringify',
    (text) => {
      const encoder = new ZipkinJsonEncoder({ localServiceName: 'kong', defaultServiceName: 'fallback' });
      const options = { localServiceName: 'kong', defaultServiceName: 'fallback' };
      const attributes: Attributes = {
        plain: 'v',
        ['k' + text]: 'value ' + text,
        other: text,
        'peer.service': text,
        'network.peer.address': text,
        'network.peer.port': 80,
      };
      const span = fake({
        name: text,
        attributes,
        events: [
          [text, [1700000000, 5000]],
          ['krs', [1700000000, 6000]],
        ],
      });
      // Twice: the second time from whatever was cached.
      const first = check(encoder, span, options);
      expect(check(encoder, span, options)).toBe(first);
      expect(JSON.parse(first)).toEqual(JSON.parse(JSON.stringify(toZipkinSpan(span, options))));
    },
  );

  test('a local service name that needs escaping or is not ASCII', () => {
    for (const localServiceName of ['k"ong', 'kông', 'k\u2028']) {
      const options = { localServiceName, defaultServiceName: null };
      const encoder = new ZipkinJsonEncoder(options);
      const json = check(encoder, fake({ attributes: { a: 'b' } }), options);
      expect(JSON.parse(json).localEndpoint).toEqual({ serviceName: localServiceName });
    }
  });

  test('encodeBytes: the UTF-8 bytes of the text, copied byte for byte only when it is ASCII', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const ascii = encoder.encodeBytes(fake({ name: 'GET' }));
    const utf8 = encoder.encodeBytes(fake({ name: 'GÉT' }));
    const after = encoder.encodeBytes(fake({ name: 'GET' }));
    expect(ascii.toString('latin1')).toBe(encoder.encode(fake({ name: 'GET' })));
    expect(utf8.equals(Buffer.from(encoder.encode(fake({ name: 'GÉT' })), 'utf8'))).toBe(true);
    expect(utf8.length).toBe(ascii.length + 1); // É is two bytes
    expect(after.equals(ascii)).toBe(true); // a plain span after a non-ASCII one is ASCII again
  });
});

describe('ZipkinJsonEncoder: numbers', () => {
  const times: [string, HrTime, HrTime][] = [
    ['µs with leading zeros', [1700000000, 5000], [1700000000, 999999999]],
    ['µs 0 and ns below 1 µs', [1700000000, 999], [1700000001, 0]],
    ['fractional ns', [1700000000, 1234567.89], [1700000000, 9234567.5]],
    ['seconds 0: no digits to split', [0, 5000], [0, 7000]],
    ['seconds 1', [1, 0], [1, 1000]],
    ['fractional seconds', [1700000000.5, 0], [1700000001, 0]],
    ['ns above a second', [1700000000, 1500000000], [1700000002, 0]],
    ['negative ns', [1700000000, -5000], [1700000000, 0]],
    ['seconds at 9e9', [9e9, 1000], [9e9, 2000]],
    ['end before start: duration 0', [1700000000, 5000], [1699999999, 0]],
  ];
  test.each(times)('timestamps and duration: %s', (_, start, end) => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    check(
      encoder,
      fake({
        start,
        end,
        events: [
          ['krs', start],
          ['krf', end],
        ],
      }),
    );
    check(encoder, fake({ start, end, attributes: { a: 1 }, events: [['krs', end]] }));
  });

  test('durations around the digit-table bounds', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    for (const us of [0, 1, 999, 1000, 1001, 999999, 1000000, 1000001, 123456789012]) {
      const start: HrTime = [1700000000, 0];
      const end: HrTime = [1700000000 + Math.floor(us / 1e6), (us % 1e6) * 1e3];
      const json = check(encoder, fake({ start, end }));
      expect(JSON.parse(json).duration).toBe(us);
    }
  });

  test('ports: numbers and numeric strings, out of range, not integers', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    for (const port of [
      1,
      80,
      999,
      1000,
      8080,
      65535,
      1234567,
      -1,
      0,
      1e21,
      '8080',
      ' 443 ',
      '80.5',
      'http',
      '',
      80.5,
      true,
    ]) {
      check(
        encoder,
        fake({
          kind: SpanKind.CLIENT,
          attributes: { 'network.peer.address': '10.0.0.1', 'network.peer.port': port as AttributeValue },
        }),
      );
    }
  });

  test('tag values: Lua tostring of numbers and booleans, arrays', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const values: AttributeValue[] = [
      0,
      -0,
      200,
      1.5,
      0.1 + 0.2,
      1e21,
      -7,
      NaN,
      Infinity,
      true,
      false,
      ['a', 'b'],
      [1, 2],
      ['q"uote', 'x'],
      [],
      'x',
    ];
    for (const value of values) {
      check(encoder, fake({ attributes: { before: 'b', value, after: 'a' } }));
      check(encoder, fake({ attributes: { value, after: 'a' } })); // first tag
    }
  });
});

describe('ZipkinJsonEncoder: cached fragments stay right when spans change', () => {
  test('the same keys with changing values, order, gaps and kinds', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const variants: FakeSpec[] = [
      { attributes: { lc: 'kong', 'http.method': 'GET', 'http.path': '/a', 'http.status_code': 200 } },
      { attributes: { lc: 'kong', 'http.method': 'POST', 'http.path': '/a', 'http.status_code': 200 } },
      { attributes: { lc: 'kong', 'http.method': 'GET', 'http.path': '/b', 'http.status_code': 200 } },
      { attributes: { lc: 'kong', 'http.method': 'GET', 'http.path': '/a', 'http.status_code': 502 } },
      {
        attributes: {
          lc: 'kong',
          'http.method': 'GET',
          team: 'x',
          env: 'prod',
          'http.path': '/a',
          'http.status_code': 200,
        },
      },
      { attributes: { lc: 'kong', 'http.path': '/a', 'http.method': 'GET', 'http.status_code': 200 } },
      { attributes: { lc: '', 'http.method': 'GET', 'http.path': '/a', 'http.status_code': 200 } }, // empty: no tag, the next one is first
      { attributes: { lc: 'kong', 'http.method': '', 'http.path': '/a', 'http.status_code': 200 } },
      { attributes: { lc: 'kong', 'http.method': 'GET', 'http.path': 'q"uote', 'http.status_code': 200 } },
      { attributes: { lc: 'kong', 'http.method': 'GET', 'http.path': ['/a', '/b'], 'http.status_code': 200 } },
      { attributes: { 'network.peer.address': '10.0.0.1', lc: 'kong', 'gateway_zipkin.x': 1, 'http.method': 'GET' } },
      { attributes: { 'http.method': 'GET', lc: 'kong' } },
      { attributes: { lc: 'kong', 'http.method': 'GET', 'http.path': '/a', 'http.status_code': 200 } },
      { name: 'GET', kind: SpanKind.CLIENT, attributes: { lc: 'kong' } }, // same name, another kind
      { name: 'GET', kind: SpanKind.INTERNAL },
      { name: 'GET', kind: SpanKind.PRODUCER, attributes: { 'peer.service': 's' } },
      { name: 'GET', kind: SpanKind.CONSUMER, attributes: { 'peer.service': 's', 'network.peer.address': '::1' } },
      {
        attributes: {
          lc: 'kong',
          'http.method': 'GET',
          x: null as unknown as AttributeValue,
          y: undefined,
          'http.path': '/a',
        },
      },
    ];
    // Several rounds in different orders: every fragment is reused after every other variant.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < variants.length; i++) {
        const spec = variants[(i * (round + 1) + round) % variants.length];
        check(
          encoder,
          fake({
            ...spec,
            events:
              round % 2 === 0
                ? [
                    ['krf', [1700000000, 7000]],
                    ['krs', [1700000000, 6000]],
                  ]
                : [],
          }),
        );
      }
    }
  });

  test('an array value changed in place is not taken from the cache', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const list = ['a', 'b'];
    const attributes = { lc: 'kong', list };
    check(encoder, fake({ attributes }));
    list[1] = 'c';
    const json = check(encoder, fake({ attributes }));
    expect(JSON.parse(json).tags.list).toBe('a,c');
  });

  test('timestamps crossing second boundaries, annotations after tags or not', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    for (let i = 0; i < 30; i++) {
      const second = 1700000000 + (i % 3 === 0 ? 1 : 0) + Math.floor(i / 10);
      const events: [string, HrTime][] = [
        ['kas', [second, 999999000]],
        ['kaf', [second + 1, 1000]],
        ['kas', [second - 1, 0]],
      ];
      check(
        encoder,
        fake({
          name: 'GET (proxy)',
          kind: SpanKind.CLIENT,
          start: [second, 500000000],
          end: [second + 1, 0],
          attributes: i % 2 === 0 ? { a: 'b' } : {},
          events,
        }),
      );
    }
  });

  test('remote endpoints: with and without service, ipv4 / ipv6, with and without port, alternating', () => {
    const options = { localServiceName: 'kong', defaultServiceName: 'default-svc' };
    const encoder = new ZipkinJsonEncoder(options);
    const noDefault = new ZipkinJsonEncoder(OPTIONS);
    const shapes: Attributes[] = [
      { 'peer.service': 'orders', 'network.peer.address': '127.0.0.1', 'network.peer.port': 8080 },
      { 'network.peer.address': '127.0.0.1', 'network.peer.port': 53412 },
      { 'peer.service': 'orders', 'network.peer.address': '127.0.0.1' },
      { 'peer.service': 'orders', 'network.peer.port': 8080 },
      { 'network.peer.address': '2001:db8::1', 'network.peer.port': 443 },
      { 'network.peer.address': '127.0.0.1' },
      { 'peer.service': '', 'network.peer.address': '', 'network.peer.port': '' },
      { 'peer.service': 'payments', 'network.peer.address': '127.0.0.1', 'network.peer.port': 8080 },
      { 'network.peer.port': 1 },
      {},
    ];
    for (let round = 0; round < 3; round++) {
      for (const attributes of shapes) {
        check(encoder, fake({ kind: SpanKind.CLIENT, attributes }), options);
        check(noDefault, fake({ kind: SpanKind.CLIENT, attributes }), OPTIONS);
      }
    }
  });

  test('past the cache limits: many names, event names, first keys and tag keys', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    for (let i = 0; i < 700; i++) {
      const attributes: Attributes = { ['first' + i]: i, ['k' + (i % 300)]: 'v' + (i % 7), shared: 'x' };
      const span = fake({ name: 'n' + i, attributes, events: [['e' + i, [1700000000, i * 1000]]] });
      check(encoder, span);
      if (i % 50 === 0)
        check(
          encoder,
          fake({ name: 'GET', attributes: { lc: 'kong', shared: 'x' }, events: [['krs', [1700000000, 0]]] }),
        );
    }
  });

  test('a 64-bit trace id (gateway_zipkin.trace_id_bytes = 8) wherever the attribute is', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const traceId = '0000000000000000463ac35c9f6413ad';
    for (const attributes of [
      { 'gateway_zipkin.trace_id_bytes': 8 },
      { lc: 'kong', 'gateway_zipkin.trace_id_bytes': 8 },
      { lc: 'kong' },
      { 'gateway_zipkin.trace_id_bytes': 16 },
    ]) {
      check(encoder, fake({ traceId, attributes }));
    }
    expect(
      JSON.parse(encoder.encode(fake({ traceId, attributes: { 'gateway_zipkin.trace_id_bytes': 8 } }))).traceId,
    ).toBe('463ac35c9f6413ad');
  });

  test('real SDK spans: the reference example, many times, in one body', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const spans = makeSpans(kongExampleSpecs());
    const all = [...spans, ...spans, ...spans];
    const body = zipkinJsonBody(all.map((span) => encoder.encodeBytes(span))).toString();
    expect(body).toBe(JSON.stringify(all.map((span) => toZipkinSpan(span, OPTIONS))));
    expect(validate(JSON.parse(body))).toBe(true);
  });
});

describe('zipkinJsonBody: one buffer', () => {
  test('the bytes of one join, for empty, small and large lists and spans', () => {
    const span = (n: number) => '{"id":"' + 'x'.repeat(n) + '"}';
    const cases: string[][] = [
      [],
      [span(1)],
      [span(1), span(2)],
      Array.from({ length: 60 }, (_, i) => span(500 + i)), // ~32 K characters
      Array.from({ length: 2000 }, (_, i) => span(i % 900)),
      [span(40000)],
      [span(40000), span(1)],
      [span(1), span(40000)],
      [span(1), span(40000), span(2), span(70000), span(3)],
      Array.from({ length: 300 }, (_, i) => span(i === 150 ? 33000 : 100)),
    ];
    for (const spans of cases) {
      const body = zipkinJsonBody(spans.map((s) => Buffer.from(s)));
      expect(body.equals(Buffer.from('[' + spans.join(',') + ']'))).toBe(true);
    }
  });

  test('encoded spans: one body equal to JSON.stringify of the objects', () => {
    const encoder = new ZipkinJsonEncoder(OPTIONS);
    const spans = Array.from({ length: 400 }, (_, i) =>
      fake({
        name: i % 7 === 0 ? 'GÉT' : 'GET',
        spanId: (i + 1).toString(16).padStart(16, '0'),
        attributes: { lc: 'kong', 'http.path': '/orders/' + i, pad: 'p'.repeat(i % 50) },
        events: [['krs', [1700000000, i * 1000]]],
      }),
    );
    const body = zipkinJsonBody(spans.map((s) => encoder.encodeBytes(s)));
    expect(body.length).toBeGreaterThan(3 * 32 * 1024);
    // Non-ASCII names (every seventh span) are UTF-8 in the body.
    expect(body.equals(Buffer.from(JSON.stringify(spans.map((s) => toZipkinSpan(s, OPTIONS)))))).toBe(true);
  });
});

describe('ZipkinJsonEncoder: generated spans through one long-lived encoder', () => {
  const awkward = fc.constantFrom(...AWKWARD);
  const text = fc.oneof(
    fc.constantFrom('GET', 'kong', '/a', 'orders', 'x'),
    awkward,
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 6 }),
  );
  const value: fc.Arbitrary<AttributeValue> = fc.oneof(
    text,
    fc.integer({ min: -5, max: 70000 }),
    fc.double(),
    fc.boolean(),
    fc.array(text, { maxLength: 3 }),
  );
  const key = fc.oneof(
    fc.constantFrom(
      'lc',
      'http.method',
      'http.path',
      'kong.service',
      'network.peer.address',
      'network.peer.port',
      'peer.service',
      'gateway_zipkin.trace_id_bytes',
    ),
    text,
  );
  const time = fc.tuple(
    fc.oneof(fc.constant(1700000000), fc.integer({ min: 0, max: 2e9 })),
    fc.oneof(fc.integer({ min: 0, max: 999999999 }), fc.double({ min: -1, max: 2e9, noNaN: true })),
  );
  const spec = fc.record({
    name: text,
    kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER),
    parentId: fc.option(fc.constantFrom('b7ad6b7169203331', '0000000000000000'), { nil: undefined }),
    start: time,
    end: time,
    attributes: fc.array(fc.tuple(key, value), { maxLength: 8 }),
    events: fc.array(fc.tuple(fc.oneof(fc.constantFrom('krs', 'krf', 'khs'), text), time), { maxLength: 4 }),
  });
  const encoders = new Map<string | null, ZipkinJsonEncoder>();

  test('property: byte-identical to JSON.stringify, size equal to Buffer.byteLength', () => {
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(null, 'svc', 'sv"c'),
        (specs, defaultServiceName) => {
          const options = { localServiceName: 'kong', defaultServiceName };
          let encoder = encoders.get(defaultServiceName);
          if (encoder === undefined) encoders.set(defaultServiceName, (encoder = new ZipkinJsonEncoder(options)));
          for (const s of specs) {
            const attributes: Attributes = {};
            for (const [k, v] of s.attributes) if (k !== '__proto__') attributes[k] = v;
            check(encoder, fake({ ...s, attributes }), options);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('ZipkinExporter: encodedSize', () => {
  test('JSON: the UTF-8 size, for the span just encoded and for earlier ones; proto3: the byte length', () => {
    const json = new ZipkinExporter({ httpEndpoint: 'http://127.0.0.1:9/api/v2/spans', localServiceName: 'kong' });
    const a = json.encodeSpan(fake({ name: 'GÉT', attributes: { path: '/ü' } }));
    const b = json.encodeSpan(fake({ name: 'GET' }));
    expect(json.encodedSize(b)).toBe(b.length);
    expect(json.encodedSize(a)).toBe(a.length);
    // UTF-8: É and ü are two bytes each.
    expect(a.length).toBe(Buffer.from(a).toString('utf8').length + 2);
    expect(Buffer.from(a).toString('utf8')).toContain('"name":"GÉT"');
    const proto = new ZipkinExporter({
      httpEndpoint: 'http://127.0.0.1:9/api/v2/spans',
      localServiceName: 'kong',
      encoding: 'proto3',
    });
    const bytes = proto.encodeSpan(fake({ name: 'GET' })) as Uint8Array;
    expect(proto.encodedSize(bytes)).toBe(bytes.length);
  });
});

describe('proto3: byte-identical to protobufjs encoding the same message', () => {
  const root = protobuf.loadSync(path.join(__dirname, '..', 'fixtures', 'zipkin-api', 'zipkin.proto'));
  const ListOfSpans = root.lookupType('zipkin.proto3.ListOfSpans');

  const ipBytes = (ip: string | undefined, parse: (ip: string) => number[] | undefined) =>
    ip === undefined ? undefined : parse(ip);

  /** The message with proto3 defaults left out, as our writer does. */
  function reference(span: ZipkinSpan): Uint8Array {
    const endpoint = (e: ZipkinSpan['localEndpoint'] | undefined) => {
      if (e === undefined) return undefined;
      const out: Record<string, unknown> = {};
      if (e.serviceName) out.serviceName = e.serviceName;
      const v4 = ipBytes(e.ipv4, ipv4Bytes);
      if (v4 !== undefined) out.ipv4 = Buffer.from(v4);
      const v6 = ipBytes(e.ipv6, ipv6Bytes);
      if (v6 !== undefined) out.ipv6 = Buffer.from(v6);
      if (e.port !== undefined && e.port > 0 && e.port < 2 ** 31) out.port = e.port;
      return out;
    };
    const message: Record<string, unknown> = {
      traceId: Buffer.from(span.traceId.padStart(32, '0'), 'hex'),
      id: Buffer.from(span.id, 'hex'),
    };
    if (span.parentId !== undefined) message.parentId = Buffer.from(span.parentId, 'hex');
    if (span.kind !== undefined) message.kind = span.kind;
    if (span.name !== '') message.name = span.name;
    if (span.timestamp > 0) message.timestamp = span.timestamp;
    if (span.duration > 0) message.duration = span.duration;
    message.localEndpoint = endpoint(span.localEndpoint);
    if (span.remoteEndpoint !== undefined) message.remoteEndpoint = endpoint(span.remoteEndpoint);
    if (span.annotations !== undefined)
      message.annotations = span.annotations.map((a) => (a.value === '' ? { timestamp: a.timestamp } : a));
    if (span.tags !== undefined) message.tags = span.tags;
    return ListOfSpans.encode(ListOfSpans.fromObject({ spans: [message] })).finish();
  }

  function same(span: ReadableSpan): void {
    const object = toZipkinSpan(span, OPTIONS);
    expect(Buffer.from(proto3ListBody([encodeProto3Span(object)])).toString('hex')).toBe(
      Buffer.from(reference(object)).toString('hex'),
    );
  }

  test('short and long strings, ASCII or not, at the 127 / 128 boundary', () => {
    for (const s of [
      'a',
      'x'.repeat(125),
      'x'.repeat(126),
      'x'.repeat(127),
      'x'.repeat(128),
      'x'.repeat(300),
      'é',
      'x'.repeat(126) + 'é',
      'pair \ud83d\ude00',
      'del\u007f',
      'ctl\u0001',
    ]) {
      same(
        fake({
          name: s,
          attributes: { [s]: s, 'peer.service': s, 'network.peer.port': 8080 },
          events: [[s, [1700000000, 1000]]],
        }),
      );
    }
  });

  test('timestamps and durations across 32-bit boundaries; ids, ports and IPs', () => {
    for (const [start, end] of [
      [
        [1700000000, 1000],
        [1700000001, 0],
      ],
      [
        [4294, 967295000],
        [4294, 967296000],
      ], // µs around 2^32
      [
        [1, 0],
        [1, 0],
      ],
      [
        [0, 1000],
        [0, 1000],
      ], // timestamp 1 µs, duration 0
      [
        [8e9, 999999000],
        [8e9 + 5000, 0],
      ],
    ] as [HrTime, HrTime][]) {
      same(
        fake({
          start,
          end,
          events: [
            ['krs', start],
            ['krf', end],
          ],
        }),
      );
    }
    same(fake({ traceId: '0000000000000000463ac35c9f6413ad', attributes: { 'gateway_zipkin.trace_id_bytes': 8 } }));
    same(
      fake({ traceId: 'ABCDEF0123456789abcdef0123456789', spanId: 'FFFFFFFFFFFFFFFF', parentId: '0123456789ABCDEF' }),
    );
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '127.0.0.1',
      '::1',
      '2001:db8::c001',
      '::ffff:127.0.0.1',
      'fe80::1%eth0',
      '::1',
      'not-an-ip',
      '',
    ]) {
      for (const port of [1, 127, 128, 65535, 0, -1])
        same(
          fake({
            kind: SpanKind.CLIENT,
            attributes: { 'network.peer.address': ip, 'network.peer.port': port, 'peer.service': 'svc' },
          }),
        );
    }
  });

  test('the reference example and generated spans', () => {
    for (const span of makeSpans(kongExampleSpecs())) same(span);
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 140 }),
        fc.array(
          fc.tuple(
            fc.string({ minLength: 1, maxLength: 20 }),
            fc.string({ unit: 'binary', minLength: 1, maxLength: 140 }),
          ),
          { maxLength: 4 },
        ),
        fc.integer({ min: 1, max: 2e9 }),
        fc.integer({ min: 0, max: 999999999 }),
        (name, tags, seconds, nanos) => {
          const attributes: Attributes = {};
          for (const [k, v] of tags) if (k !== '__proto__') attributes[k] = v;
          same(
            fake({
              name,
              attributes,
              start: [seconds, nanos],
              end: [seconds + 1, nanos],
              events: [[name, [seconds, nanos]]],
            }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
