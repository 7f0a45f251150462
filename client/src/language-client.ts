// Owns the language client: starts the bundled server (server/out/server.js)
// with the editor's own Node over stdio, and starts it afresh on restart so the
// initialization options (workspace trust) are read again.
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ProgressToken,
  type ServerOptions,
  TransportKind,
  WorkDoneProgress,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { CONFIRM_HOST_KEY_REQUEST, type ConfirmHostKeyParams, type InitializationOptions } from '../../server/src/lsp/protocol';

export const NIX_LANGUAGE = 'nix';
/** Custom request of server/src/server.ts. */
export const STATUS_REQUEST = 'nixBuilders/status';
export const MACHINES_LANGUAGE = 'nix-machines';

/** Answers the server's `nixBuilders/confirmHostKey` request: true only when the user trusts the key. */
export type HostKeyConfirmer = (params: ConfirmHostKeyParams, token: vscode.CancellationToken) => Promise<boolean>;

export type WorkDoneValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly confirmHostKey: HostKeyConfirmer,
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

  /**
   * workspace/executeCommand of one of the server's commands (server/src/lsp/protocol.ts).
   * Rejects when the server is not running or does not offer the command.
   */
  async executeCommand<T>(command: string, args: unknown[], token?: vscode.CancellationToken, workDoneToken?: ProgressToken): Promise<T> {
    await this.pending;
    const client = this.client;
    if (!client?.isRunning()) throw new Error('the language server is not running');
    const offered = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (!offered.includes(command)) throw new Error(`this language server does not offer ${command}`);
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args, ...(workDoneToken !== undefined ? { workDoneToken } : {}) }, token)) as T;
  }

  /** Follows the work done progress the server reports on `token` (one the client put in a request). */
  onWorkDoneProgress(token: ProgressToken, handler: (value: WorkDoneValue) => void): vscode.Disposable {
    const client = this.client;
    if (!client) return new vscode.Disposable(() => undefined);
    return client.onProgress(WorkDoneProgress.type, token, handler);
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
      // trusted: false in a Restricted Mode window (the server then reads no file outside
      // the open documents and probes nothing); confirmHostKey: this client answers
      // nixBuilders/confirmHostKey, so "Fetch host key" may add a key the user accepted.
      initializationOptions: (): InitializationOptions => ({ trusted: vscode.workspace.isTrusted, confirmHostKey: true }),
    };
    // The id makes `nixBuilders.trace.server` control protocol tracing.
    const client = new LanguageClient('nixBuilders', 'Nix Builders', serverOptions, clientOptions);
    client.onRequest(CONFIRM_HOST_KEY_REQUEST, async (params: ConfirmHostKeyParams, token: vscode.CancellationToken) => {
      try {
        return await this.confirmHostKey(params, token);
      } catch (err) {
        this.output.error(`${CONFIRM_HOST_KEY_REQUEST}: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
    });
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
