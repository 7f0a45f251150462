// Parses Nix with tree-sitter-nix through the project's own N-API binding
// (native/tree-sitter-nix-binding.cc, the tree-sitter runtime compiled in),
// and hands the reader the whole tree at once as typed arrays in preorder.
//
// Why not node-tree-sitter's SyntaxNode objects: every property of one is a
// native call (type, startIndex, namedChildren…) and an object to collect, and
// reading a 1 MB file that way cost ~10× its parse. Here a node is an index.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canPatchFrom, composeEdits, type Flat, HAS_ERROR, type OffsetEdit, patchFlat, patchPaysOff, type SubFlat } from './flat-patch';
import { lexicalLeaf, shiftFlat } from './lexical-edit';

/** A node of a SyntaxTree: its index in preorder (the root is 0). */
export type SyntaxNode = number;

/** The native tree handle (an External owned by the binding). */
type NativeTree = { readonly __nativeTree: unique symbol };

interface Binding {
  names: { symbols: string[]; fields: string[]; errorSymbol: number };
  parse(text: string, old?: NativeTree, timeoutMs?: number): NativeTree | undefined;
  edit(tree: NativeTree, ...offsets: number[]): void;
  copy(tree: NativeTree): NativeTree;
  dispose(tree: NativeTree): void;
  flatten(tree: NativeTree): Flat;
  changedRanges(oldEdited: NativeTree, tree: NativeTree): Uint32Array;
  flattenAt(tree: NativeTree, chain: Uint32Array): SubFlat | undefined;
}

const NAMED = 1;
const MISSING = 2;

let binding: Binding | undefined;

/**
 * How long one parse may take. tree-sitter-nix needs seconds to minutes for
 * some inputs (100,000 unary minus signs: ~45 s) and would freeze the server;
 * a 10 MB configuration parses in well under a second.
 */
export const PARSE_TIMEOUT_MS = Number(process.env.NIX_BUILDERS_PARSE_TIMEOUT_MS) > 0 ? Number(process.env.NIX_BUILDERS_PARSE_TIMEOUT_MS) : 5000;

let emptyFlat: Flat | undefined;
/** The tree of an empty text: what a file whose parse gave up reads as. */
function empty(b: Binding): Flat {
  if (!emptyFlat) {
    const h = b.parse('') as NativeTree;
    emptyFlat = b.flatten(h);
    b.dispose(h);
  }
  return emptyFlat;
}
let fieldIds: Map<string, number> | undefined;

/** Finds build/Release/tree_sitter_nix_binding.node next to the source tree or the bundle. */
function loadBinding(): Binding {
  if (binding) return binding;
  // The bundle (server/out, client/out, test-out) and the sources sit at different
  // depths below the project root: look upwards.
  const candidates = process.env.NIX_BUILDERS_GRAMMAR ? [process.env.NIX_BUILDERS_GRAMMAR] : [];
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    candidates.push(path.join(dir, 'build/Release/tree_sitter_nix_binding.node'));
  }
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `nix-builders: the tree-sitter-nix grammar is not built (looked for ${candidates.join(', ')}). Run \`npm install\` in the project.`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const b = require(found) as Binding;
  if (typeof b.flattenAt !== 'function') {
    throw new Error(`nix-builders: ${found} is an older build of the grammar binding. Run \`npm install\` in the project.`);
  }
  binding = b;
  fieldIds = new Map(b.names.fields.map((name, id) => [name, id]));
  return b;
}

/** The id of a field name (0 when the grammar has no such field). */
export function fieldId(name: string): number {
  loadBinding();
  return fieldIds?.get(name) ?? 0;
}

/** One edit of the text, in UTF-16 offsets and LSP-style positions (column in UTF-16 units). */
export interface TreeEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: { row: number; column: number };
  oldEndPosition: { row: number; column: number };
  newEndPosition: { row: number; column: number };
}

/**
 * Where a tree made by the lexical fast path (Tree.lexicalEdit) came from:
 * the previous tree, the leaf the edit stayed inside (same index in both
 * trees, which have the same nodes), and the edit in UTF-16 offsets of the
 * previous text. For the analysis, to redo only what read that leaf.
 */
export interface LexicalOrigin {
  /**
   * Weak: a run of keystrokes would otherwise keep every tree of the run
   * alive (3.8 MB each for the 1 MB bench file). Whoever still reads the
   * previous tree (the analysis of it) keeps it.
   */
  readonly from: WeakRef<Tree>;
  readonly leaf: SyntaxNode;
  readonly edit: { readonly start: number; readonly oldEnd: number; readonly newEnd: number };
  /**
   * The previous tree's own origin when it was lexical too: several keystrokes
   * typed before an analysis ran (the server debounces) are followed back to
   * the tree that analysis read. Kept for the last MAX_LEXICAL_RUN edits.
   */
  readonly prior?: LexicalOrigin;
  /** How many origins this one and its priors make. */
  readonly run: number;
}

/** The edits of a run of lexical trees remembered (LexicalOrigin.prior): a few small objects each. */
const MAX_LEXICAL_RUN = 256;

/**
 * A parsed Nix text. The typed arrays are read on first use (one native call
 * for the whole tree); node accessors are plain array reads.
 *
 * The native tree (tens of MB for a 1 MB file, which V8's GC does not see) is
 * only needed for an incremental parse: release() frees it as soon as nobody
 * will edit the tree. A released tree whose arrays were never read parses its
 * text again if they are asked for.
 */
export class Tree {
  private flatCache: Flat | undefined;
  private readonly names: string[];
  private readonly errorSymbol: number;

  constructor(
    readonly text: string,
    /**
     * Never edited: edits go to a copy (editedHandle). Undefined once released.
     * A lexical tree's is its previous tree's with the edit applied and not
     * parsed: tree-sitter takes more edits before the next parse, which
     * re-lexes the edited leaf then.
     */
    private handle: NativeTree | undefined,
    /** Set when the tree was made by the lexical fast path (lexicalEdit), not by tree-sitter. */
    readonly lexical?: LexicalOrigin,
  ) {
    const b = loadBinding();
    this.names = b.names.symbols;
    this.errorSymbol = b.names.errorSymbol;
  }

  /** The parse gave up (PARSE_TIMEOUT_MS): the tree is empty and the file reads as nothing. */
  timedOut = false;

  /**
   * How the arrays were read: whole, patched from the previous tree's, or
   * moved from them without a parse (lexicalEdit). For tests and the bench.
   */
  readBy: 'whole' | 'patch' | 'lexical' | undefined = undefined;

  /** Set by an incremental parse: the previous arrays and what changed, to read only that (flat-patch.ts). */
  private pending: Pending | undefined;

  private get flat(): Flat {
    if (!this.flatCache) {
      const b = loadBinding();
      const handle = this.handle;
      const pending = this.pending;
      this.pending = undefined;
      if (handle) {
        let patched: Flat | undefined;
        if (pending) {
          patched = patchFlat(pending.old, pending.edit, b.changedRanges(pending.edited, handle), (chain) => b.flattenAt(handle, chain));
          b.dispose(pending.edited);
        }
        this.readBy = patched ? 'patch' : 'whole';
        this.flatCache = patched || b.flatten(handle);
      } else if (this.timedOut) {
        this.flatCache = empty(b);
      } else {
        const h = b.parse(normalizeLineEnds(this.text), undefined, PARSE_TIMEOUT_MS);
        if (h) {
          this.flatCache = b.flatten(h);
          b.dispose(h);
        } else {
          this.timedOut = true;
          this.flatCache = empty(b);
        }
      }
    }
    return this.flatCache;
  }

  /** Whether an incremental parse can start from this tree (its native tree is not released). */
  get editable(): boolean {
    return this.handle !== undefined;
  }

  /** Frees the native tree now (the arrays stay). No incremental parse can start from this tree afterwards. */
  release(): void {
    if (this.handle) loadBinding().dispose(this.handle);
    this.handle = undefined;
    this.dropPending();
  }

  private dropPending(): void {
    if (this.pending) loadBinding().dispose(this.pending.edited);
    this.pending = undefined;
  }

  /** Reads the arrays and frees the native tree: for trees that are read but never edited. Returns this. */
  detached(): this {
    void this.flat;
    this.release();
    return this;
  }

  /** A copy of the native tree with the edits applied, for an incremental parse (the copy is the caller's to dispose). */
  editedHandle(edits: TreeEdit[]): NativeTree {
    if (!this.handle) throw new Error('nix-builders: an incremental parse from a released tree');
    const b = loadBinding();
    const h = b.copy(this.handle);
    for (const e of edits) applyEdit(b, h, e);
    return h;
  }

  /**
   * The tree of `text`, this tree's text with `edits` applied, parsed
   * incrementally. When this tree's arrays were read (or it is to be patched
   * itself), the new tree reads only the subtree that changed (flat-patch.ts).
   */
  reparse(text: string, edits: TreeEdit[]): Tree {
    const b = loadBinding();
    const edited = this.editedHandle(edits);
    const tree = parseTree(b, text, edited);
    // The changes of one notification apply one after the other: as one edit, they replace one stretch.
    const edit = edits.length > 0 ? edits.slice(1).reduce<OffsetEdit>(composeEdits, edits[0] as TreeEdit) : undefined;
    const carried = this.pending;
    this.pending = undefined;
    if (tree.handle && edit && carried) {
      // A burst of edits before any read: the new tree is patched from the same arrays, through all
      // the edits as one (the edited copy of their tree gets these edits too). Nothing is read meanwhile.
      for (const e of edits) applyEdit(b, carried.edited, e);
      const composed = composeEdits(carried.edit, edit);
      if (patchPaysOff(carried.old, composed)) {
        tree.pending = { ...carried, edit: composed };
        b.dispose(edited);
        return tree;
      }
    }
    if (carried) b.dispose(carried.edited);
    const previous = this.flatCache;
    if (tree.handle && edit && previous && canPatchFrom(previous) && patchPaysOff(previous, edit)) {
      // changedRanges is asked when the new tree is read (never, for a tree an edit replaces first).
      tree.pending = { old: previous, edit, edited };
      return tree;
    }
    b.dispose(edited);
    return tree;
  }

  /**
   * The tree of `text`, this tree's text with the one edit `edit`, made
   * without tree-sitter when the edit stays inside one string fragment or
   * integer literal and provably keeps it one token of the same kind
   * (lexical-edit.ts): the same nodes, offsets moved. Undefined when that
   * does not hold (the caller reparses): this tree must be editable, read
   * (arrays, nothing pending), not timed out, and without errors.
   */
  lexicalEdit(text: string, edit: TreeEdit): Tree | undefined {
    const old = this.flatCache;
    if (!this.handle || !old || this.pending || this.timedOut) return undefined;
    const delta = edit.newEndIndex - edit.oldEndIndex;
    if (text.length !== this.text.length + delta) return undefined;
    const leaf = lexicalLeaf(this.text, { flat: old, type: (n) => this.type(n) }, edit, text.slice(edit.startIndex, edit.newEndIndex));
    if (leaf === undefined) return undefined;
    const prior = this.lexical && this.lexical.run < MAX_LEXICAL_RUN ? this.lexical : undefined;
    const tree = new Tree(text, this.editedHandle([edit]), {
      from: new WeakRef(this),
      leaf,
      edit: { start: edit.startIndex, oldEnd: edit.oldEndIndex, newEnd: edit.newEndIndex },
      ...(prior ? { prior } : {}),
      run: (prior?.run ?? 0) + 1,
    });
    tree.flatCache = shiftFlat(old, leaf, delta);
    tree.readBy = 'lexical';
    return tree;
  }

  readonly root: SyntaxNode = 0;

  get nodeCount(): number {
    return this.flat.count;
  }

  type(n: SyntaxNode): string {
    const s = this.flat.symbol[n] as number;
    return s === this.errorSymbol ? 'ERROR' : (this.names[s] ?? '');
  }

  start(n: SyntaxNode): number {
    return this.flat.start[n] as number;
  }

  end(n: SyntaxNode): number {
    return this.flat.end[n] as number;
  }

  nodeText(n: SyntaxNode): string {
    const f = this.flat;
    return this.text.slice(f.start[n], f.end[n]);
  }

  isMissing(n: SyntaxNode): boolean {
    return ((this.flat.flags[n] as number) & MISSING) !== 0;
  }

  hasError(n: SyntaxNode): boolean {
    return ((this.flat.flags[n] as number) & HAS_ERROR) !== 0;
  }

  /** The first child in field `id` (see fieldId), or -1. */
  field(n: SyntaxNode, id: number): SyntaxNode {
    if (id === 0) return -1; // no such field: 0 would match the children without one
    const f = this.flat;
    for (let c = f.stop[n] as number > n + 1 ? n + 1 : -1; c >= 0; c = f.next[c] as number) {
      if (f.field[c] === id) return c;
    }
    return -1;
  }

  /** Every child in field `id`. */
  fieldAll(n: SyntaxNode, id: number): SyntaxNode[] {
    const f = this.flat;
    const out: SyntaxNode[] = [];
    if (id === 0) return out;
    for (let c = f.stop[n] as number > n + 1 ? n + 1 : -1; c >= 0; c = f.next[c] as number) {
      if (f.field[c] === id) out.push(c);
    }
    return out;
  }

  /** The named children. */
  named(n: SyntaxNode): SyntaxNode[] {
    const f = this.flat;
    const out: SyntaxNode[] = [];
    for (let c = f.stop[n] as number > n + 1 ? n + 1 : -1; c >= 0; c = f.next[c] as number) {
      if (((f.flags[c] as number) & NAMED) !== 0) out.push(c);
    }
    return out;
  }

  /** tree-sitter's S-expression of the named nodes, with field names (for tests and debugging). */
  toString(n: SyntaxNode = 0): string {
    const f = this.flat;
    const fields = loadBinding().names.fields;
    let out = '';
    const stack: { node: number; close: boolean }[] = [{ node: n, close: false }];
    while (stack.length > 0) {
      const top = stack.pop() as { node: number; close: boolean };
      if (top.close) {
        out += ')';
        continue;
      }
      const m = top.node;
      if (m !== n) out += ' ';
      const fid = f.field[m] as number;
      if (fid && m !== n) out += `${fields[fid]}: `;
      out += `(${this.isMissing(m) ? 'MISSING ' : ''}${this.type(m)}`;
      stack.push({ node: m, close: true });
      const kids = this.named(m);
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i] as number, close: false });
    }
    return out;
  }
}

/**
 * Nix ends a line (and a `#` comment) at a lone \r too; the grammar only at
 * \n, so a file with old Mac line ends would read as one comment. Same
 * length, so every offset (and LineIndex position) stays the same.
 */
function normalizeLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
}

/**
 * Parses Nix text; incrementally when given an edited copy of the previous
 * tree (Tree.editedHandle), which this disposes.
 */
export function parseNix(text: string, edited?: NativeTree): Tree {
  const b = loadBinding();
  const tree = parseTree(b, text, edited);
  if (edited) b.dispose(edited);
  return tree;
}

/**
 * An incremental parse not read yet: the arrays it will be patched from, the
 * edit between their text and its (several edits composed into one), and a
 * copy of their native tree with that edit applied (for changedRanges; owned).
 */
interface Pending {
  old: Flat;
  edit: OffsetEdit;
  edited: NativeTree;
}

function applyEdit(b: Binding, h: NativeTree, e: TreeEdit): void {
  b.edit(
    h,
    e.startIndex,
    e.oldEndIndex,
    e.newEndIndex,
    e.startPosition.row,
    e.startPosition.column,
    e.oldEndPosition.row,
    e.oldEndPosition.column,
    e.newEndPosition.row,
    e.newEndPosition.column,
  );
}

/** A parse within PARSE_TIMEOUT_MS (an empty, timed-out tree past it), from an edited tree when given one. */
function parseTree(b: Binding, text: string, edited: NativeTree | undefined): Tree {
  const handle = b.parse(normalizeLineEnds(text), edited, PARSE_TIMEOUT_MS);
  const tree = new Tree(text, handle);
  tree.timedOut = handle === undefined;
  return tree;
}
