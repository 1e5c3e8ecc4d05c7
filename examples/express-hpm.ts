/**
 * Express + http-proxy-middleware gateway with Kong's zipkin plugin.
 *
 *     npm run build && node build/examples/express-hpm.js
 *
 * Starts an upstream and the gateway on 127.0.0.1 (free ports), sends one request with a
 * b3 header through the gateway, prints the response, the access-log `trace_id` object and
 * the spans, then exits.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { traceServer, zipkinProxyPlugin } from '../src/integrations';
import { createZipkinPlugin } from '../src/plugin';
import type { LogTraceIds } from '../src/propagation/engine';
import { type SpanSummary, summarize, waitForSpans } from './span-summary';

export interface ExampleResult {
  status: number;
  traceIdHeader: string | undefined;
  upstreamHeaders: Record<string, string>;
  traceIds: LogTraceIds | undefined;
  spans: SpanSummary[];
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export async function main(): Promise<ExampleResult> {
  // An upstream that answers with the headers it received.
  const upstream = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.headers));
  });
  const upstreamPort = await listen(upstream);

  // The plugin: a Kong zipkin `config` record. Spans go to an in-memory exporter here;
  // pass any OTel SpanProcessor (or reuse your provider) in a real gateway.
  const exporter = new InMemorySpanExporter();
  const zipkin = createZipkinPlugin(
    { sample_ratio: 1, http_response_header_for_traceid: 'X-Trace-Id' },
    { spanProcessors: [new SimpleSpanProcessor(exporter)] },
  );

  let traceIds: LogTraceIds | undefined;
  const app = express();
  app.use((req, res, next) => {
    // An access log reading Kong's per-request `trace_id` object.
    res.on('finish', () => (traceIds = zipkin.traceIds(req)));
    next();
  });
  // Kong's access phase and balancer tries come from the proxy plugin, with the route and
  // service of this mount. (`zipkinRoute(zipkin, identity)` mounted before the proxy does
  // the access phase instead, for routes that are not http-proxy-middleware.)
  const orders = { service: { id: 'svc-orders', name: 'orders' }, route: { id: 'route-orders', name: 'orders-route' } };
  app.use(
    '/orders',
    createProxyMiddleware({ target: `http://127.0.0.1:${upstreamPort}`, plugins: [zipkinProxyPlugin(zipkin, orders)] }),
  );
  const gateway = http.createServer(app);
  // Request start, response phases and log for every request, unmatched ones included.
  // (`app.use(zipkinMiddleware(zipkin))` first does the same, at the cost of a router layer.)
  traceServer(zipkin, gateway);
  const gatewayPort = await listen(gateway);

  const response = await new Promise<{ status: number; traceIdHeader: string | undefined; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: gatewayPort,
          path: '/orders/42',
          headers: { b3: '463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-1' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              traceIdHeader: res.headers['x-trace-id'] as string | undefined,
              body,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );

  const spans = await waitForSpans(() => exporter.getFinishedSpans(), 3);
  await zipkin.shutdown();
  gateway.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => gateway.close(r));
  await new Promise((r) => upstream.close(r));
  return {
    status: response.status,
    traceIdHeader: response.traceIdHeader,
    upstreamHeaders: JSON.parse(response.body) as Record<string, string>,
    traceIds,
    spans: spans.map(summarize),
  };
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
