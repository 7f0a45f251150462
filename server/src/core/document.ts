// An open document: its text and tree, updated incrementally (edit a copy of
// the tree's handle + reparse) on each change. Positions are LSP positions
// (UTF-16 columns), which are also the tree's offsets (it parses UTF-16).
import { parseNix, type Tree, type TreeEdit } from './parser';
import { LineIndex, type Range } from './span';

export interface ContentChange {
  /** Absent for a full-text replacement. */
  range?: Range;
  text: string;
}

export class NixDocument {
  private index: LineIndex;
  /** The tree of the current text; parsed lazily, then incrementally on each change. */
  private current: Tree | undefined;

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

  /** The tree for the current text. Trees handed out never change: an edit makes a new one. */
  get tree(): Tree {
    this.current ??= parseNix(this.content);
    return this.current;
  }

  applyChanges(changes: ContentChange[], version: number): void {
    const edits: TreeEdit[] = [];
    // Only a Nix document whose tree can still be parsed from is updated in place;
    // otherwise the tree is dropped and parsed afresh when asked for.
    let reparse = this.isNix && this.current?.editable === true;
    for (const c of changes) {
      if (!c.range) {
        this.content = c.text;
        this.index = new LineIndex(c.text);
        edits.length = 0;
        reparse = false;
        continue;
      }
      let start = this.index.offset(c.range.start);
      let oldEnd = this.index.offset(c.range.end);
      // LSP ranges are ordered; a client that sends one reversed means the same stretch.
      if (start > oldEnd) [start, oldEnd] = [oldEnd, start];
      const before = this.content;
      this.content = before.slice(0, start) + c.text + before.slice(oldEnd);
      const oldIndex = this.index;
      this.index = oldIndex.edited(this.content, start, oldEnd, c.text);
      // A lone \r before the edit is parsed as \n (parseNix); whether it is lone
      // depends on the edit's first character, so the tree's edit starts there.
      const treeStart = start > 0 && before.charCodeAt(start - 1) === 13 ? start - 1 : start;
      const newEnd = start + c.text.length;
      const pos = (index: LineIndex, offset: number) => {
        const p = index.position(offset);
        return { row: p.line, column: p.character };
      };
      edits.push({
        startIndex: treeStart,
        oldEndIndex: oldEnd,
        newEndIndex: newEnd,
        startPosition: pos(oldIndex, treeStart),
        oldEndPosition: pos(oldIndex, oldEnd),
        newEndPosition: pos(this.index, newEnd),
      });
    }
    const previous = this.current;
    // A keystroke inside a string or a number usually keeps the tree's shape: then the new tree
    // is the previous one moved, without a parse (Tree.lexicalEdit says when; one change only).
    const lexical = reparse && previous && edits.length === 1 && changes.length === 1 ? previous.lexicalEdit(this.content, edits[0] as TreeEdit) : undefined;
    this.current = lexical ?? (reparse && previous ? previous.reparse(this.content, edits) : undefined);
    // Only this document parses from its trees; one handed out keeps its arrays (or re-parses its text).
    previous?.release();
    this.version = version;
  }

  /** Frees the native tree (a closed document). The text stays readable. */
  dispose(): void {
    this.current?.release();
    this.current = undefined;
  }
}
