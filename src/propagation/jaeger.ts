/**
 * Jaeger `uber-trace-id` with `uberctx-<key>` baggage (§4.3 jaeger, §4.5).
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

import { readBaggage, writeBaggage } from './baggage';
import { fromHex, isZeroHex } from './hex';

// Kong's `^(%x+):(%x+):(%x+):(%x+)$`; lengths are checked afterwards, one warning each.
const UBER_TRACE_ID_RE = /^([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+)$/;
const BAGGAGE_PREFIX = 'uberctx-';

export const jaegerExtractor: FormatExtractor = {
  triggers: ['uber-trace-id'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    const header = headers['uber-trace-id'];
    // Kong checks `type(header) ~= "string"`: a repeated header (array) or an empty value is
    // ignored without a warning.
    if (typeof header !== 'string' || header === '') return undefined;

    const m = UBER_TRACE_ID_RE.exec(header);
    if (m === null) {
      log.warn('invalid jaeger uber-trace-id header; ignoring.');
      return undefined;
    }
    const [, traceId, spanId, parentId, traceFlags] = m;
    // Short trace and span ids are allowed; the engine pads them.
    if (traceId.length > 32 || isZeroHex(traceId)) {
      log.warn('invalid jaeger trace ID; ignoring.');
      return undefined;
    }
    // Kong checks the parent before the span, only warns, and still uses the parent.
    if (parentId.length !== 16 && !isZeroHex(parentId)) {
      log.warn('invalid jaeger parent ID; ignoring.');
    }
    if (spanId.length > 16 || isZeroHex(spanId)) {
      log.warn('invalid jaeger span ID; ignoring.');
      return undefined;
    }
    if (traceFlags.length !== 1 && traceFlags.length !== 2) {
      log.warn('invalid jaeger flags; ignoring.');
      return undefined;
    }
    return {
      traceId: fromHex(traceId),
      spanId: fromHex(spanId),
      // `0` (no parent) becomes a zero id, as in Kong.
      parentId: fromHex(parentId),
      reuseSpanId: true,
      shouldSample: (parseInt(traceFlags, 16) & 1) === 1,
      baggage: readBaggage(headers, BAGGAGE_PREFIX, log),
    };
  },
};

export const jaegerInjector: FormatInjector = {
  sizes: [16, 8],
  requires: ['traceId', 'spanId'],
  logKey: 'jaeger',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    const traceId = ctx.traceId ?? '';
    headers.set(
      'uber-trace-id',
      `${traceId}:${ctx.spanId ?? ''}:${ctx.parentId ?? '0'}:${ctx.shouldSample === true ? '01' : '00'}`,
    );
    writeBaggage(ctx.baggage, BAGGAGE_PREFIX, headers);
    return traceId;
  },
};
