// The analysis of the workspace formed by all open documents, computed at most
// once per state of the documents (their generation) and shared by diagnostics,
// hover, completion and code actions, so none of them sees an older version.
import { type Analysis, analyze } from '../core/analyze';
import type { Diagnostic } from '../core/diagnostic';
import type { FileResolver } from './convert';
import type { OpenDocuments } from './documents';

export interface WorkspaceResult {
  generation: number;
  /** Undefined when the analysis failed (the error is logged). */
  analysis: Analysis | undefined;
  /** Core diagnostics by core path. */
  byFile: Map<string, Diagnostic[]>;
  /** The version of each open document (by URI) the result was computed from. */
  versions: Map<string, number>;
}

export class WorkspaceAnalysis {
  private cache: WorkspaceResult | undefined;

  constructor(
    private readonly docs: OpenDocuments,
    private readonly logError: (message: string) => void,
  ) {}

  /** Maps a core span's file to its open document. */
  readonly resolve: FileResolver = (file) => {
    const e = this.docs.byCorePath(file);
    return e ? { uri: e.uri, lines: e.doc.lines } : undefined;
  };

  /** The analysis of the documents as they are now. */
  current(): WorkspaceResult {
    const generation = this.docs.generation;
    if (this.cache?.generation === generation) return this.cache;
    const versions = new Map(this.docs.all().map((e) => [e.uri, e.doc.version]));
    let analysis: Analysis | undefined;
    const byFile = new Map<string, Diagnostic[]>();
    try {
      analysis = analyze(this.docs.sources());
      for (const d of analysis.diagnostics) {
        const list = byFile.get(d.span.file);
        if (list) list.push(d);
        else byFile.set(d.span.file, [d]);
      }
    } catch (err) {
      this.logError(`nix-builders: analysis failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    this.cache = { generation, analysis, byFile, versions };
    return this.cache;
  }

  clear(): void {
    this.cache = undefined;
  }
}
