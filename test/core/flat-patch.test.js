// After an incremental parse, the reader patches the previous tree's arrays
// with the one subtree that changed (flat-patch.ts) instead of reading the
// whole tree again. The patched arrays must be exactly what reading the whole
// of the same tree gives: every array, every node, over thousands of random
// edits of every fixture, of the 1 MB corpus, and of bursts of edits read at
// once. (Compared with the tree of the same parse, not of a full parse: on
// broken text, tree-sitter's error recovery can give an incremental parse a
// different tree from a full parse; document.test.js covers well-formed edits.)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { bigConfig } = require('../../scripts/bench/corpus');
const { loadCore } = require('../helpers/load-ts');

const { NixDocument } = loadCore('document');
const { parseNix } = loadCore('parser');

const root = path.resolve(__dirname, '..', '..');
const binding = require(path.join(root, 'build', 'Release', 'tree_sitter_nix_binding.node'));
const ARRAYS = ['symbol', 'field', 'start', 'end', 'next', 'stop', 'flags'];

function prng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function nixFiles(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) nixFiles(p, out);
    else if (e.name.endsWith('.nix')) out.push(p);
  }
  return out;
}

/** The document's arrays (Tree keeps them in `flat`) against a whole read of its native tree (`handle`). */
function assertSameAsWholeRead(doc, label) {
  const patched = doc.tree.flat;
  const full = binding.flatten(doc.tree.handle);
  assert.equal(patched.count, full.count, `${label}: node count`);
  for (const k of ARRAYS) {
    if (Buffer.compare(Buffer.from(patched[k].buffer, patched[k].byteOffset, patched[k].byteLength), Buffer.from(full[k].buffer)) === 0) continue;
    const i = patched[k].findIndex((x, j) => x !== full[k][j]);
    assert.fail(`${label}: ${k}[${i}] is ${patched[k][i]}, a whole read gives ${full[k][i]} (text ${JSON.stringify(doc.text.slice(0, 200))}…)`);
  }
}

// Edits a user makes: a character typed or deleted, tokens pasted, brackets and quotes opened.
const TYPED = ['1', '7', 'x', 'a', ' ', '\n', '-', '.', ';', '=', '"', "''", '{', '}', '[', ']', '(', ')', '${', '# note\n', 'let ', ' in ', '\r\n', '/*', '*/', ''];

/** Applies n random one-range edits to doc, reading the tree after each; returns how many were patched. */
function randomEdits(doc, rnd, n, label, near) {
  let patched = 0;
  for (let i = 0; i < n; i++) {
    const start = near ? Math.min(doc.text.length, near + rnd(2000)) : rnd(doc.text.length + 1);
    const end = Math.min(doc.text.length, start + (rnd(3) === 0 ? rnd(8) : rnd(2)));
    const text = TYPED[rnd(TYPED.length)];
    doc.applyChanges([{ range: doc.lines.range(start, end), text }], doc.version + 1);
    assertSameAsWholeRead(doc, `${label}, edit ${i} (${start}-${end} → ${JSON.stringify(text)})`);
    if (doc.tree.readBy === 'patch') patched++;
  }
  return patched;
}

const fixtures = [...nixFiles(path.join(root, 'test', 'fixtures')), ...nixFiles(path.join(root, 'examples'))];

test('patched arrays equal a whole read over random edits of every fixture', () => {
  const rnd = prng(7);
  let edits = 0;
  let patched = 0;
  for (const f of fixtures) {
    const doc = new NixDocument(f, fs.readFileSync(f, 'utf8'), 1);
    void doc.tree.nodeCount;
    patched += randomEdits(doc, rnd, 40, path.relative(root, f));
    edits += 40;
  }
  assert.ok(edits > 2000, `${edits} edits`);
  // Most edits are patched; the rest (an edit at the file's ends, a chain that moved) are read whole.
  assert.ok(patched > edits * 0.9, `${patched} of ${edits} edits patched`);
});

test('patched arrays equal a whole read over random edits of the 1 MB corpus', () => {
  const rnd = prng(9);
  const big = bigConfig({ seed: 4 });
  const doc = new NixDocument('/big.nix', big.text, 1);
  void doc.tree.nodeCount;
  const middle = Math.floor(big.text.length / 2);
  const patched = randomEdits(doc, rnd, 60, 'bigConfig', middle);
  // Some broken texts recover into trees ~900 subtrees deep, which are read whole (MAX_PATCH_DEPTH).
  assert.ok(patched >= 35, `${patched} of 60 edits patched`);
});

test('a one-digit edit in the 1 MB corpus re-reads one node, not the tree', () => {
  const big = bigConfig({ seed: 4 });
  const doc = new NixDocument('/big.nix', big.text, 1);
  void doc.tree.nodeCount;
  const at = big.text.indexOf('maxJobs = ', big.text.length / 2) + 'maxJobs = '.length;
  doc.applyChanges([{ range: doc.lines.range(at, at + 1), text: '9' }], 2);
  assertSameAsWholeRead(doc, 'digit');
  assert.equal(doc.tree.readBy, 'patch');
  // And here the incremental parse is the full parse's tree too.
  const full = parseNix(doc.text);
  assert.equal(doc.tree.toString(), full.toString());
  full.release();
});

test('a burst of edits before any read is patched edit by edit, and still equals a whole read', () => {
  const rnd = prng(13);
  const text = fs.readFileSync(path.join(root, 'examples', 'distributed-builds.nix'), 'utf8');
  for (let round = 0; round < 30; round++) {
    const doc = new NixDocument('/burst.nix', text, 1);
    void doc.tree.nodeCount;
    for (let i = 0; i < 8; i++) {
      const start = rnd(doc.text.length + 1);
      doc.applyChanges([{ range: doc.lines.range(start, Math.min(doc.text.length, start + rnd(3))), text: TYPED[rnd(TYPED.length)] }], doc.version + 1);
    }
    assertSameAsWholeRead(doc, `burst ${round}`);
  }
});

test('several changes in one notification, and an unread tree, are read whole', () => {
  const doc = new NixDocument('/m.nix', '{ a = 1; b = 2; }', 1);
  void doc.tree.nodeCount;
  doc.applyChanges(
    [
      { range: doc.lines.range(6, 7), text: '3' },
      { range: doc.lines.range(13, 14), text: '4' },
    ],
    2,
  );
  assertSameAsWholeRead(doc, 'two changes');
  assert.equal(doc.tree.readBy, 'whole');
  const unread = new NixDocument('/u.nix', '{ a = 1; }', 1);
  unread.applyChanges([{ range: unread.lines.range(6, 7), text: '2' }], 2);
  assertSameAsWholeRead(unread, 'never read');
  assert.equal(unread.tree.readBy, 'whole');
});

test('an edit deep inside 100,000 nested parentheses is read whole, without tree-sitter changedRanges (quadratic in depth)', () => {
  const n = 100_000;
  const text = `{ nix.buildMachines = ${'('.repeat(n)}[ { hostName = "p"; } ]${')'.repeat(n)}; }`;
  const doc = new NixDocument('/deep.nix', text, 1);
  void doc.tree.nodeCount;
  const mid = Math.floor(text.length / 2);
  const t0 = performance.now();
  doc.applyChanges([{ range: doc.lines.range(mid, mid), text: ' ]} x ' }], 2);
  assertSameAsWholeRead(doc, 'deep');
  // changedRanges here would take hours; the whole read takes well under a second.
  assert.ok(performance.now() - t0 < 20_000, `${Math.round(performance.now() - t0)} ms`);
  assert.equal(doc.tree.readBy, 'whole');
  // A shallow document still patches.
  const shallow = new NixDocument('/s.nix', '{ a = [ 1 2 3 ]; }', 1);
  void shallow.tree.nodeCount;
  shallow.applyChanges([{ range: shallow.lines.range(9, 10), text: '5' }], 2);
  assertSameAsWholeRead(shallow, 'shallow');
  assert.equal(shallow.tree.readBy, 'patch');
});
