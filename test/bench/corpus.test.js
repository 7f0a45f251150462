// The bench corpora are generated, not committed: the same seed must give the
// same bytes, and the corpora must have the shape the budgets talk about.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { bigConfig, workspace, prng } = require('../../scripts/bench/corpus');
const { loadCore } = require('../helpers/load-ts');

const digest = (s) => crypto.createHash('sha256').update(s).digest('hex');

test('the PRNG is deterministic and spreads', () => {
  const a = prng(42);
  const b = prng(42);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const buckets = new Array(10).fill(0);
  for (const x of xs) buckets[Math.floor(x * 10)]++;
  assert.ok(buckets.every((n) => n > 60 && n < 140), JSON.stringify(buckets));
});

test('the 1 MB file: same seed, same bytes; about 1 MB; 2,000 builders, known hosts and Host blocks', () => {
  const one = bigConfig({ seed: 1 });
  assert.equal(digest(one.text), digest(bigConfig({ seed: 1 }).text));
  assert.notEqual(digest(one.text), digest(bigConfig({ seed: 2 }).text));
  const bytes = Buffer.byteLength(one.text);
  assert.ok(bytes >= 1_000_000 && bytes < 1_200_000, `${bytes} bytes`);
  // Well-formed: a missing `}` once made the bench time tree-sitter's error recovery.
  const { parseNix } = loadCore('parser');
  assert.equal(parseNix(one.text).hasError(0), false, 'the 1 MB file parses without errors');
  const { analyze } = loadCore('analyze');
  const { model } = analyze([{ path: '/bench/fleet.nix', text: one.text }]);
  assert.equal(model.builders.length, 2000);
  assert.equal(model.knownHosts.length, 2000);
  assert.equal(model.sshBlocks.filter((b) => b.kind === 'host').length, 2000);
});

test('the workspace: same seed, same files; 3,500 module files, about 5 MB, a few with builders', () => {
  const ws = workspace({ seed: 2 });
  const again = workspace({ seed: 2 });
  assert.deepEqual([...ws.files.keys()], [...again.files.keys()]);
  assert.equal(digest([...ws.files.values()].join('\u0000')), digest([...again.files.values()].join('\u0000')));
  assert.equal(ws.files.size, 3500);
  assert.ok(ws.bytes > 4_500_000 && ws.bytes < 5_500_000, `${ws.bytes} bytes`);
  const { parseNix } = loadCore('parser');
  const broken = [...ws.files].filter(([, t]) => parseNix(t).hasError(0)).map(([p]) => p);
  assert.deepEqual(broken, [], 'every workspace file parses without errors');
  const withBuilders = [...ws.files.values()].filter((t) => t.includes('nix.buildMachines'));
  assert.ok(withBuilders.length >= 1 && withBuilders.length <= 10);
});
