'use strict';
// npm run bench:proxy — throughput cost of tracing on an express + http-proxy-middleware gateway:
// our plugin against the untraced gateway and the stock OTel stack, in alternating rounds.
//
//   npm run build && npm run bench:proxy                 # 6 rounds × A,B,P1,P0, 3 s warm-up + 15 s each (~9 min)
//   ROUNDS=1 DURATION=5 WARMUP=2 npm run bench:proxy     # smoke
//   ORDER=A,P1 ROUNDS=12 npm run bench:proxy             # only some variants
//   node bench/proxy/summarize.js bench/results/proxy-<stamp>.json [...]   # tables again (several files pooled)
//
// Variants (bench/proxy/gateway.js):
//   A   untraced: express + createProxyMiddleware({ target, agent: keep-alive })  (anchor SET=keepalive, A)
//   B   stock OTel exactly as the anchor's B (http instrumentation, default BatchSpanProcessor, stock Zipkin exporter)
//   P1  ours: zipkinMiddleware + zipkinProxyPlugin, sample_ratio 1, queue.max_batch_size 200, http_endpoint = sink
//   P0  ours with Kong's default sample_ratio 0.001
//   H   diagnostic, not in the default ORDER: A + only the plugin's response hooks (no tracing)
// Setup as the anchor: gateway pinned to CPU GW_CPU (0); upstream, sink and autocannon share LOAD_CPU (1);
// a cpuprobe run on the gateway core before each run (VM drift); the sink counts spans; the gateway
// drains its span queue on SIGTERM before exiting, so the final sink count is complete.
// Spans expected: 2 per request received by the gateway (B), 3 per request our plugin sampled (P1, P0),
// counted in the gateway (not autocannon's total: requests cut off when autocannon stops are traced too).
//
// Knobs (env): ROUNDS (6) DURATION (15 s) WARMUP (3 s) CONNS (50) ORDER (A,B,P1,P0)
//   GW_CPU (0) LOAD_CPU (1) GW_PORT (8080) UPSTREAM_PORT (9101) SINK_PORT (9411) SINK_DELAY_MS (0)
//   SINK_MODE (parse: JSON.parse every POST as the anchor; scan: count spans without parsing, to see
//     whether the sink, on the load CPU, limits P1, which reports 3 spans per request)
//   P1_QUEUE / P0_QUEUE (JSON config.queue, default {"max_batch_size":200}) ROUTE_IDENTITY (1) REPORTING (auto)
//   PLUGIN_START (middleware | server: traceServer(plugin, server) instead of app.use(zipkinMiddleware(plugin)))
//   QUIET_WAIT_S (120) QUIET_PCT (20): before each run, wait up to QUIET_WAIT_S for every CPU to be
//     under QUIET_PCT % busy (other people's work on the gateway core skews the ratios; 0 = don't wait)
//   GW_NODE_FLAGS (extra node flags for the gateway, e.g. "--cpu-prof --cpu-prof-dir=bench/results/profiles")
// Output: bench/results/proxy-<stamp>.json (raw numbers) and bench/results/logs/proxy-<stamp>/ (process logs,
// raw autocannon JSON); markdown tables on stdout.
const path = require('path');
const fs = require('fs');
const h = require('../lib/harness');
const { summarize } = require('./summarize');

const ROUNDS = h.envNum('ROUNDS', 6);
const DURATION = h.envNum('DURATION', 15);
const WARMUP = h.envNum('WARMUP', 3);
const CONNS = h.envNum('CONNS', 50);
const ORDER = (process.env.ORDER || 'A,B,P1,P0').split(',').map((s) => s.trim().toUpperCase());
const GW_PORT = h.envNum('GW_PORT', 8080);
const UP_PORT = h.envNum('UPSTREAM_PORT', 9101);
const SINK_PORT = h.envNum('SINK_PORT', 9411);
const GW_NODE_FLAGS = (process.env.GW_NODE_FLAGS || '').split(' ').filter(Boolean);

const VARIANTS = {
  A: { VARIANT: 'A' },
  B: { VARIANT: 'B' },
  P1: { VARIANT: 'P', SAMPLE_RATIO: '1', QUEUE: process.env.P1_QUEUE || '{"max_batch_size":200}' },
  P0: { VARIANT: 'P', SAMPLE_RATIO: '0.001', QUEUE: process.env.P0_QUEUE || '{"max_batch_size":200}' },
  // Diagnostic: A + only the plugin's response hooks (no trace), to isolate their cost.
  H: { VARIANT: 'A', DIAG: 'hooks' },
};

/** One gateway run under load; shared with the slow-collector and profile benchmarks. */
async function runGateway(run, { label, env, duration, warmup, connections, ports, nodeFlags = [] }) {
  const quietBefore = await h.waitQuiet();
  if (!quietBefore.quiet)
    console.log(
      `${label}: machine not quiet after ${quietBefore.waitedS} s (${JSON.stringify(quietBefore.busyPct)}); running anyway`,
    );
  const probeMs = await run.cpuProbe();
  await h.getJSON(ports.sink, '/reset');
  await h.getJSON(ports.upstream, '/__reset');
  await h.assertPortFree(ports.gateway);
  const statsFile = path.join(run.logdir, `${label}.gateway-stats.json`);
  const gw = run.startProc(
    `${label}.gateway`,
    run.gwCpu,
    [path.join(__dirname, 'gateway.js')],
    {
      ...env,
      GW_PORT: String(ports.gateway),
      UPSTREAM: `http://127.0.0.1:${ports.upstream}`,
      SINK: `http://127.0.0.1:${ports.sink}/api/v2/spans`,
      STATS_FILE: statsFile,
    },
    nodeFlags,
  );
  await h.waitPort(ports.gateway, 15000, gw);
  await h.sleep(300);

  const warm =
    warmup > 0
      ? await run.autocannon({ port: ports.gateway, duration: warmup, connections, label: `${label}.warmup` })
      : null;

  const c0 = h.cpuTimes(),
    g0 = h.procTicks(gw.pid),
    t0 = Date.now();
  const main = await run.autocannon({ port: ports.gateway, duration, connections, label: `${label}.main` });
  const c1 = h.cpuTimes(),
    g1 = h.procTicks(gw.pid),
    t1 = Date.now();
  const mem = h.procMem(gw.pid);
  const sinkAtLoadEnd = await h.getJSON(ports.sink, '/count');

  const tStop = Date.now();
  process.kill(gw.pid, 'SIGTERM');
  const exit = await gw.exitPromise;
  const drainWallMs = Date.now() - tStop;
  let gwStats = null;
  try {
    gwStats = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
  } catch {
    /* reported below */
  }
  if (!gwStats) throw new Error(`${label}: gateway wrote no stats (exit ${JSON.stringify(exit)}); see ${run.logdir}`);
  const sinkFinal = await h.getJSON(ports.sink, '/count');
  const upstream = await h.getJSON(ports.upstream, '/__stats');

  const rec = {
    label,
    probeMs,
    quietBefore,
    gwCpuIndex: run.gwCpu,
    loadCpuIndex: run.loadCpu,
    env,
    autocannonCmd: main.cmd,
    main: h.pickAc(main.result, duration),
    warmup: warm ? h.pickAc(warm.result, warmup) : null,
    cpuBusyPct: h.cpuBusy(c0, c1),
    gatewayCpuPct: +((100 * ((g1 - g0) / 100)) / ((t1 - t0) / 1000)).toFixed(1),
    gatewayMemAtLoadEnd: mem,
    gatewayExit: exit,
    drainWallMs,
    gateway: gwStats,
    upstream,
    sinkAtLoadEnd,
    sinkFinal,
  };
  if (gwStats.spansPerRequest) {
    // P: spans of every request the plugin sampled; B: two per request the gateway received.
    const traced = gwStats.sampled !== undefined ? gwStats.sampled : gwStats.received;
    const expected = gwStats.spansPerRequest * traced;
    const h_ = gwStats.healthFinal;
    rec.spans = {
      received: gwStats.received,
      served: gwStats.served,
      sampled: traced,
      expected,
      receivedAtLoadEnd: sinkAtLoadEnd.spans,
      receivedFinal: sinkFinal.spans,
      lost: expected - sinkFinal.spans,
      lostPct: expected > 0 ? +((100 * (expected - sinkFinal.spans)) / expected).toFixed(3) : 0,
      // The gateway's own account of what it dropped: BSP drop count, or our queue's drop counters.
      droppedByGateway:
        gwStats.droppedTotal !== undefined
          ? gwStats.droppedTotal
          : h_
            ? Object.values(h_.dropped).reduce((a, b) => a + b, 0)
            : null,
      queueHealth: h_ || null,
      byKind: sinkFinal.byKind,
    };
  }
  return rec;
}

function line(rec) {
  const s = rec.spans
    ? ` spans ${rec.spans.receivedFinal}/${rec.spans.expected} (lost ${rec.spans.lost}, gateway-dropped ${rec.spans.droppedByGateway})`
    : '';
  return (
    `${rec.label}: probe=${rec.probeMs}ms ${rec.main.reqPerSecAvg} req/s p50=${rec.main.latencyMs.p50}ms p99=${rec.main.latencyMs.p99}ms ` +
    `rss=${h.mib(rec.gatewayMemAtLoadEnd.rssKB)}MiB peak=${h.mib(rec.gatewayMemAtLoadEnd.hwmKB)}MiB gwCPU=${rec.gatewayCpuPct}% ` +
    `gw cpu other=${h.f1(Math.max(0, rec.cpuBusyPct['cpu' + rec.gwCpuIndex] - rec.gatewayCpuPct))}% load cpu=${rec.cpuBusyPct['cpu' + rec.loadCpuIndex]}% non2xx=${rec.main.non2xx} err=${rec.main.errors}${s}`
  );
}

async function startBackends(run, ports, sinkDelayMs) {
  await h.assertPortFree(ports.upstream);
  await h.assertPortFree(ports.sink);
  const up = run.startProc('upstream', run.loadCpu, [path.join(h.BENCH, 'lib', 'upstream.js')], {
    UPSTREAM_PORT: String(ports.upstream),
  });
  const sink = run.startProc('sink', run.loadCpu, [path.join(h.BENCH, 'lib', 'sink.js')], {
    SINK_PORT: String(ports.sink),
    SINK_DELAY_MS: String(sinkDelayMs),
    SINK_MODE: process.env.SINK_MODE || 'parse',
  });
  await h.waitPort(ports.upstream, 15000, up);
  await h.waitPort(ports.sink, 15000, sink);
  return async () => {
    for (const c of [up, sink]) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await Promise.all([up.exitPromise, sink.exitPromise]);
  };
}

const VERSION_NAMES = [
  'express',
  'http-proxy-middleware',
  'http-proxy',
  'autocannon',
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/instrumentation',
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/exporter-zipkin',
  '@opentelemetry/resources',
];

async function main() {
  for (const v of ORDER) if (!VARIANTS[v]) throw new Error(`unknown variant ${v} (A, B, P1, P0, H)`);
  h.checkBuildFresh();
  const run = new h.Run('proxy');
  const ports = { gateway: GW_PORT, upstream: UP_PORT, sink: SINK_PORT };
  const meta = {
    bench: 'proxy',
    rounds: ROUNDS,
    durationS: DURATION,
    warmupS: WARMUP,
    connections: CONNS,
    order: ORDER,
    variants: Object.fromEntries(ORDER.map((v) => [v, VARIANTS[v]])),
    gatewayCpu: run.gwCpu,
    loadCpu: run.loadCpu,
    sinkMode: process.env.SINK_MODE || 'parse',
    node: process.version,
    startedAt: new Date().toISOString(),
    loadavgAtStart: require('os').loadavg(),
    logdir: path.relative(h.REPO, run.logdir),
    versions: h.versions(VERSION_NAMES),
  };
  console.log(JSON.stringify(meta));
  const runs = [];
  let stopBackends = null;
  try {
    stopBackends = await startBackends(run, ports, h.envNum('SINK_DELAY_MS', 0));
    for (let r = 1; r <= ROUNDS; r++) {
      for (const v of ORDER) {
        const rec = await runGateway(run, {
          label: `r${r}-${v}`,
          env: VARIANTS[v],
          duration: DURATION,
          warmup: WARMUP,
          connections: CONNS,
          ports,
          nodeFlags: GW_NODE_FLAGS,
        });
        rec.variant = v;
        rec.round = r;
        runs.push(rec);
        console.log(line(rec));
        await h.sleep(2000);
      }
    }
  } finally {
    if (stopBackends) await stopBackends();
    run.killAll();
  }
  meta.finishedAt = new Date().toISOString();
  meta.loadavgAtEnd = require('os').loadavg();
  const result = { meta, runs };
  const file = run.writeResult(result);
  console.log(`wrote ${path.relative(h.REPO, file)}\n`);
  console.log(summarize([{ file, ...result }]));
}

module.exports = { runGateway, startBackends, line, VERSION_NAMES };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
