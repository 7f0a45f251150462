// The VS Code client: starts the bundled language server for Nix and machines
// files, registers the commands and the machines view, and restarts the server
// when the workspace becomes trusted. Activation errors are shown, not swallowed.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { ServerController } from './language-client';
import { MACHINES_SCHEME, MachinesDocuments } from './machines';

let server: ServerController | undefined;

/** What activate() returns to other extensions and the e2e tests. */
export interface NixBuildersApi {
  /** The language server's status (trust, lookups, indexed files); rejects when it is not running. */
  serverStatus(): Promise<unknown>;
}

export async function activate(context: vscode.ExtensionContext): Promise<NixBuildersApi> {
  const api: NixBuildersApi = {
    serverStatus: () => (server ? server.status() : Promise.reject(new Error('not activated'))),
  };
  const output = vscode.window.createOutputChannel('Nix Builders', { log: true });
  context.subscriptions.push(output);
  try {
    server = new ServerController(context, output);
    const cliPath = context.asAbsolutePath('server/out/cli.js');
    const machines = new MachinesDocuments(cliPath);
    context.subscriptions.push(
      server,
      machines,
      vscode.workspace.registerTextDocumentContentProvider(MACHINES_SCHEME, machines),
      ...registerCommands({ server, machines, cliPath }),
      // Restricted Mode keeps the server from reading files outside the documents;
      // once trusted, start it again with `trusted: true`.
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        output.info('Workspace trusted: restarting the language server');
        void server?.start().catch((err: unknown) => reportStartFailure(output, err));
      }),
    );
    await server.start();
  } catch (err) {
    reportStartFailure(output, err);
  }
  return api;
}

function reportStartFailure(output: vscode.LogOutputChannel, err: unknown): void {
  const text = err instanceof Error ? err.message : String(err);
  output.error(`Failed to start the Nix Builders language server: ${err instanceof Error ? (err.stack ?? text) : text}`);
  void vscode.window
    .showErrorMessage(`Nix Builders: the language server did not start: ${text}`, 'Show Log')
    .then((choice) => {
      if (choice === 'Show Log') output.show();
    });
}

export async function deactivate(): Promise<void> {
  const s = server;
  server = undefined;
  if (s) await s.stop();
}
