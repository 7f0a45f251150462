// An open document: its text and tree, updated incrementally (tree.edit +
// reparse) on each change. Positions are LSP positions (UTF-16 columns), which
// are also what node-tree-sitter uses for string input.
import { parseNix, type Tree } from './parser';
import { LineIndex, type Range } from './span';

export interface ContentChange {
  /** Absent for a full-text replacement. */
  range?: Range;
  text: string;
}

export class NixDocument {
  private index: LineIndex;
  /**
   * The tree the incremental parses go through. It is never handed out: once
   * JavaScript holds nodes of a tree, node-tree-sitter's Tree.edit updates
   * every one of them (a 1 MB file after one analysis: 30-200 ms per edit).
   */
  private base: Tree | undefined;
  /** The tree handed out: a re-parse of `base` without edits, which shares all its subtrees (~0.1 ms). */
  private treeCache: Tree | undefined;

  constructor(
    readonly path: string,
    private content: string,
    public version = 0,
    /** Machines files are not Nix: they get no tree. */
    readonly isNix = true,
  ) {
    this.index = new LineIndex(content);
  }

  get text(): string {
    return this.content;
  }

  get lines(): LineIndex {
    return this.index;
  }

  /** The tree for the current text, parsed lazily and incrementally. */
  get tree(): Tree {
    if (!this.treeCache) {
      this.base ??= parseNix(this.content);
      this.treeCache = parseNix(this.content, this.base);
    }
    return this.treeCache;
  }

  applyChanges(changes: ContentChange[], version: number): void {
    for (const c of changes) {
      this.treeCache = undefined;
      if (!c.range) {
        this.content = c.text;
        this.base = undefined;
        this.index = new LineIndex(c.text);
        continue;
      }
      const start = this.index.offset(c.range.start);
      const oldEnd = this.index.offset(c.range.end);
      const startPos = this.index.position(start);
      const oldEndPos = this.index.position(oldEnd);
      this.content = this.content.slice(0, start) + c.text + this.content.slice(oldEnd);
      this.index = new LineIndex(this.content);
      const newEnd = start + c.text.length;
      const newEndPos = this.index.position(newEnd);
      this.base?.edit({
        startIndex: start,
        oldEndIndex: oldEnd,
        newEndIndex: newEnd,
        startPosition: { row: startPos.line, column: startPos.character },
        oldEndPosition: { row: oldEndPos.line, column: oldEndPos.character },
        newEndPosition: { row: newEndPos.line, column: newEndPos.character },
      });
    }
    if (this.base && this.isNix) this.base = parseNix(this.content, this.base);
    this.version = version;
  }
}
