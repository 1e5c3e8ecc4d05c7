'use strict';
// npm run bench:log-phase — CPU per request of the log phase alone: the plugin's `finish` on
// fixed request traces (3 spans: request, proxy, one balancer try; 8 annotations; Kong's tags),
// built, encoded and queued by the default reporter (Kong's queue + our JSON exporter). CPU time
// (process.cpuUsage) over rounds of 2000 requests, median of the rounds after 4 warm-up rounds.
//
//   npm run build && npm run bench:log-phase
//   BASELINE=/path/to/other/build/src npm run bench:log-phase   # interleaved with another build's
//                                                              # (e.g. a `git worktree` of an older commit)
//
// With BASELINE, both builds run in this one process, round by round, so the host's speed swings
// (which make the load benchmarks unreliable on a shared VM) hit both alike; compare the ratio.
// Knobs (env): ROUNDS (30) BASELINE (unset)
const path = require('path');
const h = require('./lib/harness');
const { fixedRequest } = require('./lib/fixed-request');

h.pinSelf();

const ROUNDS = h.envNum('ROUNDS', 30);
const N = 2000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function setup(load) {
  const { createZipkinPlugin } = load('plugin');
  const { BalancerTry } = load('trace/balancer-try');
  const plugin = createZipkinPlugin(
    {
      http_endpoint: 'http://127.0.0.1:9/api/v2/spans', // never reached: the batch waits an hour
      sample_ratio: 1,
      queue: { max_batch_size: 1000000, max_entries: 6000, max_bytes: null, max_coalescing_delay: 3600 },
    },
    { logger: quiet, nodeId: 'b0d0b2b4-0000-4000-8000-000000000000' },
  );
  let clock = Date.now() * 1000;
  let i = 0;
  const trace = () => fixedRequest(plugin, i++, (clock += 10000), BalancerTry);
  return { plugin, trace, samples: [] };
}

/** One round: N traces made first (not counted), then their log phase, CPU µs per request. */
function round(x, keep) {
  const traces = Array.from({ length: N }, x.trace);
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) x.plugin.runtime.spans.finish(traces[i], traces[i].startUs + 600);
  const c = process.cpuUsage(c0);
  if (keep) x.samples.push((c.user + c.system) / N);
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const current = setup((rel) => h.requireBuild(rel));
const baseline = process.env.BASELINE ? setup((rel) => require(path.join(process.env.BASELINE, rel))) : null;
for (let r = 0; r < ROUNDS; r++) {
  round(current, r >= 4);
  if (baseline !== null) round(baseline, r >= 4);
}
const rows = [['this build', median(current.samples).toFixed(2), '–']];
if (baseline !== null)
  rows.push([
    `BASELINE`,
    median(baseline.samples).toFixed(2),
    (median(current.samples) / median(baseline.samples)).toFixed(3),
  ]);
console.log(h.table(['build', 'log phase CPU µs/request (median)', 'this build ÷ baseline'], rows));
process.exit(0);
