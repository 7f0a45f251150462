// The nix-builders CLI as SPEC §2.1 describes it, run as a child process.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'nix-builders.js');
const run = (...args) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });

test.before(() => execFileSync(process.execPath, ['scripts/build.js'], { cwd: root }));

test('check on the example: no diagnostics, exit 0', () => {
  const r = run('check', 'examples/');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
});

test('check prints file:line:col: severity code: message and exits 1 on errors', () => {
  const r = run('check', 'test/fixtures/rules/unknown-system.nix', 'test/fixtures/rules/wrong-type.nix');
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes(lines.find((l) => l.startsWith('test/fixtures/rules/unknown-system.nix:4:16: warning unknown-system: "x86-64-linux"'))));
  assert.ok(lines.some((l) => /^test\/fixtures\/rules\/wrong-type\.nix:6:17: error wrong-type: maxJobs must be/.test(l)));
});

test('--json gives the SPEC shape with 0-based LSP ranges', () => {
  const r = run('check', '--json', 'test/fixtures/rules/unknown-system.nix');
  assert.equal(r.status, 0, 'warnings only');
  const out = JSON.parse(r.stdout);
  assert.equal(out.length, 2);
  assert.deepEqual(Object.keys(out[0]).sort(), ['code', 'file', 'message', 'range', 'severity']);
  assert.deepEqual(out[0].range, { start: { line: 3, character: 15 }, end: { line: 3, character: 29 } });
  assert.equal(out[0].severity, 'warning');
});

test('machines prints the three lines NixOS writes for the example', () => {
  const r = run('machines', 'examples/distributed-builds.nix');
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'ssh://ryan@aquamarine x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 3 1 benchmark,big-parallel,kvm - -',
    'ssh://ryan@ruby x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
    'ssh://ryan@kana x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
  ]);
});

test('bad usage exits 2 with a message', () => {
  for (const args of [[], ['check'], ['check', 'no/such/path.nix'], ['check', '--bogus', 'examples/'], ['frobnicate'], ['machines']]) {
    const r = run(...args);
    assert.equal(r.status, 2, `args ${JSON.stringify(args)}`);
    assert.match(r.stderr, /nix-builders: .+/);
  }
});

test('folders: result links are not followed; binary files do not crash', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-cli-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-out-'));
  fs.writeFileSync(path.join(outside, 'bad.nix'), '{ nix.buildMachines = [ { hostname = "x"; } ]; }');
  fs.symlinkSync(outside, path.join(dir, 'result'));
  fs.writeFileSync(path.join(dir, 'binary.nix'), Buffer.from([0, 255, 254, 10, 0, 123, 34]));
  fs.writeFileSync(path.join(dir, 'ok.nix'), '{ nix.distributedBuilds = true; }');
  const r = run('check', dir);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
});
