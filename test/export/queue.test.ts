import { KongQueue, type QueueHandler } from '../../src/export/queue';
import type { QueueConfig } from '../../src/config/types';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { queueConfig, recordingLogger, type RecordingLogger } from './helpers';

const P = '[zipkin plugin p1] queue p1: ';

interface Call {
  batch: string[];
  at: number;
}

/** A handler the test drives: records each call, answers per `behave`. */
function controllableHandler(behave: (call: Call, index: number) => Promise<void> = () => Promise.resolve()) {
  const calls: Call[] = [];
  let active = 0;
  let maxActive = 0;
  const handler: QueueHandler<string> = async (batch) => {
    const call = { batch: [...batch], at: performance.now() - t0 };
    calls.push(call);
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      await behave(call, calls.length - 1);
    } finally {
      active--;
    }
  };
  return { calls, handler, maxActive: () => maxActive };
}

let t0 = 0;

function makeQueue(
  config: Partial<QueueConfig>,
  handler: QueueHandler<string>,
  logger: RecordingLogger = recordingLogger(),
) {
  return new KongQueue<string>({
    name: 'p1',
    logTag: 'zipkin plugin p1',
    config: queueConfig(config),
    handler,
    logger,
  });
}

/** A promise the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const nonDebug = (log: RecordingLogger) => log.lines.filter((l) => !l.startsWith('debug '));

beforeEach(() => {
  jest.useFakeTimers();
  t0 = performance.now();
});
afterEach(() => {
  jest.useRealTimers();
});

const tick = (ms: number) => jest.advanceTimersByTimeAsync(ms);

describe('batching and coalescing (§6.4)', () => {
  test('default max_batch_size 1: every entry is its own batch, sent at once', async () => {
    const h = controllableHandler();
    const q = makeQueue({}, h.handler);
    q.enqueue('a', 1);
    q.enqueue('b', 1);
    q.enqueue('c', 1);
    await tick(0);
    expect(h.calls).toEqual([
      { batch: ['a'], at: 0 },
      { batch: ['b'], at: 0 },
      { batch: ['c'], at: 0 },
    ]);
  });

  test('batch boundaries: full batches go at once, the remainder after max_coalescing_delay', async () => {
    const h = controllableHandler();
    const q = makeQueue({ max_batch_size: 3, max_coalescing_delay: 1 }, h.handler);
    for (const e of ['1', '2', '3', '4', '5', '6', '7']) q.enqueue(e, 1);
    await tick(999);
    expect(h.calls).toEqual([
      { batch: ['1', '2', '3'], at: 0 },
      { batch: ['4', '5', '6'], at: 0 },
    ]);
    await tick(1);
    expect(h.calls[2]).toEqual({ batch: ['7'], at: 1000 });
  });

  test('coalescing collects entries arriving within the delay counted from the batch start', async () => {
    const h = controllableHandler();
    const q = makeQueue({ max_batch_size: 10, max_coalescing_delay: 1 }, h.handler);
    q.enqueue('a', 1);
    await tick(300);
    q.enqueue('b', 1);
    await tick(600);
    q.enqueue('c', 1);
    await tick(100);
    expect(h.calls).toEqual([{ batch: ['a', 'b', 'c'], at: 1000 }]);
    await tick(200);
    q.enqueue('d', 1);
    await tick(1000);
    expect(h.calls[1]).toEqual({ batch: ['d'], at: 2200 });
  });

  test('a batch that fills up is sent before the delay ends', async () => {
    const h = controllableHandler();
    const q = makeQueue({ max_batch_size: 2, max_coalescing_delay: 5 }, h.handler);
    q.enqueue('a', 1);
    await tick(400);
    q.enqueue('b', 1);
    await tick(0);
    expect(h.calls).toEqual([{ batch: ['a', 'b'], at: 400 }]);
  });

  test('0.05 s rule: a delay under 0.05 s gives one-entry batches even with entries waiting', async () => {
    const h = controllableHandler();
    const q = makeQueue({ max_batch_size: 10, max_coalescing_delay: 0.04 }, h.handler);
    for (const e of ['a', 'b', 'c']) q.enqueue(e, 1);
    await tick(0);
    expect(h.calls.map((c) => c.batch)).toEqual([['a'], ['b'], ['c']]);
  });

  test('0.05 s rule: an arrival leaving under 0.05 s of coalescing closes the batch right away', async () => {
    const h = controllableHandler();
    const q = makeQueue({ max_batch_size: 10, max_coalescing_delay: 1 }, h.handler);
    q.enqueue('a', 1);
    await tick(970);
    q.enqueue('b', 1);
    await tick(0);
    expect(h.calls).toEqual([{ batch: ['a', 'b'], at: 970 }]);
  });

  test('0.05 s rule with the 1 s poll: a 1.02 s delay closes the batch at 1 s', async () => {
    const h = controllableHandler();
    const q = makeQueue({ max_batch_size: 10, max_coalescing_delay: 1.02 }, h.handler);
    q.enqueue('a', 1);
    await tick(1000);
    expect(h.calls).toEqual([{ batch: ['a'], at: 1000 }]);
  });

  test('delivery is strictly sequential: the next batch waits for the previous one, retries included', async () => {
    const gates = [deferred(), deferred()];
    const h = controllableHandler((_call, i) =>
      i === 0 ? Promise.reject(new Error('down')) : i === 1 ? gates[0].promise : Promise.resolve(),
    );
    const q = makeQueue({ max_batch_size: 2, max_coalescing_delay: 0 }, h.handler);
    for (const e of ['a', 'b', 'c', 'd', 'e']) q.enqueue(e, 1);
    await tick(0);
    expect(h.calls.map((c) => c.batch)).toEqual([['a']]);
    await tick(10); // retry after initial_retry_delay
    expect(h.calls.map((c) => c.batch)).toEqual([['a'], ['a']]);
    await tick(1000);
    expect(h.calls).toHaveLength(2);
    gates[0].resolve();
    await tick(0);
    expect(h.calls.map((c) => c.batch)).toEqual([['a'], ['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(h.maxActive()).toBe(1);
  });
});

describe('capacity (§6.3)', () => {
  test('max_entries: the oldest waiting entry is dropped with an err line on each full enqueue', async () => {
    const log = recordingLogger();
    const gate = deferred();
    const h = controllableHandler((call) => (call.batch[0] === 'e1' ? gate.promise : Promise.resolve()));
    const q = makeQueue({ max_entries: 3 }, h.handler, log);
    q.enqueue('e1', 1);
    await tick(0); // e1 is in flight, out of the queue
    for (const e of ['e2', 'e3', 'e4', 'e5', 'e6']) expect(q.enqueue(e, 1)).toBeUndefined();
    expect(q.health().size).toEqual({ entries: 3, bytes: 3 });
    expect(nonDebug(log)).toEqual([
      `warn ${P}queue at 80% capacity`,
      `error ${P}queue full, dropping old entries until processing is successful again`,
      `error ${P}queue full, dropping old entries until processing is successful again`,
    ]);
    gate.resolve();
    await tick(0);
    expect(h.calls.map((c) => c.batch[0])).toEqual(['e1', 'e4', 'e5', 'e6']);
    expect(nonDebug(log).slice(3)).toEqual([`info ${P}queue resumed processing`]);
    expect(q.health().dropped.queue_full).toBe(2);
  });

  test('the 80% warning is logged once and again only after the count fell below the threshold', async () => {
    const log = recordingLogger();
    const gates = new Map([
      ['x', deferred()],
      ['y', deferred()],
    ]);
    const h = controllableHandler((call) => gates.get(call.batch[0])?.promise ?? Promise.resolve());
    const q = makeQueue({ max_entries: 5 }, h.handler, log);
    const warnings = () => log.lines.filter((l) => l.includes('capacity'));
    q.enqueue('x', 1);
    await tick(0); // x in flight
    for (let i = 0; i < 4; i++) q.enqueue(`a${i}`, 1);
    expect(warnings()).toEqual([]);
    q.enqueue('a4', 1); // sees 4 waiting = 80% of 5
    q.enqueue('a5', 1); // full: no second warning, drops a0
    q.enqueue('a6', 1);
    expect(warnings()).toEqual([`warn ${P}queue at 80% capacity`]);
    gates.get('x')?.resolve();
    await tick(0); // drained
    q.enqueue('y', 1); // below 80%: the flag resets
    await tick(0); // y in flight
    for (let i = 0; i < 4; i++) q.enqueue(`b${i}`, 1);
    expect(warnings()).toHaveLength(1);
    q.enqueue('b4', 1);
    expect(warnings()).toEqual([`warn ${P}queue at 80% capacity`, `warn ${P}queue at 80% capacity`]);
    gates.get('y')?.resolve();
    await tick(0);
    expect(h.calls.map((c) => c.batch[0])).toEqual([
      'x',
      'a2',
      'a3',
      'a4',
      'a5',
      'a6',
      'y',
      'b0',
      'b1',
      'b2',
      'b3',
      'b4',
    ]);
  });

  test('max_bytes: oldest entries are dropped until the new one fits, with the count', async () => {
    const log = recordingLogger();
    const gate = deferred();
    const h = controllableHandler((call) => (call.batch[0] === 'first' ? gate.promise : Promise.resolve()));
    const q = makeQueue({ max_bytes: 100 }, h.handler, log);
    q.enqueue('first', 90); // taken into flight: its bytes no longer count
    await tick(0);
    q.enqueue('a', 40);
    q.enqueue('b', 40);
    expect(q.health().size).toEqual({ entries: 2, bytes: 80 });
    q.enqueue('c', 70); // 80 + 70 > 100: drop a (40 + 70 > 100 still), drop b
    expect(q.health().size).toEqual({ entries: 1, bytes: 70 });
    expect(nonDebug(log)).toEqual([`error ${P}byte capacity exceeded, 2 queue entries were dropped`]);
    q.enqueue('d', 30);
    expect(q.health().size).toEqual({ entries: 2, bytes: 100 });
    gate.resolve();
    await tick(0);
    expect(h.calls.map((c) => c.batch[0])).toEqual(['first', 'c', 'd']);
    expect(q.health().dropped.max_bytes).toBe(2);
    expect(nonDebug(log).slice(1)).toEqual([`info ${P}queue resumed processing`]);
  });

  test("an entry larger than max_bytes is rejected with Kong's text and logged", async () => {
    const log = recordingLogger();
    const h = controllableHandler();
    const q = makeQueue({ max_bytes: 100 }, h.handler, log);
    const text = "string to be queued is longer (101 bytes) than the queue's max_bytes (100 bytes)";
    expect(q.enqueue('big', 101)).toBe(text);
    expect(nonDebug(log)).toEqual([`error ${P}${text}`]);
    expect(q.health().dropped.too_large).toBe(1);
    expect(q.health().queued).toBe(0);
    await tick(0);
    expect(h.calls).toEqual([]);
  });

  test('without max_bytes, sizes are only reported', async () => {
    const gate = deferred();
    const h = controllableHandler(() => gate.promise);
    const q = makeQueue({}, h.handler);
    q.enqueue('a', 5000);
    q.enqueue('b', 7000);
    expect(q.health().size).toEqual({ entries: 2, bytes: 12000 });
    await tick(0);
    expect(q.health().size).toEqual({ entries: 1, bytes: 7000 });
    expect(q.health().inFlight).toBe(1);
    gate.resolve();
    await tick(0);
  });
});

describe('retries (§6.5)', () => {
  test('delays double from initial_retry_delay, capped by max_retry_delay, until max_retry_time', async () => {
    const log = recordingLogger();
    const h = controllableHandler(() => Promise.reject(new Error('boom')));
    const q = makeQueue({ initial_retry_delay: 0.01, max_retry_delay: 0.05, max_retry_time: 1 }, h.handler, log);
    q.enqueue('a', 1);
    await tick(2000);
    const expected = [0, 10, 30, 70];
    for (let t = 120; t <= 1020; t += 50) expected.push(t);
    expect(h.calls.map((c) => c.at)).toEqual(expected);
    const lines = nonDebug(log);
    expect(lines).toHaveLength(expected.length + 1);
    expect(lines.slice(0, -1).every((l) => l === `warn ${P}handler could not process entries: boom`)).toBe(true);
    expect(lines[lines.length - 1]).toBe(
      `error ${P}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    );
    expect(q.health()).toMatchObject({ queued: 1, sent: 0, retried: expected.length - 1, batches: 1, inFlight: 0 });
    expect(q.health().dropped.retry_exhausted).toBe(1);
  });

  test('giving up names the number of entries of the lost batch', async () => {
    const log = recordingLogger();
    const h = controllableHandler(() => Promise.reject(new Error('zipkin request failed: connection refused')));
    const q = makeQueue(
      { max_batch_size: 3, max_coalescing_delay: 0.1, max_retry_time: 0.05, initial_retry_delay: 0.02 },
      h.handler,
      log,
    );
    for (const e of ['a', 'b', 'c']) q.enqueue(e, 1);
    await tick(1000);
    expect(nonDebug(log)).toEqual([
      `warn ${P}handler could not process entries: zipkin request failed: connection refused`,
      `warn ${P}handler could not process entries: zipkin request failed: connection refused`,
      `warn ${P}handler could not process entries: zipkin request failed: connection refused`,
      `error ${P}could not send entries due to max_retry_time exceeded. 3 queue entries were lost`,
    ]);
    expect(h.calls.map((c) => c.at)).toEqual([0, 20, 60]);
  });

  test('a negative max_retry_time means a single attempt', async () => {
    const log = recordingLogger();
    const h = controllableHandler(() => Promise.reject(new Error('nope')));
    const q = makeQueue({ max_retry_time: -1 }, h.handler, log);
    q.enqueue('a', 1);
    await tick(5000);
    expect(h.calls).toHaveLength(1);
    expect(nonDebug(log)).toEqual([
      `warn ${P}handler could not process entries: nope`,
      `error ${P}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    ]);
  });

  test("a failure without a message logs Kong's two lines", async () => {
    const log = recordingLogger();
    const h = controllableHandler(() => Promise.reject(undefined));
    const q = makeQueue({ max_retry_time: -1 }, h.handler, log);
    q.enqueue('a', 1);
    await tick(0);
    expect(nonDebug(log)).toEqual([
      `warn ${P}handler could not process entries: no error details returned by handler`,
      `error ${P}handler returned falsy value but no error information`,
      `error ${P}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    ]);
  });

  test('a thrown handler error counts as a failure and the next batch still goes', async () => {
    const log = recordingLogger();
    const handler: QueueHandler<string> = (batch) => {
      if (batch[0] === 'Two') throw new Error('hard error');
      return Promise.resolve();
    };
    const q = makeQueue({ max_retry_time: 0.001, initial_retry_delay: 0.01 }, handler, log);
    for (const e of ['One', 'Two', 'Three']) q.enqueue(e, 1);
    await tick(100);
    expect(q.health()).toMatchObject({ queued: 3, sent: 2, retried: 1 });
    expect(nonDebug(log)).toEqual([
      `warn ${P}handler could not process entries: hard error`,
      `warn ${P}handler could not process entries: hard error`,
      `error ${P}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    ]);
  });
});

describe('concurrency_limit -1', () => {
  test('each entry is delivered on its own, concurrently, without batching or coalescing', async () => {
    const gate = deferred();
    const h = controllableHandler(() => gate.promise);
    const log = recordingLogger();
    const q = makeQueue({ concurrency_limit: -1, max_batch_size: 10, max_entries: 4, max_bytes: 400 }, h.handler, log);
    for (const e of ['a', 'b', 'c', 'd']) expect(q.enqueue(e, 100)).toBeUndefined();
    await tick(0);
    expect(h.calls.map((c) => c.batch)).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(h.maxActive()).toBe(4);
    expect(q.health()).toMatchObject({ queued: 4, inFlight: 4, size: { entries: 0, bytes: 0 } });
    gate.resolve();
    await tick(0);
    expect(q.health()).toMatchObject({ sent: 4, inFlight: 0, batches: 4 });
    expect(nonDebug(log)).toEqual([]);
  });

  test('difference from Kong: max_entries and max_bytes bound the deliveries in flight; the new entry is dropped beyond them', async () => {
    const gate = deferred();
    const h = controllableHandler(() => gate.promise);
    const log = recordingLogger();
    const q = makeQueue({ concurrency_limit: -1, max_entries: 2, max_bytes: 250 }, h.handler, log);
    expect(q.enqueue('a', 100)).toBeUndefined();
    expect(q.enqueue('b', 100)).toBeUndefined();
    expect(q.enqueue('c', 100)).toBe(
      'queue full: 2 deliveries in flight (concurrency_limit -1), dropping the new entry',
    );
    await tick(0);
    gate.resolve();
    await tick(0);
    expect(q.enqueue('d', 200)).toBeUndefined();
    expect(q.enqueue('e', 100)).toBe(
      'byte capacity exceeded: 200 bytes in flight (concurrency_limit -1), dropping the new entry',
    );
    expect(q.enqueue('f', 300)).toBe(
      "string to be queued is longer (300 bytes) than the queue's max_bytes (250 bytes)",
    );
    await tick(0);
    expect(h.calls.map((c) => c.batch)).toEqual([['a'], ['b'], ['d']]);
    expect(q.health()).toMatchObject({
      queued: 3,
      sent: 3,
      inFlight: 0,
      dropped: { queue_full: 1, max_bytes: 1, too_large: 1 },
    });
    expect(nonDebug(log)).toEqual([
      `error ${P}queue full: 2 deliveries in flight (concurrency_limit -1), dropping the new entry`,
      `error ${P}byte capacity exceeded: 200 bytes in flight (concurrency_limit -1), dropping the new entry`,
      `error ${P}string to be queued is longer (300 bytes) than the queue's max_bytes (250 bytes)`,
    ]);
  });

  test('retries apply per entry; flush waits for them', async () => {
    let failures = 2;
    const h = controllableHandler(() => (failures-- > 0 ? Promise.reject(new Error('e')) : Promise.resolve()));
    const q = makeQueue({ concurrency_limit: -1 }, h.handler);
    q.enqueue('a', 1);
    let flushed = false;
    void q.flush().then(() => (flushed = true));
    await tick(29);
    expect(flushed).toBe(false);
    await tick(1);
    expect(flushed).toBe(true);
    expect(h.calls.map((c) => c.at)).toEqual([0, 10, 30]);
  });
});

describe('flush and shutdown (§6.6)', () => {
  test('shutdown stops coalescing (0.05 s), drains everything and then refuses entries', async () => {
    const h = controllableHandler();
    const log = recordingLogger();
    const q = makeQueue({ max_batch_size: 2, max_coalescing_delay: 1000 }, h.handler, log);
    for (const e of ['a', 'b', 'c']) q.enqueue(e, 1);
    await tick(100);
    expect(h.calls.map((c) => c.batch)).toEqual([['a', 'b']]);
    let done = false;
    void q.shutdown().then(() => (done = true));
    await tick(49);
    expect(done).toBe(false);
    await tick(1);
    expect(h.calls[1]).toEqual({ batch: ['c'], at: 150 });
    expect(done).toBe(true);
    expect(q.enqueue('late', 1)).toBe('queue is shut down');
    expect(q.health().dropped.shutdown).toBe(1);
    expect(q.health().sent).toBe(3);
  });

  test('flush waits for in-flight retries and resolves after the batch succeeded', async () => {
    let failures = 3;
    const h = controllableHandler(() => (failures-- > 0 ? Promise.reject(new Error('down')) : Promise.resolve()));
    const q = makeQueue({}, h.handler);
    q.enqueue('a', 1);
    q.enqueue('b', 1);
    await tick(0);
    let flushedAt = -1;
    void q.flush().then(() => (flushedAt = performance.now() - t0));
    await tick(1000);
    // a: attempts at 0, 10, 30, 70 (success); b right after.
    expect(h.calls.map((c) => [c.batch[0], c.at])).toEqual([
      ['a', 0],
      ['a', 10],
      ['a', 30],
      ['a', 70],
      ['b', 70],
    ]);
    expect(flushedAt).toBe(70);
  });

  test('flush gives up with the queue after max_retry_time, never hangs', async () => {
    const log = recordingLogger();
    const h = controllableHandler(() => Promise.reject(new Error('down')));
    const q = makeQueue({ max_retry_time: 0.1, initial_retry_delay: 0.04, max_retry_delay: 0.04 }, h.handler, log);
    q.enqueue('a', 1);
    let flushedAt = -1;
    void q.flush().then(() => (flushedAt = performance.now() - t0));
    await tick(1000);
    expect(h.calls.map((c) => c.at)).toEqual([0, 40, 80, 120]);
    expect(flushedAt).toBe(120);
    expect(log.lines).toContain(
      `error ${P}could not send entries due to max_retry_time exceeded. 1 queue entries were lost`,
    );
  });

  test('flush on an idle queue resolves at once; after a forceFlush coalescing is normal again', async () => {
    const h = controllableHandler();
    const q = makeQueue({ max_batch_size: 10, max_coalescing_delay: 1 }, h.handler);
    await q.flush();
    q.enqueue('a', 1);
    const flushed = q.flush();
    await tick(50);
    await flushed;
    expect(h.calls).toEqual([{ batch: ['a'], at: 50 }]);
    q.enqueue('b', 1);
    await tick(999);
    expect(h.calls).toHaveLength(1);
    await tick(1);
    expect(h.calls[1]).toEqual({ batch: ['b'], at: 1050 });
  });

  test('counters', async () => {
    let fail = true;
    const h = controllableHandler(() => (fail ? ((fail = false), Promise.reject(new Error('x'))) : Promise.resolve()));
    const q = makeQueue({ max_batch_size: 2, max_coalescing_delay: 0 }, h.handler);
    for (const e of ['a', 'b', 'c']) q.enqueue(e, 10);
    expect(q.health()).toEqual({
      queued: 3,
      sent: 0,
      dropped: { queue_full: 0, max_bytes: 0, too_large: 0, retry_exhausted: 0, shutdown: 0 },
      retried: 0,
      batches: 0,
      size: { entries: 3, bytes: 30 },
      inFlight: 0,
    });
    await tick(100);
    expect(q.health()).toEqual({
      queued: 3,
      sent: 3,
      dropped: { queue_full: 0, max_bytes: 0, too_large: 0, retry_exhausted: 0, shutdown: 0 },
      retried: 1,
      batches: 3,
      size: { entries: 0, bytes: 0 },
      inFlight: 0,
    });
  });
});

describe('timers and the process lifetime', () => {
  // A real process, so that only the queue's own timers can keep it alive (a count of the
  // jest worker's active timers also saw jest's and other tests' timers come and go).
  const QUEUE = resolve(__dirname, '../../dist/export/queue.js');
  const DEFAULTS = resolve(__dirname, '../../dist/config/defaults.js');
  const runQueue = (body: string) =>
    new Promise<{ code: number | null; ms: number; out: string }>((done) => {
      const started = performance.now();
      const script = `
        const { KongQueue } = require(${JSON.stringify(QUEUE)});
        const { QUEUE_DEFAULTS } = require(${JSON.stringify(DEFAULTS)});
        const logger = { debug() {}, info() {}, warn() {}, error() {} };
        const q = new KongQueue({
          name: 'p1', logTag: 'zipkin plugin p1', logger,
          config: { ...QUEUE_DEFAULTS, max_batch_size: 10, max_coalescing_delay: 30 },
          handler: async (batch) => { process.stdout.write('delivered ' + JSON.stringify(batch) + '\\n'); },
        });
        q.enqueue('a', 1);
        ${body}`;
      const child = execFile(process.execPath, ['-e', script], { timeout: 15000 }, (_err, stdout) => {
        done({ code: child.exitCode, ms: performance.now() - started, out: stdout });
      });
    });

  test('an idle coalescing wait (30 s) does not hold the process open', async () => {
    const r = await runQueue('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(''); // exited long before the 30 s wait, nothing sent
    expect(r.ms).toBeLessThan(10000);
  });

  test('a flush holds the process open until the queue is drained', async () => {
    const r = await runQueue('void q.flush();');
    expect(r.code).toBe(0);
    expect(r.out).toBe('delivered ["a"]\n');
  });
});

describe('shutdown with a deadline of its own', () => {
  beforeEach(() => jest.useRealTimers());

  /** Three entries, batches of one, the handler never answering 'a'. */
  async function pendingAtShutdown() {
    const log = recordingLogger();
    const never = deferred();
    const h = controllableHandler(() => never.promise);
    const q = makeQueue({ max_batch_size: 1 }, h.handler, log);
    for (const e of ['a', 'b', 'c']) q.enqueue(e, 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.calls.map((c) => c.batch)).toEqual([['a']]);
    return { log, never, h, q };
  }
  const cutLog = [
    `warn ${P}handler could not process entries: shutdown deadline reached`,
    `error ${P}could not send entries before the shutdown deadline. 1 queue entries were lost`,
    `error ${P}could not send entries before the shutdown deadline. 2 queue entries were lost`,
  ];

  test('a pending handler call (no handlerTimeout, as Kong) is cut at the deadline; the rest is counted as lost', async () => {
    const { log, never, q } = await pendingAtShutdown();
    const started = performance.now();
    await q.shutdown(100);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(1000);
    expect(q.health()).toMatchObject({ queued: 3, sent: 0, inFlight: 0, dropped: { shutdown: 3 } });
    expect(nonDebug(log)).toEqual(cutLog);
    never.resolve(); // a late success is ignored
    await new Promise((r) => setImmediate(r));
    expect(q.health().sent).toBe(0);
  });

  test('timers that fire a few ms before performance.now() reaches the deadline do not retry the cut batch', async () => {
    // libuv starts a timer from the loop's cached time, so under load it can fire before
    // performance.now() reaches its end; here every queue timer fires 5 ms early.
    const { log, h, q } = await pendingAtShutdown();
    const realSetTimeout = global.setTimeout;
    const early = jest
      .spyOn(global, 'setTimeout')
      .mockImplementation(((fn: () => void, ms?: number) =>
        realSetTimeout(fn, Math.max(0, (ms ?? 0) - 5))) as unknown as typeof setTimeout);
    try {
      await q.shutdown(100);
    } finally {
      early.mockRestore();
    }
    expect(h.calls.map((c) => c.batch)).toEqual([['a']]);
    expect(q.health()).toMatchObject({ queued: 3, sent: 0, inFlight: 0, dropped: { shutdown: 3 } });
    expect(nonDebug(log)).toEqual(cutLog);
  });
});
