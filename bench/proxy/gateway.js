'use strict';
// Gateway under test: express 5 + http-proxy-middleware 3 with a keep-alive upstream agent,
// the anchor harness's gateway (docs/anchor-bench.md, its gateway.js, SET=keepalive) plus our plugin.
//
//   VARIANT=A  express + createProxyMiddleware({ target, agent: keep-alive })        (no tracing)
//   VARIANT=B  A + the stock OTel stack, exactly the anchor's variant B: NodeTracerProvider +
//              BatchSpanProcessor(stock ZipkinExporter) with default BSP settings +
//              HttpInstrumentation (SERVER + CLIENT span per request), always sampled.
//   VARIANT=P  A + our plugin: createZipkinPlugin(config) with
//              app.use(zipkinMiddleware(plugin)) and HPM's `plugins: [zipkinProxyPlugin(plugin, identity)]`;
//              three spans per sampled request (request, proxy, balancer), Kong's queue, our
//              Zipkin JSON exporter posting to SINK.
//   VARIANT=Z  A + the zipkin-js peer (zipkin, zipkin-instrumentation-express, zipkin-transport-http
//              0.22): Tracer(ExplicitContext, BatchRecorder(HttpLogger JSON v2 → SINK)), always sampled,
//              app.use(expressMiddleware) for the SERVER span and zipkin's own
//              Instrumentation.HttpClient on HPM's proxyReq / proxyRes events for the CLIENT span of the
//              proxied call (the pattern of zipkin-instrumentation-express's wrapExpressHttpProxy, which
//              only wraps express-http-proxy): two spans per request, b3 headers to the upstream.
//
// Env:
//   DIAG=hooks              diagnostic: A + the plugin's response hooks only (bench:proxy variant H)
//   GW_PORT (8080), UPSTREAM (http://127.0.0.1:9101), SINK (http://127.0.0.1:9411/api/v2/spans)
//   UPSTREAM_KEEPALIVE (1)  0 = the literal `{ target }` form (Connection: close on both hops)
//   STATS_FILE              on SIGTERM: drain the span queue, then write JSON stats here
//   SHUTDOWN_TIMEOUT_MS     longest wait for the drain (60000; the anchor used 20000)
//   POLL_MS (0)             >0: sample the span queue's length every POLL_MS and report its peak
//                           (B: the BSP's buffer; P: our queue's entries and bytes); 0: no timer at all
//   P only:
//   SAMPLE_RATIO (1)        config.sample_ratio (Kong's default is 0.001)
//   QUEUE                   config.queue as JSON (default {"max_batch_size":200})
//   PLUGIN_START (server)   server: traceServer(plugin, server), the README's recommended start
//                           (a 'request' listener, no Express layer per request); middleware:
//                           app.use(zipkinMiddleware(plugin)) first
//   ROUTE_IDENTITY (1)      1: pass a Kong route + service to zipkinProxyPlugin (kong.route /
//                           kong.service tags, as every request Kong proxies has); 0: none
//   REPORTING (auto)        auto: createZipkinPlugin(config) alone when it builds its default
//                           reporter (Kong's queue + Zipkin exporter for http_endpoint), else an
//                           explicit KongQueueSpanProcessor(ZipkinExporter); explicit: always pass
//                           that processor as spanProcessors; default: never add one
//
// Counting (all variants alike, one 'close' listener per request as the anchor has one
// 'finish' listener): received = requests that entered the gateway; served = responses
// fully written; sampled = requests our plugin sampled (P). Aborted in-flight requests when
// autocannon stops are received but not served; ours still logs (Kong's 499) and reports them.
// On SIGTERM the gateway stops accepting, waits (≤ 10 s) for requests in flight to end, then drains.
//
// The stock stack is set up BEFORE express / http-proxy-middleware are required, as OTel prescribes.

const path = require('path');
const fs = require('fs');

const VARIANT = (process.env.VARIANT || 'A').toUpperCase();
const PORT = Number(process.env.GW_PORT || 8080);
const UPSTREAM = process.env.UPSTREAM || 'http://127.0.0.1:9101';
const SINK = process.env.SINK || 'http://127.0.0.1:9411/api/v2/spans';
const STATS_FILE = process.env.STATS_FILE || '';
const SHUTDOWN_TIMEOUT_MS = Number(process.env.SHUTDOWN_TIMEOUT_MS || 60000);
const KEEPALIVE = process.env.UPSTREAM_KEEPALIVE !== '0';

if (!['A', 'B', 'P', 'Z'].includes(VARIANT)) {
  console.error(`VARIANT must be A, B, P or Z, not ${VARIANT}`);
  process.exit(2);
}
for (const k of Object.keys(process.env)) {
  if (k.startsWith('OTEL_')) {
    console.error(`refusing to run with ${k} set (would change stock defaults)`);
    process.exit(2);
  }
}

let stop = async () => ({}); // variant-specific drain, returns stats

// ---------------------------------------------------------------- B: the anchor's stock stack
if (VARIANT === 'B') {
  const api = require('@opentelemetry/api');
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { ZipkinExporter } = require('@opentelemetry/exporter-zipkin');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

  const exp = { calls: 0, spansAttempted: 0, spansOk: 0, spansFailed: 0, errors: [] };
  const diagState = { droppedLogged: 0, warnings: 0, errors: 0, samples: [] };
  // Observe-only diag logger at WARN (BSP drops are reported there); nothing on the hot path.
  api.diag.setLogger(
    {
      verbose() {},
      debug() {},
      info() {},
      warn(msg, ...rest) {
        diagState.warnings++;
        const m = /Dropped (\d+) spans/.exec(String(msg));
        if (m) diagState.droppedLogged += Number(m[1]);
        else if (diagState.samples.length < 10)
          diagState.samples.push('WARN ' + String(msg) + ' ' + rest.map(String).join(' '));
      },
      error(msg, ...rest) {
        diagState.errors++;
        if (diagState.samples.length < 10)
          diagState.samples.push('ERROR ' + String(msg) + ' ' + rest.map(String).join(' '));
      },
    },
    api.DiagLogLevel.WARN,
  );

  const exporter = new ZipkinExporter({ url: SINK });
  const origExport = exporter.export.bind(exporter);
  exporter.export = (spans, cb) => {
    exp.calls++;
    exp.spansAttempted += spans.length;
    origExport(spans, (r) => {
      if (r.code === 0) exp.spansOk += spans.length;
      else {
        exp.spansFailed += spans.length;
        if (exp.errors.length < 5) exp.errors.push(String(r.error));
      }
      cb(r);
    });
  };
  const bsp = new BatchSpanProcessor(exporter); // stock defaults: 2048 / 512 / 5000 ms / 30000 ms
  const provider = new NodeTracerProvider({ spanProcessors: [bsp] });
  provider.register();
  registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });

  const peak = startPolling(() => ({ entries: bsp._finishedSpans.length }));
  stop = async () => {
    const before = {
      exportedOkBeforeFlush: exp.spansOk,
      queuedAtSigterm: bsp._finishedSpans.length,
      droppedPendingAtSigterm: bsp._droppedSpansCount,
      droppedLoggedAtSigterm: diagState.droppedLogged,
    };
    const flushError = await withTimeout(provider.shutdown());
    return {
      spansPerRequest: 2,
      ...before,
      exporter: exp,
      diag: diagState,
      droppedTotal: before.droppedLoggedAtSigterm + before.droppedPendingAtSigterm,
      queuePeak: peak,
      flushError,
    };
  };
}

const http = require('http');
const express = require('express');
const { createProxyMiddleware } = require('http-proxy-middleware');

const proxyOpts = { target: UPSTREAM };
if (KEEPALIVE) proxyOpts.agent = new http.Agent({ keepAlive: true });

let received = 0;
let closed = 0; // responses whose 'close' fired (finished or aborted)
let served = 0;
let sampled = 0;
let traceOf = null; // P: reads whether a request was sampled
let startOnServer = null; // P with PLUGIN_START=server

const app = express();
function onClose() {
  closed++;
  if (this.writableFinished) served++;
  if (traceOf !== null) {
    const t = traceOf(this.req);
    if (t !== undefined && t.sampled) sampled++;
  }
}
app.use((req, res, next) => {
  received++;
  res.on('close', onClose);
  next();
});

// Diagnostic (DIAG=hooks, bench:proxy variant H): A plus only the plugin's response hooks
// (ServerResponse.prototype wrappers + one 'close' listener per response), no trace at all,
// to separate their cost from the tracing work.
if (process.env.DIAG === 'hooks') {
  const { hookResponse } = require(path.join(__dirname, '..', '..', 'build', 'src', 'integrations'));
  app.use((req, res, next) => {
    hookResponse(res);
    next();
  });
}

// ---------------------------------------------------------------- P: our plugin
if (VARIANT === 'P') {
  const built = (rel) => {
    const file = path.join(__dirname, '..', '..', 'build', 'src', rel);
    if (!fs.existsSync(file + '.js') && !fs.existsSync(path.join(file, 'index.js'))) {
      console.error(`${file}.js missing: run npm run build`);
      process.exit(2);
    }
    return require(file);
  };
  const plugin_ = built('plugin');
  const { zipkinMiddleware, zipkinProxyPlugin, traceServer } = built('integrations');
  const { KongQueueSpanProcessor, ZipkinExporter } = built('export');
  const { validateConfig } = built('config');
  traceOf = plugin_.traceOf;

  const sampleRatio = Number(process.env.SAMPLE_RATIO ?? 1);
  const queue = JSON.parse(process.env.QUEUE || '{"max_batch_size":200}');
  const reporting = process.env.REPORTING || 'auto';
  const identity =
    process.env.ROUTE_IDENTITY === '0'
      ? null
      : {
          route: { id: 'a7f1d0c2-5d3e-4a1b-9c77-0b5e2f1d9a01', name: 'bench-route' },
          service: { id: '0c3d6c1e-7b9a-4f62-8e21-5a4d3c2b1f00', name: 'bench-upstream' },
        };

  // Kong's log lines are counted (a few samples kept); none reach stderr on the hot path.
  const logState = { debug: 0, info: 0, warn: 0, error: 0, samples: [] };
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error']) {
    logger[level] = (message) => {
      logState[level]++;
      if (level !== 'debug' && logState.samples.length < 20) logState.samples.push(`${level} ${message}`);
    };
  }

  const config = { http_endpoint: SINK, sample_ratio: sampleRatio, queue };
  let plugin = plugin_.createZipkinPlugin(config, { logger });
  let processor = findProcessor(plugin);
  let mode = 'default';
  if (reporting === 'explicit' || (reporting === 'auto' && processor === null)) {
    // Until createZipkinPlugin wires Kong's queue + Zipkin exporter from the config itself.
    processor = new KongQueueSpanProcessor({
      exporter: new ZipkinExporter({ httpEndpoint: SINK, localServiceName: 'kong', logger }),
      queue: validateConfig({ queue }).queue,
      name: 'bench',
      logger,
    });
    plugin = plugin_.createZipkinPlugin(config, { logger, spanProcessors: [processor] });
    mode = 'explicit';
  }
  const health = () => {
    const own = typeof plugin.health === 'function' ? plugin.health() : undefined;
    if (own !== undefined) return own;
    return processor !== null && processor !== plugin && typeof processor.health === 'function'
      ? processor.health()
      : null;
  };
  console.log(`plugin reporting=${mode} sample_ratio=${sampleRatio} queue=${JSON.stringify(plugin.config.queue)}`);

  // PLUGIN_START=server: traceServer(plugin, server) (a 'request' listener) instead of an Express layer.
  if ((process.env.PLUGIN_START || 'server') === 'server') startOnServer = (server) => traceServer(plugin, server);
  else app.use(zipkinMiddleware(plugin));
  proxyOpts.plugins = [zipkinProxyPlugin(plugin, identity)];

  const peak = startPolling(() => {
    const q = health();
    return q ? q.size : { entries: 0, bytes: 0 };
  });
  stop = async () => {
    const healthAtSigterm = health();
    const flushError = await withTimeout(plugin.shutdown());
    return {
      spansPerRequest: 3,
      sampleRatio,
      reporting: mode,
      queueConfig: plugin.config.queue,
      routeIdentity: identity !== null,
      sampled,
      healthAtSigterm,
      healthFinal: health(),
      queuePeak: peak,
      log: logState,
      flushError,
    };
  };
}

// ---------------------------------------------------------------- Z: the zipkin-js peer
if (VARIANT === 'Z') {
  const { Tracer, BatchRecorder, ExplicitContext, jsonEncoder, Instrumentation } = require('zipkin');
  const { expressMiddleware } = require('zipkin-instrumentation-express');
  const { HttpLogger } = require('zipkin-transport-http');

  // HttpLogger POSTs its whole buffer every httpInterval (1 s) with the global fetch (Node 20), and
  // offers no flush promise: POSTs are counted here so the SIGTERM drain can wait for them.
  const posts = { started: 0, ok: 0, failed: 0, inFlight: 0, errors: [] };
  const fetchImplementation = (url, opts) => {
    posts.started++;
    posts.inFlight++;
    return fetch(url, opts).then(
      (r) => {
        posts.inFlight--;
        if (r.status === 202 || r.status === 200) posts.ok++;
        else posts.failed++;
        return r;
      },
      (e) => {
        posts.inFlight--;
        posts.failed++;
        if (posts.errors.length < 5) posts.errors.push(String(e));
        throw e;
      },
    );
  };
  const httpLogger = new HttpLogger({ endpoint: SINK, jsonEncoder: jsonEncoder.JSON_V2, fetchImplementation });
  httpLogger.on('error', (e) => {
    if (posts.errors.length < 5) posts.errors.push(String(e));
  });
  const recorder = new BatchRecorder({ logger: httpLogger });
  const tracer = new Tracer({ ctxImpl: new ExplicitContext(), recorder, localServiceName: 'gateway' });
  const client = new Instrumentation.HttpClient({ tracer, remoteServiceName: 'upstream' });
  let clientSpans = 0;

  app.use(expressMiddleware({ tracer, serviceName: 'gateway' }));
  proxyOpts.on = {
    proxyReq(proxyReq, req) {
      // The server span's id (set by expressMiddleware) is the parent of the client span.
      tracer.letId(req._trace_id, () => {
        const { headers } = client.recordRequest({ headers: {} }, UPSTREAM + req.url, req.method);
        for (const k of Object.keys(headers)) proxyReq.setHeader(k, headers[k]);
        req._zipkinClientId = tracer.id;
      });
      clientSpans++;
    },
    proxyRes(proxyRes, req) {
      if (req._zipkinClientId !== undefined) client.recordResponse(req._zipkinClientId, proxyRes.statusCode);
    },
  };

  stop = async () => {
    recorder.flush(); // partial spans (a client span whose response never came) go out too
    httpLogger.processQueue(fetchImplementation);
    const t0 = Date.now();
    while (posts.inFlight > 0 && Date.now() - t0 < SHUTDOWN_TIMEOUT_MS) await new Promise((r) => setTimeout(r, 20));
    return {
      spansPerRequest: 2,
      // One SERVER span per request that reached the middleware, one CLIENT span per proxied call.
      expectedSpans: received + clientSpans,
      clientSpans,
      posts,
      flushError: posts.inFlight > 0 ? `shutdown timeout ${SHUTDOWN_TIMEOUT_MS} ms` : null,
    };
  };
}

/** Peak of `read()` fields sampled every POLL_MS (unref'd timer), or null when POLL_MS is 0. */
function startPolling(read) {
  const ms = Number(process.env.POLL_MS || 0);
  if (!(ms > 0)) return null;
  const peak = {};
  setInterval(() => {
    const v = read();
    for (const k of Object.keys(v)) if (!(peak[k] >= v[k])) peak[k] = v[k];
  }, ms).unref();
  return peak;
}

/** VmHWM (peak RSS) of this process, kB. */
function peakRssKB() {
  try {
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return null;
  }
}

/** The processor that reports for `plugin` (health counters), if createZipkinPlugin made one. */
function findProcessor(plugin) {
  if (typeof plugin.health === 'function' && plugin.health() !== undefined) return plugin;
  const multi = plugin.tracerProvider && plugin.tracerProvider._activeSpanProcessor;
  const list = (multi && multi._spanProcessors) || [];
  return list.find((p) => typeof p.health === 'function') || list[0] || null;
}

function withTimeout(promise) {
  return Promise.race([
    promise.then(() => null),
    new Promise((resolve) =>
      setTimeout(() => resolve(`shutdown timeout ${SHUTDOWN_TIMEOUT_MS} ms`), SHUTDOWN_TIMEOUT_MS).unref(),
    ),
  ]).catch((e) => String(e));
}

app.use(createProxyMiddleware(proxyOpts));

const server = http.createServer(app);
if (startOnServer !== null) startOnServer(server);
server.listen(PORT, '127.0.0.1', () => {
  console.log(
    `gateway ${VARIANT} listening on 127.0.0.1:${PORT} pid=${process.pid} upstreamKeepAlive=${!!proxyOpts.agent}`,
  );
});
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;

let stopping = false;
async function onSignal() {
  if (stopping) return;
  stopping = true;
  // Stop accepting, then let requests still in flight (the gateway may be behind the load) end
  // and log their spans before the drain, so none is offered to a queue already shut down.
  server.close();
  const tWait = Date.now();
  while (closed < received && Date.now() - tWait < 10000) await new Promise((r) => setTimeout(r, 20));
  const mem = process.memoryUsage();
  const base = {
    inFlightAtSigterm: received - closed,
    inFlightWaitMs: Date.now() - tWait,
    variant: VARIANT,
    upstreamKeepAlive: !!proxyOpts.agent,
    received,
    served,
    rssAtSigterm: mem.rss,
    heapUsedAtSigterm: mem.heapUsed,
  };
  const t0 = Date.now();
  const extra = await stop();
  const stats = { ...base, ...extra, drainMs: Date.now() - t0, peakRssKBAtExit: peakRssKB() };
  if (STATS_FILE) fs.writeFileSync(STATS_FILE, JSON.stringify(stats, null, 2));
  console.log('gateway exit ' + JSON.stringify(stats));
  process.exit(0);
}
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
