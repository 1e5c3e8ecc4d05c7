import * as path from 'node:path';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as protobuf from 'protobufjs';
import { startReceiver, type Receiver } from '../../src/receiver/receiver';
import { renderWaterfall } from '../../src/receiver/waterfall';
import type { ReceivedSpan } from '../../src/receiver/span-validator';

const PROTO = path.join(__dirname, '..', 'fixtures', 'zipkin-api', 'zipkin.proto');
const ListOfSpans = protobuf.loadSync(PROTO).lookupType('zipkin.proto3.ListOfSpans');

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const T0 = 1700000000000000;

/** Kong's three spans for one proxied request, in the order Kong reports them. */
const KONG_TRACE: ReceivedSpan[] = [
  {
    traceId: TRACE,
    parentId: '00f067aa0ba902b7',
    id: 'b7ad6b7169203331',
    kind: 'CLIENT',
    name: 'GET (balancer try 1)',
    timestamp: T0 + 1500,
    duration: 500,
    localEndpoint: { serviceName: 'kong' },
    remoteEndpoint: { ipv4: '127.0.0.1', port: 9001 },
    tags: { error: 'false' },
  },
  {
    traceId: TRACE,
    parentId: '00f067aa0ba902b7',
    id: '53995c3f42cd8ad8',
    kind: 'CLIENT',
    name: 'GET (proxy)',
    timestamp: T0 + 1000,
    duration: 8500,
    localEndpoint: { serviceName: 'kong' },
    remoteEndpoint: { ipv4: '127.0.0.1', port: 9001 },
    annotations: [
      { timestamp: T0 + 1000, value: 'kas' },
      { timestamp: T0 + 1500, value: 'kaf' },
      { timestamp: T0 + 8000, value: 'khs' },
    ],
  },
  {
    traceId: TRACE,
    id: '00f067aa0ba902b7',
    kind: 'SERVER',
    name: 'GET',
    timestamp: T0,
    duration: 10000,
    localEndpoint: { serviceName: 'kong' },
    remoteEndpoint: { ipv4: '127.0.0.1', port: 51000 },
    annotations: [
      { timestamp: T0, value: 'krs' },
      { timestamp: T0 + 1000, value: 'krf' },
    ],
    tags: { 'http.method': 'GET', 'http.path': '/orders', lc: 'kong' },
  },
];

const KONG_WATERFALL =
  `trace ${TRACE} · 3 spans · 10.000ms\n` +
  'GET                     kong │◆███◆███████████████████████████████████│ 10.000ms → 127.0.0.1:51000\n' +
  '│  ◆ krs +0µs  ◆ krf +1.000ms\n' +
  '├─ GET (proxy)          kong │    ◆█◆█████████████████████████◆█████  │  8.500ms → 127.0.0.1:9001\n' +
  '│     ◆ kas +1.000ms  ◆ kaf +1.500ms  ◆ khs +8.000ms\n' +
  '└─ GET (balancer try 1) kong │      ██                                │    500µs → 127.0.0.1:9001\n';

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

interface Reply {
  status: number;
  body: string;
}

function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The proto3 encoding of JSON v2 spans, by protobufjs from zipkin.proto (the oracle). */
function toProto(spans: readonly ReceivedSpan[]): Buffer {
  const endpoint = (e: ReceivedSpan['localEndpoint']): Record<string, unknown> | undefined =>
    e === undefined
      ? undefined
      : {
          serviceName: e.serviceName,
          ipv4: e.ipv4 === undefined ? undefined : Buffer.from(e.ipv4.split('.').map(Number)),
          port: e.port,
        };
  const message = ListOfSpans.fromObject({
    spans: spans.map((s) => ({
      traceId: Buffer.from(s.traceId, 'hex'),
      parentId: s.parentId === undefined ? undefined : Buffer.from(s.parentId, 'hex'),
      id: Buffer.from(s.id, 'hex'),
      kind: s.kind,
      name: s.name,
      timestamp: s.timestamp,
      duration: s.duration,
      localEndpoint: endpoint(s.localEndpoint),
      remoteEndpoint: endpoint(s.remoteEndpoint),
      annotations: s.annotations,
      tags: s.tags,
      debug: s.debug,
      shared: s.shared,
    })),
  });
  return Buffer.from(ListOfSpans.encode(message).finish());
}

describe('receiver over HTTP', () => {
  let receiver: Receiver;
  let out: Collector;
  let err: Collector;

  beforeEach(async () => {
    out = new Collector();
    err = new Collector();
    receiver = await startReceiver({ port: 0, out, errOut: err, quietMs: 60_000 });
  });

  afterEach(async () => {
    await receiver.close();
  });

  it('listens on 127.0.0.1 and names its spans endpoint', () => {
    expect(receiver.host).toBe('127.0.0.1');
    expect(receiver.url).toBe(`http://127.0.0.1:${receiver.port}/api/v2/spans`);
  });

  it('accepts JSON v2 with 202 and draws the trace on close', async () => {
    const reply = await post(receiver.url, JSON.stringify(KONG_TRACE));
    expect(reply).toEqual({ status: 202, body: '' });
    expect(receiver.spans).toEqual(KONG_TRACE);
    expect(out.text).toBe('');
    await receiver.close();
    expect(out.text).toBe(KONG_WATERFALL + '\n');
    expect(err.text).toBe('');
  });

  it('accepts proto3 (encoded by protobufjs from zipkin.proto) and gzip', async () => {
    const proto = toProto(KONG_TRACE);
    expect(await post(receiver.url, proto, { 'content-type': 'application/x-protobuf' })).toEqual({
      status: 202,
      body: '',
    });
    expect(receiver.spans).toEqual(KONG_TRACE);
    const gz = gzipSync(proto);
    expect(
      await post(receiver.url, gz, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }),
    ).toEqual({
      status: 202,
      body: '',
    });
    expect(
      await post(receiver.url, gzipSync(JSON.stringify(KONG_TRACE)), {
        'content-type': 'application/json; charset=utf-8',
        'content-encoding': 'gzip',
      }),
    ).toEqual({ status: 202, body: '' });
    expect(receiver.spans).toEqual([...KONG_TRACE, ...KONG_TRACE, ...KONG_TRACE]);
  });

  it('decodes proto3 ipv6, shared, debug and 64-bit trace ids', async () => {
    const message = ListOfSpans.fromObject({
      spans: [
        {
          traceId: Buffer.from('0102030405060708', 'hex'),
          id: Buffer.from('0000000000000001', 'hex'),
          localEndpoint: {
            serviceName: 'svc',
            ipv6: Buffer.from('20010db8000000000000000000000001', 'hex'),
            port: 443,
          },
          shared: true,
          debug: true,
          tags: { empty: '' },
        },
      ],
    });
    const reply = await post(receiver.url, Buffer.from(ListOfSpans.encode(message).finish()), {
      'content-type': 'application/x-protobuf',
    });
    expect(reply.status).toBe(202);
    expect(receiver.spans).toEqual([
      {
        traceId: '0102030405060708',
        id: '0000000000000001',
        localEndpoint: { serviceName: 'svc', ipv6: '2001:db8::1', port: 443 },
        tags: { empty: '' },
        debug: true,
        shared: true,
      },
    ]);
  });

  it('an empty body or an empty list is accepted with nothing stored', async () => {
    expect(await post(receiver.url, '')).toEqual({ status: 202, body: '' });
    expect(await post(receiver.url, '[]')).toEqual({ status: 202, body: '' });
    expect(receiver.spans).toEqual([]);
  });

  it('other paths are 404, other methods 405', async () => {
    expect(await post(`http://127.0.0.1:${receiver.port}/api/v1/spans`, '[]')).toEqual({
      status: 404,
      body: 'not found: /api/v1/spans\n',
    });
    expect(await post(receiver.url, '', {}, 'GET')).toEqual({ status: 405, body: 'method not allowed: GET\n' });
  });

  const bad = (patch: Record<string, unknown>): string => JSON.stringify([{ ...KONG_TRACE[2], ...patch }]);

  it.each<[string, string, string]>([
    [
      'upper-case trace id',
      bad({ traceId: TRACE.toUpperCase() }),
      `spans[0].traceId: expected 16 or 32 lower-case hex characters, got "${TRACE.toUpperCase()}"`,
    ],
    [
      '24-character trace id',
      bad({ traceId: TRACE.slice(8) }),
      `spans[0].traceId: expected 16 or 32 lower-case hex characters, got "${TRACE.slice(8)}"`,
    ],
    ['zero trace id', bad({ traceId: '0'.repeat(32) }), 'spans[0].traceId: must not be all zeros'],
    ['missing id', bad({ id: undefined }), 'spans[0].id: required field missing'],
    ['zero span id', bad({ id: '0000000000000000' }), 'spans[0].id: must not be all zeros'],
    [
      'short parent id',
      bad({ parentId: 'abc' }),
      'spans[0].parentId: expected 16 lower-case hex characters, got "abc"',
    ],
    [
      'fractional timestamp',
      bad({ timestamp: 1.5 }),
      'spans[0].timestamp: expected an integer number of microseconds, got 1.5',
    ],
    [
      'timestamp as a string',
      bad({ timestamp: '1' }),
      'spans[0].timestamp: expected an integer number of microseconds, got "1"',
    ],
    ['negative duration', bad({ duration: -5 }), 'spans[0].duration: must be at least 0'],
    [
      'unknown kind',
      bad({ kind: 'server' }),
      'spans[0].kind: expected one of: CLIENT, SERVER, PRODUCER, CONSUMER, got "server"',
    ],
    [
      'numeric tag',
      bad({ tags: { 'http.status_code': 200 } }),
      'spans[0].tags["http.status_code"]: expected a string, got 200',
    ],
    ['null name', bad({ name: null }), 'spans[0].name: expected a string'],
    [
      'annotation without value',
      bad({ annotations: [{ timestamp: T0 }] }),
      'spans[0].annotations[0].value: required field missing',
    ],
    [
      'duplicate annotation',
      bad({
        annotations: [
          { timestamp: T0, value: 'a' },
          { timestamp: T0, value: 'a' },
        ],
      }),
      'spans[0].annotations[1]: duplicate annotation (annotations must be unique)',
    ],
    [
      'port 0',
      bad({ remoteEndpoint: { ipv4: '127.0.0.1', port: 0 } }),
      'spans[0].remoteEndpoint.port: expected an integer between 1 and 65535, got 0',
    ],
    [
      'port 70000',
      bad({ localEndpoint: { port: 70000 } }),
      'spans[0].localEndpoint.port: expected an integer between 1 and 65535, got 70000',
    ],
    [
      'bad ipv4',
      bad({ remoteEndpoint: { ipv4: '300.0.0.1' } }),
      'spans[0].remoteEndpoint.ipv4: expected an IPv4 address, got "300.0.0.1"',
    ],
    [
      'ipv6 in ipv4',
      bad({ remoteEndpoint: { ipv4: '::1' } }),
      'spans[0].remoteEndpoint.ipv4: expected an IPv4 address, got "::1"',
    ],
    [
      'bad ipv6',
      bad({ remoteEndpoint: { ipv6: '1::2::3' } }),
      'spans[0].remoteEndpoint.ipv6: expected an IPv6 address, got "1::2::3"',
    ],
    ['not a list', JSON.stringify({ spans: [] }), 'Expected a JSON_V2 encoded list'],
    ['leading whitespace', ' []', 'Expected a JSON_V2 encoded list'],
    ['a span that is not an object', '[1]', 'spans[0]: expected an object'],
  ])('400 for %s', async (_what, body, reason) => {
    const reply = await post(receiver.url, body);
    expect(reply).toEqual({ status: 400, body: reason + '\n' });
    expect(receiver.spans).toEqual([]);
    expect(err.text).toBe(`warn receiver: 400 ${reason}\n`);
  });

  it('lists every reason, and one bad span rejects the whole list', async () => {
    const body = JSON.stringify([KONG_TRACE[0], { ...KONG_TRACE[1], id: 'x', duration: -1 }]);
    expect(await post(receiver.url, body)).toEqual({
      status: 400,
      body: 'spans[1].id: expected 16 lower-case hex characters, got "x"\nspans[1].duration: must be at least 0\n',
    });
    expect(receiver.spans).toEqual([]);
  });

  it('400 for malformed JSON, bad gzip and bad proto3; 415 for other encodings', async () => {
    const malformed = await post(receiver.url, '[{');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatch(/^Malformed JSON: /);
    expect(await post(receiver.url, 'not gzip', { 'content-encoding': 'gzip' })).toEqual({
      status: 400,
      body: 'Cannot gunzip spans\n',
    });
    expect(await post(receiver.url, '[]', { 'content-encoding': 'br' })).toEqual({
      status: 415,
      body: 'unsupported content-encoding: br (supported: gzip)\n',
    });

    const shortId = Buffer.from(
      ListOfSpans.encode(
        ListOfSpans.fromObject({ spans: [{ traceId: Buffer.alloc(16, 1), id: Buffer.alloc(4, 1) }] }),
      ).finish(),
    );
    const proto = { 'content-type': 'application/x-protobuf' };
    expect(await post(receiver.url, shortId, proto)).toEqual({
      status: 400,
      body: 'spans[0].id: expected 8 bytes, got 4\n',
    });
    expect(await post(receiver.url, toProto(KONG_TRACE).subarray(0, 30), proto)).toEqual({
      status: 400,
      body: 'spans[0]: truncated proto3 message\n',
    });
    expect(await post(receiver.url, '[]', proto)).toEqual({
      status: 400,
      body: 'Expected a PROTO3 encoded list (first byte must be field 1, ListOfSpans.spans)\n',
    });
    const noTimestamp = toProto([
      { ...KONG_TRACE[2], duration: 0 as unknown as number, annotations: [{ timestamp: 0, value: 'x' }] },
    ]);
    expect(await post(receiver.url, noTimestamp, proto)).toEqual({
      status: 400,
      body: 'spans[0].annotations[0].timestamp: required field missing\n',
    });
    expect(receiver.spans).toEqual([]);
  });

  it('accepts a zero duration, as the Zipkin server does (Kong sends it for sub-millisecond spans)', async () => {
    const zero = { ...KONG_TRACE[0], duration: 0 };
    expect((await post(receiver.url, JSON.stringify([zero]))).status).toBe(202);
    expect(receiver.spans.map((s) => s.duration)).toEqual([0]);
  });

  it('waitForSpans resolves once enough spans arrived', async () => {
    const waiting = receiver.waitForSpans(3, 2000);
    await post(receiver.url, JSON.stringify(KONG_TRACE.slice(0, 2)));
    await post(receiver.url, JSON.stringify(KONG_TRACE.slice(2)));
    expect(await waiting).toHaveLength(3);
    await expect(receiver.waitForSpans(4, 50)).rejects.toThrow(
      'timed out after 50 ms waiting for 4 spans (received 3)',
    );
  });
});

describe('receiver output modes', () => {
  it('draws a trace once it has been quiet for quietMs, and again for late spans', async () => {
    const out = new Collector();
    const receiver = await startReceiver({ port: 0, out, errOut: new Collector(), quietMs: 50 });
    try {
      await post(receiver.url, JSON.stringify(KONG_TRACE.slice(0, 2)));
      await post(receiver.url, JSON.stringify(KONG_TRACE.slice(2)));
      const start = Date.now();
      while (out.text === '' && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10));
      expect(out.text).toBe(KONG_WATERFALL + '\n');
      await post(receiver.url, JSON.stringify([{ ...KONG_TRACE[0], id: '1111111111111111' }]));
    } finally {
      await receiver.close();
    }
    expect(out.text).toBe(
      KONG_WATERFALL +
        '\n' +
        `trace ${TRACE} · 1 span · 500µs\n` +
        'GET (balancer try 1) kong │████████████████████████████████████████│ 500µs → 127.0.0.1:9001\n\n',
    );
  });

  it('--json prints each span as one canonical JSON line at once', async () => {
    const out = new Collector();
    const receiver = await startReceiver({ port: 0, out, json: true });
    try {
      // Unknown fields are dropped and keys come out in Zipkin's order.
      const scrambled = {
        name: 'x',
        extra: 1,
        id: '00000000000000aa',
        traceId: '00000000000000bb',
        tags: { b: '2', a: '1' },
      };
      expect((await post(receiver.url, JSON.stringify([scrambled]))).status).toBe(202);
      expect(out.text).toBe(
        '{"traceId":"00000000000000bb","id":"00000000000000aa","name":"x","tags":{"b":"2","a":"1"}}\n',
      );
      await post(receiver.url, toProto([KONG_TRACE[1]]), { 'content-type': 'application/x-protobuf' });
    } finally {
      await receiver.close();
    }
    expect(out.text.split('\n').slice(1)).toEqual([JSON.stringify(KONG_TRACE[1]), '']);
  });
});

describe('renderWaterfall', () => {
  it('lists tags on request, under the row', () => {
    const text = renderWaterfall([KONG_TRACE[2]], { width: 10, showTags: true });
    expect(text).toBe(
      `trace ${TRACE} · 1 span · 10.000ms\n` +
        'GET kong │◆◆████████│ 10.000ms → 127.0.0.1:51000\n' +
        '   ◆ krs +0µs  ◆ krf +1.000ms\n' +
        '   http.method=GET\n' +
        '   http.path=/orders\n' +
        '   lc=kong\n',
    );
  });

  it('lists annotations in time order, whatever order they arrived in', () => {
    const span: ReceivedSpan = {
      traceId: TRACE,
      id: 'aaaaaaaaaaaaaaaa',
      name: 'GET (proxy)',
      timestamp: T0,
      duration: 10,
      localEndpoint: { serviceName: 'kong' },
      annotations: [
        { timestamp: T0 + 6, value: 'khs' },
        { timestamp: T0 + 8, value: 'khf' },
        { timestamp: T0 + 1, value: 'kas' },
        { timestamp: T0 + 2, value: 'kaf' },
      ],
    };
    expect(renderWaterfall([span], { width: 10 })).toBe(
      `trace ${TRACE} · 1 span · 10µs\n` +
        'GET (proxy) kong │█◆◆███◆█◆█│ 10µs\n' +
        '   ◆ kas +1µs  ◆ kaf +2µs  ◆ khs +6µs  ◆ khf +8µs\n',
    );
  });

  it('nests a shared span under its client half, and orphans become roots', () => {
    const base = { traceId: TRACE, localEndpoint: { serviceName: 'svc' } };
    const spans: ReceivedSpan[] = [
      {
        ...base,
        id: 'aaaaaaaaaaaaaaaa',
        parentId: 'cccccccccccccccc',
        name: 'server',
        shared: true,
        timestamp: T0 + 10,
        duration: 80,
      },
      { ...base, id: 'aaaaaaaaaaaaaaaa', name: 'client', timestamp: T0, duration: 100 },
      {
        ...base,
        id: 'bbbbbbbbbbbbbbbb',
        parentId: 'aaaaaaaaaaaaaaaa',
        name: 'child',
        timestamp: T0 + 20,
        duration: 10,
      },
      { ...base, id: 'dddddddddddddddd', parentId: 'eeeeeeeeeeeeeeee', name: 'orphan' },
    ];
    expect(renderWaterfall(spans, { width: 10 })).toBe(
      `trace ${TRACE} · 4 spans · 100µs\n` +
        'client      svc │██████████│ 100µs\n' +
        '└─ server   svc │ ████████ │  80µs\n' +
        '   └─ child svc │  █       │  10µs\n' +
        'orphan      svc │          │     ?\n',
    );
  });
});
