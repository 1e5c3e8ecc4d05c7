/**
 * Services of a decK file: `url` or protocol/host/port/path, retries and timeouts, nested
 * routes and plugins.
 */
import { TIMEOUT_MAX } from '../config/defaults';
import { isHostOrIp, unbracket } from './addresses';
import { BAD, type Bad, type Rec, type Slot } from './declarative-checks';
import { type GatewayService, SERVICE_PROTOCOLS, type ServiceProtocol } from './model';
import { each, LoadState } from './declarative-state';
import { readRoute } from './declarative-routes';
import { readPlugin } from './declarative-plugins';

const SERVICE_KEYS = [
  'id',
  'name',
  'url',
  'protocol',
  'host',
  'port',
  'path',
  'retries',
  'connect_timeout',
  'write_timeout',
  'read_timeout',
  'routes',
  'plugins',
  'tags',
] as const;
const SERVICE_KONG_ONLY = [
  'enabled',
  'client_certificate',
  'tls_verify',
  'tls_verify_depth',
  'ca_certificates',
  'created_at',
  'updated_at',
];
const DEFAULT_TIMEOUT = 60000;
const DEFAULT_RETRIES = 5;
const URL_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#[\]]*)(?::([0-9]*))?([^?#]*)$/;

export function readService(state: LoadState, rec: Rec, path: string): void {
  const check = state.check;
  check.keys(rec, path, SERVICE_KEYS, SERVICE_KONG_ONLY);
  const id = check.id(rec, path);
  const name = check.name(rec, 'name', path);
  const slot: Slot<GatewayService> = {
    id: id === BAD ? null : id,
    name: typeof name === 'string' ? name : null,
    entryPath: path,
    value: null,
  };
  state.services.add(check, slot);
  state.serviceList.push(slot);

  const target = readServiceTarget(state, rec, path);
  const retries = check.integer(rec, 'retries', path, DEFAULT_RETRIES, 0, 32767);
  const connectTimeout = check.integer(rec, 'connect_timeout', path, DEFAULT_TIMEOUT, 1, TIMEOUT_MAX);
  const writeTimeout = check.integer(rec, 'write_timeout', path, DEFAULT_TIMEOUT, 1, TIMEOUT_MAX);
  const readTimeout = check.integer(rec, 'read_timeout', path, DEFAULT_TIMEOUT, 1, TIMEOUT_MAX);

  if (
    id !== BAD &&
    name !== BAD &&
    target !== BAD &&
    retries !== BAD &&
    connectTimeout !== BAD &&
    writeTimeout !== BAD &&
    readTimeout !== BAD
  ) {
    const upstream = state.upstreams.byNameOnly(target.host);
    slot.value = Object.freeze({
      id,
      name,
      protocol: target.protocol,
      host: target.host,
      port: target.port,
      path: target.path,
      retries,
      connect_timeout: connectTimeout,
      write_timeout: writeTimeout,
      read_timeout: readTimeout,
      upstream: upstream?.value ?? null,
      entryPath: path,
    });
  }

  // Nested entities are checked even when the service itself is wrong.
  each(state, rec, 'routes', (r, rPath) => readRoute(state, r, rPath, slot), path);
  each(state, rec, 'plugins', (p, pPath) => readPlugin(state, p, pPath, slot, null), path);
}

/** protocol/host/port/path, from `url` or from the separate fields. */
function readServiceTarget(
  state: LoadState,
  rec: Rec,
  path: string,
): { protocol: ServiceProtocol; host: string; port: number; path: string | null } | Bad {
  const check = state.check;
  const url = check.string(rec, 'url', path);
  if (url === BAD) return BAD;
  if (url !== null) {
    const combined = ['protocol', 'host', 'port', 'path'].filter((k) => rec[k] !== undefined && rec[k] !== null);
    if (combined.length > 0) {
      return check.fail(`${path}.url`, `cannot be combined with ${combined.map((k) => `'${k}'`).join(', ')}`);
    }
    const m = URL_RE.exec(url);
    if (m === null) return check.fail(`${path}.url`, `invalid url '${url}' (expected protocol://host[:port][/path])`);
    const protocol = m[1].toLowerCase();
    if (!(SERVICE_PROTOCOLS as readonly string[]).includes(protocol)) {
      return check.fail(
        `${path}.url`,
        `protocol '${protocol}' is not supported (supported: ${SERVICE_PROTOCOLS.join(', ')})`,
      );
    }
    const host = unbracket(m[2]);
    if (host === '' || !isHostOrIp(host)) return check.fail(`${path}.url`, `invalid hostname in url '${url}'`);
    let port: number;
    if (m[3] !== undefined && m[3] !== '') {
      port = Number(m[3]);
      if (port > 65535) return check.fail(`${path}.url`, `invalid port in url '${url}'`);
    } else if (protocol === 'http' || protocol === 'https') {
      port = protocol === 'https' ? 443 : 80;
    } else {
      return check.fail(`${path}.url`, `a ${protocol} url needs a port`);
    }
    const urlPath = m[4] === '' ? null : m[4];
    if (urlPath !== null && protocol !== 'http' && protocol !== 'https') {
      return check.fail(`${path}.url`, `a path can only be set when the protocol is 'http' or 'https'`);
    }
    return { protocol: protocol as ServiceProtocol, host, port, path: urlPath };
  }

  let protocol = check.string(rec, 'protocol', path);
  if (typeof protocol === 'string' && !(SERVICE_PROTOCOLS as readonly string[]).includes(protocol)) {
    protocol = check.fail(`${path}.protocol`, `expected one of: ${SERVICE_PROTOCOLS.join(', ')}`);
  }
  let host = check.string(rec, 'host', path, true);
  if (typeof host === 'string') {
    const bare = unbracket(host);
    host = isHostOrIp(bare) ? bare : check.fail(`${path}.host`, `invalid hostname: ${host}`);
  }
  const port = check.integer(rec, 'port', path, 80, 0, 65535);
  let servicePath = check.string(rec, 'path', path);
  const effectiveProtocol = (protocol ?? 'http') as ServiceProtocol | Bad;
  if (typeof servicePath === 'string') {
    if (!servicePath.startsWith('/')) servicePath = check.fail(`${path}.path`, 'should start with: /');
    else if (effectiveProtocol !== 'http' && effectiveProtocol !== 'https' && effectiveProtocol !== BAD) {
      servicePath = check.fail(`${path}.path`, `can only be set when 'protocol' is 'http' or 'https'`);
    }
  }
  if (effectiveProtocol === BAD || host === BAD || host === null || port === BAD || servicePath === BAD) return BAD;
  return { protocol: effectiveProtocol, host, port, path: servicePath };
}
