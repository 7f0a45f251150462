// Probing builders over SSH, against a real OpenSSH sshd this suite starts on
// 127.0.0.1 (sshd.js): "Fetch host key" for the builder under the cursor asks
// for confirmation (answered here through the extension's test-only hook
// instead of the modal dialog) and adds the knownHosts entry, which silences
// missing-host-key; "Probe all builders" reports a closed port with its reason
// and, once the key is known, what Nix on the builder says; "Fill systems and
// features" logs in and edits the builder. The fixture is written at test time
// with the ports (the closed one on 127.0.0.2, so the key fetched for
// 127.0.0.1 does not cover it); only its builders are probed (no packet leaves
// the machine: the example's builders have LAN addresses).
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const vscode = require('vscode');
const { EXTENSION_ID, waitFor, diagnostics, rangeOf } = require('./helpers');
const { startSshd, freePort, sshdSkipReason } = require('./sshd');

const FILE = 'probe-builders.nix';

function fixture(port, closedPort, clientKey) {
  const builder = (host) => `    {
      hostName = "${host}";
      system = "x86_64-linux";
      sshUser = "root";
      sshKey = "${clientKey}";
      maxJobs = 1;
    }`;
  return `# Written by the e2e suite (4-probe.test.js): builders on a local sshd.
{ ... }:
{
  nix.distributedBuilds = true;
  nix.buildMachines = [
${builder('probe-target')}
${builder('closed-port')}
  ];
  programs.ssh.extraConfig = ''
    Host probe-target
      HostName 127.0.0.1
      Port ${port}

    Host closed-port
      HostName 127.0.0.2
      Port ${closedPort}
  '';
}
`;
}

function reportDocument() {
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'nix-builders-report');
}

/** The missing-host-key diagnostic on the hostName "host", if any. */
function missingKey(doc, host) {
  const r = rangeOf(doc, `"${host}"`);
  return diagnostics(doc.uri, 'missing-host-key').find((d) => d.range.intersection(r) && !d.range.intersection(r).isEmpty);
}

/** Puts the cursor inside the hostName string of `host` (in the builder, not in the ssh_config). */
async function cursorOn(doc, host) {
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const at = rangeOf(doc, `"${host}"`).start.translate(0, 3);
  editor.selection = new vscode.Selection(at, at);
  return editor;
}

describe('probing builders over SSH (local sshd)', function () {
  const skip = sshdSkipReason();
  let sshd;
  let closedPort;
  let uri;
  let doc;
  let api;
  const asked = [];

  before(async function () {
    if (skip) {
      console.log(`[e2e]   skipped: ${skip}`);
      this.skip();
    }
    sshd = await startSshd();
    closedPort = await freePort();
    const folder = vscode.workspace.workspaceFolders[0].uri;
    uri = vscode.Uri.joinPath(folder, FILE);
    fs.writeFileSync(uri.fsPath, fixture(sshd.port, closedPort, sshd.clientKey));
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    api = await ext.activate();
    doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false });
    await waitFor('missing-host-key on both builders', () => missingKey(doc, 'probe-target') && missingKey(doc, 'closed-port'));
  });

  after(async () => {
    api?.setHostKeyConfirmer(undefined);
    // Undo the edits (this file and wherever the knownHosts entry went), unsaved.
    for (const d of vscode.workspace.textDocuments.filter((x) => x.isDirty && x.uri.scheme === 'file')) {
      await vscode.window.showTextDocument(d);
      await vscode.commands.executeCommand('workbench.action.files.revert');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    }
    if (uri) fs.rmSync(uri.fsPath, { force: true });
    sshd?.stop();
  });

  it('Fetch host key asks to confirm the fingerprint; declining adds nothing', async () => {
    api.setHostKeyConfirmer((params) => {
      asked.push(params);
      return false;
    });
    const before = doc.getText();
    await cursorOn(doc, 'probe-target');
    const result = await vscode.commands.executeCommand('nixBuilders.fetchHostKeyAtCursor');
    assert.equal(asked.length, 1, 'asked once');
    const p = asked[0];
    assert.equal(p.host, 'probe-target');
    assert.equal(p.address, '127.0.0.1');
    assert.equal(p.port, sshd.port);
    assert.equal(p.keyType, 'ssh-ed25519');
    assert.equal(p.fingerprint, sshd.fingerprint, 'the fingerprint ssh-keygen -l prints for the host key');
    assert.ok(p.fingerprintLine.includes(sshd.fingerprint), p.fingerprintLine);
    assert.equal(p.publicKey, sshd.publicKey);
    assert.equal(p.target, 'knownHosts');
    assert.equal(result.applied, false);
    assert.equal(result.reason, 'declined');
    assert.equal(doc.getText(), before, 'nothing was edited');
    assert.ok(missingKey(doc, 'probe-target'), 'the diagnostic stays');
  });

  it('Probe all builders reports the closed port with its reason, and the unknown host key', async () => {
    const reports = await vscode.commands.executeCommand('nixBuilders.probeAll', { uris: [uri.toString()] });
    assert.ok(Array.isArray(reports), 'the command returns the reports');
    assert.deepEqual(reports.map((r) => r.host), ['probe-target', 'closed-port']);
    const [target, closed] = reports;
    assert.equal(closed.reachable, false);
    assert.equal(closed.error?.kind, 'refused', JSON.stringify(closed));
    assert.equal(closed.port, closedPort);
    assert.equal(target.reachable, true, JSON.stringify(target));
    assert.equal(target.hostKeyStatus, 'unknown');
    assert.equal(target.hostKey?.fingerprint, sshd.fingerprint);
    assert.equal(target.nixVersion, undefined, 'no login without a configured host key');
    const report = await waitFor('the report document', reportDocument);
    const text = report.getText();
    const row = (host) => text.split('\n').find((l) => l.startsWith(`| ${host} `));
    assert.ok(row('closed-port'), text);
    assert.match(row('closed-port'), /\| no: refused: /);
    assert.ok(row('closed-port').includes(`127.0.0.2:${closedPort}`), row('closed-port'));
    assert.match(row('probe-target'), /\| yes; host-key-unknown: /);
    assert.ok(row('probe-target').includes(sshd.fingerprint), row('probe-target'));
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document === report), 'the report is shown');
  });

  it('Fetch host key adds the knownHosts entry once confirmed, and missing-host-key goes away', async () => {
    asked.length = 0;
    api.setHostKeyConfirmer((params) => {
      asked.push(params);
      return true;
    });
    await cursorOn(doc, 'probe-target');
    const result = await vscode.commands.executeCommand('nixBuilders.fetchHostKeyAtCursor');
    assert.equal(asked.length, 1);
    assert.equal(result.applied, true, JSON.stringify(result));
    assert.equal(result.hostKey?.fingerprint, sshd.fingerprint);
    // The entry goes where the workspace's configuration keeps programs.ssh.knownHosts
    // (the example module has a knownHosts block), edited in the editor, not saved.
    const edited = vscode.workspace.textDocuments.filter((d) => d.getText().includes(sshd.publicKey));
    assert.equal(edited.length, 1, 'one document got the key');
    const [target] = edited;
    assert.ok(target.isDirty, 'edited in the editor, not saved');
    assert.match(asked[0].editTitle, /knownHosts/);
    const entry = target.getText().slice(0, target.getText().indexOf(sshd.publicKey));
    assert.match(entry, /knownHosts[^]*hostNames = \[[^\]]*"\[127\.0\.0\.1\]:\d+"[^\]]*\];\s*publicKey = "$/, target.getText());
    assert.ok(entry.includes(`[127.0.0.1]:${sshd.port}`), 'the entry names [127.0.0.1]:PORT, what root\'s ssh looks up');
    await waitFor('missing-host-key to go away on probe-target', () => !missingKey(doc, 'probe-target'));
    assert.ok(missingKey(doc, 'closed-port'), 'the other builder (another address) still has its diagnostic');
  });

  it('Probe all builders, with the key known, logs in and reads Nix on the builder', async () => {
    const reports = await vscode.commands.executeCommand('nixBuilders.probeAll', { uris: [uri.toString()] });
    const target = reports.find((r) => r.host === 'probe-target');
    assert.equal(target.reachable, true);
    assert.equal(target.hostKeyStatus, 'matches', JSON.stringify(target));
    assert.equal(target.error, undefined, JSON.stringify(target.error));
    assert.match(target.nixVersion ?? '', /^\d+\.\d+/);
    assert.ok(target.systems?.includes('x86_64-linux'), JSON.stringify(target.systems));
    const report = await waitFor('the report document', reportDocument);
    await waitFor('the report to show the Nix version', () => report.getText().includes(`| ${target.nixVersion} `));
  });

  it('Fill systems and features for the builder under the cursor edits it with what the builder reports', async () => {
    await cursorOn(doc, 'probe-target');
    const result = await vscode.commands.executeCommand('nixBuilders.fillSystemsAndFeaturesAtCursor');
    assert.ok(result, 'the command returns the server result');
    assert.ok(result.systems?.includes('x86_64-linux'), JSON.stringify(result));
    assert.equal(result.applied, true, JSON.stringify(result));
    const builder = doc.getText().slice(doc.offsetAt(rangeOf(doc, '"probe-target"').start), doc.offsetAt(rangeOf(doc, '"closed-port"').start));
    for (const f of result.features) assert.ok(builder.includes(`"${f}"`), `${f} in\n${builder}`);
  });

  it('Probe all builders can be cancelled (the status bar item\'s command) while a builder keeps silent', async () => {
    // A TCP server that accepts and never sends the SSH banner: the probe would wait for its handshake timeout.
    const sockets = new Set();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise((resolve) => silent.listen(0, '127.0.0.3', resolve));
    const silentUri = vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, 'probe-silent.nix');
    fs.writeFileSync(
      silentUri.fsPath,
      `{ ... }:\n{\n  nix.buildMachines = [ { hostName = "127.0.0.3:${silent.address().port}"; system = "x86_64-linux"; sshUser = "root"; sshKey = "${sshd.clientKey}"; } ];\n}\n`,
    );
    try {
      const silentDoc = await vscode.workspace.openTextDocument(silentUri);
      await vscode.window.showTextDocument(silentDoc, { preview: false });
      await waitFor('the silent builder to be analysed', () => diagnostics(silentUri, 'missing-host-key').length > 0);
      const started = Date.now();
      const run = vscode.commands.executeCommand('nixBuilders.probeAll', { uris: [silentUri.toString()] });
      await waitFor('the probe to connect', () => sockets.size > 0, 10_000);
      await vscode.commands.executeCommand('nixBuilders.cancelProbeAllBuilders');
      const result = await run;
      const ms = Date.now() - started;
      assert.ok(ms < 4000, `cancelled at once (${ms} ms), not after the handshake timeout`);
      // Either the server answered with the cancelled reports, or the request ended as cancelled.
      if (result !== undefined) assert.equal(result[0]?.error?.kind, 'cancelled', JSON.stringify(result));
      // A new probe may start once this one has ended.
      assert.equal((await vscode.commands.executeCommand('nixBuilders.probeAll', { uris: [] }))?.length, 0);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      fs.rmSync(silentUri.fsPath, { force: true });
    }
  });

  it('the per-builder commands explain what to do outside a Nix editor', async () => {
    const other = await vscode.workspace.openTextDocument({ language: 'plaintext' });
    await vscode.window.showTextDocument(other);
    assert.equal(await vscode.commands.executeCommand('nixBuilders.fetchHostKeyAtCursor'), undefined);
    assert.equal(await vscode.commands.executeCommand('nixBuilders.fillSystemsAndFeaturesAtCursor'), undefined);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
