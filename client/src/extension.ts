// The VS Code client: starts the bundled language server for Nix and machines
// files, registers the commands and the machines view, and restarts the server
// when the workspace becomes trusted. Activation errors are shown, not swallowed.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { ServerController } from './language-client';
import { MACHINES_SCHEME, MachinesDocuments } from './machines';
import { ProbeUi, type TestHostKeyConfirmer } from './probe';

let server: ServerController | undefined;

/** What activate() returns to other extensions and the e2e tests. */
export interface NixBuildersApi {
  /** The language server's status (trust, lookups, indexed files); rejects when it is not running. */
  serverStatus(): Promise<unknown>;
  /**
   * TEST ONLY (the e2e suite): answer the server's `nixBuilders/confirmHostKey`
   * request with `fn` instead of the modal dialog; `undefined` restores the
   * dialog. Never call this from another extension: it would let it accept
   * host keys on the user's behalf.
   */
  setHostKeyConfirmer(fn: TestHostKeyConfirmer | undefined): void;
}

export async function activate(context: vscode.ExtensionContext): Promise<NixBuildersApi> {
  const probes = new ProbeUi();
  const api: NixBuildersApi = {
    serverStatus: () => (server ? server.status() : Promise.reject(new Error('not activated'))),
    setHostKeyConfirmer: (fn) => probes.setTestConfirmer(fn),
  };
  const output = vscode.window.createOutputChannel('Nix Builders', { log: true });
  context.subscriptions.push(output, probes);
  try {
    server = new ServerController(context, output, probes.confirmHostKey);
    probes.attach(server);
    const cliPath = context.asAbsolutePath('server/out/cli.js');
    const machines = new MachinesDocuments(cliPath);
    context.subscriptions.push(
      server,
      machines,
      vscode.workspace.registerTextDocumentContentProvider(MACHINES_SCHEME, machines),
      ...registerCommands({ server, machines, cliPath }),
      ...probes.register(),
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
