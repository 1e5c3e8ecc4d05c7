/**
 * W3C Trace Context `tracestate` (the specification's "Tracestate Header"), a deliberate difference from Kong
 * (docs/design.md difference 8): Kong never parses `tracestate` and forwards it untouched;
 * here it is validated and carried only next to the `traceparent` it belongs to.
 *
 * The grammar is the one of the current specification (and of the official test suite):
 *
 *     list        = list-member 0*31( OWS "," OWS list-member )
 *     list-member = (key "=" value) / OWS
 *     key         = ( lcalpha / DIGIT ) 0*255( keychar )
 *     keychar     = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
 *     value       = 0*255(chr) nblk-chr
 *     nblk-chr    = %x21-2B / %x2D-3C / %x3E-7E
 *     chr         = %x20 / nblk-chr
 *
 * Level 1's separate multi-tenant form (`tenant@system`, a 241 + 14 character split) is a
 * subset of this key grammar.
 */
import type { TraceState } from '@opentelemetry/api';
import type { HeaderValue } from './context';

/** Most list members a `tracestate` may have (empty members do not count). */
export const MAX_TRACESTATE_MEMBERS = 32;

const KEY_RE = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
const VALUE_RE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** True for a valid list-member key. */
export function isTraceStateKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** True for a valid list-member value (trailing spaces are OWS, not part of a value). */
export function isTraceStateValue(value: string): boolean {
  return VALUE_RE.test(value);
}

/** `tab` and `space`, W3C's OWS. */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Parse a `tracestate` request header into its members, in order. Several header lines
 * (an array, or Node's `, `-joined value) form one list. Returns undefined when the header
 * is absent, holds no member, or is invalid anywhere: a malformed member or more than 32
 * members discards the whole list (W3C: "the vendor MAY discard the entire header"). Empty
 * members (OWS only) are allowed and dropped. A key seen again keeps its first value and
 * the later member is dropped (W3C lets a vendor discard duplicates it did not generate; the
 * official suite expects the list to be inherited). Linear in the input, with an early exit.
 */
export function parseTraceState(value: HeaderValue): Map<string, string> | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? value : value.join(',');
  let members: Map<string, string> | undefined;
  let start = 0;
  const length = list.length;
  while (start <= length) {
    let end = list.indexOf(',', start);
    if (end === -1) end = length;
    let a = start;
    let b = end;
    while (a < b && isOws(list.charCodeAt(a))) a++;
    while (b > a && isOws(list.charCodeAt(b - 1))) b--;
    if (a < b) {
      const eq = list.indexOf('=', a);
      if (eq === -1 || eq >= b) return undefined;
      const key = list.slice(a, eq);
      const val = list.slice(eq + 1, b);
      if (!KEY_RE.test(key) || !VALUE_RE.test(val)) return undefined;
      members ??= new Map();
      if (!members.has(key)) {
        if (members.size === MAX_TRACESTATE_MEMBERS) return undefined;
        members.set(key, val);
      }
    }
    start = end + 1;
  }
  return members;
}

/** The members as a header value, `k=v,k=v`. */
export function serializeTraceState(members: ReadonlyMap<string, string>): string {
  let out = '';
  for (const [key, value] of members) out += (out === '' ? '' : ',') + key + '=' + value;
  return out;
}

/** A valid `tracestate` header in its normalised form (no OWS, no empty member), or undefined. */
export function normaliseTraceState(value: HeaderValue): string | undefined {
  const members = parseTraceState(value);
  return members === undefined ? undefined : serializeTraceState(members);
}

/**
 * An OTel `TraceState` holding a list validated with the grammar above. `@opentelemetry/core`'s
 * `TraceState` checks Level 1 keys (it drops `foo@`, `1abc`, `t@` + 15 characters, all valid
 * now), drops invalid members one by one instead of the whole list, and drops members past
 * 512 characters; this one keeps what W3C allows. Mutations follow W3C: a set key moves to the
 * left, and a list that would grow past 32 members loses its right-most member.
 */
export class W3CTraceState implements TraceState {
  private readonly members: ReadonlyMap<string, string>;

  constructor(members?: ReadonlyMap<string, string>) {
    this.members = members ?? new Map();
  }

  /** From a header value; an invalid header gives an empty state. */
  static parse(value: HeaderValue): W3CTraceState {
    return new W3CTraceState(parseTraceState(value));
  }

  set(key: string, value: string): W3CTraceState {
    if (!KEY_RE.test(key) || !VALUE_RE.test(value)) return this;
    const next = new Map<string, string>([[key, value]]);
    for (const [k, v] of this.members) {
      if (k === key) continue;
      if (next.size === MAX_TRACESTATE_MEMBERS) break;
      next.set(k, v);
    }
    return new W3CTraceState(next);
  }

  unset(key: string): W3CTraceState {
    if (!this.members.has(key)) return this;
    const next = new Map(this.members);
    next.delete(key);
    return new W3CTraceState(next);
  }

  get(key: string): string | undefined {
    return this.members.get(key);
  }

  serialize(): string {
    return serializeTraceState(this.members);
  }
}
