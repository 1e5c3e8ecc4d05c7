/**
 * `gateway-zipkin receive`: a local Zipkin v2 receiver for development. It is the sink of
 * the demo and of end-to-end tests, not a Zipkin server (no storage, no query API).
 *
 * `POST /api/v2/spans` takes JSON v2 (`application/json`, or no/any other content type, as
 * the Zipkin server does) or proto3 (`application/x-protobuf`), optionally
 * `Content-Encoding: gzip`, and answers 202 with an empty body. Every span is checked
 * (`./span-validator`); one bad span rejects the request with 400 and a plain-text body listing
 * the reasons, one `<path>: <reason>` per line. Other paths answer 404, other methods on
 * the spans path 405.
 *
 * Output, to `out`: by default each trace is drawn as a waterfall (`./waterfall`) once it
 * is complete, meaning no span of it arrived for `quietMs`, and on `close()` / `flush()`.
 * Spans arriving for a trace already drawn start a new drawing. With `json`, each accepted
 * span is written at once as one JSON line instead. Rejections are logged to `errOut` as
 * `warn receiver: 400 <first reason>` lines.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv6, type AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { gunzip } from 'node:zlib';
import { decodeProto3SpanList } from './proto3-decode';
import { renderWaterfall, type WaterfallOptions } from './waterfall';
import { validateSpanList, type ReceivedSpan } from './span-validator';

export const SPANS_PATH = '/api/v2/spans';
/** Armeria's default request limit, which the Zipkin server keeps (compressed bytes). */
const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
/** Bound on the gunzipped size, so a small gzip bomb cannot exhaust memory. */
const MAX_INFLATED = 64 * 1024 * 1024;

export interface ReceiverOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 9411; 0 picks a free port. */
  readonly port?: number;
  /** Print each span as a JSON line instead of drawing waterfalls. */
  readonly json?: boolean;
  /** Where waterfalls / JSON lines go (default `process.stdout`). */
  readonly out?: Writable;
  /** Where rejections are logged (default `process.stderr`). */
  readonly errOut?: Writable;
  /** A trace is drawn once no span of it arrived for this long (default 300 ms). */
  readonly quietMs?: number;
  /** List tags under each waterfall row (default false). */
  readonly showTags?: boolean;
  /** Waterfall bar width in columns (default 40). */
  readonly barWidth?: number;
  /** Largest accepted request body in bytes, as received (default 10 MiB). */
  readonly maxBodyBytes?: number;
}

export interface Receiver {
  /** The spans endpoint, e.g. `http://127.0.0.1:9411/api/v2/spans`: the `http_endpoint` to configure. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every accepted span, in arrival order (canonical form). */
  readonly spans: readonly ReceivedSpan[];
  /** Resolves once at least `count` spans were accepted (rejects after `timeoutMs`, default 5000). */
  waitForSpans(count: number, timeoutMs?: number): Promise<readonly ReceivedSpan[]>;
  /** Draws every pending trace now. */
  flush(): void;
  /** Stops listening, draws pending traces, and resolves when the server is closed. */
  close(): Promise<void>;
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly reasons: readonly string[],
  ) {
    super(reasons.join('\n'));
  }
}

interface PendingTrace {
  readonly spans: ReceivedSpan[];
  timer: NodeJS.Timeout | null;
}

/** Zipkin treats a 128-bit id whose high half is zero as the 64-bit one: the key a trace is grouped by. */
export function traceKey(traceId: string): string {
  return traceId.length === 32 && traceId.startsWith('0000000000000000') ? traceId.slice(16) : traceId;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BadRequest(413, [`request body larger than ${limit} bytes`]));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
  });
}

function inflate(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: MAX_INFLATED }, (err, out) => {
      if (err !== null) reject(new BadRequest(400, ['Cannot gunzip spans']));
      else resolve(out);
    });
  });
}

async function decodeBody(req: IncomingMessage, maxBody: number): Promise<ReceivedSpan[]> {
  let body = await readBody(req, maxBody);
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase().trim();
  if (encoding !== '' && encoding !== 'identity') {
    if (encoding !== 'gzip' && encoding !== 'x-gzip') {
      throw new BadRequest(415, [`unsupported content-encoding: ${encoding} (supported: gzip)`]);
    }
    if (body.length > 0) body = await inflate(body);
  }
  if (body.length === 0) return [];

  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let list: unknown;
  if (type === 'application/x-protobuf') {
    if (body[0] !== 0x0a)
      throw new BadRequest(400, ['Expected a PROTO3 encoded list (first byte must be field 1, ListOfSpans.spans)']);
    const decoded = decodeProto3SpanList(body);
    if ('errors' in decoded) throw new BadRequest(400, decoded.errors);
    list = decoded.spans;
  } else {
    // As the Zipkin server: the list must start at byte 0 (no whitespace, no BOM).
    if (body[0] !== 0x5b) throw new BadRequest(400, ['Expected a JSON_V2 encoded list']);
    try {
      list = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new BadRequest(400, [`Malformed JSON: ${(err as Error).message}`]);
    }
  }
  const result = validateSpanList(list);
  if ('errors' in result) throw new BadRequest(400, result.errors);
  return result.spans;
}

/** Accepted spans, the traces waiting to be drawn, and the `waitForSpans` callers. */
class SpanStore {
  readonly spans: ReceivedSpan[] = [];
  private readonly pending = new Map<string, PendingTrace>();
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  constructor(
    readonly out: Writable,
    readonly json: boolean,
    readonly quietMs: number,
    readonly waterfall: WaterfallOptions,
  ) {}

  accept(received: readonly ReceivedSpan[]): void {
    for (const span of received) {
      this.spans.push(span);
      if (this.json) this.out.write(JSON.stringify(span) + '\n');
      else this.hold(span);
    }
    this.wake();
  }

  /** Keeps the span with its trace until the trace has been quiet for `quietMs`. */
  private hold(span: ReceivedSpan): void {
    const key = traceKey(span.traceId);
    let trace = this.pending.get(key);
    if (trace === undefined) {
      trace = { spans: [], timer: null };
      this.pending.set(key, trace);
    }
    trace.spans.push(span);
    if (trace.timer !== null) clearTimeout(trace.timer);
    trace.timer = setTimeout(() => this.draw(key), this.quietMs);
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.spans.length >= this.waiters[i].count) {
        this.waiters[i].resolve();
        this.waiters.splice(i, 1);
      }
    }
  }

  draw(key: string): void {
    const trace = this.pending.get(key);
    if (trace === undefined) return;
    if (trace.timer !== null) clearTimeout(trace.timer);
    this.pending.delete(key);
    this.out.write(renderWaterfall(trace.spans, this.waterfall) + '\n');
  }

  flush(): void {
    for (const key of [...this.pending.keys()]) this.draw(key);
  }

  waitFor(count: number, timeoutMs: number): Promise<readonly ReceivedSpan[]> {
    const spans = this.spans;
    if (spans.length >= count) return Promise.resolve(spans);
    return new Promise((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(spans);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} spans (received ${spans.length})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

const TEXT = 'text/plain; charset=utf-8';

function sendFailure(res: ServerResponse, err: unknown, errOut: Writable): void {
  const status = err instanceof BadRequest ? err.status : 500;
  const text = err instanceof BadRequest ? err.message : `internal error: ${(err as Error).message}`;
  errOut.write(`warn receiver: ${status} ${text.split('\n')[0]}\n`);
  const headers: Record<string, string> = { 'content-type': TEXT };
  // The rest of a too-large body is not read: end the connection rather than drain it.
  if (status === 413) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text + '\n');
}

function handler(
  store: SpanStore,
  maxBody: number,
  errOut: Writable,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== SPANS_PATH) {
      res.writeHead(404, { 'content-type': TEXT }).end(`not found: ${path}\n`);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': TEXT }).end(`method not allowed: ${req.method}\n`);
      return;
    }
    decodeBody(req, maxBody).then(
      (received) => {
        store.accept(received);
        res.writeHead(202).end();
      },
      (err: unknown) => sendFailure(res, err, errOut),
    );
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const store = new SpanStore(options.out ?? process.stdout, options.json === true, options.quietMs ?? 300, {
    width: options.barWidth ?? 40,
    showTags: options.showTags ?? false,
  });
  const server = createServer(
    handler(store, options.maxBodyBytes ?? DEFAULT_MAX_BODY, options.errOut ?? process.stderr),
  );
  const port = await listen(server, options.port ?? 9411, host);

  let closing: Promise<void> | null = null;
  return {
    url: `http://${isIPv6(host) ? `[${host}]` : host}:${port}${SPANS_PATH}`,
    host,
    port,
    spans: store.spans,
    flush: () => store.flush(),
    waitForSpans: (count: number, timeoutMs = 5000) => store.waitFor(count, timeoutMs),
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(() => store.flush());
      return closing;
    },
  };
}
