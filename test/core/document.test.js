// Incremental parsing: a document edited through NixDocument.applyChanges has
// the same tree and diagnostics as the same text parsed from scratch.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');

const { NixDocument } = loadCore('document');
const { parseNix } = loadCore('parser');
const { analyze } = loadCore('analyze');

const example = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'distributed-builds.nix'), 'utf8');

function codes(text, tree) {
  return analyze([{ path: 'x.nix', text, tree }]).diagnostics.map((d) => `${d.code}@${d.span.start}`);
}

test('range edits update the tree incrementally and match a full parse', () => {
  const doc = new NixDocument('x.nix', example, 1);
  const before = doc.tree;
  // Misspell a system after the Japanese comments, then a feature, then undo the first.
  const line = example.split('\n').findIndex((l) => l.includes('"x86_64-linux"'));
  const col = example.split('\n')[line].indexOf('x86_64');
  doc.applyChanges([{ range: { start: { line, character: col + 3 }, end: { line, character: col + 4 } }, text: '-' }], 2);
  assert.notEqual(doc.tree, before, 'a new tree after the change');
  assert.equal(doc.tree.rootNode.toString(), parseNix(doc.text).rootNode.toString());
  assert.deepEqual(codes(doc.text, doc.tree), codes(doc.text));
  assert.ok(codes(doc.text, doc.tree).some((c) => c.startsWith('unknown-system')));
  doc.applyChanges([{ range: { start: { line, character: col + 3 }, end: { line, character: col + 4 } }, text: '_' }], 3);
  assert.equal(doc.text, example);
  assert.deepEqual(codes(doc.text, doc.tree), []);
  assert.equal(doc.version, 3);
});

test('several changes in one notification apply in order; full replacement resets', () => {
  const doc = new NixDocument('y.nix', '{ a = 1; }', 1);
  void doc.tree;
  doc.applyChanges(
    [
      { range: { start: { line: 0, character: 6 }, end: { line: 0, character: 7 } }, text: '[ 2 ]' },
      { range: { start: { line: 0, character: 2 }, end: { line: 0, character: 3 } }, text: 'bb' },
    ],
    2,
  );
  assert.equal(doc.text, '{ bb = [ 2 ]; }');
  assert.equal(doc.tree.rootNode.toString(), parseNix(doc.text).rootNode.toString());
  doc.applyChanges([{ text: '{ 😀 = "日本"; }' }], 3);
  assert.equal(doc.text, '{ 😀 = "日本"; }');
  assert.equal(doc.tree.rootNode.toString(), parseNix(doc.text).rootNode.toString());
});
