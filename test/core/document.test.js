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
const { LineIndex } = loadCore('span');

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
  assert.equal(doc.tree.toString(), parseNix(doc.text).toString());
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
  assert.equal(doc.tree.toString(), parseNix(doc.text).toString());
  doc.applyChanges([{ text: '{ 😀 = "日本"; }' }], 3);
  assert.equal(doc.text, '{ 😀 = "日本"; }');
  assert.equal(doc.tree.toString(), parseNix(doc.text).toString());
});

// A small seeded PRNG, so a failure reproduces.
function prng(seed) {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
}

test('an edited line index equals one built from scratch (random edits with \\n, \\r\\n and lone \\r)', () => {
  const rnd = prng(7);
  const alphabet = ['a', 'b', ' ', '\n', '\r', '\r\n', '日', '😀'];
  const piece = () => Array.from({ length: rnd(5) }, () => alphabet[rnd(alphabet.length)]).join('');
  let text = 'x\r\ny\rz\n';
  let index = new LineIndex(text);
  for (let i = 0; i < 3000; i++) {
    const start = rnd(text.length + 1);
    const end = start + rnd(Math.min(4, text.length - start) + 1);
    const inserted = piece();
    const next = text.slice(0, start) + inserted + text.slice(end);
    index = index.edited(next, start, end, inserted);
    text = next;
    const fresh = new LineIndex(text);
    assert.equal(index.lineCount, fresh.lineCount, `edit ${i}: ${JSON.stringify(text)}`);
    for (let o = 0; o <= text.length; o++) assert.deepEqual(index.position(o), fresh.position(o), `edit ${i}, offset ${o}`);
  }
});

test('incremental parses give the tree a full parse gives, node for node (random edits of the example)', () => {
  const rnd = prng(11);
  const fs = require('node:fs');
  const path = require('node:path');
  const example = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'distributed-builds.nix'), 'utf8');
  const doc = new NixDocument('e.nix', example, 1);
  const tokens = ['{', '}', '[', ']', ';', ' = ', '"', "''", 'x', '1', '\n', '# c\n', '${', 'let ', ' in ', '\r', '# d\r', '\r\n'];
  for (let i = 0; i < 200; i++) {
    const lines = doc.lines;
    const start = rnd(doc.text.length + 1);
    const end = Math.min(doc.text.length, start + rnd(6));
    doc.applyChanges([{ range: lines.range(start, end), text: tokens[rnd(tokens.length)] }], i + 2);
    const full = parseNix(doc.text);
    assert.equal(doc.tree.toString(), full.toString(), `edit ${i}`);
    assert.equal(doc.tree.nodeCount, full.nodeCount);
    for (let n = 0; n < full.nodeCount; n++) {
      assert.equal(doc.tree.start(n), full.start(n));
      assert.equal(doc.tree.end(n), full.end(n));
    }
  }
});

test('a lone \\r that an edit turns into \\r\\n (or back) re-reads the line it ends', () => {
  for (const [text, at, inserted] of [
    ['# c\rx', 4, '\n'],
    ['{ a = 1; # c\rb = 2; }', 13, '\n'],
    ['# c\r\nx', 4, ''],
  ]) {
    const doc = new NixDocument('r.nix', text, 1);
    void doc.tree;
    const lines = doc.lines;
    const end = inserted === '' ? at + 1 : at;
    doc.applyChanges([{ range: lines.range(at, end), text: inserted }], 2);
    assert.equal(doc.tree.toString(), parseNix(doc.text).toString(), JSON.stringify(doc.text));
    for (let n = 0; n < doc.tree.nodeCount; n++) assert.equal(doc.tree.end(n), parseNix(doc.text).end(n), `${JSON.stringify(doc.text)} node ${n}`);
  }
});

test('a reversed range means the same stretch; a released or non-Nix tree is parsed afresh', () => {
  const doc = new NixDocument('v.nix', 'a\nb\nc\nd\n', 1);
  void doc.tree;
  doc.applyChanges([{ range: { start: { line: 3, character: 0 }, end: { line: 1, character: 0 } }, text: '' }], 2);
  assert.equal(doc.text, 'a\nd\n');
  assert.equal(doc.lines.lineCount, new LineIndex(doc.text).lineCount);
  assert.equal(doc.tree.toString(), parseNix(doc.text).toString());

  doc.tree.release();
  doc.applyChanges([{ range: doc.lines.range(0, 1), text: 'x' }], 3);
  assert.equal(doc.tree.toString(), parseNix('x\nd\n').toString(), 'a released tree is not parsed from');

  const machines = new NixDocument('machines', 'ssh://a x86_64-linux\n', 1, false);
  void machines.tree;
  machines.applyChanges([{ range: machines.lines.range(6, 7), text: 'b' }], 2);
  assert.equal(machines.tree.text, 'ssh://b x86_64-linux\n', 'no stale tree');
  machines.dispose();
  assert.equal(machines.text, 'ssh://b x86_64-linux\n');
});
