/**
 * The field checks of Kong's schema library (`kong/db/schema/init.lua`) as a small engine:
 * a field spec (type, default, `one_of`, `between`, custom check) and `checkValue`, which
 * records each wrong field as a `ConfigIssue` with Kong's text. The zipkin `config` schema
 * (validate.ts) and the decK loader's readers are both built on it. An unknown key close
 * to a field of its record gets a suggestion after Kong's text
 * (`unknown field (did you mean 'sample_ratio'?)`, see suggest.ts).
 */
import type { ConfigIssue } from './errors';
import { didYouMean } from './suggest';

// Kong's texts (`validation_errors` in kong/db/schema/init.lua).
export const REQUIRED = 'required field missing';
export const UNKNOWN = 'unknown field';
export const LEN_MIN_1 = 'length must be at least 1';

export interface StringSpec {
  readonly type: 'string';
  readonly required?: boolean;
  readonly default?: string;
  readonly oneOf?: readonly string[];
  readonly notOneOf?: readonly string[];
  /** Kong's `custom_validator`: an error text, or undefined when the value is fine. */
  readonly check?: (value: string) => string | undefined;
}

export interface NumberSpec {
  readonly type: 'number' | 'integer';
  readonly required?: boolean;
  readonly default?: number;
  readonly oneOf?: readonly number[];
  readonly between?: readonly [number, number];
}

export interface BooleanSpec {
  readonly type: 'boolean';
  readonly required?: boolean;
  readonly default?: boolean;
}

export interface ArraySpec {
  readonly type: 'array';
  readonly required?: boolean;
  readonly elements: FieldSpec;
  readonly check?: (value: readonly unknown[]) => string | undefined;
}

export interface RecordSpec {
  readonly type: 'record';
  /** Kong makes every nested record of a plugin schema required: absent means "all defaults". */
  readonly required?: boolean;
  /** Used instead of `{}` when the record is absent (then validated like user input). */
  readonly default?: Readonly<Record<string, unknown>>;
  readonly fields: ReadonlyMap<string, FieldSpec>;
}

export type FieldSpec = StringSpec | NumberSpec | BooleanSpec | ArraySpec | RecordSpec;

/** Marks a value that failed; its issues are already recorded. */
export const INVALID: unique symbol = Symbol('invalid');
export type Result = unknown;

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An absent (or null) field: its default, an expanded record, null, or `required field missing`. */
export function absent(spec: FieldSpec, path: string, issues: ConfigIssue[]): Result {
  if (spec.type === 'record') {
    if (spec.default !== undefined) return checkRecord(spec, spec.default, path, issues);
    if (spec.required === true) return checkRecord(spec, {}, path, issues);
    return null;
  }
  if (spec.type !== 'array' && spec.default !== undefined) return spec.default;
  if (spec.required === true) {
    issues.push({ path, reason: REQUIRED });
    return INVALID;
  }
  return null;
}

export function fail(issues: ConfigIssue[], path: string, reason: string): typeof INVALID {
  issues.push({ path, reason });
  return INVALID;
}

/** Kong formats `between` bounds with `%d`, which truncates (0.001 shows as 0). */
function betweenText(lo: number, hi: number): string {
  return `value should be between ${Math.trunc(lo)} and ${Math.trunc(hi)}`;
}

export function checkValue(spec: FieldSpec, value: unknown, path: string, issues: ConfigIssue[]): Result {
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string') return fail(issues, path, 'expected a string');
      if (spec.notOneOf?.includes(value)) return fail(issues, path, `must not be one of: ${spec.notOneOf.join(', ')}`);
      if (spec.oneOf !== undefined && !spec.oneOf.includes(value)) {
        return fail(issues, path, `expected one of: ${spec.oneOf.join(', ')}`);
      }
      if (value === '') return fail(issues, path, LEN_MIN_1);
      const err = spec.check?.(value);
      return err === undefined ? value : fail(issues, path, err);
    }
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || Number.isNaN(value)) return fail(issues, path, 'expected a number');
      if (spec.type === 'integer' && !Number.isInteger(value)) return fail(issues, path, 'expected an integer');
      if (spec.oneOf !== undefined && !spec.oneOf.includes(value)) {
        return fail(issues, path, `expected one of: ${spec.oneOf.join(', ')}`);
      }
      if (spec.between !== undefined && (value < spec.between[0] || value > spec.between[1])) {
        return fail(issues, path, betweenText(spec.between[0], spec.between[1]));
      }
      return value;
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(issues, path, 'expected a boolean');
    case 'array': {
      if (!Array.isArray(value)) return fail(issues, path, 'expected an array');
      const out: unknown[] = new Array<unknown>(value.length);
      let ok = true;
      for (let i = 0; i < value.length; i++) {
        const element: unknown = value[i];
        const itemPath = `${path}[${i}]`;
        // Kong marks array elements required: a null element is an error, never a default.
        const r =
          element == null ? fail(issues, itemPath, REQUIRED) : checkValue(spec.elements, element, itemPath, issues);
        if (r === INVALID) ok = false;
        else out[i] = r;
      }
      if (!ok) return INVALID;
      const err = spec.check?.(out);
      return err === undefined ? Object.freeze(out) : fail(issues, path, err);
    }
    case 'record':
      return isPlainRecord(value) ? checkRecord(spec, value, path, issues) : fail(issues, path, 'expected a record');
  }
}

export function checkRecord(
  spec: RecordSpec,
  input: Readonly<Record<string, unknown>>,
  path: string,
  issues: ConfigIssue[],
): Result {
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const [name, field] of spec.fields) {
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    const fieldPath = `${path}.${name}`;
    const r = value == null ? absent(field, fieldPath, issues) : checkValue(field, value, fieldPath, issues);
    if (r === INVALID) ok = false;
    else out[name] = r;
  }
  for (const key of Object.keys(input)) {
    if (!spec.fields.has(key)) {
      fail(issues, `${path}.${key}`, UNKNOWN + didYouMean(key, spec.fields.keys()));
      ok = false;
    }
  }
  return ok ? Object.freeze(out) : INVALID;
}
