/**
 * A hand-written `node:http` proxy with Kong's zipkin plugin and retries over targets.
 *
 *     npm run build && node build/examples/node-http-proxy.js
 *
 * The first target refuses connections, so the request is retried on the second: the
 * spans show two balancer tries, the first tagged `error`, `kong.balancer.state: failed`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { traceHttp, trackUpstreamRequest } from '../src/integrations';
import { createZipkinPlugin, type ZipkinPlugin } from '../src/plugin';
import type { RouteIdentity } from '../src/trace/request-inputs';
import { type SpanSummary, summarize, waitForSpans } from './span-summary';

export interface Target {
  hostname: string;
  port: number;
}

/** The proxy: every request goes to `targets[0]`, then the next target after a connection failure. */
export function createNodeHttpProxy(
  zipkin: ZipkinPlugin,
  targets: readonly Target[],
  identity: RouteIdentity,
): http.Server {
  return http.createServer((req, res) => {
    const trace = traceHttp(zipkin, req, res); // request start; response phases and log are hooked
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    trace.access(identity, headers, true); // Kong's access: propagation headers into `headers`

    // Buffer the body so it can be sent again on a retry.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      trace.accessEnd();
      const body = Buffer.concat(chunks);
      let next = 0;
      const attempt = (): void => {
        const target = targets[next++];
        trace.balancerTry({ hostname: target.hostname, port: target.port });
        const upstream = http.request({
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          agent: false,
        });
        trackUpstreamRequest(trace, upstream); // the try ends at connect, or fails with Kong's state
        let answered = false;
        upstream.on('response', (upstreamRes) => {
          answered = true;
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        });
        upstream.on('error', () => {
          if (answered) {
            res.destroy();
          } else if (next < targets.length) {
            attempt();
          } else {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end('upstream unavailable\n');
          }
        });
        upstream.end(body);
      };
      attempt();
    });
  });
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export interface ExampleResult {
  status: number;
  body: string;
  refusedPort: number;
  upstreamPort: number;
  spans: SpanSummary[];
}

export async function main(): Promise<ExampleResult> {
  const upstream = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello from upstream, b3 span ${String(req.headers['x-b3-spanid'])}\n`);
  });
  const upstreamPort = await listen(upstream);
  // A port nobody listens on: bind, then close.
  const refused = http.createServer();
  const refusedPort = await listen(refused);
  await new Promise((r) => refused.close(r));

  const exporter = new InMemorySpanExporter();
  const zipkin = createZipkinPlugin({ sample_ratio: 1 }, { spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const proxy = createNodeHttpProxy(
    zipkin,
    [
      { hostname: '127.0.0.1', port: refusedPort },
      { hostname: '127.0.0.1', port: upstreamPort },
    ],
    { service: { id: 'svc-greeter', name: 'greeter' }, route: { id: 'route-greeter', name: 'greeter-route' } },
  );
  const proxyPort = await listen(proxy);

  const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: proxyPort, path: '/hello' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });

  const spans = await waitForSpans(() => exporter.getFinishedSpans(), 4);
  await zipkin.shutdown();
  proxy.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await new Promise((r) => upstream.close(r));
  return { ...response, refusedPort, upstreamPort, spans: spans.map(summarize) };
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
