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

/**
 * Parses ssh_config text. `locate` maps [start, end) of the text to a document
 * span (the text may come from inside a Nix string). Never throws.
 */
export function parseSshConfig(text: string, locate: (start: number, end: number) => Span): SshBlock[] {
  let parsed: RawLine[];
  try {
    parsed = SSHConfig.parse(text) as unknown as RawLine[];
  } catch {
    return [];
  }
  const blocks: SshBlock[] = [];
  let offset = 0;
  let global: SshBlock | undefined;

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

  const option = (line: RawLine, pos: { keywordAt: number; valueAt: number; valueText: string }): SshOption => ({
    keyword: (line.param ?? '').toLowerCase(),
    value: pos.valueText,
    keywordSpan: locate(pos.keywordAt, pos.keywordAt + (line.param ?? '').length),
    valueSpan: locate(pos.valueAt, pos.valueAt + pos.valueText.length),
  });

  for (const line of parsed) {
    const pos = walk(line);
    if (!pos) continue;
    const keyword = (line.param ?? '').toLowerCase();
    if (keyword === 'host' || keyword === 'match') {
      const patterns: SshPattern[] = [];
      if (Array.isArray(line.value)) {
        let at = pos.valueAt;
        for (const x of line.value) {
          const start = at + (x.quoted ? 1 : 0);
          patterns.push({ text: x.val, negated: x.val.startsWith('!'), span: locate(start, start + x.val.length) });
          at += x.val.length + (x.quoted ? 2 : 0) + x.separator.length;
        }
      } else if (pos.valueText) {
        patterns.push({ text: pos.valueText, negated: pos.valueText.startsWith('!'), span: locate(pos.valueAt, pos.valueAt + pos.valueText.length) });
      }
      const block: SshBlock = {
        kind: keyword,
        patterns,
        headerSpan: locate(pos.keywordAt, pos.valueAt + pos.valueText.length),
        options: [],
        optionIndent: '  ',
      };
      let end = pos.valueAt + pos.valueText.length;
      let indent: string | undefined;
      for (const inner of line.config ?? []) {
        const p = walk(inner);
        if (!p) continue;
        block.options.push(option(inner, p));
        end = p.valueAt + p.valueText.length;
        indent ??= text.slice(text.lastIndexOf('\n', p.keywordAt - 1) + 1, p.keywordAt);
      }
      const lineStart = text.lastIndexOf('\n', pos.keywordAt - 1) + 1;
      block.optionIndent = indent ?? `${text.slice(lineStart, pos.keywordAt)}  `;
      const at = locate(end, end);
      if (at.start === at.end) block.insertAt = at;
      blocks.push(block);
    } else {
      global ??= { kind: 'global', patterns: [], headerSpan: locate(pos.keywordAt, pos.keywordAt), options: [], optionIndent: '' };
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
