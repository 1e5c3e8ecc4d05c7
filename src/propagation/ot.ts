/**
 * OpenTracing `ot-tracer-*` headers with `ot-baggage-<key>` baggage (§4.3 ot, §4.5).
 *
 * Deliberate difference 2 (docs/design.md) needs nothing here: the injector writes
 * `ot-tracer-sampled: 0` whenever it is given an explicit false, and the engine now passes
 * false for unsampled requests where Kong passed nil (which omits the header).
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
import { readBaggage, writeBaggage } from './baggage';
import { fromHex } from './hex';

const NON_HEX_RE = /[^0-9a-fA-F]/;
const BAGGAGE_PREFIX = 'ot-baggage-';

export const otExtractor: FormatExtractor = {
  triggers: ['ot-tracer-sampled', 'ot-tracer-traceid', 'ot-tracer-spanid'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    // A repeated header counts by its first value.
    const sampled = firstHeader(headers['ot-tracer-sampled']);
    let shouldSample: boolean | undefined;
    if (sampled === '1' || sampled === 'true') shouldSample = true;
    else if (sampled === '0' || sampled === 'false') shouldSample = false;
    else if (sampled !== undefined) log.warn('ot-tracer-sampled header invalid; ignoring.');

    let traceId = firstHeader(headers['ot-tracer-traceid']);
    let spanId = firstHeader(headers['ot-tracer-spanid']);
    let invalidId = false;
    if (traceId !== undefined && ((traceId.length !== 16 && traceId.length !== 32) || NON_HEX_RE.test(traceId))) {
      log.warn('ot-tracer-traceid header invalid; ignoring.');
      invalidId = true;
    }
    if (spanId !== undefined && (spanId.length !== 16 || NON_HEX_RE.test(spanId))) {
      log.warn('ot-tracer-spanid header invalid; ignoring.');
      invalidId = true;
    }
    // Any invalid id, or no trace id, drops both ids; sampling and baggage still count.
    if (invalidId || traceId === undefined) {
      traceId = undefined;
      spanId = undefined;
    }

    const baggage = readBaggage(headers, BAGGAGE_PREFIX, log);
    // Kong returns an all-nil table here, which the engine treats as nothing.
    if (traceId === undefined && shouldSample === undefined && baggage === undefined) return undefined;
    return {
      traceId: traceId === undefined ? undefined : fromHex(traceId),
      spanId: spanId === undefined ? undefined : fromHex(spanId),
      shouldSample,
      baggage,
    };
  },
};

export const otInjector: FormatInjector = {
  // 8 first: an id of unknown original size (generated) is sent as its low 64 bits (Kong).
  sizes: [8, 16],
  requires: ['traceId', 'spanId'],
  logKey: 'ot',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    const traceId = ctx.traceId ?? '';
    headers.set('ot-tracer-traceid', traceId);
    headers.set('ot-tracer-spanid', ctx.spanId ?? '');
    if (ctx.shouldSample !== undefined) headers.set('ot-tracer-sampled', ctx.shouldSample ? '1' : '0');
    writeBaggage(ctx.baggage, BAGGAGE_PREFIX, headers);
    return traceId;
  },
};
