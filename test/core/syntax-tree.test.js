// The tree as the reader gets it: flatten() walks tree-sitter's subtrees
// directly, and must give exactly what a TSTreeCursor walk gives (the
// binding's flattenWithCursor) — node for node, on every fixture, on the
// generated 1 MB corpus, and on mutated (broken) documents.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { bigConfig } = require('../../scripts/bench/corpus');
const { mutatedDocuments } = require('../helpers/mutate');
const { fixtureNixFiles } = require('../helpers/nix-files');

const root = path.resolve(__dirname, '..', '..');
const binding = require(path.join(root, 'build', 'Release', 'tree_sitter_nix_binding.node'));
const ARRAYS = ['symbol', 'field', 'start', 'end', 'next', 'stop', 'flags'];

function assertSameFlat(text, label) {
  const tree = binding.parse(text);
  const fast = binding.flatten(tree);
  const reference = binding.flattenWithCursor(tree);
  assert.equal(fast.count, reference.count, `${label}: node count`);
  for (const k of ARRAYS) {
    if (Buffer.compare(Buffer.from(fast[k].buffer), Buffer.from(reference[k].buffer)) === 0) continue;
    const i = fast[k].findIndex((x, j) => x !== reference[k][j]);
    assert.fail(`${label}: ${k}[${i}] is ${fast[k][i]}, the cursor gives ${reference[k][i]}`);
  }
  return fast.count;
}

const fixtures = fixtureNixFiles();

test('flatten equals a cursor walk on every fixture and example', () => {
  assert.ok(fixtures.length > 50);
  for (const f of fixtures) assertSameFlat(fs.readFileSync(f, 'utf8'), path.relative(root, f));
});

test('flatten equals a cursor walk on the 1 MB corpus', () => {
  assert.ok(assertSameFlat(bigConfig({ seed: 3 }).text, 'bigConfig') > 100_000);
});

test('flatten equals a cursor walk on 2,000 mutated documents (ERROR and MISSING nodes, extras)', () => {
  const sources = fixtures.map((f) => ({ path: f, text: fs.readFileSync(f, 'utf8') }));
  for (const d of mutatedDocuments(sources, 2000, 5)) assertSameFlat(d.text, `mutation ${d.index} of ${path.relative(root, d.source)}`);
});

test('flatten handles 100,000 nested lists without overflowing the stack', () => {
  const n = 100_000;
  const count = assertSameFlat(`${'['.repeat(n)}${']'.repeat(n)}`, 'nested');
  assert.ok(count > 2 * n);
});

test('the binding refuses what is not a tree handle', () => {
  assert.throws(() => binding.flatten({}), /not a tree handle/);
  assert.throws(() => binding.parse(42), /text must be a string/);
  assert.throws(() => binding.edit(binding.parse('1'), 1), /ten arguments/);
  const t = binding.parse('1');
  assert.throws(() => binding.edit(t, -1, 0, 0, 0, 0, 0, 0, 0, 0), /whole numbers/);
  assert.throws(() => binding.edit(t, 0.5, 1, 1, 0, 0, 0, 1, 0, 1), /whole numbers/);
  assert.throws(() => binding.edit(t, NaN, 1, 1, 0, 0, 0, 1, 0, 1), /whole numbers/);
  assert.throws(() => binding.edit(t, 2, 1, 3, 0, 2, 0, 1, 0, 3), /start before/);
  binding.dispose(t);
  assert.throws(() => binding.flatten(t), /disposed/);
});

test('a released tree keeps its arrays, or parses its text again when they were never read', () => {
  const { loadCore } = require('../helpers/load-ts');
  const { parseNix } = loadCore('parser');
  const text = '{ a = [ 1 "x" ]; b = { c = 2; }; }\r# lone CR above is a line end\n';
  const expected = parseNix(text).toString();
  const read = parseNix(text).detached();
  assert.equal(read.toString(), expected, 'arrays read before the release');
  const unread = parseNix(text);
  unread.release();
  unread.release();
  assert.equal(unread.toString(), expected, 'arrays read after the release: parsed again');
  assert.throws(() => unread.editedHandle([]), /released tree/);
  assert.equal(unread.editable, false);
  // An unknown field name (id 0) matches no child, not the ones without a field.
  assert.equal(read.field(0, 0), -1);
  assert.deepEqual(read.fieldAll(0, 0), []);
});
