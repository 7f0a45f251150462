// Every quick fix the core offers: applied to the text as an editor would, the
// result is exactly the expected text, and analyzing it again no longer gives
// the diagnostic.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');
const { applyEdits } = require('../helpers/apply-edits');

const { analyze } = loadCore('analyze');
const { parseNix } = loadCore('parser');

const KEY_LINE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnCQXlllHoLX5EvU+t6yP/npsmuxKt0skHVeJashizE';
const KEY_BLOB = KEY_LINE.split(' ')[1];
const B64 = (s) => Buffer.from(s, 'utf8').toString('base64');

function diagnose(text, file = '/cfg/configuration.nix') {
  return analyze([{ path: file, text }]).diagnostics;
}

/**
 * Finds the one diagnostic of `code` (on `at`, the text it covers, when given),
 * applies its fix (the preferred one, or the one whose title matches), and
 * returns the new text after checking the diagnostic is gone.
 */
function fix(text, code, { at, title, file } = {}) {
  const all = diagnose(text, file);
  const matching = all.filter((d) => d.code === code && (at === undefined || text.slice(d.span.start, d.span.end) === at));
  assert.equal(matching.length, 1, `one ${code}${at ? ` on ${at}` : ''} expected, got ${JSON.stringify(all.map((d) => [d.code, text.slice(d.span.start, d.span.end)]))}`);
  const d = matching[0];
  const chosen = title === undefined ? d.fixes.find((f) => f.preferred) : d.fixes.find((f) => (title instanceof RegExp ? title.test(f.title) : f.title === title));
  assert.ok(chosen, `no fix ${title ?? '(preferred)'} among ${JSON.stringify(d.fixes.map((f) => f.title))}`);
  for (const e of chosen.edits) assert.equal(e.span.file, d.span.file, 'edits stay in the diagnostic\'s file');
  const out = applyEdits(text, chosen.edits);
  const after = diagnose(out, file).filter((x) => x.code === code);
  assert.deepEqual(after.map((x) => out.slice(x.span.start, x.span.end)), [], `${code} is still reported after "${chosen.title}"`);
  if (!file || file.endsWith('.nix')) assert.equal(parseNix(out).hasError(0), parseNix(text).hasError(0), 'the fix keeps the file parseable');
  return { text: out, fix: chosen, diagnostic: d };
}

const wrap = (builder) => `{
  nix.distributedBuilds = true;
  nix.buildMachines = [
    ${builder}
  ];
}
`;

test('unknown-attribute: rename to the attribute meant', () => {
  const cases = [
    ['hostname = "a"; system = "x86_64-linux";', 'hostname', 'hostName'],
    ['hostName = "a"; system = "x86_64-linux"; sshkey = "/root/.ssh/k";', 'sshkey', 'sshKey'],
    ['hostName = "a"; system = "x86_64-linux"; maxjobs = 2;', 'maxjobs', 'maxJobs'],
    ['hostName = "a"; system = "x86_64-linux"; speedfactor = 2;', 'speedfactor', 'speedFactor'],
    ['hostName = "a"; system = "x86_64-linux"; supportedFeature = [ "kvm" ];', 'supportedFeature', 'supportedFeatures'],
    ['hostName = "a"; sytem = "x86_64-linux";', 'sytem', 'system'],
    // Names carried over from ssh_config or other tools.
    ['hostName = "a"; system = "x86_64-linux"; user = "nix";', 'user', 'sshUser'],
    ['hostName = "a"; system = "x86_64-linux"; publicKey = null;', 'publicKey', 'publicHostKey'],
    ['hostName = "a"; system = "x86_64-linux"; identityFile = "/root/.ssh/k";', 'identityFile', 'sshKey'],
  ];
  for (const [before, at, name] of cases) {
    const r = fix(wrap(`{ ${before} }`), 'unknown-attribute', { at });
    assert.equal(r.text, wrap(`{ ${before.replace(`${at} =`, `${name} =`)} }`));
    assert.equal(r.fix.title, `Rename to ${name}`);
    assert.deepEqual(diagnose(r.text), [], 'nothing else left');
  }
  // The binding written as an attribute path is renamed too.
  const r = fix(wrap('{ hostName = "a"; system = "x86_64-linux"; sshuser = "nix"; }'), 'unknown-attribute');
  assert.match(r.text, /sshUser = "nix";/);
});

test('unknown-system: replace with the system meant (list, system, machines file, builders string)', () => {
  const r1 = fix(wrap('{ hostName = "a"; systems = [ "x86_64-linux" "aarch64-linx" ]; }'), 'unknown-system');
  assert.equal(r1.text, wrap('{ hostName = "a"; systems = [ "x86_64-linux" "aarch64-linux" ]; }'));
  const r2 = fix(wrap('{ hostName = "a"; system = "aarch64-darwn"; }'), 'unknown-system');
  assert.equal(r2.text, wrap('{ hostName = "a"; system = "aarch64-darwin"; }'));
  const r3 = fix(wrap('{ hostName = "a"; systems = [ "i686linux" ]; }'), 'unknown-system');
  assert.equal(r3.text, wrap('{ hostName = "a"; systems = [ "i686-linux" ]; }'));
  // A literal shared through a let binding is fixed once, where it is written.
  const shared = `let s = "x86-64-linux"; in { nix.distributedBuilds = true; nix.buildMachines = [ { hostName = "a"; system = s; } { hostName = "b"; system = s; } ]; }`;
  assert.equal(fix(shared, 'unknown-system').text, shared.replace('x86-64-linux', 'x86_64-linux'));
  // In a machines file, only the field is replaced.
  const m = 'ssh://a x86_64-linux,aarch64-linx - 2\nssh://b x86_64-linux\n';
  assert.equal(fix(m, 'unknown-system', { file: '/etc/nix/machines' }).text, 'ssh://a x86_64-linux,aarch64-linux - 2\nssh://b x86_64-linux\n');
  // In a builders string, inside the Nix string.
  const s = '{ nix.settings.builders = "ssh://a x86_64-linux ; ssh://b riscv64-linx - 2"; }';
  assert.equal(fix(s, 'unknown-system').text, '{ nix.settings.builders = "ssh://a x86_64-linux ; ssh://b riscv64-linux - 2"; }');
  const x = "{ nix.extraOptions = ''\n    max-jobs = 2\n    builders = ssh://b riscv64-linx\n  ''; }";
  assert.equal(fix(x, 'unknown-system').text, "{ nix.extraOptions = ''\n    max-jobs = 2\n    builders = ssh://b riscv64-linux\n  ''; }");
});

test('unknown-feature: replace with the feature meant', () => {
  const cases = [
    ['big-paralel', 'big-parallel'],
    ['nixos-tests', 'nixos-test'],
    ['kvn', 'kvm'],
    ['benchmarks', 'benchmark'],
    ['gccarch-znver33', 'gccarch-znver3'],
  ];
  for (const [bad, good] of cases) {
    const r = fix(wrap(`{ hostName = "a"; system = "x86_64-linux"; supportedFeatures = [ "kvm" "${bad}" ]; }`), 'unknown-feature');
    assert.equal(r.text, wrap(`{ hostName = "a"; system = "x86_64-linux"; supportedFeatures = [ "kvm" "${good}" ]; }`));
    assert.equal(r.fix.title, `Replace with "${good}"`);
  }
  const m = 'ssh://a x86_64-linux - 1 1 big-paralel,kvm\n';
  assert.equal(fix(m, 'unknown-feature', { file: '/x/builders.machines' }).text, 'ssh://a x86_64-linux - 1 1 big-parallel,kvm\n');
});

test('invalid-protocol: use ssh or ssh-ng', () => {
  for (const [bad, good] of [['ssh-ngg', 'ssh-ng'], ['sshng', 'ssh-ng'], ['ssh://', 'ssh'], ['ssh-ng://', 'ssh-ng'], ['shh', 'ssh']]) {
    const r = fix(wrap(`{ hostName = "a"; system = "x86_64-linux"; protocol = "${bad}"; }`), 'invalid-protocol');
    assert.equal(r.text, wrap(`{ hostName = "a"; system = "x86_64-linux"; protocol = "${good}"; }`), bad);
  }
});

test('host-name-has-scheme: keep only the host', () => {
  for (const [bad, good] of [['ssh://builder', 'builder'], ['nix@builder2', 'builder2'], ['ssh-ng://nix@b.example.org', 'b.example.org']]) {
    const r = fix(wrap(`{ hostName = "${bad}"; system = "x86_64-linux"; }`), 'host-name-has-scheme');
    assert.equal(r.text, wrap(`{ hostName = "${good}"; system = "x86_64-linux"; }`), bad);
    assert.deepEqual(diagnose(r.text), []);
  }
});

test('bad-public-host-key: base64-encode a raw key line, a known_hosts line or a bare blob', () => {
  const cases = [
    ['raw key line', KEY_LINE, KEY_LINE],
    ['raw key line with comment', `${KEY_LINE} root@builder`, `${KEY_LINE} root@builder`],
    ['known_hosts line', `builder,10.0.0.5 ${KEY_LINE}`, KEY_LINE],
    ['bare blob', KEY_BLOB, KEY_LINE],
  ];
  for (const [name, pasted, line] of cases) {
    const r = fix(wrap(`{ hostName = "a"; system = "x86_64-linux"; publicHostKey = "${pasted}"; }`), 'bad-public-host-key');
    const m = /publicHostKey = "([^"]*)";/.exec(r.text);
    assert.ok(m, name);
    // What `base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub` prints: the line and its newline.
    assert.equal(Buffer.from(m[1], 'base64').toString('utf8'), `${line}\n`, name);
    assert.equal(m[1], B64(`${line}\n`), name);
    assert.equal(r.text, wrap(`{ hostName = "a"; system = "x86_64-linux"; publicHostKey = "${B64(`${line}\n`)}"; }`), name);
    assert.deepEqual(diagnose(r.text), [], name);
  }
});

test('distributed-builds-off: insert nix.distributedBuilds = true, or turn a literal false into true', () => {
  const top = '{ config, ... }:\n{\n  imports = [ ];\n\n  nix.buildMachines = [\n    { hostName = "a"; system = "x86_64-linux"; }\n  ];\n}\n';
  assert.equal(
    fix(top, 'distributed-builds-off').text,
    '{ config, ... }:\n{\n  imports = [ ];\n\n  nix.distributedBuilds = true;\n  nix.buildMachines = [\n    { hostName = "a"; system = "x86_64-linux"; }\n  ];\n}\n',
  );
  const nested = '{\n  nix = {\n    settings.max-jobs = 4;\n    buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ];\n  };\n}\n';
  assert.equal(
    fix(nested, 'distributed-builds-off').text,
    '{\n  nix = {\n    settings.max-jobs = 4;\n    distributedBuilds = true;\n    buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ];\n  };\n}\n',
  );
  const tabs = '{\r\n\tnix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ];\r\n}\r\n';
  assert.equal(fix(tabs, 'distributed-builds-off').text, '{\r\n\tnix.distributedBuilds = true;\r\n\tnix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ];\r\n}\r\n');
  const oneLine = '{ nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ]; }';
  assert.equal(fix(oneLine, 'distributed-builds-off').text, '{ nix.distributedBuilds = true; nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ]; }');
  const literal = '{\n  nix.distributedBuilds = false;\n  nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ];\n}\n';
  const r = fix(literal, 'distributed-builds-off');
  assert.equal(r.diagnostic.span.end - r.diagnostic.span.start, 'false'.length);
  assert.equal(r.text, literal.replace('false', 'true'));
  const forced = '{ lib, ... }: {\n  nix.distributedBuilds = lib.mkForce false;\n  nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ];\n}\n';
  assert.equal(fix(forced, 'distributed-builds-off').text, forced.replace('false', 'true'));
});

test('builders-list: join the machines into one string with " ; "', () => {
  const text = '{\n  nix.settings.builders = [ "ssh://a x86_64-linux" "ssh://b aarch64-linux - 4" ];\n}\n';
  const r = fix(text, 'builders-list');
  assert.equal(r.text, '{\n  nix.settings.builders = "ssh://a x86_64-linux ; ssh://b aarch64-linux - 4";\n}\n');
  assert.deepEqual(diagnose(r.text), []);
  // The joined machines are read as two builders again.
  const model = analyze([{ path: '/c.nix', text: r.text }]).model;
  assert.deepEqual(model.builders.map((b) => b.attrs.get('hostName').value.value), ['a', 'b']);
  // Characters that need escaping in a Nix string stay correct.
  const esc = '{ nix.settings.builders = [ "ssh://a x86_64-linux" \'\'ssh://b aarch64-linux /root/"k"\'\' ]; }';
  const joined = fix(esc, 'builders-list').text;
  assert.equal(joined, '{ nix.settings.builders = "ssh://a x86_64-linux ; ssh://b aarch64-linux /root/\\"k\\""; }');
});

test('wrong-type: a string where a list or a number belongs', () => {
  const cases = [
    ['systems = "x86_64-linux";', 'systems = [ "x86_64-linux" ];'],
    ['system = "x86_64-linux"; supportedFeatures = "kvm";', 'system = "x86_64-linux"; supportedFeatures = [ "kvm" ];'],
    ['system = "x86_64-linux"; maxJobs = "3";', 'system = "x86_64-linux"; maxJobs = 3;'],
    ['system = "x86_64-linux"; speedFactor = "2";', 'system = "x86_64-linux"; speedFactor = 2;'],
    ['system = "x86_64-linux"; speedFactor = "1.5";', 'system = "x86_64-linux"; speedFactor = 1.5;'],
  ];
  for (const [before, after] of cases) {
    const r = fix(wrap(`{ hostName = "a"; ${before} }`), 'wrong-type');
    assert.equal(r.text, wrap(`{ hostName = "a"; ${after} }`), before);
    assert.deepEqual(diagnose(r.text), [], before);
  }
  // "3.5" is not an integer: no fix that would only trade one error for another.
  const d = diagnose(wrap('{ hostName = "a"; system = "x86_64-linux"; maxJobs = "3.5"; }')).find((x) => x.code === 'wrong-type');
  assert.deepEqual(d.fixes, []);
});

test('ssh-key-path: quote an absolute path literal so the key stays out of the store', () => {
  const r = fix(wrap('{ hostName = "a"; system = "x86_64-linux"; sshKey = /root/.ssh/id_builder; }'), 'ssh-key-path');
  assert.equal(r.text, wrap('{ hostName = "a"; system = "x86_64-linux"; sshKey = "/root/.ssh/id_builder"; }'));
  assert.deepEqual(diagnose(r.text), []);
  // A relative path literal has no absolute path to quote: no fix.
  const rel = diagnose(wrap('{ hostName = "a"; system = "x86_64-linux"; sshKey = ./id_builder; }')).find((x) => x.code === 'ssh-key-path');
  assert.deepEqual(rel.fixes, []);
});

test('system-shadows-systems: remove system and keep systems', () => {
  const r = fix(wrap('{ hostName = "a"; system = "x86_64-linux"; systems = [ "x86_64-linux" "aarch64-linux" ]; }'), 'system-shadows-systems', {
    title: 'Remove `system` (keep systems)',
  });
  assert.equal(r.text, wrap('{ hostName = "a";  systems = [ "x86_64-linux" "aarch64-linux" ]; }'));
});

test('a fix never edits characters that are not the value it replaces', () => {
  // Escapes and interpolations break the 1:1 map between a builders-string field
  // and the document: the diagnostic stays, at the right place, and no fix may
  // corrupt the text.
  const cases = [
    '{ nix.settings.builders = "b riscv64-lin\\x"; }',
    'let h = "b4"; in { nix.extraOptions = "builders = ${h} riscv64-linx"; }',
    '{ nix.extraOptions = "builders = b4\\triscv64-linx"; }',
    '{ nix.extraOptions = "max-jobs = 1\\nbuilders = b4 riscv64-linx"; }',
  ];
  for (const text of cases) {
    const ds = diagnose(text).filter((d) => d.code === 'unknown-system');
    assert.equal(ds.length, 1, text);
    const covered = text.slice(ds[0].span.start, ds[0].span.end);
    assert.ok(covered.includes('riscv64-lin'), `${text}: the diagnostic covers ${JSON.stringify(covered)}`);
    for (const f of ds[0].fixes) {
      const out = applyEdits(text, f.edits);
      assert.equal(out, text.replace(/riscv64-lin(\\x|x)/, 'riscv64-linux'), `${text}: ${f.title}`);
    }
  }
  // And the fixes of every rule fixture leave parseable files without that diagnostic.
  const dir = path.join(__dirname, '..', 'fixtures', 'rules');
  let count = 0;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const text = fs.readFileSync(file, 'utf8');
    for (const d of diagnose(text, file)) {
      for (const f of d.fixes) {
        count++;
        const out = applyEdits(text, f.edits);
        const left = diagnose(out, file).filter((x) => x.code === d.code && x.span.start === d.span.start);
        assert.deepEqual(left, [], `${name}: "${f.title}" leaves ${d.code}`);
        if (name.endsWith('.nix')) assert.equal(parseNix(out).hasError(0), false, `${name}: "${f.title}" breaks the syntax`);
      }
    }
  }
  assert.ok(count >= 10, `only ${count} fixes in the rule fixtures`);
});
