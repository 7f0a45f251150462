#!/usr/bin/env node
// Runs the e2e mocha suite (test/e2e/suite) inside a real VS Code extension
// host: code-server on 127.0.0.1, driven by headless Chromium through
// playwright-core (shared/E2E.md), then the UI checks (test/e2e/ui.js) against
// the same server. Ends with `e2e: N passed, N failed`.
//
//   node test/e2e/run-code-server.js [--package | --vsix FILE | --extension-path DIR] [--grep TEXT] [--keep]
//
// By default the extension is loaded from this checkout (after a build).
// --package: pack a VSIX first (scripts/package.js, with its checks) and test
// that, unpacked: what users install, under code-server's own Node (npm test).
// --vsix FILE: test that package. --extension-path DIR: load that folder.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { startCodeServer, ensureInstalled } = require('../../scripts/code-server');
const { root, prepareWorkspace, writeUserSettings } = require('./workspace');
const { UI_TESTS } = require('./ui');

const SUITE_TIMEOUT_MS = 300_000;
const UI_TEST_TIMEOUT_MS = 120_000;

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The workbench URL for a folder, with VS Code's web-test payload. */
function workbenchUrl(server, folder, payload) {
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const entries = Object.entries(payload).map(([k, v]) => [k, k.endsWith('Path') ? remote(v) : v]);
  return `${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(entries))}`;
}

async function launchBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

async function newPage(browser, server) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  return context.newPage();
}

/** Runs the mocha suite in the extension host; resolves to { passed, failed, exitCode }. */
async function runSuite(browser, server, workspace, extensionPath, logFile) {
  const page = await newPage(browser, server);
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const exit = new Promise((resolve) => {
    void page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = util.format(...(Array.isArray(args) ? args : [args]));
    fs.appendFileSync(logFile, `${type}: ${text}\n`);
    // Only the suite's own lines (see suite/index.js); the rest is the workbench's chatter.
    if (!text.startsWith('[e2e] ')) {
      if (type === 'error' && /nix-builders|test\/e2e/.test(text)) process.stderr.write(`${text}\n`);
      return;
    }
    const line = text.slice('[e2e] '.length);
    const m = /^extension host: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/.exec(line.trim());
    if (m) {
      counts.passed = Number(m[1]);
      counts.failed = Number(m[2]);
      counts.skipped = Number(m[3] ?? 0);
    }
    process.stdout.write(`${line}\n`);
  });
  const url = workbenchUrl(server, workspace, {
    extensionDevelopmentPath: extensionPath,
    extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
    skipWelcome: 'true',
  });
  await page.goto(url);
  let exitCode;
  try {
    exitCode = await withTimeout(exit, SUITE_TIMEOUT_MS, 'the extension-host suite');
  } catch (err) {
    console.error(`e2e: ${err.message}`);
    exitCode = 1;
  }
  await page.context().close();
  if (exitCode !== 0 && counts.failed === 0) counts.failed = 1; // it failed before reporting
  return { ...counts, exitCode };
}

async function runUiTests(browser, server, workspaces, extensionPath, artifacts) {
  const counts = { passed: 0, failed: 0 };
  const grep = option('--grep');
  for (const t of UI_TESTS) {
    if (grep && !t.name.includes(grep)) continue;
    // A workspace of its own: the workbench restores unsaved editors per folder.
    const workspace = prepareWorkspace(path.join(workspaces, t.slug));
    const page = await newPage(browser, server);
    const url = workbenchUrl(server, workspace, { extensionDevelopmentPath: extensionPath, skipWelcome: 'true' });
    const started = Date.now();
    try {
      await withTimeout(t.run({ page, url, workspace, artifacts }), UI_TEST_TIMEOUT_MS, t.name);
      counts.passed++;
      console.log(`  ✔ UI: ${t.name} (${Date.now() - started} ms)`);
    } catch (err) {
      counts.failed++;
      const shot = path.join(artifacts, `${t.slug}-failure.png`);
      await page.screenshot({ path: shot }).catch(() => undefined);
      console.log(`  ✘ UI: ${t.name}\n    ${String(err?.stack ?? err).split('\n').join('\n    ')}\n    screenshot: ${path.relative(root, shot)}`);
    }
    await page.context().close();
  }
  return counts;
}

async function main() {
  const started = Date.now();
  let vsix = option('--vsix');
  if (process.argv.includes('--package')) {
    const { pack, verify } = require('../../scripts/package');
    vsix = pack({ quiet: true, out: path.join(os.tmpdir(), `nix-builders-e2e-${process.pid}.vsix`) });
    await verify(vsix);
    console.log(`e2e: testing ${path.basename(vsix)} (${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB)`);
  }
  const unpacked = vsix ? require('../../scripts/package').unpack(path.resolve(vsix)) : undefined;
  const extensionPath = unpacked?.extension ?? path.resolve(option('--extension-path') ?? root);
  const keep = process.argv.includes('--keep');
  if (option('--grep')) process.env.NIX_BUILDERS_E2E_GREP = option('--grep');
  if (extensionPath === root) {
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  for (const f of ['client/out/extension.js', 'server/out/server.js', 'server/out/cli.js']) {
    if (!fs.existsSync(path.join(extensionPath, f))) throw new Error(`${f} missing in ${extensionPath}`);
  }
  ensureInstalled();
  const installed = Date.now();

  const artifacts = path.join(root, '.e2e', 'artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-e2e-'));
  const suiteWs = prepareWorkspace(path.join(state, 'workspaces', 'suite'));
  writeUserSettings(path.join(state, 'user'));
  const log = path.join(artifacts, 'code-server.log');
  for (const f of fs.readdirSync(artifacts)) fs.rmSync(path.join(artifacts, f), { force: true, recursive: true });

  console.log(`e2e: code-server on 127.0.0.1, extension ${path.relative(root, extensionPath) || '.'}, state ${state}`);
  const server = await startCodeServer({ stateDir: state, log, smokeTestDriver: true, extraArgs: ['--ignore-last-opened'] });
  let browser;
  let suite = { passed: 0, failed: 1 };
  let ui = { passed: 0, failed: 0 };
  try {
    browser = await launchBrowser();
    const t0 = Date.now();
    suite = await runSuite(browser, server, suiteWs, extensionPath, path.join(artifacts, 'extension-host.log'));
    console.log(`e2e: extension-host suite ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const t1 = Date.now();
    ui = await runUiTests(browser, server, path.join(state, 'workspaces', 'ui'), extensionPath, artifacts);
    console.log(`e2e: UI checks ${((Date.now() - t1) / 1000).toFixed(1)} s, screenshots in ${path.relative(root, artifacts)}/`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
    if (!keep) fs.rmSync(state, { recursive: true, force: true });
    if (unpacked && !keep) fs.rmSync(unpacked.dir, { recursive: true, force: true });
    if (process.argv.includes('--package') && !keep) fs.rmSync(vsix, { force: true });
  }
  const passed = suite.passed + ui.passed;
  const failed = suite.failed + ui.failed;
  console.log(
    `e2e: ${((Date.now() - started) / 1000).toFixed(1)} s in all (set-up ${((installed - started) / 1000).toFixed(1)} s)`,
  );
  console.log(`e2e: ${passed} passed, ${failed} failed${suite.skipped ? `, ${suite.skipped} skipped` : ''}`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`e2e: ${err?.stack ?? err}`);
    console.log('e2e: 0 passed, 1 failed');
    process.exit(1);
  },
);
