'use strict';
// Copied unchanged from the anchor harness (docs/anchor-bench.md), so the proxy benchmark measures the same upstream.
// Upstream: plain node http server, 200 + 100-byte body, keep-alive.
// Control endpoints (hit directly, never through the gateway):
//   GET /__stats  -> {"requests":N,"withTraceparent":M,"connections":C}
//   GET /__reset  -> zero the counters
const http = require('http');

const PORT = Number(process.env.UPSTREAM_PORT || 9101);
const BODY = Buffer.from('{"ok":true,"service":"upstream","pad":"' + 'x'.repeat(100 - 42) + '"}\n');
if (BODY.length !== 100) throw new Error('body length ' + BODY.length);

let requests = 0;
let withTraceparent = 0;
let connections = 0;

const server = http.createServer((req, res) => {
  if (req.url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests, withTraceparent, connections }));
    return;
  }
  if (req.url === '/__reset') {
    requests = 0;
    withTraceparent = 0;
    connections = 0;
    res.writeHead(200);
    res.end('reset\n');
    return;
  }
  requests++;
  if (req.headers.traceparent) withTraceparent++;
  // drain any request body, then answer
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
  res.end(BODY);
});
server.on('connection', () => {
  connections++;
});
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;
server.listen(PORT, '127.0.0.1', () => {
  console.log(`upstream listening on 127.0.0.1:${PORT} pid=${process.pid}`);
});

function bye() {
  console.log(`upstream exit: requests=${requests} withTraceparent=${withTraceparent} connections=${connections}`);
  process.exit(0);
}
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
