// A small LSP client for the benchmarks and the robustness tests: spawns the
// built server (`node server/out/server.js --stdio`) and speaks JSON-RPC with
// vscode-jsonrpc, as an editor would.
'use strict';
const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const rpc = require('vscode-jsonrpc/node');

// Building and locating the server are shared with the protocol tests' client.
const { ensureBuilt, SERVER, root } = require('../../test/protocol/lsp-client');

const CAPABILITIES = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    workspaceFolders: true,
  },
  textDocument: {
    synchronization: { dynamicRegistration: false },
    completion: { completionItem: { snippetSupport: true } },
    publishDiagnostics: { versionSupport: true, relatedInformation: true, codeDescriptionSupport: true },
    hover: { contentFormat: ['markdown', 'plaintext'] },
  },
};

/** Resident set size of a process in bytes (Linux /proc), undefined elsewhere. */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) in bytes, undefined elsewhere. */
function peakRssOf(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

class LspClient {
  /** @param settings the `nixBuilders` section answered to workspace/configuration */
  constructor(settings, { cwd = root, env = process.env } = {}) {
    this.settings = settings;
    this.published = [];
    this.waiters = [];
    this.logs = [];
    this.logWaiters = [];
    this.stderr = '';
    this.proc = cp.spawn(process.execPath, [SERVER, '--stdio'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.conn = rpc.createMessageConnection(new rpc.StreamMessageReader(this.proc.stdout), new rpc.StreamMessageWriter(this.proc.stdin));
    this.conn.onNotification('textDocument/publishDiagnostics', (p) => {
      this.published.push(p);
      this.waiters = this.waiters.filter((w) => !w(p));
    });
    this.conn.onNotification('window/logMessage', (p) => {
      this.logs.push(p);
      this.logWaiters = this.logWaiters.filter((w) => !w(p));
    });
    this.conn.onRequest('workspace/configuration', (p) => p.items.map((item) => (item.section === 'nixBuilders' ? this.settings : null)));
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onNotification('$/progress', () => {});
    this.conn.onError(() => {});
    this.conn.listen();
  }

  get pid() {
    return this.proc.pid;
  }

  async initialize({ folders = [] } = {}) {
    const { pathToFileURL } = require('node:url');
    const workspaceFolders = folders.map((f) => ({ uri: pathToFileURL(f).href, name: path.basename(f) }));
    const result = await this.conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: workspaceFolders[0]?.uri ?? null,
      workspaceFolders: workspaceFolders.length > 0 ? workspaceFolders : null,
      capabilities: CAPABILITIES,
    });
    await this.conn.sendNotification('initialized', {});
    return result;
  }

  open(uri, text, languageId = 'nix', version = 1) {
    return this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }

  change(uri, version, contentChanges) {
    return this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
  }

  hover(uri, position) {
    return this.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position });
  }

  /** Resolves with the first publishDiagnostics params (already received or to come) that `match` accepts. */
  waitDiagnostics(match, timeoutMs = 30000) {
    const seen = this.published.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching publishDiagnostics')), timeoutMs);
      this.waiters.push((p) => {
        if (!match(p)) return false;
        clearTimeout(timer);
        resolve(p);
        return true;
      });
    });
  }

  /** The diagnostics published for uri at version. */
  diagnostics(uri, version, timeoutMs = 30000) {
    return this.waitDiagnostics((p) => p.uri === uri && p.version === version, timeoutMs).then((p) => p.diagnostics);
  }

  /** Resolves with the first window/logMessage whose text matches re. */
  waitLog(re, timeoutMs = 60000) {
    const seen = this.logs.find((p) => re.test(p.message));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log message matching ${re}`)), timeoutMs);
      this.logWaiters.push((p) => {
        if (!re.test(p.message)) return false;
        clearTimeout(timer);
        resolve(p);
        return true;
      });
    });
  }

  rss() {
    return rssOf(this.proc.pid);
  }

  peakRss() {
    return peakRssOf(this.proc.pid);
  }

  async stop() {
    const shutdown = (async () => {
      await this.conn.sendRequest('shutdown');
      await this.conn.sendNotification('exit');
    })().catch(() => {});
    await Promise.race([shutdown, new Promise((r) => setTimeout(r, 5000))]);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const status = await this.exited;
    clearTimeout(timer);
    this.conn.dispose();
    return status;
  }
}

module.exports = { LspClient, ensureBuilt, SERVER, rssOf };
