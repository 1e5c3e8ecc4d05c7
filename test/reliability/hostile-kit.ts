/**
 * Generators and checks for the hostile-input fuzzing, shared by test/reliability/fuzz.test.ts
 * (the default run) and test/soak/hostile-input.soak.ts (millions of cases). Checks throw
 * plain errors: jest's `expect` is too slow for 100,000 cases, and the soak runs without jest.
 */
import fc from 'fast-check';
import { EXTRACT_FORMATS, INJECT_FORMATS, type ExtractFormat, type InjectFormat } from '../../src/config/types';
import type { Logger } from '../../src/logger';
import type { FormatExtractor, RequestHeaders, TraceContext } from '../../src/propagation/context';
import { PropagationEngine } from '../../src/propagation/engine';
import { EXTRACTORS } from '../../src/propagation/formats';
import { unescapeUri } from '../../src/propagation/uri-escape';
import {
  MAX_BAGGAGE_BYTES,
  MAX_BAGGAGE_ITEM_BYTES,
  MAX_BAGGAGE_ITEMS,
  MAX_TRACE_HEADER_BYTES,
} from '../../src/propagation/limits';
import { parseTagsHeader } from '../../src/trace/tags-header';

// ---------------------------------------------------------------- generators

const TRIGGERS: Readonly<Record<ExtractFormat, readonly string[]>> = Object.fromEntries(
  EXTRACT_FORMATS.map((f) => [f, EXTRACTORS[f].triggers]),
) as Record<ExtractFormat, readonly string[]>;
export const ALL_TRIGGERS = [...new Set(Object.values(TRIGGERS).flat())];

export const hexChars = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** Values close to valid ones, where parsers make their decisions. */
const plausible: fc.Arbitrary<string> = fc.oneof(
  hexChars(0, 40),
  fc.tuple(hexChars(1, 3), hexChars(30, 34), hexChars(14, 18), hexChars(1, 3)).map((p) => p.join('-')),
  fc
    .tuple(fc.constant('00'), hexChars(32, 32), hexChars(16, 16), fc.constantFrom('00', '01', 'ff'))
    .map((p) => p.join('-')),
  fc
    .tuple(hexChars(14, 34), hexChars(16, 16), fc.constantFrom('', '0', '1', 'd', 'x'), hexChars(0, 18))
    .map((p) => p.join('-')),
  fc.tuple(hexChars(1, 34), hexChars(1, 18), hexChars(1, 18), hexChars(1, 3)).map((p) => p.join(':')),
  fc.constantFrom('0', '1', 'd', 'true', 'false', '-1', '2', ' 1', ''),
  fc
    .tuple(
      hexChars(8, 8),
      hexChars(24, 24),
      hexChars(15, 17),
      fc.constantFrom('0', '1', '?'),
      fc.constantFrom(';', '; ', ';;', '=;'),
    )
    .map(([a, b, c, d, sep]) => `Root=1-${a}-${b}${sep}Parent=${c}${sep}Sampled=${d}`),
  fc.tuple(hexChars(32, 32), digits(1, 22), digits(0, 2)).map(([t, s, o]) => `${t}/${s}${o === '' ? '' : ';o=' + o}`),
  fc.tuple(fc.constantFrom('', ' ', '\t'), digits(1, 60), fc.constantFrom('', ' ', '\n')).map((p) => p.join('')),
  fc.bigInt({ min: 0n, max: 2n ** 140n }).map(String),
  fc.tuple(hexChars(0, 20), fc.string({ maxLength: 6 })).map((p) => p.join('')),
  fc
    .array(
      fc.tuple(fc.constantFrom('b3', 'rojo', 'congo', ' b3'), hexChars(0, 40)).map(([k, v]) => `${k}=${v}`),
      { maxLength: 4 },
    )
    .map((m) => m.join(',')),
);

/** Every character class a parser may trip on: controls, DEL, latin1, separators, surrogates. */
export const hostileUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'0123456789abcdefABCDEF-:;=,/ \t\r\n\v\f\x00\x1b\x7f%+b3do.') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);
export const hostile: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: hostileUnit, maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  // A plausible value with hostile characters spliced in.
  fc.tuple(plausible, fc.nat(), fc.string({ unit: hostileUnit, minLength: 1, maxLength: 4 })).map(([v, at, ins]) => {
    const i = v.length === 0 ? 0 : at % v.length;
    return v.slice(0, i) + ins + v.slice(i);
  }),
  // Long runs of one separator, the shapes that make regexes backtrack.
  fc
    .tuple(fc.constantFrom('a', '-', '=', ';', ' ', ':', '0', '=;', 'b3=,', '%'), fc.integer({ min: 1, max: 300 }))
    .map(([s, n]) => s.repeat(n)),
);

const value: fc.Arbitrary<string> = fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 2, arbitrary: hostile });
const headerValue: fc.Arbitrary<string | string[]> = fc.oneof(
  { weight: 6, arbitrary: value },
  { weight: 1, arbitrary: fc.array(value, { minLength: 0, maxLength: 3 }) },
);

/** Baggage keys as header names give them: HTTP token characters, lowercase. */
const baggageKey = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&'*+^`|~"),
  maxLength: 12,
});
const baggageValue = fc.oneof(
  hostile,
  fc.string({ unit: fc.constantFrom(...'%0dDaA'), maxLength: 30 }),
  fc.integer({ min: 1, max: 6000 }).map((n) => '!'.repeat(n)),
);
const baggageHeaders = fc.array(fc.tuple(fc.constantFrom('uberctx-', 'ot-baggage-'), baggageKey, baggageValue), {
  maxLength: 6,
});

type Headers = Record<string, string | string[]>;

const sampledWord = fc.constantFrom('0', '1', 'true', 'false', 'd');
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 3 });
const hexId = (...lengths: number[]): fc.Arbitrary<string> => fc.constantFrom(...lengths).chain((n) => hexChars(n, n));

/** Valid (or nearly valid) headers of one format, so that every format wins extraction often. */
const formatHeaders: fc.Arbitrary<Headers> = fc.oneof(
  fc
    .tuple(hexId(32), hexId(16), hexChars(2, 2), opt(fc.constantFrom('b3=0', 'rojo=00f067aa0ba902b7')))
    .map(([t, s, f, ts]) => ({
      traceparent: `00-${t}-${s}-${f}`,
      ...(ts === undefined ? {} : { tracestate: ts }),
    })),
  fc
    .tuple(
      hexId(16, 32),
      hexId(16),
      fc.constantFrom('', '-0', '-1', '-d'),
      fc.constantFrom('', '-' + '1'.repeat(16)),
      fc.boolean(),
    )
    .map(([t, s, f, p, viaTracestate]): Headers =>
      viaTracestate ? { tracestate: `rojo=1, b3=${t}-${s}${f}${p}` } : { b3: `${t}-${s}${f}${p}` },
    ),
  fc.record(
    {
      'x-b3-traceid': hexId(16, 32),
      'x-b3-spanid': hexId(16),
      'x-b3-parentspanid': hexId(16),
      'x-b3-sampled': sampledWord,
      'x-b3-flags': fc.constantFrom('1', '0'),
    },
    { requiredKeys: ['x-b3-traceid'] },
  ),
  fc
    .tuple(hexId(1, 15, 16, 31, 32), hexId(1, 16), fc.constantFrom('0', 'a'.repeat(16), 'abc'), hexChars(1, 2))
    .map(([t, s, p, f]) => ({ 'uber-trace-id': `${t}:${s}:${p}:${f}` })),
  fc.record(
    { 'ot-tracer-traceid': hexId(16, 32), 'ot-tracer-spanid': hexId(16), 'ot-tracer-sampled': sampledWord },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      'x-datadog-trace-id': fc.bigInt({ min: 0n, max: 2n ** 130n }).map(String),
      'x-datadog-parent-id': fc.bigInt({ min: 0n, max: 2n ** 66n }).map(String),
      'x-datadog-sampling-priority': fc.constantFrom('-1', '0', '1', '2'),
    },
    { requiredKeys: [] },
  ),
  fc
    .tuple(
      opt(hexId(24).map((b) => `Root=1-${'5759e988'}-${b}`)),
      opt(hexId(16).map((p) => `Parent=${p}`)),
      opt(fc.constantFrom('Sampled=0', 'Sampled=1')),
      fc.constantFrom(';', '; ', ' ;'),
    )
    .map(([r, p, smp, sep]) => ({
      'x-amzn-trace-id': [r, p, smp, 'Self=1-x'].filter((x) => x !== undefined).join(sep),
    })),
  fc
    .tuple(hexId(32), fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }), fc.constantFrom('', ';o=0', ';o=1'))
    .map(([t, sp, o]) => ({ 'x-cloud-trace-context': `${t.toLowerCase()}/${sp}${o}` })),
  fc.record(
    {
      'x-instana-t': hexId(3, 16, 32),
      'x-instana-s': hexId(16),
      'x-instana-l': fc.constantFrom('0', '1', '1,correlationType=web'),
    },
    { requiredKeys: ['x-instana-t'] },
  ),
);

/** Replace or splice hostile characters into one header of a set. */
function mutate(headers: Headers, which: number, how: string, at: number, replace: boolean): Headers {
  const names = Object.keys(headers);
  if (names.length === 0) return headers;
  const name = names[which % names.length];
  const v = headers[name];
  if (typeof v !== 'string') return headers;
  const i = v.length === 0 ? 0 : at % v.length;
  return { ...headers, [name]: replace ? how : v.slice(0, i) + how + v.slice(i) };
}

/**
 * A request's headers: one or two formats' valid-looking headers (sometimes mutated), random
 * trigger headers, baggage, and names that exist on Object.prototype.
 */
export const requestHeaders: fc.Arbitrary<Headers> = fc
  .tuple(
    fc.array(formatHeaders, { maxLength: 2 }),
    opt(
      fc.tuple(
        fc.nat(),
        fc.oneof(hostile, fc.string({ unit: hostileUnit, minLength: 1, maxLength: 3 })),
        fc.nat(),
        fc.boolean(),
      ),
    ),
    fc.dictionary(fc.constantFrom(...ALL_TRIGGERS), headerValue, { maxKeys: 3 }),
    baggageHeaders,
    fc.dictionary(fc.constantFrom('constructor', 'tostring', 'x-other', 'zipkin-tags'), value, { maxKeys: 2 }),
  )
  .map(([formats, mutation, noise, baggage, others]) => {
    let headers: Headers = { ...others, ...noise };
    for (const f of formats) headers = { ...headers, ...f };
    if (mutation !== undefined) headers = mutate(headers, mutation[0], mutation[1], mutation[2], mutation[3]);
    for (const [prefix, key, v] of baggage) headers[prefix + key] = v;
    return headers;
  });

// ---------------------------------------------------------------- checks

export const CONTROL = /[\x00-\x1f\x7f]/;
export const JSON_CONTROL = /[\x00-\x1f]/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** Every warning the extractors and the engine may log: fixed texts, nothing echoed. */
const KNOWN_WARNINGS = new Set([
  'invalid W3C traceparent header; ignoring.',
  'invalid W3C Trace Context version; ignoring.',
  'invalid W3C trace context trace ID; ignoring.',
  'invalid W3C trace context parent ID; ignoring.',
  'invalid W3C trace context flags; ignoring.',
  'b3 single header invalid; ignoring.',
  'x-b3-sampled header invalid; ignoring.',
  'x-b3-flags header invalid; ignoring.',
  'x-b3-traceid header invalid; ignoring.',
  'x-b3-spanid header invalid; ignoring.',
  'x-b3-parentspanid header invalid; ignoring.',
  'invalid jaeger uber-trace-id header; ignoring.',
  'invalid jaeger trace ID; ignoring.',
  'invalid jaeger parent ID; ignoring.',
  'invalid jaeger span ID; ignoring.',
  'invalid jaeger flags; ignoring.',
  'ot-tracer-sampled header invalid; ignoring.',
  'ot-tracer-traceid header invalid; ignoring.',
  'ot-tracer-spanid header invalid; ignoring.',
  'x-datadog-sampling-priority header invalid; ignoring.',
  'x-datadog-trace-id header invalid; ignoring.',
  'x-datadog-parent-id header invalid; ignoring.',
  'invalid aws header trace id; ignoring.',
  'invalid aws header parent id; ignoring.',
  'invalid aws header sampled flag; ignoring.',
  'invalid GCP header; ignoring.',
  'x-instana-t header invalid; ignoring.',
  'x-instana-s header invalid; ignoring.',
  `baggage item over ${MAX_BAGGAGE_ITEM_BYTES} bytes; ignoring.`,
  `baggage over ${MAX_BAGGAGE_ITEMS} items; ignoring the rest.`,
  `baggage over ${MAX_BAGGAGE_BYTES} bytes; ignoring the rest.`,
  ...ALL_TRIGGERS.map((name) => `${name} header over ${MAX_TRACE_HEADER_BYTES} bytes; ignoring.`),
]);

const INJECTOR_ERROR = /^([a-z0-9-]+ injector context is invalid: field (trace|span)_id not found in context(, )?)+$/;

/** Collects lines; checks each is a known fixed text. */
export class CheckingLogger implements Logger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  debug(): void {}
  info(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
  error(message: string): void {
    this.errors.push(message);
  }
  check(): void {
    for (const w of this.warnings)
      if (!KNOWN_WARNINGS.has(w)) throw new Error(`unexpected warning ${JSON.stringify(w)}`);
    // Only the engine's `requires` check logs errors, with fixed texts.
    for (const e of this.errors) must(INJECTOR_ERROR.test(e), `unexpected error ${JSON.stringify(e)}`);
    this.warnings.length = 0;
    this.errors.length = 0;
  }
}

/** Allowed trace id sizes per injector, first = default (§4.5 table). */
const SIZES: Readonly<Record<InjectFormat, readonly number[]>> = {
  w3c: [16],
  b3: [16, 8],
  'b3-single': [16, 8],
  jaeger: [16, 8],
  ot: [8, 16],
  datadog: [8],
  aws: [16],
  gcp: [16],
  instana: [16, 8],
};

function expectedTraceHex(ctx: TraceContext, format: InjectFormat): string {
  const sizes = SIZES[format];
  const size = sizes.includes(ctx.traceIdOriginalSize ?? -1) ? (ctx.traceIdOriginalSize as number) : sizes[0];
  return (ctx.traceId as string).slice(32 - size * 2);
}

const FIXED_NAMES = new Set([
  'traceparent',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'uber-trace-id',
  'ot-tracer-traceid',
  'ot-tracer-spanid',
  'ot-tracer-sampled',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'x-amzn-trace-id',
  'x-cloud-trace-context',
  'x-instana-t',
  'x-instana-s',
  'x-instana-l',
]);
const BAGGAGE_NAME = /^(uberctx-|ot-baggage-)[!#$%&'*+\-.^_`|~0-9a-z]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPED = /^([A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/;

/**
 * Injects every format from `ctx` (a full inject context: trace, span, parent) and checks
 * every header: name known, value clean, ids exact per the format table, baggage escaped
 * and within the limits.
 */
function checkInjected(headers: Record<string, string>, ctx: TraceContext, formats: readonly InjectFormat[]): void {
  const span = ctx.spanId as string;
  const parent = ctx.parentId;
  const sampled = ctx.shouldSample === true;
  for (const name in headers) {
    const v = headers[name];
    must(!CONTROL.test(v), `control character in ${name}: ${JSON.stringify(v)}`);
    must(FIXED_NAMES.has(name) || BAGGAGE_NAME.test(name), `unexpected header ${JSON.stringify(name)}`);
  }
  const expectHeader = (name: string, v: string): void => {
    must(headers[name] === v, `${name}: ${JSON.stringify(headers[name])} !== ${JSON.stringify(v)}`);
  };
  for (const f of formats) {
    const t = expectedTraceHex(ctx, f);
    switch (f) {
      case 'w3c':
        must(HEX32.test(t), `w3c trace id ${t}`);
        expectHeader('traceparent', `00-${t}-${span}-${sampled ? '01' : '00'}`);
        break;
      case 'b3':
        expectHeader('x-b3-traceid', t);
        expectHeader('x-b3-spanid', span);
        if (parent !== undefined) expectHeader('x-b3-parentspanid', parent);
        if (ctx.flags === undefined) expectHeader('x-b3-sampled', sampled ? '1' : '0');
        else expectHeader('x-b3-flags', '1');
        break;
      case 'b3-single': {
        const flag = ctx.flags === '1' ? 'd' : sampled ? '1' : '0';
        expectHeader('b3', `${t}-${span}-${flag}${parent === undefined ? '' : '-' + parent}`);
        break;
      }
      case 'jaeger':
        expectHeader('uber-trace-id', `${t}:${span}:${parent ?? '0'}:${sampled ? '01' : '00'}`);
        break;
      case 'ot':
        expectHeader('ot-tracer-traceid', t);
        expectHeader('ot-tracer-spanid', span);
        expectHeader('ot-tracer-sampled', sampled ? '1' : '0');
        break;
      case 'datadog':
        expectHeader('x-datadog-trace-id', BigInt('0x' + t).toString(10));
        expectHeader('x-datadog-parent-id', BigInt('0x' + span).toString(10));
        expectHeader('x-datadog-sampling-priority', sampled ? '1' : '0');
        break;
      case 'aws':
        expectHeader(
          'x-amzn-trace-id',
          `Root=1-${t.slice(0, 8)}-${t.slice(8)};Parent=${span};Sampled=${sampled ? '1' : '0'}`,
        );
        break;
      case 'gcp':
        expectHeader('x-cloud-trace-context', `${t}/${BigInt('0x' + span).toString(10)};o=${sampled ? '1' : '0'}`);
        break;
      case 'instana':
        expectHeader('x-instana-t', t);
        expectHeader('x-instana-s', span);
        expectHeader('x-instana-l', sampled ? '1' : '0');
        break;
    }
  }
  for (const prefix of ['uberctx-', 'ot-baggage-']) {
    let items = 0;
    let bytes = 0;
    for (const name in headers) {
      if (!name.startsWith(prefix)) continue;
      const v = headers[name];
      must(ESCAPED.test(v), `${name} not escaped: ${JSON.stringify(v)}`);
      const key = name.slice(prefix.length);
      const size = key.length + 1 + v.length;
      must(size <= MAX_BAGGAGE_ITEM_BYTES, `${name}: ${size} bytes`);
      items++;
      bytes += size;
      // What goes out decodes back to what was extracted (a lone surrogate, possible only
      // in baggage from a custom carrier, is sent as U+FFFD).
      const want = ctx.baggage?.[key]?.replace(LONE_SURROGATE, '\ufffd');
      must(unescapeUri(v) === want, `${name}: ${JSON.stringify(v)} does not decode to ${JSON.stringify(want)}`);
    }
    must(items <= MAX_BAGGAGE_ITEMS, `${items} ${prefix} items`);
    must(bytes <= MAX_BAGGAGE_BYTES, `${bytes} bytes of ${prefix}`);
  }
}

/** A failed check (plain throw: `expect` is too slow for 100,000 cases). */
export function must(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function bag(): { headers: Record<string, string>; set(n: string, v: string): void; remove(n: string): void } {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  return { headers, set: (n, v) => void (headers[n] = v), remove: (n) => void delete headers[n] };
}

function checkNormalised(ctx: TraceContext): void {
  must(ctx.traceId === undefined || HEX32.test(ctx.traceId), `trace id ${ctx.traceId}`);
  must(ctx.spanId === undefined || HEX16.test(ctx.spanId), `span id ${ctx.spanId}`);
  must(ctx.parentId === undefined || HEX16.test(ctx.parentId), `parent id ${ctx.parentId}`);
  const size = ctx.traceIdOriginalSize;
  must(size === undefined || (Number.isInteger(size) && size >= 1), `original size ${size}`);
  must(ctx.flags === undefined || ctx.flags === '1', `flags ${ctx.flags}`);
}

// Cases per property; the total is asserted below so that trimming one shows.
// ---------------------------------------------------------------- one case of each property

const ENGINE_LOG = new CheckingLogger();
const ALL_INJECT: InjectFormat[] = [...INJECT_FORMATS];
// `preserve` first, so the formats after it overwrite what it wrote with the same values.
const ENGINE = new PropagationEngine(
  { extract: EXTRACT_FORMATS, inject: ['preserve', ...ALL_INJECT], clear: [], default_format: 'w3c' },
  ENGINE_LOG,
);
const REVERSED = new PropagationEngine(
  { extract: [...EXTRACT_FORMATS].reverse(), inject: ['preserve'], clear: [], default_format: 'b3-single' },
  ENGINE_LOG,
);

/**
 * Extract with two engines (every format, in both orders), check the context is normalised,
 * inject every format as the plugin does (new span, extracted span as parent, an explicit
 * decision) and check every header; also forward the extracted context as it came, as the
 * OTel adapter does without a new span.
 */
export function engineCase(headers: RequestHeaders, sampled: boolean, newSpan: string): void {
  for (const e of [ENGINE, REVERSED]) {
    const { context, format } = e.extract(headers);
    if (context === undefined) must(format === undefined, `format ${format} without a context`);
    else checkNormalised(context);
    ENGINE_LOG.check();

    const span = newSpan.toLowerCase().replace(/^0{16}$/, '1'.repeat(16));
    const ctx: TraceContext = {
      traceId: context?.traceId ?? '0af7651916cd43dd8448eb211c80319c',
      spanId: span,
      parentId: context?.spanId,
      shouldSample: sampled,
      baggage: context?.baggage,
      flags: context?.flags,
      singleHeader: context?.singleHeader,
      traceIdOriginalSize: context?.traceIdOriginalSize,
    };
    const out = bag();
    e.inject(ctx, format, out);
    ENGINE_LOG.check();
    if (e === ENGINE) checkInjected(out.headers, ctx, ALL_INJECT);

    if (context !== undefined) {
      const fwd = bag();
      ENGINE.inject(context, format, fwd);
      for (const name in fwd.headers) {
        must(!CONTROL.test(fwd.headers[name]), `control character in ${name}`);
        must(FIXED_NAMES.has(name) || BAGGAGE_NAME.test(name), `unexpected header ${name}`);
      }
      ENGINE_LOG.check();
    }
  }
}

export const engineCaseArgs = fc.tuple(requestHeaders, fc.boolean(), hexChars(16, 16));

/** The longest id each extractor may return (hex characters), before the engine resizes. */
const MAX_RAW: Readonly<Record<ExtractFormat, { trace: number; span: number; parent: number }>> = {
  w3c: { trace: 32, span: 16, parent: 0 },
  b3: { trace: 32, span: 16, parent: 16 },
  jaeger: { trace: 32, span: 16, parent: Infinity },
  ot: { trace: 32, span: 16, parent: 0 },
  // Over 40 digits: the low 128 bits as 17 bytes.
  datadog: { trace: 34, span: 34, parent: 0 },
  aws: { trace: 32, span: 16, parent: 0 },
  // 20 digits may exceed 2^64: 9 bytes.
  gcp: { trace: 32, span: 18, parent: 0 },
  instana: { trace: Infinity, span: Infinity, parent: 0 },
};

const DIRECT_LOG = new CheckingLogger();

/** Headers for one extractor: at least one of its triggers, plus a whole random request. */
export function directHeaders(format: ExtractFormat): fc.Arbitrary<RequestHeaders> {
  const extractor: FormatExtractor = EXTRACTORS[format];
  const own = fc.dictionary(fc.constantFrom(...extractor.triggers), headerValue, {
    minKeys: 1,
    maxKeys: extractor.triggers.length,
  });
  return fc.tuple(own, requestHeaders).map(([mine, others]) => ({ ...others, ...mine }));
}

/** One extractor called directly: no throw, known warnings, ids even-length lowercase hex within bounds. */
export function directCase(format: ExtractFormat, headers: RequestHeaders): void {
  const ctx = EXTRACTORS[format].extract(headers, DIRECT_LOG);
  DIRECT_LOG.check();
  if (ctx === undefined) return;
  const bounds = MAX_RAW[format];
  for (const [what, id, max] of [
    ['trace', ctx.traceId, bounds.trace],
    ['span', ctx.spanId, bounds.span],
    ['parent', ctx.parentId, bounds.parent],
  ] as const) {
    if (id === undefined) continue;
    must(LOWER_HEX.test(id) && id.length % 2 === 0 && id.length <= max, `${format} ${what} id ${JSON.stringify(id)}`);
  }
  if (ctx.baggage !== undefined) {
    const keys = Object.keys(ctx.baggage);
    must(keys.length <= MAX_BAGGAGE_ITEMS, `${keys.length} baggage items`);
    for (const key of keys) must(typeof ctx.baggage[key] === 'string', `baggage ${key}`);
  }
}

const LOWER_HEX = /^[0-9a-f]+$/;

// ---------------------------------------------------------------- tags header

/** Kong's Lua pattern as a JS regex: right on short input, quadratic on long (the oracle). */
const KONG_ITEM = /^[ \t\n\v\f\r]*([^ \t\n\v\f\r]+)[ \t\n\v\f\r]*=[ \t\n\v\f\r]*(.*[^ \t\n\v\f\r])[ \t\n\v\f\r]*$/s;

export function oracle(text: string): { tags: Record<string, string>; bad: string[] } {
  const tags: Record<string, string> = Object.create(null) as Record<string, string>;
  const bad: string[] = [];
  for (const item of text.split(';')) {
    if (item === '') continue;
    const m = KONG_ITEM.exec(item);
    if (m === null) bad.push(item);
    else tags[m[1]] = m[2];
  }
  return { tags, bad };
}

export const tagsUnit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'ab=; \t\n\v\f\r=') },
  { weight: 1, arbitrary: fc.constantFrom('\x00', '\x1b', '\x7f', '\x85', '\xa0', '\u2028', 'é', '"', '\\', '\ud800') },
);
export const LUA_SPACE = /[ \t\n\v\f\r]/;

/** The parser agrees with Kong's pattern (short inputs only: the pattern is quadratic). */
export function tagsOracleCase(text: string): void {
  const got = parseTagsHeader(text);
  const want = oracle(text);
  must(
    JSON.stringify({ ...got?.tags }) === JSON.stringify({ ...want.tags }),
    `tags of ${JSON.stringify(text)}: ${JSON.stringify(got?.tags)}`,
  );
  const warning =
    want.bad.length === 0 ? undefined : `Could not parse the following Zipkin tags: ${want.bad.join(', ')}`;
  must(got?.warning === warning, `warning of ${JSON.stringify(text)}: ${JSON.stringify(got?.warning)}`);
}

/** Any input: no throw; keys non-empty without Lua whitespace; values non-empty and trimmed. */
export function tagsShapeCase(v: string | string[]): void {
  const parsed = parseTagsHeader(v);
  must(parsed !== undefined, 'a string gives a result');
  for (const [key, text] of Object.entries(parsed?.tags ?? {})) {
    must(key.length > 0 && !LUA_SPACE.test(key), `key ${JSON.stringify(key)}`);
    must(
      text.length > 0 && !LUA_SPACE.test(text[0]) && !LUA_SPACE.test(text[text.length - 1]),
      `value ${JSON.stringify(text)}`,
    );
  }
}

export const tagsLongArb = fc.oneof(
  fc.string({ unit: tagsUnit, maxLength: 400 }),
  hostile,
  fc.array(hostile, { maxLength: 3 }),
);

// ---------------------------------------------------------------- time

export const KIB = 1024;

/** Adversarial shapes of `n` characters: runs of what each parser splits or matches on. */
export function shapes(n: number): Record<string, string> {
  const fill = (s: string): string => s.repeat(Math.ceil(n / s.length)).slice(0, n);
  return {
    hex: fill('a'),
    'hex+x': fill('a').slice(1) + 'x',
    dashes: fill('-'),
    'hex-dash': fill('ab-'),
    colons: fill('a:'),
    equals: fill('='),
    semicolons: fill(';'),
    'eq-semi': fill('=;'),
    spaces: fill(' '),
    'k spaces = spaces': 'k' + fill(' ').slice(2) + '=',
    'space runs': 'a' + fill(' =').slice(2) + 'x',
    digits: fill('9'),
    'digits+x': fill('9').slice(1) + 'x',
    'aws items': fill('Root=1-;'),
    'b3 members': fill(',b3=x'),
    percent: fill('%0'),
  };
}

/** Every header a format reads, and the tags parser. */
export const TARGETS: { name: string; run: (v: string) => unknown; viaEngine?: (v: string) => unknown }[] = [];
{
  const quiet: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  for (const format of EXTRACT_FORMATS) {
    const extractor = EXTRACTORS[format];
    const engine = new PropagationEngine({ extract: [format], inject: [], clear: [], default_format: 'w3c' }, quiet);
    const names = [...extractor.triggers];
    if (format === 'jaeger') names.push('uberctx-k');
    if (format === 'ot') names.push('ot-baggage-k');
    for (const name of names) {
      const headersFor = (v: string): RequestHeaders => {
        // Instana reads `s` only when `t` is there; baggage is read only with the format's ids.
        if (format === 'instana') return { 'x-instana-t': v, 'x-instana-s': v, [name]: v };
        if (name === 'uberctx-k') return { 'uber-trace-id': `${'a'.repeat(32)}:${'b'.repeat(16)}:0:01`, [name]: v };
        if (name === 'ot-baggage-k') return { 'ot-tracer-sampled': '1', [name]: v };
        return { [name]: v };
      };
      TARGETS.push({
        name: `${format} ${name}`,
        run: (v) => extractor.extract(headersFor(v), quiet),
        viaEngine: (v) => engine.extract(headersFor(v)),
      });
    }
  }
  TARGETS.push({ name: 'tags header', run: (v) => parseTagsHeader(v) });
}

/** Best of five samples of `reps` calls, in ms per call: the minimum filters out GC and other load. */
export function timeOf(fn: () => unknown, reps: number): number {
  return timesOf([fn], reps, 5)[0];
}

/**
 * The best ms per call of each of `fns` over samples taken in turn (a, b, a, b, …), so that a
 * change in the machine's speed during the measurement reaches every function alike.
 */
export function timesOf(fns: Array<() => unknown>, reps: number, samples = 7): number[] {
  const best = fns.map(() => Infinity);
  for (let sample = 0; sample < samples; sample++) {
    for (let f = 0; f < fns.length; f++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < reps; i++) fns[f]();
      best[f] = Math.min(best[f], Number(process.hrtime.bigint() - start) / 1e6 / reps);
    }
  }
  return best;
}
