#!/usr/bin/env node
/**
 * `gateway-zipkin`: the command line (contract: docs/design.md, "Command line"; options:
 * `./cli-args`).
 *
 * - `--config FILE`: loads the decK file (a bad one exits 1 before listening, one
 *   `error <path>: <reason>` line per issue on stderr), starts the gateway, prints one
 *   `proxy listening on http://HOST:PORT` / `stream listening on tcp://HOST:PORT` /
 *   `status listening on http://HOST:PORT` (`--status-listen`, see `./status`) line per
 *   listener on stdout once all are bound, and runs until SIGTERM or SIGINT: then it stops
 *   accepting, lets requests in flight finish, drains the zipkin queues and exits 0. A
 *   second signal cuts the connections still open and exits 1 at once, without waiting
 *   for the queues (which keep retrying a failing collector for up to `max_retry_time`).
 *   With `--workers N` (N > 1), the same from N `node:cluster` workers (`./workers`).
 * - `receive`: the development Zipkin receiver, `receiver listening on http://HOST:PORT/api/v2/spans`,
 *   then waterfalls (or JSON lines) on stdout until SIGTERM / SIGINT.
 *
 * Log lines go to stderr, one per line: the level word, a space, Kong's message verbatim
 * (`warn [zipkin plugin …] queue …: handler could not process entries: zipkin request failed: connection refused`).
 * Usage errors exit 2, configuration and listen errors 1.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../logger';
import { lineLogger } from './line-logger';
import { Signals } from './signals';
import { formatHost } from './addresses';
import { parseCliArgs, USAGE, UsageError, type CliCommand } from './cli-args';
import { ConfigError } from '../config/errors';
import { loadDeclarativeConfigFile } from './declarative';
import { ListenError, startGateway, type RunningGateway } from './gateway';
import type { DeclarativeConfig } from './model';
import { startReceiver } from '../receiver/receiver';
import { runWorkers } from './workers';

export { lineLogger } from './line-logger';

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function summary(config: DeclarativeConfig): string {
  const enabled = config.plugins.filter((p) => p.enabled).length;
  return (
    `${plural(config.services.length, 'service')}, ${plural(config.routes.length, 'route')}, ` +
    `${plural(config.upstreams.length, 'upstream')}, ${plural(enabled, 'zipkin plugin')}`
  );
}

async function runGateway(
  command: Extract<CliCommand, { kind: 'gateway' }>,
  io: CliIo,
  logger: Logger,
): Promise<number> {
  let config: DeclarativeConfig;
  try {
    config = await loadDeclarativeConfigFile(command.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.errors) logger.error(issue.path === '' ? issue.reason : `${issue.path}: ${issue.reason}`);
    return 1;
  }
  logger.info(`loaded ${command.config}: ${summary(config)}`);

  const signals = new Signals();
  try {
    if (command.workers !== undefined && command.workers > 1) {
      return await runWorkers({
        count: command.workers,
        config,
        listen: command.listen,
        streamListen: command.streamListen,
        statusListen: command.statusListen,
        drainTimeoutMs: command.drainTimeoutMs,
        logger,
        stdout: io.stdout,
        signals,
      });
    }
    let gateway: RunningGateway;
    try {
      gateway = await startGateway({
        config,
        listen: command.listen,
        streamListen: command.streamListen,
        statusListen: command.statusListen,
        logger,
      });
    } catch (err) {
      if (!(err instanceof ListenError)) throw err;
      logger.error(err.message);
      return 1;
    }
    signals.again = () => {
      // Asked twice: do not wait for connections or for a queue retrying against a dead collector.
      logger.warn('second signal: exiting now, spans still queued are lost');
      gateway.forceClose();
      process.exit(1);
    };
    for (const l of gateway.listeners) io.stdout.write(`${l.kind} listening on ${l.url}\n`);
    const signal = await signals.next();
    logger.info(`${signal} received: finishing requests in flight and delivering queued spans`);
    await gateway.shutdown(undefined, command.drainTimeoutMs);
    logger.info('gateway stopped');
    return 0;
  } finally {
    signals.dispose();
  }
}

async function runReceiver(
  command: Extract<CliCommand, { kind: 'receive' }>,
  io: CliIo,
  logger: Logger,
): Promise<number> {
  const signals = new Signals();
  try {
    let receiver;
    try {
      receiver = await startReceiver({
        host: command.listen.host,
        port: command.listen.port,
        json: command.json,
        showTags: command.tags,
        out: io.stdout,
        errOut: io.stderr,
      });
    } catch (err) {
      logger.error(
        `could not listen on ${formatHost(command.listen.host)}:${command.listen.port}: ${(err as Error).message}`,
      );
      return 1;
    }
    io.stdout.write(`receiver listening on ${receiver.url}\n`);
    await signals.next();
    await receiver.close();
    return 0;
  } finally {
    signals.dispose();
  }
}

/** Runs the command line; resolves with the exit code. */
export async function runCli(args: readonly string[], io: CliIo = process): Promise<number> {
  const logger = lineLogger(io.stderr);
  let command: CliCommand;
  try {
    command = parseCliArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    logger.error(`${err.message} (see gateway-zipkin --help)`);
    return 2;
  }
  switch (command.kind) {
    case 'help':
      io.stdout.write(USAGE);
      return 0;
    case 'receive':
      return runReceiver(command, io, logger);
    case 'gateway':
      return runGateway(command, io, logger);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Everything is closed by now; if a stray handle still holds the loop, do not hang.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`error ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
