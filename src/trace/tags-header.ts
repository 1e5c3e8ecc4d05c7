import type { HeaderValue } from '../propagation/context';

/**
 * Kong's `tags_header` parser (§2.9): `k=v` items separated by `;`, each value of a
 * repeated header parsed in order, later keys overwriting earlier ones.
 *
 * Each item must match Kong's Lua pattern `^%s*(%S+)%s*=%s*(.*%S)%s*$` (`%s` is Lua's
 * whitespace: space and \t \n \v \f \r). The key is greedy, so it runs to the last `=` that
 * still leaves a non-empty value (`a=b=c` → key `a=b`). The pattern is evaluated by hand in
 * one pass: as a JS regex, `%s*=%s*(.*%S)` backtracks quadratically on an item like
 * `k` + spaces + `=` + spaces (2.7 s for 64 KiB).
 */

export interface ParsedTags {
  /** The valid tags, in the order met (a repeated key keeps its first position, last value). */
  tags: Record<string, string>;
  /** Kong's warning when some items did not parse, otherwise undefined. */
  warning: string | undefined;
}

/**
 * Parse the header's value(s); undefined when the header is absent. Anything but a string or
 * an array (e.g. what an object's prototype answers for `constructor`) counts as absent, and
 * non-string array elements are skipped.
 */
export function parseTagsHeader(value: HeaderValue): ParsedTags | undefined {
  if (typeof value !== 'string' && !Array.isArray(value)) return undefined;
  // No prototype: a tag may be called `__proto__`.
  const tags = Object.create(null) as Record<string, string>;
  const errors: string[] = [];
  if (typeof value === 'string') {
    parseInto(value, tags, errors);
  } else {
    const list: readonly unknown[] = value;
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (typeof v === 'string') parseInto(v, tags, errors);
    }
  }
  const warning = errors.length === 0 ? undefined : `Could not parse the following Zipkin tags: ${errors.join(', ')}`;
  return { tags, warning };
}

function parseInto(text: string, tags: Record<string, string>, errors: string[]): void {
  let start = 0;
  for (;;) {
    const end = text.indexOf(';', start);
    const stop = end === -1 ? text.length : end;
    // Kong skips only truly empty items; a blank one is reported like any bad item.
    if (stop > start && !parseItem(text, start, stop, tags)) errors.push(text.slice(start, stop));
    if (end === -1) return;
    start = end + 1;
  }
}

/** Lua's `%s`: space, \t \n \v \f \r (not JS's Unicode whitespace). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

const EQ = 61; // '='

/** Match one item `text[from, to)`; on success store the tag and return true. */
function parseItem(text: string, from: number, to: number, tags: Record<string, string>): boolean {
  // `^%s*`: the key starts at the first non-space.
  let keyStart = from;
  while (keyStart < to && isSpace(text.charCodeAt(keyStart))) keyStart++;
  if (keyStart === to) return false;
  // `%S+` can only cover the first run of non-spaces.
  let runEnd = keyStart;
  while (runEnd < to && !isSpace(text.charCodeAt(runEnd))) runEnd++;
  // `(.*%S)%s*$`: the value ends at the item's last non-space.
  let last = to - 1;
  while (isSpace(text.charCodeAt(last))) last--;

  // Longest key first: the whole run, then spaces and `=` (`foo = bar`).
  let eq = -1;
  let keyEnd = runEnd;
  if (runEnd < to) {
    let q = runEnd;
    while (q < to && isSpace(text.charCodeAt(q))) q++;
    if (q < to && text.charCodeAt(q) === EQ && last > q) eq = q;
  }
  // Otherwise the key ends at the last `=` inside the run that leaves a non-space after it.
  if (eq === -1) {
    for (let e = runEnd - 1; e > keyStart; e--) {
      if (text.charCodeAt(e) === EQ && last > e) {
        eq = e;
        keyEnd = e;
        break;
      }
    }
    if (eq === -1) return false;
  }
  // `%s*` after `=`: the value starts at the next non-space (one exists, since last > eq).
  let valueStart = eq + 1;
  while (isSpace(text.charCodeAt(valueStart))) valueStart++;
  tags[text.slice(keyStart, keyEnd)] = text.slice(valueStart, last + 1);
  return true;
}
