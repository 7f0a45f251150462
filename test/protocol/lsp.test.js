// The language server over stdio, spoken to as an LSP client would: spawns
// `node server/out/server.js --stdio` and talks JSON-RPC with vscode-jsonrpc.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { startDnsServer } = require('../helpers/dns-server');
const { LspClient, ensureBuilt, positionOf, applyWorkspaceEdit, range, byCode, hoverText, root } = require('./lsp-client');

const EXAMPLE = path.join(root, 'examples', 'distributed-builds.nix');
const EXAMPLE_URI = pathToFileURL(EXAMPLE).href;
const ERR_URI = 'file:///tmp/nix-builders-protocol/errors.nix';
const COMPLETE_URI = 'file:///tmp/nix-builders-protocol/complete.nix';
const MACHINES_URI = 'file:///tmp/nix-builders-protocol/machines';
const UNTITLED_MACHINES_URI = 'untitled:Untitled-1';

const Severity = { Error: 1, Warning: 2, Information: 3, Hint: 4 };

// Host keys are checked in every document now; these tests are about other
// rules (host checks: workspace.test.js), so those codes are filtered out.
const HOST_KEY_CODES = new Set(['missing-host-key', 'host-key-name-mismatch']);
const notHostKey = (d) => !HOST_KEY_CODES.has(d.code);

/**
 * Settings that keep everything on this machine: no lookups, and if one were
 * made it would go to a DNS server on 127.0.0.1; no ssh files of the machine.
 */
function isolated(dns, extra = {}) {
  return { lookups: { enable: false }, dnsServer: dns.address, sshConfigFiles: [], knownHostsFiles: [], ...extra };
}

// ------------------------------------------------------------------ documents

// Line 5 carries Japanese text and an emoji (2 UTF-16 units, 4 UTF-8 bytes, one
// code point) before the faulty values: only UTF-16 columns give 35 and 63.
const ERR_TEXT = [
  '{',
  '  nix.distributedBuilds = true;',
  '  nix.buildMachines = [',
  '    {',
  '      hostname = "a";',
  '      /* 東京のビルダー 🚀 */ systems = [ "x86-64-linux" ]; maxJobs = "2";',
  '    }',
  '  ];',
  '}',
  '',
].join('\n');

const COMPLETE_TEXT = [
  '{',
  '  nix.distributedBuilds = true;',
  '  nix.buildMachines = [',
  '    {',
  '      hostname = "c";',
  '      ',
  '      systems = [ "" ];',
  '      supportedFeatures = [ "k" ];',
  '    }',
  '  ];',
  '}',
  '',
].join('\n');

// ------------------------------------------------------------------ tests

describe('language server over stdio', () => {
  /** @type {LspClient} */
  let lsp;
  let init;
  let dns;

  before(async () => {
    ensureBuilt();
    dns = await startDnsServer();
    lsp = new LspClient(isolated(dns, { debounceMs: 100 }));
    init = await lsp.initialize();
    await lsp.initialized();
  });

  after(async () => {
    if (lsp) await lsp.stop();
    if (dns) await dns.close();
  });

  it('announces its capabilities', () => {
    const caps = init.capabilities;
    const sync = caps.textDocumentSync;
    assert.equal(typeof sync === 'number' ? sync : sync.change, 2, 'incremental sync');
    assert.equal(sync.openClose, true);
    assert.ok(caps.hoverProvider);
    assert.ok(caps.completionProvider);
    assert.ok(caps.codeActionProvider.codeActionKinds.includes('quickfix'));
    assert.equal(init.serverInfo.name, 'nix-builders');
  });

  it('reports no errors for the distributed-builds example', async () => {
    await lsp.open(EXAMPLE_URI, fs.readFileSync(EXAMPLE, 'utf8'));
    const diags = await lsp.diagnostics(EXAMPLE_URI, 1);
    assert.deepEqual(diags.filter((d) => d.severity === Severity.Error), []);
    // Today it gives nothing at all; keep it honest if that changes.
    for (const d of diags) assert.equal(d.source, 'nix-builders');
  });

  it('reports errors with codes, docs links and UTF-16 ranges', async () => {
    await lsp.open(ERR_URI, ERR_TEXT);
    const diags = await lsp.diagnostics(ERR_URI, 1);
    const codes = byCode(diags);
    assert.deepEqual([...codes.keys()].sort(), ['missing-host-name', 'unknown-attribute', 'unknown-system', 'wrong-type']);
    for (const d of diags) {
      assert.equal(d.source, 'nix-builders');
      assert.match(d.codeDescription.href, new RegExp(`#${d.code}$`));
      assert.ok(d.message.length > 0);
    }
    const one = (code) => {
      const list = codes.get(code);
      assert.equal(list.length, 1, code);
      return list[0];
    };
    assert.deepEqual(one('unknown-attribute').range, range(4, 6, 4, 14));
    assert.equal(one('unknown-attribute').severity, Severity.Error);
    assert.deepEqual(one('missing-host-name').range.start, { line: 3, character: 4 });
    assert.equal(one('missing-host-name').severity, Severity.Error);
    // The line holds 東京のビルダー (7 units) and 🚀 (2 units).
    const line5 = ERR_TEXT.split('\n')[5];
    assert.equal(line5.indexOf('"x86-64-linux"'), 35);
    assert.equal(line5.indexOf('"2"'), 63);
    assert.deepEqual(one('unknown-system').range, range(5, 35, 5, 49));
    assert.equal(one('unknown-system').severity, Severity.Warning);
    assert.deepEqual(one('wrong-type').range, range(5, 63, 5, 66));
    assert.equal(one('wrong-type').severity, Severity.Error);
  });

  it('quick-fixes an unknown system', async () => {
    const diags = await lsp.diagnostics(ERR_URI, 1);
    const d = diags.find((x) => x.code === 'unknown-system');
    const actions = await lsp.request('textDocument/codeAction', {
      textDocument: { uri: ERR_URI },
      range: d.range,
      context: { diagnostics: [d] },
    });
    const fix = actions.find((a) => a.kind === 'quickfix' && a.diagnostics?.some((x) => x.code === 'unknown-system'));
    assert.ok(fix, JSON.stringify(actions));
    assert.equal(fix.isPreferred, true);
    const fixed = applyWorkspaceEdit(ERR_URI, ERR_TEXT, fix.edit);
    assert.equal(fixed.split('\n')[5], '      /* 東京のビルダー 🚀 */ systems = [ "x86_64-linux" ]; maxJobs = "2";');
  });

  it('quick-fixes an unknown attribute with a cursor range inside it', async () => {
    const actions = await lsp.request('textDocument/codeAction', {
      textDocument: { uri: ERR_URI },
      range: range(4, 9, 4, 9),
      context: { diagnostics: [] },
    });
    const fix = actions.find((a) => a.diagnostics?.some((x) => x.code === 'unknown-attribute') && a.isPreferred);
    assert.ok(fix, JSON.stringify(actions));
    const fixed = applyWorkspaceEdit(ERR_URI, ERR_TEXT, fix.edit);
    assert.equal(fixed.split('\n')[4], '      hostName = "a";');
    // Only diagnostics touching the range: nothing for unknown-system on line 5.
    assert.ok(actions.every((a) => a.diagnostics.every((x) => x.range.start.line === 4)));
  });

  it('re-checks after incremental range edits, tagged with the new version', async () => {
    // Two edits in one notification; the second's range is in the text after the first.
    await lsp.change(ERR_URI, 2, [
      { range: range(5, 63, 5, 66), text: '2' },
      { range: range(4, 6, 4, 14), text: 'hostName' },
    ]);
    let diags = (await lsp.diagnostics(ERR_URI, 2)).filter(notHostKey);
    assert.deepEqual(diags.map((d) => d.code), ['unknown-system']);
    assert.deepEqual(diags[0].range, range(5, 35, 5, 49));

    // A new line above moves the warning down; the new line brings its own.
    await lsp.change(ERR_URI, 3, [{ range: range(5, 0, 5, 0), text: '      sshKey = "~/.ssh/id_builder";\n' }]);
    diags = (await lsp.diagnostics(ERR_URI, 3)).filter(notHostKey);
    const codes = byCode(diags);
    assert.deepEqual(codes.get('unknown-system')[0].range, range(6, 35, 6, 49));
    assert.equal(codes.get('ssh-key-path')?.[0].range.start.line, 5);
  });

  it('typing inside a builder moves the other builders\' diagnostics with the text', async () => {
    // Two builders on one line: keystrokes in the first (analysed incrementally,
    // core/incremental.ts) shift the second's columns.
    const uri = 'file:///tmp/nix-builders-protocol/typing.nix';
    const line = '    { hostName = "a"; systems = [ "x86_64-linx" ]; maxJobs = 1; } { hostName = "b"; systems = [ "aarch64-lnux" ]; maxJobs = 2; }';
    const text = `{\n  nix.distributedBuilds = true;\n  nix.buildMachines = [\n${line}\n  ];\n}\n`;
    const second = (l) => ({ start: l.indexOf('"aarch64-lnux"'), end: l.indexOf('"aarch64-lnux"') + '"aarch64-lnux"'.length });
    await lsp.open(uri, text);
    let diags = (await lsp.diagnostics(uri, 1)).filter(notHostKey);
    assert.deepEqual(diags.map((d) => [d.code, d.range.start.character]), [
      ['unknown-system', line.indexOf('"x86_64-linx"')],
      ['unknown-system', second(line).start],
    ]);
    // "x86_64-linx" → "x86_64-linux": its warning goes, the other moves one column.
    const at = line.indexOf('linx"') + 3;
    await lsp.change(uri, 2, [{ range: range(3, at, 3, at), text: 'u' }]);
    let now = `${line.slice(0, at)}u${line.slice(at)}`;
    diags = (await lsp.diagnostics(uri, 2)).filter(notHostKey);
    assert.deepEqual(diags.map((d) => [d.code, d.range]), [['unknown-system', range(3, second(now).start, 3, second(now).end)]]);
    // Two letters typed into the first hostName, then one deleted.
    const host = line.indexOf('"a"') + 2;
    await lsp.change(uri, 3, [{ range: range(3, host, 3, host), text: 'zz' }]);
    await lsp.change(uri, 4, [{ range: range(3, host, 3, host + 1), text: '' }]);
    now = `${now.slice(0, host)}z${now.slice(host)}`;
    diags = (await lsp.diagnostics(uri, 4)).filter(notHostKey);
    assert.deepEqual(diags.map((d) => [d.code, d.range]), [['unknown-system', range(3, second(now).start, 3, second(now).end)]]);
  });

  it('debounces: quick successive changes publish only the last version', async () => {
    const uri = 'file:///tmp/nix-builders-protocol/debounce.nix';
    const text = '{ nix.distributedBuilds = true; nix.buildMachines = [ { hostName = "d"; system = "x86_64-linux"; maxJobs = 1; } ]; }\n';
    const at = text.indexOf('1;');
    await lsp.open(uri, text);
    await lsp.change(uri, 2, [{ range: range(0, at, 0, at + 1), text: '"1"' }]);
    await lsp.change(uri, 3, [{ range: range(0, at, 0, at + 3), text: '-1' }]);
    const diags = (await lsp.diagnostics(uri, 3)).filter(notHostKey);
    assert.deepEqual(diags.map((d) => d.code), ['invalid-max-jobs']);
    const versions = lsp.published.filter((p) => p.uri === uri).map((p) => p.version);
    assert.deepEqual(versions, [3]);
  });

  it('checks machines files, by name and by language id', async () => {
    await lsp.open(MACHINES_URI, 'ssh://builder x86-64-linux - 2 1 kvm\n', 'nix-machines');
    let diags = (await lsp.diagnostics(MACHINES_URI, 1)).filter(notHostKey);
    assert.deepEqual(diags.map((d) => [d.code, d.range]), [['unknown-system', range(0, 14, 0, 26)]]);
    await lsp.open(UNTITLED_MACHINES_URI, 'ssh://other aarch64-linux - x\n', 'nix-machines');
    diags = (await lsp.diagnostics(UNTITLED_MACHINES_URI, 1)).filter(notHostKey);
    assert.deepEqual(diags.map((d) => d.code), ['machines-syntax']);
    assert.deepEqual(diags[0].range, range(0, 28, 0, 29));
  });

  it('hovers option docs on a builder attribute name', async () => {
    const text = fs.readFileSync(EXAMPLE, 'utf8');
    const h = await lsp.request('textDocument/hover', {
      textDocument: { uri: EXAMPLE_URI },
      position: positionOf(text, 'maxJobs = 3', 2),
    });
    const md = hoverText(h);
    assert.match(md, /How many builds the builder runs at once/);
    assert.match(md, /signed integer/);
    assert.match(md, /maxJobs = 3;/);
    const p = positionOf(text, 'maxJobs = 3');
    assert.deepEqual(h.range, { start: p, end: { line: p.line, character: p.character + 'maxJobs'.length } });
  });

  it('hovers the value a builder attribute was read as', async () => {
    const text = fs.readFileSync(EXAMPLE, 'utf8');
    let md = hoverText(
      await lsp.request('textDocument/hover', { textDocument: { uri: EXAMPLE_URI }, position: positionOf(text, '"aquamarine";', 3) }),
    );
    assert.match(md, /hostName = "aquamarine";/);
    // Through `inherit sshUser sshKey systems …` from a let binding.
    md = hoverText(
      await lsp.request('textDocument/hover', { textDocument: { uri: EXAMPLE_URI }, position: positionOf(text, 'inherit sshUser sshKey systems', 25) }),
    );
    assert.match(md, /systems = \[ "x86_64-linux" "aarch64-linux" "riscv64-linux" \];/);
    assert.match(md, /list of string/);
    // knownHosts options too.
    md = hoverText(
      await lsp.request('textDocument/hover', { textDocument: { uri: EXAMPLE_URI }, position: positionOf(text, 'publicKey = ', 2) }),
    );
    assert.match(md, /type base64blob/);
    // Nothing on a comment.
    const none = await lsp.request('textDocument/hover', { textDocument: { uri: EXAMPLE_URI }, position: { line: 3, character: 10 } });
    assert.equal(none, null);
  });

  it('completes option names inside a builder', async () => {
    await lsp.open(COMPLETE_URI, COMPLETE_TEXT);
    await lsp.diagnostics(COMPLETE_URI, 1);
    const items = await lsp.request('textDocument/completion', {
      textDocument: { uri: COMPLETE_URI },
      position: { line: 5, character: 6 },
    });
    const list = Array.isArray(items) ? items : items.items;
    const labels = list.map((i) => i.label);
    assert.ok(labels.includes('hostName'), labels.join(' '));
    assert.ok(labels.includes('sshKey'));
    assert.ok(!labels.includes('systems'), 'already set');
    assert.ok(!labels.includes('supportedFeatures'), 'already set');
    const sshKey = list.find((i) => i.label === 'sshKey');
    assert.match(sshKey.documentation.value, /private key/);
    assert.equal(sshKey.textEdit.newText, 'sshKey = "$1";');

    // A half-typed name (the text does not parse) still completes, replacing the word.
    await lsp.change(COMPLETE_URI, 2, [{ range: range(5, 6, 5, 6), text: 'ss' }]);
    const partial = await lsp.request('textDocument/completion', {
      textDocument: { uri: COMPLETE_URI },
      position: { line: 5, character: 8 },
    });
    const p = (Array.isArray(partial) ? partial : partial.items).find((i) => i.label === 'sshUser');
    assert.ok(p);
    assert.deepEqual(p.textEdit.range, range(5, 6, 5, 8));
  });

  it('completes systems and features inside their lists', async () => {
    let items = await lsp.request('textDocument/completion', {
      textDocument: { uri: COMPLETE_URI },
      position: { line: 6, character: 19 },
    });
    let list = Array.isArray(items) ? items : items.items;
    const sys = list.find((i) => i.label === 'x86_64-linux');
    assert.ok(sys, list.map((i) => i.label).join(' '));
    assert.deepEqual(sys.textEdit.range, range(6, 19, 6, 19));
    assert.equal(sys.textEdit.newText, 'x86_64-linux');
    assert.ok(!list.some((i) => i.label === 'hostName'));

    items = await lsp.request('textDocument/completion', {
      textDocument: { uri: COMPLETE_URI },
      position: { line: 7, character: 30 },
    });
    list = Array.isArray(items) ? items : items.items;
    const kvm = list.find((i) => i.label === 'kvm');
    assert.ok(kvm, list.map((i) => i.label).join(' '));
    assert.deepEqual(kvm.textEdit.range, range(7, 29, 7, 30));
    assert.ok(!list.some((i) => i.label === 'x86_64-linux'));
  });

  it('clears the diagnostics of a closed document', async () => {
    const uri = 'file:///tmp/nix-builders-protocol/closed.nix';
    await lsp.open(uri, '{ nix.buildMachines = [ { hostName = "z"; systems = [ "x86-64-linux" ]; } ]; nix.distributedBuilds = true; }');
    assert.equal((await lsp.diagnostics(uri, 1)).filter(notHostKey).length, 1);
    const cleared = new Promise((resolve) => lsp.waiters.push((p) => p.uri === uri && p.diagnostics.length === 0 && (resolve(p), true)));
    await lsp.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
    const p = await cleared;
    assert.deepEqual(p.diagnostics, []);
  });

  it('survives malformed requests and notifications', async () => {
    assert.equal(await lsp.request('textDocument/hover', {}), null);
    assert.equal(
      await lsp.request('textDocument/hover', { textDocument: { uri: 'file:///nowhere.nix' }, position: { line: -3, character: 'x' } }),
      null,
    );
    assert.deepEqual(await lsp.request('textDocument/codeAction', { textDocument: { uri: ERR_URI }, range: null, context: null }), []);
    assert.deepEqual(await lsp.request('textDocument/completion', { textDocument: { uri: ERR_URI }, position: null }), []);
    await assert.rejects(lsp.request('nixBuilders/noSuchMethod', {}), (err) => err.code === -32601);
    await lsp.conn.sendNotification('textDocument/didChange', { textDocument: { uri: 'file:///nowhere.nix', version: 9 }, contentChanges: [{ text: 'x' }] });
    await lsp.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: 'file:///broken.nix' } });
    await lsp.conn.sendNotification('textDocument/didChange', null);
    // A frame whose body is not JSON.
    lsp.proc.stdin.write('Content-Length: 9\r\n\r\n{"not":js');
    // A document that is not Nix at all.
    await lsp.open('file:///tmp/nix-builders-protocol/garbage.nix', '{ = ; ] [ "\u0000 ${ \uD800 ');
    await lsp.diagnostics('file:///tmp/nix-builders-protocol/garbage.nix', 1);

    const text = fs.readFileSync(EXAMPLE, 'utf8');
    const h = await lsp.request('textDocument/hover', { textDocument: { uri: EXAMPLE_URI }, position: positionOf(text, 'maxJobs = 3', 2) });
    assert.match(hoverText(h), /How many builds/);
    assert.equal(lsp.proc.exitCode, null, lsp.stderr);
  });
});

describe('settings', () => {
  it('works without workspace/configuration and with debounce 0', async () => {
    ensureBuilt();
    const dns = await startDnsServer();
    const lsp = new LspClient({});
    try {
      await lsp.conn.sendRequest('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: { settings: isolated(dns) },
      });
      await lsp.initialized();
      await lsp.conn.sendNotification('workspace/didChangeConfiguration', { settings: { nixBuilders: isolated(dns, { debounceMs: 0 }) } });
      await lsp.open(ERR_URI, ERR_TEXT);
      const diags = await lsp.diagnostics(ERR_URI, 1);
      assert.equal(diags.length, 4);
    } finally {
      await lsp.stop();
      await dns.close();
    }
    const { code } = await lsp.exited;
    assert.equal(code, 0);
  });
});
