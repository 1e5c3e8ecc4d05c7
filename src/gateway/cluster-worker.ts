/**
 * A `--workers` worker process (forked by `./workers` through `node:cluster`): it runs the
 * gateway of `./gateway` with the config the primary sent, its own zipkin plugin
 * instances (so its own Kong queues) and its own `kong.node.id`, on listeners shared with
 * the other workers. It ignores SIGINT / SIGTERM, which a terminal sends to the whole
 * process group: the primary decides, and sends `shutdown` (graceful: stop accepting,
 * finish requests in flight, drain the queues within `--drain-timeout`, exit 0) or kills
 * it (a second signal). Its log lines go to the inherited stderr as `level [worker N] message`.
 */
import { randomUUID } from 'node:crypto';
import { isPrimaryMessage, type WorkerMessage, type WorkerStart } from './cluster-messages';
import { ListenError, startGateway, type RunningGateway } from './gateway';
import { lineLogger } from './line-logger';

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function run(start: WorkerStart, shutdownAsked: Promise<void>): Promise<number> {
  const logger = lineLogger(process.stderr, false, `[worker ${start.slot}] `);
  // Kong has one node id per node; here each worker process has its own (README).
  const nodeId = randomUUID();
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      config: start.config,
      listen: start.listen,
      streamListen: start.streamListen,
      logger,
      nodeId,
      sharedListeners: true,
      collectStatus: start.collectStatus,
    });
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    await send({ type: 'failed', message: err.message });
    return 1;
  }
  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message) || message.type !== 'status') return;
    const status = gateway.status();
    if (status !== null) void send({ type: 'status', seq: message.seq, status });
  });
  await send({ type: 'ready', listeners: gateway.listeners, nodeId });
  await shutdownAsked;
  await gateway.shutdown(undefined, start.drainTimeoutMs);
  return 0;
}

/** The worker's main: waits for `start`, runs until `shutdown`; resolves with the exit code. */
export function runClusterWorker(): Promise<number> {
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  return new Promise((resolve, reject) => {
    let askShutdown: () => void = () => undefined;
    const shutdownAsked = new Promise<void>((r) => (askShutdown = r));
    process.on('message', (message: unknown) => {
      if (!isPrimaryMessage(message)) return;
      if (message.type === 'shutdown') askShutdown();
      else if (message.type === 'start') run(message, shutdownAsked).then(resolve, reject);
    });
  });
}

if (require.main === module) {
  runClusterWorker().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`error ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
