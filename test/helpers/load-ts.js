// Loads a core TypeScript module for the tests: bundles server/src/core/<relPath>.ts with esbuild into test-out/ once per process, then requires it.
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const loaded = new Map();

function loadCore(relPath) {
  const cached = loaded.get(relPath);
  if (cached) return cached;
  const outfile = path.join(root, 'test-out', `${relPath}.js`);
  const result = esbuild.buildSync({
    entryPoints: [path.join(root, 'server', 'src', 'core', `${relPath}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['tree-sitter'],
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

module.exports = { loadCore };
