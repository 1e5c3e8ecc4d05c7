import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { randomHex } from './ids';

/**
 * An OTel `IdGenerator` with a "next id" slot for each kind. OTel has no per-span id
 * option; Kong's span model needs ids the SDK did not pick (the request span reusing the
 * incoming b3/jaeger span id, the proxy span id already sent upstream, 64-bit trace ids).
 * `Tracer.startSpan` is synchronous and asks for the span id first, then (for a root) the
 * trace id, so a caller sets the slots, starts the span, and clears them (`reset`).
 * Empty slots fall back to fast random ids.
 */
export class SlotIdGenerator implements IdGenerator {
  /** 32 lowercase hex characters, used once by the next root span. */
  nextTraceId: string | undefined = undefined;
  /** 16 lowercase hex characters, used once by the next span. */
  nextSpanId: string | undefined = undefined;

  generateTraceId(): string {
    const id = this.nextTraceId;
    if (id === undefined) return randomHex(16);
    this.nextTraceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.nextSpanId;
    if (id === undefined) return randomHex(8);
    this.nextSpanId = undefined;
    return id;
  }

  /** Drop unused slots (a child span does not consume the trace id slot). */
  reset(): void {
    this.nextTraceId = undefined;
    this.nextSpanId = undefined;
  }
}
