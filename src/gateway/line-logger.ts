/**
 * The command line's log lines (docs/design.md, "Command line"): Kong's level word, a space,
 * the message verbatim, one line per message on stderr.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../logger';

/**
 * Kong's levels as words on `out`, one line per message (a multi-line message keeps its
 * level on each line). `prefix` goes between the level and the message on every line (a
 * cluster worker's `[worker 2] `), so the message text itself stays Kong's.
 */
export function lineLogger(out: Writable, debug = false, prefix = ''): Logger {
  const write = (level: string, message: string): void => {
    const head = `${level} ${prefix}`;
    out.write(`${head}${message.includes('\n') ? message.split('\n').join(`\n${head}`) : message}\n`);
  };
  return {
    debug: debug ? (m) => write('debug', m) : () => undefined,
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
