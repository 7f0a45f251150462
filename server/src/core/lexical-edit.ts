// The lexical fast path: a keystroke inside a string or a number that keeps
// the tree's shape makes the new tree from the previous one's arrays, moved,
// without running tree-sitter.
//
// Why: tree-sitter never reuses the fragile joins of a repetition whole, so an
// incremental parse of an edit inside a 2,000-element list walks all of its
// elements again (6–12 ms in the 1 MB bench file), even when the edit only
// makes a string one letter longer.
//
// The whole argument: the new text must lex to the same tokens (same symbols,
// same boundaries but for the edited one, which grows or shrinks by the edit).
// tree-sitter's parse is decided by the token symbols alone (the grammar's
// lexer states follow the parse states; the external scanner keeps no state),
// so the same tokens give the same tree, every node moved by the edit. The
// conditions below only accept edits for which that is provable from the
// grammar (node_modules/tree-sitter-nix: grammar.json, src/scanner.c) by
// looking at the edit, its leaf and the characters next to it; anything else
// goes through the incremental parse. The analysis is allowed to be
// conservative, never wrong: test/core/lexical-edit.test.js compares with full
// parses after thousands of random edits.
import { type Flat, HAS_ERROR, type OffsetEdit } from './flat-patch';

/** A parsed tree as the decision reads it: its arrays and the type name of a node. */
export interface LexicalView {
  flat: Flat;
  type(n: number): string;
}

/**
 * What may be removed from or typed into a string fragment. None of them ends
 * a fragment or starts anything inside a string: a fragment of a `"…"` string
 * stops at `"`, `\` and `${`; one of a `''…''` string at `''` and `${`; and a
 * `$` swallows the character after it (`$${` is text). So no quote, backslash,
 * `$`, brace or apostrophe. Tab, CR, LF and non-ASCII would be safe for the
 * scanner, but CR interacts with the document's lone-CR normalisation and
 * there is no need to prove the rest: typing them takes the ordinary path.
 */
const FRAGMENT_SAFE = /^[A-Za-z0-9 \-_.:/@+=,%~#!?*()[\]<>;|&^]*$/;

/**
 * Characters that may touch a string fragment's edit on either side in the
 * new text. `$` would pair with the edit's first character (`${` or `$`
 * eating it) or be paired differently; `'` could form `''` in an indented
 * string; `\` starts an escape (`\` + the edit's first character) or ends one
 * (`''\`). The other stops of a fragment (`"`, `${`, `''`) begin with one of
 * these or are `"`, which ends the fragment whatever stands before it. CR: a
 * lone CR is parsed as LF (parser.ts normalizeLineEnds), and whether it is lone
 * depends on the character after it; the document moves such an edit's start
 * back over the CR, out of this analysis's reach.
 */
const FRAGMENT_BAD_NEIGHBOUR = new Set(['$', "'", '\\', '\r']);

/**
 * The characters that may stand right before or after an integer literal,
 * beside the start and end of the text. A positive list, stricter than "no
 * letter, digit, `.`, `_`, `'` or `-`": no token of the grammar has one of
 * these and then a digit, or a digit and then one of these, whose match
 * depends on how many digits there are. (`=` and `,` are URI characters, but a
 * URI lexed up to one of them goes on through the digits, long or short: then
 * there is no integer literal to edit.) Excluded on purpose: letters, `_`,
 * `'` and `-` (identifiers `a1`, `a-1`), `.` (floats `1.5`, `.5`: `00.5` is
 * `00` then `.5`, but `10.5` one float), `/`, `+`, `~` (paths `1/2`, `+1/x`),
 * `:` (URIs `a:1`), `<` `>` (search paths `<x1>`), `$`, `\`, quotes, `#`, `*`,
 * CR (see FRAGMENT_BAD_NEIGHBOUR).
 */
const INTEGER_NEIGHBOURS = new Set([' ', '\t', '\n', ';', ',', '=', '(', ')', '[', ']', '{', '}']);

const DIGITS = /^[0-9]*$/;

/** A leaf that holds the edit, and its parent (-1 for the root). */
interface Holder {
  leaf: number;
  parent: number;
}

/**
 * Every leaf L with L.start <= start and end <= L.end. Usually one; two when
 * an insertion falls on the boundary of two tokens (either could take it).
 * Each level looks at children up to the edit only; the boundary case follows
 * at most two chains (one ending at the edit, one starting there).
 */
function leavesHolding(f: Flat, start: number, end: number): Holder[] {
  const out: Holder[] = [];
  if ((f.start[0] as number) > start || (f.end[0] as number) < end) return out;
  // Iterative: trees nest 100,000 deep (test/faults), more than the call stack.
  const stack: Holder[] = [{ leaf: 0, parent: -1 }];
  while (stack.length > 0) {
    const { leaf: n, parent } = stack.pop() as Holder;
    if ((f.stop[n] as number) === n + 1) {
      out.push({ leaf: n, parent });
      continue;
    }
    for (let c = n + 1; c >= 0; c = f.next[c] as number) {
      if ((f.start[c] as number) > start) break;
      if ((f.end[c] as number) >= end) stack.push({ leaf: c, parent: n });
    }
  }
  return out;
}

/** The previous sibling of a node (-1 none). */
function previousSibling(f: Flat, parent: number, n: number): number {
  let prev = -1;
  for (let c = parent + 1; c >= 0 && c !== n; c = f.next[c] as number) prev = c;
  return prev;
}

/**
 * The leaf a one-change edit of `text` (the tree's text) stays inside, when
 * the edited text provably lexes to the same tokens with only that leaf
 * changed; undefined otherwise (the caller parses). `inserted` is the text
 * that replaces [edit.startIndex, edit.oldEndIndex).
 */
export function lexicalLeaf(text: string, tree: LexicalView, edit: OffsetEdit, inserted: string): number | undefined {
  const f = tree.flat;
  const { startIndex: start, oldEndIndex: oldEnd } = edit;
  if (start > oldEnd || oldEnd > text.length || edit.newEndIndex !== start + inserted.length) return undefined;
  // A tree with errors is error recovery's guess: the same tokens need not give the same tree
  // (and it may hold zero-width MISSING nodes the moved offsets would not account for).
  if (((f.flags[0] as number) & HAS_ERROR) !== 0) return undefined;
  const removed = text.slice(start, oldEnd);
  // Digits are safe characters too: anything else needs no look at the tree.
  if (!FRAGMENT_SAFE.test(removed) || !FRAGMENT_SAFE.test(inserted)) return undefined;
  const candidates = leavesHolding(f, start, oldEnd).filter(({ leaf }) => KINDS.has(tree.type(leaf)));
  // Two candidates: an insertion between two fragments (only next to `\$`); which one a
  // parse would give the text to is not decided here.
  if (candidates.length !== 1) return undefined;
  const { leaf, parent } = candidates[0] as Holder;
  if (tree.type(leaf) === 'integer_expression') return integerKeepsToken(f, text, leaf, removed, inserted) ? leaf : undefined;
  // The characters next to the edit in the new text: before it, the old text's; after the
  // inserted text, the old text's after the removed stretch ('' at either end of the text).
  const before = start > 0 ? text.charAt(start - 1) : '';
  const after = text.charAt(oldEnd);
  return fragmentKeepsToken(f, tree, leaf, parent, start, removed, inserted, before, after) ? leaf : undefined;
}

const KINDS = new Set(['string_fragment', 'integer_expression']);

function fragmentKeepsToken(f: Flat, tree: LexicalView, leaf: number, parent: number, start: number, removed: string, inserted: string, before: string, after: string): boolean {
  // Fragments elsewhere (none in this grammar today) are not analysed.
  if (parent < 0) return false;
  const parentType = tree.type(parent);
  if (parentType !== 'string_expression' && parentType !== 'indented_string_expression') return false;
  // (Removed and inserted characters are FRAGMENT_SAFE: lexicalLeaf checked.)
  // Deleting the whole fragment removes a node (`"a"` → `""`).
  if ((f.end[leaf] as number) - (f.start[leaf] as number) + inserted.length - removed.length <= 0) return false;
  // The string's first and last tokens are never a fragment, so a well-formed tree has
  // characters on both sides; '' (an end of the text) is refused all the same.
  if (!safeNeighbour(before) || !safeNeighbour(after)) return false;
  // The `$` after `\$` (or `''$`, `''\$`) is a fragment of its own, and the text after it
  // another one: two fragments in a row, split where the scanner alone would not split.
  // The neighbour rule already refuses every edit of that `$` and every edit at the start
  // of the fragment after it; this keeps the argument from depending on it. (An external
  // fragment ends at a stop, `"`, `\`, `${` or `''`: no other two fragments are adjacent.)
  const prev = previousSibling(f, parent, leaf);
  if (prev >= 0 && (tree.type(prev) === 'dollar_escape' || (start === f.start[leaf] && tree.type(prev) === 'string_fragment'))) return false;
  // What remains at the fragment's very start: the token before it is `"`, the `}` of an
  // interpolation, or an escape sequence, all of fixed length (`\` + one character, `''\` +
  // one), which the new first character cannot lengthen or shorten (`''` and `'''` end in
  // `'`, `\\` in `\`: refused above). At its very end: the token after it starts with `"`,
  // `\`, `$` or `'`; only `"` passes, and a fragment ends at `"` whatever stands before it.
  return true;
}

function safeNeighbour(c: string): boolean {
  if (c === '' || FRAGMENT_BAD_NEIGHBOUR.has(c)) return false;
  // Half of a surrogate pair: the edit splits a character (tree-sitter would decode the
  // halves on their own); nothing to prove there.
  const code = c.charCodeAt(0);
  return code < 0xd800 || code > 0xdfff;
}

function integerKeepsToken(f: Flat, text: string, leaf: number, removed: string, inserted: string): boolean {
  // Digits for digits: `[0-9]+` stays one literal, and no other token pattern of the grammar
  // (floats `0?\.`, exponents, paths, URIs) tells one run of digits from another of another
  // length once the neighbours below are excluded.
  if (!DIGITS.test(removed) || !DIGITS.test(inserted)) return false;
  const s = f.start[leaf] as number;
  const e = f.end[leaf] as number;
  if (e - s + inserted.length - removed.length <= 0) return false;
  // The literal's own neighbours in the old text (the same in the new one: the edit is inside it).
  const left = s > 0 ? text.charAt(s - 1) : '';
  const right = text.charAt(e);
  return (left === '' || INTEGER_NEIGHBOURS.has(left)) && (right === '' || INTEGER_NEIGHBOURS.has(right));
}

/**
 * The arrays of the edited tree: the same nodes, offsets moved by `delta`
 * (inserted − removed length) for everything after the edited leaf, and the
 * ends of the leaf and its ancestors. The structure arrays are shared (they
 * are never written after a read); start and end are new.
 */
export function shiftFlat(old: Flat, leaf: number, delta: number): Flat {
  const count = old.count;
  // One buffer for both, filled with set(): a third of the time of two slice()s (1 MB file:
  // 0.1 against 0.9 ms), which is most of a lexical edit.
  const buffer = new ArrayBuffer(count * 8);
  const start = new Uint32Array(buffer, 0, count);
  const end = new Uint32Array(buffer, count * 4, count);
  start.set(old.start.subarray(0, count));
  end.set(old.end.subarray(0, count));
  // Before the leaf in preorder: its ancestors, which hold it and so end after the edit, and
  // nodes that end before it (unmoved). The ancestors: down from the root, the child whose
  // subtree holds the leaf's index.
  for (let n = 0; n !== leaf; ) {
    end[n] = (end[n] as number) + delta;
    let c = n + 1;
    while ((old.stop[c] as number) <= leaf) c = old.next[c] as number;
    n = c;
  }
  end[leaf] = (end[leaf] as number) + delta;
  // After it: a leaf has no descendants, so every later node starts at or after its end.
  for (let i = leaf + 1; i < count; i++) {
    start[i] = (start[i] as number) + delta;
    end[i] = (end[i] as number) + delta;
  }
  return { count, symbol: old.symbol, field: old.field, start, end, next: old.next, stop: old.stop, flags: old.flags, depth: old.depth };
}
