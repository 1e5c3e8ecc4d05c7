import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A compact, printable view of a span: what Kong's Zipkin reporter would show. */
export interface SpanSummary {
  name: string;
  kind: string;
  traceId: string;
  id: string;
  parentId?: string;
  tags: Record<string, string>;
  annotations: string[];
}

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

export function summarize(span: ReadableSpan): SpanSummary {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(span.attributes)) tags[k] = String(v);
  const out: SpanSummary = {
    name: span.name,
    kind: KINDS[span.kind] ?? String(span.kind),
    traceId: span.spanContext().traceId,
    id: span.spanContext().spanId,
    tags,
    annotations: span.events.map((e) => e.name),
  };
  if (span.parentSpanContext !== undefined) out.parentId = span.parentSpanContext.spanId;
  return out;
}

/** Wait until `count` spans were exported (spans are reported when the response is logged). */
export async function waitForSpans(
  get: () => readonly ReadableSpan[],
  count: number,
  timeoutMs = 5000,
): Promise<ReadableSpan[]> {
  const deadline = Date.now() + timeoutMs;
  while (get().length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} spans, got ${get().length}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return [...get()];
}
