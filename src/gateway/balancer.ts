/**
 * Upstream target selection and retries.
 *
 * Kong's round-robin balancer puts each target on a "wheel" `weight / gcd` times, shuffles
 * the wheel randomly, and every pick (first try or retry) advances one shared pointer
 * (`kong/runloop/balancer/round_robin.lua`). Here the wheel is replaced by nginx's smooth
 * weighted round-robin: over any `sum(weights)` consecutive picks each target is chosen
 * exactly `weight` times, like one turn of Kong's wheel, but in a deterministic, evenly
 * interleaved order (weights 5,1,1 give a a b a c a a) instead of a random one.
 * As in Kong:
 * - one balancer per upstream, shared by every service that names it, and every try of
 *   every request advances it (a retry simply takes the next pick, possibly the same
 *   target again);
 * - a target of weight 0 is never picked; an upstream with no pickable target has no peer
 *   (Kong answers 503 `failure to get a peer from the ring-balancer`);
 * - a service whose host is not an upstream name has one target, `host:port` (a DNS name
 *   is left to the connect call; Kong would resolve it and balance over its A records).
 * A request makes at most `retries + 1` tries.
 */
import { formatHost, formatHostPort } from './addresses';
import type { DeclarativeConfig, GatewayService } from './model';

export interface BalancerTarget {
  /** Without brackets for IPv6, ready for `net.connect`. */
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** `host:port` (IPv6 in brackets), for logs and span tags. */
  readonly name: string;
}

/** Smooth weighted round-robin over fixed targets; picks allocate nothing. */
export class WeightedRoundRobin {
  readonly targets: readonly BalancerTarget[];
  private readonly current: Float64Array;
  private readonly total: number;

  constructor(targets: readonly { readonly host: string; readonly port: number; readonly weight: number }[]) {
    this.targets = Object.freeze(
      targets.map((t) =>
        Object.freeze({ host: t.host, port: t.port, weight: t.weight, name: formatHostPort(t.host, t.port) }),
      ),
    );
    this.current = new Float64Array(targets.length);
    this.total = targets.reduce((sum, t) => sum + (t.weight > 0 ? t.weight : 0), 0);
  }

  /** The next target, or null when no target has a weight above 0. */
  next(): BalancerTarget | null {
    if (this.total === 0) return null;
    const targets = this.targets;
    const current = this.current;
    let best = -1;
    for (let i = 0; i < targets.length; i++) {
      const w = targets[i].weight;
      if (w <= 0) continue;
      current[i] += w;
      if (best === -1 || current[i] > current[best]) best = i;
    }
    current[best] -= this.total;
    return targets[best];
  }
}

/** The tries of one request: at most `max`, each taking the balancer's next pick. */
export class UpstreamTries {
  /** Tries made so far (1 after the first `next()`). */
  count = 0;

  constructor(
    private readonly balancer: WeightedRoundRobin,
    /** `retries + 1`. */
    readonly max: number,
  ) {}

  /** The target of the next try, or null when the tries are used up or no target is pickable. */
  next(): BalancerTarget | null {
    if (this.count >= this.max) return null;
    const target = this.balancer.next();
    if (target !== null) this.count++;
    return target;
  }
}

/** What a service proxies to. */
export class ServiceBalancer {
  constructor(
    readonly service: GatewayService,
    readonly balancer: WeightedRoundRobin,
  ) {}

  /** `retries + 1`. */
  get maxTries(): number {
    return this.service.retries + 1;
  }

  /** A fresh try sequence for one request. */
  tries(): UpstreamTries {
    return new UpstreamTries(this.balancer, this.service.retries + 1);
  }
}

/** One balancer per upstream (shared by its services) and one per other service. */
export function createBalancers(config: DeclarativeConfig): Map<string, ServiceBalancer> {
  const perUpstream = new Map<string, WeightedRoundRobin>();
  const out = new Map<string, ServiceBalancer>();
  for (const service of config.services) {
    let wrr: WeightedRoundRobin;
    if (service.upstream !== null) {
      const existing = perUpstream.get(service.upstream.id);
      wrr = existing ?? new WeightedRoundRobin(service.upstream.targets);
      if (existing === undefined) perUpstream.set(service.upstream.id, wrr);
    } else {
      wrr = new WeightedRoundRobin([{ host: service.host, port: service.port, weight: 1 }]);
    }
    out.set(service.id, new ServiceBalancer(service, wrr));
  }
  return out;
}

/**
 * Kong's upstream Host header when `preserve_host` is off: the target's host, with
 * `:port` unless the port is the scheme's default (80 for http, 443 for https).
 */
export function upstreamHostHeader(target: BalancerTarget, scheme: string): string {
  const host = formatHost(target.host);
  if ((target.port === 80 && scheme === 'http') || (target.port === 443 && scheme === 'https')) return host;
  return `${host}:${target.port}`;
}
