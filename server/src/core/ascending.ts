// Sorted index lists: ssh_config blocks and known_hosts lines are looked up
// through a by-name index plus the entries that may match any name, and the two
// lists must be walked in file order (first match wins in ssh).

/** The ascending union of two ascending lists of indices (an index in both comes once). */
export function mergeAscending(a: readonly number[], b: readonly number[]): readonly number[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i] ?? Infinity;
    const y = b[j] ?? Infinity;
    if (x <= y) i++;
    if (y <= x) j++;
    out.push(Math.min(x, y));
  }
  return out;
}
