// Activation and languages: the extension wakes up only for Nix and machines
// files, and gives machines files their own language.
'use strict';
const assert = require('node:assert/strict');
const vscode = require('vscode');
const { EXTENSION_ID, open, waitFor } = require('./helpers');

describe('activation and languages', () => {
  it('is installed, and not active before a Nix or machines file is opened', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is loaded`);
    const other = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'not nix' });
    await vscode.window.showTextDocument(other);
    assert.equal(ext.isActive, false, 'a plain-text editor does not activate it');
  });

  it('activates for a .machines file, which gets the nix-machines language', async () => {
    const doc = await open('fleet.machines');
    assert.equal(doc.languageId, 'nix-machines');
    await waitFor('the extension to activate', () => vscode.extensions.getExtension(EXTENSION_ID).isActive);
  });

  it('gives a file named `machines` the nix-machines language and .nix files the nix language', async () => {
    assert.equal((await open('hosts/machines')).languageId, 'nix-machines');
    assert.equal((await open('builders.nix')).languageId, 'nix');
  });

  it('tells the server the workspace is trusted, and passes the settings on', async () => {
    const api = vscode.extensions.getExtension(EXTENSION_ID).exports;
    const status = await waitFor('the server status', () => api.serverStatus().catch(() => undefined));
    assert.equal(status.trusted, true);
    // The test settings turn lookups off (test/e2e/workspace.js).
    await waitFor('lookups off from the settings', async () => (await api.serverStatus()).lookups === 'off');
  });

  it('contributes its commands', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const id of [
      'nixBuilders.restartServer',
      'nixBuilders.showMachines',
      'nixBuilders.copyBuildersArgument',
      'nixBuilders.probeAll',
      'nixBuilders.fetchHostKeyAtCursor',
      'nixBuilders.fillSystemsAndFeaturesAtCursor',
    ]) {
      assert.ok(all.includes(id), id);
    }
    // The server's probe commands (its code actions run them) are registered by the language client.
    for (const id of ['nixBuilders.fetchHostKey', 'nixBuilders.fillSystemsAndFeatures', 'nixBuilders.probeAllBuilders']) {
      assert.ok(all.includes(id), id);
    }
  });
});
