/**
 * The typed readers and registries of the declarative loader. The readers are the config
 * schema engine (config/schema.ts) applied to one field: each pushes its own
 * `<path>: <reason>` issue with Kong's text and returns `BAD` for a wrong value; an absent
 * or null value gives the default, or null when there is none.
 */
import { randomUUID } from 'node:crypto';
import type { ConfigIssue } from '../config/errors';
import { checkValue, fail, type FieldSpec, INVALID, REQUIRED, UNKNOWN } from '../config/schema';
import { didYouMean } from '../config/suggest';

// Kong's typedefs: uuid, utf8_name.
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const NAME_RE = /^[\p{L}\p{N}._~-]+$/u;

/** A value that failed; its issue is already recorded (the schema engine's marker). */
export const BAD: typeof INVALID = INVALID;
export type Bad = typeof INVALID;

const STRING: FieldSpec = { type: 'string' };
const BOOLEAN: FieldSpec = { type: 'boolean' };
export type Rec = Readonly<Record<string, unknown>>;

export function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
}

export class Checker {
  readonly issues: ConfigIssue[] = [];

  fail(path: string, reason: string): Bad {
    return fail(this.issues, path, reason);
  }

  /**
   * Reports every key outside `supported` (what this gateway reads), naming what is
   * supported; a key of `kongOnly` (a Kong field it does not read) is "not supported"
   * rather than "unknown field", so a decK dump gets a precise answer. An unknown key close
   * to a supported one ends with ` (did you mean '<key>'?)`.
   */
  keys(rec: Rec, path: string, supported: readonly string[], kongOnly: readonly string[]): void {
    for (const key of Object.keys(rec)) {
      if (supported.includes(key)) continue;
      const list = `(supported: ${supported.join(', ')})`;
      if (kongOnly.includes(key)) this.fail(`${path}.${key}`, `not supported by gateway-zipkin ${list}`);
      else this.fail(`${path}.${key}`, `${UNKNOWN} ${list}${didYouMean(key, supported)}`);
    }
  }

  string(rec: Rec, key: string, path: string, required = false): string | null | Bad {
    const value = rec[key];
    if (value == null) return required ? this.fail(`${path}.${key}`, REQUIRED) : null;
    return checkValue(STRING, value, `${path}.${key}`, this.issues) as string | Bad;
  }

  integer(rec: Rec, key: string, path: string, def: number, min: number, max: number): number | Bad {
    const value = rec[key];
    if (value == null) return def;
    return checkValue({ type: 'integer', between: [min, max] }, value, `${path}.${key}`, this.issues) as number | Bad;
  }

  boolean(rec: Rec, key: string, path: string, def: boolean): boolean | Bad {
    const value = rec[key];
    if (value == null) return def;
    return checkValue(BOOLEAN, value, `${path}.${key}`, this.issues) as boolean | Bad;
  }

  /** An array field; null when absent or empty (Kong's `is_empty_field`). */
  array(rec: Rec, key: string, path: string): readonly unknown[] | null | Bad {
    const value = rec[key];
    if (value == null) return null;
    if (!Array.isArray(value)) return this.fail(`${path}.${key}`, 'expected an array');
    return value.length === 0 ? null : value;
  }

  /** Each element must be a non-empty string passing `check` (an error text or undefined). */
  strings(
    rec: Rec,
    key: string,
    path: string,
    check: (value: string) => string | undefined,
  ): readonly string[] | null | Bad {
    const value = rec[key];
    if (value == null || (Array.isArray(value) && value.length === 0)) return null;
    const spec: FieldSpec = { type: 'array', elements: { type: 'string', check } };
    return checkValue(spec, value, `${path}.${key}`, this.issues) as readonly string[] | Bad;
  }

  /** Kong's `id`: a UUID from the file, or a fresh one. */
  id(rec: Rec, path: string): string | Bad {
    const value = this.string(rec, 'id', path);
    if (value === BAD) return BAD;
    if (value === null) return randomUUID();
    return UUID_RE.test(value) ? value.toLowerCase() : this.fail(`${path}.id`, 'expected a valid UUID');
  }

  /** Kong's `utf8_name`. */
  name(rec: Rec, key: string, path: string, required = false): string | null | Bad {
    const value = this.string(rec, key, path, required);
    if (value === null || value === BAD) return value;
    return NAME_RE.test(value)
      ? value
      : this.fail(
          `${path}.${key}`,
          `invalid value '${value}': it must only contain alphanumeric and '., -, _, ~' characters`,
        );
  }
}

// ---------------------------------------------------------------------------------------
// Registries: names and ids must be unique per entity type; references resolve by id
// first, then by name. An entity that failed validation still registers its id/name so a
// reference to it does not add a second, misleading "not found".

export interface Slot<T> {
  readonly id: string | null;
  readonly name: string | null;
  readonly entryPath: string;
  value: T | null;
}

export class Registry<T> {
  private readonly byId = new Map<string, Slot<T>>();
  private readonly byName = new Map<string, Slot<T>>();
  constructor(private readonly kind: string) {}

  add(check: Checker, slot: Slot<T>): void {
    if (slot.id !== null) {
      const other = this.byId.get(slot.id);
      if (other !== undefined)
        check.fail(`${slot.entryPath}.id`, `duplicate id '${slot.id}' (also at ${other.entryPath})`);
      else this.byId.set(slot.id, slot);
    }
    if (slot.name !== null) {
      const other = this.byName.get(slot.name);
      if (other !== undefined)
        check.fail(`${slot.entryPath}.name`, `duplicate name '${slot.name}' (also at ${other.entryPath})`);
      else this.byName.set(slot.name, slot);
    }
  }

  byNameOnly(name: string): Slot<T> | undefined {
    return this.byName.get(name);
  }

  /**
   * A reference as decK writes it: a name or id string, or `{ id }` / `{ name }`.
   * Returns the slot, or BAD after reporting.
   */
  resolve(check: Checker, ref: unknown, path: string): Slot<T> | Bad {
    let key: unknown = ref;
    if (isRecord(ref)) {
      const keys = Object.keys(ref);
      if (keys.length !== 1 || (keys[0] !== 'id' && keys[0] !== 'name')) {
        return check.fail(path, `expected a ${this.kind} name or id, or a record with one of: id, name`);
      }
      key = ref[keys[0]];
    }
    if (typeof key !== 'string' || key === '') {
      return check.fail(path, `expected a ${this.kind} name or id, or a record with one of: id, name`);
    }
    const slot = this.byId.get(key.toLowerCase()) ?? this.byName.get(key);
    return slot ?? check.fail(path, `${this.kind} '${key}' not found`);
  }
}
