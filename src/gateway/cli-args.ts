/**
 * Command-line parsing for `gateway-zipkin` (the contract in DESIGN.md, "Command line"):
 *
 *     gateway-zipkin --config FILE [--listen HOST:PORT] [--stream-listen HOST:PORT]...
 *     gateway-zipkin receive [--listen HOST:PORT] [--json] [--tags]
 *     gateway-zipkin --help
 *
 * Options take their value as the next argument or after `=` (`--listen=127.0.0.1:0`).
 */
import { isHostOrIp, splitHostPort } from './addresses';
import type { ListenAddress } from './gateway';

/** Kong's proxy port. */
export const DEFAULT_PROXY_LISTEN: ListenAddress = Object.freeze({ host: '127.0.0.1', port: 8000 });
/** Zipkin's port. */
export const DEFAULT_RECEIVER_LISTEN: ListenAddress = Object.freeze({ host: '127.0.0.1', port: 9411 });

export const USAGE = `Usage:
  gateway-zipkin --config FILE [--listen HOST:PORT] [--stream-listen HOST:PORT]...
  gateway-zipkin receive [--listen HOST:PORT] [--json] [--tags]
  gateway-zipkin --help

Run a reference gateway from a Kong declarative config (decK _format_version "3.0"),
traced by its zipkin plugins, or a local Zipkin v2 receiver for development.

Gateway:
  --config FILE             decK file (YAML or JSON) with services, routes, upstreams
                            and zipkin plugins
  --listen HOST:PORT        HTTP proxy address (default 127.0.0.1:8000; port 0 = any free port)
  --stream-listen HOST:PORT TCP proxy address for tcp routes (repeatable)

  Prints "proxy listening on http://HOST:PORT" (and "stream listening on tcp://HOST:PORT"
  per stream address) on stdout once ready; logs go to stderr. SIGTERM or SIGINT stops
  accepting, finishes requests in flight, delivers the queued spans and exits 0.

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

const FLAGS = new Set(['--json', '--tags', '--help', '-h']);

/** Splits `--name=value` and `--name value`; flags take no value. */
function* options(args: readonly string[]): Generator<{ name: string; value: string | undefined }> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    if (eq !== -1) {
      yield { name: arg.slice(0, eq), value: arg.slice(eq + 1) };
    } else if (FLAGS.has(arg)) {
      yield { name: arg, value: undefined };
    } else {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      i++;
      yield { name: arg, value };
    }
  }
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
  return value;
}

function noValue(name: string, value: string | undefined): void {
  if (value !== undefined) throw new UsageError(`${name} takes no value`);
}

export function parseCliArgs(args: readonly string[]): CliCommand {
  if (args.includes('--help') || args.includes('-h')) return { kind: 'help' };
  if (args[0] === 'receive') {
    let listen = DEFAULT_RECEIVER_LISTEN;
    let json = false;
    let tags = false;
    for (const { name, value } of options(args.slice(1))) {
      if (name === '--listen') {
        listen = parseListenAddress(name, required(name, value));
      } else if (name === '--json') {
        noValue(name, value);
        json = true;
      } else if (name === '--tags') {
        noValue(name, value);
        tags = true;
      } else {
        throw new UsageError(`unknown option '${name}' for receive`);
      }
    }
    return { kind: 'receive', listen, json, tags };
  }
  let config: string | undefined;
  let listen = DEFAULT_PROXY_LISTEN;
  const streamListen: ListenAddress[] = [];
  for (const { name, value } of options(args)) {
    if (name === '--config') config = required(name, value);
    else if (name === '--listen') listen = parseListenAddress(name, required(name, value));
    else if (name === '--stream-listen') streamListen.push(parseListenAddress(name, required(name, value)));
    else throw new UsageError(`unknown option '${name}'`);
  }
  if (config === undefined) throw new UsageError('--config FILE is required');
  return { kind: 'gateway', config, listen, streamListen };
}
