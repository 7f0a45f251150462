// Entry point loaded by the extension host (extensionTestsPath): runs every
// *.test.js beside it with mocha and ends with a `N passed, N failed` line.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const Mocha = require('mocha');

// The workbench forwards every console line of the window to the launcher; the
// suite's own lines carry this prefix so the launcher can show just those.
const MARK = '[e2e] ';
function log(...args) {
  for (const line of util.format(...args).split('\n')) console.log(MARK + line);
}

function run() {
  Mocha.reporters.Base.consoleLog = log;
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 60_000, slow: 5_000 });
  const grep = process.env.NIX_BUILDERS_E2E_GREP;
  if (grep) mocha.grep(grep);
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (f.endsWith('.test.js')) mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const passed = runner.stats?.passes ?? 0;
        const skipped = runner.stats?.pending ?? 0;
        log(`extension host: ${passed} passed, ${failures} failed${skipped ? `, ${skipped} skipped` : ''}`);
        if (failures > 0) reject(new Error(`${failures} e2e test(s) failed`));
        else resolve();
      });
    } catch (err) {
      reject(err);
    }
  });
}

module.exports = { run };
