/**
 * A relay between a gateway's reporter and real backends: it keeps every request body
 * exactly as the reporter sent it (for the zipkin2 codec and for the expected values) and
 * forwards it unchanged to each target (Zipkin and Jaeger get the same bytes). The reporter
 * gets 202 when every target answered 2xx; otherwise the first failing answer, or 502 when
 * a target could not be reached.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeProto3SpanList } from '../../../src/receiver/proto3-decode';
import type { StoredSpan } from './zipkin';

export interface RelayedBody {
  path: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** The bytes as sent (gzipped when the reporter gzips). */
  raw: Buffer;
  /** Each target's status. */
  statuses: number[];
}

export interface SpanRelay {
  /** For a plugin's `http_endpoint`. */
  readonly url: string;
  readonly bodies: RelayedBody[];
  close(): Promise<void>;
}

const FORWARDED_HEADERS = ['content-type', 'content-encoding', 'b3', 'x-b3-flags'];

async function forward(target: string, body: RelayedBody, headers: http.IncomingHttpHeaders): Promise<number> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  try {
    const res = await fetch(target, { method: 'POST', headers: out, body: body.raw });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 502;
  }
}

export async function startSpanRelay(targets: readonly string[]): Promise<SpanRelay> {
  const bodies: RelayedBody[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body: RelayedBody = {
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        raw: Buffer.concat(chunks),
        statuses: [],
      };
      bodies.push(body);
      void Promise.all(targets.map((target) => forward(target, body, req.headers))).then((statuses) => {
        body.statuses = statuses;
        const failed = statuses.find((status) => status < 200 || status > 299);
        res.writeHead(failed ?? 202).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v2/spans`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The spans of one body as sent: gunzipped when gzipped, then JSON v2 or proto3 (src/receiver's decoder). */
export function sentSpans(body: RelayedBody): StoredSpan[] {
  const bytes = body.contentEncoding === 'gzip' ? gunzipSync(body.raw) : body.raw;
  if (body.contentType === 'application/x-protobuf') {
    const decoded = decodeProto3SpanList(bytes);
    if ('errors' in decoded) throw new Error(decoded.errors.join('\n'));
    return decoded.spans as StoredSpan[];
  }
  return JSON.parse(bytes.toString('utf8')) as StoredSpan[];
}
