/**
 * The RabbitMQ transport against a private RabbitMQ node (test/support/backends/rabbitmq.ts):
 * the queue declared as Zipkin's collector declares it, messages on the default exchange read
 * back by a real consumer (JSON and proto3, byte for byte, content types), the split at
 * max_message_bytes, a broker down at start and one restarted under load.
 */
import * as amqp from 'amqplib';
import { encodeProto3Span, proto3ListBody } from '../../src/export/zipkin-proto3';
import { toZipkinSpan } from '../../src/export/zipkin-span';
import { kongExampleSpecs, makeSpans } from '../export/helpers';
import {
  SPAN_OPTIONS,
  expectDroppedAfterRetries,
  expectOneJsonList,
  expectSplit,
  jsonList,
  loadThroughRestart,
  reporter,
  spansIn,
  type BrokerTarget,
} from '../support/backends/broker-cases';
import { makeCerts, type TestCerts } from '../support/backends/certs';
import { readRabbitMq } from '../support/backends/consumers';
import { startRabbitMq, type RabbitMqBroker } from '../support/backends/rabbitmq';

let rabbit: RabbitMqBroker;
let certs: TestCerts;
beforeAll(async () => {
  certs = await makeCerts();
  rabbit = await startRabbitMq({ tls: certs });
}, 180000);
afterAll(async () => {
  await rabbit?.close();
  certs?.remove();
});

/** Queues of `rabbit`, published to through `url` (one of its listeners) with `params`; read over plain AMQP. */
function queues(url: () => string, params = ''): BrokerTarget {
  return {
    transport: 'rabbitmq',
    jsonContentType: 'application/json',
    endpoint: (queue, query) => `${url()}?${[`queue=${queue}`, params, query].filter(Boolean).join('&')}`,
    read: (queue, count, timeoutMs) => readRabbitMq(rabbit.url, queue, count, timeoutMs),
  };
}

const plain = queues(() => rabbit.url);

describe('amqp:// endpoint', () => {
  it('declares the queue as Zipkin does and publishes one JSON list per message', async () => {
    const { processor, logger } = reporter(`${rabbit.url}/?queue=json-q`);
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    // Zipkin's collector: queueDeclare(queue, durable true, exclusive false, autoDelete false, no arguments).
    const model = await amqp.connect(rabbit.url);
    const channel = await model.createChannel();
    await expect(
      channel.assertQueue('json-q', { durable: true, exclusive: false, autoDelete: false }),
    ).resolves.toMatchObject({ queue: 'json-q', messageCount: 1 });
    await model.close();
    const messages = await readRabbitMq(rabbit.url, 'json-q', 1);
    expect(messages).toHaveLength(1);
    expect(messages[0].contentType).toBe('application/json');
    expect(messages[0].body.toString()).toBe(jsonList(spans));
    expect(processor.health()).toMatchObject({ queued: 3, sent: 3, batches: 1 });
    expect(logger.errors).toEqual([]);
    await processor.shutdown();
  });

  it('publishes proto3 ListOfSpans with ?encoding=proto3', async () => {
    const { processor } = reporter(`${rabbit.url}?queue=proto-q&encoding=proto3`);
    const spans = makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    const messages = await readRabbitMq(rabbit.url, 'proto-q', 1);
    expect(messages).toHaveLength(1);
    expect(messages[0].contentType).toBe('application/x-protobuf');
    const expected = proto3ListBody(spans.map((s) => encodeProto3Span(toZipkinSpan(s, SPAN_OPTIONS))));
    expect(Buffer.compare(messages[0].body, expected)).toBe(0);
    await processor.shutdown();
  });

  it('splits at max_message_bytes and drops a span too large alone', async () => {
    await expectSplit(plain, 'split-q', {
      maxMessageBytes: 3000,
      spans: 8,
      tagBytes: 700,
      oversized: { index: 3, bytes: 4000 },
      minMessages: 3,
    });
  });
});

describe('amqps:// (the TLS listener of the same node)', () => {
  it('with ca= the private CA: one JSON list, exactly what the exporter encoded', async () => {
    const tls = queues(() => rabbit.tlsUrl ?? '', `ca=${encodeURIComponent(certs.caFile)}`);
    await expectOneJsonList(tls, 'tls-q');
  });

  it.each([
    ["Node's CA list (no ca=)", () => ''],
    ['another CA', () => `&ca=${encodeURIComponent(certs.otherCaFile)}`],
  ])('trusting %s: the certificate is not trusted, the spans dropped after retries', async (_name, caParam) => {
    const address = new URL(rabbit.tlsUrl ?? '').host;
    await expectDroppedAfterRetries(
      `${rabbit.tlsUrl}?queue=untrusted-q${caParam()}`,
      `zipkin rabbitmq publish failed: TLS certificate not trusted (${address}): self-signed certificate in certificate chain`,
    );
  });

  it('a wrong password: authentication failed, logged at each try; the spans dropped after retries', async () => {
    const url = (rabbit.tlsUrl ?? '').replace('guest:guest@', 'guest:wrong-secret@');
    await expectDroppedAfterRetries(
      `${url}?queue=denied-q&ca=${encodeURIComponent(certs.caFile)}`,
      `zipkin rabbitmq publish failed: authentication failed (${new URL(url).host}): Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."`,
      'wrong-secret',
    );
  });
});

describe('rabbitmq outages', () => {
  it('retries while the broker is down at start, then delivers', async () => {
    const down = await startRabbitMq();
    await down.stop();
    const { processor, logger } = reporter(`${down.url}?queue=late-q`, { max_retry_time: 120, max_retry_delay: 1 });
    try {
      makeSpans(kongExampleSpecs(), processor);
      const deadline = Date.now() + 20000;
      while (logger.warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(logger.warnings[0]).toBe(
        `[zipkin plugin p1] queue p1: handler could not process entries: zipkin rabbitmq publish failed: broker unreachable (${down.address}): connect ECONNREFUSED ${down.address}`,
      );
      await down.start();
      await processor.forceFlush();
      expect(processor.health()).toMatchObject({ queued: 3, sent: 3 });
      const messages = await readRabbitMq(down.url, 'late-q', 1);
      expect(spansIn(messages)).toHaveLength(3);
    } finally {
      await processor.shutdown();
      await down.close();
    }
  });

  it('under load, a broker stopped and started again: sent + dropped = produced, and what was sent arrived', async () => {
    const { logger } = await loadThroughRestart(rabbit, plain.endpoint('load-q'));
    expect(logger.warnings.some((w) => w.includes('zipkin rabbitmq publish failed: '))).toBe(true);
    // What was confirmed before the stop is gone (transient messages, next test); what was
    // confirmed after the restart is there.
    const messages = await readRabbitMq(rabbit.url, 'load-q', 1, 3000);
    expect(messages.length).toBeGreaterThan(0);
  });

  it("messages are transient, as Zipkin's RabbitMQSender publishes them: a restart keeps the durable queue, not its messages", async () => {
    const { processor } = reporter(plain.endpoint('transient-q'));
    makeSpans(kongExampleSpecs(), processor);
    await processor.forceFlush();
    await processor.shutdown();
    expect(processor.health()).toMatchObject({ sent: 3 });
    const count = async (): Promise<number> => {
      const model = await amqp.connect(rabbit.url);
      try {
        const channel = await model.createChannel();
        // checkQueue fails when the queue does not exist: the durable queue must survive.
        return (await channel.checkQueue('transient-q')).messageCount;
      } finally {
        await model.close();
      }
    };
    expect(await count()).toBe(1);
    await rabbit.stop();
    await rabbit.start();
    expect(await count()).toBe(0);
  });
});
