/**
 * Upstreams and their targets of a decK file (Kong's `upstreams` entity, round-robin
 * only).
 */
import { isHostname, isHostOrIp, splitHostPort } from './addresses';
import { BAD, type Bad, type Rec, type Slot } from './declarative-checks';
import type { GatewayTarget, GatewayUpstream } from './model';
import { each, LoadState } from './declarative-state';

const UPSTREAM_KEYS = ['id', 'name', 'algorithm', 'slots', 'targets', 'tags'] as const;
const UPSTREAM_KONG_ONLY = [
  'hash_on',
  'hash_fallback',
  'hash_on_header',
  'hash_fallback_header',
  'hash_on_cookie',
  'hash_on_cookie_path',
  'hash_on_query_arg',
  'hash_fallback_query_arg',
  'hash_on_uri_capture',
  'hash_fallback_uri_capture',
  'healthchecks',
  'host_header',
  'client_certificate',
  'use_srv_name',
  'created_at',
];
const TARGET_KEYS = ['id', 'target', 'weight', 'tags'] as const;
const TARGET_KONG_ONLY = ['upstream', 'failover', 'created_at', 'updated_at'];
const UPSTREAM_ALGORITHMS = ['round-robin'];
const KONG_UPSTREAM_ALGORITHMS = ['consistent-hashing', 'least-connections', 'latency', 'sticky-sessions'];
const DEFAULT_TARGET_PORT = 8000;
const DEFAULT_WEIGHT = 100;

export function readUpstream(state: LoadState, rec: Rec, path: string): void {
  const check = state.check;
  check.keys(rec, path, UPSTREAM_KEYS, UPSTREAM_KONG_ONLY);
  const id = check.id(rec, path);
  let name = check.string(rec, 'name', path, true);
  if (typeof name === 'string' && !isHostname(name)) {
    name = check.fail(`${path}.name`, `Invalid name ('${name}'); must be a valid hostname`);
  }
  const slot: Slot<GatewayUpstream> = {
    id: id === BAD ? null : id,
    name: typeof name === 'string' ? name : null,
    entryPath: path,
    value: null,
  };
  state.upstreams.add(check, slot);
  state.upstreamList.push(slot);

  let algorithm = check.string(rec, 'algorithm', path);
  if (typeof algorithm === 'string' && !UPSTREAM_ALGORITHMS.includes(algorithm)) {
    algorithm = check.fail(
      `${path}.algorithm`,
      KONG_UPSTREAM_ALGORITHMS.includes(algorithm)
        ? `'${algorithm}' is not supported by gateway-zipkin (supported: ${UPSTREAM_ALGORITHMS.join(', ')})`
        : `expected one of: ${UPSTREAM_ALGORITHMS.join(', ')}`,
    );
  }
  const slots = check.integer(rec, 'slots', path, 10000, 10, 2 ** 16);

  const targets: GatewayTarget[] = [];
  const seen = new Map<string, string>();
  let targetsOk = true;
  each(
    state,
    rec,
    'targets',
    (t, tPath) => {
      const target = readTarget(state, t, tPath);
      if (target === BAD) {
        targetsOk = false;
        return;
      }
      const key = `${target.host}:${target.port}`;
      const other = seen.get(key);
      if (other !== undefined) {
        targetsOk = false;
        check.fail(`${tPath}.target`, `duplicate target '${target.target}' (also at ${other})`);
        return;
      }
      seen.set(key, tPath);
      targets.push(target);
    },
    path,
  );
  if (rec.targets !== undefined && rec.targets !== null && !Array.isArray(rec.targets)) targetsOk = false;

  if (id === BAD || typeof name !== 'string' || algorithm === BAD || slots === BAD || !targetsOk) return;
  slot.value = Object.freeze({
    id,
    name,
    algorithm: 'round-robin',
    slots,
    targets: Object.freeze(targets),
    entryPath: path,
  });
}

function readTarget(state: LoadState, rec: Rec, path: string): GatewayTarget | Bad {
  const check = state.check;
  check.keys(rec, path, TARGET_KEYS, TARGET_KONG_ONLY);
  const id = check.id(rec, path);
  const text = check.string(rec, 'target', path, true);
  const weight = check.integer(rec, 'weight', path, DEFAULT_WEIGHT, 0, 65535);
  let host: string | null = null;
  let port = DEFAULT_TARGET_PORT;
  if (typeof text === 'string') {
    const split = splitHostPort(text);
    if (typeof split === 'string' || !isHostOrIp(split.host)) {
      check.fail(`${path}.target`, `Invalid target ('${text}'); not a valid hostname or ip address`);
    } else {
      host = split.host;
      if (split.port !== null) port = split.port;
    }
  }
  if (id === BAD || typeof text !== 'string' || host === null || weight === BAD) return BAD;
  return Object.freeze({ id, target: text, host, port, weight, entryPath: path });
}
