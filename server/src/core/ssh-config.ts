// Host and Match blocks of ssh_config text (programs.ssh.extraConfig), parsed
// with the `ssh-config` package and mapped back to document ranges. Keywords
// are case-insensitive in ssh, so they are lowercased here.
import SSHConfig from 'ssh-config';
import type { Span } from './span';

export interface SshOption {
  /** Lowercased keyword (`hostname`, `port`, `hostkeyalias`, …). */
  keyword: string;
  value: string;
  /** The keyword as written. */
  keywordSpan: Span;
  valueSpan: Span;
}

export interface SshPattern {
  text: string;
  negated: boolean;
  span: Span;
}

export interface SshBlock {
  /** `global` holds options before the first Host/Match line (they apply to every host). */
  kind: 'host' | 'match' | 'global';
  /** Host patterns; for Match, the criteria words as written. */
  patterns: SshPattern[];
  /** The Host/Match line (empty for global). */
  headerSpan: Span;
  options: SshOption[];
  /** Where a new option line would go: the end of the block's last line (empty span), if it maps 1:1 to the document. */
  insertAt?: Span;
  /** Indentation of the block's option lines (for an inserted line). */
  optionIndent: string;
}

interface RawLine {
  type: number;
  param?: string;
  separator?: string;
  value?: string | { val: string; separator: string; quoted?: boolean }[];
  quoted?: boolean;
  before?: string;
  after?: string;
  content?: string;
  config?: RawLine[];
}

/** One option line, as offsets into the text (no document positions yet). */
interface RawOption {
  keyword: string;
  value: string;
  keywordAt: number;
  keywordEnd: number;
  valueAt: number;
}

/** A block of the text, as offsets into it. */
interface RawBlock {
  kind: 'host' | 'match' | 'global';
  patterns: { text: string; at: number }[];
  headerAt: number;
  headerEnd: number;
  options: RawOption[];
  /** Where a new option line would go (the end of the block's last line). */
  endAt: number;
  optionIndent: string;
}

/**
 * Parsed texts, by text: the parse does not depend on where the text sits, so
 * an analysis after an edit elsewhere in the file (a keystroke) maps the
 * blocks again but does not parse them again. Bounded; resetSshConfigCache()
 * empties it (the benchmark's cold analyses).
 */
const rawCache = new Map<string, RawBlock[]>();
const RAW_CACHE_SIZE = 64;

export function resetSshConfigCache(): void {
  rawCache.clear();
}

/**
 * Parses ssh_config text. `locate` maps [start, end) of the text to a document
 * span (the text may come from inside a Nix string). Never throws.
 */
export function parseSshConfig(text: string, locate: (start: number, end: number) => Span): SshBlock[] {
  let raw = rawCache.get(text);
  if (!raw) {
    raw = scanSshConfig(text);
    rawCache.set(text, raw);
    if (rawCache.size > RAW_CACHE_SIZE) rawCache.delete(rawCache.keys().next().value as string);
  }
  return raw.map((b) => {
    const block: SshBlock = {
      kind: b.kind,
      patterns: b.patterns.map((p) => ({ text: p.text, negated: p.text.startsWith('!'), span: locate(p.at, p.at + p.text.length) })),
      headerSpan: locate(b.headerAt, b.headerEnd),
      options: b.options.map((o) => ({
        keyword: o.keyword,
        value: o.value,
        keywordSpan: locate(o.keywordAt, o.keywordEnd),
        valueSpan: locate(o.valueAt, o.valueAt + o.value.length),
      })),
      optionIndent: b.optionIndent,
    };
    if (b.kind !== 'global') {
      const at = locate(b.endAt, b.endAt);
      if (at.start === at.end) block.insertAt = at;
    }
    return block;
  });
}

/** The blocks of ssh_config text, as offsets into it (the `ssh-config` package's parse, located). */
function scanSshConfig(text: string): RawBlock[] {
  let parsed: RawLine[];
  try {
    parsed = SSHConfig.parse(text) as unknown as RawLine[];
  } catch {
    return [];
  }
  const blocks: RawBlock[] = [];
  let offset = 0;
  let global: RawBlock | undefined;

  // Re-finds each line in the text: the package keeps the pieces of every line
  // (before, param, separator, value, after) but no offsets.
  const walk = (line: RawLine): { keywordAt: number; valueAt: number; valueText: string } | undefined => {
    const before = line.before ?? '';
    offset += before.length;
    if (line.type !== 1 || !line.param) {
      // A comment: skip its text.
      const c = line.content ?? '';
      const at = text.indexOf(c, offset);
      offset = (at >= 0 ? at : offset) + c.length + (line.after ?? '').length;
      return undefined;
    }
    const keywordAt = text.indexOf(line.param, offset);
    const k = keywordAt >= 0 ? keywordAt : offset;
    const v = k + line.param.length + (line.separator ?? '').length;
    const valueText = Array.isArray(line.value) ? line.value.map((x) => x.val).join(' ') : (line.value ?? '');
    const valueAt = v;
    // Each entry is one line: continue after its end rather than trusting the
    // separators the package keeps (the last value's one is not in the text).
    const eol = text.indexOf('\n', valueAt);
    offset = eol >= 0 ? eol + 1 : text.length;
    return { keywordAt: k, valueAt, valueText };
  };

  const option = (line: RawLine, pos: { keywordAt: number; valueAt: number; valueText: string }): RawOption => ({
    keyword: (line.param ?? '').toLowerCase(),
    value: pos.valueText,
    keywordAt: pos.keywordAt,
    keywordEnd: pos.keywordAt + (line.param ?? '').length,
    valueAt: pos.valueAt,
  });

  for (const line of parsed) {
    const pos = walk(line);
    if (!pos) continue;
    const keyword = (line.param ?? '').toLowerCase();
    if (keyword === 'host' || keyword === 'match') {
      const patterns: { text: string; at: number }[] = [];
      if (Array.isArray(line.value)) {
        let at = pos.valueAt;
        for (const x of line.value) {
          patterns.push({ text: x.val, at: at + (x.quoted ? 1 : 0) });
          at += x.val.length + (x.quoted ? 2 : 0) + x.separator.length;
        }
      } else if (pos.valueText) {
        patterns.push({ text: pos.valueText, at: pos.valueAt });
      }
      const block: RawBlock = {
        kind: keyword,
        patterns,
        headerAt: pos.keywordAt,
        headerEnd: pos.valueAt + pos.valueText.length,
        options: [],
        endAt: pos.valueAt + pos.valueText.length,
        optionIndent: '  ',
      };
      let indent: string | undefined;
      for (const inner of line.config ?? []) {
        const p = walk(inner);
        if (!p) continue;
        block.options.push(option(inner, p));
        block.endAt = p.valueAt + p.valueText.length;
        indent ??= text.slice(text.lastIndexOf('\n', p.keywordAt - 1) + 1, p.keywordAt);
      }
      const lineStart = text.lastIndexOf('\n', pos.keywordAt - 1) + 1;
      block.optionIndent = indent ?? `${text.slice(lineStart, pos.keywordAt)}  `;
      blocks.push(block);
    } else {
      global ??= { kind: 'global', patterns: [], headerAt: pos.keywordAt, headerEnd: pos.keywordAt, options: [], endAt: 0, optionIndent: '' };
      global.options.push(option(line, pos));
    }
  }
  return global ? [global, ...blocks] : blocks;
}

/** The first value of a keyword in a block (ssh: first value wins). */
export function blockOption(block: SshBlock, keyword: string): SshOption | undefined {
  const k = keyword.toLowerCase();
  return block.options.find((o) => o.keyword === k);
}
