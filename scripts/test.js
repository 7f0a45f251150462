#!/usr/bin/env node
// Runs every test/**/*.test.js with node's built-in runner (Node 20's --test has
// no glob support, and given a folder it would also run the helpers).
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
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...selected], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
