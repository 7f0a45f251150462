// The plain data the core hands to its front ends: diagnostics with their
// quick fixes as text edits. Nothing here knows about LSP or vscode.
import type { Span } from './span';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface TextEdit {
  span: Span;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
  preferred?: boolean;
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  fixes: Fix[];
  /** Spans of other places that explain the diagnostic (LSP relatedInformation). */
  related?: { span: Span; message: string }[];
}

/** Base of the documentation links (LSP codeDescription). */
export const DOCS_BASE = 'https://github.com/nix-builders/nix-builders/blob/main/docs/diagnostics.md';

export function docsUrl(code: string): string {
  return `${DOCS_BASE}#${code}`;
}
