/**
 * The typed readers and registries of the declarative loader: each reader pushes its own
 * `<path>: <reason>` issue (Kong's schema texts) and returns `BAD` for a wrong value; an
 * absent or null value gives the default, or null when there is none.
 */
import { randomUUID } from 'node:crypto';
import type { ConfigIssue } from '../config/errors';

// Kong's typedefs: uuid, utf8_name.
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const NAME_RE = /^[\p{L}\p{N}._~-]+$/u;

export const BAD: unique symbol = Symbol('bad');
export type Bad = typeof BAD;
export type Rec = Readonly<Record<string, unknown>>;

export function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

export class Checker {
  readonly issues: ConfigIssue[] = [];

  fail(path: string, reason: string): Bad {
    this.issues.push({ path, reason });
    return BAD;
  }

  /** Reports every key outside `supported`, naming what is supported. */
  keys(rec: Rec, path: string, supported: readonly string[], kongOnly: readonly string[]): void {
    for (const key of Object.keys(rec)) {
      if (supported.includes(key)) continue;
      const kind = kongOnly.includes(key) ? 'not supported by gateway-zipkin' : 'unknown field';
      this.fail(`${path}.${key}`, `${kind} (supported: ${supported.join(', ')})`);
    }
  }

  string(rec: Rec, key: string, path: string, required = false): string | null | Bad {
    const value = rec[key];
    if (value === undefined || value === null) return required ? this.fail(`${path}.${key}`, 'required field missing') : null;
    if (typeof value !== 'string') return this.fail(`${path}.${key}`, 'expected a string');
    if (value === '') return this.fail(`${path}.${key}`, 'length must be at least 1');
    return value;
  }

  integer(rec: Rec, key: string, path: string, def: number, min: number, max: number): number | Bad {
    const value = rec[key];
    if (value === undefined || value === null) return def;
    if (typeof value !== 'number' || Number.isNaN(value)) return this.fail(`${path}.${key}`, 'expected a number');
    if (!Number.isInteger(value)) return this.fail(`${path}.${key}`, 'expected an integer');
    if (value < min || value > max) return this.fail(`${path}.${key}`, `value should be between ${min} and ${max}`);
    return value;
  }

  boolean(rec: Rec, key: string, path: string, def: boolean): boolean | Bad {
    const value = rec[key];
    if (value === undefined || value === null) return def;
    return typeof value === 'boolean' ? value : this.fail(`${path}.${key}`, 'expected a boolean');
  }

  /** An array field; null when absent or empty (Kong's `is_empty_field`). */
  array(rec: Rec, key: string, path: string): readonly unknown[] | null | Bad {
    const value = rec[key];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value)) return this.fail(`${path}.${key}`, 'expected an array');
    return value.length === 0 ? null : value;
  }

  /** Each element must be a non-empty string passing `check` (an error text or undefined). */
  strings(
    rec: Rec,
    key: string,
    path: string,
    check: (value: string) => string | undefined,
  ): string[] | null | Bad {
    const list = this.array(rec, key, path);
    if (list === null) return null;
    if (list === BAD) return BAD;
    const out: string[] = [];
    let ok = true;
    list.forEach((item, i) => {
      const itemPath = `${path}.${key}[${i}]`;
      const err = typeof item !== 'string' ? 'expected a string' : item === '' ? 'length must be at least 1' : check(item);
      if (err === undefined) {
        out.push(item as string);
      } else {
        this.fail(itemPath, err);
        ok = false;
      }
    });
    return ok ? out : BAD;
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
      : this.fail(`${path}.${key}`, `invalid value '${value}': it must only contain alphanumeric and '., -, _, ~' characters`);
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
      if (other !== undefined) check.fail(`${slot.entryPath}.id`, `duplicate id '${slot.id}' (also at ${other.entryPath})`);
      else this.byId.set(slot.id, slot);
    }
    if (slot.name !== null) {
      const other = this.byName.get(slot.name);
      if (other !== undefined) check.fail(`${slot.entryPath}.name`, `duplicate name '${slot.name}' (also at ${other.entryPath})`);
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
