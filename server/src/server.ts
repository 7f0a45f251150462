// The nix-builders language server. Started on load over the transport named on
// the command line (`--stdio` from `nix-builders lsp --stdio` or the VS Code
// client). Handlers are thin: the work is in ./lsp/*, the analysis in ./core.
import {
  type CodeAction,
  CodeActionKind,
  type CompletionItem,
  createConnection,
  DidChangeConfigurationNotification,
  type Hover,
  type InitializeResult,
  ProposedFeatures,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { WorkspaceAnalysis } from './lsp/analysis';
import { quickFixes } from './lsp/code-actions';
import { completeAt } from './lsp/completion';
import { OpenDocuments } from './lsp/documents';
import { hoverAt } from './lsp/hover';
import { DiagnosticsPublisher } from './lsp/publisher';
import { DEFAULT_SETTINGS, readSettings, SETTINGS_SECTION, type Settings } from './lsp/settings';

const connection = createConnection(ProposedFeatures.all);

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

const docs = new OpenDocuments();
const analysis = new WorkspaceAnalysis(docs, logError);
let settings: Settings = DEFAULT_SETTINGS;
const publisher = new DiagnosticsPublisher({
  docs,
  analysis,
  debounceMs: () => settings.debounceMs,
  send: (params) => void connection.sendDiagnostics(params).catch((err: unknown) => logError(describe(err))),
  logError,
});

const client = { configuration: false, dynamicConfiguration: false, snippets: false };

connection.onInitialize((params): InitializeResult => {
  const caps = params?.capabilities ?? {};
  client.configuration = caps.workspace?.configuration === true;
  client.dynamicConfiguration = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
  client.snippets = caps.textDocument?.completion?.completionItem?.snippetSupport === true;
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['"'], resolveProvider: false },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'nix-builders' },
  };
});

async function refreshSettings(pushed?: unknown): Promise<void> {
  try {
    if (client.configuration) {
      settings = readSettings(await connection.workspace.getConfiguration({ section: SETTINGS_SECTION }));
    } else if (pushed !== undefined) {
      settings = readSettings((pushed as Record<string, unknown> | null)?.[SETTINGS_SECTION]);
    }
  } catch (err) {
    logError(`nix-builders: reading settings failed, using defaults: ${describe(err)}`);
    settings = DEFAULT_SETTINGS;
  }
}

connection.onInitialized(() => {
  if (client.configuration && client.dynamicConfiguration) {
    void connection.client
      .register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION })
      .catch((err: unknown) => logError(describe(err)));
  }
  void refreshSettings().then(() => publisher.schedule());
});

connection.onDidChangeConfiguration(
  guard('didChangeConfiguration', undefined, (params) => {
    void refreshSettings(params?.settings ?? null).then(() => publisher.schedule());
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
    publisher.schedule();
  }),
);

connection.onHover(
  guard('hover', null as Hover | null, ({ textDocument, position }) => {
    const e = docs.get(textDocument.uri);
    const model = e && analysis.current().analysis?.model;
    if (!e || !model) return null;
    return hoverAt(model, e.path, e.doc.lines, e.doc.lines.offset(position));
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
    const diagnostics = analysis.current().byFile.get(e.path) ?? [];
    return quickFixes(diagnostics, e.doc.lines, range, analysis.resolve, context?.only);
  }),
);

connection.onShutdown(() => {
  publisher.cancel();
});

connection.listen();
