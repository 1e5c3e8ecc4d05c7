/**
 * The messages between the `--workers` primary (`./workers`) and its workers
 * (`./cluster-worker`), sent over the `node:cluster` IPC channel with the `advanced`
 * serialization (structured clone), so the resolved decK config travels whole.
 */
import type { GatewayListener, ListenAddress } from './gateway';
import type { DeclarativeConfig } from './model';
import type { GatewayStatus } from './status';

/** What a worker runs: the config the primary loaded and validated, and the listen addresses. */
export interface WorkerStart {
  readonly type: 'start';
  /** 1..N, kept by a replacement worker. */
  readonly slot: number;
  readonly config: DeclarativeConfig;
  readonly listen: ListenAddress;
  readonly streamListen: readonly ListenAddress[];
  readonly drainTimeoutMs: number;
  /** Count connections and requests: the primary serves `--status-listen`. */
  readonly collectStatus: boolean;
}

export type PrimaryMessage =
  | WorkerStart
  /** Graceful stop (the primary got SIGTERM / SIGINT): stop accepting, finish, drain, exit 0. */
  | { readonly type: 'shutdown' }
  | { readonly type: 'status'; readonly seq: number };

export type WorkerMessage =
  | { readonly type: 'ready'; readonly listeners: readonly GatewayListener[]; readonly nodeId: string }
  /** The gateway could not start (a listen error); the worker exits 1 after sending it. */
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'status'; readonly seq: number; readonly status: GatewayStatus };

function typed(message: unknown): message is { type: string } {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string';
}

/** A message of ours (cluster's internal ones never reach `message` listeners, but a stray `process.send` could). */
export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return typed(message) && ['start', 'shutdown', 'status'].includes(message.type);
}

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return typed(message) && ['ready', 'failed', 'status'].includes(message.type);
}
