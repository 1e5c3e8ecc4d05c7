/**
 * Baggage carried as one header per item (`uberctx-<key>`, `ot-baggage-<key>`), shared by
 * the jaeger and ot formats.
 */
import type { HeaderWriter, RequestHeaders } from './context';
import { firstHeader } from './context';
import { escapeUri, unescapeUri } from './hex';

// An HTTP token: a baggage key that would not make a legal header name is not injected,
// since Node throws on such a name and Kong never has one (its keys come from header names).
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/;

/** Every `<prefix><key>` header (names are lowercase), URL-unescaped; undefined when there is none. */
export function readBaggage(headers: RequestHeaders, prefix: string): Record<string, string> | undefined {
  let baggage: Record<string, string> | undefined;
  for (const name in headers) {
    if (!name.startsWith(prefix)) continue;
    const value = firstHeader(headers[name]);
    if (value === undefined) continue;
    // No prototype, so a key like `__proto__` is just a key.
    if (baggage === undefined) baggage = Object.create(null) as Record<string, string>;
    baggage[name.slice(prefix.length)] = unescapeUri(value);
  }
  return baggage;
}

/** One `<prefix><key>: <escaped value>` header per item. */
export function writeBaggage(baggage: Readonly<Record<string, string>> | undefined, prefix: string, headers: HeaderWriter): void {
  if (baggage === undefined) return;
  for (const key in baggage) {
    if (!TOKEN_RE.test(key)) continue;
    headers.set(prefix + key.toLowerCase(), escapeUri(baggage[key]));
  }
}
