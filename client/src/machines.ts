// "Show machines" and "copy --builders": both run the bundled CLI
// (`server/out/cli.js machines FILE`) on the saved file, so what they show is
// exactly what `nix-builders machines` prints. The machines text opens in a
// read-only virtual document (scheme nix-builders-machines) that follows saves.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const MACHINES_SCHEME = 'nix-builders-machines';

export interface MachinesOutput {
  /** One machines line per nix.buildMachines entry. */
  lines: string[];
  /** The CLI's notes (values it could not read statically). */
  notes: string[];
}

/** Runs `cli.js machines FILE` with the editor's Node (Electron as Node in desktop VS Code). */
export function runMachinesCli(cliPath: string, file: string): Promise<MachinesOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliPath, 'machines', file],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim().split('\n')[0] || err.message;
          reject(new Error(detail.replace(/^nix-builders: /, '')));
          return;
        }
        resolve({
          lines: stdout.split('\n').filter((l) => l.trim() !== ''),
          notes: stderr.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^nix-builders: (note: )?/, '')),
        });
      },
    );
  });
}

/** The virtual document's URI for a source file: `…/distributed-builds.nix/machines`, the source in the query. */
export function machinesUri(source: vscode.Uri): vscode.Uri {
  return vscode.Uri.from({ scheme: MACHINES_SCHEME, path: `${source.path}/machines`, query: source.toString() });
}

export function sourceOfMachinesUri(uri: vscode.Uri): vscode.Uri {
  return vscode.Uri.parse(uri.query, true);
}

/** The text shown for a source: a comment header, the CLI's notes as comments, then the machines lines. */
export function machinesText(source: vscode.Uri, out: MachinesOutput): string {
  const name = vscode.workspace.asRelativePath(source, false);
  const head = [`# /etc/nix/machines as NixOS writes it for ${name} (nix-builders machines)`];
  for (const n of out.notes) head.push(`# note: ${n}`);
  if (out.lines.length === 0) head.push('# no nix.buildMachines entries found');
  return [...head, ...out.lines, ''].join('\n');
}

export class MachinesDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly cache = new Map<string, string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly cliPath: string) {
    this.subscriptions.push(
      this.changed,
      // Any saved Nix file may be imported by the one shown: refresh them all.
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (d.uri.scheme !== 'file') return;
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.scheme !== MACHINES_SCHEME) continue;
          this.cache.delete(doc.uri.toString());
          this.changed.fire(doc.uri);
        }
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d.uri.scheme === MACHINES_SCHEME) this.cache.delete(d.uri.toString());
      }),
    );
  }

  /** Runs the CLI for a source file (throws its error message) and remembers the text for the document. */
  async render(source: vscode.Uri): Promise<vscode.Uri> {
    const uri = machinesUri(source);
    this.cache.set(uri.toString(), machinesText(source, await runMachinesCli(this.cliPath, source.fsPath)));
    return uri;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const cached = this.cache.get(uri.toString());
    if (cached !== undefined) return cached;
    const source = sourceOfMachinesUri(uri);
    try {
      const text = machinesText(source, await runMachinesCli(this.cliPath, source.fsPath));
      this.cache.set(uri.toString(), text);
      return text;
    } catch (err) {
      return `# nix-builders machines ${path.basename(source.fsPath)} failed: ${err instanceof Error ? err.message : String(err)}\n`;
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

/** The machines lines of a machines-file text: no comments, no blank lines. */
export function machinesLinesOf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
}

/** `--builders '…'` for the given machines lines, quoted for a POSIX shell. */
export function buildersArgument(lines: readonly string[]): string {
  return `--builders '${lines.join(' ; ').replace(/'/g, `'\\''`)}'`;
}
