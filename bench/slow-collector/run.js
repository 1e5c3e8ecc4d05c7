'use strict';
// npm run bench:slow-collector — spans lost versus collector latency at saturation: our plugin with
// the recommended queue setting against the stock OTel stack (the anchor's variant B).
//
//   npm run build && npm run bench:slow-collector                  # delays 0,50,100,200,500 ms × B,R,CR; 15 s each (~7 min)
//   DELAYS=100 DURATION=5 WARMUP=2 npm run bench:slow-collector    # smoke
//   QUEUES='{"b1000":{"max_batch_size":1000},"b4000":{"max_batch_size":4000,"max_entries":40000}}' \
//     ORDER=b1000,b4000 DELAYS=100 npm run bench:slow-collector     # compare candidate queue settings
//   npm run bench:memory                                           # MEMORY=1: 500 ms collector, A,M,CA,CM (~2 min)
//
// The gateway, upstream and sink are bench:proxy's (same pinning: gateway on GW_CPU, the rest on
// LOAD_CPU), driven at saturation by autocannon (CONNS connections). The sink answers each POST
// DELAY ms after its body arrived (it counts the spans on arrival). On SIGTERM the gateway drains
// its queue (BSP: provider.shutdown(); ours: plugin.shutdown(); the CLI: its own drain, within
// --drain-timeout), so what never reaches the sink was dropped:
//   produced = spans the gateway made (B: 2 per request received; ours: 3 per request sampled;
//              the CLI: its queue's `queued`, read from --status-listen before the SIGTERM)
//   received = spans the sink counted after the drain
//   lost     = produced − received
// next to the gateway's own account: the BSP's drop count ("Dropped N spans because maxQueueSize
// reached"), or our queue's health counters (dropped.queue_full / max_bytes / …, queued, sent).
// Memory: the gateway's peak RSS (VmHWM, over the run and the drain) and the queue's peak length
// and bytes, sampled every 100 ms (the express gateway's POLL_MS; the CLI's GET /status), against
// the queue's limits. With the untraced gateways in ORDER (A, CA), each traced run's peak RSS above
// its untraced counterpart (same delay) is checked against 2 × queue.max_bytes.
//
// Variants (ORDER, default B,R,CR; MEMORY=1: A,M,CA,CM):
//   B   stock OTel exactly as the anchor's B: BatchSpanProcessor defaults (2048 queue / 512 batch / 5 s)
//   R   ours, sample_ratio 1, the RECOMMENDED queue setting below (the README documents it)
//   P1  ours, sample_ratio 1, queue.max_batch_size 200 (bench:proxy's P1)
//   M   ours, sample_ratio 1, MEMORY_QUEUE (below): P1's batch size, max_bytes 16 MiB the binding bound
//   any name from QUEUES: ours, sample_ratio 1, that config.queue
//   C + any of those (CR, CP1, CM, …): the real CLI with a global zipkin plugin, sample_ratio 1, that queue
//   A, CA untraced express / CLI gateways (the memory baselines)
//
// Knobs (env): DELAYS (0,50,100,200,500; MEMORY=1: 500) ORDER QUEUES ({}) DURATION (15) WARMUP (3)
//   CONNS (50) ROUNDS (1) DRAIN_TIMEOUT_S (60; the gateways' drain bound: CLI --drain-timeout, express
//   SHUTDOWN_TIMEOUT_MS; MEMORY=1: 5 s, as the memory case does not wait for a 500 ms collector to
//   take the whole backlog) GW_CPU LOAD_CPU GW_PORT STATUS_PORT UPSTREAM_PORT SINK_PORT (as bench:proxy)
// Output: bench/results/slow-collector-<stamp>.json (memory-<stamp>.json), logs under bench/results/logs/, markdown on stdout.
const path = require('path');
const fs = require('fs');
const h = require('../lib/harness');
const gateways = require('../lib/gateways');
const { runGateway, runBench, baseMeta, line } = require('../proxy/run');
const { targetTable } = require('../proxy/summarize');

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

// bench:memory (MEMORY=1) changes the defaults: a 500 ms collector, the untraced gateways beside
// ours (RSS above untraced against 2 × queue.max_bytes) and a short drain (memory, not delivery).
const MEMORY = process.env.MEMORY === '1';
/**
 * The memory case's queue: P1's (max_batch_size 200, so a 500 ms collector takes 400 spans/s and the
 * queue fills within seconds) with a 16 MiB max_bytes, and max_entries high enough that the byte
 * bound is the one reached.
 */
const MEMORY_QUEUE = { max_batch_size: 200, max_entries: 1000000, max_bytes: 16 * 1024 * 1024 };

const DELAYS = (process.env.DELAYS || (MEMORY ? '500' : '0,50,100,200,500')).split(',').map(Number);
const ORDER = (process.env.ORDER || (MEMORY ? 'A,M,CA,CM' : 'B,R,CR')).split(',').map((s) => s.trim());
const QUEUES = {
  R: RECOMMENDED,
  P1: { max_batch_size: 200 },
  M: MEMORY_QUEUE,
  ...JSON.parse(process.env.QUEUES || '{}'),
};
const DURATION = h.envNum('DURATION', 15);
const WARMUP = h.envNum('WARMUP', 3);
const CONNS = h.envNum('CONNS', 50);
const ROUNDS = h.envNum('ROUNDS', 1);
// The express gateway's own default is 60 s (SHUTDOWN_TIMEOUT_MS); the CLI's --drain-timeout 25 s:
// give both the same 60 s, so a full queue at 500 ms is delivered rather than cut.
const DRAIN_TIMEOUT_S = h.envNum('DRAIN_TIMEOUT_S', MEMORY ? 5 : 60);
const ports = gateways.benchPorts();

/** A, B, CA as in bench:proxy; a QUEUES name: ours on express with that queue; C + a QUEUES name: the CLI with it. */
function specOf(v) {
  if (v === 'A' || v === 'B' || v === 'CA') return gateways.variant(v);
  if (QUEUES[v]) return gateways.expressOurs(1, QUEUES[v]);
  if (v.startsWith('C') && QUEUES[v.slice(1)]) return gateways.cliGateway(1, QUEUES[v.slice(1)]);
  throw new Error(`unknown variant ${v}: A, B, CA, a name from QUEUES (${Object.keys(QUEUES).join(', ')}) or C + one`);
}

/** Peak RSS of a run, kB: VmHWM at load end or at exit (the drain), whichever is higher. */
const peakRss = (r) => Math.max(r.gatewayMemAtLoadEnd.hwmKB || 0, r.gateway.peakRssKBAtExit || 0);

function summarize({ meta, runs }, file) {
  const out = [];
  out.push(`### bench:${meta.memory ? 'memory' : 'slow-collector'} — \`${path.relative(h.REPO, file)}\``);
  out.push('');
  out.push(
    `${meta.connections} connections at saturation, ${meta.warmupS} s warm-up + ${meta.durationS} s measured per case, then a drain on SIGTERM; ` +
      `node ${meta.node}; started ${meta.startedAt}; load average at start ${meta.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}.`,
  );
  out.push('');
  for (const [name, q] of Object.entries(meta.queues))
    if (meta.order.includes(name) || meta.order.includes(`C${name}`))
      out.push(
        `- ${name}${meta.order.includes(`C${name}`) ? ` (C${name}: the CLI with it)` : ''}: \`queue: ${JSON.stringify(q)}\``,
      );
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
        const s = r.spans || {};
        const q = r.gateway.queuePeak || {};
        const dropped = r.gateway.healthFinal
          ? Object.entries(r.gateway.healthFinal.dropped)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || '0'
          : r.spans
            ? String(r.gateway.droppedTotal)
            : '–';
        const hwm = peakRss(r);
        return [
          r.delayMs,
          r.variant,
          h.f0(r.main.reqPerSecAvg),
          s.expected ?? '–',
          s.receivedFinal ?? '–',
          s.lost ?? '–',
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
  const checks = [];
  // Zero spans lost at saturation with a collector answering within 100 ms: ours with the recommended queue.
  for (const v of ['R', 'CR']) {
    const ok = runs.filter((r) => r.variant === v && r.delayMs <= 100 && r.delayMs > 0 && r.spans);
    if (!ok.length) continue;
    const lost = ok.reduce((a, r) => a + r.spans.lost, 0);
    const upTo = Math.max(...ok.map((r) => r.delayMs));
    checks.push([
      `${v}: zero spans lost at saturation, collector answering in ≤ 100 ms (${upTo} ms measured)`,
      `${lost} lost`,
      lost === 0,
    ]);
  }
  // Memory: a traced gateway's peak RSS above its untraced counterpart (same collector delay) within 2 × max_bytes.
  const mem = [];
  for (const r of runs) {
    const maxBytes = r.gateway.queueConfig && r.gateway.queueConfig.max_bytes;
    const baseName = r.kind === 'cli' ? 'CA' : 'A';
    const base = runs.find((b) => b.variant === baseName && b.delayMs === r.delayMs && b.round === r.round);
    if (!r.spans || !base) continue;
    const aboveKB = peakRss(r) - peakRss(base);
    const q = r.gateway.queuePeak || {};
    mem.push([
      r.delayMs,
      r.variant,
      baseName,
      h.mib(peakRss(base)),
      h.mib(peakRss(r)),
      h.mib(aboveKB),
      maxBytes ? h.mib((2 * maxBytes) / 1024) : '–',
      q.bytes !== undefined ? h.mib(q.bytes / 1024) : '–',
      maxBytes ? h.mib(maxBytes / 1024) : '–',
    ]);
    if (maxBytes)
      checks.push([
        `${r.variant} at ${r.delayMs} ms: peak RSS − ${baseName}'s ≤ 2 × max_bytes (${h.mib((2 * maxBytes) / 1024)} MiB)`,
        `${h.mib(aboveKB)} MiB`,
        aboveKB * 1024 <= 2 * maxBytes,
      ]);
  }
  if (mem.length) {
    out.push(
      h.table(
        [
          'collector delay ms',
          'variant',
          'untraced',
          'untraced peak RSS MiB',
          'peak RSS MiB',
          'above untraced MiB',
          '2 × max_bytes MiB',
          'queue peak bytes MiB',
          'max_bytes MiB',
        ],
        mem,
      ),
    );
    out.push('');
  }
  if (meta.memory)
    out.push(
      `The drain was cut at ${meta.drainTimeoutS} s (DRAIN_TIMEOUT_S): "lost" includes what was still queued then, so it is not a delivery figure here.\n`,
    );
  if (checks.length) {
    out.push(targetTable(checks));
    out.push('');
  }
  return out.join('\n');
}

async function main() {
  h.checkBuildFresh();
  for (const v of ORDER) specOf(v);
  const run = new h.Run(MEMORY ? 'memory' : 'slow-collector');
  const meta = baseMeta(run, {
    bench: 'slow-collector',
    delaysMs: DELAYS,
    order: ORDER,
    queues: QUEUES,
    memory: MEMORY,
    drainTimeoutS: DRAIN_TIMEOUT_S,
    rounds: ROUNDS,
    durationS: DURATION,
    warmupS: WARMUP,
    connections: CONNS,
  });
  await runBench(
    run,
    meta,
    async () => {
      const runs = [];
      for (let r = 1; r <= ROUNDS; r++) {
        for (const delay of DELAYS) {
          await h.getJSON(ports.sink, `/delay?ms=${delay}`);
          for (const v of ORDER) {
            const rec = await runGateway(run, {
              label: `r${r}-d${delay}-${v}`,
              variant: v,
              spec: specOf(v),
              pollMs: 100,
              drainTimeoutS: DRAIN_TIMEOUT_S,
              duration: DURATION,
              warmup: WARMUP,
              connections: CONNS,
              ports,
            });
            Object.assign(rec, { round: r, delayMs: delay });
            runs.push(rec);
            console.log(line(rec));
            await h.sleep(2000);
          }
        }
      }
      return { runs };
    },
    { summarizeResult: summarize, sinkDelayMs: 0 },
  );
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
