/**
 * Interoperability of our aws, gcp and datadog formats with what the rest of the world
 * sends and reads. aws and gcp are checked both ways against the stock OTel propagators
 * as oracles, with their known quirks asserted (docs/otel-notes.md §4.8, §4.9). There is no stock
 * OTel datadog propagator: datadog is checked against dd-trace's rules (docs/otel-notes.md §4.10)
 * written as expectations.
 */
import { ROOT_CONTEXT, TraceFlags, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import type { SpanContext, TextMapPropagator } from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { CloudPropagator } from '@google-cloud/opentelemetry-cloud-trace-propagator';
import fc from 'fast-check';
import type { Logger } from '../../src/logger';
import { awsExtractor, awsInjector } from '../../src/propagation/aws';
import type {
  FormatExtractor,
  FormatInjector,
  HeaderWriter,
  InjectContext,
  TraceContext,
} from '../../src/propagation/context';
import { datadogExtractor, datadogInjector } from '../../src/propagation/datadog';
import { gcpExtractor, gcpInjector } from '../../src/propagation/gcp';
import { isZeroHex, resizeHex } from '../../src/propagation/hex';

type Carrier = Record<string, string>;

/** The stock GCP propagator announces its deprecation on construction; keep it out of the test output. */
function newCloudPropagator(): CloudPropagator {
  const original = process.emitWarning;
  const dropped: unknown[][] = [];
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (rest[0] === 'DeprecationWarning' && rest[1] === 'DEP_GCP_OTEL_TRACE_PROPAGATOR')
      dropped.push([warning, ...rest]);
    else (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return new CloudPropagator();
  } finally {
    process.emitWarning = original;
    // If the warning ever goes away this filter can go too.
    expect(dropped).toHaveLength(1);
  }
}

const xray = new AWSXRayPropagator();
let cloud: CloudPropagator;
beforeAll(() => {
  cloud = newCloudPropagator();
});

function oracleInject(propagator: TextMapPropagator, sc: SpanContext): Carrier {
  const carrier: Carrier = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, sc), carrier, defaultTextMapSetter);
  return carrier;
}

function oracleExtract(propagator: TextMapPropagator, carrier: Carrier): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
}

function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { log, lines };
}

/** Our extractor followed by the engine's normalisation (§4.2 step 3). */
function oursExtract(extractor: FormatExtractor, carrier: Carrier): { ctx: TraceContext | undefined; lines: string[] } {
  const { log, lines } = recordingLogger();
  const raw = extractor.extract(carrier, log);
  if (raw === undefined) return { ctx: undefined, lines };
  const ctx: TraceContext = { ...raw };
  if (raw.traceId !== undefined) {
    ctx.traceIdOriginalSize = raw.traceId.length / 2;
    ctx.traceId = resizeHex(raw.traceId, 16);
  }
  if (raw.spanId !== undefined) ctx.spanId = resizeHex(raw.spanId, 8);
  return { ctx, lines };
}

/** The engine's id resizing (§4.5 step 3) followed by our injector. */
function oursInject(injector: FormatInjector, ctx: TraceContext): { carrier: Carrier; logId: string } {
  const size = injector.sizes.find((s) => s === ctx.traceIdOriginalSize) ?? injector.sizes[0];
  const injectCtx: InjectContext = {
    traceId: ctx.traceId === undefined ? undefined : resizeHex(ctx.traceId, size),
    spanId: ctx.spanId === undefined ? undefined : resizeHex(ctx.spanId, 8),
    shouldSample: ctx.shouldSample,
  };
  const carrier: Carrier = {};
  const writer: HeaderWriter = {
    set: (name, value) => {
      carrier[name] = value;
    },
    remove: (name) => {
      delete carrier[name];
    },
  };
  const logId = injector.inject(injectCtx, writer);
  return { carrier, logId };
}

const VECTORS: readonly { name: string; traceId: string; spanId: string }[] = [
  { name: 'typical ids', traceId: '5759e988bd862e3fe1be46a994272793', spanId: '53995c3f42cd8ad8' },
  { name: 'span with a leading zero byte', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
  { name: 'a 64-bit trace padded to 128', traceId: '00000000000000008448eb211c80319d', spanId: '0000000000000001' },
  { name: 'all ones', traceId: 'f'.repeat(32), spanId: 'f'.repeat(16) },
];

const hexBytes = (n: number): fc.Arbitrary<string> =>
  fc
    .uint8Array({ minLength: n, maxLength: n })
    .map((b) => Buffer.from(b).toString('hex'))
    .filter((h) => !isZeroHex(h));

describe.each([
  ['aws', () => xray as TextMapPropagator, awsExtractor, awsInjector],
  ['gcp', () => cloud as TextMapPropagator, gcpExtractor, gcpInjector],
] as const)('%s against the stock OTel propagator', (_name, oracle, extractor, injector) => {
  describe.each(VECTORS)('$name', ({ traceId, spanId }) => {
    test.each([true, false])('ours injects (sampled %s), the oracle extracts the same ids and flag', (shouldSample) => {
      const { carrier } = oursInject(injector, { traceId, spanId, shouldSample });
      expect(oracleExtract(oracle(), carrier)).toEqual({
        traceId,
        spanId,
        traceFlags: shouldSample ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: true,
      });
    });

    test.each([TraceFlags.SAMPLED, TraceFlags.NONE])(
      'the oracle injects (flags %s), ours extracts the same ids and decision',
      (traceFlags) => {
        const carrier = oracleInject(oracle(), { traceId, spanId, traceFlags });
        expect(oursExtract(extractor, carrier)).toEqual({
          ctx: { traceId, spanId, shouldSample: traceFlags === TraceFlags.SAMPLED, traceIdOriginalSize: 16 },
          lines: [],
        });
      },
    );
  });

  test('ours: "no decision" is sent as not sampled, which the oracle reads as NONE', () => {
    const { carrier } = oursInject(injector, { traceId: VECTORS[0].traceId, spanId: VECTORS[0].spanId });
    expect(oracleExtract(oracle(), carrier)?.traceFlags).toBe(TraceFlags.NONE);
  });

  test('property: random ids and flags survive both directions', () => {
    fc.assert(
      fc.property(hexBytes(16), hexBytes(8), fc.boolean(), (traceId, spanId, sampled) => {
        const ours = oursInject(injector, { traceId, spanId, shouldSample: sampled }).carrier;
        const theirs = oracleInject(oracle(), {
          traceId,
          spanId,
          traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        });
        // Both write the very same header text.
        expect(ours).toEqual(theirs);
        expect(oracleExtract(oracle(), ours)).toEqual({
          traceId,
          spanId,
          traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
          isRemote: true,
        });
        expect(oursExtract(extractor, theirs).ctx).toEqual({
          traceId,
          spanId,
          shouldSample: sampled,
          traceIdOriginalSize: 16,
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('aws: stock AWSXRayPropagator quirks, asserted', () => {
  const TRACE = '5759e988bd862e3fe1be46a994272793';
  const SPAN = '53995c3f42cd8ad8';
  const ROOT = 'Root=1-5759e988-bd862e3fe1be46a994272793';
  const both = (header: string) => {
    const carrier = { 'x-amzn-trace-id': header };
    return { ours: oursExtract(awsExtractor, carrier), stock: oracleExtract(xray, carrier) };
  };

  test('without Sampled: Kong accepts (no decision), the stock propagator rejects the whole header', () => {
    const { ours, stock } = both(`${ROOT};Parent=${SPAN}`);
    expect(ours).toEqual({ ctx: { traceId: TRACE, spanId: SPAN, traceIdOriginalSize: 16 }, lines: [] });
    expect(stock).toBeUndefined();
  });

  test('without Parent: Kong keeps the trace id, the stock propagator rejects', () => {
    const { ours, stock } = both(`${ROOT};Sampled=1`);
    expect(ours).toEqual({ ctx: { traceId: TRACE, shouldSample: true, traceIdOriginalSize: 16 }, lines: [] });
    expect(stock).toBeUndefined();
  });

  test('without Root: Kong gives a context with no trace id, the stock propagator rejects', () => {
    const { ours, stock } = both(`Parent=${SPAN};Sampled=1`);
    expect(ours).toEqual({ ctx: { spanId: SPAN, shouldSample: true }, lines: [] });
    expect(stock).toBeUndefined();
  });

  test('a key that only starts with "Root": the stock propagator takes it, Kong ignores it', () => {
    const { ours, stock } = both(`Rooty=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN};Sampled=1`);
    expect(ours).toEqual({ ctx: { spanId: SPAN, shouldSample: true }, lines: [] });
    expect(stock).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  test('spaces around "=": Kong trims keys and values, the stock propagator rejects', () => {
    const { ours, stock } = both(`Root = 1-5759e988-bd862e3fe1be46a994272793; Parent = ${SPAN}; Sampled = 1`);
    expect(ours).toEqual({
      ctx: { traceId: TRACE, spanId: SPAN, shouldSample: true, traceIdOriginalSize: 16 },
      lines: [],
    });
    expect(stock).toBeUndefined();
  });

  test('a non-breaking space: the stock propagator trims it (JS trim), Kong does not', () => {
    const { ours, stock } = both(`${ROOT};Parent=${SPAN};Sampled=1\u00a0`);
    expect(ours).toEqual({ ctx: undefined, lines: ['warn invalid aws header sampled flag; ignoring.'] });
    expect(stock).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  test('a second "=" in a value: Kong reads up to it, the stock propagator reads the rest', () => {
    const { ours, stock } = both(`${ROOT};Parent=${SPAN};Sampled=1=0`);
    expect(ours).toEqual({
      ctx: { traceId: TRACE, spanId: SPAN, shouldSample: true, traceIdOriginalSize: 16 },
      lines: [],
    });
    expect(stock).toBeUndefined();
  });

  test('uppercase hex: both accept; ours lowercases, the stock propagator keeps the case', () => {
    const { ours, stock } = both('Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995C3F42CD8AD8;Sampled=1');
    expect(ours.ctx).toEqual({ traceId: TRACE, spanId: SPAN, shouldSample: true, traceIdOriginalSize: 16 });
    expect(stock).toEqual({
      traceId: TRACE.toUpperCase(),
      spanId: SPAN.toUpperCase(),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  test('deliberate difference 6: a 16-character non-hex Parent is rejected, as the stock propagator does (Kong accepts it)', () => {
    const { ours, stock } = both(`${ROOT};Parent=zzzzzzzzzzzzzzzz;Sampled=1`);
    expect(ours).toEqual({ ctx: undefined, lines: ['warn invalid aws header parent id; ignoring.'] });
    expect(stock).toBeUndefined();
  });

  test('Sampled=? (deferred): both reject; ours warns', () => {
    const { ours, stock } = both(`${ROOT};Parent=${SPAN};Sampled=?`);
    expect(ours).toEqual({ ctx: undefined, lines: ['warn invalid aws header sampled flag; ignoring.'] });
    expect(stock).toBeUndefined();
  });

  test('Lineage and Self are ignored by both', () => {
    const { ours, stock } = both(
      `Self=1-67891233-abcdef012345678912345678;${ROOT};Lineage=a87bd80c:1|68fd508a:5;Parent=${SPAN};Sampled=1`,
    );
    expect(ours.ctx).toEqual({ traceId: TRACE, spanId: SPAN, shouldSample: true, traceIdOriginalSize: 16 });
    expect(stock).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  test('a repeated header: both take the first value', () => {
    const carrier = { 'x-amzn-trace-id': [`${ROOT};Parent=${SPAN};Sampled=1`, 'Root=junk'] } as unknown as Carrier;
    expect(oursExtract(awsExtractor, carrier).ctx).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      shouldSample: true,
      traceIdOriginalSize: 16,
    });
    expect(oracleExtract(xray, carrier)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });
});

describe('gcp: stock CloudPropagator quirks, asserted', () => {
  const TRACE = '105445aa7843bc8bf206b12000100000';
  const WARN = 'warn invalid GCP header; ignoring.';
  const both = (header: string) => {
    const carrier = { 'x-cloud-trace-context': header };
    return { ours: oursExtract(gcpExtractor, carrier), stock: oracleExtract(cloud, carrier) };
  };

  test('uppercase hex: the stock propagator accepts it (keeping the case), Kong warns and ignores it', () => {
    const { ours, stock } = both(`${TRACE.toUpperCase()}/1;o=1`);
    expect(ours).toEqual({ ctx: undefined, lines: [WARN] });
    expect(stock).toEqual({
      traceId: TRACE.toUpperCase(),
      spanId: '0000000000000001',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  test('"o=" empty: the stock propagator reads sampled, Kong warns and ignores it', () => {
    const { ours, stock } = both(`${TRACE}/1;o=`);
    expect(ours).toEqual({ ctx: undefined, lines: [WARN] });
    expect(stock?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  test('"o=3": the stock propagator reads sampled, Kong reads not sampled (only 1 samples)', () => {
    const { ours, stock } = both(`${TRACE}/1;o=3`);
    expect(ours).toEqual({
      ctx: { traceId: TRACE, spanId: '0000000000000001', shouldSample: false, traceIdOriginalSize: 16 },
      lines: [],
    });
    expect(stock?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  test('no option: both read not sampled', () => {
    const { ours, stock } = both(`${TRACE}/1`);
    expect(ours.ctx?.shouldSample).toBe(false);
    expect(stock?.traceFlags).toBe(TraceFlags.NONE);
  });

  test('junk after the option: the stock propagator (unanchored) accepts it as not sampled, Kong warns', () => {
    const { ours, stock } = both(`${TRACE}/1;o=1junk`);
    expect(ours).toEqual({ ctx: undefined, lines: [WARN] });
    expect(stock).toEqual({ traceId: TRACE, spanId: '0000000000000001', traceFlags: TraceFlags.NONE, isRemote: true });
  });

  test('span id 0: the stock propagator stores an all-zero span id, Kong has no span id', () => {
    const { ours, stock } = both(`${TRACE}/0;o=1`);
    expect(ours).toEqual({ ctx: { traceId: TRACE, shouldSample: true, traceIdOriginalSize: 16 }, lines: [] });
    expect(stock?.spanId).toBe('0000000000000000');
  });

  test('a 20-digit span id above 2^64-1: the stock propagator yields 17 hex, Kong keeps the low 64 bits', () => {
    const { ours, stock } = both(`${TRACE}/99999999999999999999;o=1`);
    expect(ours.ctx?.spanId).toBe('6bc75e2d630fffff');
    expect(stock?.spanId).toBe('56bc75e2d630fffff');
  });

  test('a 21-digit span id: the stock propagator has no length limit, Kong warns', () => {
    const { ours, stock } = both(`${TRACE}/100000000000000000000;o=1`);
    expect(ours).toEqual({ ctx: undefined, lines: [WARN] });
    expect(stock?.spanId).toBe('56bc75e2d63100000');
  });

  test('a repeated header: both take the first value', () => {
    const carrier = { 'x-cloud-trace-context': [`${TRACE}/1;o=1`, 'junk'] } as unknown as Carrier;
    expect(oursExtract(gcpExtractor, carrier).ctx).toEqual({
      traceId: TRACE,
      spanId: '0000000000000001',
      shouldSample: true,
      traceIdOriginalSize: 16,
    });
    expect(oracleExtract(cloud, carrier)).toEqual({
      traceId: TRACE,
      spanId: '0000000000000001',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });
});

describe('across formats: stock aws in, ours gcp out, stock gcp reads the same trace', () => {
  test.each([TraceFlags.SAMPLED, TraceFlags.NONE])('flags %s', (traceFlags) => {
    const sc = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags };
    const { ctx } = oursExtract(awsExtractor, oracleInject(xray, sc));
    const { carrier, logId } = oursInject(gcpInjector, ctx!);
    expect(carrier).toEqual({
      'x-cloud-trace-context': `4bf92f3577b34da6a3ce929d0e0e4736/67667974448284343;o=${traceFlags & 1}`,
    });
    expect(logId).toBe(sc.traceId);
    expect(oracleExtract(cloud, carrier)).toEqual({ ...sc, isRemote: true });
  });
});

describe('datadog against dd-trace rules (docs/otel-notes.md §4.10), as expectations', () => {
  const dd = (headers: Carrier) => oursExtract(datadogExtractor, headers);

  test('ours injects the low 64 bits of a 128-bit trace id in decimal, as dd-trace sends x-datadog-trace-id', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { carrier, logId } = oursInject(datadogInjector, {
      traceId,
      spanId: '00f067aa0ba902b7',
      shouldSample: true,
      traceIdOriginalSize: 16,
    });
    const low64 = BigInt('0x' + traceId.slice(16)).toString(10);
    expect(low64).toBe('11803532876627986230');
    // The high 64 bits would travel as `_dd.p.tid` in x-datadog-tags; Kong (and ours) do not send it.
    expect(carrier).toEqual({
      'x-datadog-trace-id': '11803532876627986230',
      'x-datadog-parent-id': '67667974448284343',
      'x-datadog-sampling-priority': '1',
    });
    expect(logId).toBe('11803532876627986230');
  });

  test('a dd-trace 128-bit request (low 64 bits + _dd.p.tid tag): ours ignores the tag and gets a 64-bit trace id', () => {
    const { ctx, lines } = dd({
      'x-datadog-trace-id': '11803532876627986230',
      'x-datadog-parent-id': '67667974448284343',
      'x-datadog-sampling-priority': '1',
      'x-datadog-tags': '_dd.p.tid=4bf92f3577b34da6,_dd.p.dm=-0',
    });
    expect(lines).toEqual([]);
    expect(ctx).toEqual({
      traceId: '0000000000000000a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      shouldSample: true,
      traceIdOriginalSize: 8,
    });
  });

  test.each([
    ['2', 'user keep', true],
    ['1', 'auto keep', true],
    ['0', 'auto reject', false],
    ['-1', 'user reject', false],
  ])('dd-trace priority %s (%s) → sampled %s', (priority, _meaning, expected) => {
    expect(
      dd({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '2', 'x-datadog-sampling-priority': priority }).ctx
        ?.shouldSample,
    ).toBe(expected);
  });

  test('"123abc": dd-trace stops at the first non-digit (123), ours warns and drops the id', () => {
    expect(dd({ 'x-datadog-trace-id': '123abc', 'x-datadog-parent-id': '2' })).toEqual({
      ctx: undefined,
      lines: ['warn x-datadog-trace-id header invalid; ignoring.'],
    });
  });

  test('"-1": dd-trace reads two\'s complement (ffffffffffffffff), ours warns and drops the id', () => {
    expect(dd({ 'x-datadog-trace-id': '-1' })).toEqual({
      ctx: undefined,
      lines: ['warn x-datadog-trace-id header invalid; ignoring.'],
    });
  });

  test('2^64: dd-trace wraps to 0; ours keeps 9 bytes (a 128-bit trace id) and re-injects its low 64 bits, 0', () => {
    const { ctx, lines } = dd({ 'x-datadog-trace-id': '18446744073709551616', 'x-datadog-parent-id': '2' });
    expect(lines).toEqual([]);
    expect(ctx).toEqual({
      traceId: '00000000000000010000000000000000',
      spanId: '0000000000000002',
      traceIdOriginalSize: 9,
    });
    expect(oursInject(datadogInjector, ctx!).carrier['x-datadog-trace-id']).toBe('0');
  });

  test('trace id 0: dd-trace rejects it; ours drops it too (silently) but keeps the parent', () => {
    expect(dd({ 'x-datadog-trace-id': '0', 'x-datadog-parent-id': '2' })).toEqual({
      ctx: { spanId: '0000000000000002' },
      lines: [],
    });
  });

  test('parent id 0: dd-trace accepts it; ours drops it (silently)', () => {
    expect(dd({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '0' })).toEqual({
      ctx: { traceId: '00000000000000000000000000000001', traceIdOriginalSize: 1 },
      lines: [],
    });
  });

  test('missing parent id: dd-trace rejects the context; ours keeps the trace id', () => {
    expect(dd({ 'x-datadog-trace-id': '1' }).ctx).toEqual({
      traceId: '00000000000000000000000000000001',
      traceIdOriginalSize: 1,
    });
  });

  test('a dd-trace 64-bit request round-trips through ours unchanged', () => {
    const headers = {
      'x-datadog-trace-id': '9532127138774266269',
      'x-datadog-parent-id': '6023947403358210776',
      'x-datadog-sampling-priority': '1',
    };
    const { ctx } = dd(headers);
    expect(oursInject(datadogInjector, ctx!).carrier).toEqual(headers);
  });
});
