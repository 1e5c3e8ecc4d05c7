/**
 * Recipe "Express + http-proxy-middleware, no other OpenTelemetry": the plugin's own
 * provider and Kong's reporter send Kong's spans to a Zipkin endpoint; only the gateway
 * path is traced, the service's own routes are not touched.
 *
 *     npm run build
 *     UPSTREAM=http://127.0.0.1:9000 ZIPKIN_ENDPOINT=http://127.0.0.1:9411/api/v2/spans \
 *       node build/examples/recipes/express-hpm.js
 */
import { createServer } from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createZipkinPlugin, traceServer, zipkinProxyPlugin } from 'gateway-zipkin';

const zipkin = createZipkinPlugin(
  {
    sample_ratio: 1,
    http_endpoint: process.env.ZIPKIN_ENDPOINT ?? 'http://127.0.0.1:9411/api/v2/spans',
    http_response_header_for_traceid: 'x-trace-id',
  },
  { shutdownTimeoutMillis: 10_000 },
);

const app = express();
app.use(
  '/gateway',
  createProxyMiddleware({
    target: process.env.UPSTREAM ?? 'http://127.0.0.1:9000',
    plugins: [zipkinProxyPlugin(zipkin, { service: { name: 'orders-upstream' } })],
  }),
);
app.get('/health', (_req, res) => {
  res.json({ ok: true });
});

const server = createServer(app);
traceServer(zipkin, server, { only: ['/gateway'] });
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}`);
});

process.on('SIGTERM', () => {
  server.close();
  // Drains Kong's queue (within shutdownTimeoutMillis), then exits.
  void zipkin.shutdown().then(() => process.exit(0));
});
