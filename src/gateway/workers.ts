/**
 * `gateway-zipkin --config FILE --workers N` (N > 1): the primary process of a
 * `node:cluster` gateway. It has loaded and validated the decK file (`./cli`); it forks N
 * workers (`./cluster-worker`), each running the gateway with its own Kong queues and
 * `kong.node.id` on listeners the primary shares among them, and:
 *
 * - prints each `proxy listening on …` / `stream listening on …` line once, when every
 *   worker is listening (then `status listening on …`: the primary serves `--status-listen`
 *   itself, from the workers' answers, `./cluster-status`);
 * - a worker that exits before it is ready (a listen error) stops the others: exit 1 with
 *   its error line;
 * - a worker that dies later is logged and replaced in its slot, unless more than
 *   `RESTART_LIMIT` workers died within `RESTART_WINDOW_MS`: then it stops the others and
 *   exits 1, as a supervisor would rather see than a restart loop;
 * - first SIGTERM / SIGINT: every worker is told to stop gracefully (the workers ignore the
 *   signals themselves); exit 0 once all have exited 0 (one still running `STOP_MARGIN_MS`
 *   after `--drain-timeout` is killed: exit 1). A second signal kills them: exit 1.
 */
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Logger } from '../logger';
import { formatHost } from './addresses';
import { isWorkerMessage, type PrimaryMessage, type WorkerStart } from './cluster-messages';
import { clusterStatus, type ClusterStatus, type WorkerReport } from './cluster-status';
import { ListenError, listenServer, type GatewayListener, type ListenAddress } from './gateway';
import type { DeclarativeConfig } from './model';
import { RestartGuard } from './restart-guard';
import type { Signals } from './signals';
import { packageVersion, processStatus, StatusServer, type GatewayStatus } from './status';

/** More worker deaths than this within `RESTART_WINDOW_MS`: stop restarting, stop the gateway. */
export const RESTART_LIMIT = 5;
export const RESTART_WINDOW_MS = 60_000;
/** A worker still running this long after `--drain-timeout` is stuck (each bounds its own drain): killed. */
export const STOP_MARGIN_MS = 5000;
/** How long `/status` waits for a worker's answer. */
export const STATUS_TIMEOUT_MS = 1000;

export interface WorkersOptions {
  readonly count: number;
  readonly config: DeclarativeConfig;
  readonly listen: ListenAddress;
  readonly streamListen: readonly ListenAddress[];
  readonly statusListen: ListenAddress | null;
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  readonly stdout: Writable;
  /** Already listening (created before the config was loaded, as without workers). */
  readonly signals: Signals;
}

interface Slot {
  readonly id: number;
  worker: Worker | null;
  ready: boolean;
  nodeId: string | null;
  restarts: number;
}

/** `exited with code 1` / `exited with signal SIGKILL`. */
function exitText(code: number | null, signal: string | null): string {
  return signal !== null ? `exited with signal ${signal}` : `exited with code ${code ?? 0}`;
}

class WorkerPool {
  readonly slots: Slot[];
  private phase: 'starting' | 'running' | 'stopping' = 'starting';
  private readonly guard = new RestartGuard(RESTART_LIMIT, RESTART_WINDOW_MS);
  private failed = false;
  /** Resolves with the listeners once every worker is ready. */
  readonly ready: Promise<readonly GatewayListener[]>;
  private setReady: (listeners: readonly GatewayListener[]) => void = () => undefined;
  /** Resolves with the error line when the gateway must stop (exit 1). */
  readonly failure: Promise<string>;
  private setFailure: (error: string) => void = () => undefined;
  private seq = 0;
  private readonly pending = new Map<number, (status: GatewayStatus | null) => void>();
  private live = 0;
  private allGone: (() => void) | null = null;
  /** Some worker exited non-zero while stopping. */
  unclean = false;

  constructor(
    private readonly options: WorkersOptions,
    private readonly start: Omit<WorkerStart, 'slot'>,
  ) {
    this.slots = Array.from({ length: options.count }, (_, i) => ({
      id: i + 1,
      worker: null,
      ready: false,
      nodeId: null,
      restarts: 0,
    }));
    this.ready = new Promise((resolve) => (this.setReady = resolve));
    this.failure = new Promise((resolve) => (this.setFailure = resolve));
  }

  forkAll(): void {
    for (const slot of this.slots) this.fork(slot);
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork();
    slot.worker = worker;
    slot.ready = false;
    slot.nodeId = null;
    this.live++;
    const pid = worker.process.pid;
    const start: WorkerStart = { ...this.start, slot: slot.id };
    worker.send(start);
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      switch (message.type) {
        case 'ready':
          slot.ready = true;
          slot.nodeId = message.nodeId;
          this.options.logger.info(`worker ${slot.id} (pid ${pid}) ready`);
          if (this.phase === 'starting') {
            if (this.slots.every((s) => s.ready)) {
              this.phase = 'running';
              // Shared listeners: every worker reports the same addresses.
              this.setReady(message.listeners);
            }
          } else if (this.phase === 'stopping') {
            // A replacement that came up while the others stop: it stops too.
            this.send(worker, { type: 'shutdown' });
          }
          break;
        case 'failed':
          // While stopping (the others failed the same way, or a signal), one line said it already.
          if (this.phase === 'starting') this.fail(message.message);
          else if (this.phase === 'running') this.options.logger.error(`[worker ${slot.id}] ${message.message}`);
          break;
        case 'status':
          this.pending.get(message.seq)?.(message.status);
          break;
      }
    });
    // Both events: 'disconnect' comes once the channel is read to its end, so a 'failed' sent just before exiting has arrived.
    let code: number | null = null;
    let signal: string | null = null;
    const exited = new Promise<void>((r) =>
      worker.once('exit', (c: number | null, s: string | null) => {
        code = c;
        signal = s;
        r();
      }),
    );
    const disconnected = new Promise<void>((r) => worker.once('disconnect', () => r()));
    void Promise.all([exited, disconnected]).then(() => this.gone(slot, worker, pid, code, signal));
  }

  private gone(slot: Slot, worker: Worker, pid: number | undefined, code: number | null, signal: string | null): void {
    const wasReady = slot.ready;
    if (slot.worker === worker) {
      slot.worker = null;
      slot.ready = false;
      slot.nodeId = null;
    }
    this.live--;
    const who = `worker ${slot.id} (pid ${pid})`;
    if (this.phase === 'stopping') {
      if (code !== 0 || signal !== null) {
        this.unclean = true;
        if (!this.failed) this.options.logger.warn(`${who} ${exitText(code, signal)} while stopping`);
      }
    } else if (this.phase === 'starting' && !wasReady) {
      this.fail(`${who} ${exitText(code, signal)} before it was ready`);
    } else {
      if (!this.guard.allow(performance.now())) {
        this.fail(
          `${who} ${exitText(code, signal)}: ${this.guard.recent} worker exits within ${RESTART_WINDOW_MS / 1000} s, not starting a new one`,
        );
      } else {
        this.options.logger.warn(`${who} ${exitText(code, signal)}: starting a new one`);
        slot.restarts++;
        this.fork(slot);
      }
    }
    if (this.live === 0) this.allGone?.();
  }

  /** The gateway cannot go on: log `error`, stop every worker (see `stop`), exit 1. */
  private fail(error: string): void {
    if (this.failed) return;
    this.failed = true;
    this.phase = 'stopping';
    this.options.logger.error(error);
    this.setFailure(error);
  }

  private send(worker: Worker, message: PrimaryMessage): void {
    if (worker.isConnected()) worker.send(message);
  }

  /** Graceful: every worker stops accepting, finishes, drains its queues and exits; resolves when all have. */
  stop(): Promise<void> {
    this.phase = 'stopping';
    const done = new Promise<void>((resolve) => (this.allGone = resolve));
    for (const slot of this.slots) if (slot.worker !== null) this.send(slot.worker, { type: 'shutdown' });
    if (this.live === 0) return Promise.resolve();
    return done;
  }

  /** A second signal: no waiting for anything. */
  kill(): void {
    this.phase = 'stopping';
    for (const slot of this.slots) slot.worker?.process.kill('SIGKILL');
  }

  private ask(worker: Worker): Promise<GatewayStatus | null> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer(null), STATUS_TIMEOUT_MS);
      const answer = (status: GatewayStatus | null): void => {
        clearTimeout(timer);
        this.pending.delete(seq);
        resolve(status);
      };
      this.pending.set(seq, answer);
      this.send(worker, { type: 'status', seq });
    });
  }

  async status(version: string | null): Promise<ClusterStatus> {
    const reports: WorkerReport[] = await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        return {
          id: slot.id,
          pid: worker?.process.pid ?? null,
          nodeId: slot.nodeId,
          ready: slot.ready,
          restarts: slot.restarts,
          status: worker !== null && slot.ready ? await this.ask(worker) : null,
        };
      }),
    );
    return clusterStatus(this.options.config, processStatus(version), reports);
  }
}

/** Runs the primary until the workers are stopped; resolves with the exit code. */
export async function runWorkers(options: WorkersOptions): Promise<number> {
  const { logger, signals } = options;
  const pool = new WorkerPool(options, {
    type: 'start',
    config: options.config,
    listen: options.listen,
    streamListen: options.streamListen,
    drainTimeoutMs: options.drainTimeoutMs,
    collectStatus: options.statusListen !== null,
  });

  let status: StatusServer | null = null;
  let statusUrl = '';
  if (options.statusListen !== null) {
    const version = packageVersion();
    status = new StatusServer(() => pool.status(version));
    try {
      const port = await listenServer(status.server, options.statusListen, true);
      statusUrl = `http://${formatHost(options.statusListen.host)}:${port}`;
    } catch (err) {
      logger.error(new ListenError(options.statusListen, err as Error).message);
      return 1;
    }
  }
  const closeStatus = (): Promise<void> => status?.stopAccepting() ?? Promise.resolve();

  cluster.setupPrimary({
    exec: join(__dirname, 'cluster-worker.js'),
    args: [],
    // Structured clone: the resolved config (shared entities, generated ids) reaches each worker as loaded here.
    serialization: 'advanced',
  });
  signals.again = () => {
    logger.warn('second signal: exiting now, spans still queued are lost');
    pool.kill();
    process.exit(1);
  };
  pool.forkAll();

  const stopped = Promise.race([
    pool.failure.then((error) => ({ error })),
    signals.next().then((signal) => ({ signal })),
  ]);
  const first = await Promise.race([pool.ready.then((listeners) => ({ listeners })), stopped]);
  if ('listeners' in first) {
    for (const l of first.listeners) options.stdout.write(`${l.kind} listening on ${l.url}\n`);
    if (status !== null) options.stdout.write(`status listening on ${statusUrl}\n`);
  }
  const reason = 'listeners' in first ? await stopped : first;
  if ('signal' in reason) {
    logger.info(`${reason.signal} received: finishing requests in flight and delivering queued spans`);
  }
  const stuck = setTimeout(() => pool.kill(), options.drainTimeoutMs + STOP_MARGIN_MS);
  await Promise.all([closeStatus(), pool.stop()]);
  clearTimeout(stuck);
  if ('error' in reason) return 1;
  logger.info('gateway stopped');
  return pool.unclean ? 1 : 0;
}
