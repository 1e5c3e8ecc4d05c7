/**
 * A request trace with every phase time fixed, for tests that finish the same trace through
 * two span paths and compare what comes out (finished-span.test.ts, span-record.test.ts).
 */
import type { ZipkinPlugin } from '../../src/plugin';
import { BalancerTry } from '../../src/trace/balancer-try';
import type { RequestTrace } from '../../src/trace/request-trace';

export const T0 = 1_800_000_000_000_000;

/** A request trace with every phase time fixed (the phase methods read the clock; the times are then overwritten). */
export function fixedTrace(plugin: ZipkinPlugin, headers: Record<string, string>, tries: number): RequestTrace {
  const t = plugin.startHttp(
    {
      method: 'POST',
      url: '/v1/items?x=1',
      httpVersion: '1.1',
      headers: { host: 'api.example:8000', ...headers },
      socket: { remoteAddress: '10.1.2.3', remotePort: 40000 },
    },
    T0,
  );
  t.access({ route: { id: 'r-1', name: 'items' }, service: { id: 's-1', name: 'backend' } });
  t.rewriteEndUs = T0 + 100;
  t.accessStartUs = T0 + 200;
  t.accessEndUs = T0 + 1_300;
  t.proxyStartUs = T0 + 200;
  t.headerFilterUs = T0 + 5_000;
  t.bodyStartUs = T0 + 5_100;
  t.bodyEndUs = T0 + 6_000;
  t.status = 201;
  if (tries > 0) {
    t.hostname = 'backend.internal';
    t.tries = [];
    for (let i = 0; i < tries; i++) {
      const attempt = new BalancerTry(T0 + 1_400 + i * 1_000, `10.9.0.${i + 1}`, 8080 + i);
      attempt.endUs = T0 + 1_900 + i * 1_000;
      if (i < tries - 1) {
        attempt.state = 'failed';
        attempt.code = 502;
      }
      t.tries.push(attempt);
    }
  }
  return t;
}
