/**
 * Where `http_endpoint` sends spans. Kong only knows `http(s)://` (§5.2); beyond Kong, the
 * same field selects Zipkin's two other collectors (zipkin-backends §4):
 *
 * - `kafka://[user:password@]host[:port][,host[:port]…][/topic][?client_id=…&encoding=…&tls=…&ca=…&sasl=…&max_message_bytes=…]`
 *   (port 9092, topic `zipkin`);
 * - `amqp://` or `amqps://[user:password@]host[:port][/vhost][?queue=…&encoding=…&ca=…&max_message_bytes=…]`
 *   (port 5672 / 5671, vhost `/`, queue `zipkin`).
 *
 * TLS (`tls=true`, `amqps://`) always verifies the broker's certificate, against Node's CA list
 * (plus `NODE_EXTRA_CA_CERTS`) or, with `ca=<file>`, against that file's certificates only.
 *
 * Any other scheme is Kong's HTTP endpoint, checked as Kong checks it (validate.ts).
 */

import { readCaFile } from './endpoint-ca';
import { EndpointError } from './endpoint-error';

export type EndpointEncoding = 'json' | 'proto3';

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaEndpoint {
  readonly transport: 'kafka';
  /** `host:port` each, in the URL's order. */
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId: string;
  /** Set only by `?encoding=`; otherwise the reporter's `encoding` option applies. */
  readonly encoding: EndpointEncoding | undefined;
  readonly tls: boolean;
  /** PEM certificates from `?ca=` (with `tls=true`): trusted instead of Node's CA list. */
  readonly ca: string | null;
  /** From `?sasl=` with the URL's user and password. */
  readonly sasl: {
    readonly mechanism: KafkaSaslMechanism;
    readonly username: string;
    readonly password: string;
  } | null;
  /** Largest message value sent; a larger batch is split, a larger span dropped. */
  readonly maxMessageBytes: number;
}

export interface AmqpEndpoint {
  readonly transport: 'rabbitmq';
  /** What the AMQP client connects to: the URL without the query (credentials included). */
  readonly connectUrl: string;
  /** `host:port`, for log lines (no credentials). */
  readonly address: string;
  /** `amqps://`. */
  readonly tls: boolean;
  /** PEM certificates from `?ca=` (amqps only): trusted instead of Node's CA list. */
  readonly ca: string | null;
  readonly queue: string;
  readonly encoding: EndpointEncoding | undefined;
  readonly maxMessageBytes: number;
}

export interface HttpEndpoint {
  readonly transport: 'http';
  readonly url: string;
}

export type CollectorEndpoint = HttpEndpoint | KafkaEndpoint | AmqpEndpoint;

/** Kafka's default `message.max.bytes` is 1048588 per record batch: this leaves room for its framing. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;
/** RabbitMQ's default `max_message_size` (128 MiB). */
export const AMQP_DEFAULT_MAX_MESSAGE_BYTES = 134_217_728;
export const DEFAULT_TOPIC = 'zipkin';
export const DEFAULT_QUEUE = 'zipkin';
export const DEFAULT_KAFKA_CLIENT_ID = 'gateway-zipkin';

const KAFKA_PARAMS = ['ca', 'client_id', 'encoding', 'max_message_bytes', 'sasl', 'tls'];
const AMQP_PARAMS = ['ca', 'encoding', 'max_message_bytes', 'queue'];
const SASL_MECHANISMS: readonly KafkaSaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
// Kafka's topic names (`Topic.validate`): at most 249 of these characters.
const TOPIC_RE = /^[A-Za-z0-9._-]{1,249}$/;

export { EndpointError };

/** True for the schemes this file parses (the others are Kong's HTTP endpoint). */
export function isBrokerEndpoint(url: string): boolean {
  return /^(kafka|amqps?):\/\//i.test(url);
}

/** Parses `http_endpoint`; throws `EndpointError` for a broker URL that is not usable. */
export function parseEndpoint(url: string): CollectorEndpoint {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1].toLowerCase();
  if (scheme === 'kafka') return parseKafka(url.slice('kafka://'.length));
  if (scheme === 'amqp' || scheme === 'amqps') return parseAmqp(url, scheme);
  return { transport: 'http', url };
}

function splitQuery(rest: string): [string, URLSearchParams] {
  const q = rest.indexOf('?');
  return q === -1 ? [rest, new URLSearchParams()] : [rest.slice(0, q), new URLSearchParams(rest.slice(q + 1))];
}

function checkParams(params: URLSearchParams, known: readonly string[], kind: string): void {
  for (const key of params.keys()) {
    if (!known.includes(key)) {
      throw new EndpointError(`unknown ${kind} endpoint parameter '${key}' (expected one of: ${known.join(', ')})`);
    }
  }
}

function encodingParam(params: URLSearchParams): EndpointEncoding | undefined {
  const value = params.get('encoding');
  if (value === null) return undefined;
  if (value !== 'json' && value !== 'proto3')
    throw new EndpointError(`encoding must be json or proto3, got '${value}'`);
  return value;
}

function maxBytesParam(params: URLSearchParams, fallback: number): number {
  const value = params.get('max_message_bytes');
  if (value === null) return fallback;
  const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 64)) throw new EndpointError(`max_message_bytes must be an integer of at least 64, got '${value}'`);
  return n;
}

/** `?ca=`, allowed only where the connection is TLS (`needs` says how to ask for it). */
function caParam(params: URLSearchParams, tls: boolean, needs: string): string | null {
  const file = params.get('ca');
  if (file === null) return null;
  if (!tls) throw new EndpointError(`ca needs ${needs}`);
  return readCaFile(file);
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new EndpointError(`${what} is not valid percent-encoding`);
  }
}

/** `host[:port]` through Node's URL parser (IPv6 in brackets); the port defaults to `port`. */
function hostPort(text: string, port: number, kind: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(`tcp://${text}`);
  } catch {
    throw new EndpointError(`invalid ${kind} address '${text}'`);
  }
  if (url.hostname === '' || url.username !== '' || url.pathname !== '' || url.search !== '') {
    throw new EndpointError(`invalid ${kind} address '${text}'`);
  }
  return { host: url.hostname, port: url.port === '' ? port : Number(url.port) };
}

function parseKafka(rest: string): KafkaEndpoint {
  const [beforeQuery, params] = splitQuery(rest);
  checkParams(params, KAFKA_PARAMS, 'kafka');
  const slash = beforeQuery.indexOf('/');
  let authority = slash === -1 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash === -1 ? '' : beforeQuery.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? null : authority.slice(0, at);
  authority = authority.slice(at + 1);
  if (authority === '') throw new EndpointError('missing host in url');
  const brokers = authority.split(',').map((part) => {
    const { host, port } = hostPort(part, 9092, 'kafka broker');
    return `${host}:${port}`;
  });
  const topic = path === '' ? DEFAULT_TOPIC : decode(path, 'the topic');
  if (!TOPIC_RE.test(topic) || topic === '.' || topic === '..') {
    throw new EndpointError(`invalid kafka topic '${topic}' (letters, digits, '.', '_' and '-', at most 249)`);
  }
  const tlsParam = params.get('tls');
  if (tlsParam !== null && tlsParam !== 'true' && tlsParam !== 'false') {
    throw new EndpointError(`tls must be true or false, got '${tlsParam}'`);
  }
  const mechanism = params.get('sasl');
  let sasl: KafkaEndpoint['sasl'] = null;
  if (mechanism !== null) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new EndpointError(`sasl must be one of ${SASL_MECHANISMS.join(', ')}, got '${mechanism}'`);
    }
    const colon = userinfo === null ? -1 : userinfo.indexOf(':');
    if (userinfo === null || colon <= 0) {
      throw new EndpointError(`sasl=${mechanism} needs a user and password in the url (kafka://user:password@host)`);
    }
    sasl = {
      mechanism: mechanism as KafkaSaslMechanism,
      username: decode(userinfo.slice(0, colon), 'the user'),
      password: decode(userinfo.slice(colon + 1), 'the password'),
    };
  } else if (userinfo !== null) {
    throw new EndpointError('a user and password in a kafka url need ?sasl=plain, scram-sha-256 or scram-sha-512');
  }
  const clientId = params.get('client_id') ?? DEFAULT_KAFKA_CLIENT_ID;
  if (clientId === '') throw new EndpointError('client_id must not be empty');
  return {
    transport: 'kafka',
    brokers,
    topic,
    clientId,
    encoding: encodingParam(params),
    tls: tlsParam === 'true',
    ca: caParam(params, tlsParam === 'true', 'tls=true'),
    sasl,
    maxMessageBytes: maxBytesParam(params, KAFKA_DEFAULT_MAX_MESSAGE_BYTES),
  };
}

function parseAmqp(url: string, scheme: 'amqp' | 'amqps'): AmqpEndpoint {
  const [withoutQuery, params] = splitQuery(url);
  checkParams(params, AMQP_PARAMS, scheme);
  let parsed: URL;
  try {
    parsed = new URL(withoutQuery);
  } catch {
    throw new EndpointError('could not parse url. Invalid URL');
  }
  if (parsed.hostname === '') throw new EndpointError('missing host in url');
  if (parsed.hash !== '') throw new EndpointError(`a ${scheme} url has no fragment`);
  const vhostPath = parsed.pathname.replace(/^\//, '');
  if (vhostPath.includes('/')) {
    throw new EndpointError(`the vhost must be one path segment (write '/' as %2F), got '${parsed.pathname}'`);
  }
  decode(vhostPath, 'the vhost');
  const queue = params.get('queue') ?? DEFAULT_QUEUE;
  if (queue === '' || Buffer.byteLength(queue) > 255) throw new EndpointError('queue must be 1 to 255 bytes long');
  const port = parsed.port === '' ? (scheme === 'amqps' ? 5671 : 5672) : Number(parsed.port);
  return {
    transport: 'rabbitmq',
    connectUrl: withoutQuery,
    address: `${parsed.hostname}:${port}`,
    tls: scheme === 'amqps',
    ca: caParam(params, scheme === 'amqps', 'an amqps:// url'),
    queue,
    encoding: encodingParam(params),
    maxMessageBytes: maxBytesParam(params, AMQP_DEFAULT_MAX_MESSAGE_BYTES),
  };
}
