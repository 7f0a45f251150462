// The VS Code client: starts the bundled language server (server/out/server.js)
// with Node over stdio and hands it the Nix and machines-file documents.
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Nix Builders', { log: true });
  context.subscriptions.push(output);
  try {
    const module = context.asAbsolutePath('server/out/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.stdio },
      debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'nix' },
        { scheme: 'untitled', language: 'nix' },
        { scheme: 'file', language: 'nix-machines' },
        { scheme: 'untitled', language: 'nix-machines' },
      ],
      outputChannel: output,
    };
    // The id makes `nixBuilders.trace.server` control protocol tracing.
    client = new LanguageClient('nixBuilders', 'Nix Builders', serverOptions, clientOptions);
    await client.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    output.error(`Failed to start the Nix Builders language server: ${message}`);
    void vscode.window.showErrorMessage(`Nix Builders: the language server did not start: ${message}`);
  }
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.stop();
}
