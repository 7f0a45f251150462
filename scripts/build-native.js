#!/usr/bin/env node
// Runs on `npm ci` / `npm install` (the project's own install script): builds the
// tree-sitter-nix N-API binding, and the tree-sitter runtime too when npm skipped
// that dependency's install script (npm 11 does not run them by default).
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

function runtimeLoads() {
  try {
    require(path.join(root, 'node_modules/tree-sitter'));
    return true;
  } catch {
    return false;
  }
}

if (!runtimeLoads()) {
  console.log('[nix-builders] building the tree-sitter runtime binding');
  gyp(path.join(root, 'node_modules/tree-sitter'));
}
gyp(root);
const built = path.join(root, 'build/Release/tree_sitter_nix_binding.node');
if (!fs.existsSync(built)) {
  console.error(`[nix-builders] native build finished but ${built} is missing`);
  process.exit(1);
}
