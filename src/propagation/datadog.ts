/**
 * Datadog `x-datadog-*` headers (§4.3 datadog, §4.5). Ids travel as unsigned decimal; only
 * the low 64 bits of the trace id are injected (no `_dd.p.tid`, as in Kong).
 */
import type { Logger } from '../logger';
import type {
  FormatExtractor,
  FormatInjector,
  HeaderValue,
  HeaderWriter,
  InjectContext,
  RequestHeaders,
  TraceContext,
} from './context';
import { firstHeader } from './context';
import { decimalToHex, hexToDecimal, isZeroHex } from './hex';

// Kong's Lua pattern `^%s*(%d+)%s*$`. Lua's %s is C isspace (space, \t \n \v \f \r), not
// JS's Unicode \s, and %d is ASCII digits only: no sign, no `+`, no `-1` two's complement.
const DECIMAL_RE = /^[ \t\n\v\f\r]*([0-9]+)[ \t\n\v\f\r]*$/;

/** The digits of a valid id header; warns and gives undefined for an invalid one. */
function readDecimal(value: HeaderValue, warning: string, log: Logger): string | undefined {
  // A repeated header counts as its first value (Kong would fail on the Lua table).
  const s = firstHeader(value);
  if (s === undefined) return undefined;
  const m = DECIMAL_RE.exec(s);
  if (m === null) {
    log.warn(warning);
    return undefined;
  }
  return m[1];
}

// 10^40 > 2^128: an id of more digits has more than 16 bytes, of which only the low 16 count.
const MAX_EXACT_DIGITS = 40;
const CHUNK_DIGITS = 15;
const LOW_128 = (1n << 128n) - 1n;

/**
 * Decimal → minimal big-endian bytes. Kong converts with an OpenSSL bignum, whose binary
 * form of zero is empty, so the conversion fails and a zero id becomes nil, silently.
 *
 * An id over 40 digits is not converted whole (BigInt parsing is superlinear, 2.5 ms for
 * 64 KiB of digits): its low 128 bits are accumulated chunk by chunk and returned as 17
 * bytes (a zero byte in front). The engine keeps the low 16 bytes as Kong does, and any
 * original size above 16 injects alike, so the upstream headers are Kong's.
 */
function toBytes(digits: string): string | undefined {
  // isZeroHex only looks for all-'0' digits, which is the same test in decimal.
  if (isZeroHex(digits)) return undefined;
  let start = 0;
  while (digits.charCodeAt(start) === 48) start++;
  if (digits.length - start <= MAX_EXACT_DIGITS) return decimalToHex(digits);
  let low = 0n;
  for (let p = start; p < digits.length; p += CHUNK_DIGITS) {
    const chunk = digits.slice(p, p + CHUNK_DIGITS);
    low = (low * 10n ** BigInt(chunk.length) + BigInt(chunk)) & LOW_128;
  }
  return '00' + low.toString(16).padStart(32, '0');
}

export const datadogExtractor: FormatExtractor = {
  triggers: ['x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    // Priorities: -1 user reject, 0 auto reject, 1 auto keep, 2 user keep. Anything else
    // (even " 1") makes Kong skip the whole format.
    const priority = firstHeader(headers['x-datadog-sampling-priority']);
    let shouldSample: boolean | undefined;
    if (priority !== undefined) {
      if (priority === '1' || priority === '2') shouldSample = true;
      else if (priority === '0' || priority === '-1') shouldSample = false;
      else {
        log.warn('x-datadog-sampling-priority header invalid; ignoring.');
        return undefined;
      }
    }

    const traceDigits = readDecimal(headers['x-datadog-trace-id'], 'x-datadog-trace-id header invalid; ignoring.', log);
    let parentDigits = readDecimal(
      headers['x-datadog-parent-id'],
      'x-datadog-parent-id header invalid; ignoring.',
      log,
    );
    // Kong drops the parent when the trace id text is missing or invalid, before converting:
    // a trace id of `0` (nil after conversion) keeps its parent.
    if (traceDigits === undefined) parentDigits = undefined;

    const traceId = traceDigits === undefined ? undefined : toBytes(traceDigits);
    // Datadog's "parent id" is the caller's span, which Kong calls span_id.
    const spanId = parentDigits === undefined ? undefined : toBytes(parentDigits);
    if (traceId === undefined && spanId === undefined && shouldSample === undefined) return undefined;

    return { traceId, spanId, shouldSample };
  },
};

export const datadogInjector: FormatInjector = {
  // Kong injects 64-bit ids only; the engine hands over the low 8 bytes of the trace id.
  sizes: [8],
  requires: [],
  logKey: 'datadog',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    const traceId = ctx.traceId === undefined ? undefined : hexToDecimal(ctx.traceId);
    if (traceId !== undefined) headers.set('x-datadog-trace-id', traceId);
    if (ctx.spanId !== undefined) headers.set('x-datadog-parent-id', hexToDecimal(ctx.spanId));
    // Only an explicit decision is sent; "no decision" (undefined) omits the header.
    if (ctx.shouldSample !== undefined) headers.set('x-datadog-sampling-priority', ctx.shouldSample ? '1' : '0');
    // Kong logs nothing without a trace id; the contract wants a string, so "".
    return traceId ?? '';
  },
};
