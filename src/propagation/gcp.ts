/**
 * Google Cloud Trace `x-cloud-trace-context: TRACE_ID/SPAN_ID;o=FLAG` (§4.3 gcp, §4.5):
 * 32 hex trace id, decimal span id.
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
import { decimalToHex, hexToDecimal, isZeroHex } from './hex';

// Kong's PCRE `^(?<trace_id>[0-9a-f]{32})/(?<span_id>[0-9]{1,20})(;o=(?<trace_flags>[0-9]))?$`:
// lowercase hex only, 1-20 digits, one option digit. The `\n?` reproduces PCRE's `$`, which
// also matches before a final newline (JS's `$` does not).
const GCP_RE = /^([0-9a-f]{32})\/([0-9]{1,20})(?:;o=([0-9]))?\n?$/;

export const gcpExtractor: FormatExtractor = {
  triggers: ['x-cloud-trace-context'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    // Kong requires a string; a repeated header counts as its first value here.
    const header = firstHeader(headers['x-cloud-trace-context']);
    if (header === undefined) return undefined;

    const m = GCP_RE.exec(header);
    if (m === null) {
      // Kong appends `: <err>` only when the regex engine itself fails, which JS's cannot.
      log.warn('invalid GCP header; ignoring.');
      return undefined;
    }
    const ctx: TraceContext = { traceId: m[1] };
    // Kong converts with an OpenSSL bignum, whose binary form of zero is empty, so a zero
    // span id becomes nil. A value above 2^64-1 keeps all its bytes here; the engine's
    // resize to 8 bytes keeps the low 64 bits, as Kong does.
    if (!isZeroHex(m[2])) ctx.spanId = decimalToHex(m[2]);
    ctx.shouldSample = m[3] === '1';
    return ctx;
  },
};

export const gcpInjector: FormatInjector = {
  sizes: [16],
  requires: ['traceId', 'spanId'],
  logKey: 'gcp',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    const traceId = ctx.traceId ?? '';
    // The engine checks `requires`; the guard only keeps a direct caller from writing junk.
    if (ctx.traceId === undefined || ctx.spanId === undefined) return traceId;
    // Decimal span id without leading zeros.
    headers.set(
      'x-cloud-trace-context',
      `${traceId}/${hexToDecimal(ctx.spanId)};o=${ctx.shouldSample === true ? '1' : '0'}`,
    );
    return traceId;
  },
};
