/**
 * "Did you mean" for unknown keys: the one edit-distance helper of the project, used by the
 * schema engine (`unknown field` in the zipkin `config` record) and by the decK loader's
 * key checks. Kong's text stays the start of the message; the suggestion is appended, so
 * `unknown field` becomes `unknown field (did you mean 'sample_ratio'?)`.
 */

/**
 * Optimal string alignment distance (Levenshtein plus the transposition of two adjacent
 * characters, so `servcies` is 1 from `services`).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rows: the one before the previous (for transpositions), the previous, the current.
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      cur[j] = d;
    }
    [before, prev, cur] = [prev, cur, before];
  }
  return prev[b.length];
}

/**
 * How far a key may be from a field to be taken for a typo of it: none for keys shorter
 * than 3 characters (`ip` is not a typo of `id`), 1 edit up to 7 characters, 2 from 8.
 */
function maxDistance(key: string): number {
  if (key.length < 3) return 0;
  return key.length < 8 ? 1 : 2;
}

/**
 * The known name `key` most likely misspells, or undefined when none is close enough.
 * Case is ignored (`sampleRatio` is 1 from `sample_ratio`); on a tie the first candidate
 * in `known`'s order wins.
 */
export function closestName(key: string, known: Iterable<string>): string | undefined {
  const limit = maxDistance(key);
  if (limit === 0) return undefined;
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of known) {
    if (name === key) continue;
    // The lengths alone can rule a name out.
    if (Math.abs(name.length - key.length) >= bestDistance) continue;
    const d = editDistance(lower, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean '<name>'?)` for the closest known name, or `''` when there is none. */
export function didYouMean(key: string, known: Iterable<string>): string {
  const name = closestName(key, known);
  return name === undefined ? '' : ` (did you mean '${name}'?)`;
}
