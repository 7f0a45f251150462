#!/usr/bin/env node
// `npm start`: builds, shows the CLI's check and machines output for examples/,
// then opens a copy of examples/ in a browser VS Code (code-server on
// 127.0.0.1) with the freshly packaged extension installed, prints the URL and
// keeps running until Ctrl+C. code-server is installed on first use
// (scripts/install-code-server.sh, cached in ~/.cache/nix-builders).
//
// Environment: NIX_BUILDERS_PORT (default 8080, or a free port if taken).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { CODE_SERVER_VERSION, ensureInstalled, freePort, startCodeServer } = require('./code-server');
const { pack } = require('./package');

const root = path.resolve(__dirname, '..');
const state = path.join(root, '.e2e', 'start');

function cli(...args) {
  console.log(`$ nix-builders ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'nix-builders.js'), ...args], { cwd: root, encoding: 'utf8' });
  process.stdout.write(r.stdout || (args[0] === 'check' && r.status === 0 ? '(no diagnostics)\n' : ''));
  process.stderr.write(r.stderr);
  console.log(r.status === 0 ? '' : `(exit ${r.status})\n`);
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = require('node:net').createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function main() {
  // 1. Build and package (the package step builds first).
  console.log('[start] building and packaging the extension');
  const vsix = pack({ quiet: true });
  console.log(`[start] ${path.relative(root, vsix)}`);

  // 2. What the CLI says about the example.
  console.log();
  cli('check', 'examples/');
  cli('machines', 'examples/distributed-builds.nix');

  // 3. code-server with the extension installed from the VSIX, on a copy of examples/.
  const p = ensureInstalled();
  const workspace = path.join(state, 'examples');
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'examples'), workspace, { recursive: true });
  const extensionsDir = path.join(state, 'exts');
  fs.rmSync(extensionsDir, { recursive: true, force: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  const install = spawnSync(
    p.node,
    [p.entry, '--extensions-dir', extensionsDir, '--user-data-dir', path.join(state, 'user'), '--install-extension', vsix, '--force'],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, PATH: `${path.dirname(p.node)}:${process.env.PATH}`, XDG_CONFIG_HOME: path.join(state, 'xdg', 'config'), XDG_DATA_HOME: path.join(state, 'xdg', 'data') } },
  );
  if (install.status !== 0) throw new Error(`installing the VSIX into code-server failed:\n${install.stdout}${install.stderr}`);
  const settings = path.join(state, 'user', 'User', 'settings.json');
  if (!fs.existsSync(settings)) {
    fs.mkdirSync(path.dirname(settings), { recursive: true });
    fs.writeFileSync(
      settings,
      `${JSON.stringify(
        {
          'workbench.startupEditor': 'none',
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
          'git.openRepositoryInParentFolders': 'never',
          'telemetry.telemetryLevel': 'off',
          'update.mode': 'none',
          'chat.disableAIFeatures': true,
          'extensions.autoUpdate': false,
        },
        null,
        2,
      )}\n`,
    );
  }
  const wanted = Number(process.env.NIX_BUILDERS_PORT || 8080);
  const port = (await portFree(wanted)) ? wanted : await freePort();
  const server = await startCodeServer({
    stateDir: state,
    extensionsDir,
    workspace,
    port,
    log: path.join(state, 'code-server.log'),
    extraArgs: ['--ignore-last-opened'],
  });
  const url = `${server.url}/?folder=${encodeURI(workspace)}`;
  console.log(`[start] VS Code (code-server ${CODE_SERVER_VERSION}) with ${path.basename(vsix)} installed, on a copy of examples/:`);
  console.log(`\n    ${url}\n`);
  console.log('[start] open distributed-builds.nix; Ctrl+Shift+P "Nix Builders" lists the commands. Ctrl+C stops.');
  console.log(`[start] log: ${path.relative(root, path.join(state, 'code-server.log'))}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\n[start] stopping code-server');
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.proc.on('exit', (code) => {
    if (stopping) return;
    console.error(`[start] code-server exited (${code}); see ${path.join(state, 'code-server.log')}`);
    process.exit(1);
  });
}

main().catch((err) => {
  console.error(`[start] ${err.message}`);
  process.exit(1);
});
