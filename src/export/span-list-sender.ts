/**
 * What `ZipkinExporter` hands a list body to: `HttpSender` (Kong's POST, §5.2), or a broker
 * sender (`KafkaSender`, `RabbitMqSender`) whose messages have a size limit.
 */
export interface SpanListSender {
  /** Largest list body one message may carry, bytes; absent: no limit (HTTP, as Kong). */
  readonly maxMessageBytes?: number;
  /** Used in log lines about the limit: `kafka`, `rabbitmq`. */
  readonly transport?: string;
  /** Sends one list body holding `count` spans; rejects with an Error whose message the queue logs. */
  send(body: string | Buffer, count: number): Promise<void>;
  /** Resolves once sends in flight have settled. */
  idle(): Promise<void>;
  /** Waits for sends in flight, then releases connections. */
  close(): Promise<void>;
}
