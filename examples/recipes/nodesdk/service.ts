/**
 * Recipe "NodeSDK service with a gateway path", part 2: an Express service whose
 * `/gateway` path proxies to an upstream with Kong's zipkin plugin; its other routes are
 * the service's own, traced by the SDK as before. Kong's spans go out through the SDK's
 * exporter (the plugin reuses the global provider).
 *
 *     npm run build
 *     UPSTREAM=http://127.0.0.1:9000 OTLP_ENDPOINT=http://127.0.0.1:4318/v1/traces \
 *       node --require ./build/examples/recipes/nodesdk/instrumentation.js build/examples/recipes/nodesdk/service.js
 */
import { trace } from '@opentelemetry/api';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createZipkinPlugin, zipkinMiddleware, zipkinProxyPlugin } from 'gateway-zipkin';
import { GATEWAY_PATH, sdk } from './instrumentation';

const zipkin = createZipkinPlugin(
  { sample_ratio: 1, local_service_name: 'orders-gateway' },
  { tracerProvider: trace.getTracerProvider() },
);

const app = express();
app.use(
  GATEWAY_PATH,
  zipkinMiddleware(zipkin),
  createProxyMiddleware({
    target: process.env.UPSTREAM ?? 'http://127.0.0.1:9000',
    plugins: [zipkinProxyPlugin(zipkin, { service: { name: 'orders-upstream' } })],
  }),
);
app.get('/own', (_req, res) => {
  res.json({ ok: true });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}`);
});

process.on('SIGTERM', () => {
  server.close();
  // Kong's spans still in the SDK's batch processor are flushed, then the SDK shuts down.
  void zipkin
    .shutdown()
    .then(() => sdk.shutdown())
    .then(() => process.exit(0));
});
