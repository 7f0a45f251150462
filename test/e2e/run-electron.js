#!/usr/bin/env node
// Runs the same e2e mocha suite (test/e2e/suite) in desktop VS Code through
// @vscode/test-electron, for machines that can download VS Code (it fetches a
// build from VS Code's update server into .e2e/vscode-test/). On machines without
// that access use run-code-server.js, which `npm test` runs.
//
//   npm run build && node test/e2e/run-electron.js [--version stable|1.91.0] [--grep TEXT]
//
// Under Linux without a display, run it under xvfb-run.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root, prepareWorkspace, writeUserSettings } = require('./workspace');

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const { runTests } = require('@vscode/test-electron');
  for (const f of ['client/out/extension.js', 'server/out/server.js', 'server/out/cli.js']) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing: run npm run build first`);
  }
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-electron-'));
  const workspace = prepareWorkspace(path.join(state, 'workspace'));
  const userDataDir = path.join(state, 'user');
  writeUserSettings(userDataDir);
  const grep = option('--grep');
  try {
    await runTests({
      version: option('--version') ?? 'stable',
      cachePath: path.join(root, '.e2e', 'vscode-test'),
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
      extensionTestsEnv: grep ? { NIX_BUILDERS_E2E_GREP: grep } : undefined,
      launchArgs: [
        workspace,
        '--user-data-dir', userDataDir,
        '--extensions-dir', path.join(state, 'exts'),
        '--disable-workspace-trust',
        '--disable-telemetry',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-gpu',
      ],
    });
    return 0;
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`e2e (electron): ${err?.message ?? err}`);
    process.exit(1);
  },
);
