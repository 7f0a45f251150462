// Every rule against its fixtures: `<code>.nix` (or .machines) must give exactly
// the annotated diagnostics, `<code>.ok.*` none at all.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');
const { readAnnotations } = require('../helpers/annotations');

const { analyze } = loadCore('analyze');
const { LineIndex } = loadCore('span');
const { RULES } = loadCore('rules/index');

const dir = path.join(__dirname, '..', 'fixtures', 'rules');
const fixtures = fs.readdirSync(dir).sort();

function diagnose(file) {
  const text = fs.readFileSync(file, 'utf8');
  const index = new LineIndex(text);
  const { diagnostics } = analyze([{ path: file, text }]);
  return diagnostics.map((d) => {
    const r = index.range(d.span.start, d.span.end);
    assert.equal(r.start.line, r.end.line, `multi-line range for ${d.code}`);
    return { code: d.code, line: r.start.line, start: r.start.character, end: r.end.character, d };
  });
}

const key = (x) => `${x.code} ${x.line + 1}:${x.start}-${x.end}`;

for (const f of fixtures) {
  const file = path.join(dir, f);
  test(`fixture ${f}`, () => {
    const got = diagnose(file);
    if (f.includes('.ok.')) {
      assert.deepEqual(got.map(key), [], 'a near miss must not trigger any diagnostic');
      return;
    }
    const expected = readAnnotations(fs.readFileSync(file, 'utf8'));
    assert.ok(expected.length > 0, 'a triggering fixture needs annotations');
    assert.deepEqual(got.map(key).sort(), expected.map(key).sort());
    for (const g of got) {
      assert.ok(g.d.message.length > 40, `${g.code}: the message should explain what to do`);
    }
  });
}

// Host rules have their scenarios in test/fixtures/hosts/ (test/hosts/host-fixtures.test.js).
const HOST_RULES = ['unresolved-host', 'missing-host-key', 'host-key-name-mismatch'];

test('every rule has a triggering fixture and a near miss', () => {
  for (const rule of RULES.filter((r) => !HOST_RULES.includes(r.code))) {
    assert.ok(fixtures.some((f) => f.startsWith(`${rule.code}.`) && !f.includes('.ok.')), `no fixture for ${rule.code}`);
    assert.ok(fixtures.some((f) => f.startsWith(`${rule.code}.ok.`)), `no near miss for ${rule.code}`);
  }
});
