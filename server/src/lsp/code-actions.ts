// Code actions: the core's fixes of the diagnostics that touch the requested
// range, as quick fixes carrying a WorkspaceEdit.
import { type CodeAction, CodeActionKind, type Range } from 'vscode-languageserver';
import type { Diagnostic } from '../core/diagnostic';
import type { LineIndex } from '../core/span';
import { type FileResolver, toLspDiagnostic, toWorkspaceEdit } from './convert';

export function quickFixes(
  diagnostics: readonly Diagnostic[],
  lines: LineIndex,
  range: Range,
  resolve: FileResolver,
  only?: readonly string[],
): CodeAction[] {
  if (only && only.length > 0 && !only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === CodeActionKind.Empty)) {
    return [];
  }
  const start = lines.offset(range.start);
  const end = lines.offset(range.end);
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.fixes.length === 0 || d.span.start > end || d.span.end < start) continue;
    const lsp = toLspDiagnostic(d, lines, resolve);
    for (const fix of d.fixes) {
      const edit = toWorkspaceEdit(fix, resolve);
      if (!edit) continue;
      out.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [lsp],
        edit,
        isPreferred: fix.preferred === true,
      });
    }
  }
  return out;
}
