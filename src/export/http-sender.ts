/**
 * POSTs Zipkin bodies to `http_endpoint` (reference §5.2) with node:http / node:https and a
 * keep-alive Agent, so consecutive batches reuse one connection. Kong's three socket
 * timeouts are separate phases here, and failures carry Kong's texts for the queue's logs
 * (ngx_lua's socket error strings: `timeout`, `connection refused`, `closed`, …).
 *
 * Beyond Kong: the sum of the three timeouts also bounds the whole POST, so a collector
 * that trickles its answer (each read well within `read_timeout`) cannot hold the queue;
 * and https always verifies the collector's certificate, whatever
 * `NODE_TLS_REJECT_UNAUTHORIZED` says (Kong verifies; there is no option to turn it off).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import type { Logger } from '../logger';
import { X509_VERIFY_CODES } from './connect-failure';
import { redactSecrets } from './redact-secrets';
import { SendsInFlight } from './sends-in-flight';

const gzip = promisify(gzipCallback);

export interface HttpSenderOptions {
  /** Kong's `http_endpoint`; null means "report nothing" (success without any I/O). */
  endpoint: string | null;
  /** `application/json` or `application/x-protobuf`. */
  contentType: string;
  /** Compress bodies and send `content-encoding: gzip`. */
  gzip?: boolean;
  /** ms until the TCP connection is established; 0 = no explicit timeout. */
  connectTimeout: number;
  /** ms to write the request once connected; 0 = no explicit timeout. */
  sendTimeout: number;
  /** ms of silence allowed while waiting for / reading the response; 0 = no explicit timeout. */
  readTimeout: number;
  logger: Logger;
}

/** A failed POST; `message` is Kong's text (`zipkin request failed: …`). */
export class ZipkinSendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipkinSendError';
  }
}

interface Target {
  module: typeof http | typeof https;
  agent: http.Agent;
  options: http.RequestOptions;
  /** Authorization from the URL's userinfo, if any. */
  headers: http.OutgoingHttpHeaders;
  /** userinfo as it appeared in the URL, redacted from any error text. */
  secrets: string[];
}

const TIMEOUT = Symbol('timeout');

/** Kong's texts for transport errors; credentials never reach them. */
function transportErrorText(err: NodeJS.ErrnoException | typeof TIMEOUT, secrets: readonly string[]): string {
  if (err === TIMEOUT || err.code === 'ETIMEDOUT' || err.code === 'ESOCKETTIMEDOUT')
    return 'zipkin request failed: timeout';
  if (err.code === 'ECONNREFUSED') return 'zipkin request failed: connection refused';
  if (err.code === 'ECONNRESET') {
    // Node's `read ECONNRESET` is a reset; `socket hang up` / `aborted` a close before or
    // during the response, which ngx_lua reports as `closed`.
    return err.message === 'read ECONNRESET'
      ? 'zipkin request failed: connection reset by peer'
      : 'zipkin request failed: closed';
  }
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'zipkin request failed: certificate host mismatch';
  const verifyCode = err.code === undefined ? undefined : X509_VERIFY_CODES[err.code];
  const message = redactSecrets(verifyCode === undefined ? err.message : `${verifyCode}: ${err.message}`, secrets);
  return `zipkin request failed: ${message}`;
}

function parseTarget(endpoint: string): Target {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    // Not the URL itself: it may hold credentials.
    throw new Error('http_endpoint is not a valid URL');
  }
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:') throw new Error(`unsupported scheme in http_endpoint: ${url.protocol}`);
  const headers: http.OutgoingHttpHeaders = {};
  const secrets: string[] = [];
  if (url.username !== '' || url.password !== '') {
    // userinfo becomes Basic auth and is removed from everything that could be logged.
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
    secrets.push(url.username, url.password, user, password);
  }
  const module = isHttps ? https : http;
  // No maxSockets: a request waiting in the agent's pool would spend its connect timeout
  // there (concurrency_limit -1 runs many at once, as Kong's timers do).
  const agent = new module.Agent({ keepAlive: true });
  return {
    module,
    agent,
    secrets,
    headers,
    options: {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname + url.search,
      agent,
      // Explicit, so a process-wide NODE_TLS_REJECT_UNAUTHORIZED=0 cannot send spans to an unverified peer.
      ...(isHttps ? { rejectUnauthorized: true } : {}),
    },
  };
}

export class HttpSender {
  private readonly target: Target | null;
  private readonly options: HttpSenderOptions;
  private readonly inFlight = new SendsInFlight();

  constructor(options: HttpSenderOptions) {
    this.options = options;
    this.target = options.endpoint === null ? null : parseTarget(options.endpoint);
  }

  /**
   * POSTs one body holding `count` spans. Resolves on any 2xx once the response body was
   * read; rejects with a `ZipkinSendError` carrying Kong's message otherwise.
   */
  send(body: string | Uint8Array, count: number): Promise<void> {
    if (this.target === null) return Promise.resolve();
    this.options.logger.debug(`zipkin batch size: ${count}`);
    return this.inFlight.track(this.post(this.target, body));
  }

  /** Resolves once the requests in flight have settled. */
  async idle(): Promise<void> {
    await this.inFlight.settled();
  }

  /** Waits for requests in flight, then closes the idle keep-alive connections. */
  async close(): Promise<void> {
    await this.idle();
    this.target?.agent.destroy();
  }

  private async post(target: Target, body: string | Uint8Array): Promise<void> {
    let payload: Buffer =
      typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const headers: http.OutgoingHttpHeaders = { ...target.headers, 'content-type': this.options.contentType };
    if (this.options.gzip === true) {
      payload = await gzip(payload);
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = payload.length;
    try {
      await this.attempt(target, headers, payload);
    } catch (err) {
      // A kept-alive socket the server closed meanwhile fails on reuse before the server
      // saw anything: one immediate retry on a fresh connection, as Node's docs advise.
      if (err instanceof StaleSocketError) await this.attempt(target, headers, payload);
      else throw err;
    }
  }

  private attempt(target: Target, headers: http.OutgoingHttpHeaders, payload: Buffer): Promise<void> {
    const { connectTimeout, sendTimeout, readTimeout } = this.options;
    const total =
      connectTimeout > 0 && sendTimeout > 0 && readTimeout > 0 ? connectTimeout + sendTimeout + readTimeout : 0;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      // The whole POST: a read timer refreshed by every chunk would let a trickle last forever.
      let whole: NodeJS.Timeout | undefined;
      const stopTimers = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (whole !== undefined) clearTimeout(whole);
      };
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        stopTimers();
        if (err === undefined) resolve();
        else reject(err);
      };
      const fail = (err: NodeJS.ErrnoException | typeof TIMEOUT): void =>
        finish(new ZipkinSendError(transportErrorText(err, target.secrets)));
      // One timer re-armed per phase: connect, then send, then read (refreshed per chunk).
      const arm = (ms: number): void => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        if (ms > 0) {
          timer = setTimeout(() => {
            fail(TIMEOUT);
            req.destroy();
          }, ms);
          timer.unref(); // the socket keeps the process alive while the request is live
        }
      };

      const req = target.module.request({ ...target.options, headers });
      arm(connectTimeout);
      if (total > 0) {
        whole = setTimeout(() => {
          fail(TIMEOUT);
          req.destroy();
        }, total);
        whole.unref();
      }
      req.on('socket', (socket) => {
        if (socket.connecting) socket.once('connect', () => arm(sendTimeout));
        else arm(sendTimeout);
      });
      req.on('finish', () => arm(readTimeout));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!settled && req.reusedSocket && err.code === 'ECONNRESET') {
          settled = true;
          stopTimers();
          reject(new StaleSocketError());
          return;
        }
        fail(err);
      });
      req.on('response', (res) => {
        arm(readTimeout);
        res.on('data', () => timer?.refresh());
        res.on('error', (err: NodeJS.ErrnoException) => fail(err));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) finish();
          else {
            const reason = res.statusMessage || http.STATUS_CODES[status] || '';
            finish(new ZipkinSendError(`zipkin server responded unexpectedly: ${status} ${reason}`));
          }
        });
        res.resume(); // the body is ignored, but read so the connection can be reused
      });
      req.end(payload);
    });
  }
}

class StaleSocketError extends Error {}
