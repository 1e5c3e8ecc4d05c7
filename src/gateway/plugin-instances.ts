/**
 * One `ZipkinPlugin` per enabled zipkin plugin of the decK file, created once at start, as
 * Kong keeps one reporter and one queue per plugin instance: the queue is named by the
 * plugin id and logs as `zipkin plugin <id>` (plus ` (<instance_name>)`), and a plugin
 * with an `http_endpoint` reports there; `shutdown()` drains every queue.
 */
import type { ZipkinConfigInput } from '../config/types';
import type { Logger } from '../logger';
import { createZipkinPlugin, type ZipkinPlugin } from '../plugin';
import type { DeclarativeConfig, GatewayPlugin } from './model';

export interface PluginInstances {
  /** By plugin id. */
  readonly byId: ReadonlyMap<string, ZipkinPlugin>;
  /** Drains every plugin's queue (Kong's graceful shutdown), within `timeoutMs` if given. */
  shutdown(timeoutMs?: number): Promise<void>;
}

function createInstance(plugin: GatewayPlugin, logger: Logger, nodeId: string | undefined): ZipkinPlugin {
  return createZipkinPlugin((plugin.config ?? {}) as ZipkinConfigInput, {
    logger,
    nodeId,
    pluginId: plugin.id,
    instanceName: plugin.instance_name,
  });
}

/** The instances of every enabled zipkin plugin (disabled ones never run). */
export function createPluginInstances(config: DeclarativeConfig, logger: Logger, nodeId?: string): PluginInstances {
  const byId = new Map<string, ZipkinPlugin>();
  for (const plugin of config.plugins) {
    if (plugin.enabled) byId.set(plugin.id, createInstance(plugin, logger, nodeId));
  }
  return {
    byId,
    async shutdown(timeoutMs?: number): Promise<void> {
      await Promise.all([...byId.values()].map((p) => p.shutdown(timeoutMs)));
    },
  };
}
