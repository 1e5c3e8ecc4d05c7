/**
 * Kong's queue (`kong/tools/queue.lua`, reference §6) for one plugin instance: batching with
 * coalescing, drop-oldest at `max_entries`, a byte cap, retries with exponential backoff
 * bounded by a monotonic clock, strictly sequential delivery, and a drain on flush/shutdown.
 * Generic over entries; the caller supplies each entry's encoded size for `max_bytes`.
 *
 * Beyond Kong, so that a dead collector costs bounded time and memory:
 * - `handlerTimeout` bounds each handler call (a call still pending then is a failure);
 * - with it, `shutdown()` has a deadline: `max_retry_time` plus one handler timeout after the
 *   call, no retry starts after it and whatever is still queued then is dropped (counted as
 *   `shutdown`), so the drain ends within `max_retry_time` + 2 × `handlerTimeout`;
 * - `concurrency_limit: -1` keeps at most `max_entries` deliveries (and `max_bytes` bytes)
 *   in flight and drops the new entry beyond that; Kong has no bound there.
 */
import type { QueueConfig } from '../config/types';
import type { Logger } from '../logger';
import { RingBuffer } from './ring-buffer';

/** Count at which Kong warns `queue at 80% capacity`. */
const CAPACITY_WARNING_THRESHOLD = 0.8;
/** Longest single coalescing wait, ms (Kong re-checks for shutdown once a second). */
const COALESCE_POLL_MS = 1000;
/** A batch closes once less than 0.05 s of coalescing time is left. */
const COALESCE_MIN_MS = 50;

/**
 * Delivers one batch. Resolving is success; rejecting (or throwing) is a failure whose
 * message Kong logs (`Error` message or string); a rejection without a message is Kong's
 * "falsy value but no error information" case.
 */
export type QueueHandler<T> = (batch: T[]) => Promise<void | QueueDeliveryResult>;

/**
 * A success that left some entries out for good (beyond Kong: a span larger than a broker's
 * message limit). Each reason is logged as an error with the queue's prefix; the entries are
 * counted as `dropped.too_large`, the rest as `sent`, and nothing is retried.
 */
export interface QueueDeliveryResult {
  readonly rejected: readonly string[];
}

export interface KongQueueOptions<T> {
  /** Queue name: the plugin instance id for zipkin. */
  name: string;
  /** Log tag, e.g. `zipkin plugin <id>`; log lines read `[<tag>] queue <name>: …`. */
  logTag: string;
  /** Validated `config.queue` (seconds for times). */
  config: QueueConfig;
  handler: QueueHandler<T>;
  logger: Logger;
  /**
   * ms one handler call may take; a call still pending then counts as a failure
   * (`timed out after <n> ms`) and its late outcome is ignored. It also sets the shutdown
   * deadline (see above). 0 or absent: no bound, no deadline (Kong).
   */
  handlerTimeout?: number;
}

/** Entries lost, by reason. */
export interface QueueDropCounts {
  /** Oldest entries dropped because `max_entries` was reached. */
  readonly queue_full: number;
  /** Oldest entries dropped to make room under `max_bytes`. */
  readonly max_bytes: number;
  /** Entries rejected because they alone exceed `max_bytes` (or a broker's message limit). */
  readonly too_large: number;
  /** Entries of batches given up after `max_retry_time`. */
  readonly retry_exhausted: number;
  /**
   * Entries offered after `shutdown()`, and entries still queued or being retried when the
   * shutdown deadline passed.
   */
  readonly shutdown: number;
}

/** A snapshot of the queue's counters (totals since creation, except `size` and `inFlight`). */
export interface QueueHealth {
  /** Entries accepted by `enqueue`. */
  readonly queued: number;
  /** Entries delivered successfully. */
  readonly sent: number;
  readonly dropped: QueueDropCounts;
  /** Handler calls that were retries of a failed batch. */
  readonly retried: number;
  /** Batches handed to the handler (each counted once, whatever its retries or outcome). */
  readonly batches: number;
  /** Entries waiting (not yet taken into a batch) and their total encoded bytes. */
  readonly size: { readonly entries: number; readonly bytes: number };
  /** Entries in the batch (or, for `concurrency_limit: -1`, the deliveries) being sent now. */
  readonly inFlight: number;
}

/** A wait that ends at `until` (performance.now() ms) at the latest. */
interface Sleeper {
  timer: NodeJS.Timeout | undefined;
  until: number;
  wake: () => void;
}

interface FlushWaiter {
  /** Satisfied once every entry with a sequence number below this has settled. */
  target: number;
  resolve: () => void;
}

const now = (): number => performance.now();

function errorText(err: unknown): string | undefined {
  if (err instanceof Error) return err.message === '' ? undefined : err.message;
  if (typeof err === 'string') return err === '' ? undefined : err;
  if (err === undefined || err === null || err === false) return undefined;
  return String(err);
}

export class KongQueue<T> {
  private readonly config: QueueConfig;
  private readonly handler: QueueHandler<T>;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly handlerTimeout: number;
  private readonly entries = new RingBuffer<T>();

  private bytesQueued = 0;
  private warned = false;
  private alreadyDroppedEntries = false;
  private consumerActive = false;
  private closed = false;
  /** `performance.now()` after which a shutting-down queue stops trying; Infinity until then. */
  private deadline = Infinity;
  /** With `shutdown(timeoutMs)` only: when a pending handler call is cut short too. */
  private callDeadline = Infinity;
  /** Pending flushes: while any, coalescing collapses and timers hold the process open. */
  private draining = 0;
  /** Wakes a coalescing wait early (new entry or drain start). */
  private wake: (() => void) | null = null;
  /** Timers that are unref'd in normal operation and ref'd while draining. */
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Sequence number the next accepted entry gets (entries leave in this order). */
  private nextSeq = 0;
  /** Sequence number of the first entry of the batch being delivered, or -1. */
  private inFlightFirstSeq = -1;
  private readonly flushWaiters: FlushWaiter[] = [];
  /** Deliveries under `concurrency_limit: -1`, and their bytes. */
  private readonly unlimited = new Set<Promise<void>>();
  private unlimitedBytes = 0;
  /** Retry waits and handler calls in progress, so the shutdown deadline can cut them short. */
  private readonly sleepers = new Set<Sleeper>();
  private readonly calls = new Set<Sleeper>();

  private readonly counters = {
    queued: 0,
    sent: 0,
    retried: 0,
    batches: 0,
    inFlight: 0,
    dropped: { queue_full: 0, max_bytes: 0, too_large: 0, retry_exhausted: 0, shutdown: 0 } satisfies QueueDropCounts,
  };

  constructor(options: KongQueueOptions<T>) {
    this.config = { ...options.config };
    this.handler = options.handler;
    this.logger = options.logger;
    this.prefix = `[${options.logTag}] queue ${options.name}: `;
    this.handlerTimeout =
      options.handlerTimeout !== undefined && options.handlerTimeout > 0 ? options.handlerTimeout : 0;
  }

  /**
   * Kong's `enqueue` (§6.3). `bytes` is the entry's encoded size, counted against
   * `max_bytes`. Returns the error text when the entry is rejected, `undefined` when queued.
   */
  enqueue(entry: T, bytes: number): string | undefined {
    if (this.closed) {
      this.counters.dropped.shutdown++;
      return 'queue is shut down';
    }
    if (this.config.concurrency_limit === -1) return this.startUnlimited(entry, bytes);

    const maxEntries = this.config.max_entries;
    if (this.entries.length >= maxEntries * CAPACITY_WARNING_THRESHOLD) {
      if (!this.warned) {
        this.logger.warn(`${this.prefix}queue at ${CAPACITY_WARNING_THRESHOLD * 100}% capacity`);
        this.warned = true;
      }
    } else {
      this.warned = false;
    }

    if (this.entries.length >= maxEntries) {
      this.logger.error(`${this.prefix}queue full, dropping old entries until processing is successful again`);
      this.dropOldest();
      this.counters.dropped.queue_full++;
      this.alreadyDroppedEntries = true;
    }

    const maxBytes = this.config.max_bytes;
    if (maxBytes !== null) {
      if (bytes > maxBytes) {
        const message = `string to be queued is longer (${bytes} bytes) than the queue's max_bytes (${maxBytes} bytes)`;
        this.logger.error(this.prefix + message);
        this.counters.dropped.too_large++;
        this.settleFlushes();
        return message;
      }
      if (this.bytesQueued + bytes > maxBytes) {
        let dropped = 0;
        while (this.entries.length > 0 && this.bytesQueued + bytes > maxBytes) {
          this.dropOldest();
          dropped++;
        }
        this.counters.dropped.max_bytes += dropped;
        this.alreadyDroppedEntries = true;
        this.logger.error(`${this.prefix}byte capacity exceeded, ${dropped} queue entries were dropped`);
      }
    }

    this.entries.push(entry, bytes);
    this.bytesQueued += bytes;
    this.nextSeq++;
    this.counters.queued++;
    this.settleFlushes(); // a drop above may have completed a flush
    if (this.wake !== null) this.wakeConsumer();
    if (!this.consumerActive) {
      this.consumerActive = true;
      // Kong starts the consumer from a 0-delay timer: the sender never runs inside the
      // caller's stack (here, the span's end on the request path).
      setImmediate(() => void this.consume());
    }
    return undefined;
  }

  /** Counters snapshot (a new object each call). */
  health(): QueueHealth {
    const c = this.counters;
    return {
      queued: c.queued,
      sent: c.sent,
      dropped: { ...c.dropped },
      retried: c.retried,
      batches: c.batches,
      size: { entries: this.entries.length, bytes: this.bytesQueued },
      inFlight: c.inFlight,
    };
  }

  /**
   * Delivers everything queued before this call: coalescing collapses to 0.05 s, batches
   * go out back to back, and in-flight deliveries finish with their retries (bounded by
   * `max_retry_time`). Entries queued meanwhile are sent too but not waited for.
   */
  flush(): Promise<void> {
    if (this.config.concurrency_limit === -1) {
      if (this.unlimited.size === 0) return Promise.resolve();
      this.startDraining();
      return Promise.all([...this.unlimited]).then(() => this.stopDraining());
    }
    const target = this.nextSeq;
    if (this.isSettled(target)) return Promise.resolve();
    this.startDraining();
    return new Promise<void>((resolve) => this.flushWaiters.push({ target, resolve })).then(() => this.stopDraining());
  }

  /**
   * Refuses new entries, then drains as `flush` does; with a `handlerTimeout`, only until
   * the shutdown deadline (see the module comment). `timeoutMs` brings the deadline closer:
   * the drain then ends within it, a handler call still pending at that moment included, and
   * what was not delivered is counted as `shutdown` and logged.
   */
  shutdown(timeoutMs?: number): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.handlerTimeout > 0) {
        this.deadline = now() + Math.max(0, this.config.max_retry_time) * 1000 + this.handlerTimeout;
      }
      if (timeoutMs !== undefined) {
        this.deadline = Math.min(this.deadline, now() + Math.max(0, timeoutMs));
        this.callDeadline = this.deadline;
      }
      // Retry waits (up to max_retry_delay) must not outlast the deadline, nor pending calls
      // an explicit one.
      const cut = (sleeper: Sleeper, until: number): void => {
        if (sleeper.until <= until) return;
        this.clearTimer(sleeper.timer);
        sleeper.until = until;
        sleeper.timer = this.timer(Math.max(0, until - now()), sleeper.wake);
      };
      for (const sleeper of this.sleepers) cut(sleeper, this.deadline);
      for (const call of this.calls) cut(call, this.callDeadline);
    }
    return this.flush();
  }

  // --- consumer (concurrency_limit 1) ---------------------------------------------------

  private async consume(): Promise<void> {
    while (this.entries.length > 0) {
      if (now() >= this.deadline) {
        this.loseAtDeadline(this.entries.length);
        while (this.entries.length > 0) this.dropOldest();
        this.settleFlushes();
        break;
      }
      const batch = await this.assemble();
      if (batch.length === 0) continue;
      this.inFlightFirstSeq = this.nextSeq - this.entries.length - batch.length;
      this.counters.inFlight = batch.length;
      await this.deliver(batch);
      this.counters.inFlight = 0;
      this.inFlightFirstSeq = -1;
      this.settleFlushes();
    }
    this.consumerActive = false;
    this.logger.debug(`${this.prefix}done processing queue`);
  }

  /** §6.4: wait for more entries while the batch is short and coalescing time is left. */
  private async assemble(): Promise<T[]> {
    const maxBatch = this.config.max_batch_size;
    // Milliseconds, so float seconds never make a timer fire a hair early.
    let delay = this.config.max_coalescing_delay * 1000;
    const started = now();
    // Kong counts entries only inside its coalescing loop: when the loop is never entered
    // (max_batch_size 1, or a delay under 0.05 s) the batch is the first entry alone.
    let size = 1;
    if (maxBatch > 1 && delay >= COALESCE_MIN_MS) {
      while (this.entries.length < maxBatch && delay - (now() - started) >= COALESCE_MIN_MS) {
        let wait = Math.min(delay - (now() - started), COALESCE_POLL_MS);
        if (this.draining > 0) {
          // Kong on worker exit: minimize coalescing so remaining entries go out promptly.
          delay = COALESCE_MIN_MS;
          wait = COALESCE_MIN_MS;
        }
        await this.waitForEntry(Math.ceil(wait));
      }
      // Entries already waiting are collected without delay, up to max_batch_size.
      size = maxBatch;
    }
    size = Math.min(this.entries.length, size);
    const batch = new Array<T>(size);
    for (let i = 0; i < size; i++) {
      this.bytesQueued -= this.entries.frontSize();
      batch[i] = this.entries.shift() as T;
    }
    if (this.alreadyDroppedEntries) {
      this.logger.info(`${this.prefix}queue resumed processing`);
      this.alreadyDroppedEntries = false;
    }
    return batch;
  }

  private waitForEntry(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.timer(ms, () => {
        this.wake = null;
        resolve();
      });
      this.wake = () => {
        this.clearTimer(timer);
        resolve();
      };
    });
  }

  private wakeConsumer(): void {
    const wake = this.wake;
    this.wake = null;
    if (wake !== null) wake();
  }

  /** §6.5: call the handler until success, or give up once `max_retry_time` has passed. */
  private async deliver(batch: T[]): Promise<void> {
    const count = batch.length;
    const cfg = this.config;
    const start = now();
    let retries = 0;
    this.counters.batches++;
    for (;;) {
      if (now() >= this.deadline) {
        this.loseAtDeadline(count);
        return;
      }
      this.logger.debug(`${this.prefix}passing ${count} entries to handler`);
      let message: string | undefined;
      try {
        const result = await this.callHandler(batch);
        const rejected = result?.rejected ?? [];
        for (const reason of rejected) this.logger.error(this.prefix + reason);
        this.logger.debug(`${this.prefix}handler processed ${count - rejected.length} entries successfully`);
        this.counters.sent += count - rejected.length;
        this.counters.dropped.too_large += rejected.length;
        return;
      } catch (err) {
        message = errorText(err);
      }
      this.logger.warn(
        `${this.prefix}handler could not process entries: ${message ?? 'no error details returned by handler'}`,
      );
      if (message === undefined) {
        this.logger.error(`${this.prefix}handler returned falsy value but no error information`);
      }
      if ((now() - start) / 1000 > cfg.max_retry_time) {
        this.logger.error(
          `${this.prefix}could not send entries due to max_retry_time exceeded. ${count} queue entries were lost`,
        );
        this.counters.dropped.retry_exhausted += count;
        return;
      }
      await this.sleep(Math.min(cfg.max_retry_delay, 2 ** retries * cfg.initial_retry_delay) * 1000);
      if (now() >= this.deadline) {
        this.loseAtDeadline(count);
        return;
      }
      retries++;
      this.counters.retried++;
    }
  }

  /**
   * The handler, bounded by `handlerTimeout` and by the shutdown deadline (a call still
   * pending then is a failure, its late outcome ignored); a synchronous throw is a rejection.
   */
  private callHandler(batch: T[]): Promise<void | QueueDeliveryResult> {
    const ms = this.handlerTimeout;
    return new Promise<void | QueueDeliveryResult>((resolve, reject) => {
      let settled = false;
      const start = now();
      const call: Sleeper = {
        until: Math.min(ms === 0 ? Infinity : start + ms, this.callDeadline),
        timer: undefined,
        wake: () => {
          if (settled) return;
          settled = true;
          this.calls.delete(call);
          const cut = call.until === this.callDeadline && (ms === 0 || this.callDeadline < start + ms);
          if (cut) this.deadlineReachedNow();
          reject(new Error(cut ? 'shutdown deadline reached' : `timed out after ${ms} ms`));
        },
      };
      if (call.until !== Infinity) call.timer = this.timer(Math.max(0, call.until - now()), call.wake);
      this.calls.add(call);
      const settle = (outcome: unknown, failed: boolean): void => {
        if (settled) return;
        settled = true;
        this.calls.delete(call);
        this.clearTimer(call.timer);
        if (failed) reject(outcome);
        else resolve(outcome as void | QueueDeliveryResult);
      };
      let pending: Promise<void | QueueDeliveryResult>;
      try {
        pending = this.handler(batch);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (result) => settle(result, false),
        (err: unknown) => settle(err, true),
      );
    });
  }

  /**
   * A wait cut at the deadline has ended, so the deadline is now: its timer can fire a little
   * before `performance.now()` reaches the deadline (libuv counts from the loop's cached
   * time), and the cut batch must not be tried again in that gap.
   */
  private deadlineReachedNow(): void {
    this.deadline = Math.min(this.deadline, now());
  }

  private loseAtDeadline(count: number): void {
    this.logger.error(
      `${this.prefix}could not send entries before the shutdown deadline. ${count} queue entries were lost`,
    );
    this.counters.dropped.shutdown += count;
  }

  // --- concurrency_limit -1: each entry is its own delivery, no batching -----------------

  /**
   * Kong has no limit here, so a dead collector would grow the deliveries (each holding its
   * entry, timers and possibly a socket) without bound. Ours: at most `max_entries`
   * deliveries and `max_bytes` bytes in flight; the new entry is dropped beyond that.
   */
  private startUnlimited(entry: T, bytes: number): string | undefined {
    const cfg = this.config;
    let message: string | undefined;
    if (this.unlimited.size >= cfg.max_entries) {
      message = `queue full: ${this.unlimited.size} deliveries in flight (concurrency_limit -1), dropping the new entry`;
      this.counters.dropped.queue_full++;
    } else if (cfg.max_bytes !== null && bytes > cfg.max_bytes) {
      message = `string to be queued is longer (${bytes} bytes) than the queue's max_bytes (${cfg.max_bytes} bytes)`;
      this.counters.dropped.too_large++;
    } else if (cfg.max_bytes !== null && this.unlimitedBytes + bytes > cfg.max_bytes) {
      message = `byte capacity exceeded: ${this.unlimitedBytes} bytes in flight (concurrency_limit -1), dropping the new entry`;
      this.counters.dropped.max_bytes++;
    }
    if (message !== undefined) {
      this.logger.error(this.prefix + message);
      return message;
    }
    this.counters.queued++;
    this.counters.inFlight++;
    this.unlimitedBytes += bytes;
    const delivery = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.deliver([entry]))
      .finally(() => {
        this.counters.inFlight--;
        this.unlimitedBytes -= bytes;
        this.unlimited.delete(delivery);
      });
    this.unlimited.add(delivery);
    return undefined;
  }

  // --- drops, flush bookkeeping, timers --------------------------------------------------

  private dropOldest(): void {
    this.bytesQueued -= this.entries.frontSize();
    this.entries.shift();
  }

  /** True once every entry numbered below `target` was delivered, given up or dropped. */
  private isSettled(target: number): boolean {
    const frontSeq = this.nextSeq - this.entries.length;
    return frontSeq >= target && (this.inFlightFirstSeq === -1 || this.inFlightFirstSeq >= target);
  }

  private settleFlushes(): void {
    if (this.flushWaiters.length === 0) return;
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.flushWaiters[i];
      if (this.isSettled(waiter.target)) {
        this.flushWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private startDraining(): void {
    this.draining++;
    if (this.draining === 1) {
      // Pending waits must now keep the process alive until the drain is done.
      for (const timer of this.timers) timer.ref();
    }
    this.wakeConsumer();
  }

  private stopDraining(): void {
    this.draining--;
    if (this.draining === 0 && !this.closed) {
      for (const timer of this.timers) timer.unref();
    }
  }

  /** A retry wait; ends at the shutdown deadline at the latest. */
  private sleep(ms: number): Promise<void> {
    const until = Math.min(now() + ms, this.deadline);
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.sleepers.delete(sleeper);
        if (sleeper.until >= this.deadline) this.deadlineReachedNow();
        resolve();
      };
      const sleeper: Sleeper = { until, wake, timer: this.timer(Math.max(0, until - now()), wake) };
      this.sleepers.add(sleeper);
    });
  }

  /**
   * Coalescing and retry waits: unref'd so an idle queue never holds the process open,
   * ref'd while a flush or shutdown is draining so the drain completes.
   */
  private timer(ms: number, fire: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fire();
    }, ms);
    if (this.draining === 0 && !this.closed) timer.unref();
    this.timers.add(timer);
    return timer;
  }

  private clearTimer(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }
}
