'use strict';
// npm run bench:instructions — instructions per request of each gateway, counted by valgrind
// (cachegrind, no cache simulation): a count of the work done, not of the time it took, so the
// host's speed swings (which make the load benchmarks unreliable on a shared VM) do not reach it.
//
//   npm run build && npm run bench:instructions              # CA, C0, C1 (the CLI gateways)
//   ORDER=CA,C0,C1,A,P0,P1 npm run bench:instructions        # the express + HPM ones too
//   N1=4000 N2=8000 ORDER=CA,C1 npm run bench:instructions   # quicker, less settled
//
// Each variant runs twice under `valgrind --tool=cachegrind --cache-sim=no`, once for N1 and once
// for N2 requests (autocannon `-a`, 10 connections, the bench:proxy upstream and sink); the
// instructions per request are (Ir(N2) − Ir(N1)) / (N2 − N1), which cancels start-up, warm-up
// and the drain as long as the gateway is settled by N1 requests (the default N1 leaves the JIT
// its first 10,000). All the gateway's threads are counted (valgrind runs them one at a time;
// node gets `--single-threaded-gc` so the GC's share does not depend on thread scheduling).
// Kernel work (syscalls, the network stack) is not counted: the load benchmarks show that part.
// The second table splits each variant's per-request instructions by kind (`breakdown`), and a
// variant still being compiled after N1 requests is reported as not settled.
// Requires valgrind (`apt-get install valgrind`); Linux only. Takes about 3 minutes per variant.
// Knobs (env): ORDER (CA,C0,C1) N1 (10000) N2 (20000) CONNS (10) and the ports of bench:proxy.
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const h = require('./lib/harness');
const gateways = require('./lib/gateways');
const { startBackends } = require('./proxy/run');

const AUTOCANNON = path.join(h.REPO, 'node_modules', 'autocannon', 'autocannon.js');

function instructionsOf(logFile) {
  const m = /I\s+refs:\s+([\d,]+)/.exec(fs.readFileSync(logFile, 'utf8'));
  if (!m) throw new Error(`no cachegrind summary in ${logFile}`);
  return Number(m[1].replace(/,/g, ''));
}

/**
 * Where the extra instructions of the N2 run went, by kind, from `cg_diff` of the two runs' files
 * (per request): TurboFan / Maglev compiling (a share above 2% means the gateway was not settled
 * by N1), the GC, V8's inline-cache and other builtins, code V8 generated (JIT, `???`) and the
 * rest (Node's C++, V8's runtime, libc).
 */
const KINDS = [
  ['compiler', /v8::internal::(compiler|maglev|baseline)::|Deoptimizer|turboshaft/],
  ['gc', /Scaveng|MarkCompact|Marking|Sweeper|v8::internal::Heap::|heap::base::|ConcurrentMarking|MinorMark/],
  ['ic', /Builtins_\w*IC(_|\b|Trampoline)/],
  ['builtins', /Builtins_/],
  ['jit', /^\?\?\?:\?\?\?$/],
];

function breakdown(logdir, label1, label2, requests) {
  const diff = path.join(logdir, `${label1}-${label2}.cgdiff`);
  const d = spawnSync(
    'cg_diff',
    [path.join(logdir, `${label1}.cachegrind`), path.join(logdir, `${label2}.cachegrind`)],
    {
      maxBuffer: 1 << 28,
    },
  );
  if (d.status !== 0) return null;
  fs.writeFileSync(diff, d.stdout);
  const a = spawnSync('cg_annotate', ['--threshold=0', '--auto=no', diff], { maxBuffer: 1 << 28, encoding: 'utf8' });
  if (a.status !== 0) return null;
  const kinds = { compiler: 0, gc: 0, ic: 0, builtins: 0, jit: 0, rest: 0 };
  const seen = new Set();
  for (const line of a.stdout.split('\n')) {
    const m = /^\s*(-?[\d,]+) \(\s*-?[\d.]+%\)\s+(\S.*)$/.exec(line);
    if (!m || m[2] === 'PROGRAM TOTALS' || seen.has(m[2])) continue;
    seen.add(m[2]);
    const ir = Number(m[1].replace(/,/g, ''));
    const kind = KINDS.find(([, re]) => re.test(m[2]));
    kinds[kind ? kind[0] : 'rest'] += ir;
  }
  for (const k of Object.keys(kinds)) kinds[k] = Math.round(kinds[k] / requests);
  return kinds;
}

function load(run, port, amount, connections) {
  return new Promise((resolve, reject) => {
    const args = ['-c', String(connections), '-a', String(amount), '-t', '120', '-j', `http://127.0.0.1:${port}/`];
    const child = spawn('taskset', ['-c', run.loadCpu, process.execPath, AUTOCANNON, ...args], {
      cwd: h.REPO,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    run.started.push(child);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', () => {
      try {
        const r = JSON.parse(out);
        resolve({ total: r.requests.total, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts });
      } catch {
        reject(new Error(`autocannon exit without a result (${amount} requests)`));
      }
    });
  });
}

async function count(run, variant, amount, ports, connections) {
  const spec = gateways.variant(variant);
  const label = `${variant}-${amount}`;
  const cg = path.join(run.logdir, `${label}.cachegrind`);
  const gw = new gateways.Gateway(run, variant, spec, {
    label,
    ...gateways.portOptions(ports),
    nodeFlags: ['--single-threaded-gc'],
    wrapper: [
      'valgrind',
      '--tool=cachegrind',
      '--cache-sim=no',
      '--smc-check=all-non-file',
      `--cachegrind-out-file=${cg}`,
    ],
    startTimeoutMs: 180000,
  });
  await gw.start();
  const res = await load(run, ports.gateway, amount, connections);
  if (res.total !== amount || res.non2xx || res.errors || res.timeouts)
    throw new Error(`${label}: ${JSON.stringify(res)} (expected ${amount} answered 2xx)`);
  const { stats } = await gw.stop();
  return { instructions: instructionsOf(path.join(run.logdir, `${label}.gateway.log`)), requests: res.total, stats };
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.error('bench:instructions needs valgrind (apt-get install valgrind)');
    process.exit(2);
  }
  h.checkBuildFresh();
  const order = (process.env.ORDER || 'CA,C0,C1').split(',').map((v) => v.trim().toUpperCase());
  for (const v of order) gateways.variant(v);
  const n1 = h.envNum('N1', 10000);
  const n2 = h.envNum('N2', 20000);
  if (!(n2 > n1)) throw new Error('N2 must be above N1');
  const connections = h.envNum('CONNS', 10);
  const run = new h.Run('instructions');
  const ports = gateways.benchPorts();
  const rows = {};
  let stopBackends = null;
  try {
    stopBackends = await startBackends(run, ports, 0);
    for (const v of order) {
      const a = await count(run, v, n1, ports, connections);
      const b = await count(run, v, n2, ports, connections);
      const perRequest = (b.instructions - a.instructions) / (n2 - n1);
      const kinds = breakdown(run.logdir, `${v}-${n1}`, `${v}-${n2}`, n2 - n1);
      rows[v] = { n1: a.instructions, n2: b.instructions, perRequest, kinds };
      console.error(
        `${v}: ${Math.round(perRequest)} instructions/request (Ir ${a.instructions} at ${n1}, ${b.instructions} at ${n2})` +
          (kinds ? ` ${JSON.stringify(kinds)}` : ''),
      );
      // Negative: the N1 run compiled more than the N2 run did; either way the window is not settled.
      if (kinds && Math.abs(kinds.compiler) > 0.02 * perRequest)
        console.error(
          `${v}: not settled between ${n1} and ${n2} requests (compiling ${kinds.compiler}/request): raise N1 and N2`,
        );
    }
  } finally {
    if (stopBackends) await stopBackends();
    run.killAll();
  }
  const file = run.writeResult({
    meta: {
      bench: 'instructions',
      order,
      n1,
      n2,
      connections,
      node: process.version,
      startedAt: new Date().toISOString(),
    },
    variants: rows,
  });
  console.log(`wrote ${path.relative(h.REPO, file)}\n`);
  const table = order.map((v) => {
    const base = gateways.variant(v).base;
    const r = rows[v];
    const b = base && base !== v ? rows[base] : undefined;
    return [
      v,
      Math.round(r.perRequest / 100) / 10 + 'k',
      b ? `${base} ${Math.round(b.perRequest / 100) / 10}k` : '–',
      b ? `${Math.round((r.perRequest - b.perRequest) / 100) / 10}k` : '–',
      b ? (b.perRequest / r.perRequest).toFixed(3) : '–',
    ];
  });
  console.log(
    h.table(['variant', 'instructions / request', 'untraced', 'extra / request', 'untraced ÷ variant'], table),
  );
  const kindNames = ['jit', 'ic', 'builtins', 'gc', 'compiler', 'rest'];
  const k = (n) => Math.round(n / 100) / 10 + 'k';
  const kindRows = order
    .filter((v) => rows[v].kinds)
    .map((v) => [
      v,
      ...kindNames.map((name) => k(rows[v].kinds[name])),
      k(rows[v].perRequest - rows[v].kinds.compiler),
    ]);
  if (kindRows.length > 0)
    console.log('\nper request, by kind\n' + h.table(['variant', ...kindNames, 'all but compiler'], kindRows));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
