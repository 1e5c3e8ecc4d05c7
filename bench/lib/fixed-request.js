'use strict';
// One Kong request as the plugin's log phase sees it, with fixed phase times: a GET proxied
// through one balancer try, 200, the route and service of the bench deck. For the benchmarks
// that drive the log phase without a gateway (bench:log-phase, bench:queue-memory): finish it
// with `plugin.runtime.spans.finish(t, startUs + 600)` (3 spans, 8 annotations, Kong's tags).
const h = require('./harness');

const { BalancerTry } = h.requireBuild('trace/balancer-try');

/** Request `i`'s trace on `plugin`, started at `startUs` (integer epoch µs); `Try`: another build's BalancerTry. */
function fixedRequest(plugin, i, startUs, Try = BalancerTry) {
  const t = plugin.startHttp(
    {
      method: 'GET',
      url: '/orders/' + (i % 1000),
      httpVersion: '1.1',
      headers: { host: '127.0.0.1:8000' },
      socket: { remoteAddress: '127.0.0.1', remotePort: 40000 + (i % 20000) },
    },
    startUs,
  );
  t.access({ route: { id: 'r-1', name: 'all' }, service: { id: 's-1', name: 'up' } });
  t.rewriteEndUs = startUs + 10;
  t.accessStartUs = startUs + 10;
  t.accessEndUs = startUs + 30;
  t.proxyStartUs = startUs + 10;
  t.headerFilterUs = startUs + 500;
  t.bodyStartUs = startUs + 510;
  t.bodyEndUs = startUs + 520;
  t.status = 200;
  t.hostname = '127.0.0.1';
  t.tries = [new Try(startUs + 40, '127.0.0.1', 9101)];
  t.tries[0].endUs = startUs + 400;
  return t;
}

module.exports = { fixedRequest };
