/**
 * `GET /status` of a `--workers` gateway, served by the primary (`./workers`) from what each
 * worker answers (`./status` documents): the single-process document, so a monitor reading
 * it keeps working, with `process` the primary, `server` / `stream` and each plugin's
 * `queue` summed over the workers answering, plus `workers`, one entry per worker slot.
 * A replaced worker starts again from zero, so the sums are of the workers running now; a
 * plugin's `queue` is null while no worker answers (all starting).
 */
import type { QueueDropCounts, QueueHealth } from '../export/queue';
import type { DeclarativeConfig } from './model';
import { statusPlugins, type GatewayStatus } from './status';

export interface WorkerStatusEntry {
  /** The worker's slot, 1..N (a replacement keeps it). */
  readonly id: number;
  readonly pid: number | null;
  /** The `kong.node.id` of this worker's spans. */
  readonly node_id: string | null;
  /** Listening (a replacement is not until its listeners are up). */
  readonly ready: boolean;
  /** Times this slot's worker was replaced. */
  readonly restarts: number;
  /** The rest is null for a worker that is starting or did not answer in time. */
  readonly uptime_seconds: number | null;
  readonly server: GatewayStatus['server'] | null;
  readonly stream: GatewayStatus['stream'] | null;
  readonly plugins: readonly { readonly id: string; readonly queue: QueueHealth | null }[] | null;
}

export interface ClusterStatus extends GatewayStatus {
  readonly workers: readonly WorkerStatusEntry[];
}

/** A worker slot as the primary knows it, with its answer (null: none). */
export interface WorkerReport {
  readonly id: number;
  readonly pid: number | null;
  readonly nodeId: string | null;
  readonly ready: boolean;
  readonly restarts: number;
  readonly status: GatewayStatus | null;
}

function addDrops(a: QueueDropCounts, b: QueueDropCounts): QueueDropCounts {
  return {
    queue_full: a.queue_full + b.queue_full,
    max_bytes: a.max_bytes + b.max_bytes,
    too_large: a.too_large + b.too_large,
    retry_exhausted: a.retry_exhausted + b.retry_exhausted,
    shutdown: a.shutdown + b.shutdown,
  };
}

export function addQueues(a: QueueHealth, b: QueueHealth): QueueHealth {
  return {
    queued: a.queued + b.queued,
    sent: a.sent + b.sent,
    dropped: addDrops(a.dropped, b.dropped),
    retried: a.retried + b.retried,
    batches: a.batches + b.batches,
    size: { entries: a.size.entries + b.size.entries, bytes: a.size.bytes + b.size.bytes },
    inFlight: a.inFlight + b.inFlight,
  };
}

export function clusterStatus(
  config: DeclarativeConfig,
  primary: GatewayStatus['process'],
  workers: readonly WorkerReport[],
): ClusterStatus {
  const answered = workers.flatMap((w) => (w.status === null ? [] : [w.status]));
  const server = { connections_accepted: 0, connections_active: 0, total_requests: 0 };
  const stream = { connections_accepted: 0, connections_active: 0 };
  const queues = new Map<string, QueueHealth>();
  for (const s of answered) {
    server.connections_accepted += s.server.connections_accepted;
    server.connections_active += s.server.connections_active;
    server.total_requests += s.server.total_requests;
    stream.connections_accepted += s.stream.connections_accepted;
    stream.connections_active += s.stream.connections_active;
    for (const p of s.plugins) {
      if (p.queue === null) continue;
      const sum = queues.get(p.id);
      queues.set(p.id, sum === undefined ? p.queue : addQueues(sum, p.queue));
    }
  }
  const enabled = new Set(config.plugins.filter((p) => p.enabled).map((p) => p.id));
  return {
    process: primary,
    server,
    stream,
    // null: no worker answered (all starting), so no figures.
    plugins: statusPlugins(config, (id) => (enabled.has(id) ? (queues.get(id) ?? null) : undefined)),
    workers: workers.map((w) => ({
      id: w.id,
      pid: w.pid,
      node_id: w.nodeId,
      ready: w.ready,
      restarts: w.restarts,
      uptime_seconds: w.status?.process.uptime_seconds ?? null,
      server: w.status?.server ?? null,
      stream: w.status?.stream ?? null,
      plugins: w.status?.plugins.map((p) => ({ id: p.id, queue: p.queue })) ?? null,
    })),
  };
}
