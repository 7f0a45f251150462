// Debounced publishing of diagnostics: every change (re)starts one timer; when
// it fires, the workspace is analysed and each open document gets its
// diagnostics tagged with the version they were computed from. Files that are
// not open get none (their knowledge counts, their problems are not shown).
import type { Diagnostic as LspDiagnostic, PublishDiagnosticsParams } from 'vscode-languageserver';
import type { WorkspaceAnalysis } from './analysis';
import { toLspDiagnostic } from './convert';
import type { OpenDocuments } from './documents';

export interface PublisherOptions {
  docs: OpenDocuments;
  analysis: WorkspaceAnalysis;
  debounceMs: () => number;
  /**
   * False while the inputs are still being gathered (settings not read yet,
   * first workspace scan running): nothing is published, and the server calls
   * schedule() once ready, so no warning flashes up that other files would
   * have answered.
   */
  ready?: () => boolean;
  send: (params: PublishDiagnosticsParams) => void;
  logError: (message: string) => void;
}

export class DiagnosticsPublisher {
  private timer: NodeJS.Timeout | undefined;
  /** What was last sent per URI, to skip repeating identical results. */
  private readonly sent = new Map<string, { version: number; json: string }>();

  constructor(private readonly o: PublisherOptions) {}

  /** Call after any open, change or close. */
  schedule(): void {
    this.cancel();
    const ms = this.o.debounceMs();
    if (ms <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
  }

  /** Analyses now and publishes for every open document. */
  flush(): void {
    this.cancel();
    if (this.o.ready && !this.o.ready()) return;
    try {
      const result = this.o.analysis.current();
      if (!result.analysis) return;
      for (const e of this.o.docs.all()) {
        // The result is for the documents as they are now; a version mismatch
        // would mean it is stale, and stale results are never published.
        const version = result.versions.get(e.uri);
        if (version === undefined || version !== e.doc.version) continue;
        const diagnostics: LspDiagnostic[] = (result.byFile.get(e.path) ?? []).map((d) =>
          toLspDiagnostic(d, e.doc.lines, this.o.analysis.resolve),
        );
        const json = JSON.stringify(diagnostics);
        const last = this.sent.get(e.uri);
        if (last && last.version === version && last.json === json) continue;
        this.sent.set(e.uri, { version, json });
        this.o.send({ uri: e.uri, version, diagnostics });
      }
    } catch (err) {
      this.o.logError(`nix-builders: publishing diagnostics failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  /** A closed document's diagnostics are cleared. */
  closed(uri: string): void {
    this.sent.delete(uri);
    this.o.send({ uri, diagnostics: [] });
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
