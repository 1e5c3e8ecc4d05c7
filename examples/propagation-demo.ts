/**
 * Feeds sample incoming headers of every format through `createPropagator` (Kong's default
 * propagation: extract in the legacy order, inject the format that came in, b3 otherwise)
 * and prints what was extracted and what would go upstream from a gateway span.
 *
 *   npm run build && node build/examples/propagation-demo.js
 */
import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createPropagator, getExtracted } from '../src/propagation';
import type { Logger } from '../src/logger';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

const SAMPLES: ReadonlyArray<readonly [string, Record<string, string>]> = [
  ['w3c', { traceparent: `00-${T}-${S}-01` }],
  ['b3', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' }],
  ['b3-single', { b3: `${T.slice(16)}-${S}-1` }],
  ['jaeger', { 'uber-trace-id': `${T}:${S}:0:1`, 'uberctx-tenant': 'acme corp' }],
  [
    'ot',
    { 'ot-tracer-traceid': T.slice(16), 'ot-tracer-spanid': S, 'ot-tracer-sampled': 'true', 'ot-baggage-user': 'ada' },
  ],
  [
    'datadog',
    {
      'x-datadog-trace-id': BigInt('0x' + T.slice(16)).toString(),
      'x-datadog-parent-id': BigInt('0x' + S).toString(),
      'x-datadog-sampling-priority': '1',
    },
  ],
  ['aws', { 'x-amzn-trace-id': `Root=1-${T.slice(0, 8)}-${T.slice(8)};Parent=${S};Sampled=1` }],
  ['gcp', { 'x-cloud-trace-context': `${T}/${BigInt('0x' + S).toString()};o=1` }],
  ['instana', { 'x-instana-t': T.slice(16), 'x-instana-s': S, 'x-instana-l': '1' }],
  ['(none)', {}],
  ['(malformed)', { traceparent: `00-${T}-zzzz-01` }],
];

const warnings: string[] = [];
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m) => void warnings.push(m),
  error: (m) => void warnings.push(m),
};
const propagator = createPropagator(null, { logger });
const tracer = new BasicTracerProvider().getTracer('gateway-zipkin-demo');

const rows: string[][] = [];
for (const [label, headers] of SAMPLES) {
  warnings.length = 0;
  const ctx = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  const extracted = getExtracted(ctx);
  const span = tracer.startSpan('GET (proxy)', {}, ctx);
  const upstream: Record<string, string> = {};
  propagator.inject(trace.setSpan(ctx, span), upstream, defaultTextMapSetter);
  span.end();
  const k = extracted?.context;
  rows.push([
    label,
    extracted?.format ?? '-',
    k?.traceId ?? '(new trace)',
    k?.spanId ?? '-',
    k?.shouldSample === undefined ? '-' : String(k.shouldSample),
    Object.entries(upstream)
      .map(([n, v]) => `${n}: ${v}`)
      .join('\n') + (warnings.length ? `\n(warn: ${warnings.join('; ')})` : ''),
  ]);
}

printTable(
  [
    'incoming',
    'extracted as',
    'trace id',
    'parent span',
    'sampled',
    'upstream headers (new span ' + 'under the incoming one)',
  ],
  rows,
);

function printTable(head: string[], body: string[][]): void {
  const cells = [head, ...body].map((r) => r.map((c) => c.split('\n')));
  const widths = head.map((_, i) => Math.max(...cells.map((r) => Math.max(...r[i].map((l) => l.length)))));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const out: string[] = [line];
  cells.forEach((row, ri) => {
    const height = Math.max(...row.map((c) => c.length));
    for (let l = 0; l < height; l++)
      out.push('| ' + row.map((c, i) => (c[l] ?? '').padEnd(widths[i])).join(' | ') + ' |');
    if (ri === 0 || ri === cells.length - 1) out.push(line);
  });
  process.stdout.write(out.join('\n') + '\n');
}
