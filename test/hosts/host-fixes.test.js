// The host-key quick fixes, applied: add the looked-up name to hostNames or
// extraHostNames, add HostKeyAlias to the Host block, create a knownHosts
// skeleton. Each result is re-analysed: the diagnostic it fixes is gone.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadCore } = require('../helpers/load-ts');
const { applyEdits } = require('../helpers/apply-edits');

const { analyze } = loadCore('analyze');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnCQXlllHoLX5EvU+t6yP/npsmuxKt0skHVeJashizE';
const env = { sshConfigFiles: [], knownHostsFiles: [], lookups: false, checkHostKeys: true, resolve: () => undefined };

function diags(text) {
  return analyze([{ path: '/w/c.nix', text }], env).diagnostics;
}

function applyFix(text, code, title) {
  const d = diags(text).find((x) => x.code === code);
  assert.ok(d, `expected ${code}`);
  const fix = d.fixes.find((f) => title.test(f.title));
  assert.ok(fix, `no fix like ${title} among ${d.fixes.map((f) => f.title).join(', ')}`);
  return applyEdits(text, fix.edits);
}

const aliased = (known) => `{
  nix.distributedBuilds = true;
  nix.buildMachines = [ { hostName = "fast"; systems = [ "x86_64-linux" ]; } ];
  programs.ssh.extraConfig = ''
    Host fast
      HostName 10.0.0.7
  '';
  programs.ssh.knownHosts = {
    ${known}
  };
}
`;

test('host-key-name-mismatch: add the HostName to hostNames', () => {
  const text = aliased(`fast = { hostNames = [ "fast" ]; publicKey = "${KEY}"; };`);
  const out = applyFix(text, 'host-key-name-mismatch', /hostNames/);
  assert.ok(out.includes('hostNames = [ "fast" "10.0.0.7" ];'), out);
  assert.deepEqual(diags(out).map((d) => d.code), []);
});

test('host-key-name-mismatch: extraHostNames keeps the attribute-name default', () => {
  const text = aliased(`fast.publicKey = "${KEY}";`.replace('fast.publicKey', 'fast = { publicKey').replace(/;$/, '; };'));
  const out = applyFix(text, 'host-key-name-mismatch', /extraHostNames/);
  assert.match(out, /fast = \{ publicKey = "[^"]+"; extraHostNames = \[ "10\.0\.0\.7" \]; \};/);
  assert.deepEqual(diags(out).map((d) => d.code), []);
});

test('host-key-name-mismatch: add HostKeyAlias to the Host block', () => {
  const text = aliased(`fast = { hostNames = [ "fast" ]; publicKey = "${KEY}"; };`);
  const out = applyFix(text, 'host-key-name-mismatch', /HostKeyAlias/);
  assert.ok(out.includes('    Host fast\n      HostName 10.0.0.7\n      HostKeyAlias fast\n'), out);
  assert.deepEqual(diags(out).map((d) => d.code), []);
});

test('missing-host-key: a knownHosts skeleton beside the existing entries, or after nix.buildMachines', () => {
  const beside = aliased(`other = { hostNames = [ "other" ]; publicKey = "${KEY}"; };`);
  const out = applyFix(beside, 'missing-host-key', /Create/);
  assert.ok(out.includes('    fast = {\n      hostNames = [ "fast" "10.0.0.7" ];\n      publicKey = ""; # the key: ssh-keyscan -t ed25519 10.0.0.7\n    };\n'), out);
  // The skeleton names every name ssh looks up; its empty key is what is left to
  // do (ssh ignores the line until then, so the key is still missing too).
  assert.deepEqual(diags(out).map((d) => d.code).sort(), ['bad-known-host-key', 'missing-host-key']);

  const alone = '{\n  nix.distributedBuilds = true;\n  nix.buildMachines = [ { hostName = "b.lan:2222"; systems = [ "x86_64-linux" ]; } ];\n}\n';
  const out2 = applyFix(alone, 'missing-host-key', /Create/);
  assert.ok(out2.includes('  programs.ssh.knownHosts."b.lan" = {\n    hostNames = [ "b.lan" "[b.lan]:2222" ];\n    publicKey = ""; # the key: ssh-keyscan -t ed25519 -p 2222 b.lan\n  };'), out2);
  assert.deepEqual(diags(out2).map((d) => d.code).sort(), ['bad-known-host-key', 'missing-host-key']);
  // With the key filled in, both are gone.
  assert.deepEqual(diags(out2.replace('publicKey = ""', `publicKey = "${KEY}"`)).map((d) => d.code), []);
});
