// The model extracted from a configuration: builders with NixOS's defaults as
// /etc/nix/machines shows them, known hosts, ssh_config text, networking.hosts,
// nix.conf settings and builders from machines files and `builders` strings,
// every value with the document range it came from.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');

const { analyze, isMachinesFile } = loadCore('analyze');
const { renderBuilder } = loadCore('render-machines');
const { toPlain } = loadCore('eval/to-plain');

const exampleFile = path.join(__dirname, '..', '..', 'examples', 'distributed-builds.nix');
const example = fs.readFileSync(exampleFile, 'utf8');
const at = (text, span) => text.slice(span.start, span.end);

function model(text, file = '/cfg/configuration.nix') {
  return analyze([{ path: file, text }]).model;
}

const lines = (m) => m.builders.map((b) => renderBuilder(b).line);

test('the example renders exactly the three /etc/nix/machines lines NixOS writes', () => {
  const m = model(example, exampleFile);
  assert.deepEqual(lines(m), [
    'ssh://ryan@aquamarine x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 3 1 benchmark,big-parallel,kvm - -',
    'ssh://ryan@ruby x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
    'ssh://ryan@kana x86_64-linux,aarch64-linux,riscv64-linux /home/ryan/.ssh/ai-idols 2 1 benchmark,big-parallel,kvm - -',
  ]);
  for (const b of m.builders) {
    assert.equal(b.source, 'nix');
    assert.equal(b.file, exampleFile);
    assert.equal(b.complete, true);
    assert.equal(b.conditional, false);
    assert.equal(renderBuilder(b).hasUnknown, false);
    assert.equal(at(example, b.span)[0], '{', 'the span is the attribute set');
  }
  // Attributes that came through `inherit` point at the shared literals in the let.
  const [aquamarine, ruby] = m.builders;
  assert.equal(at(example, aquamarine.attrs.get('sshKey').value.span), '"/home/ryan/.ssh/ai-idols"');
  assert.equal(aquamarine.attrs.get('sshKey').value.span.start, ruby.attrs.get('sshKey').value.span.start);
  assert.equal(at(example, aquamarine.attrs.get('hostName').value.span), '"aquamarine"');
  assert.equal(at(example, aquamarine.attrs.get('hostName').keySpan), 'hostName');
  assert.equal(at(example, aquamarine.attrs.get('maxJobs').bindingSpan), 'maxJobs = 3;');
});

test('defaults and field order as the NixOS module applies them', () => {
  const cases = [
    ['hostName = "h"; system = "x86_64-linux";', 'ssh://h x86_64-linux - 1 1 - - -'],
    ['hostName = "h"; systems = [ "x86_64-linux" "i686-linux" ];', 'ssh://h x86_64-linux,i686-linux - 1 1 - - -'],
    // system wins over systems.
    ['hostName = "h"; system = "aarch64-linux"; systems = [ "x86_64-linux" ];', 'ssh://h aarch64-linux - 1 1 - - -'],
    ['hostName = "h"; protocol = null; system = "x86_64-linux";', 'h x86_64-linux - 1 1 - - -'],
    ['hostName = "h"; protocol = "ssh-ng"; sshUser = "nix"; system = "x86_64-linux";', 'ssh-ng://nix@h x86_64-linux - 1 1 - - -'],
    // mandatoryFeatures are also supported features.
    ['hostName = "h"; system = "x86_64-linux"; supportedFeatures = [ "kvm" ]; mandatoryFeatures = [ "big-parallel" ];', 'ssh://h x86_64-linux - 1 1 kvm,big-parallel big-parallel -'],
    ['hostName = "h"; system = "x86_64-linux"; maxJobs = 8; speedFactor = 2; sshKey = "/root/.ssh/k"; publicHostKey = "QUJD";', 'ssh://h x86_64-linux /root/.ssh/k 8 2 - - QUJD'],
    // toString of a float, as Nix prints it.
    ['hostName = "h"; system = "x86_64-linux"; speedFactor = 1.5;', 'ssh://h x86_64-linux - 1 1.500000 - - -'],
    ['hostName = "h"; systems = [ ];', 'ssh://h - - 1 1 - - -'],
    // What cannot be read is shown, not guessed.
    ['hostName = config.h; system = "x86_64-linux"; maxJobs = config.j;', 'ssh://<unknown> x86_64-linux - <unknown> 1 - - -'],
  ];
  for (const [attrs, line] of cases) {
    const m = model(`{ config, ... }: { nix.distributedBuilds = true; nix.buildMachines = [ { ${attrs} } ]; }`);
    assert.deepEqual(lines(m), [line], attrs);
    assert.equal(renderBuilder(m.builders[0]).hasUnknown, line.includes('<unknown>'), attrs);
  }
});

test('knownHosts entries: names, hostNames, publicKey and their ranges', () => {
  const m = model(example, exampleFile);
  assert.deepEqual(m.knownHosts.map((h) => h.name), ['aquamarine', 'ruby', 'kana']);
  const ruby = m.knownHosts[1];
  assert.equal(ruby.file, exampleFile);
  assert.equal(at(example, ruby.nameSpan), 'ruby');
  assert.ok(at(example, ruby.span).startsWith('{\n      hostNames = [ "ruby" "192.168.5.102" ];'));
  assert.deepEqual(toPlain(ruby.attrs.get('hostNames').value), ['ruby', '192.168.5.102']);
  const key = ruby.attrs.get('publicKey').value;
  assert.equal(key.value, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7n11XxB8B3HjdyAsL3PuLVDZxWCzEOUTJAY8+goQmW');
  assert.equal(at(example, key.span), `"${key.value}"`);
  assert.equal(ruby.complete, true);

  // Several files, attribute-path and `"name".x` forms, extraHostNames, certAuthority.
  const a = analyze([
    { path: '/cfg/a.nix', text: '{ programs.ssh.knownHosts."b1.lan".publicKey = "ssh-ed25519 AAAA"; }' },
    {
      path: '/cfg/b.nix',
      text: '{ lib, ... }: { programs.ssh.knownHosts = { b2 = { extraHostNames = [ "10.0.0.2" ]; publicKeyFile = ./b2.pub; }; ca = lib.mkIf true { certAuthority = true; hostNames = [ "*.lan" ]; publicKey = "ssh-ed25519 BBBB"; }; off = lib.mkIf false { publicKey = "x"; }; }; }',
    },
  ]).model;
  assert.deepEqual(a.knownHosts.map((h) => [h.name, h.file]), [['b1.lan', '/cfg/a.nix'], ['b2', '/cfg/b.nix'], ['ca', '/cfg/b.nix']]);
  assert.deepEqual(toPlain(a.knownHosts[1].attrs.get('extraHostNames').value), ['10.0.0.2']);
  assert.equal(a.knownHosts[1].attrs.get('publicKeyFile').value.kind, 'path');
  assert.equal(toPlain(a.knownHosts[2].attrs.get('certAuthority').value), true);
  // The same host defined in two places is one entry with the attributes of both.
  const merged = analyze([
    { path: '/cfg/a.nix', text: '{ programs.ssh.knownHosts.b.hostNames = [ "b" "10.0.0.9" ]; }' },
    { path: '/cfg/b.nix', text: '{ programs.ssh.knownHosts.b.publicKey = "ssh-ed25519 CCCC"; }' },
  ]).model;
  assert.deepEqual(merged.knownHosts.map((h) => [h.name, [...h.attrs.keys()].sort()]), [['b', ['hostNames', 'publicKey']]]);
});

test('each definition of a known host is kept: a bad key is not hidden by a good one elsewhere', () => {
  const good = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnCQXlllHoLX5EvU+t6yP/npsmuxKt0skHVeJashizE';
  const files = [
    { path: '/cfg/a.nix', text: '{ programs.ssh.knownHosts.b = { hostNames = [ "b" ]; publicKey = "ssh-ed25519"; }; }' },
    { path: '/cfg/b.nix', text: `{ programs.ssh.knownHosts.b.publicKey = "${good}"; }` },
  ];
  const a = analyze(files);
  const [b] = a.model.knownHosts;
  assert.deepEqual(b.definitions.map((d) => [d.file, [...d.attrs.keys()].sort()]), [
    ['/cfg/a.nix', ['hostNames', 'publicKey']],
    ['/cfg/b.nix', ['publicKey']],
  ]);
  assert.equal(b.attrs.get('publicKey').value.value, good, 'the merged view has the later definition');
  assert.deepEqual(a.diagnostics.map((d) => [d.code, d.span.file, at(files[0].text, d.span)]), [['bad-known-host-key', '/cfg/a.nix', '"ssh-ed25519"']]);
});

test('programs.ssh.extraConfig strings, dedented, with their source map', () => {
  const m = model(example, exampleFile);
  assert.equal(m.sshExtraConfig.length, 1);
  const s = m.sshExtraConfig[0];
  assert.ok(s.value.startsWith('Host ai\n  HostName 192.168.5.100\n  Port 22\n\nHost aquamarine\n'), JSON.stringify(s.value.slice(0, 60)));
  assert.ok(s.value.endsWith('Host kana\n  HostName 192.168.5.103\n  Port 22\n'));
  // Every piece of the value maps onto the same characters of the document.
  assert.ok(s.pieces.length > 0);
  for (const p of s.pieces) {
    const doc = p.base.start + p.rel;
    assert.equal(example.slice(doc, doc + p.length), s.value.slice(p.at, p.at + p.length));
  }
  // Several definitions (mkBefore / mkAfter in two files) are all kept.
  const two = analyze([
    { path: '/cfg/a.nix', text: '{ lib, ... }: { programs.ssh.extraConfig = lib.mkBefore "Host a\\n  Port 2222\\n"; }' },
    { path: '/cfg/b.nix', text: "{ programs.ssh.extraConfig = ''\n  Host b\n    User nix\n''; }" },
  ]).model;
  assert.deepEqual(two.sshExtraConfig.map((x) => x.value), ['Host a\n  Port 2222\n', 'Host b\n  User nix\n']);
});

test('networking.hosts, nix.settings builders / max-jobs, and hostSystem', () => {
  const text = `{ lib, ... }: {
    networking.hosts = { "10.0.0.1" = [ "b1" "b1.lan" ]; };
    networking.hosts."10.0.0.2" = [ "b2" ];
    nix.settings.max-jobs = lib.mkDefault 0;
    nix.settings.builders = "ssh://b1 x86_64-linux";
    nix.settings.builders-use-substitutes = true;
    nixpkgs.hostPlatform = "x86_64-linux";
  }`;
  const m = model(text);
  assert.deepEqual(m.networkingHosts.defs.map((d) => toPlain(d.value)), [{ '10.0.0.1': ['b1', 'b1.lan'], '10.0.0.2': ['b2'] }]);
  assert.deepEqual(m.settings.maxJobs.defs.map((d) => [toPlain(d.value), d.priority]), [[0, 1000]]);
  assert.deepEqual(m.settings.builders.defs.map((d) => toPlain(d.value)), ['ssh://b1 x86_64-linux']);
  assert.deepEqual(m.settings.buildersUseSubstitutes.defs.map((d) => toPlain(d.value)), [true]);
  assert.equal(m.hostSystem, 'x86_64-linux');
  assert.equal(model('{ nixpkgs.hostPlatform.system = "aarch64-linux"; }').hostSystem, 'aarch64-linux');
  assert.equal(model('{ nixpkgs.system = "i686-linux"; }').hostSystem, 'i686-linux');
  assert.equal(model('{ }').hostSystem, undefined);
});

test('`builders = …` and `max-jobs = …` lines of nix.extraOptions', () => {
  const text = "{\n  nix.extraOptions = ''\n    # remote only\n    max-jobs = 0\n    builders = ssh://a x86_64-linux ; ssh-ng://b aarch64-linux # two\n    builders-use-substitutes = true\n  '';\n}\n";
  const m = model(text);
  const byKey = Object.fromEntries(m.settings.extraOptions.map((l) => [l.key, l]));
  assert.deepEqual(Object.keys(byKey).sort(), ['builders', 'builders-use-substitutes', 'max-jobs']);
  assert.equal(byKey['max-jobs'].value, '0');
  assert.equal(at(text, byKey['max-jobs'].span), 'max-jobs = 0');
  assert.equal(at(text, byKey['max-jobs'].valueSpan), '0');
  assert.equal(byKey.builders.value, 'ssh://a x86_64-linux ; ssh-ng://b aarch64-linux');
  assert.equal(at(text, byKey.builders.valueSpan), byKey.builders.value);
  // The builders line feeds builders, with ranges on the document.
  assert.deepEqual(m.builders.map((b) => [b.source, at(text, b.span)]), [
    ['builders-setting', 'ssh://a x86_64-linux'],
    ['builders-setting', 'ssh-ng://b aarch64-linux'],
  ]);
  const b = m.builders[1];
  assert.equal(at(text, b.attrs.get('hostName').value.span), 'b');
  assert.equal(at(text, b.attrs.get('protocol').value.span), 'ssh-ng');
  assert.equal(at(text, b.attrs.get('systems').value.items[0].force().span), 'aarch64-linux');
  // max-jobs = 0 there counts, and both builders may take x86_64-linux builds.
  assert.deepEqual(analyze([{ path: '/c.nix', text }]).diagnostics.map((d) => d.code), []);
});

test('machines files are recognised by name', () => {
  for (const f of ['/etc/nix/machines', 'machines', '/x/remote.machines', 'a.b.machines']) assert.equal(isMachinesFile(f), true, f);
  for (const f of ['/x/machines.nix', '/x/machines.txt', '/x/my-machines', '/x/machines/default.nix']) assert.equal(isMachinesFile(f), false, f);
});

test('a machines file feeds builders, with ranges on every field', () => {
  const text = '# builders\nssh://root@b1 x86_64-linux,aarch64-linux /root/.ssh/k 8 2 kvm,big-parallel kvm QUJD\n\tb2\ti686-linux ; b3\n@/etc/nix/more\n';
  const file = '/etc/nix/machines';
  const m = analyze([{ path: file, text }]).model;
  assert.deepEqual(m.files, [file]);
  assert.deepEqual(m.builders.map((b) => [b.source, b.file, at(text, b.span)]), [
    ['machines-file', file, 'ssh://root@b1 x86_64-linux,aarch64-linux /root/.ssh/k 8 2 kvm,big-parallel kvm QUJD'],
    ['machines-file', file, 'b2\ti686-linux'],
    ['machines-file', file, 'b3'],
  ]);
  const b1 = m.builders[0];
  const spans = {};
  for (const [k, a] of b1.attrs) spans[k] = at(text, a.value.span);
  assert.deepEqual(spans, {
    protocol: 'ssh',
    sshUser: 'root',
    hostName: 'b1',
    systems: 'x86_64-linux,aarch64-linux',
    sshKey: '/root/.ssh/k',
    maxJobs: '8',
    speedFactor: '2',
    supportedFeatures: 'kvm,big-parallel',
    mandatoryFeatures: 'kvm',
    publicHostKey: 'QUJD',
  });
  assert.deepEqual(b1.attrs.get('systems').value.items.map((t) => at(text, t.force().span)), ['x86_64-linux', 'aarch64-linux']);
  assert.equal(b1.attrs.get('maxJobs').value.value, 8);
  assert.equal(b1.attrs.get('speedFactor').value.value, 2);
});

test('a `builders` string feeds builders; ranges inside the string point at the document', () => {
  const text = '{ nix.settings.builders = "ssh://nix@b1 x86_64-linux - 4\\nb2 aarch64-linux,i686-linux ; @/etc/nix/machines"; }';
  const m = model(text);
  assert.deepEqual(m.builders.map((b) => [b.source, at(text, b.span)]), [
    ['builders-setting', 'ssh://nix@b1 x86_64-linux - 4'],
    ['builders-setting', 'b2 aarch64-linux,i686-linux'],
  ]);
  const [b1, b2] = m.builders;
  assert.equal(at(text, b1.attrs.get('hostName').value.span), 'b1');
  assert.equal(at(text, b1.attrs.get('sshUser').value.span), 'nix');
  assert.equal(at(text, b1.attrs.get('maxJobs').value.span), '4');
  assert.equal(at(text, b2.attrs.get('hostName').value.span), 'b2');
  assert.deepEqual(b2.attrs.get('systems').value.items.map((t) => at(text, t.force().span)), ['aarch64-linux', 'i686-linux']);
  // An indented string: ranges survive the dedent.
  const ind = "{\n  nix.settings.builders = ''\n    ssh://a x86_64-linux\n      ssh://b aarch64-linux - 2\n  '';\n}\n";
  const mi = model(ind);
  assert.deepEqual(mi.builders.map((b) => at(ind, b.attrs.get('hostName').value.span)), ['a', 'b']);
  assert.deepEqual(mi.builders.map((b) => at(ind, b.attrs.get('systems').value.span)), ['x86_64-linux', 'aarch64-linux']);
  // A value known through interpolation still gives builders; the literal parts keep their ranges.
  const interp = 'let user = "nix"; in { nix.settings.builders = "ssh://${user}@b1 x86_64-linux"; }';
  const mp = model(interp);
  assert.equal(mp.builders.length, 1);
  assert.equal(mp.builders[0].attrs.get('sshUser').value.value, 'nix');
  assert.equal(at(interp, mp.builders[0].attrs.get('hostName').value.span), 'b1');
  assert.equal(at(interp, mp.builders[0].attrs.get('systems').value.span), 'x86_64-linux');
});
