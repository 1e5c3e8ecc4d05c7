'use strict';
// npm run bench:proxy — throughput cost of tracing on an express + http-proxy-middleware gateway and
// on the CLI gateway: our plugin against the untraced gateways and the peers, in alternating rounds.
//
//   npm run build && npm run bench:proxy                 # 6 rounds × A,B,P1,P0, 3 s warm-up + 15 s each (~9 min)
//   ROUNDS=1 DURATION=5 WARMUP=2 npm run bench:proxy     # smoke
//   ORDER=CA,C1,C0 ROUNDS=6 npm run bench:proxy          # the CLI gateway; ORDER=A,Z: the zipkin-js peer
//   MODE=slices npm run bench:proxy                      # the slices mode (bench/proxy/slices.js): the CPU targets
//   node bench/proxy/summarize.js bench/results/proxy-<stamp>.json [...]   # tables again (several files pooled)
//
// Variants (bench/lib/gateways.js; the express ones are bench/proxy/gateway.js):
//   A   untraced: express + createProxyMiddleware({ target, agent: keep-alive })  (anchor SET=keepalive, A)
//   B   stock OTel exactly as the anchor's B (http instrumentation, default BatchSpanProcessor, stock Zipkin exporter)
//   P1  ours: traceServer + zipkinProxyPlugin, sample_ratio 1, queue.max_batch_size 200, http_endpoint = sink
//   P0  ours with Kong's default sample_ratio 0.001
//   H   diagnostic, not in the default ORDER: A + only the plugin's response hooks (no tracing)
//   Z   the zipkin-js peer (zipkin, zipkin-instrumentation-express, zipkin-transport-http) on A's gateway
//   CA  the real CLI (node dist/gateway/cli.js --config <generated decK> --listen … --status-listen …), no plugin
//   C1  CA + a global zipkin plugin, sample_ratio 1, queue.max_batch_size 200, http_endpoint = sink
//   C0  C1 at Kong's default sample_ratio 0.001
// Setup as the anchor: gateway pinned to CPU GW_CPU (0); upstream, sink and autocannon share LOAD_CPU (1);
// a cpuprobe run on the gateway core before each run (VM drift); the sink counts spans; the gateway
// drains its span queue on SIGTERM before exiting, so the final sink count is complete.
// Spans expected: 2 per request received by the gateway (B), 3 per request our plugin sampled (P1, P0),
// counted in the gateway (not autocannon's total: requests cut off when autocannon stops are traced too);
// Z counts its SERVER and CLIENT spans; the CLI's are its queue's `queued` from GET /status.
//
// Knobs (env): MODE (rounds | slices) ROUNDS (6) DURATION (15 s) WARMUP (3 s) CONNS (50) ORDER (A,B,P1,P0)
//   GW_CPU (0) LOAD_CPU (1) GW_PORT (8080) STATUS_PORT (8180) UPSTREAM_PORT (9101) SINK_PORT (9411) SINK_DELAY_MS (0)
//   SINK_MODE (parse: JSON.parse every POST as the anchor; scan: count spans without parsing, to see
//     whether the sink, on the load CPU, limits P1, which reports 3 spans per request)
//   P1_QUEUE / P0_QUEUE / C1_QUEUE / C0_QUEUE (JSON config.queue, default {"max_batch_size":200})
//   ROUTE_IDENTITY (1) REPORTING (auto)
//   PLUGIN_START (server | middleware: app.use(zipkinMiddleware(plugin)) instead of traceServer(plugin, server))
//   QUIET_WAIT_S (120) QUIET_PCT (20): before each run, wait up to QUIET_WAIT_S for every CPU to be
//     under QUIET_PCT % busy (other people's work on the gateway core skews the ratios; 0 = don't wait)
//   GW_NODE_FLAGS (extra node flags for the gateway, e.g. "--cpu-prof --cpu-prof-dir=bench/results/profiles")
// Output: bench/results/proxy-<stamp>.json (raw numbers) and bench/results/logs/proxy-<stamp>/ (process logs,
// raw autocannon JSON, the CLI's decK files); markdown on stdout.
const os = require('os');
const path = require('path');
const h = require('../lib/harness');
const gateways = require('../lib/gateways');
const { summarize } = require('./summarize');

const ROUNDS = h.envNum('ROUNDS', 6);
const DURATION = h.envNum('DURATION', 15);
const WARMUP = h.envNum('WARMUP', 3);
const CONNS = h.envNum('CONNS', 50);
const ORDER = (process.env.ORDER || 'A,B,P1,P0').split(',').map((s) => s.trim().toUpperCase());
const GW_NODE_FLAGS = (process.env.GW_NODE_FLAGS || '').split(' ').filter(Boolean);

/**
 * One gateway run under load (a fresh process, warmed up, measured, stopped); shared with the
 * slow-collector, memory and profile benchmarks. `variant` names a gateway of bench/lib/gateways.js,
 * `spec` overrides its definition (custom queues); `pollMs` samples the queue's size for its peak.
 */
async function runGateway(
  run,
  {
    label,
    variant,
    spec = gateways.variant(variant),
    duration,
    warmup,
    connections,
    ports,
    nodeFlags = [],
    pollMs = 0,
    drainTimeoutS,
  },
) {
  const quietBefore = await h.waitQuiet();
  if (!quietBefore.quiet)
    console.log(
      `${label}: machine not quiet after ${quietBefore.waitedS} s (${JSON.stringify(quietBefore.busyPct)}); running anyway`,
    );
  const probeMs = await run.cpuProbe();
  await h.getJSON(ports.sink, '/reset');
  await h.getJSON(ports.upstream, '/__reset');
  const gw = new gateways.Gateway(run, variant, spec, {
    label,
    ...gateways.portOptions(ports),
    nodeFlags,
    env: pollMs > 0 ? { POLL_MS: String(pollMs) } : {},
    drainTimeoutS,
  });
  await gw.start();

  const warm =
    warmup > 0
      ? await run.autocannon({ port: ports.gateway, duration: warmup, connections, label: `${label}.warmup` })
      : null;

  gw.pollQueue(pollMs);
  const c0 = h.cpuTimes(),
    g0 = h.procCpuNs(gw.pid),
    t0 = Date.now();
  const main = await run.autocannon({ port: ports.gateway, duration, connections, label: `${label}.main` });
  const c1 = h.cpuTimes(),
    g1 = h.procCpuNs(gw.pid),
    t1 = Date.now();
  const mem = h.procMem(gw.pid);
  const sinkAtLoadEnd = await h.getJSON(ports.sink, '/count');

  const { exit, drainWallMs, stats: gwStats } = await gw.stop();
  const sinkFinal = await h.getJSON(ports.sink, '/count');
  const upstream = await h.getJSON(ports.upstream, '/__stats');

  const rec = {
    label,
    variant,
    kind: spec.kind,
    probeMs,
    quietBefore,
    gwCpuIndex: run.gwCpu,
    loadCpuIndex: run.loadCpu,
    env: spec.kind === 'cli' ? { plugin: spec.plugin } : spec.env,
    autocannonCmd: main.cmd,
    main: h.pickAc(main.result, duration),
    warmup: warm ? h.pickAc(warm.result, warmup) : null,
    cpuBusyPct: h.cpuBusy(c0, c1),
    gatewayCpuPct: +((100 * ((g1 - g0) / 1e9)) / ((t1 - t0) / 1000)).toFixed(1),
    gatewayCpuNs: g1 - g0,
    gatewayMemAtLoadEnd: mem,
    gatewayExit: exit,
    drainWallMs,
    gateway: gwStats,
    upstream,
    sinkAtLoadEnd,
    sinkFinal,
  };
  const spans = gateways.spanAccount(gwStats, sinkAtLoadEnd.spans, sinkFinal.spans);
  if (spans) rec.spans = { ...spans, byKind: sinkFinal.byKind };
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
  'zipkin',
  'zipkin-instrumentation-express',
  'zipkin-transport-http',
];

/** The meta fields every load benchmark records: pinning, node, start, load average, logs, versions. */
function baseMeta(run, fields) {
  return {
    ...fields,
    gatewayCpu: run.gwCpu,
    loadCpu: run.loadCpu,
    sinkMode: process.env.SINK_MODE || 'parse',
    node: process.version,
    startedAt: new Date().toISOString(),
    loadavgAtStart: os.loadavg(),
    logdir: path.relative(h.REPO, run.logdir),
    versions: h.versions(VERSION_NAMES),
  };
}

/**
 * A load benchmark's frame: print `meta`, start the upstream and sink (answering after
 * `sinkDelayMs`, default SINK_DELAY_MS), run `body()` (→ the result's data fields), stop everything
 * started, then write bench/results/<run>.json and print `summarizeResult(result, file)` (default:
 * bench:proxy's tables).
 */
async function runBench(run, meta, body, { summarizeResult, sinkDelayMs = h.envNum('SINK_DELAY_MS', 0) } = {}) {
  const ports = gateways.benchPorts();
  summarizeResult = summarizeResult || ((result, file) => summarize([{ file, ...result }]));
  console.log(JSON.stringify(meta));
  let stopBackends = null;
  let data;
  try {
    stopBackends = await startBackends(run, ports, sinkDelayMs);
    data = await body();
  } finally {
    if (stopBackends) await stopBackends();
    run.killAll();
  }
  meta.finishedAt = new Date().toISOString();
  meta.loadavgAtEnd = os.loadavg();
  const result = { meta, ...data };
  const file = run.writeResult(result);
  console.log(`wrote ${path.relative(h.REPO, file)}\n`);
  console.log(summarizeResult(result, file));
}

async function main() {
  for (const v of ORDER) gateways.variant(v);
  h.checkBuildFresh();
  const run = new h.Run('proxy');
  const ports = gateways.benchPorts();
  const meta = baseMeta(run, {
    bench: 'proxy',
    mode: 'rounds',
    rounds: ROUNDS,
    durationS: DURATION,
    warmupS: WARMUP,
    connections: CONNS,
    order: ORDER,
    variants: Object.fromEntries(ORDER.map((v) => [v, gateways.variant(v)])),
  });
  await runBench(run, meta, async () => {
    const runs = [];
    for (let r = 1; r <= ROUNDS; r++) {
      for (const v of ORDER) {
        const rec = await runGateway(run, {
          label: `r${r}-${v}`,
          variant: v,
          duration: DURATION,
          warmup: WARMUP,
          connections: CONNS,
          ports,
          nodeFlags: GW_NODE_FLAGS,
        });
        rec.round = r;
        runs.push(rec);
        console.log(line(rec));
        await h.sleep(2000);
      }
    }
    return { runs };
  });
}

module.exports = { runGateway, startBackends, runBench, baseMeta, line, VERSION_NAMES };

if (require.main === module) {
  (process.env.MODE === 'slices' ? require('./slices').main() : main()).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
