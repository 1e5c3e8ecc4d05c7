import type { HeaderValue } from '../propagation/context';

/**
 * Kong's `tags_header` parser (§2.9): `k=v` items separated by `;`, each value of a
 * repeated header parsed in order, later keys overwriting earlier ones.
 *
 * The item pattern is Kong's Lua pattern `^%s*(%S+)%s*=%s*(.*%S)%s*$` spelled with Lua's
 * whitespace class: the key is greedy, so it runs to the last `=` that still leaves a
 * non-empty value (`a=b=c` → key `a=b`).
 */
const ITEM_RE = /^[ \t\n\v\f\r]*([^ \t\n\v\f\r]+)[ \t\n\v\f\r]*=[ \t\n\v\f\r]*(.*[^ \t\n\v\f\r])[ \t\n\v\f\r]*$/s;

export interface ParsedTags {
  /** The valid tags, in the order met (a repeated key keeps its first position, last value). */
  tags: Record<string, string>;
  /** Kong's warning when some items did not parse, otherwise undefined. */
  warning: string | undefined;
}

/** Parse the header's value(s); undefined when the header is absent. */
export function parseTagsHeader(value: HeaderValue): ParsedTags | undefined {
  if (value === undefined) return undefined;
  // No prototype: a tag may be called `__proto__`.
  const tags = Object.create(null) as Record<string, string>;
  const errors: string[] = [];
  if (typeof value === 'string') {
    parseInto(value, tags, errors);
  } else {
    for (let i = 0; i < value.length; i++) parseInto(value[i], tags, errors);
  }
  const warning = errors.length === 0 ? undefined : `Could not parse the following Zipkin tags: ${errors.join(', ')}`;
  return { tags, warning };
}

function parseInto(text: string, tags: Record<string, string>, errors: string[]): void {
  let start = 0;
  for (;;) {
    const end = text.indexOf(';', start);
    const item = end === -1 ? text.slice(start) : text.slice(start, end);
    // Kong skips only truly empty items; a blank one is reported like any bad item.
    if (item !== '') {
      const m = ITEM_RE.exec(item);
      if (m === null) errors.push(item);
      else tags[m[1]] = m[2];
    }
    if (end === -1) return;
    start = end + 1;
  }
}
