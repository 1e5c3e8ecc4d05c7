/**
 * Publishes list bodies to a RabbitMQ queue, one message per list, as Zipkin's RabbitMQ
 * collector reads them (zipkin-backends §4.2): the default exchange with the queue's name as
 * routing key, the queue declared as the collector declares it (durable, not exclusive, not
 * auto-deleted, no arguments). Publisher confirms make a send succeed only once the broker
 * has the message; `mandatory` makes a message no queue took a failure. Messages are not
 * persistent, as Zipkin's own RabbitMQSender publishes them (zipkin-backends §6.4). The client is
 * amqplib, an optional peer dependency loaded when a sender is created (README "RabbitMQ").
 */
import type * as Amqp from 'amqplib';
import type { AmqpEndpoint } from '../config/endpoint';
import type { Logger } from '../logger';
import { BrokerSender } from './broker-sender';
import { connectFailure } from './connect-failure';
import { loadOptionalPeer } from './optional-peer';
import { redactSecrets } from './redact-secrets';

export interface RabbitMqSenderOptions {
  /** A parsed `amqp://` or `amqps://` endpoint (`parseEndpoint`). */
  endpoint: AmqpEndpoint;
  /** `application/json` or `application/x-protobuf` (the collector detects the encoding itself). */
  contentType: string;
  /** ms to connect (Kong's `connect_timeout`; 0: the client's default). */
  connectTimeout: number;
  logger: Logger;
}

type AmqpModule = typeof Amqp;

interface Link {
  model: Amqp.ChannelModel;
  channel: Amqp.ConfirmChannel;
  /** Why the link broke, once it did: the next send fails with it and reconnects. */
  broken: string | null;
  /** The message being published came back unroutable. */
  returned: boolean;
}

const PREFIX = 'zipkin rabbitmq publish failed: ';

export class RabbitMqSender extends BrokerSender {
  readonly transport = 'rabbitmq';
  private readonly amqp: AmqpModule;
  private readonly options: RabbitMqSenderOptions;
  private readonly secrets: string[];
  private link: Link | null = null;
  private connecting: Promise<Link> | null = null;

  /** Throws at once when amqplib is not installed: `install amqplib to use amqp:// endpoints …`. */
  constructor(options: RabbitMqSenderOptions) {
    const amqp = loadOptionalPeer<AmqpModule>('amqplib', 'amqp:// and amqps://');
    super(options.endpoint.maxMessageBytes, options.logger);
    this.amqp = amqp;
    this.options = options;
    const url = new URL(options.endpoint.connectUrl);
    this.secrets = [url.password, decodeURIComponent(url.password)].filter((s) => s !== '');
  }

  protected async deliver(content: Buffer): Promise<void> {
    let link: Link;
    try {
      link = await this.connect();
    } catch (err) {
      throw new Error(this.text(err, 'connect'), { cause: err });
    }
    const { queue } = this.options.endpoint;
    link.returned = false;
    try {
      await new Promise<void>((resolve, reject) => {
        const onClose = (): void => reject(new Error(link.broken ?? 'channel closed'));
        link.channel.once('close', onClose);
        link.channel.publish('', queue, content, { contentType: this.options.contentType, mandatory: true }, (err) => {
          link.channel.removeListener('close', onClose);
          if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve();
        });
      });
    } catch (err) {
      await this.drop();
      throw new Error(this.text(err, 'publish'), { cause: err });
    }
    // The broker confirms a message no queue took, after returning it.
    if (link.returned) throw new Error(`${PREFIX}queue '${queue}' does not exist: the message was returned unroutable`);
  }

  private text(err: unknown, phase: 'connect' | 'publish'): string {
    const e = err as NodeJS.ErrnoException;
    // amqplib wraps socket errors in a message that repeats the class name.
    let message = (e instanceof Error ? e.message : String(err)).replace(/^Error: /, '');
    message = redactSecrets(message, this.secrets);
    const address = this.options.endpoint.address;
    const failure = connectFailure(e.code);
    if (failure !== null) return `${PREFIX}${failure} (${address}): ${message}`;
    // The broker's connection.close for a wrong user or password (AMQP reply 403).
    if (phase === 'connect' && /ACCESS.REFUSED/.test(message)) {
      return `${PREFIX}authentication failed (${address}): ${message}`;
    }
    if (phase === 'connect') return `${PREFIX}could not connect to ${address}: ${message}`;
    if (/channel (closed|ended)/i.test(message) || /Channel closed/.test(message)) {
      return `${PREFIX}channel closed: ${message}`;
    }
    if (/connection (closed|ended)|socket|ECONNRESET/i.test(message)) return `${PREFIX}connection closed: ${message}`;
    return PREFIX + message;
  }

  private connect(): Promise<Link> {
    if (this.link !== null && this.link.broken === null) return Promise.resolve(this.link);
    this.connecting ??= (async () => {
      await this.drop();
      const { endpoint, connectTimeout } = this.options;
      const model = await this.amqp.connect(endpoint.connectUrl, {
        ...(connectTimeout > 0 ? { timeout: connectTimeout } : {}),
        // For amqps, handed to tls.connect; explicit as for HTTPS (http-sender.ts), whatever
        // NODE_TLS_REJECT_UNAUTHORIZED says.
        ...(endpoint.tls ? { rejectUnauthorized: true } : {}),
        ...(endpoint.ca === null ? {} : { ca: [endpoint.ca] }),
      });
      let link: Link | null = null;
      const broke = (why: string): void => {
        if (link !== null && link.broken === null) link.broken = why;
      };
      // Without listeners an 'error' would be thrown out of the event loop.
      model.on('error', (err: Error) => broke(`connection closed: ${err.message}`));
      model.on('close', () => broke('connection closed'));
      try {
        const channel = await model.createConfirmChannel();
        link = { model, channel, broken: null, returned: false };
        const current = link;
        channel.on('error', (err: Error) => broke(`channel closed: ${err.message}`));
        channel.on('close', () => broke('channel closed'));
        channel.on('return', () => (current.returned = true));
        await channel.assertQueue(endpoint.queue, { durable: true, exclusive: false, autoDelete: false });
        this.link = current;
        return current;
      } catch (err) {
        await model.close().catch(() => undefined);
        throw err;
      }
    })().finally(() => (this.connecting = null));
    return this.connecting;
  }

  protected release(): Promise<void> {
    return this.drop();
  }

  private async drop(): Promise<void> {
    const link = this.link;
    this.link = null;
    if (link !== null) await link.model.close().catch(() => undefined);
  }
}
