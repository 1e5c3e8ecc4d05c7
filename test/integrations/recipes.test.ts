/**
 * The README's recipes, run as a user runs them: each built example is a child process with
 * the real OpenTelemetry packages (NodeSDK or a NodeTracerProvider, instrumentation-http and
 * -express, the OTLP HTTP exporter) sending to a local OTLP receiver that decodes what it gets, in front of a
 * real echo upstream. Instrumentations patch modules only outside jest, hence the child
 * processes. Needs `npm run build` first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { startReceiver } from '../../src/receiver/receiver';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../support/otlp-receiver';
import { type Listening, send, startUpstream, upstreamHeaders } from './helpers';

const BUILD = resolve(__dirname, '../../build/examples/recipes');
const T = '463ac35c9f6413ad48485a3953bb6124';
const S = 'a2fb4a1d1a96d312';
const SERVER = 2;
const CLIENT = 3;

interface Running {
  port: number;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Promise<Running> {
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...env, OTEL_BSP_SCHEDULE_DELAY: '60000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolvePort, reject) => {
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${err}`)));
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m === null) return;
      child.removeAllListeners('exit');
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      resolvePort({
        port: Number(m[1]),
        stderr: () => err,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

const byScope = (spans: readonly OtlpSpan[], scope: string) => spans.filter((s) => s.scope === scope);

let upstream: Listening;
let otlp: OtlpReceiver;
beforeAll(async () => {
  upstream = await startUpstream();
});
beforeEach(async () => {
  otlp = await startOtlpReceiver();
});
afterEach(async () => {
  await otlp.close();
});
afterAll(async () => {
  await upstream.close();
});

describe('recipe: NodeSDK service with a gateway path', () => {
  const args = ['--require', resolve(BUILD, 'nodesdk/instrumentation.js'), resolve(BUILD, 'nodesdk/service.js')];

  test("one SERVER span per gateway request (Kong's), one trace context upstream with Kong's proxy span as parent, own routes untouched, nothing lost on SIGTERM", async () => {
    const svc = await run(args, { UPSTREAM: `http://127.0.0.1:${upstream.port}`, OTLP_ENDPOINT: otlp.url });
    const b3 = await send(svc.port, '/gateway/items', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    const none = await send(svc.port, '/gateway/other');
    const own = await send(svc.port, '/own');
    expect([b3.status, none.status, own.status]).toEqual([200, 200, 200]);
    // The batch processor waits a minute: only the SIGTERM flush delivers.
    expect(await svc.stop()).toBe(0);

    const kong = byScope(otlp.spans, 'gateway-zipkin');
    const http = byScope(otlp.spans, '@opentelemetry/instrumentation-http');
    const expressSpans = byScope(otlp.spans, '@opentelemetry/instrumentation-express');
    expect(kong.map((s) => s.name).sort()).toEqual(
      ['GET', 'GET (balancer try 1)', 'GET (proxy)', 'GET', 'GET (balancer try 1)', 'GET (proxy)'].sort(),
    );
    expect(kong.every((s) => s.service === 'orders-service')).toBe(true);

    // b3 in: the upstream gets Kong's b3 only, parented on Kong's proxy span.
    const h = upstreamHeaders(b3);
    const request = kong.find((s) => s.traceId === T && s.kind === SERVER) as OtlpSpan;
    const proxy = kong.find((s) => s.traceId === T && s.name === 'GET (proxy)') as OtlpSpan;
    expect(request.parentSpanId).toBe(S);
    expect(proxy.kind).toBe(CLIENT);
    expect(proxy.parentSpanId).toBe(request.spanId);
    expect([h['x-b3-traceid'], h['x-b3-spanid'], h['x-b3-parentspanid'], h['x-b3-sampled']]).toEqual([
      T,
      proxy.spanId,
      request.spanId,
      '1',
    ]);
    expect(h.traceparent).toBeUndefined();

    // No headers in: Kong's default_format (b3) only, a new trace, no second one in traceparent.
    const h2 = upstreamHeaders(none);
    expect(h2.traceparent).toBeUndefined();
    const proxy2 = kong.find((s) => s.traceId !== T && s.name === 'GET (proxy)') as OtlpSpan;
    expect([h2['x-b3-traceid'], h2['x-b3-spanid']]).toEqual([proxy2.traceId, proxy2.spanId]);

    // Exactly one SERVER span per gateway request; the own route keeps the SDK's.
    const servers = otlp.spans.filter((s) => s.kind === SERVER);
    expect(servers.map((s) => `${s.scope} ${s.name}`).sort()).toEqual(
      ['@opentelemetry/instrumentation-http GET /own', 'gateway-zipkin GET', 'gateway-zipkin GET'].sort(),
    );
    expect(http.map((s) => s.name)).toEqual(['GET /own']);
    expect(expressSpans.every((s) => s.traceId === http[0].traceId)).toBe(true);
    expect(own.headers['x-b3-traceid']).toBeUndefined();
    expect(svc.stderr()).toBe('');
  }, 30_000);
});

describe('recipe: a service that registers its own provider', () => {
  const args = ['--require', resolve(BUILD, 'own-provider/tracing.js'), resolve(BUILD, 'own-provider/service.js')];

  test("Kong's spans through the provider's exporter, one SERVER span per gateway request, Kong's propagation upstream; the own route keeps the instrumentation's spans and the registered propagator", async () => {
    const svc = await run(args, { UPSTREAM: `http://127.0.0.1:${upstream.port}`, OTLP_ENDPOINT: otlp.url });
    const gw = await send(svc.port, '/gateway/invoices', { traceparent: `00-${T}-${S}-01` });
    const own = await send(svc.port, '/own/call');
    expect([gw.status, own.status]).toEqual([200, 200]);
    expect(await svc.stop()).toBe(0);

    const kong = byScope(otlp.spans, 'gateway-zipkin');
    const http = byScope(otlp.spans, '@opentelemetry/instrumentation-http');
    expect(kong.map((s) => s.name).sort()).toEqual(['GET', 'GET (balancer try 1)', 'GET (proxy)']);
    expect(otlp.spans.every((s) => s.service === 'billing-service')).toBe(true);
    const request = kong.find((s) => s.kind === SERVER) as OtlpSpan;
    const proxy = kong.find((s) => s.name === 'GET (proxy)') as OtlpSpan;
    expect([request.traceId, request.parentSpanId, proxy.parentSpanId]).toEqual([T, S, request.spanId]);

    // W3C in, b3 out (Kong's default_format: preserve keeps w3c, so the upstream gets traceparent only).
    const h = upstreamHeaders(gw);
    expect(h.traceparent).toBe(`00-${T}-${proxy.spanId}-01`);
    expect(h['x-b3-traceid']).toBeUndefined();

    // The own route: the instrumentation's SERVER and CLIENT spans, the client call injected
    // by the registered Kong propagator (b3, its default_format, for a new trace).
    expect(http.map((s) => `${s.kind} ${s.name}`).sort()).toEqual([`${SERVER} GET`, `${CLIENT} GET`].sort());
    const client = http.find((s) => s.kind === CLIENT) as OtlpSpan;
    const server = http.find((s) => s.kind === SERVER) as OtlpSpan;
    expect(client.parentSpanId).toBe(server.spanId);
    const ownUp = JSON.parse(own.body) as { headers: Record<string, string> };
    expect([ownUp.headers['x-b3-traceid'], ownUp.headers['x-b3-spanid'], ownUp.headers['x-b3-sampled']]).toEqual([
      client.traceId,
      client.spanId,
      '1',
    ]);
    expect(ownUp.headers.traceparent).toBeUndefined();

    // Exactly one SERVER span per request: Kong's for the gateway one, the instrumentation's for the own one.
    expect(
      otlp.spans
        .filter((s) => s.kind === SERVER)
        .map((s) => s.scope)
        .sort(),
    ).toEqual(['@opentelemetry/instrumentation-http', 'gateway-zipkin'].sort());
    expect(svc.stderr()).toBe('');
  }, 30_000);
});

describe('recipe: Express + http-proxy-middleware, no other OpenTelemetry', () => {
  const nullOut = () => new Writable({ write: (_c, _e, done) => done() });

  async function withZipkin(preload: string[]) {
    const zipkin = await startReceiver({ port: 0, out: nullOut(), errOut: nullOut() });
    const svc = await run([...preload, resolve(BUILD, 'express-hpm.js')], {
      UPSTREAM: `http://127.0.0.1:${upstream.port}`,
      ZIPKIN_ENDPOINT: zipkin.url,
    });
    return { zipkin, svc };
  }

  test("gateway requests get Kong's three spans in Zipkin and the trace id header; /health is not traced", async () => {
    const { zipkin, svc } = await withZipkin([]);
    try {
      const gw = await send(svc.port, '/gateway/items', { traceparent: `00-${T}-${S}-01` });
      const health = await send(svc.port, '/health');
      expect(await svc.stop()).toBe(0);
      expect(gw.headers['x-trace-id']).toBe(T);
      expect(health.headers['x-trace-id']).toBeUndefined();
      const spans = zipkin.spans;
      expect(spans.map((s) => s.name).sort()).toEqual(['GET', 'GET (balancer try 1)', 'GET (proxy)']);
      expect(spans.every((s) => s.traceId === T)).toBe(true);
      const proxy = spans.find((s) => s.name === 'GET (proxy)');
      expect(upstreamHeaders(gw).traceparent).toBe(`00-${T}-${proxy?.id}-01`);
      expect(svc.stderr()).toBe('');
    } finally {
      await zipkin.close();
    }
  }, 30_000);

  test("beside an http instrumentation left on the gateway path, Kong's headers are restored and the setup is warned about once", async () => {
    const { zipkin, svc } = await withZipkin([
      '--require',
      resolve(__dirname, '../../build/test/support/naive-otel.js'),
    ]);
    try {
      const first = await send(svc.port, '/gateway/a', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
      const second = await send(svc.port, '/gateway/b', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
      expect(await svc.stop()).toBe(0);
      for (const reply of [first, second]) {
        const h = upstreamHeaders(reply);
        expect(h.traceparent).toBeUndefined();
        expect(h['x-b3-traceid']).toBe(T);
      }
      const proxies = zipkin.spans.filter((s) => s.name === 'GET (proxy)').map((s) => s.id);
      expect(proxies.sort()).toEqual(
        [upstreamHeaders(first)['x-b3-spanid'], upstreamHeaders(second)['x-b3-spanid']].sort(),
      );
      expect(svc.stderr()).toBe(
        "warn another instrumentation changed the upstream request's trace headers (traceparent); Kong's were restored. " +
          "Keep it off the gateway's requests: ignoreGatewayRequests() as the http instrumentation's ignoreIncomingRequestHook, or zipkinRoute() before the proxy\n",
      );
    } finally {
      await zipkin.close();
    }
  }, 30_000);
});
