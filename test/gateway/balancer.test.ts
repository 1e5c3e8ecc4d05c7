import { WeightedRoundRobin, createBalancers, upstreamHostHeader } from '../../src/gateway/balancer';
import { resolveDeclarativeConfig } from '../../src/gateway/declarative';

function picks(wrr: WeightedRoundRobin, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(wrr.next()?.name ?? 'none');
  return out;
}

describe('WeightedRoundRobin (smooth weighted round-robin)', () => {
  it('interleaves by weight: 5,1,1 gives a a b a c a a, then repeats', () => {
    const wrr = new WeightedRoundRobin([
      { host: 'a', port: 1, weight: 5 },
      { host: 'b', port: 1, weight: 1 },
      { host: 'c', port: 1, weight: 1 },
    ]);
    expect(picks(wrr, 14)).toEqual([
      'a:1',
      'a:1',
      'b:1',
      'a:1',
      'c:1',
      'a:1',
      'a:1',
      'a:1',
      'a:1',
      'b:1',
      'a:1',
      'c:1',
      'a:1',
      'a:1',
    ]);
  });

  it('equal weights alternate in target order; each turn of sum(weights) picks honors the weights', () => {
    const equal = new WeightedRoundRobin([
      { host: 'x', port: 80, weight: 100 },
      { host: 'y', port: 80, weight: 100 },
    ]);
    expect(picks(equal, 4)).toEqual(['x:80', 'y:80', 'x:80', 'y:80']);

    const wrr = new WeightedRoundRobin([
      { host: 'a', port: 1, weight: 3 },
      { host: 'b', port: 1, weight: 2 },
      { host: '::1', port: 9, weight: 1 },
    ]);
    const turn = picks(wrr, 6);
    expect(turn).toEqual(['a:1', 'b:1', 'a:1', '[::1]:9', 'b:1', 'a:1']);
    expect(picks(wrr, 6)).toEqual(turn);
  });

  it('never picks weight 0; none when nothing is pickable', () => {
    const wrr = new WeightedRoundRobin([
      { host: 'off', port: 1, weight: 0 },
      { host: 'on', port: 1, weight: 10 },
    ]);
    expect(picks(wrr, 3)).toEqual(['on:1', 'on:1', 'on:1']);
    expect(new WeightedRoundRobin([{ host: 'off', port: 1, weight: 0 }]).next()).toBeNull();
    expect(new WeightedRoundRobin([]).next()).toBeNull();
  });
});

describe('service balancers and tries', () => {
  const config = resolveDeclarativeConfig({
    _format_version: '3.0',
    upstreams: [
      {
        name: 'pool',
        targets: [
          { target: '127.0.0.1:9001', weight: 2 },
          { target: '127.0.0.1:9002', weight: 1 },
        ],
      },
    ],
    services: [
      { name: 'one', host: 'pool', retries: 2 },
      { name: 'two', host: 'pool', retries: 0 },
      { name: 'direct', url: 'http://backend.local:8080', retries: 1 },
    ],
  });
  const balancers = createBalancers(config);

  it('a request makes at most retries + 1 tries, each taking the next pick', () => {
    const one = balancers.get(config.services[0].id);
    expect(one?.maxTries).toBe(3);
    const tries = one?.tries();
    const seen: string[] = [];
    for (let t = tries?.next(); t !== null && t !== undefined; t = tries?.next()) seen.push(t.name);
    expect(seen).toEqual(['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9001']);
    expect(tries?.count).toBe(3);
  });

  it('services of one upstream share its balancer; retries 0 means a single try', () => {
    const two = balancers.get(config.services[1].id);
    expect(two?.balancer).toBe(balancers.get(config.services[0].id)?.balancer);
    const tries = two?.tries();
    // The shared wheel moved on: the previous request took picks 1-3.
    expect(tries?.next()?.name).toBe('127.0.0.1:9001');
    expect(tries?.next()).toBeNull();
    expect(tries?.count).toBe(1);
  });

  it('a service without an upstream has its host:port as the only target', () => {
    const direct = balancers.get(config.services[2].id);
    const tries = direct?.tries();
    expect([tries?.next()?.name, tries?.next()?.name, tries?.next()]).toEqual([
      'backend.local:8080',
      'backend.local:8080',
      null,
    ]);
    expect(direct?.balancer.targets).toEqual([
      { host: 'backend.local', port: 8080, weight: 1, name: 'backend.local:8080' },
    ]);
  });

  it('Host header as Kong sets it: the port unless it is the scheme default', () => {
    expect(upstreamHostHeader({ host: 'a.local', port: 80, weight: 1, name: '' }, 'http')).toBe('a.local');
    expect(upstreamHostHeader({ host: 'a.local', port: 443, weight: 1, name: '' }, 'https')).toBe('a.local');
    expect(upstreamHostHeader({ host: 'a.local', port: 443, weight: 1, name: '' }, 'http')).toBe('a.local:443');
    expect(upstreamHostHeader({ host: '::1', port: 8080, weight: 1, name: '' }, 'http')).toBe('[::1]:8080');
  });
});
