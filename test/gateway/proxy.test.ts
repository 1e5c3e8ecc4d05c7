/**
 * The HTTP proxy's edge cases, in-process (`startGateway`) against raw TCP upstreams that
 * misbehave on purpose: a kept-alive connection the upstream kills, hop-by-hop response
 * headers, an upstream dying mid-body, a client leaving before the answer.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway';
import { parseDeclarativeConfig } from '../../src/gateway/declarative';
import { startReceiver, type Receiver } from '../../src/receiver/receiver';
import type { Logger } from '../../src/logger';
import { named, nullSink, request, spansOf, waitForSpans } from './cli-harness';

interface RawUpstream {
  port: number;
  /** Request heads received, per connection index. */
  heads: { connection: number; head: string }[];
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 upstream written on `net`: `respond(connection index, request index on that
 * connection, head)` returns the raw bytes to write, or null to reset the connection.
 */
async function rawUpstream(
  respond: (conn: number, n: number, head: string, socket: net.Socket) => string | null,
): Promise<RawUpstream> {
  const heads: { connection: number; head: string }[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    const conn = connections++;
    let n = 0;
    let buffer = '';
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        buffer = buffer.slice(end + 4 + length);
        heads.push({ connection: conn, head });
        const reply = respond(conn, n++, head, socket);
        if (reply === null) {
          socket.resetAndDestroy();
          return;
        }
        if (reply !== '') socket.write(reply, 'latin1');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const lines: string[] = [];
const logger: Logger = {
  debug: () => undefined,
  info: (m) => lines.push(`info ${m}`),
  warn: (m) => lines.push(`warn ${m}`),
  error: (m) => lines.push(`error ${m}`),
};

let receiver: Receiver;
const running: RunningGateway[] = [];
const upstreams: RawUpstream[] = [];

beforeAll(async () => {
  receiver = await startReceiver({ port: 0, out: nullSink(), errOut: nullSink() });
});

afterAll(async () => {
  for (const g of running) await g.shutdown(100);
  for (const u of upstreams) await u.close();
  await receiver.close();
});

async function gatewayFor(upstreamPort: number, retries = 0): Promise<number> {
  const config = parseDeclarativeConfig(
    JSON.stringify({
      _format_version: '3.0',
      services: [
        {
          name: 'raw',
          url: `http://127.0.0.1:${upstreamPort}`,
          retries,
          read_timeout: 2000,
          routes: [{ name: 'all', paths: ['/'] }],
        },
      ],
      plugins: [{ name: 'zipkin', config: { http_endpoint: receiver.url, sample_ratio: 1 } }],
    }),
    { format: 'json' },
  );
  const gateway = await startGateway({ config, listen: { host: '127.0.0.1', port: 0 }, logger });
  running.push(gateway);
  return gateway.listeners[0].port;
}

async function track(u: Promise<RawUpstream>): Promise<RawUpstream> {
  const upstream = await u;
  upstreams.push(upstream);
  return upstream;
}

const OK = (body: string): string =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`;

test('a kept-alive connection the upstream killed: the same target again, once, with the body replayed, without using a try', async () => {
  // Every connection answers its first request and resets on the second.
  const upstream = await track(rawUpstream((_conn, n) => (n === 0 ? OK('fine') : null)));
  const port = await gatewayFor(upstream.port, 0);
  const first = await request(port, '/one', {
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80a001-b7ad6b7169203331-01' },
  });
  expect([first.status, first.body]).toEqual([200, 'fine']);
  const second = await request(port, '/two', {
    method: 'POST',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80a002-b7ad6b7169203331-01' },
    body: 'payload',
  });
  expect([second.status, second.body]).toEqual([200, 'fine']);
  // /two went out on the kept-alive connection 0 (reset), then on a new connection 1.
  expect(upstream.heads.map((h) => [h.connection, h.head.split('\r\n')[0]])).toEqual([
    [0, 'GET /one HTTP/1.1'],
    [0, 'POST /two HTTP/1.1'],
    [1, 'POST /two HTTP/1.1'],
  ]);
  const spans = await waitForSpans(() => spansOf(receiver, '0af7651916cd43dd8448eb211c80a002'));
  expect(named(spans, 'POST (balancer try 1)').tags).toMatchObject({
    error: 'true',
    'kong.balancer.state': 'failed',
    'http.status_code': '502',
  });
  expect(named(spans, 'POST (balancer try 2)').tags?.error).toBeUndefined();
  expect(named(spans, 'POST').tags?.['http.status_code']).toBe('200');
});

test('hop-by-hop response headers are dropped; other headers, repeats and the reason phrase pass', async () => {
  const upstream = await track(
    rawUpstream(
      () =>
        'HTTP/1.1 201 Made Here\r\n' +
        'Connection: keep-alive, X-Secret\r\n' +
        'Keep-Alive: timeout=5\r\n' +
        'X-Secret: hidden\r\n' +
        'Set-Cookie: a=1\r\n' +
        'Set-Cookie: b=2\r\n' +
        'X-Kept: yes\r\n' +
        'Content-Length: 2\r\n\r\nok',
    ),
  );
  const port = await gatewayFor(upstream.port);
  const reply = await new Promise<http.IncomingMessage & { text: string }>((done, fail) => {
    http
      .get({ host: '127.0.0.1', port, path: '/h', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done(Object.assign(res, { text })));
      })
      .on('error', fail);
  });
  expect([reply.statusCode, reply.statusMessage, reply.text]).toEqual([201, 'Made Here', 'ok']);
  expect(reply.headers['x-secret']).toBeUndefined();
  expect(reply.headers['keep-alive']).not.toBe('timeout=5');
  expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  expect(reply.headers['x-kept']).toBe('yes');
});

test('an upstream dying mid-body cuts the client connection and logs the nginx line', async () => {
  const upstream = await track(
    rawUpstream((_c, _n, _h, socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial', 'latin1');
      setTimeout(() => socket.destroy(), 30);
      return '';
    }),
  );
  const port = await gatewayFor(upstream.port);
  const outcome = await new Promise<string>((done) => {
    http
      .get({ host: '127.0.0.1', port, path: '/cut', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done(`ended ${text}`));
        res.on('error', () => done(`cut after ${text}`));
      })
      .on('error', (err) => done(`request error ${err.message}`));
  });
  expect(outcome).toBe('cut after partial');
  expect(
    lines.some((l) =>
      l.startsWith('error upstream prematurely closed connection while reading upstream, client: 127.0.0.1'),
    ),
  ).toBe(true);
});

test('a client leaving before the answer aborts the upstream request; the trace logs 499', async () => {
  let upstreamClosed!: () => void;
  let upstreamReached!: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const reached = new Promise<void>((r) => (upstreamReached = r));
  const upstream = await track(
    rawUpstream((_c, _n, _h, socket) => {
      socket.on('close', upstreamClosed);
      upstreamReached();
      return ''; // never answers
    }),
  );
  const port = await gatewayFor(upstream.port);
  const traceId = '0af7651916cd43dd8448eb211c80a499';
  const req = http.get({
    host: '127.0.0.1',
    port,
    path: '/leave',
    agent: false,
    headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
  });
  req.on('error', () => undefined);
  // Leave once the request is upstream (a fixed pause raced a busy machine: the client left first).
  await reached;
  req.destroy();
  await closed;
  const spans = await waitForSpans(() => spansOf(receiver, traceId));
  expect(named(spans, 'GET').tags?.['http.status_code']).toBe('499');
  expect(named(spans, 'GET (balancer try 1)').tags?.error).toBeUndefined();
});

/** A self-signed P-256 certificate for `upstream.test` (test fixture; never verified, as Kong's default `tls_verify` is off). */
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTtVhetJ2q+kgtkx5
KMS5kGI2Lhy7FIFl++vznTGGskihRANCAAQIqV710kEiSmYYHRPXejyFQTKlRT5n
ZEh2siWDoOXd7FBWsn6jpmW5MqxNoxdx27GZqKeuY2XnPn49zxRyokag
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBoDCCAUegAwIBAgIUMRw0J2bo3NxDfFnUo5eWZ1VOcFQwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNdXBzdHJlYW0udGVzdDAgFw0yNjExMjEwMzE4MjlaGA8yMTI2
MTAyODAzMTgyOVowGDEWMBQGA1UEAwwNdXBzdHJlYW0udGVzdDBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABAipXvXSQSJKZhgdE9d6PIVBMqVFPmdkSHayJYOg5d3s
UFayfqOmZbkyrE2jF3HbsZmop65jZec+fj3PFHKiRqCjbTBrMB0GA1UdDgQWBBTh
DYIuhFXdxRotimfhkz012aD7zDAfBgNVHSMEGDAWgBThDYIuhFXdxRotimfhkz01
2aD7zDAPBgNVHRMBAf8EBTADAQH/MBgGA1UdEQQRMA+CDXVwc3RyZWFtLnRlc3Qw
CgYIKoZIzj0EAwIDRwAwRAIgRvUlEfaTiRbIdGSyLLwvrfnDOoKldC/sEINRMaPl
TZsCIHDRx0KXsI4iKUylTXVPiZovn5hzR/PUkm8GPWpuMnNV
-----END CERTIFICATE-----
`;

test('an https service: TLS upstream, SNI from the Host sent upstream (none for an IP), certificate not verified', async () => {
  const seen: { host: string | undefined; sni: string | false | null | undefined }[] = [];
  const server = https.createServer({ key: TLS_KEY, cert: TLS_CERT }, (req, res) => {
    seen.push({ host: req.headers.host, sni: (req.socket as TLSSocket).servername });
    res.end('secure');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const tlsPort = (server.address() as net.AddressInfo).port;
  try {
    const config = parseDeclarativeConfig(
      JSON.stringify({
        _format_version: '3.0',
        services: [
          {
            name: 'tls',
            url: `https://127.0.0.1:${tlsPort}`,
            routes: [
              { name: 'preserved', paths: ['/preserved'], preserve_host: true },
              { name: 'plain', paths: ['/plain'] },
            ],
          },
        ],
        plugins: [{ name: 'zipkin', config: { http_endpoint: receiver.url, sample_ratio: 1 } }],
      }),
      { format: 'json' },
    );
    const gateway = await startGateway({ config, listen: { host: '127.0.0.1', port: 0 }, logger });
    running.push(gateway);
    const port = gateway.listeners[0].port;
    const traceId = '0af7651916cd43dd8448eb211c80a443';
    const preserved = await request(port, '/preserved', {
      headers: { host: 'upstream.test:8443', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    const plain = await request(port, '/plain');
    expect([preserved.status, preserved.body, plain.status, plain.body]).toEqual([200, 'secure', 200, 'secure']);
    expect(seen).toEqual([
      { host: 'upstream.test:8443', sni: 'upstream.test' },
      { host: `127.0.0.1:${tlsPort}`, sni: false },
    ]);
    const spans = await waitForSpans(() => spansOf(receiver, traceId));
    expect(named(spans, 'GET (balancer try 1)').remoteEndpoint).toEqual({
      serviceName: 'tls',
      ipv4: '127.0.0.1',
      port: tlsPort,
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
