/**
 * `http_endpoint`'s broker schemes (src/config/endpoint.ts): what `kafka://` and
 * `amqp(s)://` URLs parse to, and the errors `validateConfig` reports for wrong ones, named
 * by the field path as Kong names its errors. HTTP endpoints stay Kong's (validate.test.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../../src/config/errors';
import {
  AMQP_DEFAULT_MAX_MESSAGE_BYTES,
  KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  parseEndpoint,
} from '../../src/config/endpoint';
import { validateConfig } from '../../src/config/validate';

function issues(http_endpoint: string): { path: string; reason: string }[] {
  try {
    validateConfig({ http_endpoint });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).errors];
  }
  return [];
}

describe('kafka://', () => {
  test('several brokers, topic, client id, encoding, defaults', () => {
    expect(parseEndpoint('kafka://k1:9092,k2,[::1]:9093/spans?client_id=edge&encoding=proto3')).toEqual({
      transport: 'kafka',
      brokers: ['k1:9092', 'k2:9092', '[::1]:9093'],
      topic: 'spans',
      clientId: 'edge',
      encoding: 'proto3',
      tls: false,
      ca: null,
      sasl: null,
      maxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    });
    expect(parseEndpoint('kafka://k1')).toMatchObject({
      brokers: ['k1:9092'],
      topic: 'zipkin',
      clientId: 'gateway-zipkin',
      encoding: undefined,
    });
  });

  test('TLS, SASL with percent-encoded credentials, max_message_bytes', () => {
    expect(
      parseEndpoint('kafka://us%40er:p%3Ass@k1:9093/zipkin?tls=true&sasl=scram-sha-512&max_message_bytes=500000'),
    ).toMatchObject({
      tls: true,
      sasl: { mechanism: 'scram-sha-512', username: 'us@er', password: 'p:ss' },
      maxMessageBytes: 500000,
    });
  });

  test('a valid endpoint passes validateConfig as given', () => {
    const url = 'kafka://k1:9092,k2:9092/zipkin?client_id=kong';
    expect(validateConfig({ http_endpoint: url }).http_endpoint).toBe(url);
  });

  test.each([
    [
      'kafka://k1/zipkin?acks=all',
      "unknown kafka endpoint parameter 'acks' (expected one of: ca, client_id, encoding, max_message_bytes, sasl, tls)",
    ],
    ['kafka://k1,k2:x/zipkin', "invalid kafka broker address 'k2:x'"],
    ['kafka://k1,/zipkin', "invalid kafka broker address ''"],
    ['kafka://k1/bad topic', "invalid kafka topic 'bad topic' (letters, digits, '.', '_' and '-', at most 249)"],
    ['kafka://k1?encoding=thrift', "encoding must be json or proto3, got 'thrift'"],
    ['kafka://k1?tls=yes', "tls must be true or false, got 'yes'"],
    ['kafka://k1?sasl=gssapi', "sasl must be one of plain, scram-sha-256, scram-sha-512, got 'gssapi'"],
    ['kafka://k1?sasl=plain', 'sasl=plain needs a user and password in the url (kafka://user:password@host)'],
    ['kafka://u:p@k1', 'a user and password in a kafka url need ?sasl=plain, scram-sha-256 or scram-sha-512'],
    ['kafka://k1?max_message_bytes=12', "max_message_bytes must be an integer of at least 64, got '12'"],
    ['kafka://k1?client_id=', 'client_id must not be empty'],
    ['kafka:///zipkin', 'missing host in url'],
  ])('%s → config.http_endpoint: %s', (url, reason) => {
    expect(issues(url)).toEqual([{ path: 'config.http_endpoint', reason }]);
  });
});

describe('amqp:// and amqps://', () => {
  test('credentials, vhost, queue; the client gets the URL without the query', () => {
    expect(parseEndpoint('amqp://user:pw@rabbit:5673/tracing?queue=spans&encoding=json')).toEqual({
      transport: 'rabbitmq',
      connectUrl: 'amqp://user:pw@rabbit:5673/tracing',
      address: 'rabbit:5673',
      tls: false,
      ca: null,
      queue: 'spans',
      encoding: 'json',
      maxMessageBytes: AMQP_DEFAULT_MAX_MESSAGE_BYTES,
    });
    expect(parseEndpoint('amqps://rabbit')).toMatchObject({ address: 'rabbit:5671', queue: 'zipkin', tls: true });
    expect(parseEndpoint('amqp://rabbit/%2F')).toMatchObject({
      address: 'rabbit:5672',
      connectUrl: 'amqp://rabbit/%2F',
    });
  });

  test.each([
    [
      'amqp://rabbit?exchange=x',
      "unknown amqp endpoint parameter 'exchange' (expected one of: ca, encoding, max_message_bytes, queue)",
    ],
    ['amqp://rabbit/a/b', "the vhost must be one path segment (write '/' as %2F), got '/a/b'"],
    ['amqp://rabbit?queue=', 'queue must be 1 to 255 bytes long'],
    ['amqps://rabbit?encoding=gzip', "encoding must be json or proto3, got 'gzip'"],
    ['amqp://', 'missing host in url'],
  ])('%s → config.http_endpoint: %s', (url, reason) => {
    expect(issues(url)).toEqual([{ path: 'config.http_endpoint', reason }]);
  });
});

describe('?ca=: a private CA for the TLS of kafka (tls=true) and amqps', () => {
  // Two certificates Node ships (any parseable certificate does): no openssl needed here.
  const [first, second] = rootCertificates;
  let dir: string;
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-ca-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the certificates of the file, in order, without what is around them', () => {
    const ca = file('two.pem', `# a bundle\n${first}\n\nissuer: x\n${second}\n`);
    expect(parseEndpoint(`kafka://k1:9093?tls=true&ca=${encodeURIComponent(ca)}`)).toMatchObject({
      tls: true,
      ca: `${first}\n${second}\n`,
    });
    expect(parseEndpoint(`amqps://rabbit?ca=${ca}&queue=q`)).toMatchObject({ tls: true, ca: `${first}\n${second}\n` });
    expect(validateConfig({ http_endpoint: `amqps://rabbit?ca=${ca}` }).http_endpoint).toBe(`amqps://rabbit?ca=${ca}`);
  });

  test('wrong uses are configuration errors naming the file', () => {
    const ca = file('one.pem', first);
    const missing = path.join(dir, 'missing.pem');
    const none = file('none.pem', 'not a certificate\n');
    const broken = file('broken.pem', first.replace(/\n[A-Za-z0-9+/]{16}/, '\nAAAAAAAAAAAAAAAA'));
    const cases: [string, string][] = [
      [`kafka://k1?ca=${ca}`, 'ca needs tls=true'],
      [`kafka://k1?tls=false&ca=${ca}`, 'ca needs tls=true'],
      [`amqp://rabbit?ca=${ca}`, 'ca needs an amqps:// url'],
      ['kafka://k1?tls=true&ca=', 'ca must be the path of a PEM file'],
      [`kafka://k1?tls=true&ca=${missing}`, `ca file '${missing}' cannot be read (ENOENT)`],
      [`amqps://rabbit?ca=${dir}`, `ca file '${dir}' cannot be read (EISDIR)`],
      [`amqps://rabbit?ca=${none}`, `ca file '${none}' holds no PEM certificate`],
    ];
    for (const [url, reason] of cases) expect(issues(url)).toEqual([{ path: 'config.http_endpoint', reason }]);
    expect(issues(`kafka://k1?tls=true&ca=${broken}`)).toEqual([
      {
        path: 'config.http_endpoint',
        reason: expect.stringMatching(new RegExp(`^ca file '${broken}': certificate 1 is not valid \\(error:`)),
      },
    ]);
  });
});

test("any other scheme is Kong's HTTP endpoint, unparsed", () => {
  expect(parseEndpoint('http://zipkin:9411/api/v2/spans')).toEqual({
    transport: 'http',
    url: 'http://zipkin:9411/api/v2/spans',
  });
  // Kong accepts any scheme with a host; so do we, and the HTTP sender refuses it at start.
  expect(issues('ftp://zipkin/x')).toEqual([]);
});
