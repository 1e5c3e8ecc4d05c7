'use strict';
// npm run bench:encode — spans per second and bytes per span of our Zipkin encoders against the
// stock Zipkin exporter's conversion, on the same recorded Kong spans.
//
//   npm run build && npm run bench:encode                # 15 interleaved repetitions × 100 ms (~10 s)
//   REPS=5 BATCH_MS=50 npm run bench:encode              # smoke
//
// Recording: an in-process express + http-proxy-middleware gateway with our plugin
// (zipkinMiddleware + zipkinRoute + zipkinProxyPlugin, sample_ratio 1, an InMemorySpanExporter)
// serves REQUESTS requests to a local upstream: a realistic mix — 60% without trace headers,
// 20% with a W3C traceparent, 10% with b3 multi headers and a `zipkin-tags` header, 5% to an
// unrouted path (Express's 404), 5% to a route whose upstream refuses connections (502).
// Every request yields Kong's spans (request, proxy, balancer; events as annotations).
//
// Encoders, each producing the HTTP body for the whole recorded set:
//   ours JSON    ZipkinJsonEncoder.encodeBytes(span) per span + zipkinJsonBody (the bytes our exporter posts)
//   ours proto3  encodeProto3Span(toZipkinSpan(span)) per span + proto3ListBody
//   stock JSON   toZipkinSpan from @opentelemetry/exporter-zipkin/build/src/transform (the stock
//                exporter's conversion, service name looked up per span as it does) + JSON.stringify
// Bytes per span = body bytes / spans. The stock conversion reports OTel's view of the same spans
// (all attributes as tags, including the plugin's internal ones and the resource's, no remote
// endpoint), so its bytes are not Kong's wire format; the time is the point of comparison.
//
// Knobs (env): REQUESTS (300) REPS (15) BATCH_MS (100) BENCH_CPU (0; `none` = unpinned)
//   QUIET_WAIT_S (120) QUIET_PCT (20): wait for a quiet machine first
//   ALT=1 adds what-if rows: our toZipkinSpan objects through native JSON.stringify, per span and per batch
//   ENCODERS (comma list of the names above, default all; e.g. for a profile:
//   ENCODERS="ours JSON" BENCH_CPU=none node --cpu-prof --cpu-prof-dir=bench/results/profiles bench/encode.js).
// Output: bench/results/encode-<stamp>.json, markdown on stdout.
const h = require('./lib/harness');

if (require.main === module) h.pinSelf();

const fs = require('fs');
const path = require('path');
const http = require('http');
const { InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const express = require('express');
const { createProxyMiddleware } = require('http-proxy-middleware');
const stockTransform = require('@opentelemetry/exporter-zipkin/build/src/transform');
const { createZipkinPlugin } = h.requireBuild('plugin');
const { zipkinMiddleware, zipkinRoute, zipkinProxyPlugin } = h.requireBuild('integrations');
const { ZipkinJsonEncoder, zipkinJsonBody, toZipkinSpan, encodeProto3Span, proto3ListBody } = h.requireBuild('export');
const { silentLogger } = h.requireBuild('logger');

const REQUESTS = h.envNum('REQUESTS', 300);
const REPS = h.envNum('REPS', 15);
const BATCH_MS = h.envNum('BATCH_MS', 100);

const listen = (server) => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));

/** Kong spans from REQUESTS requests through an express + HPM gateway with our plugin. */
async function record() {
  const body = Buffer.from('{"ok":true,"service":"upstream","pad":"' + 'x'.repeat(58) + '"}\n');
  const upstream = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  const upPort = await listen(upstream);
  const closed = http.createServer();
  const deadPort = await listen(closed);
  await new Promise((r) => closed.close(r)); // a port nobody listens on: connection refused

  const exporter = new InMemorySpanExporter();
  const plugin = createZipkinPlugin(
    { sample_ratio: 1 },
    { spanProcessors: [new SimpleSpanProcessor(exporter)], logger: silentLogger },
  );
  const agent = new http.Agent({ keepAlive: true });
  const app = express();
  app.use(zipkinMiddleware(plugin));
  app.use(
    '/orders',
    zipkinRoute(plugin, {
      route: { id: 'b1c2d3e4-0000-4000-8000-000000000001', name: 'orders-route' },
      service: { id: 'b1c2d3e4-0000-4000-8000-000000000002', name: 'orders' },
    }),
    createProxyMiddleware({ target: `http://127.0.0.1:${upPort}`, agent, plugins: [zipkinProxyPlugin(plugin)] }),
  );
  app.use(
    '/payments',
    zipkinRoute(plugin, {
      route: { id: 'b1c2d3e4-0000-4000-8000-000000000003', name: 'payments-route' },
      service: { id: 'b1c2d3e4-0000-4000-8000-000000000004', name: 'payments' },
    }),
    createProxyMiddleware({ target: `http://127.0.0.1:${deadPort}`, plugins: [zipkinProxyPlugin(plugin)] }),
  );
  const gw = http.createServer(app);
  const gwPort = await listen(gw);

  const client = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
  const one = (i) =>
    new Promise((resolve, reject) => {
      const k = i % 20;
      const headers = { 'user-agent': 'bench-encode/1.0', accept: 'application/json' };
      let p = `/orders/${i}?expand=items`;
      let method = 'GET';
      if (k < 4) headers.traceparent = `00-${hex(32)}-${hex(16)}-01`;
      else if (k < 6) {
        Object.assign(headers, {
          'x-b3-traceid': hex(32),
          'x-b3-spanid': hex(16),
          'x-b3-sampled': '1',
          'zipkin-tags': 'team=checkout;env=prod',
        });
      } else if (k === 6) p = `/nowhere/${i}`;
      else if (k === 7) {
        p = `/payments/${i}`;
        method = 'POST';
      }
      const req = http.request({ host: '127.0.0.1', port: gwPort, path: p, method, headers, agent: client }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  for (let i = 0; i < REQUESTS; i += 8)
    await Promise.all(Array.from({ length: Math.min(8, REQUESTS - i) }, (_, j) => one(i + j)));
  await h.sleep(200);
  const spans = exporter.getFinishedSpans().slice(); // before shutdown: the in-memory exporter empties itself then
  await plugin.shutdown();
  client.destroy();
  agent.destroy();
  gw.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => gw.close(r));
  await new Promise((r) => upstream.close(r));
  if (spans.length < REQUESTS) throw new Error(`recorded only ${spans.length} spans from ${REQUESTS} requests`);
  return spans;
}

function makeEncoders() {
  const opts = { localServiceName: 'kong', defaultServiceName: null };
  const json = new ZipkinJsonEncoder(opts);
  const stockServiceName = 'kong';
  return {
    'ours JSON': (spans) => {
      const out = new Array(spans.length);
      for (let i = 0; i < spans.length; i++) out[i] = json.encodeBytes(spans[i]);
      return zipkinJsonBody(out);
    },
    'ours proto3': (spans) => {
      const out = new Array(spans.length);
      for (let i = 0; i < spans.length; i++) out[i] = encodeProto3Span(toZipkinSpan(spans[i], opts));
      return proto3ListBody(out);
    },
    // What-if rows (ALT=1): our Zipkin objects serialized natively, per span or per batch.
    ...(process.env.ALT === '1'
      ? {
          'alt: toZipkinSpan + JSON.stringify per span': (spans) => {
            const out = new Array(spans.length);
            for (let i = 0; i < spans.length; i++) out[i] = Buffer.from(JSON.stringify(toZipkinSpan(spans[i], opts)));
            return zipkinJsonBody(out);
          },
          'alt: toZipkinSpan, one JSON.stringify per batch': (spans) => {
            const out = new Array(spans.length);
            for (let i = 0; i < spans.length; i++) out[i] = toZipkinSpan(spans[i], opts);
            return JSON.stringify(out);
          },
        }
      : {}),
    'stock JSON': (spans) =>
      JSON.stringify(
        spans.map((span) =>
          stockTransform.toZipkinSpan(
            span,
            String(span.attributes['service.name'] || span.resource.attributes['service.name'] || stockServiceName),
            stockTransform.defaultStatusCodeTagName,
            stockTransform.defaultStatusErrorTagName,
          ),
        ),
      ),
  };
}

function timeIt(fn, spans, n) {
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += fn(spans).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { s, bytes };
}

async function main() {
  const quietBefore = await h.waitQuiet();
  const spans = await record();
  const kinds = {};
  let events = 0;
  for (const s of spans) {
    kinds[s.kind] = (kinds[s.kind] || 0) + 1;
    events += s.events.length;
  }
  const encoders = makeEncoders();
  const only = (process.env.ENCODERS || '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const names = Object.keys(encoders).filter((n) => !only.length || only.includes(n));

  // Sanity: our JSON body equals JSON.stringify of our Zipkin objects, and parses to every span.
  const oursBody = encoders['ours JSON'](spans).toString();
  const parsed = JSON.parse(oursBody);
  const same =
    oursBody ===
    JSON.stringify(spans.map((s) => toZipkinSpan(s, { localServiceName: 'kong', defaultServiceName: null })));
  if (parsed.length !== spans.length || !same)
    throw new Error('our JSON encoder disagrees with toZipkinSpan: fix before benchmarking');

  const state = Object.fromEntries(
    names.map((n) => [n, { n: 1, samples: [], bytes: Buffer.byteLength(encoders[n](spans)) }]), // a string's or a Buffer's bytes
  );
  for (const name of names) {
    const st = state[name];
    let n = 1;
    for (;;) {
      // calibrate to BATCH_MS, after a 3-batch warm-up
      const { s } = timeIt(encoders[name], spans, n);
      if (s >= BATCH_MS / 1000 / 4) {
        st.n = Math.max(1, Math.round((n * BATCH_MS) / 1000 / s));
        break;
      }
      n *= 2;
    }
    for (let i = 0; i < 3; i++) timeIt(encoders[name], spans, st.n);
  }
  for (let rep = 0; rep < REPS; rep++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + rep) % names.length];
      const st = state[name];
      const { s } = timeIt(encoders[name], spans, st.n);
      st.samples.push((st.n * spans.length) / s);
    }
  }

  const stockMed = state['stock JSON'] ? h.median(state['stock JSON'].samples) : null;
  const rows = names.map((name) => {
    const st = state[name];
    const med = h.median(st.samples);
    return [
      name,
      h.f0(med),
      h.f2(1e6 / med),
      (st.bytes / spans.length).toFixed(0),
      stockMed ? h.f2(med / stockMed) : '–',
    ];
  });
  const result = {
    meta: {
      bench: 'encode',
      quietBefore,
      requests: REQUESTS,
      spans: spans.length,
      kinds,
      events,
      reps: REPS,
      batchMs: BATCH_MS,
      node: process.version,
      cpu: process.env.BENCH_CPU || '0',
      startedAt: new Date().toISOString(),
      loadavg: require('os').loadavg(),
      versions: h.versions(['@opentelemetry/exporter-zipkin', '@opentelemetry/sdk-trace-base']),
    },
    encoders: Object.fromEntries(
      names.map((n) => [
        n,
        {
          spansPerSec: state[n].samples,
          medianSpansPerSec: h.median(state[n].samples),
          bodyBytes: state[n].bytes,
          bytesPerSpan: state[n].bytes / spans.length,
          batchesOfAllSpans: state[n].n,
        },
      ]),
    ),
    sampleSpans: { ours: parsed.slice(0, 3), stock: JSON.parse(encoders['stock JSON'](spans.slice(0, 3))) },
  };
  fs.mkdirSync(h.RESULTS, { recursive: true });
  const file = path.join(h.RESULTS, `encode-${h.stamp()}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`wrote ${path.relative(h.REPO, file)}\n`);
  console.log(
    `### bench:encode — ${spans.length} recorded Kong spans from ${REQUESTS} requests (${Object.entries(kinds)
      .map(([k, v]) => `kind ${k}: ${v}`)
      .join(', ')}; ${events} events); ` +
      `median of ${REPS} interleaved repetitions; node ${process.version}; load average ${result.meta.loadavg.map((x) => x.toFixed(2)).join(' ')}\n`,
  );
  console.log(h.table(['encoder', 'spans/s', 'µs/span', 'bytes/span', '× stock'], rows));
  if (!stockMed || !state['ours JSON']) return;
  const ratio = h.median(state['ours JSON'].samples) / stockMed;
  console.log(
    `\nTarget: JSON encoding ≥ 2× the stock conversion — measured ${ratio.toFixed(2)}× (${ratio >= 2 ? 'met' : '**not met**'}).`,
  );
}

module.exports = { record, makeEncoders };

if (require.main === module)
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
