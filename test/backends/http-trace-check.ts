/**
 * Shared by the HTTP end-to-end backend tests: one trace's spans as the reporter sent them
 * (from the span relay), read back from Zipkin and from Jaeger and compared field by field.
 */
import { byId, expectedJaegerView, jaegerView, zipkinForm } from '../support/backends/compare';
import type { Jaeger } from '../support/backends/jaeger';
import { sentSpans, type SpanRelay } from '../support/backends/span-relay';
import type { StoredSpan, Zipkin } from '../support/backends/zipkin';

export interface Backends {
  zipkin: Zipkin;
  jaeger: Jaeger;
  relay: SpanRelay;
}

/** A trace id without the 16 zeros a 64-bit id may be padded with. */
export const shortId = (traceId: string): string => traceId.replace(/^0{16}(?=[0-9a-f]{16}$)/, '');

/** Waits until the relay has passed on `count` spans of the trace; returns them. */
export async function sentTrace(
  relay: SpanRelay,
  traceId: string,
  count: number,
  timeoutMs = 15000,
): Promise<StoredSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = relay.bodies
      .filter((b) => b.statuses.length > 0)
      .flatMap(sentSpans)
      .filter((s) => shortId(s.traceId) === shortId(traceId));
    if (spans.length >= count) return spans;
    if (Date.now() > deadline) throw new Error(`relay passed ${spans.length} of ${count} spans of ${traceId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The trace's `count` spans as sent, after checking that Zipkin stored exactly them and
 * that Jaeger holds exactly their Jaeger form.
 */
export async function checkTrace(backends: Backends, traceId: string, count: number): Promise<StoredSpan[]> {
  const sent = await sentTrace(backends.relay, traceId, count);
  expect(sent).toHaveLength(count);
  const stored = await backends.zipkin.waitForSpans(shortId(traceId), count);
  expect(byId(stored)).toEqual(byId(sent.map(zipkinForm)));
  const inJaeger = await backends.jaeger.waitForSpans(shortId(traceId), count);
  expect(byId(inJaeger).map(jaegerView)).toEqual(byId(sent).map(expectedJaegerView));
  return sent;
}

/** The span named `name`. */
export function named(spans: readonly StoredSpan[], name: string): StoredSpan {
  const span = spans.find((s) => s.name === name);
  if (span === undefined) throw new Error(`no span ${name} in ${spans.map((s) => s.name).join(', ')}`);
  return span;
}
