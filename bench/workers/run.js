'use strict';
// npm run bench:workers — the CLI gateway (dist/gateway/cli.js) with --workers 1 and --workers 2:
// req/s and gateway CPU µs per request (the primary and every worker, from /proc).
//
//   npm run bench:workers                                # 2 rounds × W=1,2; 10 s each after 3 s warm-up (~1.5 min)
//   ROUNDS=3 DURATION=15 npm run bench:workers
//   SCHED=none npm run bench:workers                     # the kernel spreads connections (NODE_CLUSTER_SCHED_POLICY=none)
//
// A decK file with one service on bench/lib/upstream.js, one route and a global zipkin plugin
// (sample_ratio 1: Kong's 3 spans per request, queue.max_batch_size 200, bench:proxy's P1)
// reporting to bench/lib/sink.js; autocannon on CONNS connections. Unlike bench:proxy nothing is
// pinned: two workers need both cores of a 2-core machine, which the upstream, the sink and
// autocannon then share, so the req/s ratio understates what a second core gives a gateway whose
// load comes from elsewhere; gw CPU µs/req (all gateway processes) is the cost measure.
//
// Knobs (env): WORKERS (1,2) ROUNDS (2) DURATION (10) WARMUP (3) CONNS (50) SCHED (rr | none)
//   GW_PORT (8080) UPSTREAM_PORT (9101) SINK_PORT (9411) QUIET_WAIT_S (5)
// Output: bench/results/workers-<stamp>.json, logs under bench/results/logs/, markdown on stdout.
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('../lib/harness');
const { startBackends } = require('../proxy/run');

process.env.QUIET_WAIT_S ??= '5';
const WORKERS = (process.env.WORKERS || '1,2').split(',').map(Number);
const ROUNDS = h.envNum('ROUNDS', 2);
const DURATION = h.envNum('DURATION', 10);
const WARMUP = h.envNum('WARMUP', 3);
const CONNS = h.envNum('CONNS', 50);
const SCHED = process.env.SCHED || 'rr';
const ports = {
  gateway: h.envNum('GW_PORT', 8080),
  upstream: h.envNum('UPSTREAM_PORT', 9101),
  sink: h.envNum('SINK_PORT', 9411),
};
const ALL_CPUS = `0-${os.cpus().length - 1}`;
const CLI = path.join(h.REPO, 'dist', 'gateway', 'cli.js');

/** The gateway's processes: the CLI and, with workers, its children (from /proc). */
function gatewayPids(pid) {
  let children = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    /* gone */
  }
  return [pid, ...children.map(Number)];
}

function ticks(pids) {
  return Object.fromEntries(pids.map((p) => [p, h.procTicks(p)]));
}

async function waitReady(logFile, child, workers) {
  const t0 = Date.now();
  for (;;) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    if (/^proxy listening on /m.test(log)) {
      const pids = gatewayPids(child.pid);
      if (pids.length === (workers > 1 ? workers + 1 : 1)) return pids;
    }
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${log}`);
    if (Date.now() - t0 > 30000) throw new Error(`gateway not ready:\n${log}`);
    await h.sleep(100);
  }
}

async function measure(run, deck, workers, round) {
  const label = `w${workers}-r${round}`;
  const quiet = await h.waitQuiet();
  const env = SCHED === 'none' ? { NODE_CLUSTER_SCHED_POLICY: 'none' } : {};
  const child = run.startProc(
    `gateway-${label}`,
    ALL_CPUS,
    [CLI, '--config', deck, '--listen', `127.0.0.1:${ports.gateway}`, '--workers', String(workers)],
    env,
  );
  const pids = await waitReady(path.join(run.logdir, `gateway-${label}.log`), child, workers);
  await h.getJSON(ports.sink, '/reset');
  const warm = await run.autocannon({
    port: ports.gateway,
    duration: WARMUP,
    connections: CONNS,
    label: `${label}-warmup`,
  });
  const cpu0 = h.cpuTimes();
  const t0 = ticks(pids);
  const { cmd, result } = await run.autocannon({ port: ports.gateway, duration: DURATION, connections: CONNS, label });
  const t1 = ticks(pids);
  const busy = h.cpuBusy(cpu0, h.cpuTimes());
  const ac = h.pickAc(result, DURATION);
  const byPid = pids.map((p) => t1[p] - t0[p]);
  const gwTicks = byPid.reduce((a, b) => a + b, 0);
  process.kill(child.pid, 'SIGTERM');
  const exit = await child.exitPromise;
  const sink = await h.getJSON(ports.sink, '/count');
  const rec = {
    label,
    workers,
    round,
    sched: workers > 1 ? SCHED : null,
    cmd,
    quiet,
    main: ac,
    // Clock ticks are 10 ms: µs per request = ticks × 10,000 / requests.
    gwCpuUsPerReq: +((gwTicks * 10000) / ac.requestsTotal).toFixed(1),
    gwCpuPct: +((gwTicks * 100) / DURATION / 100).toFixed(1),
    primaryCpuPct: workers > 1 ? +((byPid[0] * 100) / DURATION / 100).toFixed(1) : null,
    machineBusyPct: Object.fromEntries(Object.entries(busy).filter(([k]) => /^cpu\d+$/.test(k))),
    // After the drain (SIGTERM), warm-up included. autocannon does not count the requests still in
    // flight when each of its two runs ends, which the gateway served and traced: received is
    // counted + 3 × up to 2 × CONNS.
    spans: { received: sink.spans, counted: 3 * (warm.result.requests.total + ac.requestsTotal) },
    exit,
  };
  console.error(
    `${label}: ${ac.reqPerSecAvg} req/s p99=${ac.latencyMs.p99}ms gw CPU ${rec.gwCpuPct}% (${rec.gwCpuUsPerReq} µs/req)` +
      `${rec.primaryCpuPct === null ? '' : `, primary ${rec.primaryCpuPct}%`} non2xx=${ac.non2xx} errors=${ac.errors} spans ${rec.spans.received} (3 × counted: ${rec.spans.counted}) exit=${exit.code}`,
  );
  return rec;
}

function summarize(runs, file) {
  const rows = WORKERS.map((w) => {
    const rs = runs.filter((r) => r.workers === w);
    return [
      String(w),
      h.f0(h.median(rs.map((r) => r.main.reqPerSecAvg))),
      h.f1(h.median(rs.map((r) => r.gwCpuUsPerReq))),
      h.f1(h.median(rs.map((r) => r.gwCpuPct))),
      w > 1 ? h.f1(h.median(rs.map((r) => r.primaryCpuPct))) : '–',
      h.f1(h.median(rs.map((r) => r.main.latencyMs.p99))),
      String(rs.length),
    ];
  });
  return [
    `### bench:workers — \`${path.relative(h.REPO, file)}\` (medians; ${CONNS} connections, ${DURATION} s runs, sched ${SCHED})`,
    '',
    h.table(['--workers', 'req/s', 'gw CPU µs/req', 'gw CPU %', 'primary CPU %', 'p99 ms', 'runs'], rows),
  ].join('\n');
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/gateway/cli.js missing: run `npm run build` first');
  const run = new h.Run('workers', { gwCpu: ALL_CPUS, loadCpu: ALL_CPUS });
  const deck = path.join(run.logdir, 'kong.json');
  fs.writeFileSync(
    deck,
    JSON.stringify({
      _format_version: '3.0',
      services: [
        { name: 'upstream', url: `http://127.0.0.1:${ports.upstream}`, routes: [{ name: 'all', paths: ['/'] }] },
      ],
      plugins: [
        {
          name: 'zipkin',
          config: {
            http_endpoint: `http://127.0.0.1:${ports.sink}/api/v2/spans`,
            sample_ratio: 1,
            queue: { max_batch_size: 200 },
          },
        },
      ],
    }),
  );
  await h.assertPortFree(ports.gateway);
  const stopBackends = await startBackends(run, ports, 0);
  const runs = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const w of WORKERS) runs.push(await measure(run, deck, w, round));
    }
  } finally {
    await stopBackends();
    run.killAll();
  }
  const file = run.writeResult({
    meta: { cpus: os.cpus().length, node: process.version, sched: SCHED, conns: CONNS, duration: DURATION },
    runs,
  });
  console.log(summarize(runs, file));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
