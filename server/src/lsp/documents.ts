// The open documents: one NixDocument per URI, updated incrementally from
// didChange range edits. The URI string itself is the core's file path, so a
// diagnostic's span.file maps straight back to its document.
import * as path from 'node:path';
import { isMachinesFile } from '../core/analyze';
import { type ContentChange, NixDocument } from '../core/document';
import type { LineIndex } from '../core/span';

export const MACHINES_LANGUAGE = 'nix-machines';

export interface OpenDocument {
  uri: string;
  languageId: string;
  /** The core's name for the document: the URI, suffixed when its name and language disagree. */
  path: string;
  doc: NixDocument;
}

/**
 * The core decides "machines file or Nix" by name. A document whose language
 * says otherwise (an untitled machines buffer, a `.machines` file switched to
 * Nix) gets a fragment that makes the name agree; the URI stays recoverable.
 */
export function corePathOf(uri: string, languageId: string): string {
  const byName = isMachinesFile(uri);
  const wantMachines = languageId === MACHINES_LANGUAGE || (languageId !== 'nix' && byName);
  if (wantMachines === byName) return uri;
  return `${uri}#${wantMachines ? '.machines' : '.nix'}`;
}

export class OpenDocuments {
  private readonly byUri = new Map<string, OpenDocument>();
  private readonly byPath = new Map<string, OpenDocument>();
  private gen = 0;

  /** Changes on every open, change and close: the workspace's identity for caching. */
  get generation(): number {
    return this.gen;
  }

  open(uri: string, languageId: string, version: number, text: string): OpenDocument {
    this.close(uri);
    const p = corePathOf(uri, languageId);
    const isNix = !isMachinesFile(p);
    const entry: OpenDocument = { uri, languageId, path: p, doc: new NixDocument(p, text, version, isNix) };
    this.byUri.set(uri, entry);
    this.byPath.set(p, entry);
    this.gen++;
    return entry;
  }

  /** Applies didChange content changes; undefined when the document is not open. */
  change(uri: string, version: number, changes: ContentChange[]): OpenDocument | undefined {
    const entry = this.byUri.get(uri);
    if (!entry) return undefined;
    this.gen++;
    entry.doc.applyChanges(changes, version);
    return entry;
  }

  close(uri: string): boolean {
    const entry = this.byUri.get(uri);
    if (!entry) return false;
    this.byUri.delete(uri);
    this.byPath.delete(entry.path);
    // Its native tree is memory V8 does not see: free it now, not at some later GC.
    entry.doc.dispose();
    this.gen++;
    return true;
  }

  get(uri: string): OpenDocument | undefined {
    return this.byUri.get(uri);
  }

  /** The open document a core span (span.file) belongs to. */
  byCorePath(file: string): OpenDocument | undefined {
    return this.byPath.get(file);
  }

  linesOf(file: string): LineIndex | undefined {
    return this.byPath.get(file)?.doc.lines;
  }

  all(): OpenDocument[] {
    return [...this.byUri.values()];
  }
}

/** A short name for log messages. */
export function displayName(uri: string): string {
  return path.basename(uri) || uri;
}
