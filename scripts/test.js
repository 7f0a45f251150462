#!/usr/bin/env node
// Runs every test/**/*.test.js with node's built-in runner (Node 20's --test has
// no glob support, and given a folder it would also run the helpers), then the
// end-to-end suite in a real VS Code on the packaged extension
// (test/e2e/run-code-server.js --package). Arguments
// select by path prefix: `node scripts/test.js test/core` or `… test/e2e`.
// NIX_BUILDERS_SKIP_E2E=1 leaves the e2e step out.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const only = process.argv.slice(2);
const files = [];
const stack = [path.join(root, 'test')];
while (stack.length > 0) {
  const dir = stack.pop();
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures' && e.name !== 'e2e') stack.push(full);
    else if (e.isFile() && e.name.endsWith('.test.js')) files.push(path.relative(root, full));
  }
}
const selected = files.sort().filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
let status = 0;
if (selected.length > 0) {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...selected], { cwd: root, stdio: 'inherit' });
  status = r.status ?? 1;
}
const e2e = only.length === 0 ? !process.env.NIX_BUILDERS_SKIP_E2E : only.some((o) => 'test/e2e'.startsWith(o.replace(/\/$/, '')) || o.startsWith('test/e2e'));
if (e2e) {
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'e2e', 'run-code-server.js'), '--package'], { cwd: root, stdio: 'inherit' });
  if ((r.status ?? 1) !== 0) status = r.status ?? 1;
}
process.exit(status);
