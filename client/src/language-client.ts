// Owns the language client: starts the bundled server (server/out/server.js)
// with the editor's own Node over stdio, and starts it afresh on restart so the
// initialization options (workspace trust) are read again.
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

export const NIX_LANGUAGE = 'nix';
/** Custom request of server/src/server.ts. */
export const STATUS_REQUEST = 'nixBuilders/status';
export const MACHINES_LANGUAGE = 'nix-machines';

/** What the server is told on initialize (read by server/src/server.ts). */
export interface InitializationOptions {
  /** False in a Restricted Mode window: the server then reads no file outside the open documents. */
  trusted: boolean;
}

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
  ) {}

  get running(): boolean {
    return this.client?.isRunning() === true;
  }

  /** The server's `nixBuilders/status` answer (folders, index, lookups, trust): for logs and tests. */
  async status(): Promise<unknown> {
    await this.pending;
    if (!this.client?.isRunning()) throw new Error('the language server is not running');
    return this.client.sendRequest(STATUS_REQUEST);
  }

  /** Starts the server (or restarts it); calls are queued so two restarts never overlap. */
  start(): Promise<void> {
    this.pending = this.pending.catch(() => undefined).then(() => this.startNow());
    return this.pending;
  }

  private async startNow(): Promise<void> {
    await this.stopNow();
    const module = this.context.asAbsolutePath('server/out/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.stdio },
      debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: NIX_LANGUAGE },
        { scheme: 'untitled', language: NIX_LANGUAGE },
        { scheme: 'file', language: MACHINES_LANGUAGE },
        { scheme: 'untitled', language: MACHINES_LANGUAGE },
      ],
      outputChannel: this.output,
      initializationOptions: (): InitializationOptions => ({ trusted: vscode.workspace.isTrusted }),
    };
    // The id makes `nixBuilders.trace.server` control protocol tracing.
    const client = new LanguageClient('nixBuilders', 'Nix Builders', serverOptions, clientOptions);
    this.client = client;
    this.output.info(`Starting the language server (${vscode.workspace.isTrusted ? 'trusted' : 'restricted'} workspace)`);
    await client.start();
  }

  private async stopNow(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    try {
      if (c.needsStop()) await c.stop(5000);
    } catch (err) {
      this.output.warn(`Stopping the language server: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  stop(): Promise<void> {
    this.pending = this.pending.catch(() => undefined).then(() => this.stopNow());
    return this.pending;
  }

  dispose(): void {
    void this.stop();
  }
}
