/**
 * `gateway-zipkin receive`: a local Zipkin v2 receiver for development. It is the sink of
 * the demo and of end-to-end tests, not a Zipkin server (no storage, no query API).
 *
 * `POST /api/v2/spans` takes JSON v2 (`application/json`, or no/any other content type, as
 * the Zipkin server does) or proto3 (`application/x-protobuf`), optionally
 * `Content-Encoding: gzip`, and answers 202 with an empty body. Every span is checked
 * (`./zipkin-v2`); one bad span rejects the request with 400 and a plain-text body listing
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
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { gunzip } from 'node:zlib';
import { formatHost } from './addresses';
import { decodeProto3SpanList } from './proto3-decode';
import { renderWaterfall } from './waterfall';
import { validateSpanList, type ZipkinV2Span } from './zipkin-v2';

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
  readonly spans: readonly ZipkinV2Span[];
  /** Resolves once at least `count` spans were accepted (rejects after `timeoutMs`, default 5000). */
  waitForSpans(count: number, timeoutMs?: number): Promise<readonly ZipkinV2Span[]>;
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
  readonly spans: ZipkinV2Span[];
  timer: NodeJS.Timeout | null;
}

/** Zipkin treats a 128-bit id whose high half is zero as the 64-bit one. */
function traceKey(traceId: string): string {
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

async function decodeBody(req: IncomingMessage, maxBody: number): Promise<ZipkinV2Span[]> {
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
    if (body[0] !== 0x0a) throw new BadRequest(400, ['Expected a PROTO3 encoded list (first byte must be field 1, ListOfSpans.spans)']);
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

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const out = options.out ?? process.stdout;
  const errOut = options.errOut ?? process.stderr;
  const quietMs = options.quietMs ?? 300;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const waterfall = { width: options.barWidth ?? 40, showTags: options.showTags ?? false };
  const json = options.json === true;

  const spans: ZipkinV2Span[] = [];
  const pending = new Map<string, PendingTrace>();
  const waiters: { count: number; resolve: () => void }[] = [];

  const draw = (key: string): void => {
    const trace = pending.get(key);
    if (trace === undefined) return;
    if (trace.timer !== null) clearTimeout(trace.timer);
    pending.delete(key);
    out.write(renderWaterfall(trace.spans, waterfall) + '\n');
  };

  const accept = (received: readonly ZipkinV2Span[]): void => {
    for (const span of received) {
      spans.push(span);
      if (json) {
        out.write(JSON.stringify(span) + '\n');
        continue;
      }
      const key = traceKey(span.traceId);
      let trace = pending.get(key);
      if (trace === undefined) {
        trace = { spans: [], timer: null };
        pending.set(key, trace);
      }
      trace.spans.push(span);
      if (trace.timer !== null) clearTimeout(trace.timer);
      trace.timer = setTimeout(() => draw(key), quietMs);
    }
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (spans.length >= waiters[i].count) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== SPANS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain; charset=utf-8' }).end(`method not allowed: ${req.method}\n`);
      return;
    }
    decodeBody(req, maxBody).then(
      (received) => {
        accept(received);
        res.writeHead(202).end();
      },
      (err: unknown) => {
        const status = err instanceof BadRequest ? err.status : 500;
        const text = err instanceof BadRequest ? err.message : `internal error: ${(err as Error).message}`;
        errOut.write(`warn receiver: ${status} ${text.split('\n')[0]}\n`);
        const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
        // The rest of a too-large body is not read: end the connection rather than drain it.
        if (status === 413) headers.connection = 'close';
        res.writeHead(status, headers);
        res.end(text + '\n');
      },
    );
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9411, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const flush = (): void => {
    for (const key of [...pending.keys()]) draw(key);
  };

  let closing: Promise<void> | null = null;
  return {
    url: `http://${formatHost(host)}:${port}${SPANS_PATH}`,
    host,
    port,
    spans,
    flush,
    waitForSpans(count: number, timeoutMs = 5000): Promise<readonly ZipkinV2Span[]> {
      if (spans.length >= count) return Promise.resolve(spans);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i !== -1) waiters.splice(i, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} spans (received ${spans.length})`));
        }, timeoutMs);
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(spans);
          },
        };
        waiters.push(waiter);
      });
    },
    close(): Promise<void> {
      if (closing === null) {
        closing = new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        }).then(flush);
      }
      return closing;
    },
  };
}
