// Inputs on which tree-sitter-nix itself takes seconds to minutes (100,000
// unary minus signs: ~45 s) are cut off by the parse deadline: the file reads
// as empty, the front ends say so, and nothing hangs.
'use strict';
process.env.NIX_BUILDERS_PARSE_TIMEOUT_MS = '300';
const test = require('node:test');
const assert = require('node:assert/strict');
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');

const { parseNix } = loadCore('parser');
const { analyze } = loadCore('analyze');
const { NixDocument } = loadCore('document');

const root = path.resolve(__dirname, '..', '..');
const SLOW = `${'-'.repeat(100_000)}1`;
const BUILDER = '{ nix.buildMachines = [ { hostName = "b"; system = "x86_64-linxu"; maxJobs = 1; } ]; }\n';

function timed(fn) {
  const t0 = performance.now();
  const r = fn();
  return [performance.now() - t0, r];
}

test('a parse past the deadline gives an empty tree, marked as such, within the deadline', () => {
  const [ms, tree] = timed(() => parseNix(SLOW));
  assert.equal(tree.timedOut, true);
  assert.ok(ms < 2000, `gave up after ${Math.round(ms)} ms`);
  assert.equal(tree.toString(), '(source_code)');
  assert.equal(tree.text, SLOW, 'the text is kept');
  const fine = parseNix(BUILDER);
  assert.equal(fine.timedOut, false, 'the next parse starts afresh');
  assert.match(fine.toString(), /attrset_expression/);
});

test('the analysis skips such a file, reports it, and still reads the others', () => {
  const [ms, a] = timed(() =>
    analyze([
      { path: '/w/slow.nix', text: SLOW },
      { path: '/w/builders.nix', text: BUILDER },
    ]),
  );
  assert.ok(ms < 3000, `took ${Math.round(ms)} ms`);
  assert.deepEqual(a.unparsed, ['/w/slow.nix']);
  assert.deepEqual(
    a.diagnostics.filter((d) => d.code === 'unknown-system').map((d) => d.span.file),
    ['/w/builders.nix'],
  );
});

test('typing in such a document stays bounded and recovers once the text parses', () => {
  const doc = new NixDocument('/w/doc.nix', SLOW, 1);
  const [ms] = timed(() => doc.tree);
  assert.ok(ms < 2000);
  assert.equal(doc.tree.timedOut, true);
  doc.applyChanges([{ text: BUILDER }], 2);
  assert.equal(doc.tree.timedOut, false);
  assert.match(doc.tree.toString(), /binding_set/);
});

test('the CLI warns on stderr and checks the other files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-timeout-'));
  try {
    fs.writeFileSync(path.join(dir, 'slow.nix'), SLOW);
    fs.writeFileSync(path.join(dir, 'builders.nix'), BUILDER);
    const t0 = performance.now();
    const r = cp.spawnSync(process.execPath, [path.join(root, 'bin', 'nix-builders.js'), 'check', '--offline', dir], {
      encoding: 'utf8',
      env: { ...process.env, NIX_BUILDERS_PARSE_TIMEOUT_MS: '300' },
      timeout: 30_000,
    });
    assert.ok(performance.now() - t0 < 10_000);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /slow\.nix: parsing took longer than 0\.3 s .*the file is skipped/);
    assert.match(r.stdout, /builders\.nix:1:\d+: warning unknown-system/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
