'use strict';
// Markdown tables of bench:proxy results (README-ready), rounds and slices mode alike.
//   node bench/proxy/summarize.js bench/results/proxy-<stamp>.json [more.json ...]
//   node bench/proxy/summarize.js bench/results/proxy-slices-<stamp>.json
// Rounds: every run, per-variant medians, per-round req/s ratios and CPU efficiencies with medians,
// the targets; with several files, the per-round ratios are also pooled.
// Slices: per comparison, every group, per-variant medians of the per-group ratios, span delivery,
// the CPU targets.
const fs = require('fs');
const path = require('path');
const { median, f0, f1, f2, f3, mib, table, REPO } = require('../lib/harness');
const { VARIANTS } = require('../lib/gateways');

/**
 * Gateway CPU time per request, µs: the gateway's CPU ns over the measured run / requests
 * (older results without ns: CPU share / requests per second).
 */
const cpuPerReq = (r) => {
  if (r.gatewayCpuNs !== undefined)
    return r.main.requestsTotal > 0 ? r.gatewayCpuNs / 1000 / r.main.requestsTotal : null;
  return r.main.reqPerSecTotal > 0 ? ((r.gatewayCpuPct / 100) * 1e6) / r.main.reqPerSecTotal : null;
};

/** The untraced gateway of a variant's kind (A for the express ones, CA for the CLI's). */
const baseOf = (v) => (VARIANTS[v] ? VARIANTS[v].base : 'A');

/**
 * The CPU targets: a traced request (3 spans, 8 annotations) costs at most `maxExtraUs` of
 * gateway CPU over the untraced one, i.e. CPU efficiency (untraced µs/req ÷ X µs/req) ≥ `minEfficiency`.
 */
const CPU_TARGETS = {
  C1: { maxExtraUs: 15, minEfficiency: 0.8, what: 'CLI, every request traced' },
  P1: { maxExtraUs: 15, minEfficiency: 0.9, what: 'express + HPM, every request traced' },
  C0: { maxExtraUs: 3, minEfficiency: 0.95, what: "CLI, Kong's default sample_ratio 0.001" },
  P0: { maxExtraUs: 3, minEfficiency: 0.97, what: "express + HPM, Kong's default sample_ratio 0.001" },
};

/** Target rows [target, measured, met] for the variants measured, from median efficiency and extra µs. */
function cpuTargetRows(measured) {
  const rows = [];
  for (const [v, t] of Object.entries(CPU_TARGETS)) {
    const m = measured[v];
    if (!m) continue;
    const base = baseOf(v);
    if (m.extraUs !== null && m.extraUs !== undefined)
      rows.push([
        `${v} (${t.what}): extra gw CPU ≤ +${t.maxExtraUs} µs/req over ${base}`,
        `${f1(m.extraUs)} µs`,
        m.extraUs <= t.maxExtraUs,
      ]);
    if (m.efficiency !== null && m.efficiency !== undefined)
      rows.push([
        `${v}: CPU efficiency ${base} µs/req ÷ ${v} µs/req ≥ ${t.minEfficiency}`,
        f3(m.efficiency),
        m.efficiency >= t.minEfficiency,
      ]);
  }
  return rows;
}

const targetTable = (checks) =>
  table(
    ['target', 'measured', 'met'],
    checks.map(([t, v, ok]) => [t, v, ok ? 'yes' : '**no**']),
  );

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
        'extra gw CPU µs per span vs untraced (A / CA)',
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
        const b = medCpu[baseOf(v)];
        const extra = b !== undefined && b !== null && perReq && sampledShare > 0.5 ? (medCpu[v] - b) / perReq : null;
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

  // Per round: req/s ratio X/base and CPU efficiency base µs/req ÷ X µs/req for every variant whose
  // untraced base ran too (A for express, CA for CLI), and P1/B.
  const pairs = variants.filter((v) => baseOf(v) !== v && variants.includes(baseOf(v))).map((v) => [v, baseOf(v)]);
  if (variants.includes('P1') && variants.includes('B')) pairs.push(['P1', 'B']);
  const ratios = {};
  for (const [v, b] of pairs) {
    ratios[`${v}/${b}`] = [];
    if (b !== 'B') ratios[`eff ${v}`] = [];
  }
  const effByV = {};
  if (pairs.length) {
    const rounds = [...new Set(runs.map((r) => r.round))];
    const rows = [];
    for (const k of rounds) {
      const get = (v) => runs.find((r) => r.round === k && r.variant === v);
      const rps = (v) => (get(v) ? get(v).main.reqPerSecAvg : null);
      const cpu = (v) => (get(v) ? cpuPerReq(get(v)) : null);
      const row = {};
      for (const [v, b] of pairs) {
        row[`${v}/${b}`] = rps(v) && rps(b) ? rps(v) / rps(b) : null;
        if (b !== 'B') row[`eff ${v}`] = cpu(v) && cpu(b) ? cpu(b) / cpu(v) : null;
      }
      for (const key of Object.keys(ratios)) ratios[key].push(row[key]);
      rows.push([k, ...variants.map((v) => f0(rps(v))), ...Object.keys(ratios).map((key) => f3(row[key]))]);
    }
    rows.push([
      '**median**',
      ...variants.map(() => ''),
      ...Object.keys(ratios).map((key) => `**${f3(median(ratios[key]))}**`),
    ]);
    out.push(table(['round', ...variants.map((v) => `${v} req/s`), ...Object.keys(ratios)], rows));
    out.push('');
    out.push(
      '`X/base`: req/s ratio; `eff X`: CPU efficiency, base gw CPU µs/req ÷ X gw CPU µs/req (base: A for express, CA for the CLI).',
    );
    out.push('');
    for (const [v, b] of pairs)
      if (b !== 'B')
        effByV[v] = {
          efficiency: median(ratios[`eff ${v}`]),
          extraUs: medCpu[v] !== null && medCpu[b] !== null ? medCpu[v] - medCpu[b] : null,
        };
  }

  // The targets, as far as this file measures them.
  const checks = [];
  const m = (key) => (ratios[key] ? median(ratios[key]) : null);
  if (m('P1/A') !== null) checks.push(['P1/A ≥ 0.80', f3(m('P1/A')), m('P1/A') >= 0.8]);
  if (m('P1/B') !== null) checks.push(['P1/B ≥ 1.7', f3(m('P1/B')), m('P1/B') >= 1.7]);
  if (m('P0/A') !== null) checks.push(['P0/A ≥ 0.97', f3(m('P0/A')), m('P0/A') >= 0.97]);
  checks.push(...cpuTargetRows(effByV));
  if (medHwm.P1 !== undefined && medHwm.A !== undefined) {
    const d = (medHwm.P1 - medHwm.A) / 1024;
    checks.push(['peak RSS P1 − A ≤ 30 MiB (medians)', `${d.toFixed(1)} MiB`, d <= 30]);
  }
  for (const v of variants) {
    const sp = (byV[v] || []).filter((r) => r.spans);
    if (!sp.length) continue;
    const lost = sp.reduce((a, r) => a + r.spans.lost, 0);
    checks.push([`${v}: every expected span at the sink`, `${lost} lost`, lost === 0]);
  }
  if (checks.length) {
    out.push(targetTable(checks));
    out.push('');
  }
  return { text: out.join('\n'), ratios };
}

function summarize(results) {
  const parts = [];
  const pooled = {};
  const rounds = results.filter((r) => !(r.meta && r.meta.mode === 'slices'));
  for (const r of results) {
    if (r.meta && r.meta.mode === 'slices') {
      parts.push(summarizeSlices(r));
      continue;
    }
    const { text, ratios } = summarizeOne(r);
    parts.push(text);
    for (const k of Object.keys(ratios)) (pooled[k] = pooled[k] || []).push(...ratios[k].filter((x) => x !== null));
  }
  if (rounds.length > 1) {
    const s = (xs) =>
      xs
        .slice()
        .sort((a, b) => a - b)
        .map(f3)
        .join(', ');
    parts.push(`### Pooled per-round ratios (${rounds.length} files)\n`);
    for (const k of Object.keys(pooled))
      if (pooled[k].length) parts.push(`- ${k} (sorted): ${s(pooled[k])} → **median ${f3(median(pooled[k]))}**`);
    parts.push('');
  }
  return parts.join('\n');
}

/** Per-variant medians of a slices comparison's groups. */
function sliceMedians(cmp, otherPct) {
  const out = {};
  for (const x of cmp.xs) {
    const gs = cmp.groups.filter((g) => g.x === x);
    const xs = gs.map((g) => g.slices[1]);
    const effs = gs.map((g) => g.efficiency).filter((e) => e !== null);
    out[x] = {
      groups: gs.length,
      disturbed: gs.filter((g) => g.otherMaxPct > otherPct).length,
      efficiency: median(effs),
      efficiencyMin: effs.length ? Math.min(...effs) : null,
      efficiencyMax: effs.length ? Math.max(...effs) : null,
      extraUs: median(gs.map((g) => g.extraUs)),
      xUsPerReq: median(gs.map((g) => g.xUsPerReq)),
      baseUsPerReq: median(gs.map((g) => g.baseUsPerReq)),
      reqRatio: median(gs.map((g) => g.reqRatio)),
      xReqPerSec: median(gs.map((g) => g.xReqPerSec)),
      baseReqPerSec: median(gs.map((g) => g.baseReqPerSec)),
      p99: median(xs.map((s) => s.latencyMs.p99)),
      baseDriftPct: median(gs.map((g) => g.baseDriftPct)),
    };
  }
  return out;
}

function summarizeSlices({ file, meta, comparisons }) {
  const out = [];
  out.push(`### bench:proxy slices — \`${file ? path.relative(REPO, file) : ''}\``);
  out.push('');
  out.push(
    `${meta.groups} group(s) of [untraced ${meta.sliceS} s, X ${meta.sliceS} s, untraced ${meta.sliceS} s] per measured gateway; ` +
      `${meta.connections} connections; ${meta.warmupS} s warm-up per gateway; gateway on CPU ${meta.gatewayCpu}, load on CPU ${meta.loadCpu}; ` +
      `sink ${meta.sinkMode}; node ${meta.node}; started ${meta.startedAt}` +
      (meta.loadavgAtStart ? `; load average at start ${meta.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}` : '') +
      '.',
  );
  out.push('');
  const measured = {};
  const lostRows = [];
  for (const cmp of comparisons) {
    const med = sliceMedians(cmp, meta.otherPct);
    Object.assign(measured, med);
    out.push(`#### ${cmp.base} | ${cmp.xs.join(', ')}`);
    out.push('');
    out.push(
      table(
        [
          'group',
          'X',
          `${cmp.base} µs/req (u1, u2)`,
          'X µs/req',
          'efficiency',
          'extra µs/req',
          `${cmp.base} req/s`,
          'X req/s',
          'req/s ratio',
          'max other load on gw CPU %',
        ],
        cmp.groups.map((g) => [
          g.group,
          g.x,
          `${f1(g.baseUsPerReq)} (${f1(g.slices[0].usPerReq)}, ${f1(g.slices[2].usPerReq)})`,
          f1(g.xUsPerReq),
          f3(g.efficiency),
          f1(g.extraUs),
          f0(g.baseReqPerSec),
          f0(g.xReqPerSec),
          f3(g.reqRatio),
          g.otherMaxPct > meta.otherPct ? `**${f1(g.otherMaxPct)}**` : f1(g.otherMaxPct),
        ]),
      ),
    );
    out.push('');
    out.push(
      table(
        [
          'X',
          'groups (disturbed)',
          'gw CPU µs/req',
          `${cmp.base} µs/req`,
          '**extra µs/req**',
          '**CPU efficiency** (min–max)',
          'req/s',
          `${cmp.base} req/s`,
          'req/s ratio',
          'p99 ms',
          `${cmp.base} drift %`,
          'spans at sink / expected (lost)',
          'RSS MiB at end (peak)',
        ],
        cmp.xs.map((x) => {
          const m = med[x];
          const g = cmp.gateways[x];
          const sp = g.spans;
          if (sp) lostRows.push([x, sp.lost]);
          return [
            x,
            `${m.groups} (${m.disturbed})`,
            f1(m.xUsPerReq),
            f1(m.baseUsPerReq),
            `**${f1(m.extraUs)}**`,
            `**${f3(m.efficiency)}** (${f3(m.efficiencyMin)}–${f3(m.efficiencyMax)})`,
            f0(m.xReqPerSec),
            f0(m.baseReqPerSec),
            f3(m.reqRatio),
            f1(m.p99),
            f1(m.baseDriftPct),
            sp ? `${sp.receivedFinal} / ${sp.expected} (${sp.lost})` : '–',
            `${mib(g.memAtEnd.rssKB)} (${mib(g.memAtEnd.hwmKB)})`,
          ];
        }),
      ),
    );
    out.push('');
    const b = cmp.gateways[cmp.base];
    out.push(
      `${cmp.base}: RSS ${mib(b.memAtEnd.rssKB)} MiB at end (peak ${mib(b.memAtEnd.hwmKB)}); ${b.stats.received} requests. ` +
        `Medians over groups; efficiency = ${cmp.base} µs/req ÷ X µs/req; drift = how far a group's two ${cmp.base} slices disagree; ` +
        `disturbed = other load on the gateway CPU above ${meta.otherPct} % in a slice of the group.`,
    );
    out.push('');
  }
  const checks = cpuTargetRows(measured);
  for (const [x, lost] of lostRows) checks.push([`${x}: every expected span at the sink`, `${lost} lost`, lost === 0]);
  if (checks.length) {
    out.push(targetTable(checks));
    out.push('');
  }
  return out.join('\n');
}

module.exports = { summarize, summarizeSlices, cpuPerReq, cpuTargetRows, targetTable, CPU_TARGETS, f2 };

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
