'use strict';
// Shared plumbing of the load benchmarks (proxy, slow-collector, profile), after the anchor
// harness (docs/anchor-bench.md): processes pinned with taskset (gateway on GW_CPU,
// upstream + sink + autocannon on LOAD_CPU), /proc CPU and memory readings, autocannon runs,
// the cpuprobe drift indicator, and the result / log locations (bench/results/, gitignored).
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const http = require('http');
const net = require('net');

const REPO = path.resolve(__dirname, '..', '..');
const BENCH = path.join(REPO, 'bench');
const RESULTS = path.join(BENCH, 'results');
const AUTOCANNON = path.join(REPO, 'node_modules', 'autocannon', 'autocannon.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/** Number from the environment, with a default (empty counts as unset). */
function envNum(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}=${v} is not a number`);
  return n;
}

/** Refuse to run against a stale or missing build: the benchmarks load build/src. */
function requireBuild(rel) {
  const file = path.join(REPO, 'build', 'src', rel);
  if (!fs.existsSync(file + '.js') && !fs.existsSync(path.join(file, 'index.js'))) {
    throw new Error(`${path.relative(REPO, file)}.js missing: run \`npm run build\` (or \`npx tsc -p .\`) first`);
  }
  return require(file);
}

/** Warn (once) when a src/ file is newer than its build/ output. */
function checkBuildFresh(log = console.error) {
  const stale = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const out = path.join(REPO, 'build', path.relative(REPO, p)).replace(/\.ts$/, '.js');
        if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(p).mtimeMs)
          stale.push(path.relative(REPO, p));
      }
    }
  };
  walk(path.join(REPO, 'src'));
  if (stale.length)
    log(
      `warning: build/ is older than ${stale.length} src file(s) (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}): run \`npm run build\``,
    );
  return stale;
}

/**
 * Re-run this script pinned to one CPU (BENCH_CPU, default 0; `none` to skip) with taskset,
 * so in-process micro-benchmarks do not migrate between cores. Returns only in the pinned child.
 */
function pinSelf() {
  const cpu = process.env.BENCH_CPU || '0';
  if (cpu === 'none' || process.env.BENCH_PINNED === '1') return;
  const { spawnSync } = require('child_process');
  const r = spawnSync('taskset', ['-c', cpu, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  if (r.error) {
    console.error(`taskset unavailable (${r.error.message}); running unpinned`);
    return;
  }
  process.exit(r.status === null ? 1 : r.status);
}

/** A run context: log directory, started children (killed by pid at the end). */
class Run {
  constructor(name, opts = {}) {
    this.name = name;
    this.stamp = stamp();
    this.logdir = path.join(RESULTS, 'logs', `${name}-${this.stamp}`);
    fs.mkdirSync(this.logdir, { recursive: true });
    this.gwCpu = opts.gwCpu ?? (process.env.GW_CPU || '0');
    this.loadCpu = opts.loadCpu ?? (process.env.LOAD_CPU || '1');
    this.started = [];
    // Interrupted (Ctrl-C, timeout): take the children along rather than leave them holding the ports.
    for (const sig of ['SIGINT', 'SIGTERM'])
      process.once(sig, () => {
        this.killAll();
        process.exit(130);
      });
  }

  /**
   * Start `node <args>` pinned to `cpu`, stdout+stderr to <logdir>/<name>.log; `wrapper` (a command
   * and its flags, e.g. valgrind's) runs node under it.
   */
  startProc(name, cpu, args, env = {}, nodeFlags = [], wrapper = []) {
    const out = fs.openSync(path.join(this.logdir, `${name}.log`), 'a');
    const child = spawn('taskset', ['-c', cpu, ...wrapper, process.execPath, ...nodeFlags, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    child.exitPromise = new Promise((r) => child.on('exit', (code, sig) => r({ code, sig })));
    this.started.push(child);
    return child;
  }

  /** autocannon pinned to the load CPU; resolves with its JSON result. */
  autocannon({ port, duration, connections, label, path: urlPath = '/' }) {
    const args = ['-c', String(connections), '-d', String(duration), '-j', `http://127.0.0.1:${port}${urlPath}`];
    return new Promise((resolve, reject) => {
      const child = spawn('taskset', ['-c', this.loadCpu, process.execPath, AUTOCANNON, ...args], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.started.push(child);
      let out = '',
        err = '';
      child.stdout.on('data', (c) => {
        out += c;
      });
      child.stderr.on('data', (c) => {
        err += c;
      });
      child.on('exit', (code) => {
        fs.writeFileSync(path.join(this.logdir, `${label}.autocannon.json`), out);
        if (err) fs.writeFileSync(path.join(this.logdir, `${label}.autocannon.stderr`), err);
        try {
          resolve({
            cmd: `taskset -c ${this.loadCpu} node node_modules/autocannon/autocannon.js ${args.join(' ')}`,
            result: JSON.parse(out),
          });
        } catch {
          reject(new Error(`autocannon ${label} exit ${code}: ${err.slice(0, 500)}`));
        }
      });
    });
  }

  /** Fixed JS loop on the gateway core (ms; lower = more CPU available): a drift indicator. */
  cpuProbe() {
    return new Promise((resolve) => {
      const child = spawn('taskset', ['-c', this.gwCpu, process.execPath, path.join(BENCH, 'lib', 'cpuprobe.js')], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      this.started.push(child);
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
      });
      child.on('exit', () => resolve(Number(out.split(' ')[0])));
    });
  }

  /** SIGKILL whatever we started and is still running (by pid). */
  killAll() {
    for (const c of this.started) {
      if (c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }

  writeResult(obj) {
    fs.mkdirSync(RESULTS, { recursive: true });
    const file = path.join(RESULTS, `${this.name}-${this.stamp}.json`);
    fs.writeFileSync(file, JSON.stringify(obj, null, 2));
    return file;
  }
}

function getJSON(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let d = '';
      res.on('data', (c) => {
        d += c;
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(d));
        } catch {
          resolve(d);
        }
      });
    });
    req.on('error', reject);
  });
}

function portOpen(port) {
  return new Promise((r) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => r(false));
  });
}

/** Something else listening on our port would be measured instead of our process: refuse. */
async function assertPortFree(port) {
  if (await portOpen(port))
    throw new Error(`127.0.0.1:${port} is already in use (another benchmark running?); set the *_PORT env knobs`);
}

async function waitPort(port, timeoutMs = 15000, child = null) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (child && child.exitCode !== null) throw new Error(`process for port ${port} exited with ${child.exitCode}`);
    if (await portOpen(port)) return;
    await sleep(100);
  }
  throw new Error(`port ${port} not up`);
}

function cpuTimes() {
  const out = {};
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(/\s+/).map(Number);
    out[m[1]] = { idle: v[3] + v[4], total: v.slice(0, 8).reduce((a, b) => a + b, 0), steal: v[7] };
  }
  return out;
}

function cpuBusy(a, b) {
  const r = {};
  for (const k of Object.keys(b)) {
    const dt = b[k].total - a[k].total,
      di = b[k].idle - a[k].idle;
    r[k] = dt > 0 ? +(100 * (1 - di / dt)).toFixed(1) : null;
    r[k + 'steal'] = dt > 0 ? +((100 * (b[k].steal - a[k].steal)) / dt).toFixed(1) : null;
  }
  return r;
}

/**
 * Wait until the machine is quiet — every CPU under QUIET_PCT % busy (default 20) over a 1 s
 * sample — for at most QUIET_WAIT_S seconds (default 120; 0 = never wait). Other work on the
 * gateway's core shows up directly in the ratios; on a dedicated machine this returns at once.
 * `maxS` overrides QUIET_WAIT_S. Returns { waitedS, busyPct } (the last sample) for the run record.
 */
async function waitQuiet({ maxS = envNum('QUIET_WAIT_S', 120) } = {}) {
  const pct = envNum('QUIET_PCT', 20);
  const t0 = Date.now();
  for (;;) {
    const a = cpuTimes();
    await sleep(1000);
    const busy = cpuBusy(a, cpuTimes());
    const cores = Object.keys(busy).filter((k) => /^cpu\d+$/.test(k));
    const quiet = cores.every((k) => busy[k] < pct);
    const waitedS = +((Date.now() - t0) / 1000).toFixed(1);
    if (quiet || maxS <= 0 || waitedS >= maxS) {
      return { waitedS, quiet, busyPct: Object.fromEntries(cores.map((k) => [k, busy[k]])) };
    }
  }
}

/** utime + stime of a process, in clock ticks (100/s). */
function procTicks(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * CPU time of a process in ns: the sum of its threads' run time from /proc/<pid>/task/<tid>/schedstat
 * (ns precision), or utime + stime ticks × 10 ms where schedstat is missing. Threads that exited
 * between two readings drop out of the sum (Node's threads live as long as the process).
 */
function procCpuNs(pid) {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns;
  } catch {
    return procTicks(pid) * 1e7;
  }
}

/** VmRSS and VmHWM (peak RSS) of a process, kB. */
function procMem(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s) || [])[1]);
  return { rssKB: get('VmRSS'), hwmKB: get('VmHWM') };
}

/** The autocannon figures kept in results. */
function pickAc(r, duration) {
  const L = r.latency;
  return {
    reqPerSecAvg: r.requests.average,
    reqPerSecTotal: +(r.requests.total / duration).toFixed(1),
    requestsTotal: r.requests.total,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyMs: { avg: L.average, p50: L.p50, p90: L.p90, p97_5: L.p97_5, p99: L.p99, max: L.max },
    throughputBytesPerSec: r.throughput.average,
  };
}

const median = (xs) => {
  const a = xs
    .filter((x) => x !== null && x !== undefined && !Number.isNaN(x))
    .slice()
    .sort((p, q) => p - q);
  if (!a.length) return null;
  const m = Math.floor(a.length / 2);
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};
const nil = (x) => x === null || x === undefined || Number.isNaN(x);
const f0 = (x) => (nil(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const f1 = (x) => (nil(x) ? '–' : (+x).toFixed(1));
const f2 = (x) => (nil(x) ? '–' : (+x).toFixed(2));
const f3 = (x) => (nil(x) ? '–' : (+x).toFixed(3));
const mib = (kb) => (nil(kb) ? '–' : (kb / 1024).toFixed(1));

/** Versions of the packages under test, from the repo's node_modules. */
function versions(names) {
  return Object.fromEntries(
    names.map((p) => {
      try {
        return [p, require(path.join(REPO, 'node_modules', p, 'package.json')).version];
      } catch {
        return [p, null];
      }
    }),
  );
}

/** Markdown table from a header row and rows. */
function table(head, rows) {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

module.exports = {
  REPO,
  BENCH,
  RESULTS,
  sleep,
  stamp,
  envNum,
  pinSelf,
  requireBuild,
  checkBuildFresh,
  Run,
  getJSON,
  assertPortFree,
  waitPort,
  cpuTimes,
  cpuBusy,
  waitQuiet,
  procTicks,
  procCpuNs,
  procMem,
  pickAc,
  median,
  f0,
  f1,
  f2,
  f3,
  mib,
  versions,
  table,
};
