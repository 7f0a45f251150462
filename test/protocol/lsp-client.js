// A minimal LSP client for the protocol tests: spawns the built server
// (`node server/out/server.js --stdio`) and talks JSON-RPC with vscode-jsonrpc.
// (Not a test file itself: it defines no tests.)
'use strict';
const assert = require('node:assert/strict');
const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const rpc = require('vscode-jsonrpc/node');

const root = path.resolve(__dirname, '..', '..');
const SERVER = path.join(root, 'server', 'out', 'server.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  const built = fs.existsSync(SERVER) ? fs.statSync(SERVER).mtimeMs : 0;
  if (built >= newestMtime(path.join(root, 'server', 'src'))) return;
  cp.execFileSync(process.execPath, ['scripts/build.js'], { cwd: root, stdio: 'inherit' });
}

const CAPABILITIES = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true },
    workspaceFolders: true,
  },
  textDocument: {
    synchronization: { dynamicRegistration: false, didSave: true },
    completion: { completionItem: { snippetSupport: true } },
    publishDiagnostics: { versionSupport: true, relatedInformation: true, codeDescriptionSupport: true },
    hover: { contentFormat: ['markdown', 'plaintext'] },
  },
};

class LspClient {
  /**
   * @param settings the `nixBuilders` section answered to workspace/configuration
   * @param opts { filesExclude } the `files.exclude` section; { cwd, env } of the server process
   */
  constructor(settings, opts = {}) {
    this.settings = settings;
    this.filesExclude = opts.filesExclude ?? null;
    this.published = []; // every publishDiagnostics params, in order
    this.waiters = [];
    this.logs = [];
    this.logWaiters = [];
    this.registrations = [];
    this.stderr = '';
    this.proc = cp.spawn(process.execPath, [SERVER, '--stdio'], { cwd: opts.cwd ?? root, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    this.conn.onRequest('workspace/configuration', (p) =>
      p.items.map((item) => (item.section === 'nixBuilders' ? this.settings : item.section === 'files.exclude' ? this.filesExclude : null)),
    );
    this.conn.onRequest('client/registerCapability', (p) => {
      this.registrations.push(...p.registrations);
      return null;
    });
    this.conn.listen();
  }

  initialize(extra = {}) {
    return this.conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: CAPABILITIES,
      ...extra,
    });
  }

  initialized() {
    return this.conn.sendNotification('initialized', {});
  }

  open(uri, text, languageId = 'nix', version = 1) {
    return this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }

  change(uri, version, contentChanges) {
    return this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
  }

  close(uri) {
    return this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  filesChanged(changes) {
    return this.conn.sendNotification('workspace/didChangeWatchedFiles', { changes });
  }

  /** The diagnostics published for uri at version (already received or still to come). */
  diagnostics(uri, version, timeoutMs = 10000) {
    return this.waitFor(uri, (p) => p.version === version, { timeoutMs, what: `version ${version}` });
  }

  /**
   * The first publication for uri (from index `after` of this.published on)
   * whose params satisfy pred; resolves to its diagnostics.
   */
  waitFor(uri, pred, { after = 0, timeoutMs = 10000, what = 'a matching publication' } = {}) {
    const match = (p) => p.uri === uri && pred(p);
    const seen = this.published.slice(after).find(match);
    if (seen) return Promise.resolve(seen.diagnostics);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no diagnostics for ${uri} (${what}); got ${JSON.stringify(this.published.filter((p) => p.uri === uri).map((p) => [p.version, p.diagnostics.map((d) => d.code)]))}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push((p) => {
        if (!match(p)) return false;
        clearTimeout(timer);
        resolve(p.diagnostics);
        return true;
      });
    });
  }

  request(method, params) {
    return this.conn.sendRequest(method, params);
  }

  /** Resolves with the first window/logMessage (already received or to come) whose text matches re. */
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

  async stop() {
    try {
      await this.request('shutdown');
      await this.conn.sendNotification('exit');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.proc.kill(), 5000);
    await this.exited;
    clearTimeout(timer);
    this.conn.dispose();
  }
}

// ------------------------------------------------------------------ text helpers

/** LSP position (UTF-16 columns, which JS string indices are) → offset. */
function offsetAt(text, pos) {
  let offset = 0;
  for (let line = 0; line < pos.line; line++) offset = text.indexOf('\n', offset) + 1;
  return offset + pos.character;
}

/** Position of the `nth` occurrence of needle (plus delta characters). */
function positionOf(text, needle, delta = 0, nth = 0) {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    assert.ok(at >= 0, `"${needle}" not found`);
  }
  const offset = at + delta;
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

function applyEdits(text, edits) {
  const sorted = edits
    .map((e) => ({ start: offsetAt(text, e.range.start), end: offsetAt(text, e.range.end), newText: e.newText }))
    .sort((a, b) => b.start - a.start);
  for (const e of sorted) text = text.slice(0, e.start) + e.newText + text.slice(e.end);
  return text;
}

function applyWorkspaceEdit(uri, text, edit) {
  assert.ok(edit && edit.changes, 'a WorkspaceEdit with changes');
  assert.deepEqual(Object.keys(edit.changes), [uri]);
  return applyEdits(text, edit.changes[uri]);
}

function range(l1, c1, l2, c2) {
  return { start: { line: l1, character: c1 }, end: { line: l2, character: c2 } };
}

function byCode(diags) {
  const m = new Map();
  for (const d of diags) m.set(d.code, [...(m.get(d.code) ?? []), d]);
  return m;
}

function hoverText(h) {
  assert.ok(h, 'a hover');
  const c = h.contents;
  return typeof c === 'string' ? c : Array.isArray(c) ? c.map((x) => (typeof x === 'string' ? x : x.value)).join('\n') : c.value;
}

module.exports = { LspClient, CAPABILITIES, ensureBuilt, offsetAt, positionOf, applyEdits, applyWorkspaceEdit, range, byCode, hoverText, root, SERVER };
