/**
 * The downstream request body of one proxied request, replayable across upstream tries.
 *
 * Nothing is sent to a target before its connection is up: until then the body is held
 * here (and the client paused once more than `limit` bytes wait), so a connection failure
 * or a connect timeout can always move the whole body to the next target. Once a
 * connection is up the body streams to it and a copy is kept while it stays within
 * `limit` bytes; past that the copy is dropped and the body is no longer `replayable`
 * (only a kept-alive connection found dead after the first bytes were written would need
 * it). nginx gets the same effect by buffering the whole body, to disk when large.
 */
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';

export class ReplayableBody {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private ended = false;
  private paused = false;
  private sink: Writable | null = null;
  /** Every byte received so far is held, so the body can be sent again from the start. */
  replayable = true;

  constructor(
    private readonly source: IncomingMessage,
    private readonly limit: number,
  ) {
    source.on('data', this.onData);
    source.on('end', this.onEnd);
  }

  /** Stream the body to `sink` (an upstream request whose connection is up). */
  attach(sink: Writable): void {
    this.sink = sink;
    const chunks = this.chunks;
    for (let i = 0; i < chunks.length; i++) sink.write(chunks[i]);
    if (this.ended) sink.end();
    else this.resume();
  }

  /** Stop writing to the current sink (its try failed). */
  detach(): void {
    const sink = this.sink;
    if (sink === null) return;
    sink.removeListener('drain', this.resume);
    this.sink = null;
  }

  private readonly onData = (chunk: Buffer): void => {
    const sink = this.sink;
    if (this.replayable) {
      this.bytes += chunk.length;
      if (sink === null || this.bytes <= this.limit) {
        this.chunks.push(chunk);
      } else {
        this.replayable = false;
        this.chunks = [];
      }
    }
    if (sink === null) {
      // Hold at most about `limit` bytes until a connection is up.
      if (this.bytes > this.limit) this.pause();
      return;
    }
    if (!sink.write(chunk)) {
      this.pause();
      sink.once('drain', this.resume);
    }
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.sink !== null) this.sink.end();
  };

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.source.pause();
  }

  private readonly resume = (): void => {
    if (!this.paused) return;
    this.paused = false;
    this.source.resume();
  };
}
