// The tree of an incremental parse, read from the previous tree's arrays plus
// the one subtree that changed, instead of walking all of the new tree again
// (18 ms for a 1 MB file, more than a keystroke's whole budget).
//
// tree-sitter says which ranges changed structurally (changedRanges). The
// smallest node of the previous tree that holds them and the edit is looked up
// in the new tree by its chain from the root (same symbols, same offsets after
// the edit, same fields); if it is there, only it is flattened again and spliced
// in, and every other node is the previous one, moved by the edit. When the
// chain is not found, its parents are tried (a few), then the tree is read whole.
// Trees with errors are always read whole: they may hold zero-width MISSING
// nodes, and changedRanges never reports an empty range.

/** The whole tree in preorder, as the binding gives it (see native/flatten.h). */
export interface Flat {
  count: number;
  symbol: Uint16Array;
  field: Uint16Array;
  start: Uint32Array;
  end: Uint32Array;
  next: Int32Array;
  stop: Uint32Array;
  flags: Uint8Array;
  /** The deepest nesting of subtrees (hidden ones too): changedRanges is quadratic in it. */
  depth: number;
}

/**
 * A flattened subtree (offsets absolute, index 0 its root) with the field and
 * flags of each node of its chain; its depth counts the subtrees above it too.
 */
export interface SubFlat extends Flat {
  chainFields: Uint16Array;
  chainFlags: Uint8Array;
  /** Nodes in each chain node's subtree, itself included (ts_node_descendant_count). */
  chainCounts: Uint32Array;
}

/** The flag of a node with an ERROR or MISSING node in its subtree (native/flatten.h). */
export const HAS_ERROR = 4;

/** One edit of the text, in UTF-16 offsets. */
export interface OffsetEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
}

/**
 * One edit doing what `first` then `second` do (`second`'s offsets are in the
 * text after `first`): the stretch of the original text that either replaced,
 * and where it ends once both are applied.
 */
export function composeEdits(first: OffsetEdit, second: OffsetEdit): OffsetEdit {
  const { startIndex: a1, oldEndIndex: b1, newEndIndex: c1 } = first;
  const { startIndex: a2, oldEndIndex: b2, newEndIndex: c2 } = second;
  const start = Math.min(a1, a2);
  // The second edit ends past the first one's text: its end, moved back by the first edit.
  if (b2 > c1) return { startIndex: start, oldEndIndex: b2 - (c1 - b1), newEndIndex: c2 };
  // Otherwise the first edit's old end, moved on by the second one.
  return { startIndex: start, oldEndIndex: b1, newEndIndex: c1 + (c2 - b2) };
}

/**
 * tree-sitter's changedRanges takes time quadratic in the tree's depth (2 ms
 * at 665 nested subtrees, 7 s at 40,000): deeper trees are read whole after
 * an edit. Real configurations nest a few dozen deep; the 1 MB bench file 54.
 */
const MAX_PATCH_DEPTH = 600;

/**
 * Whether a tree's arrays can be patched after an edit (else its successor is
 * read whole, and changedRanges need not be asked): not too deep, and without
 * errors, which may hide zero-width MISSING nodes that changedRanges never reports.
 */
export function canPatchFrom(old: Flat): boolean {
  return old.depth <= MAX_PATCH_DEPTH && ((old.flags[0] as number) & HAS_ERROR) === 0;
}

/**
 * Whether asking changedRanges is likely cheaper than reading the whole tree.
 * Its cost follows what the incremental parse reduced again: the siblings
 * after the edit at each level (a repetition is reduced again from the edit
 * to its end). Measured: 2.5 ms for the 1,000 builders after the edit in the
 * 1 MB bench file (a whole read: 16 ms); 46 ms for the 50,000 numbers after
 * an edit in the middle of a 100,000-element list (a whole read: 22 ms).
 * So: at most ~2.5 µs a following sibling against ~0.08 µs a node read.
 * Either way the arrays are the same; only the time differs.
 */
export function patchPaysOff(old: Flat, edit: OffsetEdit): boolean {
  // (A few hundred siblings cost well under a millisecond whatever the tree's size.)
  const budget = Math.max(old.count / 30, 500);
  let following = 0;
  for (let n = childHolding(old, 0, edit.startIndex, edit.oldEndIndex); n >= 0; n = childHolding(old, n, edit.startIndex, edit.oldEndIndex)) {
    for (let c = old.next[n] as number; c >= 0; c = old.next[c] as number) if (++following > budget) return false;
  }
  return true;
}

/** The first child of node n that holds [start, end], or -1. */
function childHolding(old: Flat, n: number, start: number, end: number): number {
  for (let c = (old.stop[n] as number) > n + 1 ? n + 1 : -1; c >= 0; c = old.next[c] as number) {
    if ((old.start[c] as number) > start) break;
    if ((old.end[c] as number) >= end) return c;
  }
  return -1;
}

/** Nodes of the chain tried, from the deepest up, before reading the whole tree. */
const MAX_ATTEMPTS = 4;

/**
 * The new tree's arrays from the previous ones, or undefined when the changed
 * subtree cannot be matched (the caller then flattens the whole tree).
 * `ranges`: changedRanges' [start, end) pairs; `flattenAt`: the binding's
 * flattenAt on the new tree.
 */
export function patchFlat(old: Flat, edit: OffsetEdit, ranges: Uint32Array, flattenAt: (chain: Uint32Array) => SubFlat | undefined): Flat | undefined {
  if (!canPatchFrom(old)) return undefined;
  const { startIndex: s, oldEndIndex: oe, newEndIndex: ne } = edit;
  const delta = ne - oe;
  // The stretch that changed, in new offsets, then in old ones (it starts before the edit and ends after it).
  let a = s;
  let b = ne;
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    a = Math.min(a, ranges[i] as number);
    b = Math.max(b, ranges[i + 1] as number);
  }
  const aOld = a;
  const bOld = b - delta;
  // The chain of nodes that hold it, from the root down.
  const chain = [0];
  if ((old.start[0] as number) > aOld || (old.end[0] as number) < bOld) return undefined;
  for (let n = childHolding(old, 0, aOld, bOld); n >= 0; n = childHolding(old, n, aOld, bOld)) chain.push(n);
  // The deepest node first, then its parents; the root itself would be a whole read.
  for (let depth = chain.length; depth >= 2 && depth > chain.length - MAX_ATTEMPTS; depth--) {
    const query = new Uint32Array(depth * 3);
    for (let k = 0; k < depth; k++) {
      const n = chain[k] as number;
      query[3 * k] = old.symbol[n] as number;
      query[3 * k + 1] = old.start[n] as number;
      query[3 * k + 2] = (old.end[n] as number) + delta;
    }
    const sub = flattenAt(query);
    if (!sub) continue;
    // changedRanges drops empty ranges, so a zero-width node (a MISSING token, only in a tree with
    // errors) that appears, goes or changes is in none of them: trees with errors are read whole.
    if (((sub.chainFlags[0] as number) & HAS_ERROR) !== 0) return undefined;
    let sameFields = true;
    for (let k = 0; k < depth; k++) if (sub.chainFields[k] !== old.field[chain[k] as number]) sameFields = false;
    if (!sameFields) continue;
    // And every node of the chain grew by exactly what the new subtree grew by: nothing changed beside it.
    const last = chain[depth - 1] as number;
    const grow = sub.count - ((old.stop[last] as number) - last);
    let sameCounts = true;
    for (let k = 0; k < depth; k++) {
      const i = chain[k] as number;
      if (sub.chainCounts[k] !== (old.stop[i] as number) - i + grow) sameCounts = false;
    }
    if (!sameCounts) continue;
    return splice(old, chain.slice(0, depth), sub, delta);
  }
  return undefined;
}

/** The previous arrays with the subtree of the chain's last node replaced by `sub`, everything after it moved. */
function splice(old: Flat, chain: number[], sub: SubFlat, delta: number): Flat {
  const n = chain[chain.length - 1] as number;
  const oldStop = old.stop[n] as number;
  const grow = sub.count - (oldStop - n);
  const count = old.count + grow;
  const out: Flat = {
    count,
    symbol: new Uint16Array(count),
    field: new Uint16Array(count),
    start: new Uint32Array(count),
    end: new Uint32Array(count),
    next: new Int32Array(count),
    stop: new Uint32Array(count),
    flags: new Uint8Array(count),
    depth: Math.max(old.depth, sub.depth),
  };
  const after = n + sub.count;
  // Nodes before n are its ancestors (which end after the edit) and nodes that end before it.
  out.symbol.set(old.symbol.subarray(0, n));
  out.field.set(old.field.subarray(0, n));
  out.start.set(old.start.subarray(0, n));
  out.end.set(old.end.subarray(0, n));
  out.flags.set(old.flags.subarray(0, n));
  out.next.set(old.next.subarray(0, n));
  out.stop.set(old.stop.subarray(0, n));
  if (grow !== 0) {
    // Links that point past the replaced subtree move with the nodes after it.
    for (let i = 0; i < n; i++) {
      if ((out.next[i] as number) >= oldStop) out.next[i] = (out.next[i] as number) + grow;
      if ((out.stop[i] as number) >= oldStop) out.stop[i] = (out.stop[i] as number) + grow;
    }
  }
  for (let k = 0; k < chain.length - 1; k++) {
    const i = chain[k] as number;
    out.end[i] = (old.end[i] as number) + delta;
    out.flags[i] = sub.chainFlags[k] as number;
  }
  // The new subtree, its indices moved to n.
  out.symbol.set(sub.symbol, n);
  out.field.set(sub.field, n);
  out.start.set(sub.start, n);
  out.end.set(sub.end, n);
  out.flags.set(sub.flags, n);
  for (let j = 0; j < sub.count; j++) {
    const next = sub.next[j] as number;
    out.next[n + j] = next >= 0 ? next + n : -1;
    out.stop[n + j] = (sub.stop[j] as number) + n;
  }
  const rootNext = old.next[n] as number;
  out.next[n] = rootNext >= 0 ? rootNext + grow : -1;
  // Nodes after it: same shape, moved by the edit and by the change in node count
  // (copied whole, then moved in tight loops: most keystrokes move offsets only).
  out.symbol.set(old.symbol.subarray(oldStop), after);
  out.field.set(old.field.subarray(oldStop), after);
  out.flags.set(old.flags.subarray(oldStop), after);
  out.start.set(old.start.subarray(oldStop), after);
  out.end.set(old.end.subarray(oldStop), after);
  out.next.set(old.next.subarray(oldStop), after);
  out.stop.set(old.stop.subarray(oldStop), after);
  if (delta !== 0) {
    addFrom(out.start, after, delta);
    addFrom(out.end, after, delta);
  }
  if (grow !== 0) {
    addFrom(out.stop, after, grow);
    const next = out.next;
    for (let j = after; j < count; j++) if ((next[j] as number) >= 0) next[j] = (next[j] as number) + grow;
  }
  return out;
}

/** Adds `by` to every element of `a` from index `from` on. */
function addFrom(a: Uint32Array, from: number, by: number): void {
  for (let j = from; j < a.length; j++) a[j] = (a[j] as number) + by;
}
