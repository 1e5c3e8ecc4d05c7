'use strict';
// npm run bench:profile — one `--cpu-prof` CPU profile of a bench:proxy gateway under load, then its
// summary (bench/profile-summary.js): top functions by self time, our code by self and inclusive time.
//
//   npm run build && npm run bench:profile                 # P1 gateway, 3 s warm-up + 15 s load
//   VARIANT=P0 DURATION=10 npm run bench:profile           # another variant (A, B, P1, P0, H, Z, CA, C1, C0)
//   node bench/profile-summary.js bench/results/profiles/<name>.cpuprofile --top 40   # again, more rows
//
// The gateway runs exactly as in bench:proxy (same pinning, upstream and sink; the CLI variants run
// the real CLI under node with the flags below), with
// `--cpu-prof --cpu-prof-dir=bench/results/profiles`; V8 writes the profile when the gateway exits
// after its SIGTERM drain. The profile covers start-up, warm-up, the load and the drain; at
// saturation the load dominates. Profiling slows the gateway (~10–20%): use it for shares, not rates.
//
// Knobs (env): VARIANT (P1) DURATION (15) WARMUP (3) CONNS (50) TOP (25) PROFILE_INTERVAL_US (V8 default 1000)
//   GW_CPU LOAD_CPU GW_PORT UPSTREAM_PORT SINK_PORT (as bench:proxy)
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { runGateway, startBackends, line } = require('./proxy/run');
const gateways = require('./lib/gateways');
const { summarize, markdown } = require('./profile-summary');

async function main() {
  const variant = (process.env.VARIANT || 'P1').toUpperCase();
  gateways.variant(variant);
  h.checkBuildFresh();
  const run = new h.Run('profile');
  const dir = path.join(h.RESULTS, 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const name = `${variant}-${run.stamp}.cpuprofile`;
  const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`];
  if (process.env.PROFILE_INTERVAL_US) flags.push(`--cpu-prof-interval=${process.env.PROFILE_INTERVAL_US}`);
  const ports = gateways.benchPorts();
  let stopBackends = null;
  let rec;
  try {
    stopBackends = await startBackends(run, ports, 0);
    rec = await runGateway(run, {
      label: `profile-${variant}`,
      variant,
      duration: h.envNum('DURATION', 15),
      warmup: h.envNum('WARMUP', 3),
      connections: h.envNum('CONNS', 50),
      ports,
      nodeFlags: flags,
    });
    rec.variant = variant;
    console.log(line(rec));
  } finally {
    if (stopBackends) await stopBackends();
    run.killAll();
  }
  const file = path.join(dir, name);
  for (let i = 0; i < 50 && !fs.existsSync(file); i++) await h.sleep(100);
  if (!fs.existsSync(file)) throw new Error(`no profile written at ${file}`);
  run.writeResult({
    meta: { bench: 'profile', variant, profile: path.relative(h.REPO, file), node: process.version },
    run: rec,
  });
  const top = h.envNum('TOP', 25);
  const s = summarize(JSON.parse(fs.readFileSync(file, 'utf8')), {
    top,
    // The CLI runs the published build (dist/), the express gateway loads build/src/.
    ours:
      gateways.variant(variant).kind === 'cli'
        ? `${path.sep}dist${path.sep}`
        : `${path.sep}build${path.sep}src${path.sep}`,
  });
  console.log(`\nwrote ${path.relative(h.REPO, file)}\n`);
  console.log(markdown(s, file, top));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
