// Completion: option names inside a builder (or knownHosts entry) where an
// attribute name goes, known systems inside `systems`/`system`, known features
// inside `supportedFeatures`/`mandatoryFeatures`. The model says where things
// are; a little text scanning says whether the cursor is in a string.
import {
  type CompletionItem,
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type Range,
} from 'vscode-languageserver';
import { BUILDER_OPTIONS, KNOWN_HOST_OPTIONS, type OptionDoc } from '../core/builder-options';
import { KNOWN_FEATURES, WELL_KNOWN_FEATURES } from '../core/known-features';
import { KNOWN_SYSTEMS } from '../core/known-systems';
import type { Model } from '../core/model';
import type { LineIndex } from '../core/span';
import { enclosingOwner, ownerAttrs, spanContains, spanEncloses } from './locate';
import { nixString } from './nix-text';

export interface CompletionContext {
  model: Model;
  file: string;
  text: string;
  lines: LineIndex;
  offset: number;
  snippets: boolean;
}

const VALUE_CANDIDATES: Record<string, () => { values: readonly string[]; preferred: Set<string>; what: string }> = {
  system: () => ({ values: KNOWN_SYSTEMS, preferred: COMMON_SYSTEMS, what: 'system' }),
  systems: () => ({ values: KNOWN_SYSTEMS, preferred: COMMON_SYSTEMS, what: 'system' }),
  supportedFeatures: () => ({ values: KNOWN_FEATURES, preferred: new Set(WELL_KNOWN_FEATURES), what: 'system feature' }),
  mandatoryFeatures: () => ({ values: KNOWN_FEATURES, preferred: new Set(WELL_KNOWN_FEATURES), what: 'system feature' }),
};

const COMMON_SYSTEMS = new Set(['x86_64-linux', 'aarch64-linux', 'x86_64-darwin', 'aarch64-darwin', 'i686-linux']);

const WORD = /[A-Za-z0-9_.+-]/;
const NAME = /[A-Za-z0-9_'-]/;

export function completeAt(c: CompletionContext): CompletionItem[] {
  return valueCompletions(c) ?? nameCompletions(c) ?? [];
}

// ---------------------------------------------------------------- values

function valueCompletions(c: CompletionContext): CompletionItem[] | undefined {
  for (const b of c.model.builders) {
    if (b.source !== 'nix') continue;
    for (const a of b.attrs.values()) {
      const spec = VALUE_CANDIDATES[a.name];
      const vs = a.value.span;
      if (!spec || !vs) continue;
      // Inside the list brackets, or inside the quotes of a single string.
      if (a.value.kind === 'list' ? !spanEncloses(vs, c.file, c.offset) : !(a.value.kind === 'string' && spanEncloses(vs, c.file, c.offset))) continue;
      const present = new Set<string>();
      if (a.value.kind === 'list') {
        for (const t of a.value.items) {
          const x = t.force();
          if (x.kind === 'string' && !spanContains(x.span, c.file, c.offset, true)) present.add(x.value);
        }
      }
      const { values, preferred, what } = spec();
      const range = stringRange(c, vs.start);
      return values
        .filter((v) => !present.has(v))
        .map((v, i) => ({
          label: v,
          kind: CompletionItemKind.Value,
          detail: `known ${what}`,
          sortText: `${preferred.has(v) ? '0' : '1'}${String(i).padStart(4, '0')}`,
          filterText: v,
          textEdit: { range: range.range, newText: range.quoted ? escapeInString(v) : nixString(v) },
        }));
    }
  }
  return undefined;
}

/** Whether offset is inside a "…" string that starts after `from`, and the range the completion replaces. */
function stringRange(c: CompletionContext, from: number): { quoted: boolean; range: Range } {
  const t = c.text;
  let open = -1;
  for (let i = from; i < c.offset; i++) {
    const ch = t[i];
    if (open >= 0) {
      if (ch === '\\') i++;
      else if (ch === '"') open = -1;
    } else if (ch === '"') {
      open = i;
    } else if (ch === '#') {
      while (i < c.offset && t[i] !== '\n') i++;
    }
  }
  let start = c.offset;
  while (start > 0 && WORD.test(t[start - 1] ?? '')) start--;
  if (open >= 0) start = Math.max(start, open + 1);
  let end = c.offset;
  while (end < t.length && WORD.test(t[end] ?? '')) end++;
  return { quoted: open >= 0, range: c.lines.range(start, end) };
}

function escapeInString(s: string): string {
  return nixString(s).slice(1, -1);
}

// ----------------------------------------------------------------- names

function nameCompletions(c: CompletionContext): CompletionItem[] | undefined {
  const owner = enclosingOwner(c.model, c.file, c.offset);
  if (!owner) return undefined;
  const attrs = ownerAttrs(owner);
  // Not inside one of the set's values (`hostName = "a|"`).
  for (const a of attrs.values()) {
    if (spanEncloses(a.value.span, c.file, c.offset) && !spanContains(a.keySpan, c.file, c.offset, true)) return undefined;
  }
  const t = c.text;
  let start = c.offset;
  while (start > 0 && NAME.test(t[start - 1] ?? '')) start--;
  let end = c.offset;
  while (end < t.length && NAME.test(t[end] ?? '')) end++;
  const prev = previousSignificant(t, start);
  if (prev !== '{' && prev !== ';') return undefined;
  const hasEquals = /^[ \t]*=/.test(t.slice(end, end + 200));
  const options = owner.kind === 'builder' ? BUILDER_OPTIONS : KNOWN_HOST_OPTIONS;
  const set = new Set<string>();
  for (const a of attrs.values()) if (!spanContains(a.keySpan, c.file, c.offset, true)) set.add(a.name);
  const range = c.lines.range(start, end);
  const where = owner.kind === 'builder' ? 'nix.buildMachines' : 'programs.ssh.knownHosts';
  return Object.entries(options)
    .filter(([name]) => !set.has(name))
    .map(([name, doc], i): CompletionItem => {
      const snippet = !hasEquals && c.snippets;
      return {
        label: name,
        kind: CompletionItemKind.Property,
        detail: `${doc.typeText} (default ${doc.default})`,
        documentation: { kind: MarkupKind.Markdown, value: `${doc.doc}\n\n*${where}*` },
        sortText: String(i).padStart(3, '0'),
        filterText: name,
        insertTextFormat: snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
        textEdit: { range, newText: hasEquals ? name : snippet ? `${name} = ${snippetValue(name, doc)};` : `${name} = ` },
      };
    });
}

function snippetValue(name: string, doc: OptionDoc): string {
  switch (doc.type) {
    case 'string':
    case 'nullOrString':
      return name === 'system' ? '"${1|x86_64-linux,aarch64-linux,x86_64-darwin,aarch64-darwin|}"' : '"$1"';
    case 'protocol':
      return '"${1|ssh-ng,ssh|}"';
    case 'listOfStrings':
      return name === 'systems' ? '[ "${1:x86_64-linux}" ]' : '[ "$1" ]';
    case 'int':
    case 'number':
      return '${1:1}';
    case 'bool':
      return '${1|true,false|}';
  }
}

/**
 * The last character before `pos` that is not whitespace or inside a comment
 * (`# …` to the end of the line, `/* … *\/`); '' at the start of the text.
 */
export function previousSignificant(t: string, pos: number): string {
  let i = pos;
  while (i > 0) {
    const lineStart = t.lastIndexOf('\n', i - 1) + 1;
    const line = t.slice(lineStart, i);
    const cut = commentStart(line);
    const seg = (cut >= 0 ? line.slice(0, cut) : line).trimEnd();
    if (seg.endsWith('*/')) {
      const open = t.lastIndexOf('/*', lineStart + seg.length - 2);
      if (open < 0) return '/';
      i = open;
      continue;
    }
    if (seg.length > 0) return seg[seg.length - 1] ?? '';
    i = lineStart - 1; // the line is blank or a comment: go on before its newline
  }
  return '';
}

/** Index of a `#` comment in one line (a `#` inside a "…" string does not count); -1 if none. */
function commentStart(line: string): number {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '#') return i;
  }
  return -1;
}

