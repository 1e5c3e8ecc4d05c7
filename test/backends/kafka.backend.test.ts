/**
 * The Kafka transport against a real Apache Kafka broker (KRaft, test/support/backends/kafka.ts):
 * messages read back by a real consumer, each one list of spans, byte for byte what the
 * exporter encoded (JSON v2 and proto3); the split at max_message_bytes; a span too large
 * dropped, counted and logged; a broker that is down at start and one restarted under load.
 */
import { type CliProcess, request, runCli, startCliGateway, startEcho, tempDir } from '../gateway/cli-harness';
import { encodeProto3Span, proto3ListBody } from '../../src/export/zipkin-proto3';
import { toZipkinSpan } from '../../src/export/zipkin-span';
import { kongExampleSpecs, makeSpans } from '../export/helpers';
import { decodeProto3 } from '../export/wire';
import {
  SPAN_OPTIONS,
  expectDroppedAfterRetries,
  expectOneJsonList,
  expectSplit,
  loadThroughRestart,
  reporter,
  spansIn,
  type BrokerTarget,
} from '../support/backends/broker-cases';
import { makeCerts, type TestCerts } from '../support/backends/certs';
import { readKafka } from '../support/backends/consumers';
import { KAFKA_SASL_USER, startKafka, type KafkaBroker } from '../support/backends/kafka';

let kafka: KafkaBroker;
let certs: TestCerts;
beforeAll(async () => {
  certs = await makeCerts();
  kafka = await startKafka({ secure: certs });
}, 180000);
afterAll(async () => {
  await kafka?.close();
  certs?.remove();
});

/** A topic of `kafka`, sent to through `address` (a listener of it) with `userinfo` and query parameters. */
function topics(address: () => string | null, userinfo = '', params = ''): BrokerTarget {
  return {
    transport: 'kafka',
    jsonContentType: undefined,
    endpoint: (topic, query) =>
      `kafka://${userinfo}${address()}/${topic}${[params, query].some(Boolean) ? '?' : ''}${[params, query].filter(Boolean).join('&')}`,
    read: async (topic, count, timeoutMs) =>
      (await readKafka(kafka.bootstrap, topic, count, timeoutMs)).map((body) => ({ body, contentType: undefined })),
  };
}

const plaintext = topics(() => kafka.bootstrap);

/**
 * Runs the CLI gateway (extra `env`) on a decK file routing `/r` to an echo server with a
 * global zipkin plugin (sampling everything) reporting to `endpoint`; `body` gets the proxy
 * port. Everything is stopped and removed after.
 */
async function withGateway(
  endpoint: string,
  queue: Record<string, number>,
  env: NodeJS.ProcessEnv,
  body: (gateway: ReturnType<typeof runCli>, port: number) => Promise<void>,
): Promise<void> {
  const echo = await startEcho();
  const dir = tempDir();
  const deck = {
    _format_version: '3.0',
    services: [{ name: 'svc', url: `http://127.0.0.1:${echo.port}`, routes: [{ name: 'r', paths: ['/r'] }] }],
    plugins: [{ name: 'zipkin', config: { http_endpoint: endpoint, sample_ratio: 1, queue } }],
  };
  let gateway: CliProcess | undefined;
  try {
    const started = await startCliGateway(dir, deck, env);
    gateway = started.cli;
    await body(gateway, started.port);
  } finally {
    await gateway?.stop('SIGTERM');
    await echo.close();
    dir.remove();
  }
}

describe('kafka:// endpoint', () => {
  it('sends one JSON v2 list per message, exactly what the exporter encoded', async () => {
    await expectOneJsonList(plaintext, 'json-list', 'client_id=gz-test');
  });

  it('sends proto3 ListOfSpans with ?encoding=proto3, byte for byte', async () => {
    const { processor } = reporter(`kafka://${kafka.bootstrap}/proto-list?encoding=proto3`);
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    const values = await readKafka(kafka.bootstrap, 'proto-list', 1);
    expect(values).toHaveLength(1);
    const expected = proto3ListBody(spans.map((s) => encodeProto3Span(toZipkinSpan(s, SPAN_OPTIONS))));
    expect(Buffer.compare(values[0], expected)).toBe(0);
    expect(decodeProto3(values[0]).map((s) => s.id)).toHaveLength(3);
    await processor.shutdown();
  });

  it('splits a batch larger than max_message_bytes into several messages, in order', async () => {
    await expectSplit(plaintext, 'split', { maxMessageBytes: 4000, spans: 10, tagBytes: 1000, minMessages: 4 });
  });

  it('drops a span larger than max_message_bytes alone, counts it as too_large and logs it', async () => {
    await expectSplit(plaintext, 'oversize', {
      maxMessageBytes: 2000,
      spans: 3,
      tagBytes: 100,
      oversized: { index: 1, bytes: 3000 },
      minMessages: 2,
    });
  });
});

describe('kafka:// with SASL and TLS (other listeners of the same broker)', () => {
  const { username, password } = KAFKA_SASL_USER;
  const user = `${username}:${password}@`;
  const ca = () => `ca=${encodeURIComponent(certs.caFile)}`;

  it.each([
    ['SASL_PLAINTEXT, sasl=plain', 'sasl-plain', () => topics(() => kafka.sasl, user, 'sasl=plain')],
    ['SASL_PLAINTEXT, sasl=scram-sha-256', 'sasl-scram256', () => topics(() => kafka.sasl, user, 'sasl=scram-sha-256')],
    ['SASL_PLAINTEXT, sasl=scram-sha-512', 'sasl-scram512', () => topics(() => kafka.sasl, user, 'sasl=scram-sha-512')],
    ['SSL, tls=true with the private CA', 'tls-ca', () => topics(() => kafka.ssl, '', `tls=true&${ca()}`)],
    [
      'SASL_SSL, scram-sha-512 and the private CA',
      'sasl-ssl',
      () => topics(() => kafka.saslSsl, user, `tls=true&${ca()}&sasl=scram-sha-512`),
    ],
  ])('%s: one JSON list, exactly what the exporter encoded', async (_name, topic, target) => {
    await expectOneJsonList(target(), topic);
  });

  it('a wrong password: authentication failed, logged at each try; the spans dropped after retries', async () => {
    await expectDroppedAfterRetries(
      `kafka://${username}:wrong-secret@${kafka.sasl}/denied?sasl=plain`,
      'zipkin kafka send failed: authentication failed: SASL PLAIN authentication failed: Authentication failed: Invalid username or password',
      'wrong-secret',
    );
    await expectDroppedAfterRetries(
      `kafka://${username}:wrong-secret@${kafka.sasl}/denied?sasl=scram-sha-512`,
      'zipkin kafka send failed: authentication failed: SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
      'wrong-secret',
    );
  });

  it.each([
    ["Node's CA list (no ca=)", () => ''],
    ['another CA', () => `&ca=${encodeURIComponent(certs.otherCaFile)}`],
  ])(
    'tls=true trusting %s: the certificate is not trusted, the spans dropped after retries',
    async (_name, caParam) => {
      await expectDroppedAfterRetries(
        `kafka://${kafka.ssl}/untrusted?tls=true${caParam()}`,
        `zipkin kafka send failed: TLS certificate not trusted (${kafka.ssl}): Connection error: self-signed certificate in certificate chain`,
      );
    },
  );

  it('the CLI gateway trusts the private CA through NODE_EXTRA_CA_CERTS, without ca=', async () => {
    // Node reads it once, at start-up, into the CA list that tls.connect uses by default.
    const env = { NODE_EXTRA_CA_CERTS: certs.caFile };
    await withGateway(
      `kafka://${kafka.ssl}/cli-tls?tls=true`,
      { max_batch_size: 10, max_coalescing_delay: 0.1 },
      env,
      async (gateway, port) => {
        const traceId = '7b1b2c3d4e5f60718293a4b5c6d7e8f9';
        const reply = await request(port, '/r/tls', { headers: { traceparent: `00-${traceId}-a1b2c3d4e5f60718-01` } });
        expect(reply.status).toBe(200);
        expect(await gateway.stop('SIGTERM')).toBe(0);
        expect(gateway.stderr).not.toMatch(/zipkin kafka send failed/);
        const spans = spansIn(await plaintext.read('cli-tls', 1)) as { traceId: string; name: string }[];
        expect(spans.map((s) => [s.traceId, s.name])).toEqual([
          [traceId, 'GET (balancer try 1)'],
          [traceId, 'GET (proxy)'],
          [traceId, 'GET'],
        ]);
      },
    );
  });

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn verification off: the CLI gateway still refuses the broker', async () => {
    const queue = { max_batch_size: 10, max_coalescing_delay: 0.1, max_retry_time: 1 };
    const env = { NODE_TLS_REJECT_UNAUTHORIZED: '0' };
    await withGateway(`kafka://${kafka.ssl}/cli-insecure?tls=true`, queue, env, async (gateway, port) => {
      expect((await request(port, '/r/insecure')).status).toBe(200);
      expect(await gateway.stop('SIGTERM')).toBe(0);
      expect(gateway.stderr).toContain(
        `handler could not process entries: zipkin kafka send failed: TLS certificate not trusted (${kafka.ssl}): Connection error: self-signed certificate in certificate chain`,
      );
      expect(gateway.stderr).toContain(
        'could not send entries due to max_retry_time exceeded. 3 queue entries were lost',
      );
    });
  });
});

describe('kafka broker outages', () => {
  it('retries while the broker is down at start, then delivers everything once it is up', async () => {
    const down = await startKafka();
    await down.stop();
    const { processor, logger } = reporter(`kafka://${down.bootstrap}/late`, {
      max_retry_time: 120,
      max_retry_delay: 1,
    });
    try {
      makeSpans(kongExampleSpecs(), processor);
      const deadline = Date.now() + 20000;
      while (logger.warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(logger.warnings[0]).toMatch(
        new RegExp(
          `^\\[zipkin plugin p1\\] queue p1: handler could not process entries: zipkin kafka send failed: broker unreachable \\(${down.bootstrap}\\): `,
        ),
      );
      await down.start();
      await processor.forceFlush();
      expect(processor.health()).toMatchObject({ queued: 3, sent: 3 });
      const values = await readKafka(down.bootstrap, 'late', 1);
      expect(spansIn(values.map((body) => ({ body, contentType: undefined })))).toHaveLength(3);
    } finally {
      await processor.shutdown();
      await down.close();
    }
  });

  it('under load, a broker stopped and started again: sent + dropped = produced, and what was sent arrived', async () => {
    const { sent } = await loadThroughRestart(kafka, plaintext.endpoint('load', 'client_id=gz-load'));
    const values = await plaintext.read('load', Number.MAX_SAFE_INTEGER, 8000);
    expect(spansIn(values)).toHaveLength(sent);
  });
});

describe('CLI gateway with a kafka:// plugin, broker restarted under load', () => {
  it('answers every request as before; the spans of requests after the restart arrive', async () => {
    const queue = { max_batch_size: 50, max_coalescing_delay: 0.1, max_retry_time: 30, max_retry_delay: 0.5 };
    await withGateway(`kafka://${kafka.bootstrap}/cli-load`, queue, {}, async (gateway, port) => {
      const bodies: string[] = [];
      const statuses: number[] = [];
      let running = true;
      const load = (async () => {
        for (let i = 0; running; i++) {
          const reply = await request(port, `/r/item?n=${i}`);
          statuses.push(reply.status);
          bodies.push((JSON.parse(reply.body) as { url: string }).url);
        }
      })();
      await new Promise((r) => setTimeout(r, 1000));
      await kafka.stop();
      await new Promise((r) => setTimeout(r, 3000));
      await kafka.start();
      await new Promise((r) => setTimeout(r, 1000));
      running = false;
      await load;
      expect(statuses.length).toBeGreaterThan(50);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(bodies).toEqual(bodies.map((_, i) => `/item?n=${i}`));
      // A last request after the restart: its three spans reach the topic.
      const traceId = '6a1b2c3d4e5f60718293a4b5c6d7e8f9';
      await request(port, '/r/last', { headers: { traceparent: `00-${traceId}-a1b2c3d4e5f60718-01` } });
      expect(await gateway.stop('SIGTERM')).toBe(0);
      const values = await readKafka(kafka.bootstrap, 'cli-load', Number.MAX_SAFE_INTEGER, 8000);
      const spans = values.flatMap((v) => JSON.parse(v.toString()) as { traceId: string }[]);
      expect(spans.filter((s) => s.traceId === traceId)).toHaveLength(3);
      expect(gateway.stderr).toMatch(/handler could not process entries: zipkin kafka send failed: /);
    });
  });
});
