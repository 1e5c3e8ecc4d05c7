/**
 * Real consumers for the backend suite: every message of a Kafka topic from its start
 * (kafkajs), every message of a RabbitMQ queue (amqplib), as raw bytes.
 */
import * as amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a topic from offset 0 until `count` messages (or `timeoutMs` passed). */
export async function readKafka(bootstrap: string, topic: string, count: number, timeoutMs = 30000): Promise<Buffer[]> {
  const kafka = new Kafka({ clientId: 'gz-test-consumer', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `gz-test-${topic}-${Date.now()}` });
  const values: Buffer[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value ?? Buffer.alloc(0)) });
    const deadline = Date.now() + timeoutMs;
    while (values.length < count && Date.now() < deadline) await sleep(100);
    // A little longer, so a message too many would show.
    await sleep(300);
  } finally {
    await consumer.disconnect();
  }
  return values;
}

/** Creates a topic through the admin API (for brokers that do not auto-create). */
export async function createKafkaTopic(bootstrap: string, topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'gz-test-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export interface AmqpMessage {
  readonly body: Buffer;
  readonly contentType: string | undefined;
}

/** Takes messages off a queue until `count` (or `timeoutMs` passed). */
export async function readRabbitMq(
  url: string,
  queue: string,
  count: number,
  timeoutMs = 30000,
): Promise<AmqpMessage[]> {
  const model = await amqp.connect(url);
  const out: AmqpMessage[] = [];
  try {
    const channel = await model.createChannel();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message !== false) {
        out.push({ body: message.content, contentType: message.properties.contentType as string | undefined });
        continue;
      }
      if (out.length >= count || Date.now() > deadline) break;
      await sleep(100);
    }
  } finally {
    await model.close();
  }
  return out;
}
