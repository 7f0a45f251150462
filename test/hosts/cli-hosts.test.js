// The CLI's host checks end to end: name lookups through a DNS server the test
// runs on 127.0.0.1, known_hosts files named by environment, imports, --offline.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDnsServer } = require('../helpers/dns-server');

const root = path.join(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'nix-builders.js');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnCQXlllHoLX5EvU+t6yP/npsmuxKt0skHVeJashizE';

test.before(() => execFileSync(process.execPath, ['scripts/build.js'], { cwd: root }));

function run(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NIX_BUILDERS_SSH_CONFIG: '', NIX_BUILDERS_KNOWN_HOSTS: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function workspace(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-hosts-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const builders = (names) => `{
  nix.distributedBuilds = true;
  nix.buildMachines = map (h: { hostName = h; systems = [ "x86_64-linux" ]; }) [ ${names.map((n) => `"${n}"`).join(' ')} ];
  programs.ssh.knownHosts.all = { hostNames = [ ${names.map((n) => `"${n}"`).join(' ')} ]; publicKey = "${KEY}"; };
}
`;

test('lookups go to the given DNS server: unknown and hanging names are reported, resolved ones not', async () => {
  const dns = await startDnsServer({ records: { 'good.lan': ['10.9.9.9'] }, hang: ['hang.lan'] });
  try {
    const dir = workspace({ 'b.nix': builders(['good.lan', 'bad.lan', 'hang.lan']) });
    const started = Date.now();
    const r = await run(['check', '--json', dir], { NIX_BUILDERS_DNS_SERVER: dns.address, NIX_BUILDERS_DNS_TIMEOUT_MS: '300' });
    const elapsed = Date.now() - started;
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.map((d) => d.code), ['unresolved-host', 'unresolved-host']);
    assert.match(out[0].message, /"bad\.lan"/);
    assert.match(out[0].message, /does not know it/);
    assert.match(out[1].message, /"hang\.lan"/);
    assert.match(out[1].message, /timed out after 300 ms/);
    assert.match(out[1].message, /may differ/);
    assert.ok(dns.count('good.lan') >= 1 && dns.count('hang.lan') >= 1);
    assert.ok(elapsed < 10_000, `bounded by the timeout, took ${elapsed} ms`);
  } finally {
    await dns.close();
  }
});

test('--offline: no lookup at all, no unresolved-host', async () => {
  const dns = await startDnsServer({ records: {} });
  try {
    const dir = workspace({ 'b.nix': builders(['bad.lan']) });
    const r = await run(['check', '--offline', dir], { NIX_BUILDERS_DNS_SERVER: dns.address });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '');
    assert.equal(dns.queries.length, 0);
  } finally {
    await dns.close();
  }
});

test('known_hosts files named in the environment cover a builder; hashed lines too', async () => {
  const dir = workspace({
    'b.nix': '{ nix.distributedBuilds = true; nix.buildMachines = [ { hostName = "10.1.1.1"; systems = [ "x86_64-linux" ]; } ]; }\n',
  });
  const missing = await run(['check', '--offline', dir]);
  assert.match(missing.stdout, /warning missing-host-key: No host key is known for "10\.1\.1\.1"/);
  const kh = path.join(dir, 'known_hosts');
  fs.writeFileSync(kh, `10.1.1.1 ${KEY}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
  assert.match(fs.readFileSync(kh, 'utf8'), /^\|1\|/);
  const covered = await run(['check', dir], { NIX_BUILDERS_KNOWN_HOSTS: kh, NIX_BUILDERS_DNS_SERVER: '127.0.0.1:9' });
  assert.equal(covered.stdout, '');
});

test('imports are followed; --offline does not read an import outside the given paths', async () => {
  const dir = workspace({
    'config/main.nix': '{ imports = [ ../shared/ssh.nix ]; nix.distributedBuilds = true; nix.buildMachines = [ { hostName = "10.2.2.2"; systems = [ "x86_64-linux" ]; } ]; }\n',
    'shared/ssh.nix': `{ programs.ssh.knownHosts.b = { hostNames = [ "10.2.2.2" ]; publicKey = "${KEY}"; }; }\n`,
  });
  const main = path.join(dir, 'config', 'main.nix');
  const online = await run(['check', main], { NIX_BUILDERS_DNS_SERVER: '127.0.0.1:9' });
  assert.equal(online.stdout, '', 'the import brings the key');
  const offline = await run(['check', '--offline', main]);
  assert.match(offline.stdout, /missing-host-key/, 'outside the given paths: not read');
  const offlineBoth = await run(['check', '--offline', path.join(dir, 'config'), path.join(dir, 'shared')]);
  assert.equal(offlineBoth.stdout, '');
});
