// A real OpenSSH sshd for tests, on 127.0.0.1 only (no packet leaves the
// machine): host keys and a client key made with ssh-keygen in a temporary
// folder, `sshd -D -e` on a free port, logging to a string. Needs root
// (sshd's privilege separation, login as root), /usr/sbin/sshd and ssh-keygen;
// the probe tests also need nix (the "remote" Nix is this machine's).
// (Not a test file itself: it defines no tests.)
'use strict';
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const SSHD = '/usr/sbin/sshd';

function has(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the real-sshd tests cannot run here (false when they can). */
function sshdSkipReason({ nix = true } = {}) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) return 'needs root to run sshd';
  if (!fs.existsSync(SSHD)) return 'no /usr/sbin/sshd';
  if (!has('sh', ['-c', 'command -v ssh-keygen'])) return 'no ssh-keygen';
  if (nix && !has('nix', ['--version'])) return 'no nix';
  return false;
}

/** A new key pair `dir/name` (and `.pub`); returns the private key's path. */
function keygen(dir, name, type) {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '3072'] : []), '-N', '', '-C', `${name}@test`, '-f', file]);
  return file;
}

const pubLine = (file) => fs.readFileSync(`${file}.pub`, 'utf8').trim();
const pubBlob = (file) => pubLine(file).split(/\s+/)[1];

/** `ssh-keygen -l -f key.pub`: { line, fingerprint }. */
function keygenFingerprint(file) {
  const line = execFileSync('ssh-keygen', ['-l', '-f', `${file}.pub`], { encoding: 'utf8' }).trim();
  const fingerprint = line.split(/\s+/)[1];
  assert.match(fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  return { line, fingerprint };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `sshd -D -e` on 127.0.0.1 with the given host keys; logins with the
 * keys in `dir/authorized_keys`. Resolves to { child, port, log, stop() } once
 * it listens (`log` grows as sshd writes).
 */
async function startSshd(dir, name, hostKeys) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = path.join(dir, `${name}.sshd_config`);
    fs.writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        ...hostKeys.map((k) => `HostKey ${k}`),
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PidFile none',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'AllowAgentForwarding no',
        'AllowTcpForwarding no',
        'X11Forwarding no',
        'UseDNS no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const d = {
      child,
      port,
      log: '',
      stop() {
        child.kill('SIGTERM');
      },
    };
    const listening = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      child.stderr.on('data', (chunk) => {
        d.log += chunk;
        if (d.log.includes('Server listening on')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (listening) return d;
    child.kill('SIGKILL');
    if (!/Address already in use|Bind to port/.test(d.log)) throw new Error(`sshd did not start:\n${d.log}`);
  }
  throw new Error('sshd did not start: no free port');
}

module.exports = { SSHD, has, sshdSkipReason, keygen, pubLine, pubBlob, keygenFingerprint, freePort, startSshd };
