/**
 * Load with random propagation headers, shared by the leak test (10,000 requests) and the
 * soak script (test/soak/): a seeded generator of incoming trace headers in Kong's nine
 * formats, valid and malformed; an upstream that checks the injected headers; a client
 * driving N keep-alive connections; and the accounting a leak would show in: active
 * handles by type, listener counts, weakly held request traces, heap after a forced GC.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ZipkinConfigInput } from '../../src/config/types';
import type { ZipkinPlugin } from '../../src/plugin';
import { listen, type Listening, realProcess } from './traffic-harness';

// ------------------------------------------------------------------ seeded randomness

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
export type Rng = () => number;

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';
/** Characters allowed in an HTTP header value (no controls), some latin1 bytes included. */
const PRINTABLE =
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t\u00e9\u00ff';

function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[int(rng, list.length)];
}

function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[int(rng, 16)];
  return s;
}

function printable(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += PRINTABLE[int(rng, PRINTABLE.length)];
  return s;
}

function decimal(rng: Rng): string {
  // Up to 2^64 - 1 and a bit beyond (overflow is a malformed case of its own).
  return (BigInt(Math.floor(rng() * 2 ** 53)) * BigInt(int(rng, 4096) + 1)).toString();
}

/** A header value broken in one of the ways clients break them. */
function malform(rng: Rng, value: string): string {
  switch (int(rng, 8)) {
    case 0:
      return value.slice(0, int(rng, value.length));
    case 1: {
      const i = int(rng, value.length + 1);
      return value.slice(0, i) + pick(rng, ['g', 'Z', '-', ':', ';', ' ', '=', '\u00e9']) + value.slice(i);
    }
    case 2:
      return value.replace(/[0-9a-f]/g, '0');
    case 3:
      return value + value;
    case 4:
      return printable(rng, 1 + int(rng, 80));
    case 5:
      return '';
    case 6:
      return value.replace(/[a-z]/g, (c) => c.toUpperCase());
    default:
      // Long: a few KiB, within Node's default 16 KiB header limit.
      return value + hex(rng, 1024 + int(rng, 3072));
  }
}

/** One valid header set of `format` (Kong's nine), and the trace id Kong extracts from it (32 hex). */
function validHeaders(rng: Rng, format: string): { headers: Record<string, string>; traceId: string | undefined } {
  const traceId = int(rng, 3) === 0 ? hex(rng, 16) : hex(rng, 32);
  const padded = traceId.padStart(32, '0');
  const spanId = hex(rng, 16);
  const parentId = hex(rng, 16);
  const sampled = pick(rng, ['0', '1']);
  switch (format) {
    case 'w3c': {
      const id = hex(rng, 32);
      const h: Record<string, string> = { traceparent: `00-${id}-${spanId}-0${sampled}` };
      if (int(rng, 2) === 0) h.tracestate = pick(rng, ['congo=t61rcWkgMzE', `b3=${spanId}`, 'a=1,b=2']);
      return { headers: h, traceId: id };
    }
    case 'b3': {
      const h: Record<string, string> = { 'x-b3-traceid': traceId, 'x-b3-spanid': spanId };
      if (int(rng, 2) === 0) h['x-b3-parentspanid'] = parentId;
      if (int(rng, 3) !== 0) h['x-b3-sampled'] = sampled;
      if (int(rng, 8) === 0) h['x-b3-flags'] = '1';
      return { headers: h, traceId: padded };
    }
    case 'b3-single': {
      if (int(rng, 5) === 0) return { headers: { b3: sampled }, traceId: undefined };
      const value = pick(rng, [
        `${traceId}-${spanId}`,
        `${traceId}-${spanId}-${pick(rng, ['0', '1', 'd'])}`,
        `${traceId}-${spanId}-1-${parentId}`,
      ]);
      return { headers: { b3: value }, traceId: padded };
    }
    case 'jaeger': {
      const h: Record<string, string> = {
        'uber-trace-id': `${traceId}:${spanId}:${pick(rng, ['0', parentId])}:${pick(rng, ['0', '1', '3'])}`,
      };
      if (int(rng, 2) === 0) h['uberctx-tenant'] = printable(rng, 8).trim() || 'acme';
      return { headers: h, traceId: padded };
    }
    case 'ot': {
      const h: Record<string, string> = {
        'ot-tracer-traceid': traceId,
        'ot-tracer-spanid': spanId,
        'ot-tracer-sampled': pick(rng, ['true', 'false', '1', '0']),
      };
      if (int(rng, 2) === 0) h['ot-baggage-user'] = 'x%20y';
      return { headers: h, traceId: padded };
    }
    case 'datadog': {
      const h: Record<string, string> = { 'x-datadog-trace-id': decimal(rng), 'x-datadog-parent-id': decimal(rng) };
      if (int(rng, 3) !== 0) h['x-datadog-sampling-priority'] = pick(rng, ['-1', '0', '1', '2']);
      // Decimal ids beyond 64 bits are generated too: no expectation here.
      return { headers: h, traceId: undefined };
    }
    case 'aws': {
      const time = hex(rng, 8);
      const rest = hex(rng, 24);
      return {
        headers: { 'x-amzn-trace-id': `Root=1-${time}-${rest};Parent=${spanId};Sampled=${sampled}` },
        traceId: time + rest,
      };
    }
    case 'gcp': {
      const id = hex(rng, 32);
      return { headers: { 'x-cloud-trace-context': `${id}/${decimal(rng)};o=${sampled}` }, traceId: id };
    }
    default:
      return {
        headers: {
          'x-instana-t': traceId,
          'x-instana-s': spanId,
          'x-instana-l': pick(rng, ['0', '1', `1,correlationType=web;correlationId=${hex(rng, 8)}`]),
        },
        traceId: padded,
      };
  }
}

export const FORMATS = ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'] as const;

/** How many header sets of each format were sent, valid and malformed. */
export type FormatCounts = Record<string, { valid: number; malformed: number }>;

export interface TraceHeaders {
  headers: Record<string, string>;
  /** The trace the gateway must continue (one valid set of a format whose id maps plainly), else undefined. */
  traceId: string | undefined;
}

/**
 * The trace headers of one request: none, one format or several at once, each set valid
 * or with some values malformed; sometimes a `Zipkin-Tags` header, valid or not.
 */
export function randomTraceHeaders(rng: Rng, counts?: FormatCounts): TraceHeaders {
  const out: Record<string, string> = {};
  let expected: string | undefined;
  const sets = int(rng, 8) === 0 ? 0 : int(rng, 4) === 0 ? 2 + int(rng, 3) : 1;
  for (let i = 0; i < sets; i++) {
    const format = pick(rng, FORMATS);
    const { headers: h, traceId } = validHeaders(rng, format);
    let broken = false;
    if (int(rng, 2) === 0) {
      for (const key of Object.keys(h)) {
        if (int(rng, 2) === 0) {
          out[key] = malform(rng, h[key]);
          broken = true;
        } else {
          out[key] = h[key];
        }
      }
    } else {
      Object.assign(out, h);
    }
    if (counts !== undefined) {
      const c = (counts[format] ??= { valid: 0, malformed: 0 });
      if (broken) c.malformed++;
      else c.valid++;
    }
    if (sets === 1 && !broken) expected = traceId;
  }
  if (int(rng, 5) === 0)
    out['zipkin-tags'] = int(rng, 2) === 0 ? `team=core;tier=${int(rng, 3)}` : printable(rng, 1 + int(rng, 40));
  return { headers: out, traceId: expected };
}

/** A plugin config exercising every extractor and injector. */
export const LOAD_CONFIG: ZipkinConfigInput = {
  sample_ratio: 0.5,
  http_response_header_for_traceid: 'x-trace-id',
  static_tags: [{ name: 'env', value: 'load' }],
  propagation: {
    extract: ['w3c', 'b3', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'],
    inject: ['preserve', 'w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'],
    default_format: 'b3',
  },
};

// ------------------------------------------------------------------ upstream and client

export interface CheckingUpstream extends Listening {
  /** Requests whose injected `traceparent` was missing or malformed. */
  badTraceparent(): number;
  received(): number;
}

// Sampled bit and the random flag (docs/design.md difference 8); every other bit zero.
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/;

/** Answers `ok`, echoing the `traceparent` it received; counts missing or malformed ones. */
export async function startCheckingUpstream(): Promise<CheckingUpstream> {
  let bad = 0;
  let received = 0;
  const l = await listen(
    http.createServer((req, res) => {
      received++;
      const tp = req.headers.traceparent;
      if (typeof tp !== 'string' || !TRACEPARENT.test(tp)) bad++;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'text/plain',
          'content-length': '2',
          'x-seen-traceparent': typeof tp === 'string' ? tp : '',
        });
        res.end('ok');
      });
    }),
  );
  return { ...l, badTraceparent: () => bad, received: () => received };
}

export interface LoadResult {
  /** status → count */
  statuses: Map<number, number>;
  /** Responses whose `x-trace-id` was missing, malformed, or not the trace the upstream was sent. */
  badTraceIds: number;
  /** Requests with one valid incoming trace whose id the response carried (continued). */
  continued: number;
  /** Requests with one valid incoming trace whose id the response did not carry. */
  notContinued: number;
  /** Request errors (socket failures). */
  errors: number;
  formats: FormatCounts;
}

const TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;

/**
 * Sends `total` GET requests to `port` over `concurrency` keep-alive connections, each
 * with `randomTraceHeaders(rng)`, and checks each answer's trace id against the
 * `traceparent` the upstream got. Without `agent` (at most `concurrency` sockets), uses
 * its own, destroyed at the end (the client connections close).
 */
export async function runLoad(
  port: number,
  total: number,
  concurrency: number,
  rng: Rng,
  agent?: http.Agent,
): Promise<LoadResult> {
  const own = agent === undefined;
  const client = agent ?? new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const path = '/api/load';
  const result: LoadResult = {
    statuses: new Map(),
    badTraceIds: 0,
    continued: 0,
    notContinued: 0,
    errors: 0,
    formats: {},
  };
  let started = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const sent = randomTraceHeaders(rng, result.formats);
      const req = http.get({ host: '127.0.0.1', port, path, agent: client, headers: sent.headers }, (res) => {
        const status = res.statusCode ?? 0;
        result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
        const traceId = res.headers['x-trace-id'];
        const seen = res.headers['x-seen-traceparent'];
        if (
          typeof traceId !== 'string' ||
          !TRACE_ID.test(traceId) ||
          typeof seen !== 'string' ||
          seen.slice(3, 35) !== traceId.padStart(32, '0')
        ) {
          result.badTraceIds++;
        } else if (sent.traceId !== undefined) {
          // Concurrent requests must not see each other's trace.
          if (traceId.padStart(32, '0') === sent.traceId) result.continued++;
          else result.notContinued++;
        }
        res.resume();
        res.on('end', resolve);
        res.on('error', () => {
          result.errors++;
          resolve();
        });
      });
      req.on('error', () => {
        result.errors++;
        resolve();
      });
    });
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (own) client.destroy();
  return result;
}

// ------------------------------------------------------------------ accounting

/** `process.getActiveResourcesInfo()` as type → count. */
export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) out[type] = (out[type] ?? 0) + 1;
  return out;
}

/** Every event's listener count on `emitter`, as `event=count` sorted. */
export function listenerCounts(emitter: NodeJS.EventEmitter | undefined): string {
  if (emitter === undefined) return 'none';
  return emitter
    .eventNames()
    .map((e) => `${String(e)}=${emitter.listenerCount(e)}`)
    .sort()
    .join(',');
}

/** The listener counts of the process and of a server (and what `extra` adds). */
export function listenerSnapshot(server: http.Server, agent: http.Agent): Record<string, string> {
  const upstreamSockets: Socket[] = [];
  for (const list of Object.values(agent.freeSockets)) if (list !== undefined) upstreamSockets.push(...list);
  return {
    process: listenerCounts(realProcess()),
    server: listenerCounts(server),
    agent: listenerCounts(agent),
    // Every idle upstream connection alike, whatever number of requests it carried.
    upstreamSockets: [...new Set(upstreamSockets.map((s) => listenerCounts(s)))].join(' | '),
  };
}

/** node's `gc()`, made available without starting node with `--expose-gc`. */
export function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Heap used after full collections (a few rounds, letting weak references clear in between). */
export async function settledHeap(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

/**
 * Holds every `every`-th request's trace (and the request) weakly, from the server's
 * `request` event; `alive()` counts the ones still reachable.
 */
export class TraceSampler {
  private readonly refs: WeakRef<object>[] = [];
  private n = 0;

  constructor(
    server: http.Server,
    plugin: ZipkinPlugin,
    private readonly every: number,
  ) {
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (this.n++ % this.every !== 0) return;
      this.refs.push(new WeakRef(req));
      // The trace exists once the request was handled; take it when the response is done.
      res.once('close', () => {
        const trace = plugin.getTrace(req);
        if (trace !== undefined) this.refs.push(new WeakRef(trace));
      });
    });
  }

  /** Weak references taken (requests and traces). */
  get taken(): number {
    return this.refs.length;
  }

  alive(): number {
    return this.refs.filter((r) => r.deref() !== undefined).length;
  }
}
