// The nix-builders language server. Started on load over the transport named on
// the command line (`--stdio` from `nix-builders lsp --stdio` or the VS Code
// client). Handlers are thin: the work is in ./lsp/*, the analysis in ./core.
//
// What the analysis sees: the open documents, the .nix files of the workspace
// folders (lsp/workspace.ts, indexed in the background and kept up to date by
// the client's file events), and the environment from the settings
// (lsp/environment.ts: root's ssh_config and known_hosts files, host-name
// lookups that run in the background and never delay a request). Diagnostics
// are published for open documents only.
//
// Trust: the client says whether the workspace is trusted with
// `initializationOptions.trusted` (default true) and later with the
// `nixBuilders/didChangeTrust` notification ({ trusted }). Untrusted: no
// lookups, nothing is read outside the workspace folders, and no builder is
// probed.
//
// Probes (lsp/probe-commands.ts, names and types in lsp/protocol.ts) run only
// when the client executes one of the commands of executeCommandProvider;
// Fetch host key edits only after the client confirmed the key
// (`nixBuilders/confirmHostKey`, for clients that set
// `initializationOptions.confirmHostKey`).
import { LineIndex } from './core/span';
import {
  type CodeAction,
  CodeActionKind,
  type CompletionItem,
  createConnection,
  type CancellationToken,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  type Hover,
  type InitializeParams,
  type InitializeResult,
  ProposedFeatures,
  TextDocumentSyncKind,
  WatchKind,
  WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { WorkspaceAnalysis } from './lsp/analysis';
import { quickFixes } from './lsp/code-actions';
import { completeAt } from './lsp/completion';
import { OpenDocuments } from './lsp/documents';
import { LspEnvironment } from './lsp/environment';
import { hostSection, makePlaces } from './lsp/host-hover';
import { hoverAt } from './lsp/hover';
import { type Progress, ProbeCommands, probeCodeActions } from './lsp/probe-commands';
import { ALL_COMMANDS, CONFIRM_HOST_KEY_REQUEST, type ConfirmHostKeyParams } from './lsp/protocol';
import { DiagnosticsPublisher } from './lsp/publisher';
import { SeenHostKeys } from './lsp/seen-host-keys';
import { DEFAULT_SETTINGS, readSettings, SETTINGS_SECTION, type Settings } from './lsp/settings';
import { toFsPath, WorkspaceIndex } from './lsp/workspace';
import { resyncedStdin } from './transport/framing';

// Over stdio, stdin goes through FrameResync: vscode-jsonrpc's own reader never
// recovers from one malformed header. A client that stops reading ends the server
// (otherwise an uncaught "Connection is closed"). Nothing may print to stdout.
const connection = process.argv.includes('--stdio')
  ? createConnection(
      ProposedFeatures.all,
      resyncedStdin((m) => process.stderr.write(`nix-builders: malformed LSP input, ${m.bytes} bytes dropped: ${m.reason}\n`)),
      process.stdout,
    )
  : createConnection(ProposedFeatures.all);
process.stdout.on('error', () => process.exit(1));

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function logError(message: string): void {
  try {
    connection.console.error(message);
  } catch {
    // The connection is gone: nothing left to tell.
  }
}

/** Runs a handler; on an exception logs it and answers with the fallback instead of failing the request. */
function guard<P extends unknown[], R>(name: string, fallback: R, fn: (...args: P) => R): (...args: P) => R {
  return (...args: P) => {
    try {
      return fn(...args);
    } catch (err) {
      logError(`nix-builders: ${name} failed: ${describe(err)}`);
      return fallback;
    }
  };
}

function log(message: string): void {
  try {
    connection.console.log(message);
  } catch {
    // The connection is gone.
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const docs = new OpenDocuments();
let settings: Settings = DEFAULT_SETTINGS;
/** Settings (and files.exclude) have been read once: until then nothing is looked up or published. */
let settingsLoaded = false;
let trusted = true;
/** Something the analysis depends on changed: publish again (debounced). Runs only after start-up. */
function schedule(): void {
  publisher.schedule();
}
const index = new WorkspaceIndex({ log, logError, onChange: schedule, onSettled: schedule });
const env = new LspEnvironment({ onChange: schedule, logError });
const seenHostKeys = new SeenHostKeys();
const analysis = new WorkspaceAnalysis({ docs, index, env, logError, extra: seenHostKeys });
const publisher = new DiagnosticsPublisher({
  docs,
  analysis,
  debounceMs: () => settings.debounceMs,
  ready: () => settingsLoaded && index.settled,
  send: (params) => void connection.sendDiagnostics(params).catch((err: unknown) => logError(describe(err))),
  logError,
});

const client = { configuration: false, dynamicConfiguration: false, snippets: false, watchedFiles: false, workspaceFolders: false, confirmHostKey: false };
/** Settings a client without workspace/configuration gave in initializationOptions.settings. */
let initialSettings: unknown;

function foldersOf(params: InitializeParams): string[] {
  const uris = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
  const out = uris.map((u) => toFsPath(u)).filter((p): p is string => p !== undefined);
  if (out.length === 0 && typeof params.rootPath === 'string' && params.rootPath !== '') out.push(params.rootPath);
  return out;
}

connection.onInitialize((params): InitializeResult => {
  const caps = params?.capabilities ?? {};
  client.configuration = caps.workspace?.configuration === true;
  client.dynamicConfiguration = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
  client.snippets = caps.textDocument?.completion?.completionItem?.snippetSupport === true;
  client.watchedFiles = caps.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
  client.workspaceFolders = caps.workspace?.workspaceFolders === true;
  const init: unknown = params?.initializationOptions;
  if (isRecord(init)) {
    if (typeof init.trusted === 'boolean') trusted = init.trusted;
    client.confirmHostKey = init.confirmHostKey === true;
    initialSettings = init.settings;
  }
  try {
    index.setFolders(params ? foldersOf(params) : []);
  } catch (err) {
    logError(`nix-builders: bad workspace folders: ${describe(err)}`);
  }
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['"'], resolveProvider: false },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
      executeCommandProvider: { commands: [...ALL_COMMANDS] },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'nix-builders' },
  };
});

async function refreshSettings(pushed?: unknown): Promise<void> {
  let exclude: unknown;
  try {
    if (client.configuration) {
      const [section, files] = await connection.workspace.getConfiguration([{ section: SETTINGS_SECTION }, { section: 'files.exclude' }]);
      settings = readSettings(section);
      exclude = files;
    } else if (pushed !== undefined) {
      const all = isRecord(pushed) ? pushed : {};
      settings = readSettings(all[SETTINGS_SECTION]);
      exclude = isRecord(all.files) ? all.files.exclude : undefined;
    } else if (!settingsLoaded && initialSettings !== undefined) {
      settings = readSettings(initialSettings);
    }
  } catch (err) {
    logError(`nix-builders: reading settings failed, using defaults: ${describe(err)}`);
    settings = DEFAULT_SETTINGS;
  }
  settingsLoaded = true;
  env.configure(settings, trusted);
  if (exclude !== undefined || client.configuration) index.setExcludes(exclude);
}

/** The client's file events: .nix files, .gitignore files, and folders created or deleted (moves). */
function registerFileWatchers(): void {
  if (!client.watchedFiles) return;
  void connection.client
    .register(DidChangeWatchedFilesNotification.type, {
      watchers: [
        { globPattern: '**/*.nix' },
        { globPattern: '**/.gitignore' },
        { globPattern: '**/*', kind: WatchKind.Create | WatchKind.Delete },
      ],
    })
    .catch((err: unknown) => logError(describe(err)));
}

connection.onInitialized(() => {
  if (client.configuration && client.dynamicConfiguration) {
    void connection.client
      .register(DidChangeConfigurationNotification.type, { section: [SETTINGS_SECTION, 'files.exclude'] })
      .catch((err: unknown) => logError(describe(err)));
  }
  registerFileWatchers();
  if (client.workspaceFolders) {
    connection.workspace.onDidChangeWorkspaceFolders(
      guard('didChangeWorkspaceFolders', undefined, (e) => {
        const removed = new Set(e.removed.map((f) => toFsPath(f.uri)));
        const kept = index.folders.filter((f) => !removed.has(f));
        const added = e.added.map((f) => toFsPath(f.uri)).filter((p): p is string => p !== undefined);
        index.setFolders([...kept, ...added]);
      }),
    );
  }
  void refreshSettings().then(() => {
    index.start();
    publisher.schedule();
  });
});

connection.onDidChangeConfiguration(
  guard('didChangeConfiguration', undefined, (params) => {
    void refreshSettings(params?.settings ?? null).then(() => publisher.schedule());
  }),
);

connection.onNotification(
  'nixBuilders/didChangeTrust',
  guard('didChangeTrust', undefined, (params: unknown) => {
    if (!isRecord(params) || typeof params.trusted !== 'boolean') return;
    trusted = params.trusted;
    probes.setTrusted(trusted);
    if (settingsLoaded) env.configure(settings, trusted);
    publisher.schedule();
  }),
);

connection.onDidChangeWatchedFiles(
  guard('didChangeWatchedFiles', undefined, ({ changes }) => {
    for (const c of changes ?? []) {
      const p = toFsPath(c.uri);
      if (!p) continue;
      if (c.type === FileChangeType.Deleted) index.pathDeleted(p);
      else if (c.type === FileChangeType.Created) index.pathCreated(p);
      else if (p.endsWith('.nix') || p.endsWith('.gitignore')) index.fileChanged(p);
    }
  }),
);

connection.onDidSaveTextDocument(
  guard('didSave', undefined, ({ textDocument: d }) => {
    const p = toFsPath(d.uri);
    if (p?.endsWith('.nix')) index.fileChanged(p);
  }),
);

connection.onDidOpenTextDocument(
  guard('didOpen', undefined, ({ textDocument: d }) => {
    docs.open(d.uri, d.languageId, d.version, d.text);
    publisher.schedule();
  }),
);

connection.onDidChangeTextDocument(
  guard('didChange', undefined, ({ textDocument: d, contentChanges }) => {
    if (!docs.change(d.uri, d.version, contentChanges)) {
      logError(`nix-builders: didChange for a document that is not open: ${d.uri}`);
      return;
    }
    publisher.schedule();
  }),
);

connection.onDidCloseTextDocument(
  guard('didClose', undefined, ({ textDocument: d }) => {
    if (docs.close(d.uri)) publisher.closed(d.uri);
    // The index now stands for the file: make sure it holds what is on disk.
    const p = toFsPath(d.uri);
    if (p?.endsWith('.nix')) index.fileChanged(p);
    publisher.schedule();
  }),
);

connection.onHover(
  guard('hover', null as Hover | null, ({ textDocument, position }) => {
    const e = docs.get(textDocument.uri);
    const a = e && analysis.current().analysis;
    if (!e || !a) return null;
    const info = env.info();
    const places = makePlaces({
      folders: index.folders,
      home: info.home,
      toFsPath,
      lineOf: (file, offset) => {
        const target = analysis.resolve(file);
        if (target) return target.lines.position(offset).line;
        const ext = [...info.sshConfigFiles, ...info.knownHostsFiles].find((f) => f.path === file);
        return ext ? new LineIndex(ext.text).position(offset).line : undefined;
      },
    });
    return hoverAt(a.model, e.path, e.doc.lines, e.doc.lines.offset(position), (b) => hostSection(b, a.hosts.forBuilder(b), info, places));
  }),
);

connection.onCompletion(
  guard('completion', [] as CompletionItem[], ({ textDocument, position }) => {
    const e = docs.get(textDocument.uri);
    const model = e && analysis.current().analysis?.model;
    if (!e || !model) return [];
    return completeAt({
      model,
      file: e.path,
      text: e.doc.text,
      lines: e.doc.lines,
      offset: e.doc.lines.offset(position),
      snippets: client.snippets,
    });
  }),
);

connection.onCodeAction(
  guard('codeAction', [] as CodeAction[], ({ textDocument, range, context }) => {
    const e = docs.get(textDocument.uri);
    if (!e) return [];
    const current = analysis.current();
    const diagnostics = current.byFile.get(e.path) ?? [];
    const fixes = quickFixes(diagnostics, e.doc.lines, range, analysis.resolve, context?.only);
    if (!current.analysis) return fixes;
    // Probe actions carry a command: listing them never probes.
    const probing = probeCodeActions({
      analysis: current.analysis,
      diagnostics,
      file: e.path,
      uri: textDocument.uri,
      lines: e.doc.lines,
      range,
      only: context?.only,
      resolve: analysis.resolve,
      trusted,
    });
    return [...fixes, ...probing];
  }),
);

const probes = new ProbeCommands({
  docs,
  env,
  analysis,
  seen: seenHostKeys,
  settings: () => settings,
  trusted: () => trusted,
  canConfirm: () => client.confirmHostKey,
  onChange: schedule,
  io: {
    confirm: (params: ConfirmHostKeyParams, token: CancellationToken) => connection.sendRequest(CONFIRM_HOST_KEY_REQUEST, params, token),
    applyEdit: (label, edit) => connection.workspace.applyEdit({ label, edit }),
    show: (type, message) => void connection.sendNotification('window/showMessage', { type, message }).catch((err: unknown) => logError(describe(err))),
    ask: async (type, message, actions) => {
      const r: unknown = await connection.sendRequest('window/showMessageRequest', { type, message, actions: actions.map((title) => ({ title })) });
      return isRecord(r) && typeof r.title === 'string' ? r.title : undefined;
    },
    log,
    logError,
  },
});

connection.onExecuteCommand(async (params, token, workDone) => {
  try {
    // The client's own progress token when it gave one, else one the server creates (cancellable by the client).
    const progress = async (): Promise<Progress> =>
      WorkDoneProgressReporter.isNullInstance(workDone) ? await connection.window.createWorkDoneProgress() : workDone;
    return await probes.execute(params.command, params.arguments ?? [], token, progress);
  } catch (err) {
    logError(`nix-builders: ${params.command} failed: ${describe(err)}`);
    return null;
  }
});

/** `nixBuilders/status`: what the server knows, for logs and tests. */
connection.onRequest(
  'nixBuilders/status',
  guard('status', null, () => {
    const r = analysis.current();
    return {
      folders: index.folders,
      indexedFiles: index.size,
      indexSettled: index.settled,
      lastScan: index.lastScan ?? null,
      analysis: { files: r.files, ms: r.ms, builders: r.analysis?.model.builders.length ?? 0 },
      lookups: env.info().lookups,
      lookupsWaiting: env.waiting,
      probes: { running: probes.running, hostKeysSeen: seenHostKeys.size },
      trusted,
    };
  }),
);

connection.onShutdown(() => {
  probes.dispose();
  publisher.cancel();
  index.dispose();
  env.dispose();
});

connection.listen();
