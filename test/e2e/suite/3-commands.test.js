// The commands: show the machines text (read-only, follows saves), copy a
// --builders argument, restart the server.
'use strict';
const assert = require('node:assert/strict');
const vscode = require('vscode');
const { open, waitFor, sleep, diagnostics, rangeOf } = require('./helpers');

// What `nix-builders machines examples/distributed-builds.nix` prints (README).
const EXAMPLE_LINES = [
  'ssh://ryan@aquamarine x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 3 1 benchmark,big-parallel,kvm - -',
  'ssh://ryan@ruby x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
  'ssh://ryan@kana x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
];

function machinesDocument() {
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'nix-builders-machines');
}

describe('commands', () => {
  it('shows the /etc/nix/machines text of the example in a machines editor', async () => {
    await open('distributed-builds.nix');
    const uri = await vscode.commands.executeCommand('nixBuilders.showMachines');
    assert.ok(uri, 'the command returns the document it opened');
    const doc = await waitFor('the machines document', machinesDocument);
    assert.equal(doc.uri.toString(), uri.toString());
    assert.equal(doc.languageId, 'nix-machines');
    const lines = doc.getText().split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(lines, EXAMPLE_LINES);
    assert.ok(
      vscode.window.visibleTextEditors.some((e) => e.document === doc),
      'it is shown',
    );
  });

  it('updates the machines text when the Nix file is saved', async () => {
    const src = await open('distributed-builds.nix');
    const doc = await waitFor('the machines document', machinesDocument);
    const change = async (from, to) => {
      const edit = new vscode.WorkspaceEdit();
      edit.replace(src.uri, rangeOf(src, from), to);
      assert.equal(await vscode.workspace.applyEdit(edit), true);
      assert.equal(await src.save(), true);
    };
    await change('maxJobs = 3;', 'maxJobs = 7;');
    await waitFor('the machines text to follow the save', () => doc.getText().includes('/home/ryan/.ssh/ai-idols 7 1 '));
    await change('maxJobs = 7;', 'maxJobs = 3;');
    await waitFor('the machines text to return', () => doc.getText().includes('/home/ryan/.ssh/ai-idols 3 1 '));
  });

  it('copies a --builders argument for the picked builders', async () => {
    await open('distributed-builds.nix');
    let settled = false;
    const result = vscode.commands.executeCommand('nixBuilders.copyBuildersArgument').finally(() => {
      settled = true;
    });
    // All builders are picked in advance; accept the list as it is once it shows.
    for (let i = 0; i < 100 && !settled; i++) {
      await sleep(200);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    const text = await result;
    const expected = `--builders '${EXAMPLE_LINES.join(' ; ')}'`;
    assert.equal(text, expected);
    assert.equal(await vscode.env.clipboard.readText(), expected);
  });

  it('restarts the language server, which checks the open documents again', async () => {
    const doc = await open('builders.nix');
    await waitFor('unknown-system before the restart', () => diagnostics(doc.uri, 'unknown-system').length === 1);
    await vscode.commands.executeCommand('nixBuilders.restartServer');
    await waitFor('unknown-system after the restart', () => diagnostics(doc.uri, 'unknown-system').length === 1);
    // The new server follows edits.
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, rangeOf(doc, '"aarch64-linux"'), '"aarch64-linus"');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    await waitFor('a second unknown-system', () => diagnostics(doc.uri, 'unknown-system').length === 2);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });
});
