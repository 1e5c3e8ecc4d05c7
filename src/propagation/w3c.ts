/**
 * W3C Trace Context `traceparent` and `tracestate` (§4.3 w3c, §4.5), with the deliberate
 * differences of docs/design.md difference 8 (W3C Trace Context Level 2). Kong's warning
 * texts are kept; where Kong and W3C disagree, W3C wins:
 *  - hex must be lowercase (Kong accepts either case and lowercases); OWS (spaces, tabs)
 *    around the value is allowed (Kong refuses it, nginx strips it first);
 *  - a future version (`01`..`fe`) is parsed by its version-00 fields (the first 55
 *    characters, which must be the whole value or be followed by `-`); Kong refuses any
 *    version but `00`. `ff` stays invalid;
 *  - the random trace-id flag (`0x02`) is kept with the trace id (Kong keeps only the sampled
 *    bit); undefined flag bits are zeroed as W3C requires, and `00` is always the version sent;
 *  - `tracestate` is read with `traceparent` and validated (tracestate.ts): it goes upstream
 *    only next to a `traceparent` continuing the incoming one. Kong's w3c ignores it (in Kong
 *    it is a b3 trigger) and forwards it untouched. The b3 extractor still reads its `b3=`
 *    member (difference 1).
 */
import type { Logger } from '../logger';
import type {
  FormatExtractor,
  FormatInjector,
  InjectContext,
  HeaderWriter,
  RequestHeaders,
  TraceContext,
} from './context';
import { isZeroHex } from './hex';
import { normaliseTraceState } from './tracestate';

/** The sampled flag of trace-flags. */
export const W3C_FLAG_SAMPLED = 0x01;
/** Level 2's random trace-id flag: at least the right-most 7 bytes of the trace id are random. */
export const W3C_FLAG_RANDOM = 0x02;

// Kong's Lua pattern `^(%x+)%-(%x+)%-(%x+)%-(%x+)$`: four hex groups of any length, either
// case, nothing else (no surrounding spaces, no fifth field). Lengths and case are checked
// afterwards so that each problem gets its own warning.
const TRACEPARENT_RE = /^([0-9a-fA-F]+)-([0-9a-fA-F]+)-([0-9a-fA-F]+)-([0-9a-fA-F]+)$/;
// The canonical form almost every request carries: lowercase, version 00, exact lengths.
// It is cut with slices, no captures; anything else takes the long path.
const CANONICAL_RE = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
// W3C's version prefix of a future version: two lowercase hex digits and a dash.
const VERSION_PREFIX_RE = /^[0-9a-f]{2}-/;
const LOWER_HEX_RE = /^[0-9a-f]+$/;
/** Length of a version-00 traceparent; a future version is read by this many characters. */
const V00_LENGTH = 55;

const INVALID_HEADER = 'invalid W3C traceparent header; ignoring.';
const INVALID_VERSION = 'invalid W3C Trace Context version; ignoring.';
const INVALID_TRACE = 'invalid W3C trace context trace ID; ignoring.';
const INVALID_PARENT = 'invalid W3C trace context parent ID; ignoring.';
const INVALID_FLAGS = 'invalid W3C trace context flags; ignoring.';

/**
 * Parse a `traceparent` value by W3C's rules (see the file comment), warning with Kong's
 * texts through `log`. Returns the ids (lowercase, exact lengths) and the whole flags byte.
 */
export function parseTraceparent(
  traceparent: string,
  log: Logger,
): { traceId: string; spanId: string; flags: number } | undefined {
  if (traceparent.length === V00_LENGTH && CANONICAL_RE.test(traceparent)) {
    const traceId = traceparent.slice(3, 35);
    const spanId = traceparent.slice(36, 52);
    if (!isZeroHex(traceId) && !isZeroHex(spanId)) {
      return { traceId, spanId, flags: parseInt(traceparent.slice(53), 16) };
    }
  }
  // W3C's OWS around the value (an HTTP parser strips it already; other carriers may not).
  let value = trimOws(traceparent);
  const version = value.slice(0, 2);
  const future = VERSION_PREFIX_RE.test(value) && version !== '00' && version !== 'ff';
  if (future && value.length > V00_LENGTH) {
    // W3C: the flags "are either at the end of the string or followed by a dash"; what
    // follows belongs to the future version and is not read.
    if (value.charCodeAt(V00_LENGTH) !== 0x2d) {
      log.warn(INVALID_HEADER);
      return undefined;
    }
    value = value.slice(0, V00_LENGTH);
  }
  const m = TRACEPARENT_RE.exec(value);
  if (m === null) {
    log.warn(INVALID_HEADER);
    return undefined;
  }
  const [, versionField, traceId, parentId, flags] = m;
  if (!future && versionField !== '00') {
    log.warn(INVALID_VERSION);
    return undefined;
  }
  if (traceId.length !== 32 || !LOWER_HEX_RE.test(traceId) || isZeroHex(traceId)) {
    log.warn(INVALID_TRACE);
    return undefined;
  }
  if (parentId.length !== 16 || !LOWER_HEX_RE.test(parentId) || isZeroHex(parentId)) {
    log.warn(INVALID_PARENT);
    return undefined;
  }
  if (flags.length !== 2 || !LOWER_HEX_RE.test(flags)) {
    log.warn(INVALID_FLAGS);
    return undefined;
  }
  return { traceId, spanId: parentId, flags: parseInt(flags, 16) };
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

export const w3cExtractor: FormatExtractor = {
  triggers: ['traceparent'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    const traceparent = headers['traceparent'];
    // Kong checks `type(traceparent) ~= "string"`: a repeated header (array) or an empty value
    // is ignored without a warning.
    if (typeof traceparent !== 'string' || traceparent === '') return undefined;
    const parsed = parseTraceparent(traceparent, log);
    if (parsed === undefined) return undefined;
    const w3cFlags = parsed.flags;
    // W3C's "parent-id" is the caller's span, which Kong calls span_id.
    const ctx: TraceContext = {
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      shouldSample: (w3cFlags & W3C_FLAG_SAMPLED) === W3C_FLAG_SAMPLED,
      w3cFlags,
    };
    // tracestate is parsed only after a valid traceparent (W3C); an invalid one is dropped.
    const tracestate = headers['tracestate'];
    if (tracestate !== undefined) {
      const traceState = normaliseTraceState(tracestate);
      if (traceState !== undefined) ctx.traceState = traceState;
    }
    return ctx;
  },
};

/** Two lowercase hex digits. */
function hexByte(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16);
}

export const w3cInjector: FormatInjector = {
  sizes: [16],
  requires: ['traceId', 'spanId'],
  logKey: 'w3c',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    const traceId = ctx.traceId ?? '';
    // The sampled bit is our decision; the random bit comes with the trace id (the engine's
    // caller sets `w3cFlags` only when it is the incoming or our own random id).
    const flags = ((ctx.w3cFlags ?? 0) & W3C_FLAG_RANDOM) | (ctx.shouldSample === true ? W3C_FLAG_SAMPLED : 0);
    headers.set('traceparent', `00-${traceId}-${ctx.spanId ?? ''}-${hexByte(flags)}`);
    // tracestate belongs to this traceparent only: any other copy (the incoming header
    // copied upstream) goes.
    if (ctx.traceState !== undefined && ctx.traceState !== '') headers.set('tracestate', ctx.traceState);
    else headers.remove('tracestate');
    return traceId;
  },
};
