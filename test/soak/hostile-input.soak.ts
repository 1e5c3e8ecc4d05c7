/**
 * Hostile-input soak (issue 6): the properties of test/reliability/fuzz.test.ts with many
 * more cases, and the time checks with inputs up to 1 MiB. Exits 1 on the first failure
 * (printing fast-check's counterexample and seed), else prints the figures (JSON, then a
 * markdown table) for the README.
 *
 *   npm run build && node build/test/soak/hostile-input.soak.js
 *   CASES=20000 node build/test/soak/hostile-input.soak.js   # smoke
 *
 * Env: CASES (1,000,000: engine cases; each extractor and each tags property gets a fifth
 * of it), SEED (random). Not run by jest.
 */
import fc from 'fast-check';
import { EXTRACT_FORMATS } from '../../src/config/types';
import {
  directCase,
  directHeaders,
  engineCase,
  engineCaseArgs,
  KIB,
  shapes,
  TARGETS,
  tagsLongArb,
  tagsOracleCase,
  tagsShapeCase,
  tagsUnit,
  timeOf,
} from '../reliability/hostile-kit';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
};

const CASES = num('CASES', 1_000_000);
const SEED = num('SEED', Math.floor(Math.random() * 2 ** 31));

interface Row {
  property: string;
  cases: number;
  seconds: number;
}

function run<T>(property: string, arb: fc.Arbitrary<T>, check: (v: T) => void, cases: number, rows: Row[]): void {
  const start = process.hrtime.bigint();
  fc.assert(fc.property(arb, check), { numRuns: cases, seed: SEED });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  rows.push({ property, cases, seconds });
  process.stderr.write(`${property}: ${cases} cases in ${seconds.toFixed(1)} s\n`);
}

function main(): void {
  const rows: Row[] = [];
  const fifth = Math.max(1, Math.floor(CASES / 5));
  run(
    'engine: extract every format, inject every format',
    engineCaseArgs,
    ([h, s, span]) => engineCase(h, s, span),
    CASES,
    rows,
  );
  for (const format of EXTRACT_FORMATS)
    run(`${format} extractor directly`, directHeaders(format), (h) => directCase(format, h), fifth, rows);
  run("tags parser = Kong's pattern", fc.string({ unit: tagsUnit, maxLength: 24 }), tagsOracleCase, fifth, rows);
  run('tags parser, long and hostile values', tagsLongArb, tagsShapeCase, fifth, rows);

  // Time: the worst shape per target at 64 KiB, 256 KiB and 1 MiB, and the 256 KiB → 1 MiB ratio.
  const sizes = [64 * KIB, 256 * KIB, 1024 * KIB];
  const inputs = sizes.map((n) => shapes(n));
  const times: { target: string; shape: string; ms: number[] }[] = [];
  for (const target of TARGETS) {
    for (const shape of Object.keys(inputs[0])) {
      times.push({ target: target.name, shape, ms: inputs.map((i) => timeOf(() => target.run(i[shape]), 2)) });
    }
  }
  const worst = [...times].sort((a, b) => b.ms[2] - a.ms[2]).slice(0, 5);
  const worstRatio = [...times].filter((t) => t.ms[2] > 0.5).sort((a, b) => b.ms[2] / b.ms[1] - a.ms[2] / a.ms[1])[0];
  const linear = times.every((t) => t.ms[2] < 8 * t.ms[1] + 0.2);

  const total = rows.reduce((n, r) => n + r.cases, 0);
  const seconds = rows.reduce((n, r) => n + r.seconds, 0);
  const figures = {
    seed: SEED,
    cases: total,
    seconds: Number(seconds.toFixed(1)),
    casesPerSecond: Math.round(total / seconds),
    slowest1MiB: worst.map((w) => ({ target: w.target, shape: w.shape, ms: w.ms.map((m) => Number(m.toFixed(3))) })),
    worstRatio256to1024:
      worstRatio === undefined
        ? null
        : {
            target: worstRatio.target,
            shape: worstRatio.shape,
            ratio: Number((worstRatio.ms[2] / worstRatio.ms[1]).toFixed(2)),
          },
    linear,
  };
  process.stdout.write(JSON.stringify(figures, null, 2) + '\n\n');
  process.stdout.write('| property | cases | s |\n|---|---:|---:|\n');
  for (const r of rows) process.stdout.write(`| ${r.property} | ${r.cases} | ${r.seconds.toFixed(1)} |\n`);
  process.stdout.write('\n| slowest at 1 MiB | 64 KiB ms | 256 KiB ms | 1 MiB ms |\n|---|---:|---:|---:|\n');
  for (const w of worst)
    process.stdout.write(`| ${w.target} (${w.shape}) | ${w.ms.map((m) => m.toFixed(3)).join(' | ')} |\n`);
  if (!linear) {
    process.stderr.write('FAIL: some input took more than 8× the time for 4× the size\n');
    process.exit(1);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`FAIL (seed ${SEED}): ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
