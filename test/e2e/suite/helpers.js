// Small helpers for the e2e suite: open fixture files, wait for the server's
// answers, find text positions.
'use strict';
const assert = require('node:assert/strict');
const vscode = require('vscode');

const EXTENSION_ID = 'nix-builders.nix-builders';

function workspaceUri(name) {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the window has a workspace folder');
  return vscode.Uri.joinPath(folder.uri, ...name.split('/'));
}

async function open(name) {
  const doc = await vscode.workspace.openTextDocument(workspaceUri(name));
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

/** Polls `fn` until it returns something truthy; fails with `what` after `ms`. */
async function waitFor(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function codeOf(d) {
  return typeof d.code === 'object' && d.code !== null ? String(d.code.value) : String(d.code);
}

function diagnostics(uri, code) {
  return vscode.languages.getDiagnostics(uri).filter((d) => code === undefined || codeOf(d) === code);
}

/** The range of the n-th occurrence of `text` in the document. */
function rangeOf(doc, text, n = 0) {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = doc.getText().indexOf(text, at + 1);
    assert.ok(at >= 0, `"${text}" (#${n}) in ${doc.uri.path}`);
  }
  return new vscode.Range(doc.positionAt(at), doc.positionAt(at + text.length));
}

function showRange(r) {
  return `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
}

/** Reverts the document to its saved text (the fixtures are never saved by the tests, except on purpose). */
async function revert(doc) {
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('workbench.action.files.revert');
  assert.equal(doc.isDirty, false);
}

function hoverText(hovers) {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

function labelOf(item) {
  return typeof item.label === 'string' ? item.label : item.label.label;
}

module.exports = { EXTENSION_ID, workspaceUri, open, waitFor, sleep, codeOf, diagnostics, rangeOf, showRange, revert, hoverText, labelOf };
