// What a probe turns into: Fetch host key edits, Fill systems and features
// (with shared let bindings), and host-key-changed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');
const { applyEdits } = require('../helpers/apply-edits');

const { analyze } = loadCore('analyze');
const { fetchedKeyFixes, fillSystemsAndFeatures, hostKeyChanged } = loadCore('probe-edits');
const { decodePublicHostKey } = loadCore('ssh-keys');

const env = { sshConfigFiles: [], knownHostsFiles: [], lookups: false, checkHostKeys: true, resolve: () => undefined };
const example = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'distributed-builds.nix'), 'utf8');
const NEW = { type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIE7n11XxB8B3HjdyAsL3PuLVDZxWCzEOUTJAY8+goQmW', fingerprint: 'SHA256:x' };

const run = (text) => analyze([{ path: '/w/c.nix', text }], env);

test('fetch host key: a knownHosts entry with every looked-up name, and the publicHostKey alternative', () => {
  const text = '{\n  nix.distributedBuilds = true;\n  nix.buildMachines = [ { hostName = "b.lan:2222"; systems = [ "x86_64-linux" ]; } ];\n}\n';
  const a = run(text);
  const fixes = fetchedKeyFixes(a.model, a.hosts, a.model.builders[0], NEW);
  assert.equal(fixes.length, 2);
  const out = applyEdits(text, fixes[0].edits);
  assert.ok(out.includes(`programs.ssh.knownHosts."b.lan" = {\n    hostNames = [ "b.lan" "[b.lan]:2222" ];\n    publicKey = "ssh-ed25519 ${NEW.key}";\n  };`), out);
  assert.deepEqual(run(out).diagnostics.map((d) => d.code), []);
  const out2 = applyEdits(text, fixes[1].edits);
  const m = /publicHostKey = "([^"]+)"/.exec(out2);
  assert.ok(m, out2);
  assert.equal(decodePublicHostKey(m[1]).line, `ssh-ed25519 ${NEW.key}`);
});

test('fill: shared let bindings are edited only when every builder using them reports the same', () => {
  const a = run(example);
  const [aquamarine, ruby, kana] = a.model.builders;
  const report = { systems: ['x86_64-linux', 'i686-linux'], features: ['kvm', 'nixos-test'] };
  // Only one builder probed: it gets its own attributes; the shared binding stays.
  const alone = fillSystemsAndFeatures(a.model, aquamarine, report);
  assert.match(alone.notes.join(' '), /shared with 2 other/);
  const out = applyEdits(example, alone.fix.edits);
  assert.ok(out.includes('inherit sshUser sshKey;'), 'systems and supportedFeatures leave the inherit of the first builder');
  assert.ok(out.includes('systems = [ "x86_64-linux" "i686-linux" ];'));
  const after = run(out).model.builders;
  assert.deepEqual(after[0].attrs.get('supportedFeatures').value.items.map((t) => t.force().value), ['kvm', 'nixos-test']);
  assert.deepEqual(after[1].attrs.get('supportedFeatures').value.items.map((t) => t.force().value), ['benchmark', 'big-parallel', 'kvm']);
  // All three report the same: the let binding itself is edited, once.
  const all = fillSystemsAndFeatures(a.model, aquamarine, report, new Map([[ruby, report], [kana, report]]));
  const out2 = applyEdits(example, all.fix.edits);
  assert.equal((out2.match(/inherit sshUser sshKey systems supportedFeatures;/g) ?? []).length, 3);
  assert.ok(out2.includes('systems = [ "x86_64-linux" "i686-linux" ];\n'));
  assert.ok(out2.includes('supportedFeatures = [ "kvm" "nixos-test" ];'));
});

test('host-key-changed: a different key of the configured type, with both fingerprints', () => {
  const a = run(example);
  const ruby = a.model.builders[1];
  const kana = a.model.builders[2];
  // kana's configured key is shown by ruby: changed.
  const d = hostKeyChanged(a.hosts, ruby, { type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIJ3dDLOZERP1nZfRz3zIeVDm1q2Trer+fWFVvVXrgXM1', fingerprint: 'SHA256:new' });
  assert.equal(d.code, 'host-key-changed');
  assert.equal(d.severity, 'error');
  assert.match(d.message, /SHA256:new/);
  assert.match(d.message, /programs\.ssh\.knownHosts\.ruby has SHA256:/);
  assert.equal(example.slice(d.related[0].span.start, d.related[0].span.end), 'ruby');
  // The same key: nothing. Another type (rsa) while only ed25519 is configured: nothing.
  assert.equal(hostKeyChanged(a.hosts, kana, { type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIJ3dDLOZERP1nZfRz3zIeVDm1q2Trer+fWFVvVXrgXM1', fingerprint: 'x' }), undefined);
  assert.equal(hostKeyChanged(a.hosts, kana, { type: 'ssh-rsa', key: 'AAAAB3NzaC1yc2E', fingerprint: 'x' }), undefined);
});
