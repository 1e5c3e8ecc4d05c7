/**
 * Loads a Kong declarative config (decK `_format_version: "3.0"`, YAML or JSON) into the
 * resolved model of `./model`. Only what the reference gateway runs is accepted:
 * services, routes (nested or top-level), upstreams with targets, and `zipkin` plugins at
 * global, service, route or route+service scope. Anything else is rejected with the path
 * of the offending entry and a text saying what is supported, so a Kong user never gets a
 * gateway that silently ignores part of their file. Every issue is reported, not just the
 * first.
 *
 * Defaults are Kong's: service `port` 80, `retries` 5, timeouts 60000 ms; route
 * `protocols` [http, https], `strip_path` true, `preserve_host` false, `regex_priority` 0;
 * target port 8000, `weight` 100; plugin `enabled` true, `protocols`
 * [grpc, grpcs, http, https]. A `url` sets protocol, host, port (80/443 by scheme) and path.
 * Ids are kept from the file (they must be UUIDs, as in Kong) or generated. `tags` are
 * accepted everywhere and ignored (metadata in Kong too).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/errors';
import { didYouMean } from '../config/suggest';
import { isRecord, quote } from './declarative-checks';
import type { DeclarativeConfig, GatewayRoute, GatewayService, GatewayUpstream } from './model';
import { each, LoadState } from './declarative-state';
import { readUpstream } from './declarative-upstreams';
import { readService } from './declarative-services';
import { readRoute } from './declarative-routes';
import { readPlugin } from './declarative-plugins';

const TOP_KEYS = ['_format_version', 'services', 'routes', 'upstreams', 'plugins'] as const;

function load(input: unknown): DeclarativeConfig {
  const state = new LoadState();
  const check = state.check;
  if (!isRecord(input)) throw new ConfigError([{ path: '', reason: 'expected a record at the top level of the file' }]);

  for (const key of Object.keys(input)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      check.fail(
        key,
        `not supported by gateway-zipkin (supported top-level keys: ${TOP_KEYS.join(', ')})${didYouMean(key, TOP_KEYS)}`,
      );
    }
  }
  checkFormatVersion(state, input._format_version);

  // In this order, so that every reference points backwards: a service's host may name
  // an upstream, a top-level route names a service, a top-level plugin a service or route.
  // Nested entities are handled at their parent's place.
  each(state, input, 'upstreams', (rec, path) => readUpstream(state, rec, path));
  each(state, input, 'services', (rec, path) => readService(state, rec, path));
  each(state, input, 'routes', (rec, path) => readRoute(state, rec, path, null));
  each(state, input, 'plugins', (rec, path) => readPlugin(state, rec, path, null, null));

  if (check.issues.length > 0) throw new ConfigError(check.issues);
  return Object.freeze({
    format_version: '3.0',
    services: Object.freeze(state.serviceList.map((s) => s.value as GatewayService)),
    routes: Object.freeze(state.routeList.map((r) => r.value as GatewayRoute)),
    upstreams: Object.freeze(state.upstreamList.map((u) => u.value as GatewayUpstream)),
    plugins: Object.freeze(state.pluginList),
  });
}

function checkFormatVersion(state: LoadState, value: unknown): void {
  if (value === undefined || value === null) {
    state.check.fail(
      '_format_version',
      'required field missing (this gateway reads decK files with _format_version: "3.0")',
    );
  } else if (typeof value !== 'string') {
    state.check.fail('_format_version', `expected a string: write "3.0" (quoted in YAML), got ${quote(value)}`);
  } else if (value !== '3.0') {
    state.check.fail('_format_version', `unsupported version '${value}' (supported: "3.0")`);
  }
}

// ---------------------------------------------------------------------------------------
// Entry points.

/** Resolves an already-parsed decK document (the object YAML/JSON parsing gives). */
export function resolveDeclarativeConfig(input: unknown): DeclarativeConfig {
  return load(input);
}

export interface ParseOptions {
  /** `json` parses with `JSON.parse`; `yaml` (default) also reads JSON, YAML being a superset. */
  readonly format?: 'yaml' | 'json';
}

// Parser messages quote the source around the error, which may hold the http_endpoint
// password: only the position (and YAML's error code) is reported.

function yamlErrorReason(err: unknown): string {
  const e = err as { code?: unknown; linePos?: ReadonlyArray<{ line: number; col: number }> };
  const at = e.linePos?.[0];
  const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
  return `invalid YAML${where}${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
}

function jsonErrorReason(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (m === null) return 'invalid JSON';
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split('\n');
  return `invalid JSON at line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Parses decK text (YAML or JSON) and resolves it. Throws `ConfigError`. */
export function parseDeclarativeConfig(text: string, options: ParseOptions = {}): DeclarativeConfig {
  let doc: unknown;
  if (options.format === 'json') {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([{ path: '', reason: jsonErrorReason(text, err) }]);
    }
  } else {
    try {
      doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
    } catch (err) {
      throw new ConfigError([{ path: '', reason: yamlErrorReason(err) }]);
    }
  }
  return resolveDeclarativeConfig(doc);
}

/** Reads and loads a decK file; `.json` files are parsed as JSON, anything else as YAML. */
export async function loadDeclarativeConfigFile(file: string): Promise<DeclarativeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', reason: `cannot read ${file}: ${(err as Error).message}` }]);
  }
  return parseDeclarativeConfig(text, { format: extname(file).toLowerCase() === '.json' ? 'json' : 'yaml' });
}
