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
