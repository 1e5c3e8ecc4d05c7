/**
 * Spans over Kafka (JSON v2 and proto3) and RabbitMQ into the real Zipkin server's own
 * collectors (KAFKA_BOOTSTRAP_SERVERS / KAFKA_TOPIC, RABBIT_ADDRESSES / RABBIT_QUEUE), read
 * back from `/api/v2/trace/{id}` field by field: through the library's reporter and through
 * the `gateway-zipkin` command line with a decK file.
 */
import { validateConfig } from '../../src/config/validate';
import { createZipkinReporter } from '../../src/export/reporter';
import { ZipkinJsonEncoder } from '../../src/export/zipkin-json-encoder';
import { kongExampleSpecs, makeSpans } from '../export/helpers';
import {
  type CliProcess,
  type EchoServer,
  request,
  startCliGateway,
  startEcho,
  tempDir,
  type TempDir,
} from '../gateway/cli-harness';
import { byId, zipkinForm } from '../support/backends/compare';
import { createKafkaTopic, readKafka } from '../support/backends/consumers';
import { startKafka, type KafkaBroker } from '../support/backends/kafka';
import { startRabbitMq, type RabbitMqBroker } from '../support/backends/rabbitmq';
import { startZipkin, type StoredSpan, type Zipkin } from '../support/backends/zipkin';
import { recordingLogger } from '../support/recording-logger';

const SPAN_OPTIONS = { localServiceName: 'kong', defaultServiceName: null };

let kafka: KafkaBroker;
let rabbit: RabbitMqBroker;
let zipkin: Zipkin;

beforeAll(async () => {
  [kafka, rabbit] = await Promise.all([startKafka(), startRabbitMq()]);
  await createKafkaTopic(kafka.bootstrap, 'zipkin');
  zipkin = await startZipkin({
    kafkaBootstrapServers: kafka.bootstrap,
    kafkaTopic: 'zipkin',
    rabbitAddresses: rabbit.address,
    rabbitQueue: 'zipkin',
  });
  // Both collectors connected (Zipkin's /health lists them).
  const deadline = Date.now() + 60000;
  while ((await zipkin.health()).status !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  expect((await zipkin.health()).status).toBe(200);
}, 300000);

afterAll(async () => {
  await zipkin?.stop();
  await Promise.all([kafka?.close(), rabbit?.close()]);
});

/** The reference example's three spans under `traceId`, sent through a reporter for `endpoint`. */
async function sendExample(endpoint: string, traceId: string): Promise<StoredSpan[]> {
  const logger = recordingLogger();
  const config = validateConfig({ http_endpoint: endpoint, queue: { max_batch_size: 200, max_coalescing_delay: 0.1 } });
  const processor = createZipkinReporter(config, { pluginId: 'lib', logger });
  const spans = makeSpans(
    kongExampleSpecs().map((s) => ({ ...s, traceId })),
    processor,
  );
  await processor.shutdown();
  expect(processor.health()).toMatchObject({ queued: 3, sent: 3 });
  expect(logger.errors).toEqual([]);
  const json = new ZipkinJsonEncoder(SPAN_OPTIONS);
  return spans.map((s) => JSON.parse(json.encode(s)) as StoredSpan);
}

describe('library → broker → Zipkin', () => {
  test('Kafka, JSON v2', async () => {
    const traceId = '4a1b2c3d4e5f60718293a4b5c6d7e801';
    const sent = await sendExample(`kafka://${kafka.bootstrap}/zipkin`, traceId);
    const stored = await zipkin.waitForSpans(traceId, 3, 30000);
    expect(byId(stored)).toEqual(byId(sent.map(zipkinForm)));
  });

  test('Kafka, proto3', async () => {
    const traceId = '4a1b2c3d4e5f60718293a4b5c6d7e802';
    const sent = await sendExample(`kafka://${kafka.bootstrap}?encoding=proto3`, traceId);
    const stored = await zipkin.waitForSpans(traceId, 3, 30000);
    expect(byId(stored)).toEqual(byId(sent.map(zipkinForm)));
  });

  test('RabbitMQ, JSON v2 and proto3', async () => {
    const jsonTrace = '4a1b2c3d4e5f60718293a4b5c6d7e803';
    const protoTrace = '4a1b2c3d4e5f60718293a4b5c6d7e804';
    const sentJson = await sendExample(`${rabbit.url}?queue=zipkin`, jsonTrace);
    const sentProto = await sendExample(`${rabbit.url}?encoding=proto3`, protoTrace);
    expect(byId(await zipkin.waitForSpans(jsonTrace, 3, 30000))).toEqual(byId(sentJson.map(zipkinForm)));
    expect(byId(await zipkin.waitForSpans(protoTrace, 3, 30000))).toEqual(byId(sentProto.map(zipkinForm)));
  });
});

describe('CLI gateway (decK file) → broker → Zipkin', () => {
  let echo: EchoServer;
  let dir: TempDir;
  let gateway: CliProcess;
  let proxyPort: number;

  beforeAll(async () => {
    echo = await startEcho();
    dir = tempDir();
    const plugin = (endpoint: string): Record<string, unknown> => ({
      name: 'zipkin',
      config: {
        http_endpoint: endpoint,
        local_service_name: 'gateway-cli',
        sample_ratio: 1,
        queue: { max_coalescing_delay: 0.1 },
      },
    });
    const deck = {
      _format_version: '3.0',
      services: [
        {
          name: 'svc',
          url: `http://127.0.0.1:${echo.port}`,
          routes: [
            { name: 'kafka', paths: ['/kafka'], plugins: [plugin(`kafka://${kafka.bootstrap}/zipkin?client_id=cli`)] },
            {
              name: 'kafka-proto',
              paths: ['/kafka-proto'],
              plugins: [plugin(`kafka://${kafka.bootstrap}/zipkin?encoding=proto3`)],
            },
            { name: 'rabbit', paths: ['/rabbit'], plugins: [plugin(`${rabbit.url}/%2F?queue=zipkin`)] },
          ],
        },
      ],
    };
    ({ cli: gateway, port: proxyPort } = await startCliGateway(dir, deck));
  });

  afterAll(async () => {
    await gateway?.stop('SIGTERM');
    await echo?.close();
    dir?.remove();
  });

  test.each([
    ['/kafka', '5e1f1d2c3b4a59687f6e5d4c3b2a1911'],
    ['/kafka-proto', '5e1f1d2c3b4a59687f6e5d4c3b2a1912'],
    ['/rabbit', '5e1f1d2c3b4a59687f6e5d4c3b2a1913'],
  ])('%s: the request, proxy and balancer spans, stored as the request made them', async (path, traceId) => {
    const parent = 'a1b2c3d4e5f60718';
    const reply = await request(proxyPort, `${path}/orders?id=7`, {
      headers: { traceparent: `00-${traceId}-${parent}-01` },
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ method: 'GET', url: '/orders?id=7' });
    const stored = await zipkin.waitForSpans(traceId, 3, 30000);
    const byName = (name: string): StoredSpan => stored.find((s) => s.name === name) as StoredSpan;
    const root = byName('get');
    const proxy = byName('get (proxy)');
    const balancer = byName('get (balancer try 1)');
    expect(root).toMatchObject({
      traceId,
      kind: 'SERVER',
      parentId: parent,
      localEndpoint: { serviceName: 'gateway-cli' },
    });
    expect(root.tags).toMatchObject({ 'http.method': 'GET', 'http.status_code': '200', 'http.path': `${path}/orders` });
    expect(proxy).toMatchObject({
      traceId,
      kind: 'CLIENT',
      parentId: root.id,
      remoteEndpoint: { ipv4: '127.0.0.1', port: echo.port },
    });
    expect(balancer).toMatchObject({ traceId, kind: 'CLIENT', parentId: root.id });
    expect(echo.requests.at(-1)?.headers.traceparent).toBe(`00-${traceId}-${proxy.id}-01`);
  });

  test('over Kafka, Zipkin stores exactly the spans of the message the gateway produced', async () => {
    const traceId = '5e1f1d2c3b4a59687f6e5d4c3b2a1921';
    await request(proxyPort, '/kafka/exact', { headers: { traceparent: `00-${traceId}-a1b2c3d4e5f60718-01` } });
    const stored = await zipkin.waitForSpans(traceId, 3, 30000);
    const values = await readKafka(kafka.bootstrap, 'zipkin', Number.MAX_SAFE_INTEGER, 5000);
    const sent = values
      .filter((v) => v[0] === 0x5b)
      .flatMap((v) => JSON.parse(v.toString()) as StoredSpan[])
      .filter((s) => s.traceId === traceId);
    expect(sent).toHaveLength(3);
    expect(byId(stored)).toEqual(byId(sent.map(zipkinForm)));
  });
});
