/**
 * The `--workers` restart-storm guard (`./workers`): a worker that dies is replaced, unless
 * more than `limit` workers died within the last `windowMs`, which means a fault that a new
 * process will not fix (a crash at every start, memory exhausted): then the gateway stops
 * and exits 1, so its supervisor (systemd, Kubernetes) sees the failure instead of a loop.
 */
export class RestartGuard {
  private readonly deaths: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Records a worker death at `now` (ms, monotonic); true if it may be replaced. */
  allow(now: number): boolean {
    this.deaths.push(now);
    while (this.deaths[0] <= now - this.windowMs) this.deaths.shift();
    return this.deaths.length <= this.limit;
  }

  /** Deaths within the window, as of the last `allow`. */
  get recent(): number {
    return this.deaths.length;
  }
}
