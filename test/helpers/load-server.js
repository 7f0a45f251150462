// Loads a server TypeScript module for the tests: bundles server/src/<relPath>.ts
// with esbuild into test-out/server-src/ once per process, then requires it.
// load-ts.js's loadCore is this for paths under server/src/core.
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const loaded = new Map();

function loadServer(relPath) {
  const cached = loaded.get(relPath);
  if (cached) return cached;
  const outfile = path.join(root, 'test-out', 'server-src', `${relPath}.js`);
  const result = esbuild.buildSync({
    entryPoints: [path.join(root, 'server', 'src', `${relPath}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['tree-sitter', 'vscode-languageserver', 'vscode-languageserver-textdocument', 'cpu-features', '*.node'],
    outfile,
    write: false,
    logLevel: 'silent',
  });
  // Test files run in parallel processes that may build the same module:
  // write to a private name and rename, so nobody requires a half-written file.
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
  const mod = require(outfile);
  loaded.set(relPath, mod);
  return mod;
}

module.exports = { loadServer };
