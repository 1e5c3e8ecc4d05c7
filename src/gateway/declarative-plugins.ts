/**
 * Plugins of a decK file: only `zipkin`, one instance per scope as Kong allows, its
 * `config` validated by the plugin's own schema.
 */
import { ConfigError } from '../config/errors';
import { validateConfig } from '../config/validate';
import type { ZipkinConfig } from '../config/types';
import { BAD, type Bad, type Rec, type Slot } from './declarative-checks';
import {
  DEFAULT_PLUGIN_PROTOCOLS,
  type GatewayPlugin,
  type GatewayRoute,
  type GatewayService,
  KONG_PROTOCOLS,
  type KongProtocol,
  PLUGIN_SCOPE_PRECEDENCE,
  type PluginScope,
} from './model';
import { LoadState } from './declarative-state';

const PLUGIN_KEYS = [
  'id',
  'name',
  'instance_name',
  'enabled',
  'protocols',
  'config',
  'service',
  'route',
  'tags',
] as const;
const PLUGIN_KONG_ONLY = ['consumer', 'consumer_group', 'ordering', 'created_at', 'updated_at'];
const SUPPORTED_PLUGINS = ['zipkin'];

/** A plugin; `service` / `route` is the entity it is nested under (both null at top level). */
export function readPlugin(
  state: LoadState,
  rec: Rec,
  path: string,
  parentService: Slot<GatewayService> | null,
  parentRoute: Slot<GatewayRoute> | null,
): void {
  const plugin = buildPlugin(state, rec, path, parentService, parentRoute);
  if (plugin === BAD) return;
  const check = state.check;
  const otherId = state.pluginIds.get(plugin.id);
  if (otherId !== undefined) {
    check.fail(`${path}.id`, `duplicate id '${plugin.id}' (also at ${otherId})`);
    return;
  }
  state.pluginIds.set(plugin.id, path);
  if (plugin.instance_name !== null) {
    const other = state.pluginInstanceNames.get(plugin.instance_name);
    if (other !== undefined) {
      check.fail(`${path}.instance_name`, `duplicate instance_name '${plugin.instance_name}' (also at ${other})`);
      return;
    }
    state.pluginInstanceNames.set(plugin.instance_name, path);
  }
  const key = `${plugin.route?.id ?? ''}|${plugin.service?.id ?? ''}`;
  const other = state.pluginScopes.get(key);
  if (other !== undefined) {
    check.fail(path, `duplicate zipkin plugin for ${describeScope(plugin)} (also at ${other})`);
    return;
  }
  state.pluginScopes.set(key, path);
  state.pluginList.push(plugin);
}

function buildPlugin(
  state: LoadState,
  rec: Rec,
  path: string,
  parentService: Slot<GatewayService> | null,
  parentRoute: Slot<GatewayRoute> | null,
): GatewayPlugin | Bad {
  const check = state.check;
  const name = check.string(rec, 'name', path, true);
  if (name === BAD) return BAD;
  if (!SUPPORTED_PLUGINS.includes(name as string)) {
    return check.fail(`${path}.name`, `plugin '${name}' is not supported (supported: ${SUPPORTED_PLUGINS.join(', ')})`);
  }
  check.keys(rec, path, PLUGIN_KEYS, PLUGIN_KONG_ONLY);
  const id = check.id(rec, path);
  const instanceName = check.name(rec, 'instance_name', path);
  const enabled = check.boolean(rec, 'enabled', path, true);
  let protocols: readonly KongProtocol[] | Bad = DEFAULT_PLUGIN_PROTOCOLS;
  const protocolList = check.strings(rec, 'protocols', path, (p) =>
    (KONG_PROTOCOLS as readonly string[]).includes(p) ? undefined : `expected one of: ${KONG_PROTOCOLS.join(', ')}`,
  );
  if (protocolList === BAD) protocols = BAD;
  else if (protocolList !== null) protocols = Object.freeze([...new Set(protocolList)] as KongProtocol[]);

  let zipkinConfig: ZipkinConfig | Bad = BAD;
  try {
    zipkinConfig = validateConfig(rec.config, { path: `${path}.config` });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.errors) check.fail(issue.path, issue.reason);
  }

  // Scope: fixed by nesting, or from top-level references.
  let service: Slot<GatewayService> | null | Bad = parentService;
  let route: Slot<GatewayRoute> | null | Bad = parentRoute;
  if (parentService !== null || parentRoute !== null) {
    for (const key of ['service', 'route'] as const) {
      if (rec[key] !== undefined && rec[key] !== null) {
        check.fail(`${path}.${key}`, `not allowed on a nested plugin (it applies to the entity it is nested under)`);
      }
    }
  } else {
    if (rec.service !== undefined && rec.service !== null)
      service = state.services.resolve(check, rec.service, `${path}.service`);
    if (rec.route !== undefined && rec.route !== null) route = state.routes.resolve(check, rec.route, `${path}.route`);
  }

  if (id === BAD || instanceName === BAD || enabled === BAD || protocols === BAD || zipkinConfig === BAD) return BAD;
  if (service === BAD || route === BAD) return BAD;
  // An entity that failed its own checks was reported already.
  if ((service !== null && service.value === null) || (route !== null && route.value === null)) return BAD;

  const scope: PluginScope =
    route !== null && service !== null
      ? 'route+service'
      : route !== null
        ? 'route'
        : service !== null
          ? 'service'
          : 'global';
  return Object.freeze({
    id,
    name: 'zipkin' as const,
    instance_name: instanceName,
    enabled,
    protocols,
    config: rec.config,
    zipkinConfig,
    service: service?.value ?? null,
    route: route?.value ?? null,
    scope,
    precedence: PLUGIN_SCOPE_PRECEDENCE[scope],
    entryPath: path,
  });
}

function describeScope(plugin: GatewayPlugin): string {
  const svc = plugin.service === null ? '' : `service '${plugin.service.name ?? plugin.service.id}'`;
  const rte = plugin.route === null ? '' : `route '${plugin.route.name ?? plugin.route.id}'`;
  if (svc !== '' && rte !== '') return `${rte} and ${svc}`;
  return svc !== '' ? svc : rte !== '' ? rte : 'the global scope';
}
