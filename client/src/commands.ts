// The extension's commands, one small factory each (ids as in package.json
// contributes.commands).
import * as vscode from 'vscode';
import { MACHINES_LANGUAGE, type ServerController } from './language-client';
import {
  buildersArgument,
  MACHINES_SCHEME,
  type MachinesDocuments,
  machinesLinesOf,
  runMachinesCli,
  sourceOfMachinesUri,
} from './machines';

export interface CommandContext {
  server: ServerController;
  machines: MachinesDocuments;
  cliPath: string;
}

type Factory = (ctx: CommandContext) => (...args: unknown[]) => Promise<unknown>;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The Nix file a command acts on: the argument (explorer menu), else the active editor (or the source of a machines view). */
function sourceFile(arg: unknown): vscode.Uri | undefined {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri) {
    void vscode.window.showInformationMessage('Nix Builders: open a Nix file first.');
    return undefined;
  }
  if (uri.scheme === MACHINES_SCHEME) return sourceOfMachinesUri(uri);
  if (uri.scheme !== 'file') {
    void vscode.window.showInformationMessage('Nix Builders: save the file first; the machines text is read from disk.');
    return undefined;
  }
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) {
    void vscode.window.showWarningMessage('Nix Builders: the file has unsaved changes; showing what the saved file produces.');
  }
  return uri;
}

const restartServer: Factory = (ctx) => async () => {
  try {
    await ctx.server.start();
    void vscode.window.setStatusBarMessage('Nix Builders: language server restarted', 3000);
  } catch (err) {
    ctx.server.output.error(`Restart failed: ${message(err)}`);
    void vscode.window.showErrorMessage(`Nix Builders: the language server did not restart: ${message(err)}`);
  }
};

const showMachines: Factory = (ctx) => async (arg) => {
  const source = sourceFile(arg);
  if (!source) return undefined;
  try {
    const uri = await ctx.machines.render(source);
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.languageId !== MACHINES_LANGUAGE) await vscode.languages.setTextDocumentLanguage(doc, MACHINES_LANGUAGE);
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return uri;
  } catch (err) {
    void vscode.window.showErrorMessage(`Nix Builders: could not produce the machines text: ${message(err)}`);
    return undefined;
  }
};

/** Machines lines for the active editor: its own lines for a machines file, else the CLI's output for the Nix file. */
async function machinesLinesFor(ctx: CommandContext, arg: unknown): Promise<string[] | undefined> {
  const doc = arg instanceof vscode.Uri ? undefined : vscode.window.activeTextEditor?.document;
  if (doc?.languageId === MACHINES_LANGUAGE && doc.uri.scheme !== MACHINES_SCHEME) return machinesLinesOf(doc.getText());
  const source = sourceFile(arg);
  if (!source) return undefined;
  return (await runMachinesCli(ctx.cliPath, source.fsPath)).lines;
}

const copyBuildersArgument: Factory = (ctx) => async (arg) => {
  let lines: string[] | undefined;
  try {
    lines = await machinesLinesFor(ctx, arg);
  } catch (err) {
    void vscode.window.showErrorMessage(`Nix Builders: could not read the builders: ${message(err)}`);
    return undefined;
  }
  if (!lines) return undefined;
  if (lines.length === 0) {
    void vscode.window.showInformationMessage('Nix Builders: this file defines no builders.');
    return undefined;
  }
  const items = lines.map((line): vscode.QuickPickItem & { line: string } => {
    const [uri = '', systems = ''] = line.split(/\s+/);
    const unknown = line.includes('<unknown>');
    return {
      label: uri,
      description: unknown ? `$(warning) ${systems} — has values that could not be read` : systems,
      detail: line,
      picked: !unknown,
      line,
    };
  });
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: 'Builders for --builders',
    placeHolder: 'Pick the builders to pass to nix build --builders',
  });
  if (!picked || picked.length === 0) return undefined;
  const text = buildersArgument(picked.map((p) => p.line));
  await vscode.env.clipboard.writeText(text);
  void vscode.window.showInformationMessage(
    `Nix Builders: copied --builders for ${picked.length} builder${picked.length === 1 ? '' : 's'} to the clipboard.`,
  );
  return text;
};

export const COMMANDS: Record<string, Factory> = {
  'nixBuilders.restartServer': restartServer,
  'nixBuilders.showMachines': showMachines,
  'nixBuilders.copyBuildersArgument': copyBuildersArgument,
};

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => vscode.commands.registerCommand(id, factory(ctx)));
}
