import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { HttpSender, ZipkinSendError, type HttpSenderOptions } from '../../src/export/http-sender';
import { closedPort, recordingLogger, startReceiver, type Receiver, type RecordingLogger } from './helpers';

function sender(endpoint: string | null, log: RecordingLogger, overrides: Partial<HttpSenderOptions> = {}): HttpSender {
  return new HttpSender({
    endpoint,
    contentType: 'application/json',
    connectTimeout: 2000,
    sendTimeout: 5000,
    readTimeout: 5000,
    logger: log,
    ...overrides,
  });
}

async function failure(p: Promise<void>): Promise<ZipkinSendError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ZipkinSendError);
    return err as ZipkinSendError;
  }
  throw new Error('expected a failure');
}

let receiver: Receiver;
afterEach(async () => {
  await receiver?.close();
});

describe('accepted POSTs', () => {
  test('any 2xx is success: 202 (Zipkin) and 200 (Pitchfork); headers and body as sent; debug batch size', async () => {
    receiver = await startReceiver([202, 200, 204]);
    const log = recordingLogger();
    const s = sender(receiver.url, log);
    await s.send('[{"a":1}]', 1);
    await s.send('[{"b":2},{"c":3}]', 2);
    await s.send('[]', 0);
    expect(
      receiver.requests.map((r) => [
        r.method,
        r.url,
        r.headers['content-type'],
        r.headers['content-length'],
        r.body.toString(),
      ]),
    ).toEqual([
      ['POST', '/api/v2/spans', 'application/json', '9', '[{"a":1}]'],
      ['POST', '/api/v2/spans', 'application/json', '17', '[{"b":2},{"c":3}]'],
      ['POST', '/api/v2/spans', 'application/json', '2', '[]'],
    ]);
    expect(receiver.requests[0].headers['content-encoding']).toBeUndefined();
    expect(log.lines).toEqual([
      'debug zipkin batch size: 1',
      'debug zipkin batch size: 2',
      'debug zipkin batch size: 0',
    ]);
    // keep-alive: one connection for all three
    expect(new Set(receiver.requests.map((r) => r.remotePort)).size).toBe(1);
    await s.close();
  });

  test('gzip bodies carry content-encoding: gzip and decode to the original', async () => {
    receiver = await startReceiver();
    const s = sender(receiver.url, recordingLogger(), { gzip: true, contentType: 'application/x-protobuf' });
    const body = Buffer.from([0x0a, 0x02, 0x08, 0x01]);
    await s.send(body, 1);
    const [r] = receiver.requests;
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(gunzipSync(r.raw)).toEqual(body);
    expect(r.headers['content-length']).toBe(String(r.raw.length));
    await s.close();
  });

  test('null http_endpoint: success without any I/O or log', async () => {
    const log = recordingLogger();
    const s = sender(null, log);
    await expect(s.send('[]', 3)).resolves.toBeUndefined();
    expect(log.lines).toEqual([]);
    await s.close();
  });
});

describe("failures carry Kong's texts", () => {
  test('non-2xx: zipkin server responded unexpectedly: <status> <reason>', async () => {
    receiver = await startReceiver([500, 400, 302]);
    const s = sender(receiver.url, recordingLogger());
    expect((await failure(s.send('[]', 0))).message).toBe(
      'zipkin server responded unexpectedly: 500 Internal Server Error',
    );
    expect((await failure(s.send('[]', 0))).message).toBe('zipkin server responded unexpectedly: 400 Bad Request');
    expect((await failure(s.send('[]', 0))).message).toBe('zipkin server responded unexpectedly: 302 Found');
    await s.close();
  });

  test('connection refused', async () => {
    receiver = await startReceiver();
    const port = await closedPort();
    const s = sender(`http://127.0.0.1:${port}/api/v2/spans`, recordingLogger());
    expect((await failure(s.send('[]', 0))).message).toBe('zipkin request failed: connection refused');
    await s.close();
  });

  test('read_timeout: a receiver that never answers', async () => {
    receiver = await startReceiver([0]);
    const s = sender(receiver.url, recordingLogger(), { connectTimeout: 0, sendTimeout: 0, readTimeout: 100 });
    const started = Date.now();
    expect((await failure(s.send('[]', 0))).message).toBe('zipkin request failed: timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    await s.close();
  });

  test('send_timeout: a receiver that never reads the body', async () => {
    receiver = await startReceiver();
    const sockets: net.Socket[] = [];
    const stalled = net.createServer({ pauseOnConnect: true }, (socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const port = (stalled.address() as net.AddressInfo).port;
    // Larger than what the loopback socket buffers absorb, so writing cannot finish.
    const s = sender(`http://127.0.0.1:${port}/`, recordingLogger(), {
      connectTimeout: 0,
      sendTimeout: 150,
      readTimeout: 0,
    });
    expect((await failure(s.send(Buffer.alloc(64 * 1024 * 1024), 1))).message).toBe('zipkin request failed: timeout');
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => stalled.close(() => resolve()));
    await s.close();
  });

  test('connect_timeout: a listener whose backlog is full', async () => {
    receiver = await startReceiver();
    // A listener (backlog 1) in a thread that blocks right after listening: once the
    // kernel's accept queue is full, further SYNs are dropped and connects hang.
    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const server = require('node:net').createServer();
       server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         parentPort.postMessage(server.address().port);
         setTimeout(() => Atomics.wait(new Int32Array(workerData), 0, 0, 20000), 10);
       });`,
      { eval: true, workerData: flag },
    );
    const port = await new Promise<number>((resolve) => worker.once('message', resolve));
    await new Promise((r) => setTimeout(r, 100));
    const fillers: net.Socket[] = [];
    for (;;) {
      const socket = net.connect(port, '127.0.0.1');
      fillers.push(socket);
      const state = await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('error', () => resolve('error'));
        setTimeout(() => resolve('pending'), 200);
      });
      if (state === 'pending') break;
      if (fillers.length > 20) throw new Error('could not fill the backlog');
    }
    const s = sender(`http://127.0.0.1:${port}/`, recordingLogger(), {
      connectTimeout: 100,
      sendTimeout: 0,
      readTimeout: 0,
    });
    const started = Date.now();
    expect((await failure(s.send('[]', 0))).message).toBe('zipkin request failed: timeout');
    expect(Date.now() - started).toBeLessThan(1000);
    Atomics.store(new Int32Array(flag), 0, 1);
    Atomics.notify(new Int32Array(flag), 0);
    for (const socket of fillers) socket.destroy();
    await worker.terminate();
    await s.close();
  });

  test('timeouts of 0 mean no explicit timeout, not an immediate failure', async () => {
    receiver = await startReceiver();
    const s = sender(receiver.url, recordingLogger(), { connectTimeout: 0, sendTimeout: 0, readTimeout: 0 });
    await expect(s.send('[]', 0)).resolves.toBeUndefined();
    await s.close();
  });
});

describe('credentials in the endpoint URL', () => {
  test('become a Basic Authorization header and appear in no log line', async () => {
    receiver = await startReceiver();
    const log = recordingLogger();
    const s = sender(`http://zip%20user:s3cr%3Ait@127.0.0.1:${receiver.port}/api/v2/spans?x=1`, log);
    await s.send('[]', 0);
    const [r] = receiver.requests;
    expect(r.headers.authorization).toBe('Basic ' + Buffer.from('zip user:s3cr:it').toString('base64'));
    expect(r.url).toBe('/api/v2/spans?x=1');
    expect(log.lines.join('\n')).not.toMatch(/s3cr|zip user|zip%20user/);
    await s.close();
  });

  test('are not in error texts', async () => {
    receiver = await startReceiver();
    const port = await closedPort();
    const s = sender(`http://admin:hunter2@127.0.0.1:${port}/`, recordingLogger());
    const err = await failure(s.send('[]', 0));
    expect(err.message).toBe('zipkin request failed: connection refused');
    expect(JSON.stringify(err) + String(err.stack)).not.toMatch(/hunter2|admin/);
    expect(() => sender('http://u:secret@[::1', recordingLogger())).toThrow(
      new Error('http_endpoint is not a valid URL'),
    );
    await s.close();
  });
});
