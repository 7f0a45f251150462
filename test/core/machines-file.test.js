// The machines-file / builders parser (SPEC 1.2) and the NixOS line renderer (SPEC 1.1).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadCore } = require('../helpers/load-ts.js');

const { parseMachines, renderMachineLine, nixToString } = loadCore('machines-file');

const FILE = '/etc/nix/machines';
const identity = (start, end) => ({ file: FILE, start, end });
const parse = (text) => parseMachines(text, identity);
const slice = (text, span) => text.slice(span.start, span.end);
const fieldTexts = (entry) => entry.fields.map((f) => f.text);

/** Diagnostics of a single machine line, as [fieldText, message] pairs. */
function diagsOf(line) {
  const { diagnostics } = parse(line);
  for (const d of diagnostics) {
    assert.equal(d.code, 'machines-syntax');
    assert.equal(d.severity, 'error');
    assert.deepEqual(d.fixes, []);
    assert.equal(d.span.file, FILE);
  }
  return diagnostics.map((d) => [slice(line, d.span), d.message]);
}

test('entries split on newlines and ";", comments cut, blank entries skipped, tabs split fields', () => {
  const text =
    'ssh://a x86_64-linux - 2 1 kvm;ssh-ng://b\taarch64-linux  # comment ; c\n' +
    '\n   # only a comment\n  ;;  \n  d\t \n';
  const { entries, diagnostics } = parse(text);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(entries.map(fieldTexts), [
    ['ssh://a', 'x86_64-linux', '-', '2', '1', 'kvm'],
    ['ssh-ng://b', 'aarch64-linux'],
    ['c'], // Nix splits on ';' before cutting at '#', so this is a real entry
    ['d'],
  ]);
  assert.deepEqual(entries.map((e) => slice(text, e.span)), [
    'ssh://a x86_64-linux - 2 1 kvm',
    'ssh-ng://b\taarch64-linux',
    'c',
    'd',
  ]);
  for (const e of entries) {
    assert.equal(e.include, undefined);
    for (const f of e.fields) assert.equal(slice(text, f.span), f.text);
  }
  const second = entries[1];
  assert.deepEqual(second.fields[1].span, { file: FILE, start: text.indexOf('aarch64'), end: text.indexOf('aarch64') + 13 });
});

test('CRLF: \\r is neither part of a field nor of the entry span', () => {
  const text = 'ssh://a x86_64-linux\r\nssh://b - - 4\r\n\r\n';
  const { entries, diagnostics } = parse(text);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(entries.map(fieldTexts), [['ssh://a', 'x86_64-linux'], ['ssh://b', '-', '-', '4']]);
  assert.equal(slice(text, entries[0].span), 'ssh://a x86_64-linux');
  assert.equal(slice(text, entries[1].span), 'ssh://b - - 4');
});

test('@/path entries are includes, with the path trimmed and located', () => {
  const text = '@/etc/nix/machines # default\n  @ /etc/nix/more machines ; ssh://x';
  const { entries, diagnostics } = parse(text);
  assert.deepEqual(diagnostics, []);
  assert.equal(entries.length, 3);
  assert.deepEqual(entries[0].fields, []);
  assert.equal(entries[0].include.path, '/etc/nix/machines');
  assert.equal(slice(text, entries[0].include.span), '/etc/nix/machines');
  assert.equal(slice(text, entries[0].span), '@/etc/nix/machines');
  // Nix keeps the rest of the entry as the path, spaces included
  assert.equal(entries[1].include.path, '/etc/nix/more machines');
  assert.equal(slice(text, entries[1].include.span), '/etc/nix/more machines');
  assert.deepEqual(fieldTexts(entries[2]), ['ssh://x']);
  // an include is never checked as a machine line
  assert.deepEqual(parse('@/x two fast !!').diagnostics, []);
});

test('locate maps text offsets to document spans', () => {
  const text = 'ssh://a - - two';
  const shifted = (start, end) => ({ file: 'flake.nix', start: start + 100, end: end + 100 });
  const { entries, diagnostics } = parseMachines(text, shifted);
  assert.deepEqual(entries[0].span, { file: 'flake.nix', start: 100, end: 115 });
  assert.deepEqual(entries[0].fields[0].span, { file: 'flake.nix', start: 100, end: 107 });
  assert.equal(diagnostics.length, 1);
  assert.deepEqual(diagnostics[0].span, { file: 'flake.nix', start: 112, end: 115 });
});

test('empty and comment-only input yields nothing', () => {
  for (const t of ['', '\n', ';', ' \t ', '# all comment; # more', '\r\n\r\n']) {
    assert.deepEqual(parse(t), { entries: [], diagnostics: [] }, JSON.stringify(t));
  }
});

test('maxJobs (field 4) must be an unsigned integer', () => {
  const [[field, message]] = diagsOf('ssh://a x86_64-linux - two 1');
  assert.equal(field, 'two');
  assert.equal(message, 'maxJobs (field 4) must be an unsigned integer, got "two": Nix rejects this machines line. Write a number such as 2.');
  assert.match(diagsOf('ssh://a - - -1')[0][1], /got "-1".*Write 0 to keep the builder idle/);
  assert.match(diagsOf('ssh://a - - 2.5')[0][1], /Write a whole number such as 3\./);
  assert.equal(diagsOf('ssh://a - - 4294967296')[0][0], '4294967296');
  assert.equal(diagsOf('ssh://a - - 0x10').length, 1);
  // near misses Nix accepts
  for (const ok of ['0', '1', '03', '+3', '4294967295', '-']) {
    assert.deepEqual(diagsOf(`ssh://a - - ${ok}`), [], ok);
  }
});

test('speedFactor (field 5) must be a non-negative float', () => {
  const [[field, message]] = diagsOf('ssh://a - - 1 fast');
  assert.equal(field, 'fast');
  assert.match(message, /^speedFactor \(field 5\) must be a number, got "fast": Nix rejects this machines line\./);
  assert.equal(diagsOf('ssh://a - - 1 1,5').length, 1);
  assert.equal(diagsOf('ssh://a - - 1 1e').length, 1);
  const [[negField, negMessage]] = diagsOf('ssh://a - - 1 -2');
  assert.equal(negField, '-2');
  assert.match(negMessage, /must not be negative.*speed factor must be >= 0/);
  assert.equal(diagsOf('ssh://a - - 1 -inf').length, 1);
  for (const ok of ['1', '0', '1.5', '2.000000', '.5', '5.', '1e3', '+2', '-0', 'inf', 'NaN', '-']) {
    assert.deepEqual(diagsOf(`ssh://a - - 1 ${ok}`), [], ok);
  }
});

test('publicHostKey (field 8) must be standard base64', () => {
  // the raw key line pasted: its spaces make "ssh-ed25519" field 8
  const raw = 'ssh://a x86_64-linux - 1 1 - - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnCQXll root@a';
  const [[field, message]] = diagsOf(raw);
  assert.equal(field, 'ssh-ed25519');
  assert.match(message, /"-" at position 4 is not a base64 character: Nix rejects this machines line\. This looks like the raw key line/);
  assert.equal(diagsOf('ssh://a - - - - - - c3No_LWVk').length, 1); // base64url is not accepted
  assert.equal(diagsOf('ssh://a - - - - - - c3No.LWVk').length, 1);
  for (const ok of [
    'c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUVCAAAA', // no padding
    'c3NoLWVkMjU1MTk=',
    'YQ==',
    'YQ=!!', // Nix's decoder stops at the first '='
    'ab+/',
    '-',
  ]) {
    assert.deepEqual(diagsOf(`ssh://a - - - - - - ${ok}`), [], ok);
  }
  // extra fields after the 8th are ignored
  assert.deepEqual(diagsOf('ssh://a - - - - - - YQ== extra !!'), []);
});

test('store URI (field 1): "-", binary caches and unknown schemes are rejected', () => {
  const [[f1, m1]] = diagsOf('- x86_64-linux');
  assert.equal(f1, '-');
  assert.match(m1, /field 1.*rejects this machines line/);
  const [[f2, m2]] = diagsOf('https://cache.nixos.org x86_64-linux');
  assert.equal(f2, 'https://cache.nixos.org');
  assert.match(m2, /binary cache, not a builder/);
  assert.equal(diagsOf('file:///var/cache x86_64-linux').length, 1);
  const [[, m3]] = diagsOf('shh://builder x86_64-linux');
  assert.match(m3, /unknown scheme "shh:\/\/".*Did you mean ssh:\/\/\?/);
  assert.match(diagsOf('ssh-mg://builder')[0][1], /Did you mean ssh-ng:\/\/\?/);
  assert.match(diagsOf('://builder')[0][1], /empty scheme/);
  for (const ok of [
    'ssh://builder', 'ssh-ng://ryan@builder', 'mounted-ssh-ng://builder', 'SSH://builder', 'builder',
    'ryan@builder', 'builder:2222', 'auto', 'daemon', 'local', 'local?root=/x', '/some/store', 'unix:///run/nix',
  ]) {
    assert.deepEqual(diagsOf(`${ok} x86_64-linux`), [], ok);
  }
});

test('several errors on one line are all reported, in field order', () => {
  const line = 'shh://a x86_64-linux - two fast - - not-base64';
  assert.deepEqual(diagsOf(line).map(([f]) => f), ['shh://a', 'two', 'fast', 'not-base64']);
});

test('never throws, spans stay inside the text and in order', () => {
  const alphabet = ['a', ' ', '\t', '\n', '\r', ';', '#', '@', '-', '=', '/', ':', '1', '.', '\uD83D', 'é', '+'];
  let seed = 42;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 500; round++) {
    let text = '';
    const len = rand(60);
    for (let i = 0; i < len; i++) text += alphabet[rand(alphabet.length)];
    const { entries } = parse(text);
    let last = 0;
    for (const e of entries) {
      assert.ok(e.span.start >= last && e.span.end <= text.length && e.span.start < e.span.end);
      for (const f of e.fields) {
        assert.ok(f.span.start >= e.span.start && f.span.end <= e.span.end);
        assert.equal(slice(text, f.span), f.text);
        assert.ok(!/[ \t\r\n;#]/.test(f.text));
      }
      last = e.span.end;
    }
  }
});

test('100,000 lines parse in well under a second', () => {
  const line = 'ssh-ng://ryan@builder x86_64-linux,aarch64-linux /root/.ssh/id 8 1.5 kvm,big-parallel - c3NoLWVkMjU1MTk=';
  const text = Array.from({ length: 100000 }, (_, i) => (i % 10 === 0 ? `# comment ${i}` : line)).join('\n');
  const t0 = process.hrtime.bigint();
  const { entries, diagnostics } = parse(text);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(entries.length, 90000);
  assert.equal(diagnostics.length, 0);
  assert.ok(ms < 1000, `took ${ms} ms`);
});

const ryan = (hostName, maxJobs) => ({
  protocol: 'ssh',
  sshUser: 'ryan',
  hostName,
  system: null,
  systems: ['x86_64-linux', 'aarch64-linux', 'riscv64-linux'],
  sshKey: '/home/ryan/.ssh/ai-idols',
  maxJobs,
  speedFactor: 1,
  supportedFeatures: ['benchmark', 'big-parallel', 'kvm'],
  mandatoryFeatures: [],
  publicHostKey: null,
});

test('renderMachineLine: the three builders of examples/distributed-builds.nix', () => {
  assert.equal(renderMachineLine(ryan('aquamarine', 3)),
    'ssh://ryan@aquamarine x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 3 1 benchmark,big-parallel,kvm - -');
  assert.equal(renderMachineLine(ryan('ruby', 2)),
    'ssh://ryan@ruby x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -');
  assert.equal(renderMachineLine(ryan('kana', 2)),
    'ssh://ryan@kana x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -');
});

test('renderMachineLine: defaults, system over systems, mandatory features, host key, floats', () => {
  const bare = {
    protocol: null, sshUser: null, hostName: 'localhost', system: null, systems: [], sshKey: null,
    maxJobs: 1, speedFactor: 1, supportedFeatures: [], mandatoryFeatures: [], publicHostKey: null,
  };
  assert.equal(renderMachineLine(bare), 'localhost - - 1 1 - - -');
  assert.equal(
    renderMachineLine({
      ...bare, protocol: 'ssh-ng', hostName: 'b', system: 'aarch64-linux', systems: ['x86_64-linux'],
      supportedFeatures: ['kvm'], mandatoryFeatures: ['big-parallel'], publicHostKey: 'c3NoLWVkMjU1MTk=',
      maxJobs: 0, speedFactor: 1.5,
    }),
    'ssh-ng://b aarch64-linux - 0 1.500000 kvm,big-parallel big-parallel c3NoLWVkMjU1MTk=',
  );
  assert.equal(renderMachineLine({ ...bare, speedFactor: 2, speedFactorIsFloat: true }), 'localhost - - 1 2.000000 - - -');
});

test('nixToString matches Nix (C "%f" for floats, as nix-instantiate prints them)', () => {
  assert.equal(nixToString(3), '3');
  assert.equal(nixToString(-7), '-7');
  assert.equal(nixToString(1.5), '1.500000');
  assert.equal(nixToString(2, true), '2.000000');
  assert.equal(nixToString(0.1), '0.100000');
  assert.equal(nixToString(3.14159265), '3.141593');
  assert.equal(nixToString(0.0078125), '0.007812'); // exact tie: rounds half to even like printf
  assert.equal(nixToString(0.0000015), '0.000002');
  assert.equal(nixToString(123456789.123456789), '123456789.123457');
  assert.equal(nixToString(1e10, true), '10000000000.000000');
  assert.equal(nixToString(-0.25), '-0.250000');
});

test('a rendered line parses back to 8 clean fields', () => {
  const line = renderMachineLine({ ...ryan('aquamarine', 3), speedFactor: 2.5, publicHostKey: 'c3NoLWVkMjU1MTkgQUFBQQ' });
  const { entries, diagnostics } = parse(line);
  assert.deepEqual(diagnostics, []);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].fields.length, 8);
  assert.equal(entries[0].fields[4].text, '2.500000');
});
