// package.json's contributes.configuration and the server's settings schema
// must not drift apart.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..', '..');
const outfile = path.join(root, 'test-out', 'lsp-settings.js');
esbuild.buildSync({ entryPoints: [path.join(root, 'server/src/lsp/settings.ts')], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'silent' });
const settings = require(outfile);
const pkg = require(path.join(root, 'package.json'));

test('contributes.configuration equals the server schema', () => {
  assert.deepEqual(pkg.contributes.configuration, settings.configurationContribution());
  assert.ok(Object.keys(pkg.contributes.configuration.properties).length >= 5);
});

test('the README lists every setting', () => {
  const readme = require('node:fs').readFileSync(path.join(root, 'README.md'), 'utf8');
  for (const key of Object.keys(pkg.contributes.configuration.properties)) {
    assert.ok(readme.includes(`| \`${key}\` |`), `README settings table lacks ${key}`);
  }
});
