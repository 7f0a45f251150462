// The .nix files the tree tests walk: every fixture and every example.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function nixFiles(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) nixFiles(p, out);
    else if (e.name.endsWith('.nix')) out.push(p);
  }
  return out;
}

/** Absolute paths of test/fixtures/**.nix and examples/**.nix. */
function fixtureNixFiles() {
  return [...nixFiles(path.join(root, 'test', 'fixtures')), ...nixFiles(path.join(root, 'examples'))];
}

module.exports = { fixtureNixFiles };
