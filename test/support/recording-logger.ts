import type { Logger } from '../../src/logger';

export interface RecordingLogger extends Logger {
  readonly lines: string[];
  readonly warnings: string[];
  readonly errors: string[];
  clear(): void;
}

/** A logger that keeps every line as `<level> <message>`, for exact assertions. */
export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    warnings,
    errors,
    debug: (m) => void lines.push(`debug ${m}`),
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => {
      lines.push(`warn ${m}`);
      warnings.push(m);
    },
    error: (m) => {
      lines.push(`error ${m}`);
      errors.push(m);
    },
    clear: () => {
      lines.length = 0;
      warnings.length = 0;
      errors.length = 0;
    },
  };
}

/** A HeaderWriter over a plain object, like the upstream request's headers. */
export function headerBag(initial: Record<string, string> = {}): {
  headers: Record<string, string>;
  set(name: string, value: string): void;
  remove(name: string): void;
} {
  const headers: Record<string, string> = { ...initial };
  return {
    headers,
    set: (name, value) => void (headers[name] = value),
    remove: (name) => void delete headers[name],
  };
}
