/**
 * Hostile input, fuzzed: every extractor (through the engine and directly) and the
 * `Zipkin-Tags` parser get random and adversarial values, over 100,000 cases in all
 * (generators and checks: hostile-kit.ts; a longer run: test/soak/hostile-input.soak.ts).
 *
 * - Nothing throws.
 * - What extraction returns is normalised (trace id 32 hex, span / parent 16) and every
 *   header injected from it, in all nine formats, is a clean value (no C0 control, no DEL)
 *   with ids of the lengths the format table allows, equal to the context's low bytes.
 * - Warnings are Kong's fixed texts (or ours): nothing from the request is echoed into a
 *   log line, except the tags parser's list of bad items, which Kong echoes too.
 * - Baggage goes out escaped, within the limits (180 items, 4096 per item, 8192 in all).
 * - Tags keep whatever characters Kong keeps, and the span JSON stays valid and exact.
 * - Time is linear in the input: a 64 KiB value takes well under 50 ms and 4× the input
 *   takes less than 8× the time (a backtracking regex takes seconds and grows 16×).
 */
import fc from 'fast-check';
import { SpanKind } from '@opentelemetry/api';
import { EXTRACT_FORMATS } from '../../src/config/types';
import type { RequestHeaders } from '../../src/propagation/context';
import { parseTagsHeader } from '../../src/trace/tags-header';
import { ZipkinJsonEncoder } from '../../src/export/zipkin-json-encoder';
import { makeSpans } from '../export/helpers';
import {
  directCase,
  directHeaders,
  engineCase,
  engineCaseArgs,
  hostileUnit,
  JSON_CONTROL,
  KIB,
  shapes,
  TARGETS,
  tagsLongArb,
  tagsOracleCase,
  tagsShapeCase,
  tagsUnit,
  timeOf,
  timesOf,
} from './hostile-kit';

// Cases per property; the total is asserted so that trimming one shows.
const RUNS = { engine: 30_000, direct: 7_000, tagsOracle: 16_000, tagsLong: 4_000, tagsJson: 3_000 };
const TOTAL_RUNS = RUNS.engine + RUNS.direct * EXTRACT_FORMATS.length + RUNS.tagsOracle + RUNS.tagsLong + RUNS.tagsJson;

test('the default run fuzzes at least 100,000 cases', () => {
  expect(TOTAL_RUNS).toBeGreaterThanOrEqual(100_000);
});

test(`the engine: random and hostile header sets, every format extracted then every format injected (${RUNS.engine} cases)`, () => {
  fc.assert(
    fc.property(engineCaseArgs, ([headers, sampled, newSpan]) => engineCase(headers, sampled, newSpan)),
    { numRuns: RUNS.engine },
  );
});

test.each(EXTRACT_FORMATS.map((f) => [f]))(
  `the %s extractor called directly: no throw, known warnings, lowercase even-length hex ids within bounds (${RUNS.direct} cases)`,
  (format) => {
    fc.assert(
      fc.property(directHeaders(format), (headers: RequestHeaders) => directCase(format, headers)),
      { numRuns: RUNS.direct },
    );
  },
);

describe('the Zipkin-Tags parser', () => {
  test(`agrees with Kong's pattern on every short input (${RUNS.tagsOracle} cases)`, () => {
    fc.assert(fc.property(fc.string({ unit: tagsUnit, maxLength: 24 }), tagsOracleCase), { numRuns: RUNS.tagsOracle });
  });

  test(`long and hostile values: no throw, keys without spaces, values trimmed (${RUNS.tagsLong} cases)`, () => {
    fc.assert(fc.property(tagsLongArb, tagsShapeCase), { numRuns: RUNS.tagsLong });
  });

  test('what is not a string or a list of strings counts as absent (a header named like an Object method)', () => {
    const viaPrototype: RequestHeaders = {};
    expect(parseTagsHeader(viaPrototype['constructor'])).toBeUndefined();
    expect(parseTagsHeader(viaPrototype['__proto__' as string])).toBeUndefined();
    expect({ ...parseTagsHeader(['a=1', 5 as unknown as string, 'b=2'])?.tags }).toEqual({ a: '1', b: '2' });
  });

  // Kong keeps every character of a tag (a control character too): it cannot break a
  // header, since tags only go into the span, and the span's JSON escapes it.
  test(`tags with any characters make valid, exact span JSON (${RUNS.tagsJson} cases)`, () => {
    const encoder = new ZipkinJsonEncoder({ localServiceName: 'kong', defaultServiceName: null });
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(tagsUnit, hostileUnit), maxLength: 80 }), (text) => {
        const tags = { ...parseTagsHeader(text)?.tags };
        const [span] = makeSpans([
          {
            name: 'GET',
            kind: SpanKind.SERVER,
            spanId: 'a1b2c3d4e5f60718',
            start: [1700000000, 0],
            end: [1700000000, 1000],
            attributes: tags,
          },
        ]);
        const json = encoder.encode(span);
        const decoded = JSON.parse(json) as { tags?: Record<string, string> };
        expect(decoded.tags ?? {}).toEqual(tags);
        expect(encoder.encodeBytes(span).equals(Buffer.from(json, 'utf8'))).toBe(true);
        // The JSON text itself carries no raw C0 control (JSON allows a raw DEL).
        expect(JSON_CONTROL.test(json)).toBe(false);
      }),
      { numRuns: RUNS.tagsJson },
    );
  });
});

describe('extraction time is linear in the input size', () => {
  const small = shapes(16 * KIB);
  const large = shapes(64 * KIB);

  test.each(TARGETS.map((t) => [t.name, t]))(
    '%s: 64 KiB in milliseconds, 4× the input under 8× the time',
    (_name, target) => {
      const slow: string[] = [];
      for (const shape of Object.keys(large)) {
        const [t16, t64] = timesOf([() => target.run(small[shape]), () => target.run(large[shape])], 3);
        // 50 ms is far above the normal (under a millisecond) and far below a blow-up
        // (seconds); the ratio allows 50 µs of timer and GC noise on tiny times.
        if (t64 >= 50 || t64 > 8 * t16 + 0.05)
          slow.push(`${shape}: 16 KiB ${t16.toFixed(3)} ms, 64 KiB ${t64.toFixed(3)} ms`);
        if (target.viaEngine !== undefined) {
          const viaEngine = timeOf(() => target.viaEngine?.(large[shape]), 2);
          if (viaEngine >= 50) slow.push(`${shape} through the engine: ${viaEngine.toFixed(3)} ms`);
        }
      }
      expect(slow).toEqual([]);
    },
  );
});
