// The lexical fast path (lexical-edit.ts, Tree.lexicalEdit): a keystroke
// inside a string fragment or an integer literal that keeps it one token makes
// the new tree from the previous arrays, moved, without tree-sitter. Whatever
// path an edit takes, the document's arrays must be exactly those of a full
// parse of its text: every array, every node, after every edit of random runs
// over every fixture, mixed with structural edits, and on the 1 MB corpus.
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
const ARRAYS = ['symbol', 'field', 'start', 'end', 'next', 'stop', 'flags'];


/** The document's arrays (Tree keeps them in `flat`) against those of a full parse of its text. */
function assertSameAsFullParse(doc, label) {
  const mine = doc.tree.flat;
  const full = parseNix(doc.text);
  const theirs = full.flat;
  full.release();
  assert.equal(mine.count, theirs.count, `${label}: node count (${doc.tree.readBy})`);
  // (Not `depth`: a bound of the hidden nesting for flat-patch's cost estimate, which differs
  // between incremental and full parses, patched or not.)
  for (const k of ARRAYS) {
    const a = mine[k];
    const b = theirs[k];
    if (Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0) continue;
    const i = a.findIndex((x, j) => x !== b[j]);
    assert.fail(`${label}: ${k}[${i}] is ${a[i]}, a full parse gives ${b[i]} (read by ${doc.tree.readBy}; text ${JSON.stringify(doc.text.slice(0, 300))}…)`);
  }
}

/** Replaces [start, end) of the document's text with `text`, through an LSP change. */
function edit(doc, start, end, text) {
  const previous = doc.tree;
  doc.applyChanges([{ range: doc.lines.range(start, end), text }], doc.version + 1);
  return previous;
}

/** The string fragments and integer literals of the document's tree. */
function leaves(tree) {
  const out = [];
  for (let n = 0; n < tree.nodeCount; n++) {
    const type = tree.type(n);
    if (type === 'string_fragment' || type === 'integer_expression') out.push(n);
  }
  return out;
}

// What random keystrokes type: mostly characters the fast path accepts, some it must refuse.
const SAFE_FRAGMENT = 'abcxyzAZ019 -_.:/@+=,%~#!?*()[]<>;|&^';
const UNSAFE_FRAGMENT = ['"', '$', '{', '}', "'", '\\', '\n', '\t', '\r', 'é', '${', "''", '\\n'];
const DIGITS = '0123456789';
const UNSAFE_INTEGER = ['a', 'e', '.', '_', '-', ' ', '"', "'", '/'];
const SAFE_RE = /^[A-Za-z0-9 \-_.:/@+=,%~#!?*()[\]<>;|&^]*$/;

/**
 * One random edit inside a string fragment or an integer of the document:
 * an insertion, deletion or replacement of 1–3 characters. Returns whether
 * it used only characters the fast path accepts for that kind of leaf.
 */
function randomLexicalEdit(doc, rnd) {
  const tree = doc.tree;
  const spots = leaves(tree);
  if (spots.length === 0) return undefined;
  const leaf = spots[rnd(spots.length)];
  const isInt = tree.type(leaf) === 'integer_expression';
  const s = tree.start(leaf);
  const e = tree.end(leaf);
  const start = s + rnd(e - s + 1);
  const kind = rnd(3); // 0 insert, 1 delete, 2 replace
  const end = kind === 0 ? start : Math.min(e, start + 1 + rnd(3));
  let typed = '';
  const unsafe = rnd(6) === 0;
  if (kind !== 1) {
    for (let k = 1 + rnd(3); k > 0; k--) {
      if (unsafe && k === 1) typed += isInt ? UNSAFE_INTEGER[rnd(UNSAFE_INTEGER.length)] : UNSAFE_FRAGMENT[rnd(UNSAFE_FRAGMENT.length)];
      else typed += isInt ? DIGITS[rnd(10)] : SAFE_FRAGMENT[rnd(SAFE_FRAGMENT.length)];
    }
  }
  const removed = doc.text.slice(start, end);
  const safe = isInt ? /^[0-9]*$/.test(removed + typed) : SAFE_RE.test(removed + typed);
  const label = `${tree.type(leaf)} ${s}-${e}: ${start}-${end} ${JSON.stringify(removed)} → ${JSON.stringify(typed)}`;
  edit(doc, start, end, typed);
  return { safe, label, start, end, typed, removed };
}

const fixtures = fixtureNixFiles().filter((f) => !parseNix(fs.readFileSync(f, 'utf8')).detached().hasError(0));

test('random edits inside strings and numbers of every fixture equal a full parse; safe ones mostly take the lexical path', () => {
  const rnd = prng(11);
  let edits = 0;
  let safe = 0;
  let lexical = 0;
  let unsafe = 0;
  for (const f of fixtures) {
    const text = fs.readFileSync(f, 'utf8');
    const doc = new NixDocument(f, text, 1);
    void doc.tree.nodeCount;
    for (let i = 0; i < 40; i++) {
      const hadError = doc.tree.hasError(0);
      const e = randomLexicalEdit(doc, rnd);
      if (!e) break;
      const label = `${path.relative(root, f)}, edit ${i} (${e.label})`;
      assertSameAsFullParse(doc, label);
      edits++;
      if (e.safe) {
        safe++;
        if (doc.tree.readBy === 'lexical') lexical++;
      } else {
        unsafe++;
        assert.notEqual(doc.tree.readBy, 'lexical', `${label}: an unsafe edit is parsed`);
      }
      if (hadError) assert.notEqual(doc.tree.readBy, 'lexical', `${label}: after an error, parsed`);
      if (doc.tree.readBy === 'lexical') {
        assert.equal(doc.tree.lexical.edit.start, e.start, label);
        assert.equal(doc.tree.lexical.edit.oldEnd, e.end, label);
        assert.equal(doc.tree.lexical.edit.newEnd, e.start + e.typed.length, label);
      }
      // An unsafe edit may break the text: undo it (a parse back to well-formed text, compared too).
      if (doc.tree.hasError(0)) {
        edit(doc, e.start, e.start + e.typed.length, e.removed);
        assertSameAsFullParse(doc, `${label}, undone`);
        edits++;
      }
    }
  }
  console.log(`# ${edits} edits compared, ${safe} safe, ${lexical} lexical, ${unsafe} unsafe`);
  assert.ok(edits > 3000, `${edits} edits`);
  assert.ok(unsafe > 300, `${unsafe} unsafe edits`);
  assert.ok(lexical > safe * 0.6, `${lexical} of ${safe} safe edits lexical`);
});

/** Structural edits that keep the text well-formed (or break it, then mend it): new bindings, list elements, `;`. */
function structuralEdit(doc, rnd, broken) {
  const tree = doc.tree;
  if (broken) {
    // Put the `;` back.
    edit(doc, broken.at, broken.at, ';');
    return { label: `restore ; at ${broken.at}` };
  }
  const bindings = [];
  const lists = [];
  for (let n = 0; n < tree.nodeCount; n++) {
    if (tree.type(n) === 'binding') bindings.push(n);
    if (tree.type(n) === 'list_expression') lists.push(n);
  }
  const what = rnd(3);
  if (what === 0 && bindings.length > 0) {
    const b = bindings[rnd(bindings.length)];
    edit(doc, tree.end(b), tree.end(b), ` q${rnd(100)} = "v${rnd(100)}";`);
    return { label: `binding after ${b}` };
  }
  if (what === 1 && lists.length > 0) {
    const l = lists[rnd(lists.length)];
    const at = tree.end(l) - 1;
    edit(doc, at, at, ` ${rnd(1000)} "e" `);
    return { label: `element in list ${l}` };
  }
  if (bindings.length > 0) {
    const b = bindings[rnd(bindings.length)];
    const at = tree.end(b) - 1;
    if (doc.text[at] === ';') {
      edit(doc, at, at + 1, '');
      return { label: `delete ; at ${at}`, broken: { at } };
    }
  }
  edit(doc, 0, 0, ' ');
  return { label: 'space at 0' };
}

test('structural edits after runs of lexical edits equal a full parse', () => {
  const rnd = prng(5);
  let lexicalBeforeStructural = 0;
  let structural = 0;
  const readBy = {};
  for (const f of fixtures) {
    const doc = new NixDocument(f, fs.readFileSync(f, 'utf8'), 1);
    void doc.tree.nodeCount;
    let broken;
    for (let round = 0; round < 8; round++) {
      // A burst of 0–6 keystrokes inside strings and numbers (safe characters only, mostly lexical)…
      let lexicalRun = 0;
      for (let i = rnd(7); i > 0; i--) {
        const e = randomLexicalEdit(doc, rnd);
        if (!e) break;
        assertSameAsFullParse(doc, `${path.relative(root, f)}, round ${round}, keystroke (${e.label})`);
        if (doc.tree.readBy === 'lexical') lexicalRun++;
        if (doc.tree.hasError(0)) edit(doc, e.start, e.start + e.typed.length, e.removed);
      }
      // …then one edit that changes the structure, parsed from the (maybe lexical) tree.
      const previousWasLexical = doc.tree.readBy === 'lexical';
      const s = structuralEdit(doc, rnd, broken);
      broken = s.broken;
      assertSameAsFullParse(doc, `${path.relative(root, f)}, round ${round}, ${s.label} after ${lexicalRun} lexical`);
      assert.notEqual(doc.tree.readBy, 'lexical');
      readBy[doc.tree.readBy] = (readBy[doc.tree.readBy] ?? 0) + 1;
      structural++;
      if (previousWasLexical) lexicalBeforeStructural++;
    }
  }
  console.log(`# ${structural} structural edits (${JSON.stringify(readBy)}), ${lexicalBeforeStructural} right after a lexical tree`);
  assert.ok(lexicalBeforeStructural > 200, `${lexicalBeforeStructural} structural edits from a lexical tree`);
  assert.ok((readBy.patch ?? 0) > 100, 'the reparse after lexical edits is still patched, mostly');
});

/** One edit on a fresh, read document: whether it was lexical; its arrays equal a full parse. */
function once(text, start, end, typed) {
  const doc = new NixDocument('/t.nix', text, 1);
  void doc.tree.nodeCount;
  const previous = edit(doc, start, end, typed);
  assertSameAsFullParse(doc, `${JSON.stringify(text)} ${start}-${end} → ${JSON.stringify(typed)}`);
  return { doc, previous, lexical: doc.tree.readBy === 'lexical' };
}

test('targeted cases: what is lexical and what is not', () => {
  const cases = [
    // [text, start, end, typed, lexical?, why]
    ['{ a = "hello"; }', 9, 9, 'X', true, 'a letter inside a fragment'],
    ['{ a = "hello"; }', 7, 7, 'X', true, 'at the very start of a fragment (after `"`)'],
    ['{ a = "hello"; }', 12, 12, 'X', true, 'at the very end of a fragment (before `"`)'],
    ['{ a = "hello"; }', 7, 12, 'bye', true, 'the whole fragment replaced'],
    ['{ a = "hello"; }', 7, 12, '', false, 'the whole fragment deleted'],
    ['{ a = "h"; }', 7, 8, '', false, 'the only character deleted'],
    ['{ a = "hello"; b = "x"; }', 10, 20, '', false, 'across two leaves'],
    ['{ a = "a$b{c"; }', 9, 10, '', false, 'deleting between `$` and `{` would make `${`'],
    ['{ a = "a$b{c"; }', 8, 9, '', false, 'deleting the `$`'],
    ['{ a = "a$bc"; }', 10, 10, 'x', true, 'after `$b`: `$` eats b, x is text'],
    ['{ a = "a$bc"; }', 9, 9, 'x', false, 'right after `$`'],
    ['{ a = "ab"; }', 8, 8, '$', false, 'typing `$`'],
    ['{ a = "ab"; }', 8, 8, '{', false, 'typing `{`'],
    ['{ a = "ab"; }', 8, 8, '"', false, 'typing `"`'],
    ['{ a = "ab"; }', 8, 8, '\\', false, 'typing `\\`'],
    ['{ a = "ab"; }', 8, 8, '\n', false, 'typing a newline'],
    ['{ a = "x${y}z"; }', 12, 12, 'Q', true, 'at the start of a fragment after an interpolation'],
    ['{ a = "x${y}z"; }', 8, 8, 'Q', false, 'at the end of a fragment before an interpolation (`$` after)'],
    ['{ a = "x${y}z"; }', 7, 7, 'Q', true, 'at the start of the fragment before an interpolation'],
    ['{ a = "x\\nz"; }', 10, 10, 'Q', true, 'after the escape `\\n` (fixed length)'],
    ['{ a = "x\\nz"; }', 8, 8, 'Q', false, 'before an escape (`\\` after)'],
    ['{ a = "x\\\\z"; }', 10, 10, 'Q', false, 'after the escape `\\\\` (`\\` before)'],
    ['{ a = "x\\"z"; }', 10, 10, 'Q', true, 'after the escape `\\"`'],
    ['{ a = "x\\$z"; }', 10, 10, 'Q', false, 'after `\\$` (the `$` is a fragment of its own)'],
    ['{ a = "x\\$zz"; }', 11, 11, 'Q', true, 'inside the fragment after `\\$z`'],
    ['{ a = "x\\$zz"; }', 9, 10, 'Q', false, 'replacing the `$` fragment after `\\`'],
    ["{ a = ''\n  ab\n''; }", 11, 11, 'X', true, 'inside an indented fragment'],
    ["{ a = ''\n  ab\n''; }", 8, 8, 'X', false, "at the start of an indented fragment (`''` before)"],
    ["{ a = ''\n  ab\n''; }", 13, 13, 'X', true, "before the closing `''`: the newline is before it"],
    ["{ a = ''ab''; }", 10, 10, 'X', false, "right before the closing `''`"],
    ["{ a = ''a'b''; }", 10, 10, 'X', false, "after a lone `'` (would it make `''`?)"],
    ["{ a = ''a'b''; }", 10, 11, '', false, "deleting between `'` and `''`"],
    ["{ a = ''a'bc''; }", 11, 11, 'X', true, "after `'b` in an indented fragment"],
    ["{ a = ''x'''y z''; }", 13, 13, 'Q', true, "inside the fragment after the escape `'''`"],
    ["{ a = ''x'''y z''; }", 15, 15, 'Q', false, "right before the closing `''`"],
    ["{ a = ''x'''y z''; }", 12, 12, 'Q', false, "right after the escape `'''` (`'` before)"],
    ["{ a = ''x''$y z''; }", 14, 14, 'Q', true, "inside the fragment after `''$y`"],
    ["{ a = ''x''\\ny z''; }", 13, 13, 'Q', true, "right after the escape `''\\n`"],
    ["{ a = ''x ${y} z''; }", 15, 15, 'Q', true, 'after an interpolation in an indented string'],
    ['{ a = 12; }', 7, 7, '3', true, 'a digit inside an integer'],
    ['{ a = 12; }', 6, 6, '3', true, 'a digit at the start of an integer'],
    ['{ a = 12; }', 8, 8, '3', true, 'a digit at the end of an integer (before `;`)'],
    ['{ a = 12; }', 6, 8, '7', true, 'the whole integer replaced'],
    ['{ a = 12; }', 6, 8, '', false, 'the whole integer deleted'],
    ['{ a = 12; }', 7, 7, 'x', false, 'a letter into an integer'],
    ['{ a = 12; }', 7, 7, '.', false, 'a dot into an integer'],
    ['{ a = [ 1.5 12 ]; }', 13, 13, '3', true, 'an integer after a float, a space between'],
    ['{ a = x.y or 12; }', 14, 14, '3', true, 'an integer after `or `'],
    ['{ a = [ 12.5 ]; }', 9, 9, '3', false, 'a float is not an integer'],
    ['{ a = [ 00.5 ]; }', 8, 9, '1', false, 'an integer before `.` (`00` `.5`; `10.5` is a float)'],
    ['{ a = [ 00.5 ]; }', 9, 9, '1', false, 'an integer before `.`, inside'],
    ['{ a = (12).x; }', 8, 8, '3', true, 'an integer in parentheses'],
    ['{ a = 1-2; }', 8, 8, '3', false, 'an integer after `-`'],
    ['{ a = b: 2+12; }', 12, 12, '3', false, 'an integer after `+` (path characters are refused)'],
    ['{ a = 12/ 3; }', 7, 7, '0', false, 'an integer before `/`'],
    ['{ a = [1 2]; }', 7, 7, '0', true, 'an integer after `[`'],
    ['{ a = x: 12; }', 10, 10, '0', true, 'an integer after `: `'],
    ['{ a = 1; }\r\n', 6, 6, '2', true, 'an integer before `;` in a CRLF file'],
    ['{ a = "x\r"; }', 9, 9, 'y', false, 'after a lone CR'],
    ['{ a = "x\r\ny"; }', 8, 8, 'y', false, 'before a CR'],
    ['{ a = "日本"; }', 8, 8, 'y', true, 'between non-ASCII characters'],
    ['{ a = "😀"; }', 8, 8, 'y', false, 'inside a surrogate pair'],
    ['{ a = "hello" }', 9, 9, 'X', false, 'a tree with a syntax error (no `;`)'],
    ['{ a = 12 }', 7, 7, '3', false, 'a tree with a syntax error (integer)'],
  ];
  for (const [text, s, e, typed, expected, why] of cases) {
    const { lexical } = once(text, s, e, typed);
    assert.equal(lexical, expected, `${why}: ${JSON.stringify(text)} ${s}-${e} → ${JSON.stringify(typed)}`);
  }
});

test('a lexical tree: where it came from, the previous tree released with its arrays kept', () => {
  const text = '{ a = "hello"; b = [ 1 2 3 ]; }';
  const { doc, previous } = once(text, 9, 9, 'X');
  const tree = doc.tree;
  assert.equal(tree.readBy, 'lexical');
  assert.equal(tree.lexical.from.deref(), previous);
  assert.equal(previous.type(tree.lexical.leaf), 'string_fragment');
  assert.equal(tree.nodeText(tree.lexical.leaf), 'heXllo');
  assert.equal(previous.nodeText(tree.lexical.leaf), 'hello');
  assert.deepEqual(tree.lexical.edit, { start: 9, oldEnd: 9, newEnd: 10 });
  assert.equal(tree.editable, true);
  assert.equal(previous.editable, false, 'the document releases the previous native tree');
  assert.equal(previous.nodeText(previous.root), text, 'its arrays stay');
  // Structure arrays are shared, the offsets are the lexical tree's own.
  assert.equal(tree.flat.symbol, previous.flat.symbol);
  assert.notEqual(tree.flat.start, previous.flat.start);
  // The next lexical edit starts from it; a structural one parses from its edited native tree.
  const one = tree;
  edit(doc, doc.text.indexOf('2'), doc.text.indexOf('2') + 1, '42');
  assert.equal(doc.tree.readBy, 'lexical');
  assert.equal(doc.tree.lexical.from.deref(), one);
  edit(doc, doc.text.indexOf(']'), doc.text.indexOf(']'), '4 ');
  assertSameAsFullParse(doc, 'structural after two lexical');
  assert.equal(doc.tree.readBy, 'patch');
  assert.equal(doc.tree.lexical, undefined);
  // Two changes in one notification, a full replacement, a tree never read: parsed.
  doc.applyChanges(
    [
      { range: doc.lines.range(9, 9), text: 'a' },
      { range: doc.lines.range(9, 9), text: 'b' },
    ],
    doc.version + 1,
  );
  assert.notEqual(doc.tree.readBy, 'lexical');
  assertSameAsFullParse(doc, 'two changes');
  const unread = new NixDocument('/u.nix', text, 1);
  edit(unread, 9, 9, 'X');
  assert.notEqual(unread.tree.readBy, 'lexical');
  assertSameAsFullParse(unread, 'never read');
});

test('released trees and detached documents: the fast path needs the native tree', () => {
  const doc = new NixDocument('/r.nix', '{ a = "hello"; }', 1);
  void doc.tree.nodeCount;
  edit(doc, 9, 9, 'X');
  assert.equal(doc.tree.readBy, 'lexical');
  const lexical = doc.tree;
  lexical.release();
  assert.equal(lexical.editable, false);
  assert.equal(lexical.nodeText(lexical.lexical.leaf), 'heXllo', 'arrays kept after release');
  // A released tree cannot be edited: the document parses afresh.
  edit(doc, 9, 9, 'Y');
  assertSameAsFullParse(doc, 'after release');
  assert.notEqual(doc.tree.readBy, 'lexical');
  doc.dispose();
});

test('the 1 MB corpus: a digit of a maxJobs and letters of a hostName, lexical, equal to a full parse', () => {
  const big = bigConfig({ seed: 4 });
  const doc = new NixDocument('/big.nix', big.text, 1);
  void doc.tree.nodeCount;
  const digit = big.text.indexOf('maxJobs = ', big.text.length / 2) + 'maxJobs = '.length;
  assert.match(big.text[digit], /[0-9]/);
  edit(doc, digit, digit + 1, '7');
  assert.equal(doc.tree.readBy, 'lexical');
  assertSameAsFullParse(doc, 'maxJobs digit');
  let host = doc.text.indexOf('hostName = "', big.text.length / 2) + 'hostName = "'.length + 2;
  for (const ch of 'abc') {
    edit(doc, host, host, ch);
    host++;
    assert.equal(doc.tree.readBy, 'lexical');
  }
  assertSameAsFullParse(doc, 'hostName typing');
  // A long burst: every keystroke without a parse (a tree keeps its predecessor
  // only weakly), and the arrays stay right.
  for (let i = 0; i < 30; i++) {
    edit(doc, host, host, 'z');
    host++;
    assert.equal(doc.tree.readBy, 'lexical');
  }
  assertSameAsFullParse(doc, 'long burst');
  // A structural edit after them.
  const semi = doc.text.indexOf(';', host);
  edit(doc, semi + 1, semi + 1, ' extra = 1;');
  assertSameAsFullParse(doc, 'structural');
});
