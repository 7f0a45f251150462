// The resolution chain as root's ssh computes it: first value wins across
// blocks and files, patterns with * ? !, Match criteria, %h, host:port,
// HostKeyAlias and ProxyJump.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadCore } = require('../helpers/load-ts');

const { resolveChain, splitHostPort } = loadCore('ssh-resolve');
const { parseSshConfig } = loadCore('ssh-config');

const source = (label, text, notRoot = false) => ({ label, notRoot, blocks: parseSshConfig(text, (s, e) => ({ file: label, start: s, end: e })) });

test('first value wins, across blocks and then files', () => {
  const nix = source('nix', 'Host b1\n  HostName 10.0.0.1\n  Port 2222\nHost b*\n  HostName 10.9.9.9\n  User nix\n');
  const etc = source('/etc/ssh/ssh_config', 'Host *\n  User root\n  Port 22\n  IdentityFile /root/.ssh/a\n');
  const c = resolveChain('b1', undefined, [nix, etc]);
  assert.equal(c.hostName, '10.0.0.1');
  assert.equal(c.port, 2222);
  assert.equal(c.user.value, 'nix');
  assert.equal(c.user.source.label, 'nix');
  assert.deepEqual(c.identityFiles.map((f) => f.value), ['/root/.ssh/a']);
  assert.equal(c.lookupName, '[10.0.0.1]:2222');
  assert.equal(c.hostNameFound.source.label, 'nix');
});

test('patterns: case-insensitive, ?, negation, several per line', () => {
  const s = source('nix', 'Host *.LAN !old.lan\n  HostName %h.internal\nHost b?\n  Port 2200\n');
  assert.equal(resolveChain('new.lan', undefined, [s]).hostName, 'new.lan.internal');
  assert.equal(resolveChain('old.lan', undefined, [s]).hostName, 'old.lan');
  assert.equal(resolveChain('b7', undefined, [s]).port, 2200);
  assert.equal(resolveChain('b77', undefined, [s]).port, 22);
});

test('Match: all / host / originalhost / user decided, exec makes the chain uncertain', () => {
  const s = source('nix', 'Host a\n  HostName 10.1.1.1\nMatch host 10.1.1.1\n  Port 2201\nMatch originalhost zz user nix\n  Port 2202\nMatch exec "test -e /x"\n  Port 2203\n');
  const a = resolveChain('a', undefined, [s]);
  assert.equal(a.port, 2201);
  assert.equal(a.uncertain, true, 'the exec block might apply');
  const z = resolveChain('zz', 'nix', [source('nix', 'Match originalhost zz user nix\n  Port 2202\n')]);
  assert.equal(z.port, 2202);
  assert.equal(z.uncertain, false);
  assert.equal(resolveChain('zz', 'other', [source('nix', 'Match originalhost zz user nix\n  Port 2202\n')]).port, 22);
});

test('HostKeyAlias is looked up as it is (no port), ProxyJump marks a jump host, host:port wins over Port', () => {
  const s = source('nix', 'Host j\n  HostName 10.2.2.2\n  Port 2222\n  HostKeyAlias J-Alias\n  ProxyJump gw\nHost n\n  ProxyJump none\n');
  const j = resolveChain('j', undefined, [s]);
  assert.equal(j.lookupName, 'j-alias');
  assert.equal(j.proxy.value, 'gw');
  assert.equal(resolveChain('n', undefined, [s]).proxy, undefined);
  const p = resolveChain('j:2300', undefined, [s]);
  assert.equal(p.port, 2300);
  assert.deepEqual(splitHostPort('[fd00::1]:2222'), { host: 'fd00::1', port: 2222 });
  assert.deepEqual(splitHostPort('fd00::1'), { host: 'fd00::1' });
});
