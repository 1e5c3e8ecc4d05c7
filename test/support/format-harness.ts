/**
 * Shared scaffolding of the per-format propagation tests: run one extractor with a recording
 * logger, run one injector into a recording header writer, and the engine's own
 * normalisation (what happens to an extracted context next, §4.2 step 3).
 */
import type { Logger } from '../../src/logger';
import type {
  FormatExtractor,
  FormatInjector,
  HeaderWriter,
  InjectContext,
  RequestHeaders,
  TraceContext,
} from '../../src/propagation/context';

export { normalise } from '../../src/propagation/engine';

/** Every log line as `<level> <message>`. */
export function lineLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { log, lines };
}

/** Extract with `extractor`; the context and every log line. */
export function extractLines(
  extractor: FormatExtractor,
  headers: RequestHeaders,
): { ctx: TraceContext | undefined; lines: string[] } {
  const { log, lines } = lineLogger();
  return { ctx: extractor.extract(headers, log), lines };
}

/** Extract with `extractor`, asserting it logs nothing but warnings; the context and the warnings. */
export function extractWarnings(
  extractor: FormatExtractor,
  headers: RequestHeaders,
): { ctx: TraceContext | undefined; warnings: string[] } {
  const { ctx, lines } = extractLines(extractor, headers);
  expect(lines.filter((l) => !l.startsWith('warn '))).toEqual([]);
  return { ctx, warnings: lines.map((l) => l.slice(5)) };
}

/** Records headers in order; `initial` stands for headers the upstream request already had. */
export class RecordingWriter implements HeaderWriter {
  readonly headers = new Map<string, string>();
  constructor(initial: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(initial)) this.headers.set(k, v);
  }
  set(name: string, value: string): void {
    this.headers.set(name, value);
  }
  remove(name: string): void {
    this.headers.delete(name);
  }
  toObject(): Record<string, string> {
    return Object.fromEntries(this.headers);
  }
}

/** Inject with `injector`; the headers written (over `initial`) and the log trace id. */
export function injectWith(
  injector: FormatInjector,
  ctx: InjectContext,
  initial?: Record<string, string>,
): { headers: Record<string, string>; logId: string } {
  const w = new RecordingWriter(initial);
  const logId = injector.inject(ctx, w);
  return { headers: w.toObject(), logId };
}
