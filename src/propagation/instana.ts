/**
 * Instana `x-instana-t` / `x-instana-s` / `x-instana-l` (§4.3 instana, §4.5). New in Kong
 * 3.10.
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
import { fromHex } from './hex';

/** Kong's `match("^(%x+)")`: the leading run of hex digits, or undefined if there is none. */
function leadingHex(s: string): string | undefined {
  let i = 0;
  while (i < s.length && isHexCode(s.charCodeAt(i))) i++;
  return i === 0 ? undefined : i === s.length ? s : s.slice(0, i);
}

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export const instanaExtractor: FormatExtractor = {
  triggers: ['x-instana-t', 'x-instana-s', 'x-instana-l'],
  extract(headers: RequestHeaders, log: Logger): TraceContext | undefined {
    // Kong returns nothing unless both `t` and `s` are strings (a repeated header counts as
    // its first value here), so `x-instana-l` alone, or `t` alone, gives nothing.
    const t = firstHeader(headers['x-instana-t']);
    if (t === undefined) return undefined;
    const traceRun = leadingHex(t);
    // Kong warns but goes on with the run it found, even of a wrong or odd length.
    if (traceRun === undefined || (traceRun.length !== 16 && traceRun.length !== 32)) {
      log.warn('x-instana-t header invalid; ignoring.');
    }

    const s = firstHeader(headers['x-instana-s']);
    if (s === undefined) return undefined;
    const spanRun = leadingHex(s);
    if (spanRun === undefined) log.warn('x-instana-s header invalid; ignoring.');

    // The level may carry more (`1,correlationType=web;correlationId=…`); only its first
    // character counts, and anything but `1` (absence included) is a "not sampled" decision.
    const l = firstHeader(headers['x-instana-l']);
    return {
      // fromHex prefixes an odd-length run with `0`, like Kong's from_hex.
      traceId: traceRun === undefined ? undefined : fromHex(traceRun),
      spanId: spanRun === undefined ? undefined : fromHex(spanRun),
      shouldSample: l !== undefined && l.charCodeAt(0) === 49 /* '1' */,
    };
  },
};

export const instanaInjector: FormatInjector = {
  sizes: [16, 8],
  requires: [],
  logKey: 'instana',
  inject(ctx: InjectContext, headers: HeaderWriter): string {
    if (ctx.traceId !== undefined) headers.set('x-instana-t', ctx.traceId);
    if (ctx.spanId !== undefined) headers.set('x-instana-s', ctx.spanId);
    // Only an explicit decision is sent; "no decision" (undefined) omits the header.
    if (ctx.shouldSample !== undefined) headers.set('x-instana-l', ctx.shouldSample ? '1' : '0');
    return ctx.traceId ?? '';
  },
};
