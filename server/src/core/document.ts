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
    let reparse = this.current !== undefined && this.isNix;
    for (const c of changes) {
      if (!c.range) {
        this.content = c.text;
        this.index = new LineIndex(c.text);
        edits.length = 0;
        reparse = false;
        this.current?.release();
        this.current = undefined;
        continue;
      }
      const start = this.index.offset(c.range.start);
      const oldEnd = this.index.offset(c.range.end);
      const startPos = this.index.position(start);
      const oldEndPos = this.index.position(oldEnd);
      this.content = this.content.slice(0, start) + c.text + this.content.slice(oldEnd);
      this.index = this.index.edited(this.content, start, oldEnd, c.text);
      const newEnd = start + c.text.length;
      const newEndPos = this.index.position(newEnd);
      edits.push({
        startIndex: start,
        oldEndIndex: oldEnd,
        newEndIndex: newEnd,
        startPosition: { row: startPos.line, column: startPos.character },
        oldEndPosition: { row: oldEndPos.line, column: oldEndPos.character },
        newEndPosition: { row: newEndPos.line, column: newEndPos.character },
      });
    }
    if (reparse && this.current) {
      const previous = this.current;
      this.current = parseNix(this.content, previous.editedHandle(edits));
      // Only this document parses from its trees; one handed out keeps its arrays (or re-parses its text).
      previous.release();
    }
    this.version = version;
  }
}
