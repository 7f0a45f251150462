// The probe against a real OpenSSH sshd started by the test on 127.0.0.1 (no
// packet leaves the machine). The "remote" Nix is this machine's nix: the probe
// reads its real `nix show-config --json`. Needs root (sshd's privilege
// separation, login as root), /usr/sbin/sshd, ssh-keygen and nix.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { loadServer } = require('../helpers/load-server');
const sshd = require('../helpers/sshd');

const root = path.join(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'nix-builders.js');
const { has, freePort } = sshd;
const skip = sshd.sshdSkipReason();

// On CI everything is installed (.ci/run): a skip there would hide a missing install step.
test('the real-sshd tests run on CI', { skip: !process.env.CI }, () => {
  assert.equal(skip, false, `skipped on CI: ${skip}`);
});

const { fetchHostKeys, probeBuilder } = skip ? {} : loadServer('probe/probe');
const { parsePublicKeyLine } = loadServer('core/ssh-keys');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-sshd-'));
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const keygen = (name, type) => sshd.keygen(dir, name, type);
const { pubLine, pubBlob } = sshd;
const publicKey = (file) => {
  const r = parsePublicKeyLine(pubLine(file));
  assert.ok('key' in r, JSON.stringify(r));
  return r.key;
};

const sshds = [];
test.after(() => {
  for (const d of sshds) d.stop();
});

/** Starts sshd -D -e with the given host keys; resolves once it listens. */
async function startSshd(name, hostKeys) {
  const d = await sshd.startSshd(dir, name, hostKeys);
  sshds.push(d);
  return d;
}

let hostEd, hostRsa, hostEcdsa, clientKey, otherKey, main, rsaOnly, user;
const TIMEOUTS = { connectMs: 5000, handshakeMs: 5000, commandMs: 20000 };

test.before(async () => {
  if (skip) return;
  execFileSync(process.execPath, ['scripts/build.js'], { cwd: root });
  hostEd = keygen('host_ed25519_key', 'ed25519');
  hostRsa = keygen('host_rsa_key', 'rsa');
  hostEcdsa = keygen('host_ecdsa_key', 'ecdsa');
  clientKey = keygen('client_key', 'ed25519');
  otherKey = keygen('other_key', 'ed25519');
  fs.writeFileSync(path.join(dir, 'authorized_keys'), `${pubLine(clientKey)}\n`);
  user = os.userInfo().username;
  main = await startSshd('main', [hostEd, hostRsa, hostEcdsa]);
  rsaOnly = await startSshd('rsa', [hostRsa]);
});

/** What this machine's nix says, to compare with what the probe read over ssh. */
function localNix() {
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(execFileSync('nix', ['--version'], { encoding: 'utf8' }))[1];
  const json = JSON.parse(execFileSync('nix', ['show-config', '--json', '--extra-experimental-features', 'nix-command'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const v = (k) => (json[k] && typeof json[k] === 'object' && !Array.isArray(json[k]) && 'value' in json[k] ? json[k].value : json[k]);
  return { version, system: v('system'), extraPlatforms: v('extra-platforms'), systemFeatures: v('system-features'), trustedUsers: v('trusted-users') };
}

const sshdLog = (d) => d.log;
const waitLog = () => new Promise((r) => setTimeout(r, 200));

test('fetchHostKeys: the ed25519 key, fingerprinted as ssh-keygen -l does, without logging in', { skip, timeout: 30000 }, async () => {
  const before = sshdLog(main).length;
  const r = await fetchHostKeys({ host: '127.0.0.1', port: main.port }, { timeouts: TIMEOUTS });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.nix, undefined);
  assert.equal(r.hostKeys.length, 1);
  const [k] = r.hostKeys;
  assert.equal(k.type, 'ssh-ed25519');
  assert.equal(k.key, pubBlob(hostEd));
  assert.equal(k.line, `ssh-ed25519 ${pubBlob(hostEd)}`);
  const keygenFp = execFileSync('ssh-keygen', ['-l', '-f', `${hostEd}.pub`], { encoding: 'utf8' }).split(/\s+/)[1];
  assert.match(keygenFp, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(k.fingerprint, keygenFp);
  assert.equal(typeof r.rttMs, 'number');
  await waitLog();
  const log = sshdLog(main).slice(before);
  assert.doesNotMatch(log, /Accepted|Failed|Postponed|userauth/i, log);
});

test('fetchHostKeys: a server with only an RSA key gives that key', { skip, timeout: 30000 }, async () => {
  const r = await fetchHostKeys({ host: '127.0.0.1', port: rsaOnly.port }, { timeouts: TIMEOUTS });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.hostKeys.length, 1);
  assert.equal(r.hostKeys[0].type, 'ssh-rsa');
  assert.equal(r.hostKeys[0].key, pubBlob(hostRsa));
  const keygenFp = execFileSync('ssh-keygen', ['-l', '-f', `${hostRsa}.pub`], { encoding: 'utf8' }).split(/\s+/)[1];
  assert.equal(r.hostKeys[0].fingerprint, keygenFp);
});

test('probeBuilder logs in and reads the real nix show-config --json', { skip, timeout: 60000 }, async () => {
  const local = localNix();
  const r = await probeBuilder({ host: '127.0.0.1', port: main.port, user, privateKey: { path: clientKey } }, { timeouts: TIMEOUTS });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.hostKeys[0].key, pubBlob(hostEd));
  const n = r.nix;
  assert.ok(n);
  assert.equal(n.version, local.version);
  assert.equal(n.version, '2.8.0');
  assert.equal(n.system, 'x86_64-linux');
  assert.equal(n.system, local.system);
  assert.deepEqual(n.systemFeatures, local.systemFeatures);
  assert.deepEqual(n.extraPlatforms, local.extraPlatforms);
  assert.ok(n.systemFeatures.includes('big-parallel'));
  assert.equal(n.nixStoreOnPath, true);
  assert.equal(n.nixDaemonOnPath, true);
  assert.equal(n.trusted, local.trustedUsers.includes(user) || local.trustedUsers.includes('*'));
  assert.ok(Array.isArray(n.notes));
  assert.ok(!n.notes.some((x) => /PATH/.test(x)), n.notes.join('\n'));
  await waitLog();
  assert.match(sshdLog(main), /Accepted publickey for /);
});

test('probeBuilder with a key the server does not know: auth-failed naming publickey and the key file', { skip, timeout: 30000 }, async () => {
  const r = await probeBuilder({ host: '127.0.0.1', port: main.port, user, privateKey: { path: otherKey } }, { timeouts: TIMEOUTS });
  assert.equal(r.error?.kind, 'auth-failed', JSON.stringify(r));
  assert.match(r.error.message, /publickey/);
  assert.ok(r.error.message.includes(otherKey), r.error.message);
  assert.ok(r.error.message.includes(`as ${user}`), r.error.message);
  assert.equal(r.nix, undefined);
  assert.equal(r.hostKeys[0].key, pubBlob(hostEd), 'the host key is known even when the login fails');
  // Nothing of the private key in the message.
  const secret = fs.readFileSync(otherKey, 'utf8');
  for (const line of secret.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!r.error.message.includes(line.slice(0, 20)));
});

test('probeBuilder with expectedKeys: a mismatch refuses before login, a match logs in', { skip, timeout: 60000 }, async () => {
  const before = sshdLog(main).length;
  const wrong = await probeBuilder(
    { host: '127.0.0.1', port: main.port, user, privateKey: { path: clientKey }, expectedKeys: [publicKey(otherKey)] },
    { timeouts: TIMEOUTS },
  );
  assert.equal(wrong.error?.kind, 'host-key-mismatch', JSON.stringify(wrong));
  assert.match(wrong.error.message, /ssh-ed25519/);
  assert.ok(wrong.error.message.includes(publicKey(otherKey).fingerprint), 'names the configured key');
  assert.ok(wrong.error.message.includes(wrong.hostKeys[0].fingerprint), 'names the presented key');
  assert.equal(wrong.nix, undefined);
  assert.equal(wrong.hostKeys[0].key, pubBlob(hostEd));

  const unknown = await probeBuilder({ host: '127.0.0.1', port: main.port, user, privateKey: { path: clientKey }, expectedKeys: [] }, { timeouts: TIMEOUTS });
  assert.equal(unknown.error?.kind, 'host-key-unknown', JSON.stringify(unknown));
  await waitLog();
  const log = sshdLog(main).slice(before);
  assert.doesNotMatch(log, /Accepted|Failed|Postponed/, `no login attempt:\n${log}`);

  // Only the RSA key configured: the probe asks for RSA first, as ssh does, and logs in.
  const rsa = await probeBuilder(
    { host: '127.0.0.1', port: main.port, user, privateKey: { path: clientKey }, expectedKeys: [publicKey(hostRsa)] },
    { timeouts: TIMEOUTS },
  );
  assert.equal(rsa.error, undefined, JSON.stringify(rsa.error));
  assert.equal(rsa.hostKeys[0].type, 'ssh-rsa');
  assert.equal(rsa.nix?.version, '2.8.0');

  // Handshake only, with the RSA key configured: the RSA key comes back, no error.
  const scan = await fetchHostKeys({ host: '127.0.0.1', port: main.port, expectedKeys: [publicKey(hostRsa)] }, { timeouts: TIMEOUTS });
  assert.equal(scan.error, undefined, JSON.stringify(scan.error));
  assert.equal(scan.hostKeys[0].key, pubBlob(hostRsa));

  // Configured ECDSA key, but the server has only RSA: mismatch, naming the type.
  const ecdsa = await probeBuilder(
    { host: '127.0.0.1', port: rsaOnly.port, user, privateKey: { path: clientKey }, expectedKeys: [publicKey(hostEcdsa)] },
    { timeouts: TIMEOUTS },
  );
  assert.equal(ecdsa.error?.kind, 'host-key-mismatch');
  assert.match(ecdsa.error.message, /no host key of the configured type/);
});

test('probeBuilder through an ssh-agent: logs in, and notes that the nix-daemon has no agent', { skip: skip || (!has('sh', ['-c', 'command -v ssh-agent']) && 'no ssh-agent'), timeout: 30000 }, async () => {
  const sock = path.join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  const saved = process.env.SSH_AUTH_SOCK;
  try {
    for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    execFileSync('ssh-add', ['-q', clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    process.env.SSH_AUTH_SOCK = sock;
    const r = await probeBuilder({ host: '127.0.0.1', port: main.port, user, useAgent: true }, { timeouts: TIMEOUTS });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.nix?.version, '2.8.0');
    assert.ok(r.nix.notes.some((n) => /ssh-agent .*nix-daemon runs ssh as root without your agent/.test(n)), r.nix.notes.join('\n'));
    // With a key file that works first, the agent is not used and not mentioned.
    const k = await probeBuilder({ host: '127.0.0.1', port: main.port, user, privateKey: { path: clientKey }, useAgent: true }, { timeouts: TIMEOUTS });
    assert.equal(k.error, undefined);
    assert.ok(!k.nix.notes.some((n) => /agent/.test(n)));
  } finally {
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
    agent.kill('SIGTERM');
  }
});

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, SSH_AUTH_SOCK: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('CLI probe --json: SPEC §2.1 fields and exit codes', { skip, timeout: 60000 }, async () => {
  const ok = await run(['probe', '--json', '--port', String(main.port), '--user', user, '--identity', clientKey, '127.0.0.1']);
  assert.equal(ok.status, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  assert.deepEqual(Object.keys(j).sort(), ['host', 'hostKeys', 'nix', 'port']);
  assert.equal(j.host, '127.0.0.1');
  assert.equal(j.port, main.port);
  assert.deepEqual(j.hostKeys, [
    { type: 'ssh-ed25519', key: pubBlob(hostEd), fingerprint: execFileSync('ssh-keygen', ['-l', '-f', `${hostEd}.pub`], { encoding: 'utf8' }).split(/\s+/)[1] },
  ]);
  assert.deepEqual(Object.keys(j.nix).sort(), ['extraPlatforms', 'system', 'systemFeatures', 'trusted', 'version']);
  assert.equal(j.nix.version, '2.8.0');
  assert.equal(j.nix.system, 'x86_64-linux');
  assert.ok(Array.isArray(j.nix.systemFeatures) && j.nix.systemFeatures.length > 0);
  assert.equal(typeof j.nix.trusted, 'boolean');

  // Answered, but the login failed: exit 0, host keys, error, no nix.
  const denied = await run(['probe', '--json', '--port', String(main.port), '--user', user, '--identity', otherKey, '127.0.0.1']);
  assert.equal(denied.status, 0, denied.stderr);
  const d = JSON.parse(denied.stdout);
  assert.deepEqual(Object.keys(d).sort(), ['error', 'host', 'hostKeys', 'port']);
  assert.equal(d.error.kind, 'auth-failed');
  assert.equal(d.hostKeys.length, 1);

  // Nobody answered: exit 1.
  const closed = await freePort();
  const none = await run(['probe', '--json', '--port', String(closed), '--identity', clientKey, '127.0.0.1']);
  assert.equal(none.status, 1, none.stderr);
  const n = JSON.parse(none.stdout);
  assert.equal(n.error.kind, 'refused');
  assert.deepEqual(n.hostKeys, []);

  // Text output.
  const text = await run(['probe', '--port', String(main.port), '--user', user, '--identity', clientKey, '127.0.0.1']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^host key: ssh-ed25519 AAAA/m);
  assert.match(text.stdout, /^ {2}256 SHA256:\S+ .*\(ED25519\)$/m);
  assert.match(text.stdout, /^nix: 2\.8\.0$/m);
  assert.match(text.stdout, /^system: x86_64-linux$/m);
});

test('CLI probe refuses option-like hosts and bad usage with exit 2, without connecting', { skip, timeout: 30000 }, async () => {
  const before = sshdLog(main).length;
  for (const args of [
    ['probe', '-x'],
    ['probe', '-oProxyCommand=x'],
    ['probe', '--port', String(main.port), '--', '-oProxyCommand=touch /tmp/pwned'],
    ['probe', '--port', String(main.port), '--user', '-oProxyCommand=x', '127.0.0.1'],
    ['probe', '--port', String(main.port), '--user', 'a b', '127.0.0.1'],
    ['probe', '--port', '0', '127.0.0.1'],
    ['probe', '--timeout', 'soon', '127.0.0.1'],
    ['probe'],
    ['probe', 'a', 'b'],
    ['probe', '--identity', path.join(dir, 'no-such-key'), '127.0.0.1'],
  ]) {
    const r = await run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Usage: nix-builders probe/);
  }
  await waitLog();
  assert.doesNotMatch(sshdLog(main).slice(before), /Connection from/);
});
