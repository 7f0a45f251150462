// The nix-builders CLI as SPEC §2.1 describes it, run as a child process.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { readAnnotations } = require('../helpers/annotations');

const root = path.join(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'nix-builders.js');
// `check` runs --offline with no system ssh files: no lookup may leave this
// machine, and the machine's own known_hosts must not change the results.
// Host keys are checked by test/hosts/; these tests filter those codes out.
const ISOLATED = { ...process.env, NIX_BUILDERS_SSH_CONFIG: '', NIX_BUILDERS_KNOWN_HOSTS: '', NIX_BUILDERS_DNS_SERVER: '127.0.0.1:9' };
const run = (...args) =>
  spawnSync(process.execPath, [bin, ...(args[0] === 'check' && !args.includes('--offline') ? ['check', '--offline', ...args.slice(1)] : args)], {
    cwd: root,
    encoding: 'utf8',
    env: ISOLATED,
  });
const HOST_KEY_CODES = ['missing-host-key', 'host-key-name-mismatch'];
const notHostKey = (line) => !HOST_KEY_CODES.some((c) => line.includes(` ${c}: `) || line.includes(`"code": "${c}"`));
const rulesDir = 'test/fixtures/rules';
const LINE = /^(.+?):(\d+):(\d+): (error|warning|information|hint) ([a-z-]+): (.+)$/;

test.before(() => execFileSync(process.execPath, ['scripts/build.js'], { cwd: root }));

function tmpdir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('check on the example: no diagnostics, exit 0', () => {
  const r = run('check', 'examples/');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const j = run('check', '--json', '--offline', 'examples/');
  assert.equal(j.status, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), []);
});

test('check prints file:line:col: severity code: message and exits 1 on errors', () => {
  const r = run('check', 'test/fixtures/rules/unknown-system.nix', 'test/fixtures/rules/wrong-type.nix');
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.some((l) => l.startsWith('test/fixtures/rules/unknown-system.nix:4:16: warning unknown-system: "x86-64-linux"')));
  assert.ok(lines.some((l) => /^test\/fixtures\/rules\/wrong-type\.nix:6:17: error wrong-type: maxJobs must be/.test(l)));
});

test('check on the rule fixtures folder: one line per annotated diagnostic, 1-based positions', () => {
  const r = run('check', `${rulesDir}/`);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, '');
  const got = r.stdout.trimEnd().split('\n').filter(notHostKey).map((l) => {
    const m = LINE.exec(l);
    assert.ok(m, `not file:line:col: severity code: message: ${l}`);
    return { file: path.normalize(m[1]), line: Number(m[2]), col: Number(m[3]), severity: m[4], code: m[5] };
  });
  // Every annotation of every triggering fixture, and nothing from the near misses.
  // The files of one run are one configuration (SPEC §2.3: knowledge from other
  // files counts), so the configuration-wide rules are silenced by the near
  // misses that set nix.distributedBuilds or define builders: those two are
  // checked file by file below.
  const WIDE = ['distributed-builds-off', 'local-builds-disabled'];
  const expected = [];
  for (const name of fs.readdirSync(path.join(root, rulesDir)).sort()) {
    if (name.includes('.ok.')) continue;
    const file = path.join(rulesDir, name);
    for (const a of readAnnotations(fs.readFileSync(path.join(root, file), 'utf8'))) {
      expected.push(`${file}:${a.line + 1}:${a.start + 1} ${a.code}`);
    }
  }
  const key = (g) => `${g.file}:${g.line}:${g.col} ${g.code}`;
  assert.deepEqual(got.map(key).sort(), expected.filter((e) => !WIDE.some((c) => e.endsWith(` ${c}`))).sort());
  for (const code of WIDE) {
    const alone = run('check', `${rulesDir}/${code}.nix`);
    assert.equal(alone.status, code === 'local-builds-disabled' ? 1 : 0);
    const lines = alone.stdout.trimEnd().split('\n').filter(notHostKey).map((l) => LINE.exec(l));
    assert.deepEqual(lines.map((m) => m && key({ file: m[1], line: m[2], col: m[3], code: m[5] })), expected.filter((e) => e.endsWith(` ${code}`)));
  }
  assert.ok(got.every((g) => !g.file.includes('.ok.')));
  assert.ok(got.some((g) => g.file.endsWith('machines-syntax.machines')), 'machines files in the folder are checked');
  assert.ok(got.some((g) => g.severity === 'error') && got.some((g) => g.severity === 'warning') && got.some((g) => g.severity === 'information'));
});

test('--json gives the SPEC shape with 0-based LSP ranges, the same diagnostics as the text', () => {
  const r = run('check', '--json', 'test/fixtures/rules/unknown-system.nix');
  assert.equal(r.status, 0, 'warnings only');
  const out = JSON.parse(r.stdout).filter((d) => !HOST_KEY_CODES.includes(d.code));
  assert.equal(out.length, 2);
  assert.deepEqual(Object.keys(out[0]).sort(), ['code', 'file', 'message', 'range', 'severity']);
  assert.deepEqual(out[0].range, { start: { line: 3, character: 15 }, end: { line: 3, character: 29 } });
  assert.equal(out[0].severity, 'warning');

  const text = run('check', rulesDir).stdout.trimEnd().split('\n');
  const json = run('check', '--json', rulesDir);
  assert.equal(json.status, 1);
  const all = JSON.parse(json.stdout);
  assert.ok(Array.isArray(all));
  assert.equal(all.length, text.length);
  all.forEach((d, i) => {
    assert.deepEqual(Object.keys(d).sort(), ['code', 'file', 'message', 'range', 'severity']);
    assert.ok(['error', 'warning', 'information', 'hint'].includes(d.severity));
    for (const p of [d.range.start, d.range.end]) {
      assert.deepEqual(Object.keys(p).sort(), ['character', 'line']);
      assert.ok(Number.isInteger(p.line) && p.line >= 0 && Number.isInteger(p.character) && p.character >= 0);
    }
    assert.equal(text[i], `${d.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} ${d.code}: ${d.message}`);
  });
});

test('columns are UTF-16 code units, as in LSP', () => {
  const dir = tmpdir('nb-utf16-');
  const file = path.join(dir, 'emoji.nix');
  // On the faulty line: `  nix.buildMachines = [ { ` 26, `hostName = "` 12 → 38, 星 1 → 39, 🦀 2 → 41,
  // `"; system = ` 12 → 53 UTF-16 units (52 code points, 57 UTF-8 bytes).
  fs.writeFileSync(file, '{\r\n  # 🦀\r\n  nix.distributedBuilds = true;\r\n  nix.buildMachines = [ { hostName = "星🦀"; system = "x86-64-linux"; } ];\r\n}\r\n');
  const r = run('check', '--json', file);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).filter((d) => !HOST_KEY_CODES.includes(d.code)).map((d) => [d.code, d.range]), [
    ['unknown-system', { start: { line: 3, character: 53 }, end: { line: 3, character: 67 } }],
  ]);
  assert.match(run('check', file).stdout, /emoji\.nix:4:54: warning unknown-system: /);
});

test('machines prints the three lines NixOS writes for the example', () => {
  const r = run('machines', 'examples/distributed-builds.nix');
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout,
    [
      'ssh://ryan@aquamarine x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 3 1 benchmark,big-parallel,kvm - -',
      'ssh://ryan@ruby x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
      'ssh://ryan@kana x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
      '',
    ].join('\n'),
  );
  assert.equal(r.stderr, '');
});

test('bad usage exits 2 with a message on stderr', () => {
  const cases = [
    [[], /a command is needed/],
    [['check'], /at least one PATH/],
    [['check', 'no/such/path.nix'], /no such file or folder: no\/such\/path\.nix/],
    [['check', 'examples/', 'missing-too'], /missing-too/],
    [['check', '--bogus', 'examples/'], /unknown option --bogus/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['machines'], /exactly one PATH/],
    [['machines', 'no/such.nix'], /no such file or folder/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `args ${JSON.stringify(args)}`);
    assert.match(r.stderr, /^nix-builders: /, `args ${JSON.stringify(args)}`);
    assert.match(r.stderr, message, `args ${JSON.stringify(args)}`);
    assert.equal(r.stdout, '', `args ${JSON.stringify(args)}`);
  }
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /nix-builders check/);
  const version = run('--version');
  assert.equal(version.stdout.trim(), require('../../package.json').version);
});

test('folders: result links are not followed; binary and invalid UTF-8 files do not crash', () => {
  const dir = tmpdir('nb-cli-');
  const outside = tmpdir('nb-out-');
  fs.writeFileSync(path.join(outside, 'bad.nix'), '{ nix.buildMachines = [ { hostname = "x"; } ]; }');
  fs.symlinkSync(outside, path.join(dir, 'result'));
  fs.writeFileSync(path.join(dir, 'binary.nix'), Buffer.from([0, 255, 254, 10, 0, 123, 34]));
  fs.writeFileSync(path.join(dir, 'random.nix'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
  fs.writeFileSync(path.join(dir, 'machines'), Buffer.from([0, 1, 2, 0xff, 10, 0xc3]));
  fs.writeFileSync(path.join(dir, 'ok.nix'), '{ nix.distributedBuilds = true; }');
  const r = run('check', dir);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '');
  // The file behind the link is a real problem: checked when given directly.
  assert.equal(run('check', path.join(outside, 'bad.nix')).status, 1);
});

test('a problem after invalid UTF-8 bytes is still found, on the right line', () => {
  const dir = tmpdir('nb-latin1-');
  const file = path.join(dir, 'latin1.nix');
  // A Latin-1 comment (invalid UTF-8), then a real error two lines below.
  fs.writeFileSync(
    file,
    Buffer.concat([
      Buffer.from('{\n  # caf'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('\n  nix.distributedBuilds = true;\n  nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; maxJobs = "3"; } ];\n}\n'),
    ]),
  );
  const r = run('check', file);
  assert.equal(r.status, 1, r.stderr);
  // `  nix.buildMachines = [ { ` 26 + `hostName = "a"; ` 16 + `system = "x86_64-linux"; ` 25 + `maxJobs = ` 10 = 77.
  assert.match(r.stdout, /latin1\.nix:4:78: error wrong-type: maxJobs must be/);
});

test('output piped into a reader that stops early: no crash, no stack trace', () => {
  const dir = tmpdir('nb-pipe-');
  let text = '{ nix.distributedBuilds = true; nix.buildMachines = [\n';
  for (let i = 0; i < 3000; i++) text += `  { hostName = "h${i}"; system = "x86-64-linux-${i}"; }\n`;
  text += '  { hostName = "last"; system = "x86_64-linux"; maxJobs = "3"; }\n]; }\n';
  fs.writeFileSync(path.join(dir, 'many.nix'), text);
  const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${bin}" check "${dir}" | head -n 1; exit 0`], { encoding: 'utf8' });
  assert.equal(r.stdout.split('\n').length, 2, 'one line read');
  assert.equal(r.stderr, '', 'nothing on stderr');
});
