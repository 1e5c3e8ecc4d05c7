/**
 * Configuration errors, one per wrong field, each named by its path and Kong's text.
 *
 * Paths: record fields are joined with `.` (`config.queue.max_batch_size`); array elements
 * are `[i]` with a **0-based** index (`config.propagation.extract[2]` is the third element,
 * `config.static_tags[0].name`). Kong itself returns nested error tables keyed by 1-based
 * Lua indexes (flattened by its declarative loader as `config.propagation.extract.3`); the
 * bracket form is what a JS or YAML user counts, so it is used here.
 */

/** One wrong field: where and what, in Kong's words. */
export interface ConfigIssue {
  readonly path: string;
  readonly reason: string;
}

/**
 * Thrown by `validateConfig` and by the decK loader. `path` / `reason` are the first issue;
 * `errors` lists all of them; `message` has one `<path>: <reason>` line per issue (the
 * reason alone for an issue of the whole input, whose path is empty).
 */
export class ConfigError extends Error {
  readonly path: string;
  readonly reason: string;
  readonly errors: readonly ConfigIssue[];

  constructor(errors: readonly ConfigIssue[]) {
    if (errors.length === 0) throw new TypeError('ConfigError needs at least one issue');
    const safe = errors.map((e) => Object.freeze({ path: escapeControls(e.path), reason: escapeControls(e.reason) }));
    super(safe.map((e) => (e.path === '' ? e.reason : `${e.path}: ${e.reason}`)).join('\n'));
    this.name = 'ConfigError';
    this.path = safe[0].path;
    this.reason = safe[0].reason;
    this.errors = Object.freeze(safe);
  }
}

// C0 controls and DEL. Kong echoes them raw; here a CR or LF in a key or a header name of
// the input could forge extra lines in a log, so they are written as escapes instead.
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const CONTROLS_RE = /[\x00-\x1f\x7f]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters as JSON-style escapes (a CR becomes the two characters `\r`). */
export function escapeControls(text: string): string {
  if (!CONTROL_RE.test(text)) return text;
  return text.replace(CONTROLS_RE, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
