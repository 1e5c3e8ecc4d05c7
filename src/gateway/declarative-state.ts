/**
 * What the decK loader has read so far: the issues found, the registries references
 * resolve against (ids and names unique per entity type), and the entities in file order.
 */
import { Checker, isRecord, type Rec, Registry, type Slot } from './declarative-checks';
import type { GatewayPlugin, GatewayRoute, GatewayService, GatewayUpstream } from './model';

export class LoadState {
  readonly check = new Checker();
  readonly upstreams = new Registry<GatewayUpstream>('upstream');
  readonly services = new Registry<GatewayService>('service');
  readonly routes = new Registry<GatewayRoute>('route');
  readonly upstreamList: Slot<GatewayUpstream>[] = [];
  readonly serviceList: Slot<GatewayService>[] = [];
  readonly routeList: Slot<GatewayRoute>[] = [];
  readonly pluginList: GatewayPlugin[] = [];
  // Plugin uniqueness: Kong allows one instance of a plugin per (route, service) pair.
  readonly pluginScopes = new Map<string, string>();
  readonly pluginIds = new Map<string, string>();
  readonly pluginInstanceNames = new Map<string, string>();
}

/** Runs `fn` on each record of an array field; reports non-records. */
export function each(
  state: LoadState,
  parent: Rec,
  key: string,
  fn: (rec: Rec, path: string) => void,
  parentPath = '',
): void {
  const value = parent[key];
  const path = parentPath === '' ? key : `${parentPath}.${key}`;
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) {
    state.check.fail(path, 'expected an array');
    return;
  }
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (!isRecord(item)) state.check.fail(itemPath, 'expected a record');
    else fn(item, itemPath);
  });
}
