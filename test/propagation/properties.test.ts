import fc from 'fast-check';
import { INJECT_FORMATS, EXTRACT_FORMATS } from '../../src/config/types';
import { PropagationEngine } from '../../src/propagation/engine';
import { silentLogger } from '../../src/logger';
import { headerBag } from '../support/recording-logger';

// Property-based checks: whatever arrives, extraction never throws and whatever is injected
// is a clean header value with ids of the right length.

const NAMES = [
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'uber-trace-id',
  'uberctx-k',
  'ot-tracer-traceid',
  'ot-tracer-spanid',
  'ot-tracer-sampled',
  'ot-baggage-k',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'x-amzn-trace-id',
  'x-cloud-trace-context',
  'x-instana-t',
  'x-instana-s',
  'x-instana-l',
];

const hex = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${min},${max}}$`));
const plausible = fc.oneof(
  hex(1, 40),
  fc.tuple(hex(2, 2), hex(30, 34), hex(14, 18), hex(1, 3)).map((p) => p.join('-')),
  fc.tuple(hex(14, 34), hex(14, 18), fc.constantFrom('', '0', '1', 'd', 'x'), hex(0, 18)).map((p) => p.join('-')),
  fc.tuple(hex(1, 34), hex(1, 18), hex(1, 18), hex(1, 3)).map((p) => p.join(':')),
  fc
    .tuple(hex(8, 8), hex(24, 24), hex(16, 16), fc.constantFrom('0', '1', '?'))
    .map(([a, b, c, d]) => `Root=1-${a}-${b};Parent=${c};Sampled=${d}`),
  fc
    .tuple(hex(32, 32), fc.bigInt({ min: 0n, max: 2n ** 70n }), fc.integer({ min: 0, max: 9 }))
    .map(([t, s, o]) => `${t}/${s};o=${o}`),
  fc.bigInt({ min: -5n, max: 2n ** 130n }).map(String),
  fc.string(),
  fc.string({ unit: 'binary' }),
);
const headerSet = fc.dictionary(
  fc.constantFrom(...NAMES),
  fc.oneof(plausible, fc.array(plausible, { minLength: 1, maxLength: 3 })),
  {
    maxKeys: 6,
  },
);

const CONTROL = /[\x00-\x1f\x7f]/;

const engine = new PropagationEngine(
  { extract: EXTRACT_FORMATS, inject: [...INJECT_FORMATS, 'preserve'], clear: [], default_format: 'b3' },
  silentLogger,
);

test('random and malformed header sets never throw, and every injected value is clean', () => {
  fc.assert(
    fc.property(headerSet, fc.boolean(), (headers, sampled) => {
      const extracted = engine.extract(headers);
      const ctx = extracted.context ?? {};
      if (ctx.traceId !== undefined) expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
      if (ctx.spanId !== undefined) expect(ctx.spanId).toMatch(/^[0-9a-f]{16}$/);
      if (ctx.parentId !== undefined) expect(ctx.parentId).toMatch(/^[0-9a-f]{16}$/);
      const bag = headerBag();
      engine.inject(
        {
          ...ctx,
          traceId: ctx.traceId ?? 'a'.repeat(32),
          spanId: '1'.repeat(16),
          parentId: ctx.spanId,
          shouldSample: sampled,
        },
        extracted.format,
        bag,
      );
      for (const [name, value] of Object.entries(bag.headers)) {
        expect(CONTROL.test(value)).toBe(false);
        expect(name).toMatch(/^[a-z0-9-]+$/);
      }
      const h = bag.headers;
      expect(h.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      expect(h['x-b3-traceid']).toMatch(/^([0-9a-f]{16}|[0-9a-f]{32})$/);
      expect(h['x-b3-spanid']).toMatch(/^[0-9a-f]{16}$/);
      expect(h.b3).toMatch(/^([0-9a-f]{16}|[0-9a-f]{32})-[0-9a-f]{16}-[01d](-[0-9a-f]{16})?$/);
      expect(h['uber-trace-id']).toMatch(/^([0-9a-f]{16}|[0-9a-f]{32}):[0-9a-f]{16}:([0-9a-f]{16}|0):0[01]$/);
      expect(h['ot-tracer-traceid']).toMatch(/^([0-9a-f]{16}|[0-9a-f]{32})$/);
      expect(h['x-datadog-trace-id']).toMatch(/^[0-9]{1,20}$/);
      expect(h['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$/);
      expect(h['x-cloud-trace-context']).toMatch(/^[0-9a-f]{32}\/[0-9]{1,20};o=[01]$/);
      expect(h['x-instana-t']).toMatch(/^([0-9a-f]{16}|[0-9a-f]{32})$/);
    }),
    { numRuns: 3000 },
  );
});
