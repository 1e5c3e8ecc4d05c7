'use strict';
// Summary of a V8 .cpuprofile (from `node --cpu-prof`): where the time went, by function and by file.
//
//   node bench/profile-summary.js <file.cpuprofile> [--top 25] [--ours build/src/] [--json]
//
// Prints (markdown):
//   - totals: profiled time, idle, GC, (program);
//   - self time by file group: our code (build/src → src/*.ts), each node_modules package, node internals, V8;
//   - the top N functions by self time, all code;
//   - the top N functions of our code (path containing --ours) by self time and by inclusive time
//     (time with the function anywhere on the stack, each sample counted once per function).
// Locations of our functions are mapped back to src/*.ts lines through build/'s source maps.
// Sample durations follow Chrome DevTools: sample i lasts until sample i+1.
const fs = require('fs');
const path = require('path');
const { SourceMap } = require('module');

const REPO = path.resolve(__dirname, '..');

function parseArgs(argv) {
  const opts = { file: null, top: 25, ours: `${path.sep}build${path.sep}src${path.sep}`, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--top') opts.top = Number(argv[++i]);
    else if (a === '--ours') opts.ours = argv[++i];
    else if (a === '--json') opts.json = true;
    else opts.file = a;
  }
  if (!opts.file) {
    console.error('usage: node bench/profile-summary.js <file.cpuprofile> [--top 25] [--ours build/src/] [--json]');
    process.exit(2);
  }
  return opts;
}

const maps = new Map();
/** src/… location of a build/ position through its source map, if any. */
function originalLocation(url, line, column) {
  if (!url.startsWith('file://') || !url.endsWith('.js')) return null;
  const file = url.slice('file://'.length);
  let map = maps.get(file);
  if (map === undefined) {
    map = null;
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(file + '.map', 'utf8')));
    } catch {
      /* no map */
    }
    maps.set(file, map);
  }
  if (map === null) return null;
  const e = map.findEntry(line, column);
  if (!e || !e.originalSource) return null;
  const src = path.resolve(path.dirname(file), e.originalSource);
  return `${path.relative(REPO, src)}:${e.originalLine + 1}`;
}

/** Display group of a script url. */
function groupOf(url, ours) {
  if (!url) return '(V8 / native)';
  if (url.startsWith('node:')) return 'node internals';
  const p = url.startsWith('file://') ? url.slice(7) : url;
  if (p.includes(ours))
    return (
      'ours: ' +
      path
        .relative(REPO, p)
        .replace(/^build\//, '')
        .replace(/^dist\//, 'src/')
        .replace(/\.js$/, '.ts')
    );
  const nm = p.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (nm >= 0) {
    const rest = p.slice(nm + 14).split(path.sep);
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  return path.relative(REPO, p);
}

function summarize(profile, opts) {
  const nodes = new Map();
  const parent = new Map();
  for (const n of profile.nodes) {
    nodes.set(n.id, n);
    for (const c of n.children || []) parent.set(c, n.id);
  }
  const { samples, timeDeltas } = profile;
  const dur = new Array(samples.length);
  const interval = samples.length > 1 ? (profile.endTime - profile.startTime) / samples.length : 0;
  for (let i = 0; i < samples.length; i++)
    dur[i] = i + 1 < timeDeltas.length ? Math.max(0, timeDeltas[i + 1]) : interval;
  const total = dur.reduce((a, b) => a + b, 0);

  const fnKey = (n) => {
    const cf = n.callFrame;
    return `${cf.functionName || '(anonymous)'}\u0000${cf.url}\u0000${cf.lineNumber}\u0000${cf.columnNumber}`;
  };
  const fns = new Map(); // key -> { name, url, line, col, self, incl }
  const fnOf = (n) => {
    const key = fnKey(n);
    let f = fns.get(key);
    if (!f) {
      const cf = n.callFrame;
      f = {
        name: cf.functionName || '(anonymous)',
        url: cf.url,
        line: cf.lineNumber,
        col: cf.columnNumber,
        self: 0,
        incl: 0,
      };
      fns.set(key, f);
    }
    return f;
  };
  const special = { '(idle)': 0, '(garbage collector)': 0, '(program)': 0, '(root)': 0 };
  const groups = new Map();
  for (let i = 0; i < samples.length; i++) {
    const n = nodes.get(samples[i]);
    if (!n) continue;
    const name = n.callFrame.functionName;
    if (name in special) special[name] += dur[i];
    const f = fnOf(n);
    f.self += dur[i];
    const g = name in special ? name : groupOf(n.callFrame.url, opts.ours);
    groups.set(g, (groups.get(g) || 0) + dur[i]);
    // inclusive: every distinct function on the stack once
    const seen = new Set();
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
      const m = nodes.get(id);
      const k = fnKey(m);
      if (seen.has(k)) continue;
      seen.add(k);
      fnOf(m).incl += dur[i];
    }
  }
  const busy = total - special['(idle)'];
  const all = [...fns.values()];
  const isOurs = (f) => f.url.includes(opts.ours);
  const where = (f) => {
    const orig = isOurs(f) ? originalLocation(f.url, f.line, f.col) : null;
    if (orig) return orig;
    const g = groupOf(f.url, opts.ours);
    return f.url ? `${g.replace(/^ours: /, '')}${isOurs(f) ? '' : ''}:${f.line + 1}` : g;
  };
  return {
    totalMs: total / 1000,
    idleMs: special['(idle)'] / 1000,
    gcMs: special['(garbage collector)'] / 1000,
    programMs: special['(program)'] / 1000,
    busyMs: busy / 1000,
    groups: [...groups.entries()]
      .map(([group, t]) => ({ group, ms: t / 1000, pctBusy: group === '(idle)' ? null : (100 * t) / busy }))
      .sort((a, b) => b.ms - a.ms),
    topSelf: all
      .filter((f) => f.self > 0)
      .sort((a, b) => b.self - a.self)
      .slice(0, opts.top)
      .map((f) => ({ fn: f.name, at: where(f), selfMs: f.self / 1000, pctBusy: (100 * f.self) / busy })),
    oursSelf: all
      .filter((f) => isOurs(f) && f.self > 0)
      .sort((a, b) => b.self - a.self)
      .slice(0, opts.top)
      .map((f) => ({
        fn: f.name,
        at: where(f),
        selfMs: f.self / 1000,
        pctBusy: (100 * f.self) / busy,
        inclMs: f.incl / 1000,
      })),
    oursIncl: all
      .filter(isOurs)
      .sort((a, b) => b.incl - a.incl)
      .slice(0, opts.top)
      .map((f) => ({
        fn: f.name,
        at: where(f),
        inclMs: f.incl / 1000,
        pctBusy: (100 * f.incl) / busy,
        selfMs: f.self / 1000,
      })),
  };
}

function markdown(s, file, top) {
  const t = (head, rows) =>
    [
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  const ms = (x) => x.toFixed(1);
  const pct = (x) => (x === null ? '–' : x.toFixed(1) + '%');
  const ourTotal = s.groups.filter((g) => g.group.startsWith('ours: ')).reduce((a, g) => a + g.ms, 0);
  return [
    `### CPU profile — \`${path.relative(process.cwd(), file)}\``,
    '',
    `Profiled ${ms(s.totalMs)} ms: busy ${ms(s.busyMs)} ms, idle ${ms(s.idleMs)} ms; GC ${ms(s.gcMs)} ms (${pct((100 * s.gcMs) / s.busyMs)} of busy); ` +
      `our code (self) ${ms(ourTotal)} ms (${pct((100 * ourTotal) / s.busyMs)} of busy).`,
    '',
    '**Self time by file / package** (% of busy time)',
    '',
    t(
      ['file or package', 'self ms', '% busy'],
      s.groups
        .filter((g) => g.group !== '(idle)')
        .slice(0, Math.max(top, 30))
        .map((g) => [g.group, ms(g.ms), pct(g.pctBusy)]),
    ),
    '',
    `**Top ${top} functions by self time** (all code)`,
    '',
    t(
      ['function', 'location', 'self ms', '% busy'],
      s.topSelf.map((f) => [`\`${f.fn}\``, f.at, ms(f.selfMs), pct(f.pctBusy)]),
    ),
    '',
    `**Our code: top ${top} by self time**`,
    '',
    t(
      ['function', 'location', 'self ms', '% busy', 'inclusive ms'],
      s.oursSelf.map((f) => [`\`${f.fn}\``, f.at, ms(f.selfMs), pct(f.pctBusy), ms(f.inclMs)]),
    ),
    '',
    `**Our code: top ${top} by inclusive time** (callees included, library and node code they call too)`,
    '',
    t(
      ['function', 'location', 'inclusive ms', '% busy', 'self ms'],
      s.oursIncl.map((f) => [`\`${f.fn}\``, f.at, ms(f.inclMs), pct(f.pctBusy), ms(f.selfMs)]),
    ),
    '',
  ].join('\n');
}

module.exports = { summarize, markdown };

if (require.main === module) {
  const opts = parseArgs(process.argv.slice(2));
  const profile = JSON.parse(fs.readFileSync(opts.file, 'utf8'));
  const s = summarize(profile, opts);
  console.log(opts.json ? JSON.stringify(s, null, 2) : markdown(s, opts.file, opts.top));
}
