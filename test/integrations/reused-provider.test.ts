import { SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createZipkinPlugin } from '../../src/plugin';
import {
  captureLogger,
  eventNames,
  kongSpans,
  type Listening,
  NODE_ID,
  send,
  SERVICE,
  startGateway,
  startUpstream,
  tags,
  upstreamHeaders,
  waitForSpans,
} from './helpers';

const T = '463ac35c9f6413ad48485a3953bb6124';
const S = 'a2fb4a1d1a96d312';

let upstream: Listening;
const open: Listening[] = [];
beforeAll(async () => {
  upstream = await startUpstream();
});
afterEach(async () => {
  while (open.length > 0) await (open.pop() as Listening).close();
});
afterAll(async () => {
  await upstream.close();
});

class CountingProcessor implements SpanProcessor {
  started = 0;
  onStart(_span: Span): void {
    this.started++;
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function userProvider(sampler?: AlwaysOffSampler) {
  const exporter = new InMemorySpanExporter();
  const counter = new CountingProcessor();
  const provider = new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter), counter] });
  return { provider, exporter, counter };
}

describe('reusing the service’s own OTel provider', () => {
  test('spans go to the user’s exporter; request span is a child of the incoming b3 span (no shared span)', async () => {
    const { provider, exporter } = userProvider();
    const plugin = createZipkinPlugin(
      { sample_ratio: 1 },
      { tracerProvider: provider, logger: captureLogger(), nodeId: NODE_ID },
    );
    expect(plugin.ownsProvider).toBe(false);
    const gw = await startGateway(plugin, upstream.port);
    open.push(gw);
    const reply = await send(gw.port, '/api/x', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    const spans = await waitForSpans(exporter, 3);
    expect(spans.map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);
    const { request, proxy, balancers } = kongSpans(spans);
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.spanContext().traceId).toBe(T);
    expect(request.spanContext().spanId).not.toBe(S);
    expect(request.parentSpanContext?.spanId).toBe(S);
    expect(request.parentSpanContext?.isRemote).toBe(true);
    expect(proxy.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(balancers[0].parentSpanContext?.spanId).toBe(request.spanContext().spanId);

    // What went upstream is what was exported.
    const h = upstreamHeaders(reply);
    expect(h['x-b3-traceid']).toBe(T);
    expect(h['x-b3-spanid']).toBe(proxy.spanContext().spanId);
    expect(h['x-b3-parentspanid']).toBe(request.spanContext().spanId);
    expect(h['x-b3-sampled']).toBe('1');

    // Same tags and annotations as with the plugin's own provider.
    expect(tags(request)).toEqual({
      lc: 'kong',
      'http.method': 'GET',
      'http.host': '127.0.0.1',
      'http.path': '/api/x',
      'http.protocol': 'HTTP/1.1',
      'http.status_code': '200',
      'kong.node.id': NODE_ID,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': String(reply.clientPort),
    });
    expect(tags(proxy)['kong.service_name']).toBe(SERVICE.name);
    expect(eventNames(request)).toEqual(['krf', 'krs']);
    expect(eventNames(proxy)).toEqual(['khs', 'khf', 'kbs', 'kas', 'kaf', 'kbf']);
  });

  test('traceid_byte_count 8 does not apply: the provider generates 128-bit trace ids', async () => {
    const { provider, exporter } = userProvider();
    const plugin = createZipkinPlugin(
      { sample_ratio: 1, traceid_byte_count: 8, http_response_header_for_traceid: 'X-Trace-Id' },
      { tracerProvider: provider, logger: captureLogger() },
    );
    const gw = await startGateway(plugin, upstream.port);
    open.push(gw);
    const reply = await send(gw.port, '/api/x');
    const { request } = kongSpans(await waitForSpans(exporter, 3));
    expect(reply.headers['x-trace-id']).toBe(request.spanContext().traceId);
    expect(request.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(request.attributes['gateway_zipkin.trace_id_bytes']).toBeUndefined();
  });

  test('unmatched request: request and proxy spans', async () => {
    const { provider, exporter } = userProvider();
    const plugin = createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: provider, logger: captureLogger() });
    const gw = await startGateway(plugin, upstream.port);
    open.push(gw);
    await send(gw.port, '/nope');
    const spans = await waitForSpans(exporter, 2);
    expect(spans.map((s) => s.name)).toEqual(['GET (proxy)', 'GET']);
    expect(tags(kongSpans(spans).proxy)).toEqual({});
  });

  test('Kong decides not to sample: no span is even started in the user’s provider', async () => {
    const { provider, exporter, counter } = userProvider();
    const plugin = createZipkinPlugin({ sample_ratio: 0 }, { tracerProvider: provider, logger: captureLogger() });
    const gw = await startGateway(plugin, upstream.port);
    open.push(gw);
    const reply = await send(gw.port, '/api/x');
    await new Promise((r) => setTimeout(r, 50));
    expect(counter.started).toBe(0);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(upstreamHeaders(reply)['x-b3-sampled']).toBe('0');
  });

  test('the provider’s sampler has the last word, and its decision propagates', async () => {
    const { provider, exporter } = userProvider(new AlwaysOffSampler());
    const plugin = createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: provider, logger: captureLogger() });
    const gw = await startGateway(plugin, upstream.port);
    open.push(gw);
    const reply = await send(gw.port, '/api/x');
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans()).toEqual([]);
    const h = upstreamHeaders(reply);
    expect(h['x-b3-sampled']).toBe('0');
    expect(h['x-b3-spanid']).toMatch(/^[0-9a-f]{16}$/);
  });

  test('shutdown only flushes a reused provider', async () => {
    const { provider } = userProvider();
    const plugin = createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: provider, logger: captureLogger() });
    await plugin.shutdown();
    // The provider still works: a span started afterwards is recording.
    const span = provider.getTracer('t').startSpan('after');
    expect(span.isRecording()).toBe(true);
    span.end();
  });
});

describe('next to other OTel instrumentation (a registered context manager and an active span)', () => {
  // Stands in for an http instrumentation: the request handler runs inside its SERVER span.
  test('the plugin’s spans do not nest under the active span, and the proxy runs with tracing suppressed', async () => {
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { isTracingSuppressed } = await import('@opentelemetry/core');
    const express = (await import('express')).default;
    const http = await import('node:http');
    const { createProxyMiddleware } = await import('http-proxy-middleware');
    const { zipkinMiddleware, zipkinProxyPlugin, zipkinRoute } = await import('../../src/integrations');
    const { listen } = await import('./helpers');

    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const { provider, exporter } = userProvider();
      const instrumentationSpan = provider
        .getTracer('instrumentation')
        .startSpan('GET (instrumentation)', { kind: SpanKind.SERVER });
      const plugin = createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: provider, logger: captureLogger() });
      const seen: boolean[] = [];
      const app = express();
      app.use(zipkinMiddleware(plugin));
      app.use(
        '/api',
        zipkinRoute(plugin, null),
        (_req, _res, next) => {
          seen.push(isTracingSuppressed(context.active()));
          next();
        },
        createProxyMiddleware({ target: `http://127.0.0.1:${upstream.port}`, plugins: [zipkinProxyPlugin(plugin)] }),
      );
      const gw = await listen(
        http.createServer((req, res) =>
          context.with(trace.setSpan(context.active(), instrumentationSpan), () => app(req, res)),
        ),
      );
      open.push(gw);
      await send(gw.port, '/api/x');
      const spans = await waitForSpans(exporter, 3);
      const { request } = kongSpans(spans);
      expect(request.parentSpanContext).toBeUndefined();
      expect(request.spanContext().traceId).not.toBe(instrumentationSpan.spanContext().traceId);
      expect(seen).toEqual([true]);
      instrumentationSpan.end();
    } finally {
      context.disable();
    }
  });
});
