// Loads a server TypeScript module for the tests: bundles server/src/<relPath>.ts
// with esbuild into test-out/server-src/ once per process, then requires it.
// load-ts.js's loadCore is this for paths under server/src/core.
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const loaded = new Map();

/**
 * Bundles with esbuild (options without outfile/write) into `outfile` and
 * requires it. Test files run in parallel processes that may build the same
 * module: each writes to a private name and renames, so nobody requires a
 * half-written file.
 */
function bundleAndRequire(options, outfile) {
  const result = esbuild.buildSync({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'silent',
    ...options,
    outfile,
    write: false,
  });
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
  return require(outfile);
}

function loadServer(relPath) {
  const cached = loaded.get(relPath);
  if (cached) return cached;
  const mod = bundleAndRequire(
    {
      entryPoints: [path.join(root, 'server', 'src', `${relPath}.ts`)],
      external: ['vscode-languageserver', 'vscode-languageserver-textdocument', 'cpu-features', '*.node'],
    },
    path.join(root, 'test-out', 'server-src', `${relPath}.js`),
  );
  loaded.set(relPath, mod);
  return mod;
}

module.exports = { loadServer, bundleAndRequire };
