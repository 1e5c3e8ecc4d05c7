/**
 * W3C Trace Context Level 2 through the command-line gateway (docs/design.md difference 8):
 * the built CLI with a decK file, an echo upstream showing the headers it got. Kong forwards
 * any tracestate untouched, refuses future traceparent versions and keeps only the sampled bit.
 */
import {
  type CliProcess,
  type EchoedRequest,
  type EchoServer,
  request,
  startCliGateway,
  startEcho,
  tempDir,
  type TempDir,
} from './cli-harness';

const T = '12345678901234567890123456789012';
const S = '1234567890123456';
const HEX16 = /^[0-9a-f]{16}$/;

let echo: EchoServer;
let dir: TempDir;
let gateway: CliProcess;
let port: number;

function plugin(propagation: Record<string, unknown>, sampleRatio = 1): Record<string, unknown> {
  return { name: 'zipkin', config: { sample_ratio: sampleRatio, propagation } };
}

beforeAll(async () => {
  echo = await startEcho();
  dir = tempDir();
  const w3c = { extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' };
  const deck = {
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `http://127.0.0.1:${echo.port}`,
        routes: [
          { name: 'w3c', paths: ['/w3c'] },
          { name: 'b3', paths: ['/b3'], plugins: [plugin({ extract: ['w3c'], inject: ['b3'], default_format: 'b3' })] },
          { name: 'cleared', paths: ['/cleared'], plugins: [plugin({ ...w3c, clear: ['tracestate'] })] },
          {
            name: 'b3member',
            paths: ['/b3member'],
            plugins: [plugin({ extract: ['b3', 'w3c'], inject: ['preserve'], default_format: 'w3c' })],
          },
        ],
      },
    ],
    plugins: [plugin(w3c)],
  };
  ({ cli: gateway, port } = await startCliGateway(dir, deck));
});

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await echo?.close();
  dir?.remove();
});

async function upstream(path: string, headers: Record<string, string | string[]>): Promise<Record<string, string>> {
  const reply = await request(port, path, { headers });
  expect(reply.status).toBe(200);
  return (JSON.parse(reply.body) as EchoedRequest).headers;
}

/** The traceparent's fields. */
function fields(traceparent: string | undefined): string[] {
  return (traceparent ?? '').split('-');
}

describe('gateway-zipkin --config: W3C Trace Context Level 2 (docs/design.md difference 8)', () => {
  test('a valid tracestate goes upstream with the continued traceparent, normalised', async () => {
    const h = await upstream('/w3c', { traceparent: `00-${T}-${S}-01`, tracestate: 'foo=1 \t , \t bar= 2,,baz=3' });
    const [version, trace, parent, flags] = fields(h.traceparent);
    expect([version, trace, flags]).toEqual(['00', T, '01']);
    expect(parent).toMatch(HEX16);
    expect(parent).not.toBe(S);
    expect(h.tracestate).toBe('foo=1,bar= 2,baz=3');
  });

  test('several tracestate header lines are combined with a comma', async () => {
    const h = await upstream('/w3c', {
      traceparent: `00-${T}-${S}-00`,
      tracestate: ['foo=1,bar=2', 'rojo=1', 'baz=3'],
    });
    expect(h.tracestate).toBe('foo=1,bar=2,rojo=1,baz=3');
  });

  test.each([
    ['33 members', Array.from({ length: 33 }, (_, i) => `bar${i + 1}=${i + 1}`).join(',')],
    ['an illegal key', 'foo=1,FOO=2'],
    ['a key starting with @', '@foo=1,bar=2'],
    ['a 257-character key', 'foo=1,' + 'z'.repeat(257) + '=1'],
    ['an = in a value', 'foo=bar=baz'],
    ['an empty value', 'foo=,bar=3'],
  ])('an invalid tracestate (%s) is removed; the trace continues', async (_name, tracestate) => {
    const h = await upstream('/w3c', { traceparent: `00-${T}-${S}-01`, tracestate });
    expect(fields(h.traceparent)[1]).toBe(T);
    expect(h.tracestate).toBeUndefined();
  });

  test('32 members and keys with @ anywhere but first are kept', async () => {
    const list = Array.from({ length: 31 }, (_, i) => `bar${i + 1}=${i + 1}`).join(',') + ',foo@bar@baz=1';
    const h = await upstream('/w3c', { traceparent: `00-${T}-${S}-01`, tracestate: list });
    expect(h.tracestate).toBe(list);
  });

  test.each([
    ['missing', undefined],
    ['invalid (all-zero parent)', `00-${T}-${'0'.repeat(16)}-01`],
    ['invalid (upper-case hex, valid for Kong)', `00-${T.replace(/1/g, 'A')}-${S}-01`],
    ['of version ff', `ff-${T}-${S}-01`],
  ])(
    'tracestate is removed when the traceparent is %s; a new trace with the random flag',
    async (_name, traceparent) => {
      const headers: Record<string, string> = { tracestate: 'foo=1' };
      if (traceparent !== undefined) headers.traceparent = traceparent;
      const h = await upstream('/w3c', headers);
      const [version, trace, parent, flags] = fields(h.traceparent);
      expect(version).toBe('00');
      expect(trace).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.toLowerCase()).not.toBe(T.replace(/1/g, 'a'));
      expect(trace).not.toBe(T);
      expect(parent).toMatch(HEX16);
      // our trace ids are random: W3C level 2's random flag, sampled by sample_ratio 1
      expect(flags).toBe('03');
      expect(h.tracestate).toBeUndefined();
    },
  );

  test('a future version is continued as version 00 (Kong refuses it and starts a new trace)', async () => {
    for (const traceparent of [`cc-${T}-${S}-01`, `cc-${T}-${S}-01-what-the-future-will-be-like`]) {
      const h = await upstream('/w3c', { traceparent, tracestate: 'foo=1' });
      expect(fields(h.traceparent).slice(0, 2)).toEqual(['00', T]);
      expect(fields(h.traceparent)[3]).toBe('01');
      expect(h.tracestate).toBe('foo=1');
    }
    const h = await upstream('/w3c', { traceparent: `cc-${T}-${S}-01.what-the-future-will-be-like` });
    expect(fields(h.traceparent)[1]).not.toBe(T);
  });

  test('the random flag (02) travels with the incoming trace id; undefined bits are zeroed', async () => {
    expect(fields((await upstream('/w3c', { traceparent: `00-${T}-${S}-02` })).traceparent)[3]).toBe('02');
    expect(fields((await upstream('/w3c', { traceparent: `00-${T}-${S}-03` })).traceparent)[3]).toBe('03');
    expect(fields((await upstream('/w3c', { traceparent: `00-${T}-${S}-ff` })).traceparent)[3]).toBe('03');
    expect(fields((await upstream('/w3c', { traceparent: `00-${T}-${S}-fd` })).traceparent)[3]).toBe('01');
  });

  test('w3c not injected: the incoming traceparent goes upstream untouched (Kong) and tracestate only with a valid one', async () => {
    const valid = await upstream('/b3', { traceparent: `00-${T}-${S}-01`, tracestate: ' foo=1 , bar=2' });
    expect(valid.traceparent).toBe(`00-${T}-${S}-01`);
    expect(valid.tracestate).toBe('foo=1,bar=2');
    expect(valid['x-b3-traceid']).toBe(T);
    const invalidList = await upstream('/b3', { traceparent: `00-${T}-${S}-01`, tracestate: 'foo=1,FOO=2' });
    expect(invalidList.traceparent).toBe(`00-${T}-${S}-01`);
    expect(invalidList.tracestate).toBeUndefined();
    const invalidParent = await upstream('/b3', { traceparent: `00-${T}-${S}-1`, tracestate: 'foo=1' });
    expect(invalidParent.traceparent).toBe(`00-${T}-${S}-1`);
    expect(invalidParent.tracestate).toBeUndefined();
    const none = await upstream('/b3', { tracestate: 'foo=1' });
    expect(none.traceparent).toBeUndefined();
    expect(none.tracestate).toBeUndefined();
  });

  test('clear: [tracestate] removes it and it is not written again', async () => {
    const h = await upstream('/cleared', { traceparent: `00-${T}-${S}-01`, tracestate: 'foo=1' });
    expect(fields(h.traceparent)[1]).toBe(T);
    expect(h.tracestate).toBeUndefined();
  });

  test('difference 1 still holds: a b3= member is read by b3; a tracestate without one leaves the request to w3c', async () => {
    const b3 = await upstream('/b3member', { tracestate: `foo=1,b3=${T}-${S}-1` });
    // preserve keeps the single-header form the context came in
    expect(b3.b3).toMatch(new RegExp(`^${T}-[0-9a-f]{16}-1-${S}$`));
    // b3 won, w3c not injected, no traceparent: the tracestate goes (its b3 member is in `b3`)
    expect(b3.tracestate).toBeUndefined();
    const w3c = await upstream('/b3member', { traceparent: `00-${T}-${S}-01`, tracestate: 'foo=1' });
    expect(fields(w3c.traceparent)[1]).toBe(T);
    expect(w3c.tracestate).toBe('foo=1');
  });
});
