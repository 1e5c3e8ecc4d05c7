/**
 * Errors of the declarative loader. Paths use the same spelling as `ConfigError`: record
 * fields joined with `.`, array elements as 0-based `[i]` (`services[0].routes[1].hosts[0]`).
 */

/** One wrong entry: where and what. */
export interface DeclarativeIssue {
  readonly path: string;
  readonly reason: string;
}

/**
 * Thrown by the loader with every issue found. `path` / `reason` are the first one;
 * `message` has one `<path>: <reason>` line per issue.
 */
export class DeclarativeConfigError extends Error {
  readonly path: string;
  readonly reason: string;
  readonly errors: readonly DeclarativeIssue[];

  constructor(errors: readonly DeclarativeIssue[]) {
    if (errors.length === 0) throw new TypeError('DeclarativeConfigError needs at least one issue');
    super(errors.map((e) => (e.path === '' ? e.reason : `${e.path}: ${e.reason}`)).join('\n'));
    this.name = 'DeclarativeConfigError';
    this.path = errors[0].path;
    this.reason = errors[0].reason;
    this.errors = Object.freeze(errors.map((e) => Object.freeze({ path: e.path, reason: e.reason })));
  }
}
