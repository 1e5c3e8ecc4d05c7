'use strict';
// bench:proxy slices mode — the measuring method for the CPU cost of tracing:
//
//   npm run bench:proxy:slices                         # CLI: CA | C1, C0; express: A | P1, P0, B, Z (~10 min)
//   SLICE_GROUPS=2 SLICE=2 WARMUP=2 npm run bench:proxy:slices          # smoke (~3 min)
//   COMPARE='A:P1,Z' npm run bench:proxy:slices                   # one comparison, two measured gateways
//   node bench/proxy/summarize.js bench/results/proxy-slices-<stamp>.json   # tables again
//
// The host's speed swings by half within seconds, so each measured gateway X is compared with its
// untraced counterpart seconds apart: a group is [untraced SLICE s, X SLICE s, untraced SLICE s]
// under the same load (autocannon, CONNS connections), the untraced baseline being the mean of the
// two untraced slices; SLICE_GROUPS groups per X, interleaved (the X order rotates from group to group);
// figures are medians of the per-group ratios:
//   CPU efficiency = untraced gateway CPU µs/req ÷ X gateway CPU µs/req
//   extra µs/req   = X µs/req − untraced µs/req
//   req/s ratio    = X req/s ÷ untraced req/s
// Gateway CPU is the process's own (/proc/<pid>/task/*/schedstat, ns) from the start of a slice's
// load until its reporter has sent what the slice left queued (the variant's flush interval, then
// until every gateway of the comparison is idle), so background export work is charged to the slice
// that caused it; requests are autocannon's completed responses of the slice.
//
// Only the gateways of one comparison are alive at a time (started together, each warmed up for
// WARMUP s, then switched between by moving the load; stopped, drained and counted at the end of the
// comparison); they all report to one sink, each under its own `?src=` name, so spans are counted
// per gateway: expected (the gateway's own count) − at the sink after the drain = lost.
// Before each comparison the run waits for a quiet machine (QUIET_WAIT_S), before each group for at
// most GROUP_QUIET_WAIT_S; every slice records the other load on the gateway CPU, and groups where it
// exceeded OTHER_PCT in any slice are marked in the tables.
//
// Knobs (env): COMPARE (CA:C1,C0;A:P1,P0,B,Z — `base:x,y;base:x`) SLICE_GROUPS (6; not GROUPS, which bash reserves) SLICE (3 s) WARMUP (3 s)
//   CONNS (50) SETTLE_MAX_MS (8000) GROUP_QUIET_WAIT_S (15) OTHER_PCT (10), and bench:proxy's
//   GW_CPU LOAD_CPU GW_PORT (+1 per further gateway) STATUS_PORT (CLI status listeners, +1 each)
//   UPSTREAM_PORT SINK_PORT SINK_MODE QUIET_WAIT_S QUIET_PCT P1_QUEUE P0_QUEUE C1_QUEUE C0_QUEUE GW_NODE_FLAGS.
const h = require('../lib/harness');
const gateways = require('../lib/gateways');

const GROUPS = h.envNum('SLICE_GROUPS', 6);
const SLICE = h.envNum('SLICE', 3);
const WARMUP = h.envNum('WARMUP', 3);
const CONNS = h.envNum('CONNS', 50);
const SETTLE_MAX_MS = h.envNum('SETTLE_MAX_MS', 8000);
const GROUP_QUIET_WAIT_S = h.envNum('GROUP_QUIET_WAIT_S', 15);
const GW_NODE_FLAGS = (process.env.GW_NODE_FLAGS || '').split(' ').filter(Boolean);
const DEFAULT_COMPARE = 'CA:C1,C0;A:P1,P0,B,Z';

/** `base:x,y;base:x` → [{ base, xs }]. */
function parseCompare(text) {
  return text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [base, xs] = s.split(':');
      const cmp = {
        base: base.trim().toUpperCase(),
        xs: (xs || '')
          .split(',')
          .map((x) => x.trim().toUpperCase())
          .filter(Boolean),
      };
      if (!cmp.xs.length) throw new Error(`COMPARE: "${s}" names no gateway to measure against ${cmp.base}`);
      for (const v of [cmp.base, ...cmp.xs]) gateways.variant(v);
      if (new Set([cmp.base, ...cmp.xs]).size !== cmp.xs.length + 1)
        throw new Error(`COMPARE: "${s}" repeats a gateway`);
      return cmp;
    });
}

/** Wait `flushMs` (a reporter's flush interval), then until every gateway of the comparison is idle (< 1 % CPU over 200 ms). */
async function settle(flushMs, all) {
  const t0 = Date.now();
  if (flushMs > 0) await h.sleep(flushMs + 200);
  for (;;) {
    const a = all.map((g) => h.procCpuNs(g.pid));
    await h.sleep(200);
    const busyNs = all.reduce((sum, g, i) => sum + h.procCpuNs(g.pid) - a[i], 0);
    if (busyNs < 2e6 || Date.now() - t0 > SETTLE_MAX_MS) return { settleMs: Date.now() - t0, idle: busyNs < 2e6 };
  }
}

/** One slice: SLICE s of load on `gw`, its CPU account closed once its reporter has settled. */
async function slice(run, gw, all, label) {
  const c0 = h.cpuTimes(),
    n0 = h.procCpuNs(gw.pid),
    t0 = Date.now();
  const ac = await run.autocannon({ port: gw.opts.port, duration: SLICE, connections: CONNS, label });
  const c1 = h.cpuTimes(),
    n1 = h.procCpuNs(gw.pid),
    t1 = Date.now();
  const s = await settle(gw.spec.flushMs, all);
  const n2 = h.procCpuNs(gw.pid);
  const m = h.pickAc(ac.result, SLICE);
  const busy = h.cpuBusy(c0, c1);
  const gwCpuPct = (100 * (n1 - n0)) / 1e6 / (t1 - t0);
  return {
    variant: gw.name,
    label,
    requests: m.requestsTotal,
    reqPerSec: m.reqPerSecTotal,
    latencyMs: m.latencyMs,
    non2xx: m.non2xx,
    errors: m.errors,
    cpuNs: n2 - n0,
    cpuNsLoad: n1 - n0,
    usPerReq: m.requestsTotal > 0 ? (n2 - n0) / 1000 / m.requestsTotal : null,
    gwCpuPct: +gwCpuPct.toFixed(1),
    otherOnGwCpuPct: +Math.max(0, busy['cpu' + run.gwCpu] - gwCpuPct).toFixed(1),
    loadCpuBusyPct: busy['cpu' + run.loadCpu],
    wallMs: t1 - t0,
    ...s,
  };
}

async function runComparison(run, cmp, ci, ports) {
  const names = [cmp.base, ...cmp.xs];
  console.log(`comparison ${ci}: ${cmp.base} | ${cmp.xs.join(', ')}`);
  await h.getJSON(ports.sink, '/reset');
  await h.getJSON(ports.upstream, '/__reset');
  const quietBefore = await h.waitQuiet();
  if (!quietBefore.quiet)
    console.log(
      `machine not quiet after ${quietBefore.waitedS} s (${JSON.stringify(quietBefore.busyPct)}); running anyway`,
    );
  const probeMs = await run.cpuProbe();
  const gws = names.map(
    (n, i) =>
      new gateways.Gateway(run, n, gateways.variant(n), {
        label: `c${ci}-${n}`,
        port: ports.gateway + i,
        statusPort: ports.status + i,
        upstreamPort: ports.upstream,
        sinkPort: ports.sink,
        source: n,
        nodeFlags: GW_NODE_FLAGS,
      }),
  );
  const byName = Object.fromEntries(gws.map((g) => [g.name, g]));
  const out = { base: cmp.base, xs: cmp.xs, quietBefore, probeMs, startedAt: new Date().toISOString(), groups: [] };
  for (const g of gws) await g.start();
  if (WARMUP > 0)
    for (const g of gws)
      await run.autocannon({
        port: g.opts.port,
        duration: WARMUP,
        connections: CONNS,
        label: `c${ci}-${g.name}.warmup`,
      });
  // Every warmed-up reporter has sent its backlog (B's BatchSpanProcessor: 5 s) before the first slice.
  await settle(Math.max(...gws.map((g) => g.spec.flushMs)), gws);

  const base = byName[cmp.base];
  for (let k = 1; k <= GROUPS; k++) {
    const rot = (k - 1) % cmp.xs.length;
    for (const x of [...cmp.xs.slice(rot), ...cmp.xs.slice(0, rot)]) {
      const quiet = await h.waitQuiet({ maxS: GROUP_QUIET_WAIT_S });
      const tag = `c${ci}-g${k}-${x}`;
      const slices = [
        await slice(run, base, gws, `${tag}.u1`),
        await slice(run, byName[x], gws, `${tag}.x`),
        await slice(run, base, gws, `${tag}.u2`),
      ];
      const grp = { group: k, x, quiet, slices, ...groupRatios(slices) };
      out.groups.push(grp);
      console.log(
        `  g${k} ${x}: ${cmp.base} ${h.f1(grp.baseUsPerReq)} µs/req, ${x} ${h.f1(grp.xUsPerReq)} µs/req → efficiency ${h.f3(grp.efficiency)}, ` +
          `extra ${h.f1(grp.extraUs)} µs/req, req/s ratio ${h.f3(grp.reqRatio)}, other load ≤ ${h.f1(grp.otherMaxPct)} %`,
      );
    }
  }

  // Stop, drain, count: every gateway's spans under its own name at the sink.
  out.gateways = {};
  for (const g of gws) {
    const memAtEnd = h.procMem(g.pid);
    const { exit, drainWallMs, stats } = await g.stop();
    out.gateways[g.name] = { memAtEnd, exit, drainWallMs, stats };
  }
  const sinkFinal = await h.getJSON(ports.sink, '/count');
  out.sinkFinal = sinkFinal;
  out.upstream = await h.getJSON(ports.upstream, '/__stats');
  for (const [n, g] of Object.entries(out.gateways)) {
    g.spans = gateways.spanAccount(g.stats, null, (sinkFinal.bySource || {})[n] || 0);
    if (g.spans)
      console.log(
        `  ${n}: spans ${g.spans.receivedFinal}/${g.spans.expected} at the sink (lost ${g.spans.lost})` +
          (g.spans.expectedFromRequests ? `; 3 × requests = ${g.spans.expectedFromRequests}` : ''),
      );
  }
  out.finishedAt = new Date().toISOString();
  return out;
}

/** A group's ratios: the untraced baseline is the mean of its two untraced slices. */
function groupRatios([u1, x, u2]) {
  const mean = (a, b) => (a === null || b === null ? null : (a + b) / 2);
  const baseUsPerReq = mean(u1.usPerReq, u2.usPerReq);
  const baseReqPerSec = mean(u1.reqPerSec, u2.reqPerSec);
  return {
    baseUsPerReq,
    xUsPerReq: x.usPerReq,
    efficiency: baseUsPerReq !== null && x.usPerReq ? baseUsPerReq / x.usPerReq : null,
    extraUs: baseUsPerReq !== null && x.usPerReq !== null ? x.usPerReq - baseUsPerReq : null,
    baseReqPerSec,
    xReqPerSec: x.reqPerSec,
    reqRatio: baseReqPerSec ? x.reqPerSec / baseReqPerSec : null,
    // How far the two untraced slices disagree (the host's drift within the group).
    baseDriftPct: baseUsPerReq ? (100 * Math.abs(u1.usPerReq - u2.usPerReq)) / baseUsPerReq : null,
    otherMaxPct: Math.max(u1.otherOnGwCpuPct, x.otherOnGwCpuPct, u2.otherOnGwCpuPct),
  };
}

async function main() {
  const { runBench, baseMeta } = require('./run');
  const compare = parseCompare(process.env.COMPARE || DEFAULT_COMPARE);
  h.checkBuildFresh();
  const run = new h.Run('proxy-slices');
  const ports = gateways.benchPorts();
  const names = [...new Set(compare.flatMap((c) => [c.base, ...c.xs]))];
  const meta = baseMeta(run, {
    bench: 'proxy',
    mode: 'slices',
    compare,
    groups: GROUPS,
    sliceS: SLICE,
    warmupS: WARMUP,
    connections: CONNS,
    otherPct: h.envNum('OTHER_PCT', 10),
    variants: Object.fromEntries(names.map((v) => [v, gateways.variant(v)])),
  });
  await runBench(run, meta, async () => {
    const comparisons = [];
    for (let i = 0; i < compare.length; i++) comparisons.push(await runComparison(run, compare[i], i + 1, ports));
    return { comparisons };
  });
}

module.exports = { main, parseCompare, groupRatios, DEFAULT_COMPARE };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
