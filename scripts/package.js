#!/usr/bin/env node
// `npm run package`: builds, then packs the VS Code extension with @vscode/vsce
// into nix-builders-<version>-<target>.vsix (a platform-specific VSIX: it holds
// the native binding built for this machine). Works offline.
// Then checks the package as installed: unpacks it into a temporary folder and
// runs its CLI on examples/ and its language server over stdio with plain Node.
//
//   node scripts/package.js [--out FILE] [--no-verify]
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));

// The files the server bundle loads at run time, outside the bundle.
const NATIVE = [
  'build/Release/tree_sitter_nix_binding.node',
];

function target() {
  const platform = { linux: 'linux', darwin: 'darwin', win32: 'win32' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64', arm: 'armhf' }[process.arch];
  if (!platform || !arch) throw new Error(`no VS Code target for ${process.platform}-${process.arch}`);
  return `${platform}-${arch}`;
}

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

/** Builds and packs; `quiet` keeps vsce's file listing off the terminal (shown only on failure). */
function pack({ quiet = false, out: outFile } = {}) {
  run(process.execPath, [path.join(root, 'scripts', 'build.js')]);
  for (const f of NATIVE) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing: run npm ci (it builds the native bindings)`);
  }
  const t = target();
  const out = path.resolve(outFile ?? option('--out') ?? path.join(root, `${pkg.name}-${pkg.version}-${t}.vsix`));
  const vsce = require.resolve('@vscode/vsce/vsce', { paths: [root] });
  const r = spawnSync(process.execPath, [
    vsce, 'package',
    '--target', t,
    '--out', out,
    // No repository to rewrite README links against, and no LICENSE file yet.
    '--no-rewrite-relative-links',
    '--allow-missing-repository',
    '--skip-license',
  ], { cwd: root, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vsce package failed (${r.status ?? r.signal})${quiet ? `:\n${r.stdout}${r.stderr}` : ''}`);
  return out;
}

/** Unpacks the VSIX (a zip) with Python's zipfile: python3 is already needed for node-gyp. */
function unpack(vsix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-vsix-'));
  execFileSync('python3', ['-m', 'zipfile', '-e', vsix, dir]);
  return { dir, extension: path.join(dir, 'extension') };
}

/** initialize → answer over stdio from the packaged server: tree-sitter and the grammar load. */
function serverAnswers(serverJs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverJs, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the packaged server did not answer initialize within 10 s'));
    }, 10_000);
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('"serverInfo"')) {
        clearTimeout(timer);
        child.kill();
        resolve();
      }
    });
    const send = (msg) => {
      const body = JSON.stringify({ jsonrpc: '2.0', ...msg });
      child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    send({ id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } });
  });
}

/** Unpacks the VSIX and runs its CLI and server with this Node, outside the checkout. */
async function verify(vsix) {
  const { dir, extension } = unpack(vsix);
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(extension, 'package.json'), 'utf8'));
    const c = manifest.contributes;
    // Every file the manifest names must be in the package.
    const named = [
      manifest.main,
      ...c.languages.map((l) => l.configuration),
      ...c.grammars.map((g) => g.path),
      ...c.snippets.map((s) => s.path),
    ].filter(Boolean);
    for (const f of ['server/out/server.js', 'server/out/cli.js', ...NATIVE, ...named]) {
      if (!fs.existsSync(path.join(extension, f))) throw new Error(`the VSIX lacks extension/${path.normalize(f)}`);
    }
    // The CLI from the package, on a copy of the example outside the checkout.
    const ex = path.join(dir, 'examples');
    fs.cpSync(path.join(root, 'examples'), ex, { recursive: true });
    const cli = path.join(extension, 'server/out/cli.js');
    execFileSync(process.execPath, [cli, 'check', '--offline', ex], { stdio: 'inherit' });
    const machines = execFileSync(process.execPath, [cli, 'machines', path.join(ex, 'distributed-builds.nix')], { encoding: 'utf8' });
    if (machines.trim().split('\n').length !== 3) throw new Error(`unexpected machines output from the package:\n${machines}`);
    await serverAnswers(path.join(extension, 'server/out/server.js'));
    console.log('[package] verified: the unpacked VSIX checks examples/ and its language server starts');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const vsix = pack();
  const size = fs.statSync(vsix).size;
  console.log(`[package] ${path.relative(process.cwd(), vsix)}: ${(size / 1024).toFixed(0)} KiB`);
  if (!process.argv.includes('--no-verify')) await verify(vsix);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`[package] ${err.message}`);
    process.exit(1);
  });
}

module.exports = { pack, unpack, verify, target };
