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
const { prng } = require('../helpers/prng');
const { fixtureNixFiles } = require('../helpers/nix-files');

const { NixDocument } = loadCore('document');
const { parseNix } = loadCore('parser');

const root = path.resolve(__dirname, '..', '..');
const binding = require(path.join(root, 'build', 'Release', 'tree_sitter_nix_binding.node'));
const ARRAYS = ['symbol', 'field', 'start', 'end', 'next', 'stop', 'flags'];


/**
 * The document's arrays (Tree keeps them in `flat`) against a whole read of its native tree (`handle`).
 * A lexical tree (lexical-edit.test.js) has no parse of its own: its native tree is the previous one
 * with the edit applied, not parsed; it is compared with a full parse of its text instead.
 */
function assertSameAsWholeRead(doc, label) {
  const patched = doc.tree.flat;
  const full = doc.tree.readBy === 'lexical' ? parseNix(doc.text).detached().flat : binding.flatten(doc.tree.handle);
  assert.equal(patched.count, full.count, `${label}: node count`);
  for (const k of ARRAYS) {
    if (Buffer.compare(Buffer.from(patched[k].buffer, patched[k].byteOffset, patched[k].byteLength), Buffer.from(full[k].buffer)) === 0) continue;
    const i = patched[k].findIndex((x, j) => x !== full[k][j]);
    assert.fail(`${label}: ${k}[${i}] is ${patched[k][i]}, a whole read gives ${full[k][i]} (text ${JSON.stringify(doc.text.slice(0, 200))}…)`);
  }
}

// Edits a user makes: a character typed or deleted, tokens pasted, brackets and quotes opened.
const TYPED = ['1', '7', 'x', 'a', ' ', '\n', '-', '.', ';', '=', '"', "''", '{', '}', '[', ']', '(', ')', '${', '# note\n', 'let ', ' in ', '\r\n', '/*', '*/', ''];

/** Applies n random one-range edits to doc, reading the tree after each and checking it. */
function randomEdits(doc, rnd, n, label, near) {
  for (let i = 0; i < n; i++) {
    const start = near ? Math.min(doc.text.length, near + rnd(2000)) : rnd(doc.text.length + 1);
    const end = Math.min(doc.text.length, start + (rnd(3) === 0 ? rnd(8) : rnd(2)));
    const text = TYPED[rnd(TYPED.length)];
    doc.applyChanges([{ range: doc.lines.range(start, end), text }], doc.version + 1);
    assertSameAsWholeRead(doc, `${label}, edit ${i} (${start}-${end} → ${JSON.stringify(text)})`);
  }
}

/**
 * Typing that keeps the text well-formed: a letter or digit typed into, or
 * deleted from, a string or a number, or a space typed after a `;`. Returns how
 * many reads were patched, or made without a parse (lexical-edit.ts); they all
 * should be: trees with errors are read whole.
 */
function typing(doc, rnd, n, label) {
  let patched = 0;
  for (let i = 0; i < n; i++) {
    const text = doc.text;
    const spots = [];
    for (const m of text.matchAll(/"[a-z0-9_.-]+"|\b[0-9]+\b(?![.:])|; /g)) spots.push(m);
    const m = spots[rnd(spots.length)];
    let start;
    let end;
    let typed;
    if (m[0] === '; ') {
      start = end = m.index + 1;
      typed = ' ';
    } else {
      const inner = m[0].startsWith('"') ? m.index + 1 : m.index;
      const len = m[0].startsWith('"') ? m[0].length - 2 : m[0].length;
      start = inner + rnd(len + 1);
      const del = len > 1 && rnd(3) === 0 && start < inner + len;
      end = del ? start + 1 : start;
      typed = del ? '' : m[0].startsWith('"') ? 'abcxyz019'[rnd(9)] : String(1 + rnd(9));
    }
    doc.applyChanges([{ range: doc.lines.range(start, end), text: typed }], doc.version + 1);
    assertSameAsWholeRead(doc, `${label}, keystroke ${i}`);
    assert.equal(doc.tree.hasError(0), false, `${label}, keystroke ${i} keeps the text well-formed`);
    if (doc.tree.readBy === 'patch' || doc.tree.readBy === 'lexical') patched++;
  }
  return patched;
}

const fixtures = fixtureNixFiles();

test('patched arrays equal a whole read over random edits of every fixture (broken ones too)', () => {
  const rnd = prng(7);
  for (const f of fixtures) {
    const doc = new NixDocument(f, fs.readFileSync(f, 'utf8'), 1);
    void doc.tree.nodeCount;
    randomEdits(doc, rnd, 40, path.relative(root, f));
  }
});

test('typing into the strings and numbers of well-formed fixtures is patched, and equals a whole read', () => {
  const rnd = prng(3);
  let keystrokes = 0;
  let patched = 0;
  for (const f of fixtures) {
    const text = fs.readFileSync(f, 'utf8');
    const doc = new NixDocument(f, text, 1);
    if (doc.tree.hasError(0) || !/"[a-z0-9_.-]+"/.test(text)) continue;
    patched += typing(doc, rnd, 20, path.relative(root, f));
    keystrokes += 20;
  }
  assert.ok(keystrokes > 1000, `${keystrokes} keystrokes`);
  assert.ok(patched > keystrokes * 0.95, `${patched} of ${keystrokes} keystrokes patched`);
});

test('patched arrays equal a whole read over edits of the 1 MB corpus', () => {
  const rnd = prng(9);
  const big = bigConfig({ seed: 4 });
  const doc = new NixDocument('/big.nix', big.text, 1);
  void doc.tree.nodeCount;
  assert.equal(typing(doc, rnd, 30, 'bigConfig typing'), 30);
  randomEdits(doc, rnd, 30, 'bigConfig', Math.floor(big.text.length / 2));
});

test('a zero-width MISSING node that appears or goes outside the changed ranges: read whole, not patched wrong', () => {
  // Found by review: changedRanges never reports an empty range.
  for (const [text, s, e, typed] of [
    ['.', 1, 1, "'"],
    [". '", 0, 0, '\\'],
    ['#\n.', 3, 3, "'"],
    ['x = .', 5, 5, "'"],
  ]) {
    const doc = new NixDocument('/z.nix', text, 1);
    void doc.tree.nodeCount;
    doc.applyChanges([{ range: doc.lines.range(s, e), text: typed }], 2);
    assertSameAsWholeRead(doc, JSON.stringify(doc.text));
    assert.equal(doc.tree.readBy, 'whole');
  }
});

test('a one-token edit in the 1 MB corpus re-reads one node, not the tree', () => {
  const big = bigConfig({ seed: 4 });
  const doc = new NixDocument('/big.nix', big.text, 1);
  void doc.tree.nodeCount;
  const at = big.text.indexOf('maxJobs = ', big.text.length / 2) + 'maxJobs = '.length;
  // (A digit for a digit is a lexical edit now, made without a parse: a parenthesised number is not.)
  doc.applyChanges([{ range: doc.lines.range(at, at + 1), text: '(9)' }], 2);
  assertSameAsWholeRead(doc, 'digit');
  assert.equal(doc.tree.readBy, 'patch');
  // And here the incremental parse is the full parse's tree too.
  const full = parseNix(doc.text);
  assert.equal(doc.tree.toString(), full.toString());
  full.release();
});

test('a burst of edits before any read still equals a whole read', () => {
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

test('several changes in one notification are patched as one edit; a tree never read is read whole', () => {
  const doc = new NixDocument('/m.nix', '{ a = 1; b = 2; c = 3; }', 1);
  void doc.tree.nodeCount;
  doc.applyChanges(
    [
      { range: doc.lines.range(6, 7), text: '30' },
      { range: doc.lines.range(14, 15), text: '4' },
    ],
    2,
  );
  assert.equal(doc.text, '{ a = 30; b = 4; c = 3; }');
  assertSameAsWholeRead(doc, 'two changes');
  assert.equal(doc.tree.readBy, 'patch');
  const unread = new NixDocument('/u.nix', '{ a = 1; }', 1);
  unread.applyChanges([{ range: unread.lines.range(6, 7), text: '2' }], 2);
  assertSameAsWholeRead(unread, 'never read');
  assert.equal(unread.tree.readBy, 'whole');
});

test('composed edits describe the same change: what is before and after them is kept', () => {
  const { composeEdits } = loadCore('flat-patch');
  const rnd = prng(21);
  for (let i = 0; i < 20_000; i++) {
    const original = 'abcdefghijklmnopqrstuvwxyz'.slice(0, 1 + rnd(26));
    let text = original;
    let composed;
    for (let k = 0, n = 1 + rnd(4); k < n; k++) {
      const start = rnd(text.length + 1);
      const end = start + rnd(text.length - start + 1);
      const typed = '0123456789'.slice(0, rnd(4));
      const edit = { startIndex: start, oldEndIndex: end, newEndIndex: start + typed.length };
      text = text.slice(0, start) + typed + text.slice(end);
      composed = composed ? composeEdits(composed, edit) : edit;
    }
    const { startIndex: s, oldEndIndex: oe, newEndIndex: ne } = composed;
    const label = `${original} → ${text}: ${JSON.stringify(composed)}`;
    assert.ok(s <= oe && s <= ne && oe <= original.length && ne <= text.length, label);
    assert.equal(text.slice(0, s), original.slice(0, s), label);
    assert.equal(text.slice(ne), original.slice(oe), label);
  }
});

test('a burst of typing before any read is patched once, from the arrays read before it', () => {
  const big = bigConfig({ seed: 4 });
  const doc = new NixDocument('/big.nix', big.text, 1);
  void doc.tree.nodeCount;
  let at = big.text.indexOf('hostName = "', big.text.length / 2) + 'hostName = "'.length;
  for (let round = 0; round < 5; round++) {
    // The first keystroke is one the lexical fast path refuses (`$`, valid in a string); the
    // others follow a tree nobody read, which it never starts from.
    for (const ch of '$bc') {
      doc.applyChanges([{ range: doc.lines.range(at, at), text: ch }], doc.version + 1);
      at++;
    }
    assertSameAsWholeRead(doc, `burst ${round}`);
    assert.equal(doc.tree.readBy, 'patch');
  }
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

test('an edit early in a 100,000-element list is read whole (changedRanges would cost more), one near its end is patched', () => {
  const text = `{ x = [ ${Array.from({ length: 100_000 }, (_, i) => String(i % 1000)).join(' ')} ]; }`;
  const doc = new NixDocument('/wide.nix', text, 1);
  void doc.tree.nodeCount;
  const mid = text.indexOf(' ', text.length / 2) + 1;
  // (A new element: a digit for a digit would be a lexical edit, without a parse.)
  doc.applyChanges([{ range: doc.lines.range(mid, mid), text: '7 ' }], 2);
  assertSameAsWholeRead(doc, 'middle');
  assert.equal(doc.tree.readBy, 'whole');
  const nearEnd = doc.text.lastIndexOf(' 9') + 1;
  doc.applyChanges([{ range: doc.lines.range(nearEnd, nearEnd), text: '8 ' }], 3);
  assertSameAsWholeRead(doc, 'near the end');
  assert.equal(doc.tree.readBy, 'patch');
});
