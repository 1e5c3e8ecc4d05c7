/**
 * Faults of the traffic, through both gateways the library supports (Express +
 * http-proxy-middleware with the integrations, and the reference gateway's `node:http`
 * proxy), each with the plugin's own provider (spans built at log) and with a reused
 * provider (request and proxy spans opened at access, ended at log):
 * the upstream refuses, resets mid-body, times out; the client leaves before the response,
 * mid-body and mid-upload; a large body streams through; requests reuse client and upstream
 * connections, pipelined or not, the client leaving with pipelined requests queued;
 * HTTP/1.0 with and without keep-alive. Then the reference gateway's retries with a
 * replayed 3 MiB body, and its TCP stream proxy (refused targets, resets on either side).
 *
 * For every case: each request gets exactly one request span, one proxy span and one
 * balancer span per try; every span started is ended, once (a processor accounts for
 * `onStart` / `onEnd`; OTel reports a second `end()` through `diag`, which is captured);
 * the tags say what happened (status, 499, try tags); nothing escapes to the process
 * (`uncaughtException`, `unhandledRejection`, warnings such as MaxListenersExceeded) and
 * tracing logs no failure.
 */
import { randomBytes, createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ZipkinConfigInput } from '../../src/config/types';
import {
  captureDiag,
  closedPort,
  type DiagCapture,
  type EscapeWatch,
  type FaultyUpstream,
  type Gateway,
  hpmGateway,
  lineLogger,
  type LineLogger,
  type ProviderMode,
  referenceGateway,
  type ReferenceOptions,
  ROUTE,
  SERVICE,
  type SpanLedger,
  startFaultyUpstream,
  startTcpEcho,
  streamGateway,
  tracedPlugin,
  watchEscapes,
} from './traffic-harness';

type Kind = 'hpm' | 'reference';

const CONFIG: ZipkinConfigInput = { sample_ratio: 1, http_response_header_for_traceid: 'x-trace-id' };
const READ_TIMEOUT = 300;

// ------------------------------------------------------------------ per-test state

let diagCapture: DiagCapture;
let escapes: EscapeWatch;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(() => {
  diagCapture = captureDiag();
  escapes = watchEscapes();
});

afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)();
  escapes.stop();
  diagCapture.restore();
  // Also what happened after the spans were checked: late upstream answers, closing.
  expect(escapes.escaped).toEqual([]);
  expect(diagCapture.lines).toEqual([]);
});

interface Setup {
  gw: Gateway;
  upstream: FaultyUpstream;
  ledger: SpanLedger;
  logs: LineLogger;
}

async function setup(
  kind: Kind,
  mode: ProviderMode,
  reference: Partial<ReferenceOptions> = {},
  upstreamPort?: number,
): Promise<Setup> {
  const logs = lineLogger();
  const upstream = await startFaultyUpstream();
  cleanup.push(() => upstream.close());
  const { plugin, ledger } = tracedPlugin(CONFIG, mode, logs);
  const port = upstreamPort ?? upstream.port;
  const gw =
    kind === 'hpm'
      ? await hpmGateway(plugin, port, { proxyTimeout: READ_TIMEOUT })
      : await referenceGateway(plugin, logs, {
          targets: [`127.0.0.1:${port}`],
          read_timeout: READ_TIMEOUT,
          ...reference,
        });
  cleanup.push(() => gw.close());
  return { gw, upstream, ledger, logs };
}

// ------------------------------------------------------------------ clients

interface Outcome {
  status: number;
  body: string;
  /** `end`, or how the response was cut (`aborted`, `socket hang up`, …). */
  ending: string;
  traceId: string | undefined;
  clientPort: number;
}

function get(
  port: number,
  path: string,
  agent: http.Agent | false = false,
  headers: http.OutgoingHttpHeaders = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    let clientPort = 0;
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      const done = (ending: string): void =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          ending,
          traceId: res.headers['x-trace-id'] as string | undefined,
          clientPort,
        });
      res.on('end', () => done('end'));
      res.on('error', (err) => done(err.message));
    });
    req.on('socket', (s: net.Socket) => {
      if (s.connecting) s.once('connect', () => (clientPort = s.localPort ?? 0));
      else clientPort = s.localPort ?? 0;
    });
    req.on('error', (err) => resolve({ status: 0, body: '', ending: err.message, traceId: undefined, clientPort }));
  });
}

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ span checks

interface RequestSpans {
  request: ReadableSpan;
  proxy: ReadableSpan;
  tries: ReadableSpan[];
}

function us(t: HrTime): number {
  return t[0] * 1e6 + Math.floor(t[1] / 1000);
}

/**
 * Waits until every request's spans ended, then checks the lifecycle guarantees: every span
 * started was ended exactly once (nothing open, no second end in the ledger or in OTel's
 * diag), no tracing failure was logged, nothing escaped; and returns the spans of each
 * trace, split into exactly one request span, one proxy span and the tries.
 */
async function settled(
  s: Pick<Setup, 'ledger' | 'logs'>,
  requests: number,
  triesPerRequest: number | number[],
): Promise<RequestSpans[]> {
  const tries = typeof triesPerRequest === 'number' ? Array<number>(requests).fill(triesPerRequest) : triesPerRequest;
  const expected = tries.reduce((sum, n) => sum + n + 2, 0);
  await waitFor(() => s.ledger.ended >= expected && s.ledger.open.size === 0);
  await sleep(30); // a stray extra span or a late second end would show up now
  const { ledger } = s;
  expect({ started: ledger.started, ended: ledger.ended, open: ledger.open.size, strayEnds: ledger.strayEnds }).toEqual(
    {
      started: expected,
      ended: expected,
      open: 0,
      strayEnds: 0,
    },
  );
  expect(diagCapture.lines).toEqual([]);
  expect(escapes.escaped).toEqual([]);
  expect(s.logs.lines.filter((l) => l.includes('zipkin tracing failed'))).toEqual([]);

  // Group by trace, in the order the requests were logged.
  const byTrace = new Map<string, ReadableSpan[]>();
  for (const span of ledger.finished) {
    const id = span.spanContext().traceId;
    const list = byTrace.get(id) ?? [];
    list.push(span);
    byTrace.set(id, list);
  }
  expect(byTrace.size).toBe(requests);
  const out: RequestSpans[] = [];
  let i = 0;
  for (const spans of byTrace.values()) {
    const requestSpans = spans.filter((x) => !x.name.includes('('));
    const proxySpans = spans.filter((x) => x.name.endsWith('(proxy)'));
    const trySpans = spans.filter((x) => x.name.includes('(balancer try '));
    expect([requestSpans.length, proxySpans.length, trySpans.length]).toEqual([1, 1, tries[i]]);
    // Kong's report order: tries, proxy, request.
    expect(spans[spans.length - 1]).toBe(requestSpans[0]);
    expect(spans[spans.length - 2]).toBe(proxySpans[0]);
    out.push({ request: requestSpans[0], proxy: proxySpans[0], tries: trySpans });
    i++;
  }
  return out;
}

function eventNames(span: ReadableSpan): string[] {
  return span.events.map((e) => e.name);
}

const IDENTITY = {
  'kong.service': SERVICE.id,
  'kong.service_name': SERVICE.name,
  'kong.route': ROUTE.id,
  'kong.route_name': ROUTE.name,
  'peer.service': SERVICE.name,
};

function requestTags(span: ReadableSpan): Record<string, unknown> {
  const a = span.attributes;
  return {
    'http.method': a['http.method'],
    'http.path': a['http.path'],
    'http.protocol': a['http.protocol'],
    'http.status_code': a['http.status_code'],
  };
}

/** A try's Kong tags (error, state and status only on a try that was not the last) and its peer port. */
function tryTags(span: ReadableSpan): Record<string, unknown> {
  const a = span.attributes;
  return {
    try: a['kong.balancer.try'],
    error: a['error'],
    state: a['kong.balancer.state'],
    status: a['http.status_code'],
    port: a['network.peer.port'],
  };
}

const kinds: [string, Kind][] = [
  ['Express + http-proxy-middleware', 'hpm'],
  ['reference gateway', 'reference'],
];
const modes: [string, ProviderMode][] = [
  ['own provider', 'own'],
  ['reused provider', 'reused'],
];

describe.each(kinds)('%s', (_label, kind) => {
  describe.each(modes)('%s', (_modeLabel, mode) => {
    test('upstream refuses the connection: the gateway answers its error, the try says failed', async () => {
      const down = await closedPort();
      const down2 = await closedPort();
      const s = await setup(kind, mode, { targets: [`127.0.0.1:${down2}`, `127.0.0.1:${down}`], retries: 1 }, down);
      const reply = await get(s.gw.port, '/api/refused');
      const tries = kind === 'hpm' ? 1 : 2;
      const [t] = await settled(s, 1, tries);
      if (kind === 'hpm') {
        // HPM's default error response (ECONNREFUSED → 504) still reaches the client.
        expect([reply.status, reply.body]).toEqual([
          504,
          'Error occurred while trying to proxy: 127.0.0.1:' + s.gw.port + '/refused',
        ]);
      } else {
        expect([reply.status, reply.body]).toEqual([
          502,
          '{"message":"An invalid response was received from the upstream server"}',
        ]);
        expect(
          s.logs.lines.filter((l) =>
            l.startsWith('error connect() failed (111: Connection refused) while connecting to upstream'),
          ),
        ).toHaveLength(2);
        // The first try failed and was retried: Kong's error tags; the last one carries none.
        expect(tryTags(t.tries[0])).toEqual({ try: 1, error: true, state: 'failed', status: 502, port: down2 });
      }
      expect(reply.traceId).toBe(t.request.spanContext().traceId);
      expect(t.request.attributes['http.status_code']).toBe(reply.status);
      expect(tryTags(t.tries[tries - 1])).toEqual({
        try: tries,
        error: undefined,
        state: undefined,
        status: undefined,
        port: down,
      });
      expect(t.proxy.attributes).toMatchObject({
        'peer.hostname': '127.0.0.1',
        'network.peer.port': down,
        ...IDENTITY,
      });
      // The tries ended when their connection failed, before the error response went out.
      const khs = us(t.proxy.events.find((e) => e.name === 'khs')?.time as HrTime);
      for (const tr of t.tries) expect(us(tr.endTime)).toBeLessThanOrEqual(khs);
    });

    test('upstream resets the connection mid-body: the client is cut, the request span keeps the status that was sent', async () => {
      const s = await setup(kind, mode);
      const reply = await get(s.gw.port, '/api/cut');
      const [t] = await settled(s, 1, 1);
      expect(reply.status).toBe(200);
      expect(reply.ending).toBe('aborted');
      expect(reply.body.startsWith('partial')).toBe(true);
      expect(t.request.attributes['http.status_code']).toBe(200);
      expect(eventNames(t.proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
      expect(tryTags(t.tries[0])).toEqual({
        try: 1,
        error: undefined,
        state: undefined,
        status: undefined,
        port: s.upstream.port,
      });
      if (kind === 'reference') {
        expect(
          s.logs.lines.filter((l) =>
            l.startsWith('error upstream prematurely closed connection while reading upstream'),
          ),
        ).toHaveLength(1);
      }
    });

    test('upstream never answers: read timeout, 504, the try connected', async () => {
      const s = await setup(kind, mode);
      const started = Date.now();
      const reply = await get(s.gw.port, '/api/hang');
      const [t] = await settled(s, 1, 1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(READ_TIMEOUT - 5);
      expect(reply.status).toBe(504);
      if (kind === 'reference') {
        expect(reply.body).toBe('{"message":"The upstream server is timing out"}');
        expect(
          s.logs.lines.filter((l) =>
            l.startsWith(
              'error upstream timed out (110: Connection timed out) while reading response header from upstream',
            ),
          ),
        ).toHaveLength(1);
      }
      expect(t.request.attributes['http.status_code']).toBe(504);
      // The connection was up: the try ended at connect, long before the timeout; the proxy span lasted the wait.
      const tryUs = us(t.tries[0].endTime) - us(t.tries[0].startTime);
      expect(tryUs).toBeLessThan(READ_TIMEOUT * 1000);
      expect(us(t.proxy.endTime) - us(t.proxy.startTime)).toBeGreaterThanOrEqual((READ_TIMEOUT - 5) * 1000);
      expect(tryTags(t.tries[0])).toEqual({
        try: 1,
        error: undefined,
        state: undefined,
        status: undefined,
        port: s.upstream.port,
      });
      await s.upstream.abandoned(0);
      expect(s.upstream.requests[0].aborted).toBe(true);
    });

    test('client leaves before the response: 499, no header_filter', async () => {
      const s = await setup(kind, mode);
      const req = http.get({ host: '127.0.0.1', port: s.gw.port, path: '/api/slow', agent: false });
      const failure = new Promise<string>((r) => req.on('error', (err) => r(err.message)));
      await s.upstream.arrived(1);
      // A reused provider opened the request and proxy spans at access: they are open now.
      expect(s.ledger.open.size).toBe(mode === 'reused' ? 2 : 0);
      req.destroy();
      expect(await failure).toBe('socket hang up');
      const [t] = await settled(s, 1, 1);
      expect(t.request.attributes['http.status_code']).toBe(499);
      // No response headers went out: no khs; khf and kbf fall back to log time (Kong's fallbacks).
      expect(eventNames(t.proxy)).toEqual(['kas', 'kaf', 'khf', 'kbf']);
      expect(tryTags(t.tries[0])).toEqual({
        try: 1,
        error: undefined,
        state: undefined,
        status: undefined,
        port: s.upstream.port,
      });
      if (kind === 'reference') {
        // The gateway drops the upstream request at once.
        await s.upstream.abandoned(0);
        expect(s.upstream.requests[0].aborted).toBe(true);
      } else {
        // http-proxy may or may not abort the upstream request of a bodiless request whose
        // client left (it depends on whether Node had already ended the request stream); if
        // not, the upstream answers later, into the closed response. Either way the trace
        // stays as logged and nothing throws.
        await waitFor(() => s.upstream.requests[0].finished || s.upstream.requests[0].aborted);
        await sleep(50);
        const [again] = await settled(s, 1, 1);
        expect(again.request).toBe(t.request);
        expect(t.request.attributes['http.status_code']).toBe(499);
        expect(eventNames(t.proxy)).toEqual(['kas', 'kaf', 'khf', 'kbf']);
      }
    });

    test('client leaves mid-body: the status sent is kept, the upstream stream is dropped', async () => {
      const s = await setup(kind, mode);
      const received = await new Promise<number>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: s.gw.port, path: '/api/drip', agent: false }, (res) => {
          res.once('data', (c: Buffer) => {
            req.destroy();
            resolve(c.length);
          });
        });
        req.on('error', () => undefined);
      });
      expect(received).toBeGreaterThan(0);
      const [t] = await settled(s, 1, 1);
      expect(t.request.attributes['http.status_code']).toBe(200);
      expect(eventNames(t.proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
      await s.upstream.abandoned(0);
      expect(s.upstream.requests[0].aborted).toBe(true);
    });

    test('client leaves mid-upload: 499, the upstream request is dropped', async () => {
      const s = await setup(kind, mode);
      const socket = net.connect(s.gw.port, '127.0.0.1');
      socket.on('error', () => undefined);
      cleanup.push(async () => {
        socket.destroy();
      });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      // 300 kB of a 1 MB body, then the client is gone.
      socket.write(
        'POST /api/ok/upload HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1000000\r\n\r\n' + 'x'.repeat(300_000),
      );
      await s.upstream.arrived(1);
      await waitFor(() => s.upstream.requests[0].bytes === 300_000);
      socket.destroy();
      const [t] = await settled(s, 1, 1);
      expect(t.request.attributes['http.method']).toBe('POST');
      expect(t.request.attributes['http.status_code']).toBe(499);
      expect(eventNames(t.proxy)).toEqual(['kas', 'kaf', 'khf', 'kbf']);
      await s.upstream.abandoned(0);
      expect([s.upstream.requests[0].aborted, s.upstream.requests[0].bytes]).toEqual([true, 300_000]);
    });

    test('an 8 MiB request body streams through (never held whole): upstream gets every byte while the client still sends', async () => {
      const s = await setup(kind, mode);
      const chunk = 256 * 1024;
      const chunks = 32;
      const hash = createHash('sha256');
      const reply = new Promise<Outcome>((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: s.gw.port,
            path: '/api/sum',
            method: 'POST',
            agent: false,
            headers: { 'content-type': 'application/octet-stream' },
          },
          (res) => {
            let body = '';
            res.setEncoding('latin1');
            res.on('data', (c: string) => (body += c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body, ending: 'end', traceId: undefined, clientPort: 0 }),
            );
          },
        );
        req.on('error', (err) =>
          resolve({ status: 0, body: '', ending: err.message, traceId: undefined, clientPort: 0 }),
        );
        void (async () => {
          for (let i = 0; i < chunks; i++) {
            const data = randomBytes(chunk);
            hash.update(data);
            req.write(data);
            // Lock-step: the next chunk only goes once the upstream has this one. A path that
            // held the body until its end (buffering) would never get here.
            if (i === 0) await s.upstream.arrived(1);
            await waitFor(() => s.upstream.requests[0].bytes >= (i + 1) * chunk, 5000);
          }
          req.end();
        })();
      });
      const r = await reply;
      expect([r.status, r.body]).toEqual([200, `${chunk * chunks} ${hash.digest('hex')}`]);
      const [t] = await settled(s, 1, 1);
      expect(t.request.attributes['http.method']).toBe('POST');
      expect(t.request.attributes['http.status_code']).toBe(200);
    });

    test('keep-alive: one client connection and one upstream connection carry several requests, a timeout among them', async () => {
      const s = await setup(kind, mode);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      cleanup.push(async () => agent.destroy());
      const gatewaySide: net.Socket[] = [];
      s.gw.server.on('connection', (socket: net.Socket) => gatewaySide.push(socket));

      const replies: Outcome[] = [];
      const listenerCounts: string[] = [];
      const paths = ['/api/ok/1', '/api/ok/2', '/api/ok/3', '/api/hang/4', '/api/ok/5', '/api/ok/6', '/api/ok/7'];
      for (const path of paths) {
        replies.push(await get(s.gw.port, path, agent));
        if (path.endsWith('/3') || path.endsWith('/7')) {
          await waitFor(() => s.ledger.open.size === 0);
          listenerCounts.push(describeListeners(gatewaySide[0]) + ' | ' + describeListeners(freeSocket(s.gw.agent)));
        }
      }
      const spans = await settled(s, paths.length, 1);

      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 504, 200, 200, 200]);
      // One client connection for all of them (the gateway keeps it after its own 504).
      expect(gatewaySide).toHaveLength(1);
      expect(new Set(replies.map((r) => r.clientPort)).size).toBe(1);
      // Upstream: one connection until the timeout killed it, then one more.
      expect(s.upstream.requests.map((r) => r.connection)).toEqual([0, 0, 0, 0, 1, 1, 1]);
      // Each request its own trace, in order, with the client connection's port.
      expect(spans.map((t) => t.request.spanContext().traceId)).toEqual(replies.map((r) => r.traceId));
      expect(spans.map((t) => t.request.attributes['http.status_code'])).toEqual([200, 200, 200, 504, 200, 200, 200]);
      expect(spans.map((t) => t.request.attributes['network.peer.port'])).toEqual(
        paths.map(() => replies[0].clientPort),
      );
      expect(spans.map((t) => t.tries[0].attributes['network.peer.port'])).toEqual(paths.map(() => s.upstream.port));
      // Every try, on a new or a reused upstream connection, ended when its connection was
      // there: before the response headers went downstream (not left open until log).
      for (const t of spans)
        expect(us(t.tries[0].endTime)).toBeLessThanOrEqual(
          us(t.proxy.events.find((e) => e.name === 'khs')?.time as HrTime),
        );
      // Per-request listeners do not pile up on either connection.
      expect(listenerCounts[1]).toBe(listenerCounts[0]);
    });

    test('HTTP/1.0 without keep-alive: answered, connection closed, http.protocol HTTP/1 (Kong prints 1.0 so)', async () => {
      const s = await setup(kind, mode);
      const { responses, closedByServer } = await rawExchange(s.gw.port, [
        'GET /api/ok/10 HTTP/1.0\r\nHost: gw.test\r\n\r\n',
      ]);
      expect(responses.map((r) => [r.status, r.body])).toEqual([[200, 'ok /ok/10']]);
      expect(closedByServer).toBe(true);
      const [t] = await settled(s, 1, 1);
      expect(requestTags(t.request)).toEqual({
        'http.method': 'GET',
        'http.path': '/api/ok/10',
        'http.protocol': 'HTTP/1',
        'http.status_code': 200,
      });
      expect(t.request.attributes['http.host']).toBe('gw.test');
    });

    test('HTTP/1.0 with keep-alive: two requests on one connection, each traced', async () => {
      const s = await setup(kind, mode);
      const request = (n: number): string =>
        `GET /api/ok/${n} HTTP/1.0\r\nHost: gw.test\r\nConnection: keep-alive\r\n\r\n`;
      const { responses, closedByServer } = await rawExchange(s.gw.port, [request(1), request(2)]);
      expect(responses.map((r) => [r.status, r.body, r.connection])).toEqual([
        [200, 'ok /ok/1', 'keep-alive'],
        [200, 'ok /ok/2', 'keep-alive'],
      ]);
      expect(closedByServer).toBe(false);
      const spans = await settled(s, 2, 1);
      expect(
        spans.map((t) => [
          t.request.attributes['http.path'],
          t.request.attributes['http.protocol'],
          t.request.attributes['http.status_code'],
        ]),
      ).toEqual([
        ['/api/ok/1', 'HTTP/1', 200],
        ['/api/ok/2', 'HTTP/1', 200],
      ]);
      expect(spans[0].request.attributes['network.peer.port']).toBe(spans[1].request.attributes['network.peer.port']);
    });

    test('pipelined requests on one connection: answered in order, each traced, no listener left on the connection', async () => {
      const s = await setup(kind, mode);
      const gatewaySide: net.Socket[] = [];
      s.gw.server.on('connection', (socket: net.Socket) => gatewaySide.push(socket));
      const request = (n: number): string => `GET /api/ok/${n} HTTP/1.1\r\nHost: gw.test\r\n\r\n`;
      const listeners: string[] = [];
      // One request alone, then four pipelined, on the same connection.
      const { responses } = await rawExchange(
        s.gw.port,
        [[request(1)], [request(2), request(3), request(4), request(5)]],
        () => listeners.push(describeListeners(gatewaySide[0])),
      );
      expect(responses.map((r) => [r.status, r.body])).toEqual([1, 2, 3, 4, 5].map((n) => [200, `ok /ok/${n}`]));
      const spans = await settled(s, 5, 1);
      expect(spans.map((t) => [t.request.attributes['http.path'], t.request.attributes['http.status_code']])).toEqual(
        [1, 2, 3, 4, 5].map((n) => [`/api/ok/${n}`, 200]),
      );
      // The queued responses' watch on the connection is gone once they were sent.
      expect(gatewaySide).toHaveLength(1);
      expect(listeners[1]).toBe(listeners[0]);
    });

    test('pipelined requests and the client leaves: the queued ones are logged 499 too, no span left open', async () => {
      const s = await setup(kind, mode);
      const socket = net.connect(s.gw.port, '127.0.0.1');
      socket.on('error', () => undefined);
      cleanup.push(async () => {
        socket.destroy();
      });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write([1, 2, 3].map((n) => `GET /api/slow/${n} HTTP/1.1\r\nHost: gw.test\r\n\r\n`).join(''));
      // Node hands all three to the gateway at once; each reaches the upstream.
      await s.upstream.arrived(3);
      expect(s.ledger.open.size).toBe(mode === 'reused' ? 6 : 0);
      socket.destroy();
      const spans = await settled(s, 3, 1);
      expect(
        spans.map((t) => [t.request.attributes['http.path'], t.request.attributes['http.status_code']]).sort(),
      ).toEqual([1, 2, 3].map((n) => [`/api/slow/${n}`, 499]));
      for (const t of spans) expect(eventNames(t.proxy)).toEqual(['kas', 'kaf', 'khf', 'kbf']);
      if (kind === 'reference') {
        // The gateway drops every upstream request of the connection.
        await Promise.all([0, 1, 2].map((i) => s.upstream.abandoned(i)));
        expect(s.upstream.requests.map((r) => r.aborted)).toEqual([true, true, true]);
      }
    });
  });
});

describe('reference gateway retries', () => {
  test.each(modes)(
    '%s: a refused target, then a good one: two tries, the first tagged failed, the response is the upstream one',
    async (_l, mode) => {
      const down = await closedPort();
      const up = await startFaultyUpstream();
      cleanup.push(() => up.close());
      const s = await setup('reference', mode, { targets: [`127.0.0.1:${down}`, `127.0.0.1:${up.port}`], retries: 1 });
      const reply = await get(s.gw.port, '/api/ok/retried');
      expect([reply.status, reply.body]).toEqual([200, 'ok /ok/retried']);
      const [t] = await settled(s, 1, 2);
      expect(tryTags(t.tries[0])).toEqual({ try: 1, error: true, state: 'failed', status: 502, port: down });
      expect(tryTags(t.tries[1])).toEqual({
        try: 2,
        error: undefined,
        state: undefined,
        status: undefined,
        port: up.port,
      });
      expect(t.request.attributes['http.status_code']).toBe(200);
      expect(t.proxy.attributes['network.peer.port']).toBe(up.port);
    },
  );
});

describe('reference gateway: a 3 MiB body and a refused first target', () => {
  test.each(modes)('%s: the whole body is replayed to the second target, two tries', async (_l, mode) => {
    const down = await closedPort();
    const up = await startFaultyUpstream();
    cleanup.push(() => up.close());
    const s = await setup('reference', mode, { targets: [`127.0.0.1:${down}`, `127.0.0.1:${up.port}`], retries: 1 });
    const body = randomBytes(3 * 1024 * 1024);
    const reply = await new Promise<string>((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port: s.gw.port, path: '/api/sum', method: 'POST', agent: false },
        (res) => {
          let text = '';
          res.setEncoding('latin1');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        },
      );
      req.on('error', (err) => resolve(err.message));
      // In pieces, so that the connection failure happens while the body is still coming.
      let offset = 0;
      const pump = (): void => {
        if (offset >= body.length) {
          req.end();
          return;
        }
        req.write(body.subarray(offset, offset + 256 * 1024));
        offset += 256 * 1024;
        setImmediate(pump);
      };
      pump();
    });
    expect(reply).toBe(`200 ${body.length} ${createHash('sha256').update(body).digest('hex')}`);
    const [t] = await settled(s, 1, 2);
    expect(tryTags(t.tries[0])).toEqual({ try: 1, error: true, state: 'failed', status: 502, port: down });
    expect(t.request.attributes['http.status_code']).toBe(200);
  });
});

describe.each(modes)('reference gateway stream proxy (TCP), %s', (_l, mode) => {
  async function streamSetup(targets: (port: number) => string[], retries: number) {
    const logs = lineLogger();
    const echo = await startTcpEcho();
    cleanup.push(() => echo.close());
    const { plugin, ledger } = tracedPlugin(CONFIG, mode, logs);
    const gw = await streamGateway(plugin, logs, targets(echo.port), retries);
    cleanup.push(() => gw.close());
    return { logs, echo, ledger, gw };
  }

  /** Connects, sends `ping`, resolves with the socket once `ping` came back. */
  async function pinged(port: number): Promise<net.Socket> {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    cleanup.push(async () => {
      socket.destroy();
    });
    socket.setEncoding('latin1');
    let got = '';
    await new Promise<void>((resolve) => {
      socket.on('data', (c: string) => {
        got += c;
        if (got === 'ping') resolve();
      });
      socket.write('ping');
    });
    return socket;
  }

  test('a refused target, then the echo: two tries, the first failed; the spans end when the client closes', async () => {
    const down = await closedPort();
    const s = await streamSetup((echo) => [`127.0.0.1:${down}`, `127.0.0.1:${echo}`], 1);
    const socket = await pinged(s.gw.port);
    // The session is open: nothing is logged yet.
    expect(s.ledger.ended).toBe(0);
    socket.end();
    await new Promise((r) => socket.once('close', r));
    const [t] = await settled(s, 1, 2);
    expect(t.request.name).toBe('stream');
    expect(t.request.attributes['http.status_code']).toBeUndefined();
    expect(eventNames(t.proxy)).toEqual(['kps', 'kpf']);
    expect([
      t.tries[0].attributes['error'],
      t.tries[0].attributes['kong.balancer.state'],
      t.tries[0].attributes['network.peer.port'],
    ]).toEqual([true, 'failed', down]);
    expect([t.tries[1].attributes['error'], t.tries[1].attributes['network.peer.port']]).toEqual([
      undefined,
      s.echo.port,
    ]);
    expect(
      s.logs.lines.filter((l) =>
        l.startsWith('error connect() failed (111: Connection refused) while connecting to upstream'),
      ),
    ).toHaveLength(1);
  });

  test('every target refuses: the client connection is closed, two tries, spans ended', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const s = await streamSetup(() => [`127.0.0.1:${a}`, `127.0.0.1:${b}`], 1);
    const socket = net.connect(s.gw.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.resume();
    await new Promise((r) => socket.once('close', r));
    const [t] = await settled(s, 1, 2);
    expect(t.tries.map((x) => [x.attributes['error'], x.attributes['network.peer.port']])).toEqual([
      [true, a],
      [undefined, b],
    ]);
  });

  test('the client resets mid-session: the upstream connection is closed, spans ended once', async () => {
    const s = await streamSetup((echo) => [`127.0.0.1:${echo}`], 0);
    const socket = await pinged(s.gw.port);
    socket.resetAndDestroy();
    const [t] = await settled(s, 1, 1);
    expect(t.tries[0].attributes['error']).toBeUndefined();
    await waitFor(() => s.echo.sockets.length === 1 && s.echo.sockets[0].destroyed);
  });

  test('the upstream resets mid-session: the client connection is closed, spans ended once', async () => {
    const s = await streamSetup((echo) => [`127.0.0.1:${echo}`], 0);
    const socket = await pinged(s.gw.port);
    const closed = new Promise((r) => socket.once('close', r));
    s.echo.sockets[0].resetAndDestroy();
    await closed;
    await settled(s, 1, 1);
  });
});

// ------------------------------------------------------------------ helpers

function describeListeners(socket: net.Socket | undefined): string {
  if (socket === undefined) return 'none';
  return socket
    .eventNames()
    .map((e) => `${String(e)}=${socket.listenerCount(e)}`)
    .sort()
    .join(',');
}

function freeSocket(agent: http.Agent): net.Socket | undefined {
  for (const list of Object.values(agent.freeSockets)) if (list !== undefined && list.length > 0) return list[0];
  return undefined;
}

interface RawResponse {
  status: number;
  body: string;
  connection: string | undefined;
}

/**
 * Writes raw requests on one TCP connection, batch after batch (a string is a batch of
 * one; a batch is written at once: pipelined), each batch once the previous one's
 * responses were read whole (by their content-length); reports whether the server closed
 * the connection after the last response.
 */
async function rawExchange(
  port: number,
  requests: string[] | string[][],
  afterBatch?: (batch: number) => void,
): Promise<{ responses: RawResponse[]; closedByServer: boolean }> {
  const batches: string[][] = requests.map((r) => (typeof r === 'string' ? [r] : r));
  const socket = net.connect(port, '127.0.0.1');
  cleanup.push(async () => {
    socket.destroy();
  });
  socket.setEncoding('latin1');
  let buffer = '';
  let ended = false;
  socket.on('data', (c: string) => (buffer += c));
  socket.on('end', () => (ended = true));
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const responses: RawResponse[] = [];
  for (let b = 0; b < batches.length; b++) {
    socket.write(batches[b].join(''));
    for (let i = 0; i < batches[b].length; i++) {
      let parsed: RawResponse | undefined;
      await waitFor(() => {
        const headEnd = buffer.indexOf('\r\n\r\n');
        if (headEnd === -1) return false;
        const head = buffer.slice(0, headEnd);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? -1);
        if (length < 0 || buffer.length < headEnd + 4 + length) return false;
        parsed = {
          status: Number(head.slice(9, 12)),
          body: buffer.slice(headEnd + 4, headEnd + 4 + length),
          connection: /\r\nconnection: *([^\r]*)/i.exec(head)?.[1]?.toLowerCase(),
        };
        buffer = buffer.slice(headEnd + 4 + length);
        return true;
      });
      responses.push(parsed as RawResponse);
    }
    await sleep(20);
    afterBatch?.(b);
  }
  await sleep(80);
  return { responses, closedByServer: ended };
}
