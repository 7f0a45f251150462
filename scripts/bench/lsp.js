// A small LSP client for the benchmarks and the robustness tests: spawns the
// built server (`node server/out/server.js --stdio`) and speaks JSON-RPC with
// vscode-jsonrpc, as an editor would.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

// The client itself, building and locating the server are the protocol tests'.
const { LspClient: ProtocolClient, ensureBuilt, SERVER, root } = require('../../test/protocol/lsp-client');

/** A line of /proc/PID/status in bytes (Linux), undefined elsewhere. */
function statusBytes(pid, key) {
  try {
    const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in bytes (VmRSS), undefined elsewhere. */
const rssOf = (pid) => statusBytes(pid, 'VmRSS');

/**
 * The protocol tests' client, as the benchmarks and fault tests use it: the
 * server's work-done progress is accepted, workspace folders are given at
 * initialize, and stop() never waits more than a few seconds.
 */
class LspClient extends ProtocolClient {
  /** @param settings the `nixBuilders` section answered to workspace/configuration */
  constructor(settings, { cwd = root, env = process.env } = {}) {
    super(settings, { cwd, env });
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onNotification('$/progress', () => {});
    this.conn.onError(() => {});
  }

  get pid() {
    return this.proc.pid;
  }

  async initialize({ folders = [] } = {}) {
    const workspaceFolders = folders.map((f) => ({ uri: pathToFileURL(f).href, name: path.basename(f) }));
    const result = await super.initialize({
      rootUri: workspaceFolders[0]?.uri ?? null,
      workspaceFolders: workspaceFolders.length > 0 ? workspaceFolders : null,
    });
    await this.initialized();
    return result;
  }

  hover(uri, position) {
    return this.request('textDocument/hover', { textDocument: { uri }, position });
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

  /** The diagnostics published for uri at version (a longer wait than the protocol tests': big corpora). */
  diagnostics(uri, version, timeoutMs = 30000) {
    return super.diagnostics(uri, version, timeoutMs);
  }

  rss() {
    return rssOf(this.proc.pid);
  }

  /** Peak resident set size (VmHWM) in bytes. */
  peakRss() {
    return statusBytes(this.proc.pid, 'VmHWM');
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
