/**
 * Nothing lost on exit with a reused provider: `forceFlush` / `shutdown` reach the delegate
 * of a `ProxyTracerProvider` (what `trace.getTracerProvider()` returns to NodeSDK users),
 * an unflushable provider is said in a warning, Kong's delivery fields beside a reused
 * provider are said in a warning, and `shutdownTimeoutMillis` bounds the default reporter's
 * drain against a collector that never answers.
 */
import * as http from 'node:http';
import { ProxyTracerProvider } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createZipkinPlugin } from '../../src/plugin';
import { captureLogger, type Listening, listen, NODE_ID, send, startGateway, startUpstream } from './helpers';

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

/** A batch processor that would hold spans for a minute: only a flush delivers them. */
function slowBatchProvider() {
  const exporter = new InMemorySpanExporter();
  const sdk = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 })],
  });
  return { sdk, exporter };
}

describe('a reused provider behind a ProxyTracerProvider', () => {
  test('forceFlush and shutdown reach the delegate: both spans of the request are delivered', async () => {
    const { sdk, exporter } = slowBatchProvider();
    const proxy = new ProxyTracerProvider();
    proxy.setDelegate(sdk);
    const logs = captureLogger();
    const plugin = createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: proxy, logger: logs, nodeId: NODE_ID });
    const gw = await startGateway(plugin, upstream.port);
    open.push(gw);
    await send(gw.port, '/api/x');
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await plugin.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET (balancer try 1)', 'GET (proxy)', 'GET']);

    await send(gw.port, '/api/y');
    await plugin.shutdown();
    expect(exporter.getFinishedSpans()).toHaveLength(6);
    expect(logs.lines).toEqual([]);
    await sdk.shutdown();
  });

  test('a provider that cannot flush (no SDK registered yet) is said once', async () => {
    const logs = captureLogger();
    const plugin = createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: new ProxyTracerProvider(), logger: logs });
    await plugin.forceFlush();
    await plugin.shutdown();
    expect(logs.lines).toEqual([
      'warn the tracer provider has no forceFlush (is the OpenTelemetry SDK started?): spans it holds are not flushed',
    ]);
  });

  test('http_endpoint or queue beside tracerProvider (or spanProcessors) is said at start', () => {
    const logs = captureLogger();
    createZipkinPlugin(
      { http_endpoint: 'http://127.0.0.1:9411/api/v2/spans' },
      { tracerProvider: new ProxyTracerProvider(), logger: logs },
    );
    createZipkinPlugin({ queue: { max_batch_size: 10 } }, { spanProcessors: [], logger: logs });
    createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: new ProxyTracerProvider(), logger: logs });
    expect(logs.lines).toEqual([
      "warn http_endpoint and queue are not used with options.tracerProvider: Kong's spans go to that provider's span processors (add createZipkinReporter(config, { pluginId }) to them to report to http_endpoint)",
      "warn http_endpoint and queue are not used with options.spanProcessors: Kong's spans go to that provider's span processors (add createZipkinReporter(config, { pluginId }) to them to report to http_endpoint)",
    ]);
  });
});

describe('shutdownTimeoutMillis', () => {
  test('the default reporter stops at the deadline against a collector that never answers; the loss is counted and logged', async () => {
    const hanging = http.createServer(() => {
      /* never answers */
    });
    const collector = await listen(hanging);
    open.push(collector);
    const logs = captureLogger();
    const plugin = createZipkinPlugin(
      {
        sample_ratio: 1,
        http_endpoint: `http://127.0.0.1:${collector.port}/api/v2/spans`,
        queue: { max_batch_size: 200, max_coalescing_delay: 0 },
      },
      { logger: logs, pluginId: 'p1', shutdownTimeoutMillis: 300 },
    );
    const gw = await startGateway(plugin, upstream.port);
    open.push(gw);
    await send(gw.port, '/api/x');
    const started = performance.now();
    await plugin.shutdown();
    const took = performance.now() - started;
    expect(took).toBeLessThan(2000); // without the deadline: max_retry_time 60 s + POST timeouts
    expect(plugin.health()).toMatchObject({ queued: 3, sent: 0, dropped: expect.objectContaining({ shutdown: 3 }) });
    expect(logs.lines.filter((l) => !l.startsWith('debug'))).toEqual([
      'warn [zipkin plugin p1] queue p1: handler could not process entries: shutdown deadline reached',
      'error [zipkin plugin p1] queue p1: could not send entries before the shutdown deadline. 1 queue entries were lost',
      'error [zipkin plugin p1] queue p1: could not send entries before the shutdown deadline. 2 queue entries were lost',
      'warn exporter shutdown did not complete within 1 ms',
    ]);
  });
});
