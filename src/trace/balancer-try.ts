/**
 * One upstream try of a request, the data of a balancer span (Kong's
 * `balancer_data.tries`).
 */

/**
 * Kong's try states (`get_last_failure`): a connection failure, or a status that sent the
 * request to the next target.
 */
export type BalancerState = 'failed' | 'next';

/** One upstream try (Kong's `balancer_data.tries[i]`). Times are epoch µs; 0 = unknown. */
export class BalancerTry {
  /** When the target was chosen. */
  startUs: number;
  /** When the connection was established or failed (Kong's latency + connect time). */
  endUs = 0;
  ip: string | undefined;
  port: number | undefined;
  state: BalancerState | undefined = undefined;
  code: number | undefined = undefined;

  constructor(startUs: number, ip: string | undefined, port: number | undefined) {
    this.startUs = startUs;
    this.ip = ip;
    this.port = port;
  }
}
