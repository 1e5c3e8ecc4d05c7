'use strict';
// npm run bench:slow-collector — spans lost versus collector latency at saturation: our plugin with
// the recommended queue setting against the stock OTel stack (the anchor's variant B).
//
//   npm run build && npm run bench:slow-collector                  # delays 0,50,100,200,500 ms × B,R; 15 s each (~5 min)
//   DELAYS=100 DURATION=5 WARMUP=2 npm run bench:slow-collector    # smoke
//   QUEUES='{"b1000":{"max_batch_size":1000},"b4000":{"max_batch_size":4000,"max_entries":40000}}' \
//     ORDER=b1000,b4000 DELAYS=100 npm run bench:slow-collector     # compare candidate queue settings
//
// The gateway, upstream and sink are bench:proxy's (same pinning: gateway on GW_CPU, the rest on
// LOAD_CPU), driven at saturation by autocannon (CONNS connections). The sink answers each POST
// DELAY ms after its body arrived (it counts the spans on arrival). On SIGTERM the gateway drains
// its queue (BSP: provider.shutdown(); ours: plugin.shutdown()), so what never reaches the sink was
// dropped:
//   produced = spans the gateway made (B: 2 per request received; ours: 3 per request sampled)
//   received = spans the sink counted after the drain
//   lost     = produced − received
// next to the gateway's own account: the BSP's drop count ("Dropped N spans because maxQueueSize
// reached"), or our queue's health counters (dropped.queue_full / max_bytes / …, queued, sent).
// Memory: the gateway's peak RSS (VmHWM, over the run and the drain) and the queue's peak length,
// sampled every 100 ms (POLL_MS), against the queue's limits.
//
// Variants (ORDER, default B,R):
//   B   stock OTel exactly as the anchor's B: BatchSpanProcessor defaults (2048 queue / 512 batch / 5 s)
//   R   ours, sample_ratio 1, the RECOMMENDED queue setting below (the README documents it)
//   P1  ours, sample_ratio 1, queue.max_batch_size 200 (bench:proxy's P1)
//   any name from QUEUES: ours, sample_ratio 1, that config.queue
//
// Knobs (env): DELAYS (0,50,100,200,500) ORDER (B,R) QUEUES ({}) DURATION (15) WARMUP (3) CONNS (50)
//   ROUNDS (1) GW_CPU LOAD_CPU GW_PORT UPSTREAM_PORT SINK_PORT (as bench:proxy)
// Output: bench/results/slow-collector-<stamp>.json, logs under bench/results/logs/, markdown on stdout.
const path = require('path');
const fs = require('fs');
const h = require('../lib/harness');
const { runGateway, startBackends, line, VERSION_NAMES } = require('../proxy/run');

/**
 * The recommended queue for a slow collector. Kong's queue sends one batch at a time
 * (concurrency_limit 1), so it keeps up only while max_batch_size / (collector latency + per-batch
 * overhead) exceeds the span rate: a saturated 2-core gateway makes up to ~20,000 spans/s
 * (3 per request), so 100 ms needs batches of ≥ 2,000 — 4,000 leaves headroom (and copes with
 * ~200 ms). A 0.1 s coalescing delay sends a batch as soon as it fills (or 0.1 s after its first
 * span when idle). max_entries / max_bytes bound the memory a stalled collector can cost (the
 * queue holds encoded JSON, ~600 bytes per span): 32 MiB, ~50,000 spans, a few seconds of peak load.
 */
const RECOMMENDED = {
  max_batch_size: 4000,
  max_coalescing_delay: 0.1,
  max_entries: 50000,
  max_bytes: 32 * 1024 * 1024,
};

const DELAYS = (process.env.DELAYS || '0,50,100,200,500').split(',').map(Number);
const ORDER = (process.env.ORDER || 'B,R').split(',').map((s) => s.trim());
const QUEUES = { R: RECOMMENDED, P1: { max_batch_size: 200 }, ...JSON.parse(process.env.QUEUES || '{}') };
const DURATION = h.envNum('DURATION', 15);
const WARMUP = h.envNum('WARMUP', 3);
const CONNS = h.envNum('CONNS', 50);
const ROUNDS = h.envNum('ROUNDS', 1);
const ports = {
  gateway: h.envNum('GW_PORT', 8080),
  upstream: h.envNum('UPSTREAM_PORT', 9101),
  sink: h.envNum('SINK_PORT', 9411),
};

function envOf(v) {
  if (v === 'B') return { VARIANT: 'B', POLL_MS: '100' };
  if (!QUEUES[v]) throw new Error(`unknown variant ${v}: B, R, P1 or a name from QUEUES`);
  return {
    VARIANT: 'P',
    SAMPLE_RATIO: '1',
    QUEUE: JSON.stringify(QUEUES[v]),
    POLL_MS: '100',
    REPORTING: process.env.REPORTING || 'auto',
  };
}

function summarize({ meta, runs }, file) {
  const out = [];
  out.push(`### bench:slow-collector — \`${path.relative(h.REPO, file)}\``);
  out.push('');
  out.push(
    `${meta.connections} connections at saturation, ${meta.warmupS} s warm-up + ${meta.durationS} s measured per case, then a drain on SIGTERM; ` +
      `node ${meta.node}; started ${meta.startedAt}; load average at start ${meta.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}.`,
  );
  out.push('');
  for (const [name, q] of Object.entries(meta.queues))
    if (meta.order.includes(name)) out.push(`- ${name}: \`queue: ${JSON.stringify(q)}\``);
  if (meta.order.includes('B'))
    out.push(
      '- B: stock BatchSpanProcessor defaults (maxQueueSize 2048, maxExportBatchSize 512, scheduledDelayMillis 5000)',
    );
  out.push('');
  out.push(
    h.table(
      [
        'collector delay ms',
        'variant',
        'req/s',
        'spans produced',
        'spans at sink',
        'lost',
        'lost %',
        'dropped (gateway’s count)',
        'queue peak entries (bytes)',
        'peak RSS MiB',
        'drain s',
        'POSTs',
      ],
      runs.map((r) => {
        const s = r.spans;
        const q = r.gateway.queuePeak || {};
        const dropped = r.gateway.healthFinal
          ? Object.entries(r.gateway.healthFinal.dropped)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || '0'
          : String(r.gateway.droppedTotal);
        const hwm = Math.max(r.gatewayMemAtLoadEnd.hwmKB || 0, r.gateway.peakRssKBAtExit || 0);
        return [
          r.delayMs,
          r.variant,
          h.f0(r.main.reqPerSecAvg),
          s.expected,
          s.receivedFinal,
          s.lost,
          h.f2(s.lostPct),
          dropped,
          q.entries === undefined
            ? '–'
            : `${q.entries}${q.bytes !== undefined ? ` (${h.mib(q.bytes / 1024)} MiB)` : ''}`,
          h.mib(hwm),
          (r.drainWallMs / 1000).toFixed(1),
          r.sinkFinal.posts,
        ];
      }),
    ),
  );
  out.push('');
  const ok = runs.filter((r) => r.variant === 'R' && r.delayMs <= 100);
  if (ok.length) {
    const lost = ok.reduce((a, r) => a + r.spans.lost, 0);
    out.push(
      `Target: zero spans lost at saturation with a collector answering within 100 ms (R, the recommended setting) — ${lost === 0 ? 'met' : `**not met** (${lost} lost)`} over ${ok.length} case(s).`,
    );
  }
  return out.join('\n');
}

async function main() {
  h.checkBuildFresh();
  const run = new h.Run('slow-collector');
  const meta = {
    bench: 'slow-collector',
    delaysMs: DELAYS,
    order: ORDER,
    queues: QUEUES,
    rounds: ROUNDS,
    durationS: DURATION,
    warmupS: WARMUP,
    connections: CONNS,
    gatewayCpu: run.gwCpu,
    loadCpu: run.loadCpu,
    node: process.version,
    startedAt: new Date().toISOString(),
    loadavgAtStart: require('os').loadavg(),
    logdir: path.relative(h.REPO, run.logdir),
    versions: h.versions(VERSION_NAMES),
  };
  console.log(JSON.stringify(meta));
  for (const v of ORDER) envOf(v);
  const runs = [];
  let stopBackends = null;
  try {
    stopBackends = await startBackends(run, ports, 0);
    for (let r = 1; r <= ROUNDS; r++) {
      for (const delay of DELAYS) {
        await h.getJSON(ports.sink, `/delay?ms=${delay}`);
        for (const v of ORDER) {
          const rec = await runGateway(run, {
            label: `r${r}-d${delay}-${v}`,
            env: envOf(v),
            duration: DURATION,
            warmup: WARMUP,
            connections: CONNS,
            ports,
          });
          Object.assign(rec, { variant: v, round: r, delayMs: delay });
          runs.push(rec);
          console.log(line(rec));
          await h.sleep(2000);
        }
      }
    }
  } finally {
    if (stopBackends) await stopBackends();
    run.killAll();
  }
  meta.finishedAt = new Date().toISOString();
  const result = { meta, runs };
  const file = run.writeResult(result);
  console.log(`wrote ${path.relative(h.REPO, file)}\n`);
  console.log(summarize(result, file));
}

module.exports = { RECOMMENDED, summarize };

if (require.main === module) {
  if (process.argv[2]) {
    const file = path.resolve(process.argv[2]);
    console.log(summarize(JSON.parse(fs.readFileSync(file, 'utf8')), file));
  } else {
    main().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  }
}
