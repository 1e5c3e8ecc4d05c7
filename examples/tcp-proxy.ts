/**
 * A `node:net` TCP proxy with Kong's zipkin plugin (Kong's stream subsystem).
 *
 *     npm run build && node build/examples/tcp-proxy.js
 *
 * An echo upstream, the proxy in front of it, one client connection sending `ping`;
 * the spans are `stream`, `stream (proxy)` (kps / kpf) and `stream (balancer try 1)`.
 */
import * as net from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { proxyTcp } from '../src/integrations';
import { createZipkinPlugin } from '../src/plugin';
import { type SpanSummary, summarize, waitForSpans } from './span-summary';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

export interface ExampleResult {
  echoed: string;
  clientPort: number;
  upstreamPort: number;
  spans: SpanSummary[];
}

export async function main(): Promise<ExampleResult> {
  const upstream = net.createServer((socket) => socket.pipe(socket));
  const upstreamPort = await listen(upstream);

  const exporter = new InMemorySpanExporter();
  const zipkin = createZipkinPlugin({ sample_ratio: 1 }, { spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const proxy = net.createServer((client) =>
    proxyTcp(zipkin, client, {
      host: '127.0.0.1',
      port: upstreamPort,
      service: { id: 'svc-echo', name: 'echo' },
      route: { id: 'route-echo', name: 'echo-route' },
    }),
  );
  const proxyPort = await listen(proxy);

  const { echoed, clientPort } = await new Promise<{ echoed: string; clientPort: number }>((resolve, reject) => {
    const client = net.connect(proxyPort, '127.0.0.1');
    let data = '';
    let localPort = 0;
    client.setEncoding('utf8');
    client.on('connect', () => {
      localPort = client.localPort ?? 0;
      client.write('ping');
    });
    client.on('data', (chunk: string) => {
      data += chunk;
      if (data === 'ping') client.end();
    });
    client.on('close', () => resolve({ echoed: data, clientPort: localPort }));
    client.on('error', reject);
  });

  const spans = await waitForSpans(() => exporter.getFinishedSpans(), 3);
  await zipkin.shutdown();
  await new Promise((r) => proxy.close(r));
  await new Promise((r) => upstream.close(r));
  return { echoed, clientPort, upstreamPort, spans: spans.map(summarize) };
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
