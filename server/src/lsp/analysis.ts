// The analysis of the workspace: the open documents plus the indexed .nix files
// of the workspace folders that are not open (knowledge from a file that is not
// open counts: a knownHosts entry in ssh.nix covers a builder in builders.nix).
// Computed at most once per state of its inputs (documents, index, environment)
// and shared by diagnostics, hover, completion and code actions, so none of
// them sees an older version. Diagnostics are published for open documents only.
//
// After each analysis the names whose address is still pending are handed to
// the environment, which looks them up in the background; their answers make a
// new state, and the next analysis (scheduled by the server) sees them.
import { type Analysis, analyze, isMachinesFile, type SourceFile, unparsedMessage } from '../core/analyze';
import type { Diagnostic } from '../core/diagnostic';
import { LineIndex } from '../core/span';
import type { FileResolver } from './convert';
import type { OpenDocuments } from './documents';
import type { LspEnvironment } from './environment';
import { mayContribute } from './relevance';
import { toFsPath, type WorkspaceIndex } from './workspace';

export interface WorkspaceResult {
  key: string;
  /** The generations of the index and the environment it was computed with. */
  context: string;
  /** Undefined when the analysis failed (the error is logged). */
  analysis: Analysis | undefined;
  /** Core diagnostics by core path. */
  byFile: Map<string, Diagnostic[]>;
  /** The version of each open document (by URI) the result was computed from. */
  versions: Map<string, number>;
  /** Time the analysis took, in ms. */
  ms: number;
  /** Files analysed (open and indexed; imports come on top). */
  files: number;
}

export interface AnalysisInputs {
  docs: OpenDocuments;
  index: WorkspaceIndex;
  env: LspEnvironment;
  logError: (message: string) => void;
  /**
   * Diagnostics the front end adds to the core's (host-key-changed from the
   * keys probes saw); `generation` changes whenever they may change.
   */
  extra?: { readonly generation: number; diagnostics(analysis: Analysis): Diagnostic[] };
}

export class WorkspaceAnalysis {
  private cache: WorkspaceResult | undefined;
  private readonly extraLines = new Map<string, { text: string; lines: LineIndex }>();

  constructor(private readonly o: AnalysisInputs) {}

  /**
   * Maps a core span's file to a document: an open one, an indexed one (its
   * file:// URI), or a file read through imports.
   */
  readonly resolve: FileResolver = (file) => {
    const open = this.o.docs.byCorePath(file);
    if (open) return { uri: open.uri, lines: open.doc.lines };
    const indexed = this.o.index.byCorePath(file);
    const lines = indexed && this.o.index.linesOf(indexed);
    if (indexed && lines) return { uri: indexed.uri, lines };
    const text = this.cache?.analysis?.model.texts.get(file);
    if (text === undefined || !file.startsWith('file:')) return undefined;
    let hit = this.extraLines.get(file);
    if (!hit || hit.text !== text) {
      if (this.extraLines.size > 200) this.extraLines.clear();
      hit = { text, lines: new LineIndex(text) };
      this.extraLines.set(file, hit);
    }
    return { uri: file, lines: hit.lines };
  };

  private key(): string {
    return `${this.o.docs.generation}/${this.context()}/${this.o.extra?.generation ?? 0}`;
  }

  /** What besides the documents the core's analysis reads: the index and the environment (lookup answers, ssh files). */
  private context(): string {
    return `${this.o.index.generation}/${this.o.env.generation}`;
  }

  /** The analysis of the workspace as it is now. */
  current(): WorkspaceResult {
    const key = this.key();
    if (this.cache?.key === key) return this.cache;
    const began = performance.now();
    const versions = new Map(this.o.docs.all().map((e) => [e.uri, e.doc.version]));
    const { sources, fsPaths } = this.sources();
    const context = this.context();
    // Only documents changed since the last analysis: a keystroke inside one
    // builder's strings or numbers re-reads that builder only (core/incremental.ts).
    const previous = this.cache?.context === context ? this.cache.analysis : undefined;
    let analysis: Analysis | undefined;
    const byFile = new Map<string, Diagnostic[]>();
    try {
      analysis = analyze(sources, this.o.env.environment((p) => this.readFile(p, fsPaths)), undefined, previous);
      for (const f of analysis.unparsed) this.o.logError(`nix-builders: ${unparsedMessage(f)}`);
      const extra = this.o.extra?.diagnostics(analysis) ?? [];
      for (const d of [...analysis.diagnostics, ...extra]) {
        const list = byFile.get(d.span.file);
        if (list) list.push(d);
        else byFile.set(d.span.file, [d]);
      }
    } catch (err) {
      this.o.logError(`nix-builders: analysis failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    this.cache = { key, context, analysis, byFile, versions, ms: performance.now() - began, files: sources.length };
    if (analysis) this.lookUpPending(analysis);
    return this.cache;
  }

  clear(): void {
    this.cache = undefined;
  }

  /**
   * Open documents, then indexed files that are not open; Nix files only when
   * they may contribute (relevance.ts). Sorted by name, so that which files are
   * open does not change the order of definitions (ssh_config: first value wins).
   */
  private sources(): { sources: SourceFile[]; fsPaths: Set<string> } {
    const out: SourceFile[] = [];
    const fsPaths = new Set<string>();
    const open = new Set<string>();
    for (const e of this.o.docs.all()) {
      const p = toFsPath(e.uri);
      if (p) open.add(p);
      const include = !e.doc.isNix || mayContribute(e.doc.text);
      if (!include) continue;
      if (p) fsPaths.add(p);
      out.push(e.doc.isNix ? { path: e.path, text: e.doc.text, tree: e.doc.tree } : { path: e.path, text: e.doc.text });
    }
    for (const f of this.o.index.relevant()) {
      if (open.has(f.fsPath) || isMachinesFile(f.uri) || f.text === undefined) continue;
      fsPaths.add(f.fsPath);
      out.push({ path: f.uri, text: f.text, tree: f.tree });
    }
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { sources: out, fsPaths };
  }

  /**
   * env.readFile: imports and publicKeyFile. A file already among the sources
   * (under another spelling of its URI) is not read twice; otherwise an open
   * document, the index, then the disk: inside the workspace folders, or anywhere when lookups are
   * on in a trusted workspace (as the CLI without --offline).
   */
  private readFile(p: string, sources: Set<string>): string | undefined {
    const fsPath = toFsPath(p);
    if (!fsPath || sources.has(fsPath)) return undefined;
    const open = this.o.docs.all().find((e) => e.doc.isNix && toFsPath(e.uri) === fsPath);
    if (open) return open.doc.text;
    return this.o.index.readFile(fsPath, this.o.env.external);
  }

  private lookUpPending(analysis: Analysis): void {
    const names: string[] = [];
    for (const b of analysis.model.builders) {
      const h = analysis.hosts.forBuilder(b);
      if (h?.address.kind === 'pending') names.push(h.chain.hostName.replace(/\.$/, ''));
    }
    this.o.env.lookUp(names);
  }
}
