// Core data → LSP data: diagnostics (code, docs link, related places) and text
// edits. Spans name their file by core path; `resolve` maps it to the open
// document's URI and line index (null: the place is not in an open document).
import {
  type Diagnostic as LspDiagnostic,
  DiagnosticSeverity,
  type DiagnosticRelatedInformation,
  type Range,
  type TextEdit as LspTextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import { type Diagnostic, docsUrl, type Fix } from '../core/diagnostic';
import type { LineIndex, Span } from '../core/span';

export const SOURCE = 'nix-builders';

export type FileResolver = (file: string) => { uri: string; lines: LineIndex } | undefined;

const SEVERITY: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toRange(lines: LineIndex, span: Span): Range {
  return lines.range(span.start, span.end);
}

export function toLspDiagnostic(d: Diagnostic, lines: LineIndex, resolve: FileResolver): LspDiagnostic {
  const out: LspDiagnostic = {
    range: toRange(lines, d.span),
    severity: SEVERITY[d.severity] ?? DiagnosticSeverity.Warning,
    code: d.code,
    codeDescription: { href: docsUrl(d.code) },
    source: SOURCE,
    message: d.message,
  };
  const related: DiagnosticRelatedInformation[] = [];
  for (const r of d.related ?? []) {
    const target = resolve(r.span.file);
    if (target) related.push({ location: { uri: target.uri, range: toRange(target.lines, r.span) }, message: r.message });
  }
  if (related.length > 0) out.relatedInformation = related;
  return out;
}

/** A fix as a WorkspaceEdit keyed by URI; undefined when an edit lands outside the open documents. */
export function toWorkspaceEdit(fix: Fix, resolve: FileResolver): WorkspaceEdit | undefined {
  const changes: Record<string, LspTextEdit[]> = {};
  for (const e of fix.edits) {
    const target = resolve(e.span.file);
    if (!target) return undefined;
    (changes[target.uri] ??= []).push({ range: toRange(target.lines, e.span), newText: e.newText });
  }
  return { changes };
}
