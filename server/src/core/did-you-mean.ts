// "Did you mean ...?": the close spellings of a mistyped word among known names.

export interface SuggestOptions {
  /** Most suggestions returned (default 3). */
  max?: number;
  /** Largest edit distance accepted (default max(1, floor(word length / 3))). */
  maxDistance?: number;
}

/**
 * The candidates close to `word`, best first. A case-insensitive exact match
 * (`hostname` → `hostName`) wins outright; otherwise candidates within the
 * edit distance bound that are closest, in the caller's order, so the
 * result is deterministic and the caller can rank common names first.
 */
export function suggest(word: string, candidates: Iterable<string>, opts: SuggestOptions = {}): string[] {
  // The candidate lists are constants and one typo tends to repeat (a generated
  // machines file of 100,000 lines): remember the answers per list.
  if (!Array.isArray(candidates)) return compute(word, candidates, opts);
  let memo = memos.get(candidates);
  if (!memo) {
    memo = new Map();
    memos.set(candidates, memo);
  }
  const key = `${opts.max ?? ''}\u0000${opts.maxDistance ?? ''}\u0000${word}`;
  let hit = memo.get(key);
  if (!hit) {
    if (memo.size >= MAX_MEMO) memo.clear();
    hit = compute(word, candidates, opts);
    memo.set(key, hit);
  }
  return [...hit];
}

const memos = new WeakMap<readonly string[], Map<string, string[]>>();
const MAX_MEMO = 4096;

function compute(word: string, candidates: Iterable<string>, opts: SuggestOptions): string[] {
  const max = opts.max ?? 3;
  const lower = word.toLowerCase();
  const limit = opts.maxDistance ?? Math.max(1, Math.floor(word.length / 3));
  const seen = new Set<string>();
  const sameCase: string[] = [];
  const near: { c: string; d: number; i: number }[] = [];
  let i = 0;
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    const cl = c.toLowerCase();
    if (cl === lower) sameCase.push(c);
    else {
      const d = editDistance(lower, cl, limit);
      if (d <= limit) near.push({ c, d, i });
    }
    i++;
  }
  if (sameCase.length > 0) return sameCase.slice(0, max);
  near.sort((a, b) => a.d - b.d || a.i - b.i);
  // Only the closest ones: `aarch64-linx` should offer aarch64-linux, not
  // every aarch64-* that also happens to fit the distance bound.
  const best = near[0]?.d ?? 0;
  return near.filter((n) => n.d === best).slice(0, max).map((n) => n.c);
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent
 * transpositions, so `lniux` is one step from `linux`). Returns limit + 1 as
 * soon as the distance must exceed `limit`, which keeps long candidate lists cheap.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        v = Math.min(v, (prev2[j - 2] ?? 0) + 1);
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  const d = prev[n] ?? 0;
  return d > limit ? limit + 1 : d;
}
