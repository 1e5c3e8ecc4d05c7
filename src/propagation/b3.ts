/**
 * Zipkin B3: one extractor for the single `b3` header (or a `tracestate` `b3=` member) and the
 * multi `x-b3-*` headers, and two injectors, multi (`b3`) and single (`b3-single`)
 * (§4.3 b3, §4.5).
 *
 * Deliberate differences from Kong (docs/design.md):
 *  1. `tracestate` is only a b3 source when its list has a `b3=` member. Kong lets any
 *     `tracestate` fire the extractor, which then captures a W3C request as an empty b3
 *     context; here a `tracestate` without a `b3=` member (and no other b3 header) gives
 *     undefined, so the next format (w3c) gets its turn.
 *  3. An invalid `x-b3-flags` value is warned about and dropped; Kong keeps the raw value as
 *     `flags` and re-sends it upstream.
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
import { fromHex } from './hex';

// Kong's Lua pattern `^(%x+)%-(<16 × %x>)%-?([01d]?)%-?(%x*)$`. The dashes before the sampled
// and parent parts are optional, and, as with Lua's backtracking `?`, a leading 0/1/d of what
// follows the span id is taken as the sampled flag (so `T-S-0000000000000003` is invalid).
// Lengths of the trace id (16/32) and parent (0/16) are checked after the match.
const SINGLE_RE = /^([0-9a-fA-F]+)-([0-9a-fA-F]{16})-?([01d]?)-?([0-9a-fA-F]*)$/;
const NON_HEX_RE = /[^0-9a-fA-F]/;
const B3_MEMBER = 'b3=';

/**
 * The value of the first `b3=` list member of `tracestate` (difference 1). Kong instead
 * requires the whole header value (or an array element) to start with `b3=` and uses all the
 * rest verbatim, other members included, and does not see a `b3=` member placed after another
 * member. Members are split on `,` and trimmed of optional whitespace, as W3C defines the list;
 * array elements are scanned in order. A member `b3=` with an empty value does not count,
 * like Kong's `^b3=(.+)$`.
 */
function tracestateB3(value: HeaderValue): string | undefined {
  if (typeof value === 'string') return memberOf(value);
  if (value === undefined) return undefined;
  for (let i = 0; i < value.length; i++) {
    const found = memberOf(value[i]);
    if (found !== undefined) return found;
  }
  return undefined;
}

function memberOf(list: string): string | undefined {
  // Cheap rejection: most tracestate values carry no b3 member at all.
  if (list.indexOf(B3_MEMBER) === -1) return undefined;
  const members = list.split(',');
  for (let i = 0; i < members.length; i++) {
    const member = members[i].trim();
    if (member.length > B3_MEMBER.length && member.startsWith(B3_MEMBER)) return member.slice(B3_MEMBER.length);
  }
  return undefined;
}

/** What one of the two b3 forms carried; ids are raw hex, as received. */
interface B3Fields {
  traceId?: string;
  spanId?: string;
  parentId?: string;
  shouldSample?: boolean;
  flags?: string;
}

/** The single header: a bare decision (`1`, `0`, `d`) or `trace-span[-sampled][-parent]`. */
function readSingle(value: string, log: Logger): B3Fields {
  if (value === '1') return { shouldSample: true };
  if (value === 'd') return { shouldSample: true, flags: '1' };
  if (value === '0') return { shouldSample: false };
  const m = SINGLE_RE.exec(value);
  const traceLen = m === null ? 0 : m[1].length;
  if (m === null || (traceLen !== 16 && traceLen !== 32) || (m[4] !== '' && m[4].length !== 16)) {
    // The ids are discarded but the context still counts as single-header (Kong).
    log.warn('b3 single header invalid; ignoring.');
    return {};
  }
  const sampled = m[3];
  return {
    traceId: m[1],
    spanId: m[2],
    parentId: m[4] === '' ? undefined : m[4],
    shouldSample: sampled === '' ? undefined : sampled !== '0',
    flags: sampled === 'd' ? '1' : undefined,
  };
}

/** Warns about an id header of the wrong length or with a non-hex character. */
function invalidId(value: string | undefined, len1: number, len2: number, name: string, log: Logger): boolean {
  if (value === undefined || ((value.length === len1 || value.length === len2) && !NON_HEX_RE.test(value)))
    return false;
  log.warn(name + ' header invalid; ignoring.');
  return true;
}

/**
 * The multi `x-b3-*` headers, or undefined when none is present. Each invalid header is
 * warned about (in Kong's order), even when the single header wins; one invalid id discards
 * all three multi ids.
 */
function readMulti(headers: RequestHeaders, log: Logger): B3Fields | undefined {
  const sampled = firstHeader(headers['x-b3-sampled']);
  const flags = firstHeader(headers['x-b3-flags']);
  const traceId = firstHeader(headers['x-b3-traceid']);
  const spanId = firstHeader(headers['x-b3-spanid']);
  const parentId = firstHeader(headers['x-b3-parentspanid']);
  if (
    sampled === undefined &&
    flags === undefined &&
    traceId === undefined &&
    spanId === undefined &&
    parentId === undefined
  ) {
    return undefined;
  }

  let shouldSample: boolean | undefined;
  if (sampled === '1' || sampled === 'true') shouldSample = true;
  else if (sampled === '0' || sampled === 'false') shouldSample = false;
  else if (sampled !== undefined) log.warn('x-b3-sampled header invalid; ignoring.');

  // Debug overrides the sampled header; any other flags value is dropped (difference 3).
  if (flags === '1') shouldSample = true;
  else if (flags !== undefined) log.warn('x-b3-flags header invalid; ignoring.');
  const debug = flags === '1' ? '1' : undefined;

  // Bitwise `|` so that every invalid header is warned about.
  const invalid =
    +invalidId(traceId, 16, 32, 'x-b3-traceid', log) |
    +invalidId(spanId, 16, 16, 'x-b3-spanid', log) |
    +invalidId(parentId, 16, 16, 'x-b3-parentspanid', log);
  if (invalid) return { shouldSample, flags: debug };
  return { traceId, spanId, parentId, shouldSample, flags: debug };
}

export const b3Extractor: FormatExtractor = {
  triggers: ['b3', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    // Single header: `b3` wins over tracestate; a repeated header counts by its first value.
    const singleValue = firstHeader(headers['b3']) ?? tracestateB3(headers['tracestate']);
    const single = singleValue === undefined ? undefined : readSingle(singleValue, log);
    const multi = readMulti(headers, log);
    // Difference 1: the only trigger was a tracestate without a b3 member.
    if (single === undefined && multi === undefined) return undefined;

    // Single-header fields first; missing ones filled from the multi headers.
    const traceId = single?.traceId ?? multi?.traceId;
    const spanId = traceId === undefined ? undefined : (single?.spanId ?? multi?.spanId);
    const parentId = traceId === undefined ? undefined : (single?.parentId ?? multi?.parentId);
    return {
      traceId: traceId === undefined ? undefined : fromHex(traceId),
      spanId: spanId === undefined ? undefined : fromHex(spanId),
      parentId: parentId === undefined ? undefined : fromHex(parentId),
      reuseSpanId: true,
      shouldSample: single?.shouldSample ?? multi?.shouldSample,
      flags: single?.flags ?? multi?.flags,
      singleHeader: single === undefined ? undefined : true,
    };
  },
};

export const b3Injector: FormatInjector = {
  sizes: [16, 8],
  requires: [],
  logKey: 'b3',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    if (ctx.traceId !== undefined && ctx.spanId !== undefined) {
      headers.set('x-b3-traceid', ctx.traceId);
      headers.set('x-b3-spanid', ctx.spanId);
      if (ctx.parentId !== undefined) headers.set('x-b3-parentspanid', ctx.parentId);
    }
    // Debug replaces the sampled header; no decision is sent as "not sampled" (Kong).
    if (ctx.flags !== undefined) headers.set('x-b3-flags', ctx.flags);
    else headers.set('x-b3-sampled', ctx.shouldSample === true ? '1' : '0');
    return ctx.traceId ?? '';
  },
};

export const b3SingleInjector: FormatInjector = {
  sizes: [16, 8],
  requires: [],
  logKey: 'b3',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    let sampled: string | undefined;
    if (ctx.flags === '1') sampled = 'd';
    else if (ctx.shouldSample === true) sampled = '1';
    else if (ctx.shouldSample === false) sampled = '0';

    if (ctx.traceId === undefined || ctx.spanId === undefined) {
      // Sampling decision only (B3 single-header "deny/accept" form).
      headers.set('b3', sampled ?? '0');
    } else {
      let value = ctx.traceId + '-' + ctx.spanId;
      if (sampled !== undefined) value += '-' + sampled;
      if (ctx.parentId !== undefined) value += '-' + ctx.parentId;
      headers.set('b3', value);
    }
    return ctx.traceId ?? '';
  },
};
