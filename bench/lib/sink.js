'use strict';
// Span sink: fake Zipkin collector, the anchor harness's sink.js (docs/anchor-bench.md) with
// the delay settable at run time, so one sink serves every collector latency of a run.
//   POST /api/v2/spans -> read body, JSON.parse, count array length, answer 202 (after the delay)
//   POST /api/v2/spans?src=NAME -> the same, its spans also counted under bySource[NAME] (several
//                                 gateways alive at once, one sink: bench:proxy's slices mode)
//   GET  /count        -> {"spans":N,"posts":P,"bytes":B,"byKind":{...},"bySource":{...},"badPosts":X,"delayMs":D}
//   GET  /reset        -> zero the counters
//   GET  /delay?ms=N   -> answer every later POST N ms after its body arrived
// Env: SINK_PORT (9411), SINK_DELAY_MS (0), SINK_MODE (parse):
//   parse  JSON.parse every body and count its spans and kinds (the anchor's sink)
//   scan   count `{"traceId":` occurrences without parsing (no byKind): a much cheaper sink, to check
//          whether the sink's CPU (shared with autocannon and the upstream) limits a variant
//          that reports many spans per request
// Prints totals at exit (SIGTERM/SIGINT).
// Spans are counted when the body arrives, before the delayed answer, as in the anchor.
const http = require('http');

const PORT = Number(process.env.SINK_PORT || 9411);
let delayMs = Number(process.env.SINK_DELAY_MS || 0);
const SCAN = process.env.SINK_MODE === 'scan';
const SPAN_START = Buffer.from('{"traceId":');

function scanCount(buf) {
  let n = 0;
  for (let i = buf.indexOf(SPAN_START); i !== -1; i = buf.indexOf(SPAN_START, i + SPAN_START.length)) n++;
  return n;
}

let spans = 0,
  posts = 0,
  bytes = 0,
  badPosts = 0;
let byKind = {};
let bySource = {};

/** Spans of a POST counted under its `?src=` name, if any. */
function countSource(url, n) {
  const i = url.indexOf('?src=');
  if (i === -1) return;
  const src = decodeURIComponent(url.slice(i + 5));
  bySource[src] = (bySource[src] || 0) + n;
}

/** 202, after the configured delay. */
function accept(res) {
  const reply = () => {
    res.writeHead(202, { 'content-length': 0 });
    res.end();
  };
  if (delayMs > 0) setTimeout(reply, delayMs);
  else reply();
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/api/v2/spans')) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const buf = Buffer.concat(chunks);
      bytes += buf.length;
      posts++;
      try {
        if (SCAN) {
          if (buf[0] !== 0x5b) throw new Error('not an array');
          const n = scanCount(buf);
          spans += n;
          countSource(req.url, n);
          accept(res);
          return;
        }
        const arr = JSON.parse(buf.toString('utf8'));
        if (!Array.isArray(arr)) throw new Error('not an array');
        spans += arr.length;
        countSource(req.url, arr.length);
        for (let i = 0; i < arr.length; i++) {
          const k = arr[i].kind || 'NONE';
          byKind[k] = (byKind[k] || 0) + 1;
        }
        accept(res);
      } catch {
        badPosts++;
        res.writeHead(400, { 'content-length': 0 });
        res.end();
      }
    });
    return;
  }
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ spans, posts, bytes, byKind, bySource, badPosts, delayMs }));
    return;
  }
  if (req.method === 'GET' && req.url === '/reset') {
    spans = 0;
    posts = 0;
    bytes = 0;
    badPosts = 0;
    byKind = {};
    bySource = {};
    res.writeHead(200);
    res.end('reset\n');
    return;
  }
  if (req.method === 'GET' && req.url.startsWith('/delay?ms=')) {
    delayMs = Number(req.url.slice('/delay?ms='.length)) || 0;
    res.writeHead(200);
    res.end(`delay ${delayMs}\n`);
    return;
  }
  res.writeHead(404);
  res.end();
});
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;
server.listen(PORT, '127.0.0.1', () => {
  console.log(
    `sink listening on 127.0.0.1:${PORT} pid=${process.pid} delayMs=${delayMs} mode=${SCAN ? 'scan' : 'parse'}`,
  );
});

function bye() {
  console.log(
    `sink exit: spans=${spans} posts=${posts} bytes=${bytes} byKind=${JSON.stringify(byKind)} badPosts=${badPosts}`,
  );
  process.exit(0);
}
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
