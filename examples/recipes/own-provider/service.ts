/**
 * Recipe "a service that registers its own provider", part 2: a plain `node:http` service
 * whose `/gateway` path proxies with http-proxy-middleware under Kong's zipkin plugin, and
 * whose other routes are its own (`/own/call` calls the upstream itself, traced by the
 * http instrumentation). `traceServer(..., { only })` scopes Kong's tracing to the gateway
 * path; Kong's spans go out through the provider's exporter.
 *
 *     npm run build
 *     UPSTREAM=http://127.0.0.1:9000 OTLP_ENDPOINT=http://127.0.0.1:4318/v1/traces \
 *       node --require ./build/examples/recipes/own-provider/tracing.js build/examples/recipes/own-provider/service.js
 */
import { createServer, get } from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createZipkinPlugin, traceServer, zipkinProxyPlugin } from 'gateway-zipkin';
import { GATEWAY_PATH, provider } from './tracing';

const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:9000';
const zipkin = createZipkinPlugin(
  { sample_ratio: 1, local_service_name: 'billing-gateway' },
  { tracerProvider: provider, shutdownTimeoutMillis: 10_000 },
);
const proxy = createProxyMiddleware({
  target: upstream,
  pathFilter: GATEWAY_PATH,
  plugins: [zipkinProxyPlugin(zipkin, { service: { name: 'billing-upstream' } })],
});

const server = createServer((req, res) => {
  if (req.url?.startsWith(`${GATEWAY_PATH}/`)) {
    void proxy(req, res, () => {
      res.statusCode = 404;
      res.end();
    });
    return;
  }
  if (req.url === '/own/call') {
    // The service's own outgoing call: the http instrumentation's CLIENT span, injected by
    // the provider's propagator (Kong's b3 here).
    get(`${upstream}/own`, (reply) => {
      let body = '';
      reply.setEncoding('utf8');
      reply.on('data', (chunk: string) => (body += chunk));
      reply.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(body);
      });
    });
    return;
  }
  res.statusCode = 404;
  res.end();
});
traceServer(zipkin, server, { only: [GATEWAY_PATH] });

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}`);
});

process.on('SIGTERM', () => {
  server.close();
  // The plugin flushes the provider it was given (it does not own it); the service then
  // shuts its provider down.
  void zipkin
    .shutdown()
    .then(() => provider.shutdown())
    .then(() => process.exit(0));
});
