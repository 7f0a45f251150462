// Tests core/ssh-keys against real keys from ssh-keygen and the usual publicHostKey mistakes.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { loadCore } = require('../helpers/load-ts');

const m = loadCore('ssh-keys');

const SSH_KEYGEN = '/usr/bin/ssh-keygen';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-ssh-keys-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Generates a key pair with ssh-keygen; returns the .pub path. */
function keygen(name, args, comment) {
  const file = path.join(tmp, name);
  execFileSync(SSH_KEYGEN, ['-q', '-N', '', '-C', comment, '-f', file, ...args]);
  return `${file}.pub`;
}

/** What `ssh-keygen -l -f file` prints, without the final newline. */
function sshKeygenL(file) {
  return execFileSync(SSH_KEYGEN, ['-l', '-f', file], { encoding: 'utf8' }).replace(/\n$/, '');
}

function writePub(name, text) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

// SSH wire format helpers, for blobs ssh-keygen cannot generate here (sk-*) or
// that are deliberately broken.
function sshString(b) {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}
function mpint(b) {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return sshString(v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function blob(...fields) {
  return Buffer.concat(fields.map(sshString)).toString('base64');
}
function ed25519Raw() {
  const { publicKey } = crypto.generateKeyPairSync('ed25519');
  return Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
}
function p256Point() {
  const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function okKey(result) {
  assert.ok('key' in result, `expected a key, got ${JSON.stringify(result)}`);
  return result.key;
}
function problemOf(result, kind) {
  assert.ok('problem' in result, `expected a problem, got ${JSON.stringify(result)}`);
  assert.equal(result.problem.kind, kind, result.problem.message);
  assert.ok(result.problem.message.length > 20);
  return result;
}

const generated = [
  { name: 'ed25519', args: ['-t', 'ed25519'], bits: 256, label: 'ED25519', comment: 'root@builder' },
  { name: 'rsa2048', args: ['-t', 'rsa', '-b', '2048'], bits: 2048, label: 'RSA', comment: 'root@rsa2048' },
  { name: 'rsa3072', args: ['-t', 'rsa', '-b', '3072'], bits: 3072, label: 'RSA', comment: 'comment with  spaces' },
  { name: 'ecdsa256', args: ['-t', 'ecdsa', '-b', '256'], bits: 256, label: 'ECDSA', comment: 'root@e256' },
  { name: 'ecdsa384', args: ['-t', 'ecdsa', '-b', '384'], bits: 384, label: 'ECDSA', comment: 'root@e384' },
  { name: 'ecdsa521', args: ['-t', 'ecdsa', '-b', '521'], bits: 521, label: 'ECDSA', comment: 'root@e521' },
  { name: 'nocomment', args: ['-t', 'ed25519'], bits: 256, label: 'ED25519', comment: '' },
];
for (const g of generated) g.pub = keygen(g.name, g.args, g.comment);

test('HOST_KEY_TYPES lists the host key types OpenSSH accepts', () => {
  assert.deepEqual([...m.HOST_KEY_TYPES].sort(), [
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'sk-ecdsa-sha2-nistp256@openssh.com',
    'sk-ssh-ed25519@openssh.com',
    'ssh-ed25519',
    'ssh-rsa',
  ]);
});

test('isStandardBase64 accepts what Nix decodes, padding optional', () => {
  for (const s of ['QUJD', 'QUI=', 'QUI', 'QQ==', 'QQ', 'a+b/', 'AAAAC3NzaC1lZDI1NTE5']) assert.equal(m.isStandardBase64(s), true, s);
  for (const s of ['', '=', 'QQ===', 'a-b_', 'QU JD', 'QUJD\n', 'QQ==QQ', 'é']) assert.equal(m.isStandardBase64(s), false, JSON.stringify(s));
});

for (const g of generated) {
  test(`${g.name}: parse and fingerprint match ssh-keygen -l`, () => {
    const line = fs.readFileSync(g.pub, 'utf8');
    const key = okKey(m.parsePublicKeyLine(line));
    assert.equal(key.bits, g.bits);
    assert.equal(key.blob, line.split(' ')[1].trim());
    assert.equal(key.comment, g.comment === '' ? undefined : g.comment);
    assert.equal(m.fingerprintLine(key), sshKeygenL(g.pub));
    assert.match(m.fingerprintLine(key), new RegExp(`\\(${g.label}\\)$`));
    assert.doesNotMatch(key.fingerprint, /=$/);
  });

  test(`${g.name}: encodePublicHostKey is base64 -w0 of the .pub file, and decodes back`, () => {
    const fileText = fs.readFileSync(g.pub, 'utf8');
    // As written by ssh-keygen (with -C '' that is "type blob " with a trailing blank).
    const asWritten = fileText.replace(/\n$/, '');
    const line = fileText.trimEnd();
    const encoded = m.encodePublicHostKey(asWritten);
    assert.equal(encoded, fs.readFileSync(g.pub).toString('base64'));
    assert.equal(m.encodePublicHostKey(fileText), encoded, 'a trailing newline is not doubled');
    const decoded = m.decodePublicHostKey(encoded);
    assert.ok('key' in decoded, JSON.stringify(decoded));
    assert.equal(decoded.line, line);
    assert.deepEqual(m.decodePublicHostKey(m.encodePublicHostKey(line)), decoded);
    assert.deepEqual(decoded.key, okKey(m.parsePublicKeyLine(line)));
    // Nix decodes unpadded base64 too, and surrounding blanks are split away.
    const unpadded = encoded.replace(/=+$/, '');
    assert.deepEqual(m.decodePublicHostKey(`  ${unpadded}\n`), decoded);
  });
}

test('fingerprintLine keeps the comment as ssh-keygen prints it', () => {
  const b = fs.readFileSync(generated[0].pub, 'utf8').split(' ')[1];
  for (const [name, text] of [
    ['tabs.pub', `ssh-ed25519 ${b}   a \t b  \n`],
    ['tabsep.pub', `ssh-ed25519\t${b}\n`],
    ['leading.pub', `  ssh-ed25519 ${b} x\n`],
    ['crlf.pub', `ssh-ed25519 ${b}\r\n`],
  ]) {
    const file = writePub(name, text);
    assert.equal(m.fingerprintLine(okKey(m.parsePublicKeyLine(text))), sshKeygenL(file), name);
  }
});

test('security-key (sk-*) keys: bits and labels as ssh-keygen reports them', () => {
  const ed = `sk-ssh-ed25519@openssh.com ${blob('sk-ssh-ed25519@openssh.com', ed25519Raw(), 'ssh:')} me@yubikey`;
  const ec = `sk-ecdsa-sha2-nistp256@openssh.com ${blob('sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', p256Point(), 'ssh:')} me@yubikey`;
  for (const [name, line, expected] of [
    ['sk-ed.pub', ed, /^256 SHA256:\S+ me@yubikey \(ED25519-SK\)$/],
    ['sk-ec.pub', ec, /^256 SHA256:\S+ me@yubikey \(ECDSA-SK\)$/],
  ]) {
    const key = okKey(m.parsePublicKeyLine(line));
    const out = m.fingerprintLine(key);
    assert.match(out, expected);
    assert.equal(out, sshKeygenL(writePub(name, `${line}\n`)));
    okKey(m.decodePublicHostKey(m.encodePublicHostKey(line)));
  }
  // Without the application string the blob is incomplete.
  problemOf(m.parsePublicKeyLine(`sk-ssh-ed25519@openssh.com ${blob('sk-ssh-ed25519@openssh.com', ed25519Raw())}`), 'bad-blob');
});

test('the ed25519 knownHosts keys of examples/distributed-builds.nix are valid', () => {
  const nix = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'distributed-builds.nix'), 'utf8');
  const keys = [...nix.matchAll(/publicKey\s*=\s*"([^"]*)"/g)].map((x) => x[1]);
  assert.equal(keys.length, 3);
  for (const line of keys) {
    const key = okKey(m.parsePublicKeyLine(line));
    assert.equal(key.type, 'ssh-ed25519');
    assert.equal(key.bits, 256);
    assert.equal(key.comment, undefined);
    assert.equal(m.fingerprintLine(key), sshKeygenL(writePub('example.pub', `${line}\n`)));
    const decoded = m.decodePublicHostKey(m.encodePublicHostKey(line));
    assert.ok('key' in decoded);
    assert.equal(decoded.line, line);
  }
});

// ---------------------------------------------------------------------------
// parsePublicKeyLine problems (knownHosts.<name>.publicKey).

const edLine = () => fs.readFileSync(generated[0].pub, 'utf8').trimEnd();
const edBlob = () => edLine().split(' ')[1];

test('parsePublicKeyLine: empty', () => {
  problemOf(m.parsePublicKeyLine(''), 'empty');
  problemOf(m.parsePublicKeyLine('  \n'), 'empty');
});

test('parsePublicKeyLine: missing-blob', () => {
  const r = problemOf(m.parsePublicKeyLine('ssh-ed25519'), 'missing-blob');
  assert.match(r.problem.message, /ssh_host_ed25519_key\.pub/);
  problemOf(m.parsePublicKeyLine('ssh-rsa   '), 'missing-blob');
});

test('parsePublicKeyLine: missing-type (bare blob)', () => {
  const r = problemOf(m.parsePublicKeyLine(edBlob()), 'missing-type');
  assert.match(r.problem.message, /ssh-ed25519/);
});

test('parsePublicKeyLine: unknown-type, with a suggestion or an explanation', () => {
  assert.match(problemOf(m.parsePublicKeyLine(`ssh-ed2519 ${edBlob()}`), 'unknown-type').problem.message, /did you mean `ssh-ed25519`/);
  assert.match(problemOf(m.parsePublicKeyLine(`SSH-RSA ${edBlob()}`), 'unknown-type').problem.message, /did you mean `ssh-rsa`/);
  assert.match(problemOf(m.parsePublicKeyLine('ssh-dss AAAAB3NzaC1kc3M='), 'unknown-type').problem.message, /DSA/);
  assert.match(problemOf(m.parsePublicKeyLine(`builder.example ${edLine()}`), 'unknown-type').problem.message, /hostNames/);
  assert.match(problemOf(m.parsePublicKeyLine('SHA256:LvviEjB8r8wieI4xL3NddF55JwMOoA2WBNY391V8ne8'), 'unknown-type').problem.message, /fingerprint/);
  assert.match(problemOf(m.parsePublicKeyLine('-----BEGIN OPENSSH PRIVATE KEY-----'), 'unknown-type').problem.message, /PRIVATE/);
  assert.match(problemOf(m.parsePublicKeyLine('ssh-ed25519-cert-v01@openssh.com AAAA'), 'unknown-type').problem.message, /certificate/);
  problemOf(m.parsePublicKeyLine('foo bar'), 'unknown-type');
});

test('parsePublicKeyLine: not-base64 blob, including missing padding (ssh rejects it)', () => {
  problemOf(m.parsePublicKeyLine(`ssh-ed25519 ${edBlob().slice(0, 20)}!${edBlob().slice(21)}`), 'not-base64');
  const e384 = fs.readFileSync(generated[4].pub, 'utf8').trimEnd();
  assert.match(e384.split(' ')[1], /==$/);
  const unpadded = e384.replace('==', '');
  const r = problemOf(m.parsePublicKeyLine(unpadded), 'not-base64');
  assert.match(r.problem.message, /padding.*`==`/);
  // ssh-keygen agrees that the unpadded line is unusable.
  assert.throws(() => sshKeygenL(writePub('unpadded.pub', `${unpadded}\n`)));
});

test('parsePublicKeyLine: blob-type-mismatch (type says ssh-rsa, blob is ed25519)', () => {
  const r = problemOf(m.parsePublicKeyLine(`ssh-rsa ${edBlob()} root@builder`), 'blob-type-mismatch');
  assert.match(r.problem.message, /`ssh-rsa`.*`ssh-ed25519`/);
  problemOf(m.parsePublicKeyLine(`ecdsa-sha2-nistp384 ${fs.readFileSync(generated[3].pub, 'utf8').split(' ')[1]}`), 'blob-type-mismatch');
});

test('parsePublicKeyLine: bad-blob', () => {
  const raw = Buffer.from(edBlob(), 'base64');
  const cases = {
    truncated: raw.subarray(0, raw.length - 3).toString('base64'),
    'short key': blob('ssh-ed25519', Buffer.alloc(31, 7)),
    'trailing bytes': Buffer.concat([raw, Buffer.from([0])]).toString('base64'),
  };
  for (const [name, b64] of Object.entries(cases)) {
    problemOf(m.parsePublicKeyLine(`ssh-ed25519 ${b64}`), 'bad-blob');
    assert.ok(name);
  }
  // An RSA key below OpenSSH's 1024-bit minimum.
  const small = crypto.generateKeyPairSync('rsa', { modulusLength: 768 }).publicKey.export({ format: 'jwk' });
  const smallBlob = Buffer.concat([
    sshString('ssh-rsa'),
    mpint(Buffer.from(small.e, 'base64url')),
    mpint(Buffer.from(small.n, 'base64url')),
  ]).toString('base64');
  assert.match(problemOf(m.parsePublicKeyLine(`ssh-rsa ${smallBlob}`), 'bad-blob').problem.message, /768 bits/);
  // An ECDSA point off the curve, and a curve name that contradicts the type.
  const point = p256Point();
  point[40] ^= 1;
  assert.match(
    problemOf(m.parsePublicKeyLine(`ecdsa-sha2-nistp256 ${blob('ecdsa-sha2-nistp256', 'nistp256', point)}`), 'bad-blob').problem.message,
    /not on the nistp256 curve/,
  );
  problemOf(m.parsePublicKeyLine(`ecdsa-sha2-nistp256 ${blob('ecdsa-sha2-nistp256', 'nistp384', p256Point())}`), 'bad-blob');
  // Base64 that is no SSH blob at all.
  problemOf(m.parsePublicKeyLine('ssh-ed25519 aGVsbG8gd29ybGQh'), 'bad-blob');
  // The real blobs built by the helpers are accepted, so the failures above are the breakage.
  okKey(m.parsePublicKeyLine(`ecdsa-sha2-nistp256 ${blob('ecdsa-sha2-nistp256', 'nistp256', p256Point())}`));
});

// ---------------------------------------------------------------------------
// decodePublicHostKey: the NixOS publicHostKey option.

test('decodePublicHostKey: empty', () => {
  const r = problemOf(m.decodePublicHostKey(''), 'empty');
  assert.match(r.problem.message, /base64 -w0 \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
  problemOf(m.decodePublicHostKey('   '), 'empty');
  assert.equal(r.fix, undefined);
});

test('decodePublicHostKey: raw line pasted -> encode-line fix equal to base64 -w0 of the .pub file', () => {
  for (const g of generated) {
    const line = fs.readFileSync(g.pub, 'utf8').trimEnd();
    const r = problemOf(m.decodePublicHostKey(line), 'not-base64');
    assert.match(r.problem.message, /raw public key line/);
    assert.match(r.problem.message, /base64 -w0 \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
    assert.equal(r.fix.kind, 'encode-line');
    assert.equal(r.fix.newValue, Buffer.from(`${line}\n`).toString('base64'));
    if (g.comment !== '') assert.equal(r.fix.newValue, fs.readFileSync(g.pub).toString('base64'));
    const fixed = m.decodePublicHostKey(r.fix.newValue);
    assert.ok('key' in fixed);
    assert.equal(fixed.line, line);
  }
});

test('decodePublicHostKey: bare blob pasted -> encode-blob fix with "<type> <blob>"', () => {
  for (const g of generated) {
    const [type, b] = fs.readFileSync(g.pub, 'utf8').split(' ');
    const r = problemOf(m.decodePublicHostKey(b), 'missing-type');
    assert.match(r.problem.message, new RegExp(`bare \`${type}\` key blob`));
    assert.equal(r.fix.kind, 'encode-blob');
    assert.equal(Buffer.from(r.fix.newValue, 'base64').toString(), `${type} ${b.trim()}\n`);
    const fixed = m.decodePublicHostKey(r.fix.newValue);
    assert.ok('key' in fixed);
    assert.equal(fixed.key.type, type);
    assert.equal(fixed.key.bits, g.bits);
  }
  // An unpadded blob still decodes for Nix; the fix writes the padded form ssh needs.
  const e384 = fs.readFileSync(generated[4].pub, 'utf8').split(' ')[1];
  const r = problemOf(m.decodePublicHostKey(e384.replace(/=+$/, '')), 'missing-type');
  assert.equal(Buffer.from(r.fix.newValue, 'base64').toString(), `ecdsa-sha2-nistp384 ${e384}\n`);
  // A damaged bare blob gets no fix.
  const broken = problemOf(m.decodePublicHostKey(blob('ssh-ed25519', Buffer.alloc(31))), 'bad-blob');
  assert.equal(broken.fix, undefined);
});

test('decodePublicHostKey: other mistakes recognised', () => {
  const line = edLine();
  const fileB64 = fs.readFileSync(generated[0].pub).toString('base64');

  // `base64` without -w0 wraps at 76 columns.
  const wrapped = fileB64.replace(/(.{76})/g, '$1\n');
  assert.ok(wrapped.includes('\n'));
  let r = problemOf(m.decodePublicHostKey(wrapped), 'not-base64');
  assert.match(r.problem.message, /-w0/);
  assert.equal(r.fix.newValue, fileB64);

  // A known_hosts / ssh-keyscan line: the fix drops the host names.
  r = problemOf(m.decodePublicHostKey(`builder,10.0.0.2 ${line}`), 'not-base64');
  assert.match(r.problem.message, /known_hosts/);
  assert.equal(r.fix.newValue, fileB64);

  // Encoded twice.
  r = problemOf(m.decodePublicHostKey(Buffer.from(fileB64).toString('base64')), 'not-base64');
  assert.match(r.problem.message, /twice/);
  assert.equal(r.fix.newValue, fileB64);

  // Only the type, a fingerprint, a path, URL-safe base64, junk.
  problemOf(m.decodePublicHostKey('ssh-ed25519'), 'missing-blob');
  assert.match(problemOf(m.decodePublicHostKey('SHA256:LvviEjB8r8wieI4xL3NddF55JwMOoA2WBNY391V8ne8'), 'not-base64').problem.message, /fingerprint/);
  assert.match(problemOf(m.decodePublicHostKey('/etc/ssh/ssh_host_ed25519_key.pub'), 'not-base64').problem.message, /file path/);
  assert.match(problemOf(m.decodePublicHostKey('/etc/ssh/hostkey'), 'not-base64').problem.message, /file path/);
  const urlSafe = fileB64.replace(/\+/g, '-').replace(/\//g, '_');
  if (urlSafe !== fileB64) assert.match(problemOf(m.decodePublicHostKey(urlSafe), 'not-base64').problem.message, /URL-safe/);
  assert.match(problemOf(m.decodePublicHostKey('c3NoLWVk!MjU1MTk'), 'not-base64').problem.message, /`!` at position 9/);
  assert.match(problemOf(m.decodePublicHostKey('builder'), 'not-base64').problem.message, /binary/);
});

test('decodePublicHostKey: the decoded line is validated like a knownHosts key', () => {
  const enc = (s) => Buffer.from(`${s}\n`).toString('base64');
  const b = edBlob();
  let r = problemOf(m.decodePublicHostKey(enc(`ssh-rsa ${b} root@builder`)), 'blob-type-mismatch');
  assert.match(r.problem.message, /^publicHostKey decodes to `ssh-rsa /);
  assert.equal(r.fix, undefined);
  problemOf(m.decodePublicHostKey(enc(`ssh-ed2519 ${b}`)), 'unknown-type');
  problemOf(m.decodePublicHostKey(enc('ssh-ed25519')), 'missing-blob');
  problemOf(m.decodePublicHostKey(enc(`ssh-ed25519 ${b.slice(0, -7)}`)), 'not-base64');
  problemOf(m.decodePublicHostKey(enc(`ssh-ed25519 ${blob('ssh-ed25519', Buffer.alloc(30))}`)), 'bad-blob');
  problemOf(m.decodePublicHostKey(enc('')), 'empty');
  // A raw line whose blob is broken: the line problem, no fix.
  r = problemOf(m.decodePublicHostKey(`ssh-rsa ${b}`), 'blob-type-mismatch');
  assert.match(r.problem.message, /raw public key line/);
  assert.equal(r.fix, undefined);
});

test('every problem kind is produced', () => {
  const seen = new Set();
  const b = edBlob();
  for (const r of [
    m.parsePublicKeyLine(''),
    m.parsePublicKeyLine('ssh-ed25519'),
    m.parsePublicKeyLine(b),
    m.parsePublicKeyLine(`ssh-foo ${b}`),
    m.parsePublicKeyLine(`ssh-ed25519 ${b.slice(1)}`),
    m.parsePublicKeyLine(`ssh-rsa ${b}`),
    m.parsePublicKeyLine(`ssh-ed25519 ${blob('ssh-ed25519', Buffer.alloc(8))}`),
    m.decodePublicHostKey('not base64!'),
  ]) {
    if ('problem' in r) seen.add(r.problem.kind);
  }
  assert.deepEqual([...seen].sort(), [
    'bad-blob',
    'blob-type-mismatch',
    'empty',
    'missing-blob',
    'missing-type',
    'not-base64',
    'unknown-type',
  ]);
});
