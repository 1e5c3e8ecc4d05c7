/**
 * AWS X-Ray `x-amzn-trace-id` (§4.3 aws, §4.5), e.g.
 * `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
 */
import type { Logger } from '../logger';
import type {
  FormatExtractor,
  FormatInjector,
  HeaderWriter,
  InjectContext,
  RequestHeaders,
  TraceContext,
} from './context';
import { firstHeader } from './context';

// Kong checks length 35, the pattern `^(%x+)%-(%x+)%-(%x+)$`, version `1` and part lengths
// 8 and 24: together exactly this. Either hex case.
const ROOT_RE = /^1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})$/;
const PARENT_RE = /^[0-9a-fA-F]{16}$/;

/** Kong's `strip`: trims space and \t \n \v \f \r only (not JS's Unicode whitespace). */
function strip(s: string, start: number, end: number): string {
  while (start < end && isSpace(s.charCodeAt(start))) start++;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

const ROOT = 'Root';
const PARENT = 'Parent';
const SAMPLED = 'Sampled';
type Key = typeof ROOT | typeof PARENT | typeof SAMPLED;

/** The known key `s[start, end)` names once trimmed, without copying it; undefined for any other. */
function keyOf(s: string, start: number, end: number): Key | undefined {
  while (start < end && isSpace(s.charCodeAt(start))) start++;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  const len = end - start;
  if (len === 4 && s.startsWith(ROOT, start)) return ROOT;
  if (len === 6 && s.startsWith(PARENT, start)) return PARENT;
  if (len === 7 && s.startsWith(SAMPLED, start)) return SAMPLED;
  return undefined;
}

export const awsExtractor: FormatExtractor = {
  triggers: ['x-amzn-trace-id'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    // Kong requires a string; a repeated header counts as its first value here.
    const header = firstHeader(headers['x-amzn-trace-id']);
    if (header === undefined) return undefined;

    let traceId: string | undefined;
    let spanId: string | undefined;
    let shouldSample: boolean | undefined;
    const n = header.length;
    let pos = 0;
    // The next `=` at or after `pos`, kept across items: searching it afresh per item would
    // rescan the rest of the header each time (quadratic on `;;;…` without any `=`).
    let nextEq = -2;
    // Walk the `;`-separated items in place, comparing keys where they stand: no substring
    // per item, so a value of thousands of `;` or `=` costs no allocation.
    while (pos <= n) {
      let end = header.indexOf(';', pos);
      if (end === -1) end = n;
      // Kong splits an item on every `=` and takes fields 1 and 2, so the value stops at a
      // second `=` (`Sampled=1=x` reads `1`). No `=` at all gives an empty value.
      let keyEnd = end;
      let valueStart = end;
      let valueEnd = end;
      if (nextEq !== -1 && nextEq < pos) nextEq = header.indexOf('=', pos);
      if (nextEq !== -1 && nextEq < end) {
        keyEnd = nextEq;
        valueStart = nextEq + 1;
        nextEq = header.indexOf('=', valueStart);
        if (nextEq !== -1 && nextEq < end) valueEnd = nextEq;
      }
      const key = keyOf(header, pos, keyEnd);
      pos = end + 1;
      if (key === undefined) continue;

      // Keys are case-sensitive, unknown ones ignored, order irrelevant, a repeat overrides.
      const value = strip(header, valueStart, valueEnd);
      if (key === ROOT) {
        const m = ROOT_RE.exec(value);
        if (m === null) {
          log.warn('invalid aws header trace id; ignoring.');
          return undefined;
        }
        traceId = (m[1] + m[2]).toLowerCase();
      } else if (key === PARENT) {
        // Kong checks only the length; requiring hex too is deliberate difference 6.
        if (!PARENT_RE.test(value)) {
          log.warn('invalid aws header parent id; ignoring.');
          return undefined;
        }
        // X-Ray's "Parent" is the caller's span, which Kong calls span_id.
        spanId = value.toLowerCase();
      } else {
        if (value !== '0' && value !== '1') {
          log.warn('invalid aws header sampled flag; ignoring.');
          return undefined;
        }
        shouldSample = value === '1';
      }
    }

    // Without `Root` the context still carries the parent and the flag (§4.2 quirk).
    if (traceId === undefined && spanId === undefined && shouldSample === undefined) return undefined;
    return { traceId, spanId, shouldSample };
  },
};

export const awsInjector: FormatInjector = {
  sizes: [16],
  requires: ['traceId', 'spanId'],
  logKey: 'aws',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    const traceId = ctx.traceId ?? '';
    // The engine checks `requires`; the guard only keeps a direct caller from writing junk.
    if (ctx.traceId === undefined || ctx.spanId === undefined) return traceId;
    headers.set(
      'x-amzn-trace-id',
      `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${ctx.spanId};Sampled=${ctx.shouldSample === true ? '1' : '0'}`,
    );
    return traceId;
  },
};
