#!/usr/bin/env node
// Runs on `npm ci` / `npm install` (the project's own install script): builds the
// project's N-API binding (native/tree-sitter-nix-binding.cc), which compiles in
// the tree-sitter-nix grammar and the tree-sitter runtime vendored in the
// `tree-sitter` package. node-tree-sitter's own binding is not used.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });

// node-gyp downloads Node's headers unless told where they are. npm passes its
// `nodedir` setting as npm_config_nodedir; run by hand, use the headers that sit
// beside the running node (Debian and the official tarballs both ship them).
function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include/node/node.h')) ? prefix : undefined;
}

function gyp(cwd) {
  const dir = nodedir();
  const args = [nodeGyp, 'rebuild', '--release', ...(dir ? [`--nodedir=${dir}`] : [])];
  execFileSync(process.execPath, args, { cwd, stdio: 'inherit' });
}

gyp(root);
const built = path.join(root, 'build/Release/tree_sitter_nix_binding.node');
if (!fs.existsSync(built)) {
  console.error(`[nix-builders] native build finished but ${built} is missing`);
  process.exit(1);
}
