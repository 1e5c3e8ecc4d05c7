import { effectivePropagation, validateConfig } from '../../src/config';
import type { EffectivePropagation, ZipkinConfigInput } from '../../src/config/types';
import type { TraceContext } from '../../src/propagation/context';
import { type ExtractResult, PropagationEngine } from '../../src/propagation/engine';
import { escapeUri, unescapeUri } from '../../src/propagation/uri-escape';
import { headerBag, recordingLogger } from '../support/recording-logger';

const T32 = '0af7651916cd43dd8448eb211c80319c';
const T16 = '8448eb211c80319c';
const S = 'b7ad6b7169203331';
const P = 'b7ad6b7169203332';
const PROXY = '2222222222222222';
const REQ = '1111111111111111';

function engineFor(config: ZipkinConfigInput) {
  const log = recordingLogger();
  const effective = effectivePropagation(validateConfig(config));
  return { engine: new PropagationEngine(effective, log), log, effective };
}

function engineWith(effective: EffectivePropagation) {
  const log = recordingLogger();
  return { engine: new PropagationEngine(effective, log), log };
}

/** Zipkin's inject context (§4.7): the extracted context with ids taken from the proxy span. */
function zipkinInject(extracted: ExtractResult, sampled: boolean, generatedTrace = T32): TraceContext {
  const ctx = extracted.context ?? {};
  return { ...ctx, traceId: ctx.traceId ?? generatedTrace, spanId: PROXY, parentId: REQ, shouldSample: sampled };
}

describe('extraction order and normalisation (§4.2)', () => {
  test('the first format in the configured order with a non-empty context wins', () => {
    const { engine } = engineWith({ extract: ['w3c', 'b3'], inject: [], clear: [], default_format: 'b3' });
    const r = engine.extract({ traceparent: `00-${T32}-${S}-01`, 'x-b3-traceid': T16, 'x-b3-spanid': P });
    expect(r.format).toBe('w3c');
    expect(r.context).toEqual({ traceId: T32, spanId: S, shouldSample: true, w3cFlags: 1, traceIdOriginalSize: 16 });
  });

  test('a format whose trigger headers are absent is skipped, the next one is tried', () => {
    const { engine } = engineWith({ extract: ['w3c', 'b3'], inject: [], clear: [], default_format: 'b3' });
    const r = engine.extract({ 'x-b3-traceid': T16, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    expect(r.format).toBe('b3');
    expect(r.context?.traceId).toBe('0000000000000000' + T16);
    expect(r.context?.traceIdOriginalSize).toBe(8);
    expect(r.context?.reuseSpanId).toBe(true);
  });

  test('a request without any trigger header of the configured formats extracts nothing, silently', () => {
    const { engine, log } = engineFor({});
    const r = engine.extract({ host: 'example.com', accept: '*/*', 'x-request-id': 'abc', tracestate2: 'x' });
    expect(r).toEqual({ context: undefined, format: undefined });
    expect(log.warnings).toEqual([]);
  });

  test('a trigger header among many others is found, in a null-prototype object as Node gives them', () => {
    const { engine } = engineFor({});
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < 30; i++) headers[`x-other-${i}`] = String(i);
    headers['uber-trace-id'] = `${T32}:${S}:0:1`;
    const r = engine.extract(headers);
    expect(r.format).toBe('jaeger');
    expect(r.context?.traceId).toBe(T32);
    expect(r.context?.spanId).toBe(S);
  });

  test('headers from a class instance are looked up by name (values its prototype gives count)', () => {
    const { engine } = engineFor({});
    class Carrier {
      get traceparent(): string {
        return `00-${T32}-${S}-01`;
      }
    }
    const r = engine.extract(new Carrier() as unknown as Record<string, string>);
    expect(r.format).toBe('w3c');
    expect(r.context?.traceId).toBe(T32);
  });

  test('a trigger key whose value is undefined counts as absent', () => {
    const { engine, log } = engineFor({});
    const r = engine.extract({ traceparent: undefined, host: 'example.com' });
    expect(r).toEqual({ context: undefined, format: undefined });
    expect(log.warnings).toEqual([]);
  });

  test('an invalid format yields nothing and extraction continues with the next format', () => {
    const { engine, log } = engineWith({ extract: ['w3c', 'jaeger'], inject: [], clear: [], default_format: 'b3' });
    const r = engine.extract({ traceparent: 'garbage', 'uber-trace-id': `${T32}:${S}:0:1` });
    expect(log.warnings).toEqual(['invalid W3C traceparent header; ignoring.']);
    expect(r.format).toBe('jaeger');
    expect(r.context?.spanId).toBe(S);
  });

  test('short jaeger ids are left-padded; the original width is remembered', () => {
    const { engine } = engineWith({ extract: ['jaeger'], inject: [], clear: [], default_format: 'b3' });
    const r = engine.extract({ 'uber-trace-id': '1234:abc:0:1' });
    expect(r.context?.traceId).toBe('0'.repeat(28) + '1234');
    expect(r.context?.traceIdOriginalSize).toBe(2);
    expect(r.context?.spanId).toBe('0000000000000abc');
  });

  test('extract: null (header_type ignore) and extract: [] extract nothing', () => {
    const headers = { traceparent: `00-${T32}-${S}-01` };
    expect(engineWith({ extract: null, inject: [], clear: [], default_format: 'b3' }).engine.extract(headers)).toEqual({
      context: undefined,
      format: undefined,
    });
    expect(
      engineWith({ extract: [], inject: [], clear: [], default_format: 'b3' }).engine.extract(headers).format,
    ).toBeUndefined();
  });

  test('a context without a trace id still wins (ot sampling only)', () => {
    const { engine } = engineWith({ extract: ['ot', 'w3c'], inject: [], clear: [], default_format: 'b3' });
    const r = engine.extract({ 'ot-tracer-sampled': '1', traceparent: `00-${T32}-${S}-01` });
    expect(r.format).toBe('ot');
    expect(r.context?.traceId).toBeUndefined();
    expect(r.context?.shouldSample).toBe(true);
  });

  test('docs/design.md difference 1: traceparent + tracestate without b3= is not captured by b3 in the legacy order', () => {
    const { engine } = engineFor({});
    const r = engine.extract({ traceparent: `00-${T32}-${S}-01`, tracestate: 'congo=t61rcWkgMzE' });
    expect(r.format).toBe('w3c');
    expect(r.context?.traceId).toBe(T32);
  });

  test('a tracestate with a b3= member is read by b3 as the single header', () => {
    const { engine } = engineFor({});
    const r = engine.extract({ tracestate: `b3=${T32}-${S}-1` });
    expect(r.format).toBe('b3');
    expect(r.context).toMatchObject({ traceId: T32, spanId: S, shouldSample: true, singleHeader: true });
  });
});

describe('injection (§4.5)', () => {
  test('preserve injects the extracted format; b3 from the single header stays single', () => {
    const { engine } = engineFor({});
    const extracted = engine.extract({ b3: `${T32}-${S}-1-${P}` });
    const bag = headerBag();
    const ids = engine.inject(zipkinInject(extracted, true), extracted.format, bag);
    expect(bag.headers).toEqual({ b3: `${T32}-${PROXY}-1-${REQ}` });
    expect(ids).toEqual({ b3: T32 });
  });

  test('preserve with nothing extracted falls back to default_format', () => {
    const { engine } = engineWith({ extract: ['w3c'], inject: ['preserve'], clear: [], default_format: 'jaeger' });
    const extracted = engine.extract({});
    const bag = headerBag();
    engine.inject(zipkinInject(extracted, true), extracted.format, bag);
    expect(bag.headers).toEqual({ 'uber-trace-id': `${T32}:${PROXY}:${REQ}:01` });
  });

  test('an explicit b3 entry stays multi-header even for a single-header request', () => {
    const { engine } = engineWith({ extract: ['b3'], inject: ['b3'], clear: [], default_format: 'b3' });
    const extracted = engine.extract({ b3: `${T32}-${S}-1` });
    const bag = headerBag();
    engine.inject(zipkinInject(extracted, true), extracted.format, bag);
    expect(bag.headers).toEqual({
      'x-b3-traceid': T32,
      'x-b3-spanid': PROXY,
      'x-b3-parentspanid': REQ,
      'x-b3-sampled': '1',
    });
  });

  test('legacy header_type=w3c with no incoming headers injects both b3 and w3c (§1.3)', () => {
    const { engine } = engineFor({ header_type: 'w3c' });
    const extracted = engine.extract({});
    const bag = headerBag();
    const ids = engine.inject(zipkinInject(extracted, true), extracted.format, bag);
    expect(bag.headers).toEqual({
      'x-b3-traceid': T32,
      'x-b3-spanid': PROXY,
      'x-b3-parentspanid': REQ,
      'x-b3-sampled': '1',
      traceparent: `00-${T32}-${PROXY}-01`,
    });
    expect(ids).toEqual({ b3: T32, w3c: T32 });
  });

  test('a 64-bit incoming id keeps 64 bits where the format allows, and is padded elsewhere', () => {
    const { engine } = engineWith({
      extract: ['b3'],
      inject: ['b3', 'jaeger', 'ot', 'instana', 'w3c', 'aws', 'gcp', 'datadog'],
      clear: [],
      default_format: 'b3',
    });
    const extracted = engine.extract({ 'x-b3-traceid': T16, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    const bag = headerBag();
    const ids = engine.inject(zipkinInject(extracted, true), extracted.format, bag);
    const padded = '0000000000000000' + T16;
    expect(bag.headers['x-b3-traceid']).toBe(T16);
    expect(bag.headers['uber-trace-id']).toBe(`${T16}:${PROXY}:${REQ}:01`);
    expect(bag.headers['ot-tracer-traceid']).toBe(T16);
    expect(bag.headers['x-instana-t']).toBe(T16);
    expect(bag.headers.traceparent).toBe(`00-${padded}-${PROXY}-01`);
    expect(bag.headers['x-amzn-trace-id']).toBe(`Root=1-00000000-00000000${T16};Parent=${PROXY};Sampled=1`);
    expect(bag.headers['x-cloud-trace-context']).toBe(`${padded}/${BigInt('0x' + PROXY).toString()};o=1`);
    expect(bag.headers['x-datadog-trace-id']).toBe(BigInt('0x' + T16).toString());
    expect(ids).toEqual({
      b3: T16,
      jaeger: T16,
      ot: T16,
      instana: T16,
      w3c: padded,
      aws: padded,
      gcp: padded,
      datadog: BigInt('0x' + T16).toString(),
    });
  });

  test('a generated trace id (no original width) uses each injector default: ot and datadog get the low 64 bits', () => {
    const { engine } = engineWith({ extract: [], inject: ['b3', 'ot', 'datadog'], clear: [], default_format: 'b3' });
    const bag = headerBag();
    engine.inject({ traceId: T32, spanId: PROXY, parentId: REQ, shouldSample: true }, undefined, bag);
    expect(bag.headers['x-b3-traceid']).toBe(T32);
    expect(bag.headers['ot-tracer-traceid']).toBe(T16);
    expect(bag.headers['x-datadog-trace-id']).toBe(BigInt('0x' + T16).toString());
  });

  test('traceid_byte_count 8: an 8-byte generated id is padded by the 16-byte defaults', () => {
    const { engine } = engineWith({ extract: [], inject: ['w3c', 'b3', 'ot'], clear: [], default_format: 'b3' });
    const bag = headerBag();
    engine.inject({ traceId: T16, spanId: PROXY, shouldSample: true }, undefined, bag);
    expect(bag.headers.traceparent).toBe(`00-0000000000000000${T16}-${PROXY}-01`);
    expect(bag.headers['x-b3-traceid']).toBe('0000000000000000' + T16);
    expect(bag.headers['ot-tracer-traceid']).toBe(T16);
  });

  test('inject: [] injects nothing and returns no log ids', () => {
    const { engine } = engineWith({ extract: ['w3c'], inject: [], clear: [], default_format: 'b3' });
    const bag = headerBag();
    expect(engine.inject({ traceId: T32, spanId: PROXY }, undefined, bag)).toBeUndefined();
    expect(bag.headers).toEqual({});
  });

  test('injectors missing a required field are reported once, joined, and the others still run', () => {
    const { engine, log } = engineWith({ extract: [], inject: ['w3c', 'b3', 'aws'], clear: [], default_format: 'b3' });
    const bag = headerBag();
    const ids = engine.inject({ shouldSample: true }, undefined, bag);
    expect(log.errors).toEqual([
      'w3c injector context is invalid: field trace_id not found in context, aws injector context is invalid: field trace_id not found in context',
    ]);
    expect(bag.headers).toEqual({ 'x-b3-sampled': '1' });
    expect(ids).toEqual({ b3: '' });
  });
});

describe('clear (§4.6)', () => {
  test('configured headers are removed before injection, which may set them again', () => {
    const { engine } = engineFor({
      propagation: { extract: ['w3c'], inject: ['w3c'], clear: ['X-Secret', 'traceparent'], default_format: 'w3c' },
    });
    const incoming = { traceparent: `00-${T32}-${S}-01`, 'x-secret': 'abc', other: 'kept' };
    const extracted = engine.extract(incoming);
    const bag = headerBag(incoming);
    engine.clear(bag);
    expect(bag.headers).toEqual({ other: 'kept' });
    engine.inject(zipkinInject(extracted, true), extracted.format, bag);
    expect(bag.headers).toEqual({ other: 'kept', traceparent: `00-${T32}-${PROXY}-01` });
  });
});

describe('unsampled requests (§4.7 with docs/design.md difference 2)', () => {
  test('every format with a sampling field says "not sampled" explicitly', () => {
    const { engine } = engineWith({
      extract: ['b3'],
      inject: ['b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'],
      clear: [],
      default_format: 'b3',
    });
    const extracted = engine.extract({ b3: `${T32}-${S}-0` });
    const bag = headerBag();
    engine.inject(zipkinInject(extracted, false), extracted.format, bag);
    expect(bag.headers['x-b3-sampled']).toBe('0');
    expect(bag.headers.b3).toBe(`${T32}-${PROXY}-0-${REQ}`);
    expect(bag.headers.traceparent).toBe(`00-${T32}-${PROXY}-00`);
    expect(bag.headers['uber-trace-id']).toBe(`${T32}:${PROXY}:${REQ}:00`);
    expect(bag.headers['ot-tracer-sampled']).toBe('0');
    expect(bag.headers['x-datadog-sampling-priority']).toBe('0');
    expect(bag.headers['x-amzn-trace-id']).toBe(`Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=${PROXY};Sampled=0`);
    expect(bag.headers['x-cloud-trace-context']).toBe(`${T32}/${BigInt('0x' + PROXY).toString()};o=0`);
    expect(bag.headers['x-instana-l']).toBe('0');
  });
});

describe('log trace ids (§7), as the Kong spec observes them', () => {
  const incoming: Record<string, Record<string, string>> = {
    b3: { 'x-b3-traceid': '4bf92000000000000000000000000001', 'x-b3-spanid': '0000000000000003', 'x-b3-sampled': '1' },
    'b3-single': { b3: '4bf92000000000000000000000000001-0000000000000003-1-0000000000000003' },
    jaeger: { 'uber-trace-id': '4bf92000000000000000000000000001:0000000000000003:0000000000000003:01' },
    w3c: { traceparent: '00-4bf92000000000000000000000000001-0000000000000003-01' },
    gcp: { 'x-cloud-trace-context': '4bf92000000000000000000000000001/1;o=1' },
    aws: { 'x-amzn-trace-id': 'Root=1-4bf92000-000000000000000000000001;Parent=0000000000000003;Sampled=1' },
    ot: {
      'ot-tracer-traceid': '4bf92000000000000000000000000001',
      'ot-tracer-spanid': '0000000000000003',
      'ot-tracer-sampled': '1',
    },
  };
  const key = (f: string): string => (f === 'b3-single' ? 'b3' : f);
  const formats = ['b3', 'b3-single', 'jaeger', 'w3c', 'gcp', 'aws', 'ot'] as const;

  test.each(formats)('header_type=%s, no incoming headers: keys {X, b3}, all hex', (x) => {
    const { engine } = engineFor({ header_type: x });
    const extracted = engine.extract({});
    const ids = engine.inject(zipkinInject(extracted, true), extracted.format, headerBag()) ?? {};
    expect(Object.keys(ids).sort()).toEqual([...new Set([key(x), 'b3'])].sort());
    for (const v of Object.values(ids)) expect(v).toMatch(/^[0-9a-f]+$/);
  });

  for (const x of formats) {
    for (const y of formats) {
      if (key(x) === key(y)) continue;
      test(`header_type=${x}, incoming ${y}: keys {X, Y} and the incoming id under Y`, () => {
        const { engine } = engineFor({ header_type: x });
        const extracted = engine.extract(incoming[y]);
        const ids = engine.inject(zipkinInject(extracted, true), extracted.format, headerBag()) ?? {};
        expect(Object.keys(ids).sort()).toEqual([key(x), key(y)].sort());
        expect(ids[key(y)]).toBe('4bf92000000000000000000000000001');
      });
    }
  }
});

describe('baggage escaping helpers', () => {
  test('escape_uri component mode: only A-Za-z0-9-._~ stay, uppercase hex', () => {
    expect(escapeUri("a b!'()*~._-é")).toBe('a%20b%21%27%28%29%2A~._-%C3%A9');
  });
  test('a lone surrogate is encoded as U+FFFD instead of throwing', () => {
    expect(escapeUri('x\uD800y')).toBe('x%EF%BF%BDy');
  });
  test('unescape_uri: + is a space, malformed escapes are kept', () => {
    expect(unescapeUri('b%20r56+7')).toBe('b r56 7');
    expect(unescapeUri('100%+ok%41%zz')).toBe('100% okA%zz');
  });
});
