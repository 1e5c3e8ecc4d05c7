/**
 * A service that already runs an OTel SDK: the plugin reuses its provider, so Kong's
 * spans go to the service's own exporters (a console exporter here; OTLP works the same).
 *
 *     npm run build && node build/examples/otel-reuse.js
 *
 * With a reused provider the request span is a child of the incoming span instead of
 * sharing its id, and the provider's sampler has the last word (see the README).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { zipkinMiddleware, zipkinProxyPlugin, zipkinRoute } from '../src/integrations';
import { createZipkinPlugin } from '../src/plugin';
import { type SpanSummary, summarize, waitForSpans } from './span-summary';

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export interface ExampleResult {
  status: number;
  spans: SpanSummary[];
}

export async function main(options: { console?: boolean } = {}): Promise<ExampleResult> {
  // The service's own SDK setup, unaware of the plugin.
  const recorded = new InMemorySpanExporter();
  const processors = [new SimpleSpanProcessor(recorded)];
  if (options.console !== false) processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
  const provider = new BasicTracerProvider({ spanProcessors: processors });

  const upstream = http.createServer((_req, res) => res.end('ok\n'));
  const upstreamPort = await listen(upstream);

  const zipkin = createZipkinPlugin({ sample_ratio: 1 }, { tracerProvider: provider });
  const app = express();
  app.use(zipkinMiddleware(zipkin));
  app.use(
    '/api',
    zipkinRoute(zipkin, { service: { id: 'svc-api', name: 'api' } }),
    createProxyMiddleware({ target: `http://127.0.0.1:${upstreamPort}`, plugins: [zipkinProxyPlugin(zipkin)] }),
  );
  const gateway = http.createServer(app);
  const gatewayPort = await listen(gateway);

  const status = await new Promise<number>((resolve, reject) => {
    http
      .get(
        {
          host: '127.0.0.1',
          port: gatewayPort,
          path: '/api/ping',
          headers: { traceparent: '00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
      .on('error', reject);
  });

  const spans: ReadableSpan[] = await waitForSpans(() => recorded.getFinishedSpans(), 3);
  // The service owns its provider: it flushes and shuts it down, not the plugin.
  await zipkin.forceFlush();
  await provider.shutdown();
  gateway.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => gateway.close(r));
  await new Promise((r) => upstream.close(r));
  return { status, spans: spans.map(summarize) };
}

if (require.main === module) {
  main().then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
