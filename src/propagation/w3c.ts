/**
 * W3C Trace Context `traceparent` (§4.3 w3c, §4.5). `tracestate` is not read here: in Kong
 * it belongs to the b3 extractor, and it is passed upstream untouched.
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
import { fromHex, isZeroHex } from './hex';

// Kong's Lua pattern `^(%x+)%-(%x+)%-(%x+)%-(%x+)$`: four hex groups of any length, either
// case, nothing else (no surrounding spaces, no fifth field). Lengths are checked afterwards
// so that each problem gets its own warning.
const TRACEPARENT_RE = /^([0-9a-fA-F]+)-([0-9a-fA-F]+)-([0-9a-fA-F]+)-([0-9a-fA-F]+)$/;
// The canonical form almost every request carries: lowercase, version 00, exact lengths.
// It is cut with slices, no captures and no case folding; anything else takes Kong's path.
const CANONICAL_RE = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export const w3cExtractor: FormatExtractor = {
  triggers: ['traceparent'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    const traceparent = headers['traceparent'];
    // Kong checks `type(traceparent) ~= "string"`: a repeated header (array) or an empty value
    // is ignored without a warning.
    if (typeof traceparent !== 'string' || traceparent === '') return undefined;

    if (traceparent.length === 55 && CANONICAL_RE.test(traceparent)) {
      const traceId = traceparent.slice(3, 35);
      const spanId = traceparent.slice(36, 52);
      if (!isZeroHex(traceId) && !isZeroHex(spanId)) {
        const w3cFlags = parseInt(traceparent.slice(53), 16);
        return { traceId, spanId, shouldSample: (w3cFlags & 1) === 1, w3cFlags };
      }
    }
    const m = TRACEPARENT_RE.exec(traceparent);
    if (m === null) {
      log.warn('invalid W3C traceparent header; ignoring.');
      return undefined;
    }
    const [, version, traceId, parentId, flags] = m;
    if (version !== '00') {
      log.warn('invalid W3C Trace Context version; ignoring.');
      return undefined;
    }
    if (traceId.length !== 32 || isZeroHex(traceId)) {
      log.warn('invalid W3C trace context trace ID; ignoring.');
      return undefined;
    }
    if (parentId.length !== 16 || isZeroHex(parentId)) {
      log.warn('invalid W3C trace context parent ID; ignoring.');
      return undefined;
    }
    if (flags.length !== 2) {
      log.warn('invalid W3C trace context flags; ignoring.');
      return undefined;
    }
    const w3cFlags = parseInt(flags, 16);
    return {
      traceId: fromHex(traceId),
      // W3C's "parent-id" is the caller's span, which Kong calls span_id.
      spanId: fromHex(parentId),
      shouldSample: (w3cFlags & 1) === 1,
      w3cFlags,
    };
  },
};

export const w3cInjector: FormatInjector = {
  sizes: [16],
  requires: ['traceId', 'spanId'],
  logKey: 'w3c',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    const traceId = ctx.traceId ?? '';
    // Only the sampled bit is sent; the incoming w3c flags are informational (§4.1).
    headers.set('traceparent', `00-${traceId}-${ctx.spanId ?? ''}-${ctx.shouldSample === true ? '01' : '00'}`);
    return traceId;
  },
};
