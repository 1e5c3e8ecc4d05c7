/**
 * What the Kafka and RabbitMQ senders share: a send refused once closed, the batch-size debug
 * line, the sends in flight that `idle()` and `close()` wait for, and `close()` releasing the
 * connection only after them. Each sender supplies `deliver` (one message) and `release`.
 */
import type { Logger } from '../logger';
import { SendsInFlight } from './sends-in-flight';
import type { SpanListSender } from './span-list-sender';

export abstract class BrokerSender implements SpanListSender {
  abstract readonly transport: 'kafka' | 'rabbitmq';
  readonly maxMessageBytes: number;
  protected readonly logger: Logger;
  private readonly inFlight = new SendsInFlight();
  private closed = false;

  protected constructor(maxMessageBytes: number, logger: Logger) {
    this.maxMessageBytes = maxMessageBytes;
    this.logger = logger;
  }

  send(body: string | Buffer, count: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`zipkin ${this.transport} sender is closed`));
    this.logger.debug(`zipkin batch size: ${count}`);
    return this.inFlight.track(this.deliver(typeof body === 'string' ? Buffer.from(body) : body));
  }

  async idle(): Promise<void> {
    await this.inFlight.settled();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    await this.release();
  }

  /** Sends one message; rejects with an Error whose message the queue logs. */
  protected abstract deliver(message: Buffer): Promise<void>;

  /** Closes the connection, if any. */
  protected abstract release(): Promise<void>;
}
