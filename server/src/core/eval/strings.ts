// Decodes Nix string literals ("…" and ''…'') into their value, keeping a map
// from value offsets to document offsets so that diagnostics inside a string
// (a machines line in `builders`, a Host block in `extraConfig`) land on the
// right characters. Indented strings are dedented as Nix's parser does.
import type { SyntaxNode, Tree } from '../parser';
import type { Span } from '../span';
import { pieceDoc, type StringPiece } from './value';

/**
 * Literal text, with where it is in the document when it maps 1:1: `rel` units
 * after the start of `base` (the string literal's span, see StringPiece).
 */
export interface TextPart {
  kind: 'text';
  text: string;
  base?: Span;
  rel: number;
}

/** One decoded part: literal text or an interpolation. */
export type StringPart = TextPart | { kind: 'interp'; node: SyntaxNode };

function decodeEscape(raw: string, indented: boolean): string {
  if (indented) {
    if (raw === "'''") return "''";
    const c = raw.slice(3); // after ''\
    return c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c;
  }
  const c = raw.slice(1);
  return c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c;
}

/** The raw parts of a string node (whose span is `base`), before indentation stripping. */
export function stringParts(tree: Tree, node: SyntaxNode, base: Span): StringPart[] {
  const indented = tree.type(node) === 'indented_string_expression';
  const parts: StringPart[] = [];
  const origin = tree.start(node);
  for (const c of tree.named(node)) {
    switch (tree.type(c)) {
      case 'string_fragment':
        parts.push({ kind: 'text', text: tree.nodeText(c), base, rel: tree.start(c) - origin });
        break;
      case 'escape_sequence':
        parts.push({ kind: 'text', text: decodeEscape(tree.nodeText(c), indented), rel: 0 });
        break;
      case 'interpolation':
        parts.push({ kind: 'interp', node: c });
        break;
      default:
        // dollar_escape: the `''` / `\` before a `$`; the `$` itself follows as a fragment.
        break;
    }
  }
  return indented ? stripIndentation(parts) : parts;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

/**
 * Nix's stripIndentation: drop the smallest indentation of the non-blank lines,
 * a first line that is only spaces, and a last line that is only spaces.
 * Escaped characters count as content and are never stripped.
 */
function stripIndentation(parts: StringPart[]): StringPart[] {
  let minIndent = Infinity;
  let atLineStart = true;
  let cur = 0;
  for (const p of parts) {
    if (p.kind === 'interp' || p.base === undefined) {
      if (atLineStart) {
        minIndent = Math.min(minIndent, cur);
        atLineStart = false;
      }
      continue;
    }
    // Char codes, not a string iterator: an extraConfig of thousands of lines passes here.
    const text = p.text;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (atLineStart) {
        if (ch === SPACE) cur++;
        else if (ch === NEWLINE) cur = 0;
        else {
          minIndent = Math.min(minIndent, cur);
          atLineStart = false;
        }
      } else if (ch === NEWLINE) {
        atLineStart = true;
        cur = 0;
      }
    }
  }
  // No line with content (minIndent still Infinity): Nix strips all leading spaces.

  const out: StringPart[] = [];
  atLineStart = true;
  cur = 0;
  for (const p of parts) {
    if (p.kind === 'interp' || p.base === undefined) {
      atLineStart = false;
      out.push(p);
      continue;
    }
    let start = 0;
    const flush = (end: number) => {
      if (end > start) out.push({ kind: 'text', text: p.text.slice(start, end), base: p.base, rel: p.rel + start });
    };
    for (let i = 0; i < p.text.length; i++) {
      const ch = p.text.charCodeAt(i);
      if (atLineStart && ch === SPACE && cur < minIndent) {
        flush(i);
        start = i + 1;
        cur++;
        continue;
      }
      if (ch === NEWLINE) {
        atLineStart = true;
        cur = 0;
      } else {
        atLineStart = false;
      }
    }
    flush(p.text.length);
  }
  return dropBlankEnds(out);
}

/** Removes a first line of only spaces (with its newline) and a last line of only spaces. */
function dropBlankEnds(parts: StringPart[]): StringPart[] {
  const first = parts[0];
  if (first && first.kind === 'text' && first.base !== undefined) {
    const nl = first.text.indexOf('\n');
    if (nl >= 0 && /^ *$/.test(first.text.slice(0, nl))) {
      parts[0] = { kind: 'text', text: first.text.slice(nl + 1), base: first.base, rel: first.rel + nl + 1 };
    }
  }
  const last = parts[parts.length - 1];
  if (last && last.kind === 'text' && last.base !== undefined) {
    const nl = last.text.lastIndexOf('\n');
    const tail = last.text.slice(nl + 1);
    if (/^ *$/.test(tail) && (nl >= 0 || parts.length === 1)) {
      parts[parts.length - 1] = { kind: 'text', text: last.text.slice(0, nl + 1), base: last.base, rel: last.rel };
    }
  }
  return parts.filter((p) => p.kind === 'interp' || p.text.length > 0);
}

/** Joins decoded text parts into a value and its piece map. */
export function joinText(parts: { text: string; base?: Span; rel?: number }[]): { value: string; pieces: StringPiece[] } {
  let value = '';
  const pieces: StringPiece[] = [];
  for (const p of parts) {
    if (p.base !== undefined && p.text.length > 0) pieces.push({ at: value.length, length: p.text.length, base: p.base, rel: p.rel ?? 0 });
    value += p.text;
  }
  return { value, pieces };
}

/** Maps a [start, end) range of a string value to document offsets, as closely as the pieces allow. */
export function mapStringRange(
  pieces: StringPiece[] | undefined,
  fallback: { start: number; end: number },
  start: number,
  end: number,
): { start: number; end: number } {
  if (!pieces || pieces.length === 0) return fallback;
  // Pieces are ascending and disjoint: binary search for the last one starting
  // at or before the offset (a linear scan made extraConfig strings of
  // thousands of lines quadratic). At a boundary between two adjacent pieces,
  // preferEnd takes the earlier one, as the first match of a scan would.
  const at = (offset: number, preferEnd: boolean): number | undefined => {
    let lo = 0;
    let hi = pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((pieces[mid] as StringPiece).at <= offset) lo = mid;
      else hi = mid - 1;
    }
    for (let i = Math.max(0, lo - 1); i <= lo; i++) {
      const p = pieces[i] as StringPiece;
      if (offset >= p.at && (offset < p.at + p.length || (preferEnd && offset === p.at + p.length))) {
        return pieceDoc(p) + (offset - p.at);
      }
    }
    return undefined;
  };
  const s = at(start, false);
  const e = end > start ? at(end, true) : s;
  if (s === undefined || e === undefined || e < s) return fallback;
  return { start: s, end: e };
}
