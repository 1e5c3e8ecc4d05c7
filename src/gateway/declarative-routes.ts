/**
 * Routes of a decK file: protocols, methods, hosts, paths, destinations, nested plugins,
 * with Kong's checks.
 */
import { isHostname, isHostOrIp, parseIpOrCidr, splitHostPort } from './addresses';
import { BAD, type Bad, isRecord, type Rec, type Slot } from './declarative-checks';
import {
  type GatewayDestination,
  type GatewayRoute,
  type GatewayService,
  ROUTE_PROTOCOLS,
  type RouteProtocol,
} from './model';
import { each, LoadState } from './declarative-state';
import { readPlugin } from './declarative-plugins';

const ROUTE_KEYS = [
  'id',
  'name',
  'service',
  'protocols',
  'methods',
  'hosts',
  'paths',
  'regex_priority',
  'strip_path',
  'preserve_host',
  'destinations',
  'plugins',
  'tags',
] as const;
const ROUTE_KONG_ONLY = [
  'headers',
  'snis',
  'sources',
  'https_redirect_status_code',
  'path_handling',
  'request_buffering',
  'response_buffering',
  'expression',
  'priority',
  'created_at',
  'updated_at',
];
const DESTINATION_KEYS = ['ip', 'port'] as const;
const HTTP_ROUTE_PROTOCOLS: readonly RouteProtocol[] = Object.freeze(['http', 'https']);
// Kong's typedef http_method.
const METHOD_RE = /^[A-Z]+$/;

/** A route; `parent` is the service it is nested under, or null for a top-level one. */
export function readRoute(state: LoadState, rec: Rec, path: string, parent: Slot<GatewayService> | null): void {
  const check = state.check;
  check.keys(rec, path, ROUTE_KEYS, ROUTE_KONG_ONLY);
  const id = check.id(rec, path);
  const name = check.name(rec, 'name', path);
  const slot: Slot<GatewayRoute> = {
    id: id === BAD ? null : id,
    name: typeof name === 'string' ? name : null,
    entryPath: path,
    value: null,
  };
  state.routes.add(check, slot);
  state.routeList.push(slot);
  buildRoute(state, rec, path, parent, slot);
  each(state, rec, 'plugins', (p, pPath) => readPlugin(state, p, pPath, null, slot), path);
}

function buildRoute(
  state: LoadState,
  rec: Rec,
  path: string,
  parent: Slot<GatewayService> | null,
  slot: Slot<GatewayRoute>,
): void {
  const check = state.check;
  let serviceSlot: Slot<GatewayService> | Bad;
  if (parent !== null) {
    serviceSlot = parent;
    if (rec.service !== undefined && rec.service !== null) {
      check.fail(`${path}.service`, 'not allowed on a route nested under a service (the parent service is used)');
    }
  } else if (rec.service === undefined || rec.service === null) {
    serviceSlot = check.fail(
      `${path}.service`,
      'required field missing (nest the route under services[].routes or reference a service by name or id)',
    );
  } else {
    serviceSlot = state.services.resolve(check, rec.service, `${path}.service`);
  }

  let protocols: RouteProtocol[] | Bad = [...HTTP_ROUTE_PROTOCOLS];
  const protocolList = check.strings(rec, 'protocols', path, (p) =>
    (ROUTE_PROTOCOLS as readonly string[]).includes(p) ? undefined : `expected one of: ${ROUTE_PROTOCOLS.join(', ')}`,
  );
  if (protocolList === BAD) protocols = BAD;
  else if (protocolList !== null) protocols = [...new Set(protocolList)] as RouteProtocol[];

  let subsystem: 'http' | 'stream' | Bad = BAD;
  if (protocols !== BAD) {
    const http = protocols.some((p) => p === 'http' || p === 'https');
    const stream = protocols.some((p) => p === 'tcp' || p === 'tls');
    if (http && stream) {
      check.fail(`${path}.protocols`, 'cannot mix http protocols (http, https) with stream protocols (tcp, tls)');
    } else {
      subsystem = stream ? 'stream' : 'http';
    }
  }

  const methods = check.strings(rec, 'methods', path, (m) =>
    METHOD_RE.test(m) ? undefined : `invalid value: ${m} (methods are upper-case, e.g. GET)`,
  );
  const hosts = check.strings(rec, 'hosts', path, checkRouteHost);
  const paths = check.strings(rec, 'paths', path, checkRoutePath);
  const regexPriority = check.integer(rec, 'regex_priority', path, 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const stripPath = check.boolean(rec, 'strip_path', path, true);
  const preserveHost = check.boolean(rec, 'preserve_host', path, false);
  const destinations = readDestinations(state, rec, path);

  if (subsystem === 'http') {
    if (destinations !== null && destinations !== BAD) {
      check.fail(`${path}.destinations`, `can only be set when 'protocols' is 'tcp' or 'tls'`);
    }
    if (methods === null && hosts === null && paths === null) {
      check.fail(path, `must set one of 'methods', 'hosts', 'paths' when 'protocols' is 'http' or 'https'`);
    }
  } else if (subsystem === 'stream') {
    for (const [key, value] of [
      ['methods', methods],
      ['hosts', hosts],
      ['paths', paths],
    ] as const) {
      if (value !== null && value !== BAD)
        check.fail(`${path}.${key}`, `can only be set when 'protocols' is 'http' or 'https'`);
    }
    if (destinations === null) {
      check.fail(
        path,
        `must set 'destinations' when 'protocols' is 'tcp' or 'tls' (sources and snis are not supported)`,
      );
    }
  }

  const service = serviceSlot === BAD ? null : serviceSlot.value;
  if (service !== null && subsystem !== BAD) {
    const serviceIsStream = service.protocol === 'tcp' || service.protocol === 'tls';
    if (serviceIsStream !== (subsystem === 'stream')) {
      check.fail(
        path,
        `a route with protocols ${(protocols as RouteProtocol[]).join(', ')} cannot use service ` +
          `'${service.name ?? service.id}' whose protocol is '${service.protocol}'`,
      );
      return;
    }
  }

  const nameOk = slot.name !== null || rec.name === undefined || rec.name === null;
  if (
    slot.id === null ||
    !nameOk ||
    service === null ||
    protocols === BAD ||
    subsystem === BAD ||
    methods === BAD ||
    hosts === BAD ||
    paths === BAD ||
    regexPriority === BAD ||
    stripPath === BAD ||
    preserveHost === BAD ||
    destinations === BAD
  ) {
    return;
  }
  slot.value = Object.freeze({
    id: slot.id,
    name: slot.name,
    service,
    protocols: Object.freeze(protocols),
    methods: methods === null ? null : Object.freeze([...new Set(methods)]),
    hosts: hosts === null ? null : Object.freeze(hosts.map((h) => h.toLowerCase())),
    paths: paths === null ? null : Object.freeze(paths),
    regex_priority: regexPriority,
    strip_path: stripPath,
    preserve_host: preserveHost,
    destinations,
    subsystem,
    entryPath: path,
  });
}

function readDestinations(state: LoadState, rec: Rec, path: string): readonly GatewayDestination[] | null | Bad {
  const check = state.check;
  const list = check.array(rec, 'destinations', path);
  if (list === null) return null;
  if (list === BAD) return BAD;
  const out: GatewayDestination[] = [];
  let ok = true;
  list.forEach((item, i) => {
    const dPath = `${path}.destinations[${i}]`;
    if (!isRecord(item)) {
      ok = false;
      check.fail(dPath, 'expected a record');
      return;
    }
    const before = check.issues.length;
    check.keys(item, dPath, DESTINATION_KEYS, []);
    let ip = check.string(item, 'ip', dPath);
    if (typeof ip === 'string' && parseIpOrCidr(ip) === null)
      ip = check.fail(`${dPath}.ip`, `invalid ip or cidr range: '${ip}'`);
    const port = item.port === undefined || item.port === null ? null : check.integer(item, 'port', dPath, 0, 0, 65535);
    if (ip === null && port === null) check.fail(dPath, `at least one of these fields must be non-empty: 'ip', 'port'`);
    if (check.issues.length !== before || ip === BAD || port === BAD) {
      ok = false;
      return;
    }
    out.push(Object.freeze({ ip, port }));
  });
  return ok ? Object.freeze(out) : BAD;
}

/** Kong's host checks for route `hosts`: one wildcard at most, leftmost or rightmost label, optional port. */
function checkRouteHost(host: string): string | undefined {
  const split = splitHostPort(host);
  if (typeof split === 'string') return split;
  const name = split.host;
  const stars = name.split('*').length - 1;
  if (stars > 1) return 'invalid wildcard: must have at most one wildcard';
  if (stars === 1) {
    const left = name.startsWith('*.');
    const right = name.endsWith('.*');
    if (!left && !right) return 'invalid wildcard: must be placed at leftmost or rightmost label';
    const rest = left ? name.slice(2) : name.slice(0, -2);
    return isHostname(rest) ? undefined : `invalid hostname: ${host}`;
  }
  return isHostOrIp(name) ? undefined : `invalid hostname: ${host}`;
}

/** Route `paths`: `/prefix` or `~regex`; the regex must compile as Kong anchors it (`^` + body). */
function checkRoutePath(path: string): string | undefined {
  if (path.startsWith('~')) {
    try {
      new RegExp('^' + path.slice(1));
      return undefined;
    } catch (err) {
      return `invalid regex: '${path.slice(1)}' (${(err as Error).message})`;
    }
  }
  return path.startsWith('/') ? undefined : 'should start with: / (fixed path) or ~ (regex path)';
}
