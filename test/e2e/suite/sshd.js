// A real OpenSSH sshd on 127.0.0.1 for the probe tests of the e2e suite,
// started from the extension host (a Node process on this machine) with the
// same helper as test/probe/: its own ed25519 host key, one authorized client
// key, root login by key only. Nothing listens beyond 127.0.0.1.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sshd = require('../../helpers/sshd');

/**
 * Starts sshd; resolves to { port, hostKey, clientKey, fingerprint, publicKey, log(), stop() }
 * once it listens.
 */
async function startSshd() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-e2e-sshd-'));
  try {
    const hostKey = sshd.keygen(dir, 'host_ed25519_key', 'ed25519');
    const clientKey = sshd.keygen(dir, 'client_key', 'ed25519');
    fs.writeFileSync(path.join(dir, 'authorized_keys'), fs.readFileSync(`${clientKey}.pub`));
    const publicKey = sshd.pubLine(hostKey).split(/\s+/).slice(0, 2).join(' ');
    const { fingerprint } = sshd.keygenFingerprint(hostKey);
    const d = await sshd.startSshd(dir, 'e2e', [hostKey]);
    return {
      port: d.port,
      hostKey,
      clientKey,
      publicKey,
      fingerprint,
      log: () => d.log,
      stop() {
        d.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

module.exports = { startSshd, freePort: sshd.freePort, sshdSkipReason: () => sshd.sshdSkipReason() };
