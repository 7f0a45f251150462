// The text of the probe UI (client/src/probe-report.ts, no vscode import):
// the host-key confirmation dialog and the "Probe all builders" report.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');

function load() {
  const outfile = path.join(root, 'test-out', 'client-src', `probe-report.${process.pid}.js`);
  esbuild.buildSync({
    entryPoints: [path.join(root, 'client', 'src', 'probe-report.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    logLevel: 'silent',
  });
  try {
    return require(outfile);
  } finally {
    fs.rmSync(outfile, { force: true });
  }
}
const { confirmHostKeyText, reportMarkdown, progressCount, hostPort, TRUST_BUTTON } = load();

const PARAMS = {
  host: 'builder',
  address: '127.0.0.1',
  port: 2222,
  lookupName: '[127.0.0.1]:2222',
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
  fingerprintLine: '256 SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ [127.0.0.1]:2222 (ED25519)',
  publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample',
  target: 'knownHosts',
  hostNames: ['builder', '[127.0.0.1]:2222'],
  editTitle: 'Add the key to programs.ssh.knownHosts.builder',
};

test('the confirmation shows host, address, lookup name, key type, fingerprint line and where the key goes', () => {
  const { message, detail } = confirmHostKeyText(PARAMS);
  assert.equal(TRUST_BUTTON, 'Trust this key');
  assert.match(message, /builder/);
  assert.ok(message.includes(PARAMS.fingerprint));
  for (const s of ['Builder: builder', 'Address: 127.0.0.1:2222', '[127.0.0.1]:2222', 'Key type: ssh-ed25519', PARAMS.fingerprintLine]) {
    assert.ok(detail.includes(s), `${s} in\n${detail}`);
  }
  assert.match(detail, /programs\.ssh\.knownHosts, for the names builder, \[127\.0\.0\.1\]:2222/);
  assert.ok(detail.includes(PARAMS.editTitle));
  const pk = confirmHostKeyText({ ...PARAMS, target: 'publicHostKey', hostNames: undefined, address: '::1' });
  assert.match(pk.detail, /publicHostKey/);
  assert.match(pk.detail, /Address: \[::1\]:2222/);
});

test('hostPort brackets IPv6 addresses', () => {
  assert.equal(hostPort('10.0.0.1', 22), '10.0.0.1:22');
  assert.equal(hostPort('fe80::1', 22), '[fe80::1]:22');
});

const range = (line) => ({ start: { line, character: 4 }, end: { line, character: 10 } });

test('the report: one aligned table row per builder, reasons, key status, Nix, notes', () => {
  const text = reportMarkdown(
    [
      {
        host: 'ok',
        uri: 'file:///ws/a.nix',
        range: range(3),
        address: '10.0.0.1',
        port: 22,
        user: 'root',
        reachable: true,
        hostKeyStatus: 'matches',
        hostKey: { type: 'ssh-ed25519', key: 'AAAA', fingerprint: 'SHA256:x' },
        nixVersion: '2.18.1',
        systems: ['x86_64-linux', 'i686-linux'],
        features: ['kvm', 'big-parallel'],
        trusted: true,
        rttMs: 1.6,
        notes: ['logged in with your ssh-agent'],
      },
      {
        host: 'alias',
        hostName: 'down.example.org',
        uri: 'file:///ws/a.nix',
        range: range(9),
        address: '10.0.0.2',
        port: 2222,
        reachable: false,
        error: { kind: 'refused', message: 'connection refused | by 10.0.0.2:2222' },
        hostKeyStatus: 'not-checked',
      },
      {
        host: 'new',
        uri: 'file:///ws/b.nix',
        range: range(0),
        reachable: true,
        error: { kind: 'host-key-unknown', message: 'no host key is configured' },
        hostKeyStatus: 'unknown',
        features: [],
      },
    ],
    { name: (u) => u.replace('file:///ws/', ''), when: new Date('2025-01-02T03:04:05.678Z') },
  );
  const lines = text.split('\n');
  assert.equal(lines[0], '# Nix builders: probe report');
  assert.ok(text.includes('2025-01-02 03:04:05 UTC: 3 builders, 2 reachable.'), text);
  const rows = lines.filter((l) => l.startsWith('| '));
  assert.equal(rows.length, 5, 'header, separator, 3 rows');
  assert.equal(new Set(rows.map((r) => r.length)).size, 1, `aligned:\n${rows.join('\n')}`);
  const [, , ok, down, unknown] = rows;
  for (const s of ['root@10.0.0.1:22', '| yes ', 'matches (ssh-ed25519 SHA256:x)', '2.18.1', 'x86_64-linux, i686-linux', 'kvm, big-parallel', '2 ms', 'a.nix:4']) {
    assert.ok(ok.includes(s), `${s} in ${ok}`);
  }
  assert.ok(down.includes('alias (down.example.org)'));
  assert.ok(down.includes('| no: refused: connection refused \\| by 10.0.0.2:2222'), down);
  assert.ok(down.includes('a.nix:10'));
  assert.ok(unknown.includes('yes; host-key-unknown: no host key is configured'));
  assert.ok(unknown.includes('not configured'));
  assert.ok(unknown.includes('| none '), 'an empty feature list says none');
  assert.ok(text.includes('## Notes\n\n- ok: logged in with your ssh-agent'));
  assert.ok(reportMarkdown([], { name: String, when: new Date(0), cancelled: true }).includes('No builder was probed.'));
});

test('progressCount reads "3/7" from the server progress message', () => {
  assert.equal(progressCount('3/7: 10.0.0.1:22 ok'), '3/7');
  assert.equal(progressCount('connecting'), undefined);
  assert.equal(progressCount(undefined), undefined);
});
