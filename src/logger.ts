/**
 * The logger the plugin writes Kong's log lines to. Kong's texts are passed verbatim as
 * `message`; the level is Kong's (`kong.log.warn` → `warn`).
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const noop = (): void => undefined;

/** A logger that drops everything (tests and callers that want silence). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * The default: warnings and errors to stderr, one line each with the level word first,
 * as the command line prints them. Debug and info are dropped so the hot path stays quiet.
 */
export const stderrLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (message) => process.stderr.write(`warn ${message}\n`),
  error: (message) => process.stderr.write(`error ${message}\n`),
};

/**
 * Logs a failure inside tracing as `zipkin tracing failed: <message>`. The traffic being
 * traced never sees it: not the error, and not a logger that throws in turn.
 */
export function reportTracingFailure(logger: Logger, err: unknown): void {
  try {
    logger.error(`zipkin tracing failed: ${err instanceof Error ? err.message : String(err)}`);
  } catch {
    // a throwing logger must not reach the request either
  }
}
