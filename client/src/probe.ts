// The client side of probing builders over SSH (server/src/lsp/protocol.ts):
// the host-key confirmation dialog the server asks for before "Fetch host key"
// edits anything, the commands for the builder under the cursor, and "Probe
// all builders" with progress, a status bar item and a report document.
import * as vscode from 'vscode';
import {
  type BuilderRef,
  Commands,
  type ConfirmHostKeyParams,
  type FetchHostKeyResult,
  type FillResult,
  type ProbeAllArgs,
  type ProbeAllResult,
} from '../../server/src/lsp/protocol';
import { MACHINES_LANGUAGE, NIX_LANGUAGE, type ServerController, type WorkDoneValue } from './language-client';
import { confirmHostKeyText, progressCount, reportMarkdown, TRUST_BUTTON } from './probe-report';

export const REPORT_SCHEME = 'nix-builders-report';
export const REPORT_URI = vscode.Uri.from({ scheme: REPORT_SCHEME, path: '/Builders probe report.md' });

/** Test-only replacement for the confirmation dialog (NixBuildersApi.setHostKeyConfirmer). */
export type TestHostKeyConfirmer = (params: ConfirmHostKeyParams) => boolean | Promise<boolean>;

const CANCEL_COMMAND = 'nixBuilders.cancelProbeAllBuilders';
const SHOW_REPORT_COMMAND = 'nixBuilders.showProbeReport';
/** How long the status bar item keeps the last run's summary (click: the report). */
const SUMMARY_MS = 30_000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isCancellation(err: unknown): boolean {
  if (err instanceof vscode.CancellationError) return true;
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === -32800 /* RequestCancelled */ || code === -32802 /* ServerCancelled */;
}

function isConfirmParams(x: unknown): x is ConfirmHostKeyParams {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  return (
    ['host', 'address', 'lookupName', 'keyType', 'fingerprint', 'publicKey', 'editTitle'].every((k) => typeof p[k] === 'string') &&
    typeof p.port === 'number' &&
    (p.target === 'knownHosts' || p.target === 'publicHostKey')
  );
}

function probeAllArgs(arg: unknown): ProbeAllArgs | undefined {
  if (arg instanceof vscode.Uri) return { uris: [arg.toString()] };
  const uris = (arg as ProbeAllArgs | undefined)?.uris;
  if (Array.isArray(uris)) return { uris: uris.filter((u): u is string => typeof u === 'string') };
  return undefined;
}

export class ProbeUi implements vscode.Disposable, vscode.TextDocumentContentProvider {
  private server: ServerController | undefined;
  private testConfirmer: TestHostKeyConfirmer | undefined;
  private report = '';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly status = vscode.window.createStatusBarItem('nixBuilders.probe', vscode.StatusBarAlignment.Left, 10);
  private running: vscode.CancellationTokenSource | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private runs = 0;

  constructor() {
    this.status.name = 'Nix Builders: probes';
  }

  /** The server the commands go to (set once it is created). */
  attach(server: ServerController): void {
    this.server = server;
  }

  /** TEST ONLY: answer `nixBuilders/confirmHostKey` with `fn` instead of the modal dialog (undefined: the dialog again). */
  setTestConfirmer(fn: TestHostKeyConfirmer | undefined): void {
    this.testConfirmer = fn;
  }

  /** `nixBuilders/confirmHostKey`: a modal dialog with the host, address and fingerprint; true only on "Trust this key". */
  readonly confirmHostKey = async (params: ConfirmHostKeyParams, token: vscode.CancellationToken): Promise<boolean> => {
    if (!isConfirmParams(params)) {
      this.server?.output.warn(`nixBuilders/confirmHostKey with malformed params: ${JSON.stringify(params)}`);
      return false;
    }
    if (this.testConfirmer) return (await this.testConfirmer(params)) === true && !token.isCancellationRequested;
    const { message: text, detail } = confirmHostKeyText(params);
    const choice = await vscode.window.showWarningMessage(text, { modal: true, detail }, TRUST_BUTTON);
    return choice === TRUST_BUTTON && !token.isCancellationRequested;
  };

  provideTextDocumentContent(): string {
    return this.report;
  }

  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this),
      vscode.commands.registerCommand('nixBuilders.probeAll', (arg?: unknown) => this.probeAll(arg)),
      vscode.commands.registerCommand('nixBuilders.fetchHostKeyAtCursor', () => this.atCursor('fetch')),
      vscode.commands.registerCommand('nixBuilders.fillSystemsAndFeaturesAtCursor', () => this.atCursor('fill')),
      vscode.commands.registerCommand(CANCEL_COMMAND, () => this.running?.cancel()),
      vscode.commands.registerCommand(SHOW_REPORT_COMMAND, () => this.showReport()),
    ];
  }

  /** Fetch host key / Fill systems and features for the builder at the cursor of the active editor. */
  private async atCursor(which: 'fetch' | 'fill'): Promise<FetchHostKeyResult | FillResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    const doc = editor?.document;
    const languages = which === 'fill' ? [NIX_LANGUAGE] : [NIX_LANGUAGE, MACHINES_LANGUAGE];
    if (!editor || !doc || !languages.includes(doc.languageId)) {
      void vscode.window.showInformationMessage(
        `Nix Builders: put the cursor on a builder in a ${which === 'fill' ? 'Nix' : 'Nix or machines'} file first.`,
      );
      return undefined;
    }
    const ref: BuilderRef = { uri: doc.uri.toString(), offset: doc.offsetAt(editor.selection.active) };
    const command = which === 'fetch' ? Commands.fetchHostKey : Commands.fillSystemsAndFeatures;
    try {
      // The server reports progress (cancellable) and shows the outcome itself (window/showMessage).
      return await this.requireServer().executeCommand<FetchHostKeyResult | FillResult>(command, [ref]);
    } catch (err) {
      if (isCancellation(err)) return undefined;
      void vscode.window.showErrorMessage(`Nix Builders: ${which === 'fetch' ? 'Fetch host key' : 'Fill systems and features'} failed: ${message(err)}`);
      return undefined;
    }
  }

  private requireServer(): ServerController {
    if (!this.server) throw new Error('the language server is not running');
    return this.server;
  }

  /**
   * Probe all builders of the workspace; shows the report and returns it
   * (undefined when cancelled or failed). `arg` (from code, or a menu passing a
   * file's Uri) limits the probe to the builders of some documents:
   * a vscode.Uri or { uris: string[] } (ProbeAllArgs).
   */
  private async probeAll(arg?: unknown): Promise<ProbeAllResult | undefined> {
    const args = probeAllArgs(arg);
    if (this.running) {
      void vscode.window.showInformationMessage('Nix Builders: the builders are being probed already (click the status bar item to cancel).');
      return undefined;
    }
    const cts = new vscode.CancellationTokenSource();
    this.running = cts;
    const workDoneToken = `nixBuilders/probeAll/${process.pid}/${++this.runs}`;
    this.showRunning(undefined);
    const started = new Date();
    try {
      const reports = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Nix Builders: probing builders', cancellable: true },
        async (progress, token) => {
          const sub = token.onCancellationRequested(() => cts.cancel());
          let done = 0;
          const follow = this.requireServer().onWorkDoneProgress(workDoneToken, (v: WorkDoneValue) => {
            if (v.kind === 'end') return;
            const pct = typeof v.percentage === 'number' ? Math.max(done, Math.min(100, v.percentage)) : done;
            progress.report({ ...(v.message ? { message: v.message } : {}), increment: pct - done });
            done = pct;
            this.showRunning(progressCount(v.message));
          });
          try {
            return await this.requireServer().executeCommand<ProbeAllResult>(Commands.probeAllBuilders, args ? [args] : [], cts.token, workDoneToken);
          } finally {
            follow.dispose();
            sub.dispose();
          }
        },
      );
      const cancelled = cts.token.isCancellationRequested;
      if (!Array.isArray(reports)) throw new Error('the server answered without a report');
      if (reports.length === 0) {
        this.status.hide();
        // Untrusted: the server said why. Otherwise there was nothing to probe.
        if (vscode.workspace.isTrusted && !cancelled) void vscode.window.showInformationMessage('Nix Builders: no builders found to probe.');
        return reports;
      }
      this.report = reportMarkdown(reports, {
        name: (uri) => vscode.workspace.asRelativePath(vscode.Uri.parse(uri), false),
        when: started,
        cancelled,
      });
      this.changed.fire(REPORT_URI);
      this.showSummary(reports);
      await this.showReport();
      return reports;
    } catch (err) {
      this.status.hide();
      if (isCancellation(err) || cts.token.isCancellationRequested) {
        void vscode.window.setStatusBarMessage('Nix Builders: probing cancelled', 5000);
      } else {
        void vscode.window.showErrorMessage(`Nix Builders: Probe all builders failed: ${message(err)}`);
      }
      return undefined;
    } finally {
      this.running = undefined;
      cts.dispose();
    }
  }

  private showRunning(count: string | undefined): void {
    clearTimeout(this.summaryTimer);
    this.status.text = `$(sync~spin) Probing builders…${count ? ` ${count}` : ''}`;
    this.status.tooltip = 'Nix Builders: probing the builders over SSH. Click to cancel.';
    this.status.command = { command: CANCEL_COMMAND, title: 'Cancel probing builders' };
    this.status.show();
  }

  private showSummary(reports: ProbeAllResult): void {
    const reachable = reports.filter((r) => r.reachable).length;
    this.status.text = `$(${reachable === reports.length ? 'check' : 'warning'}) Builders: ${reachable}/${reports.length} reachable`;
    this.status.tooltip = 'Nix Builders: the last probe of the builders. Click to show the report.';
    this.status.command = { command: SHOW_REPORT_COMMAND, title: 'Show the probe report' };
    this.status.show();
    clearTimeout(this.summaryTimer);
    this.summaryTimer = setTimeout(() => this.status.hide(), SUMMARY_MS);
  }

  private async showReport(): Promise<vscode.Uri | undefined> {
    if (this.report === '') {
      void vscode.window.showInformationMessage('Nix Builders: no probe report yet (run "Probe All Builders").');
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument(REPORT_URI);
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return REPORT_URI;
  }

  dispose(): void {
    clearTimeout(this.summaryTimer);
    this.running?.cancel();
    this.status.dispose();
    this.changed.dispose();
  }
}
