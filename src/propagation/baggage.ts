/**
 * Baggage carried as one header per item (`uberctx-<key>`, `ot-baggage-<key>`), shared by
 * the jaeger and ot formats. Both directions apply OTel's baggage limits (limits.ts).
 */
import type { Logger } from '../logger';
import type { HeaderWriter, RequestHeaders } from './context';
import { firstHeader } from './context';
import { escapeUri, unescapeUri } from './uri-escape';
import { BaggageBudget } from './limits';

// An HTTP token: a baggage key that would not make a legal header name is not injected,
// since Node throws on such a name and Kong never has one (its keys come from header names).
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/;

/**
 * Every `<prefix><key>` header (names are lowercase), URL-unescaped; undefined when there is
 * none. Items are counted against the limits by their size on the wire (`key=value`).
 */
export function readBaggage(headers: RequestHeaders, prefix: string, log: Logger): Record<string, string> | undefined {
  let baggage: Record<string, string> | undefined;
  let budget: BaggageBudget | undefined;
  for (const name in headers) {
    if (!name.startsWith(prefix)) continue;
    const value = firstHeader(headers[name]);
    if (typeof value !== 'string') continue;
    budget ??= new BaggageBudget();
    if (!budget.admit(name.length - prefix.length + 1 + value.length)) continue;
    // No prototype, so a key like `__proto__` is just a key.
    if (baggage === undefined) baggage = Object.create(null) as Record<string, string>;
    baggage[name.slice(prefix.length)] = unescapeUri(value);
  }
  if (budget !== undefined) for (const w of budget.warnings) log.warn(w);
  return baggage;
}

/**
 * The items that fit the limits once escaped as they will be sent (escaping can triple a
 * value), with the warnings logged; `baggage` itself when all fit. Keys that are not HTTP
 * tokens are never sent and do not count.
 */
export function limitBaggage(baggage: Readonly<Record<string, string>>, log: Logger): Readonly<Record<string, string>> {
  const budget = new BaggageBudget();
  let kept: Record<string, string> | undefined;
  const keys = Object.keys(baggage);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (!TOKEN_RE.test(key)) continue;
    const value = baggage[key];
    const fits = typeof value === 'string' && budget.admit(key.length + 1 + escapeUri(value).length);
    if (fits) {
      if (kept !== undefined) kept[key] = value;
    } else if (kept === undefined) {
      // First item left out: copy what was kept so far (every sendable key before it).
      kept = Object.create(null) as Record<string, string>;
      for (let j = 0; j < i; j++) if (TOKEN_RE.test(keys[j])) kept[keys[j]] = baggage[keys[j]];
    }
  }
  for (const w of budget.warnings) log.warn(w);
  return kept ?? baggage;
}

/** One `<prefix><key>: <escaped value>` header per item. */
export function writeBaggage(
  baggage: Readonly<Record<string, string>> | undefined,
  prefix: string,
  headers: HeaderWriter,
): void {
  if (baggage === undefined) return;
  for (const key in baggage) {
    const value = baggage[key];
    if (!TOKEN_RE.test(key) || typeof value !== 'string') continue;
    headers.set(prefix + key.toLowerCase(), escapeUri(value));
  }
}
