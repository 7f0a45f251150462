// The docs and the README list every diagnostic code, with a working anchor.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');

const root = path.join(__dirname, '..', '..');
const { RULES, NETWORK_CODES } = loadCore('rules/index');
const { docsUrl } = loadCore('diagnostic');
const docs = fs.readFileSync(path.join(root, 'docs', 'diagnostics.md'), 'utf8');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const spec = fs.readFileSync(path.join(root, '..', 'shared', 'SPEC.md'), 'utf8');

const codes = [...RULES.map((r) => r.code), ...NETWORK_CODES];

test('every SPEC §2.2 code is a rule or a network code', () => {
  const table = spec.slice(spec.indexOf('### 2.2'), spec.indexOf('### 2.3'));
  const specCodes = [...table.matchAll(/^\| ([a-z-]+) \|/gm)].map((m) => m[1]).filter((c) => c !== 'code');
  assert.ok(specCodes.length >= 24);
  assert.deepEqual([...specCodes].sort(), [...codes].sort());
});

test('every code has a docs section and a README row linking to it', () => {
  for (const c of codes) {
    assert.match(docs, new RegExp(`^## ${c}$`, 'm'), `docs/diagnostics.md lacks ## ${c}`);
    assert.ok(readme.includes(`(docs/diagnostics.md#${c})`), `README lacks a row for ${c}`);
    assert.ok(docsUrl(c).endsWith(`docs/diagnostics.md#${c}`));
  }
});

test('README opens with the set-up command and the test command', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(firstBlock, 'a first shell block');
  assert.match(firstBlock[1], /npm ci && npm start/);
  assert.match(firstBlock[1], /^npm test/m);
});
