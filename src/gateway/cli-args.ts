/**
 * Command-line parsing for `gateway-zipkin` (the contract in docs/design.md, "Command line"):
 *
 *     gateway-zipkin --config FILE [--listen HOST:PORT] [--stream-listen HOST:PORT]... [--status-listen HOST:PORT]
 *                    [--drain-timeout SECONDS] [--workers N|auto]
 *     gateway-zipkin receive [--listen HOST:PORT] [--json] [--tags]
 *     gateway-zipkin --help
 *
 * Options take their value as the next argument or after `=` (`--listen=127.0.0.1:0`);
 * `node:util` parseArgs reads them, its errors reworded as short usage messages.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isHostOrIp, splitHostPort } from './addresses';
import type { ListenAddress } from './gateway';

/** Kong's proxy port. */
export const DEFAULT_PROXY_LISTEN: ListenAddress = Object.freeze({ host: '127.0.0.1', port: 8000 });
/** Within Kubernetes' default 30 s termination grace period, with room to exit. */
export const DEFAULT_DRAIN_TIMEOUT_S = 25;

/** Zipkin's port. */
export const DEFAULT_RECEIVER_LISTEN: ListenAddress = Object.freeze({ host: '127.0.0.1', port: 9411 });

export const USAGE = `Usage:
  gateway-zipkin --config FILE [--listen HOST:PORT] [--stream-listen HOST:PORT]...
                 [--status-listen HOST:PORT] [--drain-timeout SECONDS] [--workers N|auto]
  gateway-zipkin receive [--listen HOST:PORT] [--json] [--tags]
  gateway-zipkin --help

Run a reference gateway from a Kong declarative config (decK _format_version "3.0"),
traced by its zipkin plugins, or a local Zipkin v2 receiver for development.

Gateway:
  --config FILE             decK file (YAML or JSON) with services, routes, upstreams
                            and zipkin plugins
  --listen HOST:PORT        HTTP proxy address (default 127.0.0.1:8000; port 0 = any free port)
  --stream-listen HOST:PORT TCP proxy address for tcp routes (repeatable)
  --drain-timeout SECONDS   the whole graceful shutdown ends within this (default 25, inside
                            Kubernetes' 30 s grace period); spans not delivered by then are
                            counted and logged as lost
  --status-listen HOST:PORT status listener (Kong's status_listen; off by default): a
                            separate, untraced server answering GET /status (below)
  --workers N|auto          worker processes sharing the listeners (node:cluster; default 1:
                            one process, no cluster; auto: one per core). Each worker has its
                            own zipkin queues and its own kong.node.id; a worker that dies is
                            logged and replaced (more than 5 deaths within 60 s: the gateway
                            stops and exits 1)

  Prints "proxy listening on http://HOST:PORT" (and "stream listening on tcp://HOST:PORT"
  per stream address, "status listening on http://HOST:PORT" for the status listener) on
  stdout once ready; logs go to stderr. SIGTERM or SIGINT stops accepting (the status
  listener too), finishes requests in flight (at most 10 s), delivers the queued spans and
  exits 0, all within --drain-timeout.

  GET /status answers 200 with JSON (other paths 404 {"message":"Not found"}, other
  methods 405 {"message":"Method not allowed"}):
    {"process": {"pid", "uptime_seconds", "node_version", "version"},
     "server": {"connections_accepted", "connections_active", "total_requests"},
     "stream": {"connections_accepted", "connections_active"},
     "plugins": [{"id", "name", "instance_name", "scope", "service", "route",
                  "queue": {"queued", "sent", "dropped": {"queue_full", "max_bytes",
                            "too_large", "retry_exhausted", "shutdown"}, "retried",
                            "batches", "size": {"entries", "bytes"}, "inFlight"}}]}
  "server" counts the HTTP proxy listener, "stream" the stream listeners; "queue" holds
  the plugin's queue counters (totals since start, except "size" and "inFlight").
  With --workers N > 1 the primary process answers: "process" is the primary, "server",
  "stream" and each "queue" are the sums over the workers, and "workers" lists each one:
    [{"id", "pid", "node_id", "ready", "restarts", "uptime_seconds", "server", "stream",
      "plugins": [{"id", "queue"}]}]
  (the counters null for a worker starting or not answering within 1 s).

receive:
  --listen HOST:PORT        receiver address (default 127.0.0.1:9411); spans are accepted
                            on POST /api/v2/spans (JSON or proto3, optionally gzipped)
  --json                    print each span as a JSON line instead of waterfalls
  --tags                    list each span's tags under its waterfall row
`;

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type CliCommand =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'gateway';
      readonly config: string;
      readonly listen: ListenAddress;
      readonly streamListen: readonly ListenAddress[];
      /** The whole graceful shutdown's deadline, ms. */
      readonly drainTimeoutMs: number;
      /** null: no status listener. */
      readonly statusListen: ListenAddress | null;
      /** Worker processes (`--workers`, `auto` resolved); absent without the option, which is 1: one process, no cluster. */
      readonly workers?: number;
    }
  | { readonly kind: 'receive'; readonly listen: ListenAddress; readonly json: boolean; readonly tags: boolean };

/** `HOST:PORT` (`[v6]:PORT` for IPv6) → address; throws `UsageError`. */
export function parseListenAddress(option: string, text: string): ListenAddress {
  const split = splitHostPort(text);
  if (typeof split === 'string' || split.port === null || split.host === '' || !isHostOrIp(split.host)) {
    throw new UsageError(`${option}: expected HOST:PORT (e.g. 127.0.0.1:8000, [::1]:0), got '${text}'`);
  }
  return { host: split.host, port: split.port };
}

/** `node:util` parseArgs's failures as this command line's short messages. */
function usageErrorOf(err: unknown, command: string): UsageError {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const option = /'(-[^' ,<]*)/.exec(message)?.[1] ?? /--[a-z-]+/.exec(message)?.[0] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option '${option}'${command}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument '${/'([^']*)'/.exec(message)?.[1] ?? ''}'`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(
        message.includes('does not take an argument') ? `${option} takes no value` : `${option} needs a value`,
      );
    default:
      return new UsageError(message);
  }
}

/** Runs a parseArgs call, turning its failures into `UsageError`s. */
function parsing<R>(run: () => R, command: string): R {
  try {
    return run();
  } catch (err) {
    throw usageErrorOf(err, command);
  }
}

const RECEIVE_OPTIONS = { listen: { type: 'string' }, json: { type: 'boolean' }, tags: { type: 'boolean' } } as const;
const GATEWAY_OPTIONS = {
  config: { type: 'string' },
  listen: { type: 'string' },
  'stream-listen': { type: 'string', multiple: true },
  'drain-timeout': { type: 'string' },
  'status-listen': { type: 'string' },
  workers: { type: 'string' },
} as const;

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
  return value;
}

/** `--workers`: a whole number from 1, or `auto` (one per core, `os.availableParallelism()`). */
export function parseWorkers(text: string): number {
  if (text === 'auto') return availableParallelism();
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--workers: expected a number of processes (1 or more) or 'auto', got '${text}'`);
  }
  return Number(text);
}

export function parseCliArgs(argv: readonly string[]): CliCommand {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h')) return { kind: 'help' };
  if (args[0] === 'receive') {
    const { values } = parsing(
      () => parseArgs({ args: args.slice(1), options: RECEIVE_OPTIONS, strict: true }),
      ' for receive',
    );
    return {
      kind: 'receive',
      listen:
        values.listen === undefined
          ? DEFAULT_RECEIVER_LISTEN
          : parseListenAddress('--listen', required('--listen', values.listen)),
      json: values.json === true,
      tags: values.tags === true,
    };
  }
  const { values } = parsing(() => parseArgs({ args, options: GATEWAY_OPTIONS, strict: true }), '');
  if (values.config === undefined) throw new UsageError('--config FILE is required');
  const drain = values['drain-timeout'];
  const drainSeconds = drain === undefined ? DEFAULT_DRAIN_TIMEOUT_S : Number(required('--drain-timeout', drain));
  if (!Number.isFinite(drainSeconds) || drainSeconds < 0) {
    throw new UsageError(`--drain-timeout: expected seconds (e.g. 25), got '${drain}'`);
  }
  return {
    kind: 'gateway',
    config: required('--config', values.config),
    drainTimeoutMs: Math.round(drainSeconds * 1000),
    listen:
      values.listen === undefined
        ? DEFAULT_PROXY_LISTEN
        : parseListenAddress('--listen', required('--listen', values.listen)),
    streamListen: (values['stream-listen'] ?? []).map((text) =>
      parseListenAddress('--stream-listen', required('--stream-listen', text)),
    ),
    statusListen:
      values['status-listen'] === undefined
        ? null
        : parseListenAddress('--status-listen', required('--status-listen', values['status-listen'])),
    ...(values.workers === undefined ? {} : { workers: parseWorkers(required('--workers', values.workers)) }),
  };
}
