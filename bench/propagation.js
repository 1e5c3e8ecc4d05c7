'use strict';
// npm run bench:propagation — extract + inject operations per second for each of Kong's nine
// formats: ours against the stock OTel propagator of that format, same inputs, one process.
//
//   npm run build && npm run bench:propagation           # 15 interleaved repetitions × 50 ms per case (~25 s)
//   REPS=5 BATCH_MS=20 npm run bench:propagation         # smoke
//
// One operation = extract from a request's headers + inject into a fresh carrier (the
// extracted context is re-injected: same ids for every implementation). Implementations:
//   stock   the stock TextMapPropagator: W3CTraceContextPropagator (@opentelemetry/core),
//           B3Propagator single / multi, JaegerPropagator, OTTracePropagator, AWSXRayPropagator,
//           CloudPropagator (GCP); extract(ROOT_CONTEXT, headers) then inject(ctx, {}).
//           datadog and instana have no stock propagator.
//   otel    ours as an OTel TextMapPropagator: createPropagator({ extract: [f], inject: [f] }),
//           called exactly as the stock one (same interface, same getter / setter).
//   engine  ours as the plugin runs it: PropagationEngine.extract(headers) + inject(ctx, format, writer)
//           on raw Node header objects (no OTel Context).
// The headers are a realistic request (host, user-agent, accept…, 9 headers) plus the format's own.
// Each repetition runs every (format, implementation) case for BATCH_MS, implementations in a
// rotating order; the table gives the median ops/s over repetitions and ours / stock.
//
// Knobs (env): REPS (15) BATCH_MS (50) WARMUP_MS (300 per case) BENCH_CPU (0: pinned with
// taskset; `none` = unpinned) QUIET_WAIT_S (120) QUIET_PCT (20): wait for a quiet machine first.
// Output: bench/results/propagation-<stamp>.json, markdown on stdout.
const h = require('./lib/harness');

h.pinSelf();
// The GCP propagator prints a deprecation notice on load; it would land under the table.
process.noDeprecation = true;

const api = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3');
const { JaegerPropagator } = require('@opentelemetry/propagator-jaeger');
const { OTTracePropagator } = require('@opentelemetry/propagator-ot-trace');
const { AWSXRayPropagator } = require('@opentelemetry/propagator-aws-xray');
const { CloudPropagator } = require('@google-cloud/opentelemetry-cloud-trace-propagator');
const { PropagationEngine, createPropagator } = h.requireBuild('propagation');
const { silentLogger } = h.requireBuild('logger');

const REPS = h.envNum('REPS', 15);
const BATCH_MS = h.envNum('BATCH_MS', 50);
const WARMUP_MS = h.envNum('WARMUP_MS', 300);

const BASE = {
  host: 'api.example.com',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  accept: 'application/json, text/plain, */*',
  'accept-encoding': 'gzip, deflate, br',
  'accept-language': 'en-US,en;q=0.9',
  connection: 'keep-alive',
  'x-request-id': '5f0c8a9e-7c1d-4d3e-9b1a-2e6f4c8d0a1b',
  'x-forwarded-for': '203.0.113.7',
  cookie: 'session=abc123; theme=dark',
};

// [format, our extract format, our inject format, stock propagator or null, format headers]
const FORMATS = [
  [
    'w3c',
    'w3c',
    'w3c',
    new W3CTraceContextPropagator(),
    { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  ],
  [
    'b3',
    'b3',
    'b3',
    new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
    {
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
    },
  ],
  [
    'b3-single',
    'b3',
    'b3-single',
    new B3Propagator(),
    { b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90' },
  ],
  [
    'jaeger',
    'jaeger',
    'jaeger',
    new JaegerPropagator(),
    { 'uber-trace-id': '80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:05e3ac9a4f6e3b90:1' },
  ],
  [
    'ot',
    'ot',
    'ot',
    new OTTracePropagator(),
    {
      'ot-tracer-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'ot-tracer-spanid': 'e457b5a2e4d86bd1',
      'ot-tracer-sampled': 'true',
    },
  ],
  [
    'datadog',
    'datadog',
    'datadog',
    null,
    {
      'x-datadog-trace-id': '1234567890123456789',
      'x-datadog-parent-id': '9876543210987654321',
      'x-datadog-sampling-priority': '1',
    },
  ],
  [
    'aws',
    'aws',
    'aws',
    new AWSXRayPropagator(),
    { 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
  ],
  [
    'gcp',
    'gcp',
    'gcp',
    new CloudPropagator(),
    { 'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1234567890123456789;o=1' },
  ],
  [
    'instana',
    'instana',
    'instana',
    null,
    { 'x-instana-t': '80f198ee56343ba8', 'x-instana-s': 'e457b5a2e4d86bd1', 'x-instana-l': '1' },
  ],
];

let last = null; // keeps results observable

/** A fresh loop function per case, so each has its own call-site feedback (no shared megamorphic loop). */
function makeLoop() {
  return new Function('op', 'n', 'let x = 0; for (let i = 0; i < n; i++) x = (x + op()) | 0; return x;');
}

function makeCases() {
  const cases = [];
  for (const [name, extractFormat, injectFormat, stock, own] of FORMATS) {
    const headers = { ...BASE, ...own };
    if (stock) {
      cases.push({
        format: name,
        impl: 'stock',
        stockName: stock.constructor.name,
        op: () => {
          const ctx = stock.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter);
          const out = {};
          stock.inject(ctx, out, api.defaultTextMapSetter);
          last = out;
          return 1;
        },
      });
    }
    const kp = createPropagator(
      { extract: [extractFormat], inject: [injectFormat], clear: [], default_format: 'w3c' },
      { logger: silentLogger },
    );
    cases.push({
      format: name,
      impl: 'otel',
      op: () => {
        const ctx = kp.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter);
        const out = {};
        kp.inject(ctx, out, api.defaultTextMapSetter);
        last = out;
        return 1;
      },
    });
    const engine = new PropagationEngine(
      { extract: [extractFormat], inject: [injectFormat], clear: [], default_format: 'w3c' },
      silentLogger,
    );
    let target = null;
    const writer = {
      set: (k, v) => {
        target[k] = v;
      },
      remove: (k) => {
        delete target[k];
      },
    };
    cases.push({
      format: name,
      impl: 'engine',
      op: () => {
        const r = engine.extract(headers);
        const out = {};
        target = out;
        engine.clear(writer);
        engine.inject(r.context, r.format, writer);
        last = out;
        return 1;
      },
    });
  }
  for (const c of cases) {
    c.loop = makeLoop();
    c.samples = [];
    c.op();
    c.injected = last; // what this implementation wrote: kept in the results as a sanity check
  }
  return cases;
}

function timeIt(c, n) {
  const t0 = process.hrtime.bigint();
  c.loop(c.op, n);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Iterations taking about `ms` (doubling until measurable, then scaled). */
function calibrate(c, ms) {
  let n = 64;
  for (;;) {
    const s = timeIt(c, n);
    if (s >= ms / 1000 / 4 || n > 1e8) return Math.max(1, Math.round((n * (ms / 1000)) / s));
    n *= 2;
  }
}

async function main() {
  const quietBefore = await h.waitQuiet();
  const cases = makeCases();
  for (const c of cases) {
    const n = calibrate(c, WARMUP_MS);
    timeIt(c, n); // warm-up
    c.n = calibrate(c, BATCH_MS);
  }
  const impls = ['stock', 'otel', 'engine'];
  for (let rep = 0; rep < REPS; rep++) {
    const order = impls.map((_, i) => impls[(i + rep) % impls.length]);
    for (const [name] of FORMATS) {
      for (const impl of order) {
        const c = cases.find((x) => x.format === name && x.impl === impl);
        if (!c) continue;
        c.samples.push(c.n / timeIt(c, c.n));
      }
    }
  }

  const rows = [];
  const summary = [];
  for (const [name] of FORMATS) {
    const get = (impl) => cases.find((x) => x.format === name && x.impl === impl);
    const s = get('stock'),
      o = get('otel'),
      e = get('engine');
    const ms = s ? h.median(s.samples) : null,
      mo = h.median(o.samples),
      me = h.median(e.samples);
    summary.push({
      format: name,
      stock: s ? s.stockName : null,
      stockOps: ms,
      otelOps: mo,
      engineOps: me,
      otelRatio: ms ? mo / ms : null,
      engineRatio: ms ? me / ms : null,
    });
    const yes = (x) => (ms ? (x >= ms ? 'yes' : '**no**') : '–');
    rows.push([
      name,
      s ? s.stockName : '(none)',
      h.f0(ms),
      h.f0(me),
      ms ? h.f2(me / ms) : '–',
      yes(me),
      h.f0(mo),
      ms ? h.f2(mo / ms) : '–',
      yes(mo),
    ]);
  }
  const result = {
    meta: {
      bench: 'propagation',
      quietBefore,
      reps: REPS,
      batchMs: BATCH_MS,
      warmupMs: WARMUP_MS,
      node: process.version,
      cpu: process.env.BENCH_CPU || '0',
      startedAt: new Date().toISOString(),
      loadavg: require('os').loadavg(),
      versions: h.versions([
        '@opentelemetry/api',
        '@opentelemetry/core',
        '@opentelemetry/propagator-b3',
        '@opentelemetry/propagator-jaeger',
        '@opentelemetry/propagator-ot-trace',
        '@opentelemetry/propagator-aws-xray',
        '@google-cloud/opentelemetry-cloud-trace-propagator',
      ]),
    },
    summary,
    cases: cases.map((c) => ({
      format: c.format,
      impl: c.impl,
      stock: c.stockName,
      iterationsPerBatch: c.n,
      opsPerSec: c.samples,
      injected: c.injected,
    })),
  };
  const run = { name: 'propagation', stamp: h.stamp() };
  const file = require('path').join(h.RESULTS, `propagation-${run.stamp}.json`);
  require('fs').mkdirSync(h.RESULTS, { recursive: true });
  require('fs').writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`wrote ${require('path').relative(h.REPO, file)}\n`);
  console.log(
    `### bench:propagation — extract + inject per second (median of ${REPS} interleaved repetitions of ${BATCH_MS} ms; node ${process.version}; load average ${result.meta.loadavg.map((x) => x.toFixed(2)).join(' ')})\n`,
  );
  console.log(
    h.table(
      [
        'format',
        'stock propagator',
        'stock ops/s',
        'ours: engine ops/s',
        'engine / stock',
        'engine ≥ stock',
        'ours: OTel propagator ops/s',
        'propagator / stock',
        'propagator ≥ stock',
      ],
      rows,
    ),
  );
  console.log(
    '\nengine = PropagationEngine on raw headers (what the plugin runs per request); OTel propagator = createPropagator(), called as the stock one.',
  );
  if (last === null) console.log('');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
