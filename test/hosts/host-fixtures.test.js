// Host checks on fixture folders (test/fixtures/hosts/<scenario>/): the .nix
// files form the workspace, `known_hosts*` and `ssh_config` files are root's,
// env.json may inject resolver answers and name the sources (the rest is then
// reached through imports). Expected diagnostics are annotated in place.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');
const { readAnnotations } = require('../helpers/annotations');

const { analyze } = loadCore('analyze');
const { LineIndex } = loadCore('span');

const root = path.join(__dirname, '..', 'fixtures', 'hosts');

function scenario(dir) {
  const files = fs.readdirSync(dir).sort();
  const cfg = files.includes('env.json') ? JSON.parse(fs.readFileSync(path.join(dir, 'env.json'), 'utf8')) : {};
  const read = (f) => ({ path: path.join(dir, f), text: fs.readFileSync(path.join(dir, f), 'utf8'), notRoot: false });
  const sources = (cfg.sources ?? files.filter((f) => f.endsWith('.nix'))).map(read);
  const env = {
    sshConfigFiles: files.filter((f) => f.startsWith('ssh_config')).map(read),
    knownHostsFiles: files.filter((f) => f.startsWith('known_hosts')).map(read),
    lookups: true,
    checkHostKeys: true,
    resolve: (name) => cfg.resolve?.[name],
    readFile: (p) => (p.startsWith(dir) && fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined),
  };
  return { sources, env };
}

for (const name of fs.readdirSync(root).sort()) {
  const dir = path.join(root, name);
  test(`host scenario ${name}`, () => {
    const { sources, env } = scenario(dir);
    const { diagnostics, model } = analyze(sources, env);
    const got = diagnostics.map((d) => {
      const r = new LineIndex(model.texts.get(d.span.file)).range(d.span.start, d.span.end);
      return `${path.basename(d.span.file)} ${d.code} ${r.start.line + 1}:${r.start.character}-${r.end.character}`;
    });
    const expected = [];
    for (const file of Object.keys(Object.fromEntries(model.texts))) {
      for (const a of readAnnotations(model.texts.get(file))) {
        expected.push(`${path.basename(file)} ${a.code} ${a.line + 1}:${a.start}-${a.end}`);
      }
    }
    assert.deepEqual(got.sort(), expected.sort());
  });
}
