'use strict';
// npm run bench:queue-memory — what a full Kong queue costs in memory: the plugin's own
// pipeline (Kong's queue + our JSON exporter, the record path) fills its queue against a
// collector that accepts connections and never answers, then the process's memory is read
// after a full GC, against the queue's own count of encoded bytes. It counts no time, so it is
// exact on a busy machine too (the load benchmarks are not).
//
//   npm run build && npm run bench:queue-memory       # 60,000 Kong requests (180,000 spans)
//   REQUESTS=20000 MAX_BYTES=8388608 npm run bench:queue-memory
//
// Each request is finished through the plugin exactly as at the log phase (3 spans: request,
// proxy, one balancer try; 8 annotations; Kong's tags), 500 per macrotask as a gateway would.
// The queue is the recommended slow-collector setting (README): max_batch_size 4000,
// max_entries 50000, max_bytes MAX_BYTES (32 MiB); one batch of 4000 is in flight, unanswered.
// Reported: the queue's entries and bytes, and the growth of RSS, V8 heap (used and total) and
// array buffers (where the encoded spans are) over the process before the first request.
// Knobs (env): REQUESTS (60000) MAX_BYTES (33554432)
const h = require('./lib/harness');

const net = require('net');
const { createZipkinPlugin } = h.requireBuild('plugin');
const { fixedRequest } = require('./lib/fixed-request');

const REQUESTS = h.envNum('REQUESTS', 60000);
const MAX_BYTES = h.envNum('MAX_BYTES', 32 * 1024 * 1024);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const mib = (bytes) => (bytes / 1048576).toFixed(1);

if (typeof global.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench:queue-memory does)');
  process.exit(2);
}

function request(plugin, i, startUs) {
  plugin.runtime.spans.finish(fixedRequest(plugin, i, startUs), startUs + 600);
}

async function main() {
  const silent = net.createServer(() => {}); // accepts, never answers
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const queue = { max_batch_size: 4000, max_coalescing_delay: 0.1, max_entries: 50000, max_bytes: MAX_BYTES };
  const plugin = createZipkinPlugin(
    {
      http_endpoint: `http://127.0.0.1:${silent.address().port}/api/v2/spans`,
      sample_ratio: 1,
      read_timeout: 600000,
      send_timeout: 600000,
      queue,
    },
    { logger: quiet, nodeId: 'b0d0b2b4-0000-4000-8000-000000000000' },
  );
  global.gc();
  const before = process.memoryUsage();
  let startUs = Date.now() * 1000;
  for (let i = 0; i < REQUESTS;) {
    for (const end = Math.min(REQUESTS, i + 500); i < end; i++) request(plugin, i, (startUs += 37));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await h.sleep(500);
  global.gc();
  global.gc();
  const after = process.memoryUsage();
  const health = plugin.reporter.health();
  const result = {
    bench: 'queue-memory',
    node: process.version,
    requests: REQUESTS,
    queue,
    health,
    growthBytes: {
      rss: after.rss - before.rss,
      heapUsed: after.heapUsed - before.heapUsed,
      heapTotal: after.heapTotal - before.heapTotal,
      arrayBuffers: after.arrayBuffers - before.arrayBuffers,
    },
  };
  const run = new h.Run('queue-memory');
  const file = run.writeResult(result);
  const g = result.growthBytes;
  console.log(`wrote ${require('path').relative(h.REPO, file)}\n`);
  console.log(
    h.table(
      [
        'spans made',
        'queued entries (MiB)',
        'in flight',
        'dropped',
        'RSS growth MiB',
        'heap used / total growth MiB',
        'array buffers growth MiB',
        'RSS growth / max_bytes',
      ],
      [
        [
          3 * REQUESTS,
          `${health.size.entries} (${mib(health.size.bytes)})`,
          health.inFlight,
          Object.values(health.dropped).reduce((a, b) => a + b, 0),
          mib(g.rss),
          `${mib(g.heapUsed)} / ${mib(g.heapTotal)}`,
          mib(g.arrayBuffers),
          (g.rss / MAX_BYTES).toFixed(2),
        ],
      ],
    ),
  );
  run.killAll();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
