'use strict';
// The gateways the load benchmarks measure (bench:proxy rounds and slices, bench:slow-collector,
// bench:memory, bench:profile), behind one interface: start pinned to the gateway CPU, wait until
// ready, quiesce after the load, stop (SIGTERM: the gateway drains its span queue and exits) and
// report the same stats record.
//
// Two kinds:
//   express  bench/proxy/gateway.js (express 5 + http-proxy-middleware 3, keep-alive upstream agent):
//            A untraced, B stock OTel, P1 / P0 ours, H hooks only, Z the zipkin-js peer. It counts
//            requests itself and writes its stats to STATS_FILE after the SIGTERM drain.
//   cli      the real CLI, `node dist/gateway/cli.js --config <deck> --listen … --status-listen …`,
//            from a generated decK file: one service (the bench upstream), one route (`/`), and for
//            C1 / C0 one global zipkin plugin. Counted from outside, without touching the CLI: after
//            the load, `GET /status` until no connection is open and the counters are still (proxy
//            `total_requests`, the plugin queue's `queued` / `sent` / `dropped`), then SIGTERM (it
//            drains its queues and exits 0). Expected spans = the queue's `queued`.
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const h = require('./harness');

const CLI = path.join(h.REPO, 'dist', 'gateway', 'cli.js');
const EXPRESS = path.join(h.BENCH, 'proxy', 'gateway.js');
const P_QUEUE = { max_batch_size: 200 };
const queueFromEnv = (name) => (process.env[name] ? JSON.parse(process.env[name]) : P_QUEUE);

/** Ours on the express gateway (P variants), sample_ratio and config.queue given. */
const expressOurs = (sampleRatio, queue) => ({
  kind: 'express',
  env: { VARIANT: 'P', SAMPLE_RATIO: String(sampleRatio), QUEUE: JSON.stringify(queue) },
  base: 'A',
  sampleRatio,
  queue,
  // Kong's queue sends a partial batch max_coalescing_delay (1 s by default) after its first entry.
  flushMs: 1000 * (queue.max_coalescing_delay ?? 1),
});

/** The CLI with one global zipkin plugin (C variants), or none (plugin null: CA). */
const cliGateway = (sampleRatio, queue) =>
  sampleRatio === null
    ? { kind: 'cli', plugin: null, base: 'CA', flushMs: 0 }
    : {
        kind: 'cli',
        plugin: { sample_ratio: sampleRatio, queue },
        base: 'CA',
        sampleRatio,
        queue,
        flushMs: 1000 * (queue.max_coalescing_delay ?? 1),
      };

/**
 * The named variants. `base` is the untraced gateway of the same kind (the efficiency ratios'
 * denominator), `flushMs` how long after the load the reporter may still send what it holds
 * (the slices mode waits that long before closing a slice's CPU account).
 */
const VARIANTS = {
  A: { kind: 'express', env: { VARIANT: 'A' }, base: 'A', flushMs: 0 },
  // The stock BatchSpanProcessor exports a partial batch scheduledDelayMillis (5 s) after the last one.
  B: { kind: 'express', env: { VARIANT: 'B' }, base: 'A', flushMs: 5000 },
  P1: expressOurs(1, queueFromEnv('P1_QUEUE')),
  P0: expressOurs(0.001, queueFromEnv('P0_QUEUE')),
  // Diagnostic: A + only the plugin's response hooks (no trace), to isolate their cost.
  H: { kind: 'express', env: { VARIANT: 'A', DIAG: 'hooks' }, base: 'A', flushMs: 0 },
  // zipkin-js: HttpLogger POSTs its buffer every httpInterval (1 s).
  Z: { kind: 'express', env: { VARIANT: 'Z' }, base: 'A', flushMs: 1000 },
  CA: cliGateway(null),
  C1: cliGateway(1, queueFromEnv('C1_QUEUE')),
  C0: cliGateway(0.001, queueFromEnv('C0_QUEUE')),
};

function variant(name) {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown variant ${name} (${Object.keys(VARIANTS).join(', ')})`);
  return v;
}

/** The decK file of a CLI variant: the bench upstream behind one route, and its zipkin plugin. */
function deck(spec, upstreamUrl, sinkUrl) {
  const doc = {
    _format_version: '3.0',
    services: [{ name: 'bench-upstream', url: upstreamUrl, routes: [{ name: 'bench-route', paths: ['/'] }] }],
  };
  if (spec.plugin) doc.plugins = [{ name: 'zipkin', config: { http_endpoint: sinkUrl, ...spec.plugin } }];
  return YAML.stringify(doc);
}

/**
 * One gateway process. `opts`: label (log names), port, statusPort (cli), upstreamPort, sinkPort,
 * source (the sink's `?src=` name, to count spans per gateway when several report to one sink),
 * nodeFlags, env (extra environment), drainTimeoutS (cli `--drain-timeout`, express SHUTDOWN_TIMEOUT_MS),
 * wrapper (a command node runs under, e.g. valgrind), startTimeoutMs (15 s: how long to wait for its ports).
 */
class Gateway {
  constructor(run, name, spec, opts) {
    this.run = run;
    this.name = name;
    this.spec = spec;
    this.opts = opts;
    this.proc = null;
    this.peak = null;
    this.pollTimer = null;
    this.hwmKB = 0;
  }

  get pid() {
    return this.proc.pid;
  }

  get sinkUrl() {
    const src = this.opts.source ? `?src=${encodeURIComponent(this.opts.source)}` : '';
    return `http://127.0.0.1:${this.opts.sinkPort}/api/v2/spans${src}`;
  }

  async start() {
    const { label, port, statusPort, upstreamPort, nodeFlags = [], env = {}, drainTimeoutS } = this.opts;
    const { wrapper = [], startTimeoutMs = 15000 } = this.opts;
    const upstream = `http://127.0.0.1:${upstreamPort}`;
    await h.assertPortFree(port);
    if (this.spec.kind === 'cli') {
      if (!fs.existsSync(CLI)) throw new Error(`${path.relative(h.REPO, CLI)} missing: run \`npm run build\` first`);
      await h.assertPortFree(statusPort);
      const file = path.join(this.run.logdir, `${label}.deck.yml`);
      fs.writeFileSync(file, deck(this.spec, upstream, this.sinkUrl));
      const args = [
        CLI,
        '--config',
        file,
        '--listen',
        `127.0.0.1:${port}`,
        '--status-listen',
        `127.0.0.1:${statusPort}`,
      ];
      if (drainTimeoutS !== undefined) args.push('--drain-timeout', String(drainTimeoutS));
      this.proc = this.run.startProc(`${label}.gateway`, this.run.gwCpu, args, env, nodeFlags, wrapper);
      await h.waitPort(port, startTimeoutMs, this.proc);
      await h.waitPort(statusPort, startTimeoutMs, this.proc);
    } else {
      this.statsFile = path.join(this.run.logdir, `${label}.gateway-stats.json`);
      this.proc = this.run.startProc(
        `${label}.gateway`,
        this.run.gwCpu,
        [EXPRESS],
        {
          ...this.spec.env,
          ...env,
          ...(drainTimeoutS !== undefined ? { SHUTDOWN_TIMEOUT_MS: String(drainTimeoutS * 1000) } : {}),
          GW_PORT: String(port),
          UPSTREAM: upstream,
          SINK: this.sinkUrl,
          STATS_FILE: this.statsFile,
        },
        nodeFlags,
        wrapper,
      );
      await h.waitPort(port, startTimeoutMs, this.proc);
    }
    await h.sleep(300);
  }

  /** CLI: the `/status` document. */
  status() {
    return h.getJSON(this.opts.statusPort, '/status');
  }

  /**
   * CLI: sample the plugin queue's size every `ms` (its peak entries and bytes end up in the stats);
   * the express gateway samples its own (POLL_MS).
   */
  pollQueue(ms) {
    if (this.spec.kind !== 'cli' || !this.spec.plugin || !(ms > 0)) return;
    this.peak = { entries: 0, bytes: 0 };
    const tick = async () => {
      try {
        const q = (await this.status()).plugins[0].queue;
        if (q.size.entries > this.peak.entries) this.peak.entries = q.size.entries;
        if (q.size.bytes > this.peak.bytes) this.peak.bytes = q.size.bytes;
      } catch {
        /* stopping */
      }
      if (this.pollTimer !== null) this.pollTimer = setTimeout(tick, ms);
    };
    this.pollTimer = setTimeout(tick, ms);
  }

  /**
   * CLI: after the load, wait (≤ 10 s) until no proxy connection is open and two readings 150 ms
   * apart agree on the request and queue counters, so requests cut off when the load stopped are
   * counted; returns the last `/status`. Express: nothing to wait for (it counts on SIGTERM).
   */
  async quiesce() {
    if (this.spec.kind !== 'cli') return null;
    const key = (s) => JSON.stringify([s.server.total_requests, s.plugins.map((p) => p.queue && p.queue.queued)]);
    let prev = await this.status();
    const t0 = Date.now();
    for (;;) {
      await h.sleep(150);
      const s = await this.status();
      if ((s.server.connections_active === 0 && key(s) === key(prev)) || Date.now() - t0 > 10000) return s;
      prev = s;
    }
  }

  /** SIGTERM, wait for the exit (sampling peak RSS meanwhile), and the stats record. */
  async stop() {
    const st = await this.quiesce();
    if (this.pollTimer !== null) {
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
    const tStop = Date.now();
    process.kill(this.pid, 'SIGTERM');
    const sampler = setInterval(() => {
      try {
        this.hwmKB = Math.max(this.hwmKB, h.procMem(this.pid).hwmKB);
      } catch {
        /* exited */
      }
    }, 100);
    const exit = await this.proc.exitPromise;
    clearInterval(sampler);
    const drainWallMs = Date.now() - tStop;
    let stats = null;
    if (this.spec.kind === 'cli') {
      if (exit.code !== 0)
        throw new Error(`${this.opts.label}: CLI exited ${JSON.stringify(exit)}; see ${this.run.logdir}`);
      stats = cliStats(this.name, this.spec, st, this.peak, this.hwmKB);
    } else {
      try {
        stats = JSON.parse(fs.readFileSync(this.statsFile, 'utf8'));
      } catch {
        /* reported below */
      }
      if (!stats)
        throw new Error(
          `${this.opts.label}: gateway wrote no stats (exit ${JSON.stringify(exit)}); see ${this.run.logdir}`,
        );
    }
    return { exit, drainWallMs, stats };
  }
}

/** The CLI's `/status` (read before SIGTERM) as the express gateway's stats record. */
function cliStats(name, spec, st, peak, hwmKB) {
  const stats = {
    variant: name,
    kind: 'cli',
    received: st.server.total_requests,
    served: null,
    connectionsAccepted: st.server.connections_accepted,
    peakRssKBAtExit: hwmKB || null,
    queuePeak: peak,
  };
  if (spec.plugin) {
    const q = st.plugins[0].queue;
    Object.assign(stats, {
      spansPerRequest: 3,
      sampleRatio: spec.plugin.sample_ratio,
      queueConfig: spec.plugin.queue,
      expectedSpans: q.queued,
      // Cross-check at sample_ratio 1: three spans per request the proxy counted.
      expectedFromRequests: spec.plugin.sample_ratio === 1 ? 3 * st.server.total_requests : null,
      sampled: q.queued / 3,
      healthAtSigterm: q,
      healthFinal: q,
    });
  }
  return stats;
}

/**
 * Spans expected / at the sink / lost for one gateway's stats (null for an untraced one).
 * `receivedFinal` / `receivedAtLoadEnd`: the sink's counts for this gateway.
 */
function spanAccount(stats, receivedAtLoadEnd, receivedFinal) {
  if (!stats.spansPerRequest) return null;
  // B: two per request received; P: three per request sampled; Z and the CLI count their own.
  const traced = stats.sampled !== undefined ? stats.sampled : stats.received;
  const expected = stats.expectedSpans !== undefined ? stats.expectedSpans : stats.spansPerRequest * traced;
  const q = stats.healthFinal;
  return {
    received: stats.received,
    served: stats.served,
    sampled: traced,
    expected,
    receivedAtLoadEnd,
    receivedFinal,
    lost: expected - receivedFinal,
    lostPct: expected > 0 ? +((100 * (expected - receivedFinal)) / expected).toFixed(3) : 0,
    // The gateway's own account of what it dropped: BSP drop count, or our queue's drop counters.
    droppedByGateway:
      stats.droppedTotal !== undefined
        ? stats.droppedTotal
        : q
          ? Object.values(q.dropped).reduce((a, b) => a + b, 0)
          : null,
    queueHealth: q || null,
    ...(stats.expectedFromRequests !== undefined ? { expectedFromRequests: stats.expectedFromRequests } : {}),
  };
}

/** The benchmarks' ports (env knobs): the gateway's (slices mode: +1 per further gateway), the CLI status listener's, upstream, sink. */
function benchPorts() {
  return {
    gateway: h.envNum('GW_PORT', 8080),
    status: h.envNum('STATUS_PORT', 8180),
    upstream: h.envNum('UPSTREAM_PORT', 9101),
    sink: h.envNum('SINK_PORT', 9411),
  };
}

/** A Gateway's port options from `benchPorts()`. */
function portOptions(ports) {
  return { port: ports.gateway, statusPort: ports.status, upstreamPort: ports.upstream, sinkPort: ports.sink };
}

module.exports = {
  VARIANTS,
  benchPorts,
  portOptions,
  variant,
  expressOurs,
  cliGateway,
  Gateway,
  spanAccount,
  deck,
  P_QUEUE,
};
