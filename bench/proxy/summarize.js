'use strict';
// Markdown tables of bench:proxy results (README-ready).
//   node bench/proxy/summarize.js bench/results/proxy-<stamp>.json [more.json ...]
// Per file: every run, per-variant medians, per-round ratios with medians, the targets.
// With several files, the per-round ratios are also pooled.
const fs = require('fs');
const path = require('path');
const { median, f0, f1, f2, f3, mib, table, REPO } = require('../lib/harness');

/** Gateway CPU time per request, µs (gateway CPU share over the measured run / requests per second). */
const cpuPerReq = (r) => (r.main.reqPerSecTotal > 0 ? ((r.gatewayCpuPct / 100) * 1e6) / r.main.reqPerSecTotal : null);

/** Busy % of the gateway's CPU not spent by the gateway: other processes (contamination indicator). */
const otherOnGwCpu = (r) => {
  const busy = r.cpuBusyPct['cpu' + (r.gwCpuIndex ?? '0')];
  return busy === undefined || busy === null ? null : Math.max(0, busy - r.gatewayCpuPct);
};

/** Busy % of the load CPU; bold at ≥ 95 %: the load side (autocannon, upstream, sink) may have limited the run. */
const loadBusy = (r) => {
  const b = r.cpuBusyPct['cpu' + (r.loadCpuIndex ?? '1')];
  return b >= 95 ? `**${f1(b)}**` : f1(b);
};

function summarizeOne({ file, meta, runs }) {
  const out = [];
  const rel = file ? path.relative(REPO, file) : '';
  out.push(`### bench:proxy — \`${rel}\``);
  out.push('');
  out.push(
    `${meta.rounds} round(s) of ${meta.order.join(', ')}; ${meta.connections} connections, ${meta.warmupS} s warm-up + ${meta.durationS} s measured; ` +
      `gateway on CPU ${meta.gatewayCpu}, load on CPU ${meta.loadCpu}; sink ${meta.sinkMode || 'parse'}; node ${meta.node}; started ${meta.startedAt}` +
      (meta.loadavgAtStart ? `; load average at start ${meta.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}` : '') +
      '.',
  );
  out.push('');
  out.push(
    table(
      [
        'run',
        'req/s',
        'p50 ms',
        'p99 ms',
        'RSS MiB (peak)',
        'gw CPU %',
        'gw CPU µs/req',
        'other load on gw CPU %',
        'load CPU busy %',
        'probe ms',
        'requests in gw',
        'spans expected',
        'spans at sink (load end → final)',
        'lost',
        'dropped by gw',
      ],
      runs.map((r) => {
        const s = r.spans;
        return [
          r.label,
          f0(r.main.reqPerSecAvg),
          r.main.latencyMs.p50,
          r.main.latencyMs.p99,
          `${mib(r.gatewayMemAtLoadEnd.rssKB)} (${mib(r.gatewayMemAtLoadEnd.hwmKB)})`,
          f1(r.gatewayCpuPct),
          f0(cpuPerReq(r)),
          f1(otherOnGwCpu(r)),
          loadBusy(r),
          r.probeMs ?? '–',
          r.gateway.received,
          s ? s.expected : '–',
          s ? `${s.receivedAtLoadEnd} → ${s.receivedFinal}` : '–',
          s ? s.lost : '–',
          s ? (s.droppedByGateway ?? '–') : '–',
        ];
      }),
    ),
  );
  out.push('');

  const variants = [...new Set(runs.map((r) => r.variant))];
  const byV = Object.fromEntries(variants.map((v) => [v, runs.filter((r) => r.variant === v)]));
  const medCpu = Object.fromEntries(variants.map((v) => [v, median(byV[v].map(cpuPerReq))]));
  const medHwm = Object.fromEntries(variants.map((v) => [v, median(byV[v].map((r) => r.gatewayMemAtLoadEnd.hwmKB))]));
  out.push(
    table(
      [
        'variant',
        'median req/s',
        'min–max req/s',
        'median p50 ms',
        'median p99 ms',
        'median peak RSS MiB (max)',
        'gw CPU µs/req',
        'extra gw CPU µs per span vs A',
        'spans received / expected (all rounds)',
      ],
      variants.map((v) => {
        const rs = byV[v];
        const rps = rs.map((r) => r.main.reqPerSecAvg);
        const sp = rs.filter((r) => r.spans);
        const rec = sp.reduce((a, r) => a + r.spans.receivedFinal, 0);
        const exp = sp.reduce((a, r) => a + r.spans.expected, 0);
        const perReq = sp.length ? sp[0].gateway.spansPerRequest : null;
        // Per sampled span: P0 samples ~0.1% of requests, so its extra cost is per request, not per span.
        const sampledShare = sp.length
          ? median(sp.map((r) => (r.spans.received ? r.spans.sampled / r.spans.received : null)))
          : null;
        const extra = medCpu.A !== undefined && perReq && sampledShare > 0.5 ? (medCpu[v] - medCpu.A) / perReq : null;
        return [
          v,
          f0(median(rps)),
          `${f0(Math.min(...rps))}–${f0(Math.max(...rps))}`,
          f1(median(rs.map((r) => r.main.latencyMs.p50))),
          f1(median(rs.map((r) => r.main.latencyMs.p99))),
          `${mib(medHwm[v])} (${mib(Math.max(...rs.map((r) => r.gatewayMemAtLoadEnd.hwmKB)))})`,
          f0(medCpu[v]),
          extra === null ? '–' : f1(extra),
          sp.length ? `${rec} / ${exp} (${exp ? ((100 * rec) / exp).toFixed(2) : '–'}%)` : '–',
        ];
      }),
    ),
  );
  out.push('');

  const ratios = { 'B/A': [], 'P1/A': [], 'P0/A': [], 'P1/B': [], 'H/A': [] };
  if (variants.includes('A') || variants.includes('B')) {
    const rounds = [...new Set(runs.map((r) => r.round))];
    const cols = ['A', 'B', 'P1', 'P0', 'H'].filter((v) => variants.includes(v));
    const rows = [];
    for (const k of rounds) {
      const g = (v) => {
        const x = runs.find((r) => r.round === k && r.variant === v);
        return x ? x.main.reqPerSecAvg : null;
      };
      const q = (a, b) => (g(a) && g(b) ? g(a) / g(b) : null);
      const row = {
        'B/A': q('B', 'A'),
        'P1/A': q('P1', 'A'),
        'P0/A': q('P0', 'A'),
        'P1/B': q('P1', 'B'),
        'H/A': q('H', 'A'),
      };
      for (const key of Object.keys(ratios)) ratios[key].push(row[key]);
      rows.push({ k, row, g: cols.map((v) => f0(g(v))) });
    }
    // Only the ratios this file has both variants for.
    const keys = Object.keys(ratios).filter((key) => ratios[key].some((x) => x !== null));
    const body = rows.map(({ k, row, g }) => [k, ...g, ...keys.map((key) => f3(row[key]))]);
    body.push(['**median**', ...cols.map(() => ''), ...keys.map((key) => `**${f3(median(ratios[key]))}**`)]);
    out.push(table(['round', ...cols.map((v) => `${v} req/s`), ...keys], body));
    out.push('');
  }

  // The targets, as far as this file measures them.
  const checks = [];
  const m = (key) => median(ratios[key]);
  if (m('P1/A') !== null) checks.push(['P1/A ≥ 0.80', f3(m('P1/A')), m('P1/A') >= 0.8]);
  if (m('P1/B') !== null) checks.push(['P1/B ≥ 1.7', f3(m('P1/B')), m('P1/B') >= 1.7]);
  if (m('P0/A') !== null) checks.push(['P0/A ≥ 0.97', f3(m('P0/A')), m('P0/A') >= 0.97]);
  if (medHwm.P1 !== undefined && medHwm.A !== undefined) {
    const d = (medHwm.P1 - medHwm.A) / 1024;
    checks.push(['peak RSS P1 − A ≤ 30 MiB (medians)', `${d.toFixed(1)} MiB`, d <= 30]);
  }
  for (const v of ['P1', 'P0']) {
    const sp = (byV[v] || []).filter((r) => r.spans);
    if (!sp.length) continue;
    const lost = sp.reduce((a, r) => a + r.spans.lost, 0);
    checks.push([`${v}: every expected span at the sink`, `${lost} lost`, lost === 0]);
  }
  if (checks.length) {
    out.push(
      table(
        ['target', 'measured', 'met'],
        checks.map(([t, v, ok]) => [t, v, ok ? 'yes' : '**no**']),
      ),
    );
    out.push('');
  }
  return { text: out.join('\n'), ratios };
}

function summarize(results) {
  const parts = [];
  const pooled = { 'B/A': [], 'P1/A': [], 'P0/A': [], 'P1/B': [], 'H/A': [] };
  for (const r of results) {
    const { text, ratios } = summarizeOne(r);
    parts.push(text);
    for (const k of Object.keys(pooled)) pooled[k].push(...ratios[k].filter((x) => x !== null));
  }
  if (results.length > 1) {
    const s = (xs) =>
      xs
        .slice()
        .sort((a, b) => a - b)
        .map(f3)
        .join(', ');
    parts.push(`### Pooled per-round ratios (${results.length} files)\n`);
    for (const k of Object.keys(pooled))
      if (pooled[k].length) parts.push(`- ${k} (sorted): ${s(pooled[k])} → **median ${f3(median(pooled[k]))}**`);
    parts.push('');
  }
  return parts.join('\n');
}

module.exports = { summarize, cpuPerReq, f2 };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node bench/proxy/summarize.js bench/results/proxy-<stamp>.json [...]');
    process.exit(2);
  }
  console.log(
    summarize(files.map((file) => ({ file: path.resolve(file), ...JSON.parse(fs.readFileSync(file, 'utf8')) }))),
  );
}
