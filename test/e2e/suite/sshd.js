// A real OpenSSH sshd on 127.0.0.1 for the probe tests of the e2e suite,
// started from the extension host (a Node process on this machine) as
// test/probe/sshd.test.js does: its own host key, one authorized client key,
// root login by key only. Nothing listens beyond 127.0.0.1.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const SSHD = '/usr/sbin/sshd';

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the sshd tests cannot run here, or false. */
function sshdSkipReason() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root to run sshd';
  if (!fs.existsSync(SSHD)) return `no ${SSHD}`;
  if (!has('ssh-keygen')) return 'no ssh-keygen';
  if (!has('nix')) return 'no nix';
  return false;
}

/** A port nothing listens on (for now) on 127.0.0.1 (nor, then, on 127.0.0.2 unless bound there alone). */
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

function keygen(dir, name) {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@e2e`, '-f', file]);
  return file;
}

/**
 * Starts sshd -D -e; resolves to { port, hostKey, clientKey, fingerprint, publicKey, stop() }
 * once it listens.
 */
async function startSshd() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-e2e-sshd-'));
  const hostKey = keygen(dir, 'host_ed25519_key');
  const clientKey = keygen(dir, 'client_key');
  fs.writeFileSync(path.join(dir, 'authorized_keys'), fs.readFileSync(`${clientKey}.pub`));
  const publicKey = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(/\s+/)[1];
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    fs.writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
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
    let log = '';
    const listening = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      child.stderr.on('data', (chunk) => {
        log += chunk;
        if (log.includes('Server listening on')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (listening) {
      return {
        port,
        hostKey,
        clientKey,
        publicKey,
        fingerprint,
        log: () => log,
        stop() {
          child.kill('SIGTERM');
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    if (!/Address already in use|Bind to port/.test(log)) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start:\n${log}`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error('sshd did not start: no free port');
}

module.exports = { startSshd, freePort, sshdSkipReason };
