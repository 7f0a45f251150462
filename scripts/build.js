#!/usr/bin/env node
// Bundles the language server / CLI and the VS Code client with esbuild.
// The native binding (build/Release/tree_sitter_nix_binding.node) stays a file.
// ssh2's optional native speed-ups (cpu-features, sshcrypto.node) stay out: it
// has pure-JS fallbacks, so the bundle needs no node_modules for it.
'use strict';
const esbuild = require('esbuild');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};
const SERVER_EXTERNAL = ['cpu-features', '*.node'];
const builds = [
  { ...common, entryPoints: ['server/src/server.ts'], outfile: 'server/out/server.js', external: SERVER_EXTERNAL },
  { ...common, entryPoints: ['server/src/cli.ts'], outfile: 'server/out/cli.js', external: SERVER_EXTERNAL },
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: 'client/out/extension.js', external: ['vscode'] },
];

async function main() {
  if (watch) {
    for (const b of builds) await (await esbuild.context(b)).watch();
    console.log('[nix-builders] watching for changes');
  } else {
    await Promise.all(builds.map((b) => esbuild.build(b)));
  }
}
main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
