// The language server through VS Code's own APIs: diagnostics (codes and
// ranges), quick fixes applied as edits, completion (systems, features,
// attribute names, snippets) and hover.
'use strict';
const assert = require('node:assert/strict');
const vscode = require('vscode');
const { open, waitFor, diagnostics, codeOf, rangeOf, showRange, revert, hoverText, labelOf } = require('./helpers');

describe('diagnostics', () => {
  it('reports a misspelt system and a misspelt feature with their codes and ranges', async () => {
    const doc = await open('builders.nix');
    const system = await waitFor('unknown-system on builders.nix', () => diagnostics(doc.uri, 'unknown-system')[0]);
    assert.equal(showRange(system.range), showRange(rangeOf(doc, '"x86_64-linx"')));
    assert.equal(system.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(system.message, /Did you mean "x86_64-linux"\?/);
    const feature = await waitFor('unknown-feature on builders.nix', () => diagnostics(doc.uri, 'unknown-feature')[0]);
    assert.equal(showRange(feature.range), showRange(rangeOf(doc, '"big-paralel"')));
  });

  it('reports a machines-file error on the field Nix rejects', async () => {
    const doc = await open('fleet.machines');
    const d = await waitFor('machines-syntax on fleet.machines', () => diagnostics(doc.uri, 'machines-syntax')[0]);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(showRange(d.range), showRange(rangeOf(doc, '-1')));
  });

  it('leaves the example module clean', async () => {
    const example = await open('distributed-builds.nix');
    // The server checks all open documents in one pass. Shift builders.nix down a
    // line: once its warning moves, a pass with the example open has finished.
    const builders = await open('builders.nix');
    const before = (await waitFor('unknown-system', () => diagnostics(builders.uri, 'unknown-system')[0])).range.start.line;
    const edit = new vscode.WorkspaceEdit();
    edit.insert(builders.uri, new vscode.Position(0, 0), '\n');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    await waitFor('the warning to move', () => diagnostics(builders.uri, 'unknown-system')[0]?.range.start.line === before + 1);
    assert.deepEqual(diagnostics(example.uri).map((d) => `${codeOf(d)} ${showRange(d.range)}`), []);
    await revert(builders);
    await waitFor('the warning to move back', () => diagnostics(builders.uri, 'unknown-system')[0]?.range.start.line === before);
  });
});

describe('quick fixes', () => {
  /** Applies the quick fix titled with `title` for the `code` diagnostic on `text` (up to date: its range holds `text`). */
  async function applyFix(doc, code, text, title) {
    const d = await waitFor(`${code} on ${text}`, () => diagnostics(doc.uri, code).find((x) => doc.getText(x.range) === text));
    const actions = await vscode.commands.executeCommand(
      'vscode.executeCodeActionProvider',
      doc.uri,
      d.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const titles = actions.map((a) => a.title);
    const fix = actions.find((a) => a.title.includes(title));
    assert.ok(fix, `a quick fix mentioning ${title} among ${JSON.stringify(titles)}`);
    assert.ok(fix.edit, 'the fix carries an edit');
    assert.equal(await vscode.workspace.applyEdit(fix.edit), true);
  }

  it('replaces a misspelt system with the suggestion, and the warning goes away', async () => {
    const doc = await open('builders.nix');
    await applyFix(doc, 'unknown-system', '"x86_64-linx"', 'x86_64-linux');
    assert.equal(doc.lineAt(rangeOf(doc, 'systems =').start.line).text.trim(), 'systems = [ "x86_64-linux" "aarch64-linux" ];');
    await waitFor('unknown-system to disappear', () => diagnostics(doc.uri, 'unknown-system').length === 0);
    assert.equal(diagnostics(doc.uri, 'unknown-feature').length, 1, 'the other warning stays');
    await revert(doc);
  });

  it('replaces a misspelt feature with the suggestion', async () => {
    const doc = await open('builders.nix');
    await applyFix(doc, 'unknown-feature', '"big-paralel"', 'big-parallel');
    assert.ok(doc.getText().includes('supportedFeatures = [ "big-parallel" "kvm" ];'), doc.getText());
    await waitFor('unknown-feature to disappear', () => diagnostics(doc.uri, 'unknown-feature').length === 0);
    await revert(doc);
    await waitFor('unknown-feature after the revert', () => diagnostics(doc.uri, 'unknown-feature').length === 1);
  });
});

describe('completion', () => {
  async function labelsAt(doc, position) {
    const list = await vscode.commands.executeCommand('vscode.executeCompletionItemProvider', doc.uri, position);
    return list.items;
  }

  /** The position just after `before` (the n-th occurrence). */
  function after(doc, before, n = 0) {
    return rangeOf(doc, before, n).end;
  }

  it('offers known systems inside systems = [ "…" ]', async () => {
    const doc = await open('completion.nix');
    const items = await waitFor('system completions', async () => {
      const got = await labelsAt(doc, after(doc, 'systems = [ "'));
      return got.length > 0 && got;
    });
    const labels = items.map(labelOf);
    for (const s of ['x86_64-linux', 'aarch64-linux', 'aarch64-darwin']) assert.ok(labels.includes(s), `${s} in ${labels.slice(0, 20)}`);
    assert.ok(!labels.includes('big-parallel'), 'no features among systems');
  });

  it('offers system features inside supportedFeatures', async () => {
    const doc = await open('completion.nix');
    const labels = (await labelsAt(doc, after(doc, 'supportedFeatures = [ "'))).map(labelOf);
    for (const f of ['big-parallel', 'kvm', 'nixos-test', 'benchmark']) assert.ok(labels.includes(f), `${f} in ${labels.slice(0, 20)}`);
  });

  it('offers the builder options not yet set where an attribute name goes', async () => {
    const doc = await open('completion.nix');
    const blank = rangeOf(doc, 'supportedFeatures').start.line + 1;
    assert.equal(doc.lineAt(blank).text.trim(), '');
    const items = await labelsAt(doc, new vscode.Position(blank, 6));
    const labels = items.map(labelOf);
    for (const o of ['protocol', 'sshUser', 'maxJobs', 'speedFactor']) assert.ok(labels.includes(o), `${o} in ${labels}`);
    assert.ok(!labels.includes('hostName'), 'hostName is already set');
  });

  it('offers the snippets, and the builder snippet inserts a complete entry', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'nix', content: '{\n  nix.buildMachines = [\n    buildM\n  ];\n}\n' });
    const editor = await vscode.window.showTextDocument(doc);
    const items = await labelsAt(doc, new vscode.Position(2, 10));
    const snippet = items.find((i) => labelOf(i) === 'buildMachine');
    assert.ok(snippet, `the buildMachine snippet among ${items.map(labelOf)}`);
    assert.equal(snippet.kind, vscode.CompletionItemKind.Snippet);
    editor.selection = new vscode.Selection(2, 4, 2, 10);
    await vscode.commands.executeCommand('editor.action.insertSnippet', { langId: 'nix', name: 'Remote builder (nix.buildMachines entry)' });
    const text = doc.getText();
    for (const part of ['hostName = "builder.example.org";', 'protocol = "ssh-ng";', 'systems = [ "x86_64-linux" ];', 'maxJobs = 4;']) {
      assert.ok(text.includes(part), `${part} in\n${text}`);
    }
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});

describe('hover', () => {
  it('shows the documentation, type and default of a builder option', async () => {
    const doc = await open('builders.nix');
    const hovers = await waitFor('a hover on maxJobs', async () => {
      const h = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, rangeOf(doc, 'maxJobs').start.translate(0, 2));
      return h.length > 0 && h;
    });
    const text = hoverText(hovers);
    assert.match(text, /\*\*maxJobs\*\*/);
    assert.match(text, /default/);
    assert.match(text, /nix\.buildMachines/);
  });

  it('shows what a value was read as (through let and inherit)', async () => {
    const doc = await open('distributed-builds.nix');
    const at = rangeOf(doc, 'inherit sshUser').start.translate(0, 'inherit s'.length);
    const text = hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, at));
    assert.match(text, /sshUser = "ryan";/);
  });

  it('shows the ssh host chain on a hostName (when the server offers it)', async function () {
    const doc = await open('distributed-builds.nix');
    const at = rangeOf(doc, '"aquamarine"').start.translate(0, 3);
    const text = hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, at));
    assert.match(text, /aquamarine/);
    // The Host block in programs.ssh.extraConfig maps aquamarine to 192.168.5.101.
    if (!text.includes('192.168.5.101')) this.skip();
    assert.match(text, /192\.168\.5\.101/);
  });
});
