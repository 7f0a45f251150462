// The probe against servers that misbehave, all on 127.0.0.1: an ssh2 Server
// run by the test, and plain TCP servers that never speak SSH properly. Every
// probe must end within its timeout (+ margin) with the right kind, leave no
// socket or timer behind, and keep the event loop responsive.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const ssh2 = require('ssh2');
const { loadServer } = require('../helpers/load-server');

const { fetchHostKeys, probeBuilder, parseRemoteOutput, REMOTE_COMMAND } = loadServer('probe/probe');
const { probeAll } = loadServer('probe/pool');
const { parsePublicKeyLine } = loadServer('core/ssh-keys');

const MARGIN = 1000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-faults-'));
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const keyA = ssh2.utils.generateKeyPairSync('ed25519');
const keyB = ssh2.utils.generateKeyPairSync('ed25519');
const clientPair = ssh2.utils.generateKeyPairSync('ed25519');
const clientKeyFile = path.join(dir, 'id_ed25519');
fs.writeFileSync(clientKeyFile, clientPair.private, { mode: 0o600 });
const clientPub = ssh2.utils.parseKey(clientPair.public);

const blobOf = (pair) => pair.public.split(/\s+/)[1];
const publicKey = (line) => {
  const r = parsePublicKeyLine(line);
  assert.ok('key' in r);
  return r.key;
};

// ---------------------------------------------------------------------------
// Servers. Each tracks its sockets so that closing it leaves nothing behind.

const servers = [];

function listen(srv) {
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv.address().port)));
}

async function tcpServer(onSocket, { read = true } = {}) {
  const sockets = new Set();
  const srv = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    // Read (and drop) what the client sends, so its close is noticed.
    if (read) sock.resume();
    onSocket(sock);
  });
  const port = await listen(srv);
  const s = {
    port,
    sockets,
    close: () =>
      new Promise((resolve) => {
        for (const sock of sockets) sock.destroy();
        srv.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

/**
 * An ssh2 Server. `hostKeys` is a list of key pairs used in turn, one per
 * connection (a different key on the second connection). `auth`: 'key' accepts
 * the client key, 'none' rejects everything. `exec(stream, command)` answers.
 */
async function sshServer({ hostKeys = [keyA], auth = 'key', exec }) {
  const execs = [];
  const logins = [];
  const ssh = hostKeys.map(
    (pair) =>
      new ssh2.Server({ hostKeys: [pair.private] }, (client) => {
        client.on('error', () => {});
        client.on('authentication', (ctx) => {
          if (auth !== 'key' || ctx.method !== 'publickey') return ctx.reject(['publickey']);
          const k = ctx.key;
          if (k.algo !== clientPub.type || !k.data.equals(clientPub.getPublicSSH())) return ctx.reject(['publickey']);
          if (ctx.signature && clientPub.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
          if (ctx.signature) logins.push(ctx.username);
          ctx.accept();
        });
        client.on('ready', () => {
          client.on('session', (accept) => {
            const session = accept();
            session.on('pty', (_a, reject) => reject?.());
            session.on('shell', (_a, reject) => reject?.());
            session.on('auth-agent', (_a, reject) => reject?.());
            session.on('exec', (acceptExec, _reject, info) => {
              execs.push(info.command);
              const stream = acceptExec();
              stream.on('error', () => {});
              exec?.(stream, info.command);
            });
          });
        });
      }),
  );
  let n = 0;
  const s = await tcpServer(
    (sock) => {
      const srv = ssh[Math.min(n++, ssh.length - 1)];
      srv.injectSocket(sock);
    },
    { read: false },
  );
  return { ...s, execs, logins };
}

test.after(async () => {
  for (const s of servers) await s.close();
});

async function closedPort() {
  const srv = net.createServer();
  const port = await listen(srv);
  await new Promise((r) => srv.close(r));
  return port;
}

const T = (o) => ({ connectMs: 2000, handshakeMs: 2000, commandMs: 3000, ...o });
const target = (port, extra) => ({ host: '127.0.0.1', port, user: 'builder', privateKey: { path: clientKeyFile }, ...extra });

async function timed(promise) {
  const t0 = performance.now();
  const r = await promise;
  return { r, ms: performance.now() - t0 };
}

/** No socket of the probe is left open: every TCP socket of the process belongs to a test server. */
async function assertNoLeakedSockets() {
  await new Promise((r) => setTimeout(r, 50));
  const serverSockets = servers.reduce((n, s) => n + s.sockets.size, 0);
  const tcp = process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap').length;
  assert.ok(tcp <= serverSockets, `TCP sockets open: ${tcp}, of which test servers hold ${serverSockets}`);
}

// ---------------------------------------------------------------------------

test('no banner: TCP accepts but the server never writes → no-banner after handshakeMs', { timeout: 10000 }, async () => {
  const s = await tcpServer(() => {});
  const { r, ms } = await timed(probeBuilder(target(s.port), { timeouts: T({ handshakeMs: 400 }) }));
  assert.equal(r.error?.kind, 'no-banner', JSON.stringify(r));
  assert.match(r.error.message, /sent no SSH banner within 400 ms/);
  assert.ok(ms >= 390 && ms < 400 + MARGIN, `${ms} ms`);
  assert.deepEqual(r.hostKeys, []);
  await assertNoLeakedSockets();
  await s.close();
});

test('a banner at one byte per second → timeout naming the banner, after handshakeMs', { timeout: 10000 }, async () => {
  const banner = Buffer.from('SSH-2.0-OpenSSH_9.9\r\n');
  const timers = new Set();
  const s = await tcpServer((sock) => {
    let i = 0;
    const t = setInterval(() => {
      if (i < banner.length && !sock.destroyed) sock.write(banner.subarray(i, ++i));
    }, 1000);
    timers.add(t);
    sock.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
    sock.write(banner.subarray(0, ++i));
  });
  const { r, ms } = await timed(fetchHostKeys(target(s.port), { timeouts: T({ handshakeMs: 2500 }) }));
  assert.equal(r.error?.kind, 'timeout', JSON.stringify(r));
  assert.match(r.error.message, /sent only [1-9]\d* bytes of its SSH banner within 2500 ms/);
  assert.ok(ms >= 2490 && ms < 2500 + MARGIN, `${ms} ms`);
  await assertNoLeakedSockets();
  assert.equal(timers.size, 0, 'the server saw the connection close');
  await s.close();
});

test('not an SSH server: it answers with something else → no-banner quoting it', { timeout: 10000 }, async () => {
  const s = await tcpServer((sock) => sock.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const { r, ms } = await timed(fetchHostKeys(target(s.port), { timeouts: T() }));
  assert.equal(r.error?.kind, 'no-banner', JSON.stringify(r));
  assert.ok(ms < MARGIN, `${ms} ms`);
  await s.close();
});

test('a server that closes at once → no-banner', { timeout: 10000 }, async () => {
  const s = await tcpServer((sock) => sock.destroy());
  const { r } = await timed(fetchHostKeys(target(s.port), { timeouts: T() }));
  assert.equal(r.error?.kind, 'no-banner', JSON.stringify(r));
  assert.match(r.error.message, /closed the connection without sending an SSH banner/);
  await s.close();
});

test('a different host key on the second connection → host-key-mismatch, no login', { timeout: 10000 }, async () => {
  const s = await sshServer({ hostKeys: [keyA, keyB], exec: (stream) => stream.exit(0) || stream.end() });
  const first = await fetchHostKeys(target(s.port), { timeouts: T() });
  assert.equal(first.error, undefined, JSON.stringify(first));
  assert.equal(first.hostKeys[0].key, blobOf(keyA));
  assert.equal(s.logins.length, 0, 'fetchHostKeys does not log in');
  const expectedKeys = first.hostKeys.map((k) => publicKey(k.line));
  const { r, ms } = await timed(probeBuilder(target(s.port, { expectedKeys }), { timeouts: T() }));
  assert.equal(r.error?.kind, 'host-key-mismatch', JSON.stringify(r));
  assert.equal(r.hostKeys[0].key, blobOf(keyB));
  assert.ok(r.error.message.includes(first.hostKeys[0].fingerprint));
  assert.ok(r.error.message.includes(r.hostKeys[0].fingerprint));
  assert.match(r.error.message, /Not logging in/);
  assert.equal(s.logins.length, 0);
  assert.equal(s.execs.length, 0);
  assert.ok(ms < MARGIN, `${ms} ms`);
  // Handshake only, with the keys of the first connection: the same verdict (third connection, key B again).
  const scan = await fetchHostKeys(target(s.port, { expectedKeys }), { timeouts: T() });
  assert.equal(scan.error?.kind, 'host-key-mismatch', JSON.stringify(scan));
  assert.equal(scan.hostKeys[0].key, blobOf(keyB));
  const match = await fetchHostKeys(target(s.port, { expectedKeys: [publicKey(keyB.public)] }), { timeouts: T() });
  assert.equal(match.error, undefined);
  assert.equal(s.logins.length, 0);
  await assertNoLeakedSockets();
});

test('authentication failure → auth-failed naming publickey and the key file; agent without SSH_AUTH_SOCK is named too', { timeout: 10000 }, async () => {
  const s = await sshServer({ auth: 'none' });
  const saved = process.env.SSH_AUTH_SOCK;
  delete process.env.SSH_AUTH_SOCK;
  try {
    const { r } = await timed(probeBuilder(target(s.port, { useAgent: true }), { timeouts: T() }));
    assert.equal(r.error?.kind, 'auth-failed', JSON.stringify(r));
    assert.match(r.error.message, /refused the login as builder/);
    assert.match(r.error.message, /tried publickey with key file /);
    assert.ok(r.error.message.includes(clientKeyFile));
    assert.match(r.error.message, /SSH_AUTH_SOCK is not set/);
    assert.ok(!r.error.message.includes(clientPair.private.split('\n')[1].slice(0, 16)), 'no private key material');
    assert.equal(r.hostKeys.length, 1);
    assert.equal(s.execs.length, 0);
  } finally {
    if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
  }
  // A key file that is not there: still the host key, and the reason.
  const missing = await probeBuilder(target(s.port, { privateKey: { path: path.join(dir, 'nope') } }), { timeouts: T() });
  assert.equal(missing.error?.kind, 'auth-failed');
  assert.match(missing.error.message, /cannot read the key file .*nope \(no such file\)/);
  assert.equal(missing.hostKeys.length, 1);
  await assertNoLeakedSockets();
});

test('a remote without nix (sh answers "nix: not found", exit 127) → no-nix', { timeout: 10000 }, async () => {
  const s = await sshServer({
    exec: (stream) => {
      stream.stderr.write('sh: 1: nix: not found\n');
      stream.exit(127);
      stream.end();
    },
  });
  const { r } = await timed(probeBuilder(target(s.port), { timeouts: T() }));
  assert.equal(r.error?.kind, 'no-nix', JSON.stringify(r));
  assert.match(r.error.message, /no `nix` command on builder@127\.0\.0\.1:\d+/);
  assert.equal(r.nix, undefined);
  assert.deepEqual(s.execs, [REMOTE_COMMAND], 'exactly the one fixed command');
  await assertNoLeakedSockets();
});

test('a command that never returns → timeout after commandMs', { timeout: 10000 }, async () => {
  const s = await sshServer({ exec: () => {} });
  const { r, ms } = await timed(probeBuilder(target(s.port), { timeouts: T({ commandMs: 300 }) }));
  assert.equal(r.error?.kind, 'timeout', JSON.stringify(r));
  assert.match(r.error.message, /did not finish within 300 ms/);
  assert.ok(ms >= 290 && ms < 300 + MARGIN, `${ms} ms`);
  assert.equal(r.hostKeys.length, 1);
  await assertNoLeakedSockets();
});

test('a forced command that ignores ours → command-failed hinting at it', { timeout: 10000 }, async () => {
  const s = await sshServer({
    exec: (stream) => {
      // nix-store --serve reading our closed stdin
      stream.stderr.write('error: unexpected end-of-file\n');
      stream.exit(1);
      stream.end();
    },
  });
  const r = await probeBuilder(target(s.port), { timeouts: T() });
  assert.equal(r.error?.kind, 'command-failed', JSON.stringify(r));
  assert.match(r.error.message, /forced command/);
});

test('connection refused → refused, naming host:port', { timeout: 10000 }, async () => {
  const port = await closedPort();
  const { r, ms } = await timed(probeBuilder(target(port), { timeouts: T() }));
  assert.equal(r.error?.kind, 'refused', JSON.stringify(r));
  assert.equal(r.error.message.startsWith(`nothing listens on 127.0.0.1:${port}`), true, r.error.message);
  assert.ok(ms < MARGIN);
});

test('refused input: no connection is made', { timeout: 10000 }, async () => {
  let connections = 0;
  const s = await tcpServer(() => connections++);
  for (const t of [
    { host: '-oProxyCommand=x', port: s.port },
    { host: '127.0.0.1 -p1', port: s.port },
    { host: '127.0.0.1\n', port: s.port },
    { host: '127.0.0.1', port: s.port, user: '-l' },
    { host: '127.0.0.1', port: s.port, user: 'a\tb' },
    { host: '127.0.0.1', port: 0 },
    { host: '', port: 22 },
  ]) {
    const r = await probeBuilder(t, { timeouts: T() });
    assert.equal(r.error?.kind, 'refused-input', JSON.stringify(t));
    const k = await fetchHostKeys(t, { timeouts: T() });
    assert.equal(k.error?.kind, 'refused-input', JSON.stringify(t));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(connections, 0);
  await s.close();
});

test('cancellation closes the connection at once', { timeout: 10000 }, async () => {
  const s = await tcpServer(() => {});
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 150);
  const { r, ms } = await timed(probeBuilder(target(s.port), { timeouts: T({ handshakeMs: 5000 }), signal: ac.signal }));
  assert.equal(r.error?.kind, 'cancelled', JSON.stringify(r));
  assert.ok(ms >= 140 && ms < 150 + 200, `${ms} ms`);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.sockets.size, 0, 'the server saw the connection close');
  // Already aborted: no connection at all.
  const pre = await probeBuilder(target(s.port), { signal: AbortSignal.abort() });
  assert.equal(pre.error?.kind, 'cancelled');
  // Cancelled while the command runs.
  const hang = await sshServer({ exec: () => {} });
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(), 300);
  const c = await timed(probeBuilder(target(hang.port), { timeouts: T(), signal: ac2.signal }));
  assert.equal(c.r.error?.kind, 'cancelled');
  assert.ok(c.ms < 300 + 200, `${c.ms} ms`);
  await assertNoLeakedSockets();
  await s.close();
});

test('probeAll: bounded concurrency, order kept, progress reported, cancellable', { timeout: 20000 }, async () => {
  let open = 0;
  let maxOpen = 0;
  const s = await tcpServer((sock) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    sock.on('close', () => open--);
  });
  const refused = await closedPort();
  const targets = Array.from({ length: 9 }, (_, i) => target(i === 4 ? refused : s.port));
  const progress = [];
  const results = await probeAll(targets, { concurrency: 3, timeouts: T({ handshakeMs: 200 }), onProgress: (d, t) => progress.push([d, t]) });
  assert.equal(results.length, 9);
  assert.deepEqual(results.map((r) => r.error?.kind), ['no-banner', 'no-banner', 'no-banner', 'no-banner', 'refused', 'no-banner', 'no-banner', 'no-banner', 'no-banner']);
  assert.equal(results[4].port, refused);
  assert.ok(maxOpen <= 3, `at most 3 at once, saw ${maxOpen}`);
  assert.deepEqual(progress, Array.from({ length: 9 }, (_, i) => [i + 1, 9]));

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const { r: cancelled, ms } = await timed(probeAll(Array.from({ length: 20 }, () => target(s.port)), { concurrency: 4, timeouts: T({ handshakeMs: 5000 }), signal: ac.signal }));
  assert.ok(ms < 100 + 300, `${ms} ms`);
  assert.ok(cancelled.every((r) => r.error?.kind === 'cancelled'));
  await assertNoLeakedSockets();
  await s.close();
});

test('the event loop stays responsive while 50 probes hang', { timeout: 20000 }, async (t) => {
  const s = await tcpServer(() => {});
  const HANG = 1500;
  const started = performance.now();
  const all = Promise.all(Array.from({ length: 50 }, () => probeBuilder(target(s.port), { timeouts: T({ handshakeMs: HANG }) })));
  let settled = false;
  all.then(() => (settled = true));
  const lags = [];
  while (!settled) {
    const t0 = performance.now();
    await new Promise((r) => setImmediate(r));
    lags.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
  const results = await all;
  const elapsed = performance.now() - started;
  lags.sort((a, b) => a - b);
  const p95 = lags[Math.floor(lags.length * 0.95)];
  const max = lags[lags.length - 1];
  t.diagnostic(`50 hanging probes: ${lags.length} samples, setImmediate lag p50 ${lags[Math.floor(lags.length / 2)].toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, max ${max.toFixed(2)} ms; all ended after ${elapsed.toFixed(0)} ms`);
  assert.ok(results.every((r) => r.error?.kind === 'no-banner'), JSON.stringify(results.find((r) => r.error?.kind !== 'no-banner')));
  assert.ok(p95 < 50, `p95 ${p95} ms`);
  assert.ok(elapsed < HANG + MARGIN, `${elapsed} ms`);
  assert.ok(lags.length > 20);
  await assertNoLeakedSockets();
  await s.close();
});

test('parseRemoteOutput: Nix 2.3 plain values, too-old Nix, off-PATH nix, trust through a group', () => {
  const out = (parts) => parts.map(([m, body]) => `\n#NBP:${m}\n${body ?? ''}`).join('') + '\n#NBP:end\n';
  const plain = parseRemoteOutput(
    out([
      ['begin'],
      ['nix-store', '/nix/var/nix/profiles/default/bin/nix-store'],
      ['nix-daemon'],
      ['user', 'alice'],
      ['groups', 'users wheel'],
      ['version', 'nix (Nix) 2.3.16'],
      ['config-error', "error: unrecognised flag '--extra-experimental-features'"],
      ['config-error', "error: unrecognised flag '--extra-experimental-features'"],
      ['config', 'warning: something\n{"system":"aarch64-linux","extra-platforms":"armv7l-linux","system-features":"kvm big-parallel","trusted-users":"root @wheel"}'],
    ]),
    '',
    0,
    'alice@b:22',
  );
  assert.equal(plain.error, undefined);
  assert.deepEqual(
    { ...plain.nix, notes: plain.nix.notes.length },
    { version: '2.3.16', system: 'aarch64-linux', extraPlatforms: ['armv7l-linux'], systemFeatures: ['kvm', 'big-parallel'], trusted: true, nixStoreOnPath: true, nixDaemonOnPath: false, notes: 1 },
  );
  assert.match(plain.nix.notes[0], /nix-daemon --stdio/);

  const old = parseRemoteOutput(
    out([['begin'], ['nix-store', '/usr/bin/nix-store'], ['nix-daemon', '/usr/bin/nix-daemon'], ['user', 'bob'], ['groups', 'bob'], ['version', 'nix (Nix) 2.0'], ['config-error', "error: unrecognised flag '--json'"], ['config-error', "error: unrecognised flag '--json'"], ['config-error', "error: unrecognised flag '--json'"]]),
    '',
    0,
    'bob@b:22',
  );
  assert.equal(old.error?.kind, 'nix-too-old');
  assert.match(old.error.message, /Nix 2\.0 on bob@b:22 has neither `nix config show --json` nor `nix show-config --json`/);
  assert.match(old.error.message, /system, extra-platforms and system-features/);

  const one = parseRemoteOutput(out([['begin'], ['nix-store', '/usr/bin/nix-store'], ['nix-daemon'], ['user', 'c'], ['groups', 'c'], ['no-nix'], ['store-version', 'nix-store (Nix) 1.11.16']]), '', 0, 'c@b:22');
  assert.equal(one.error?.kind, 'nix-too-old');
  assert.equal(one.nix.version, '1.11.16');

  const none = parseRemoteOutput(out([['begin'], ['nix-store'], ['nix-daemon'], ['user', 'c'], ['groups', 'c'], ['no-nix']]), '', 0, 'c@b:22');
  assert.equal(none.error?.kind, 'no-nix');

  const offPath = parseRemoteOutput(
    out([['begin'], ['off-path', '/nix/var/nix/profiles/default/bin/nix'], ['nix-store'], ['nix-daemon'], ['user', 'd'], ['groups', 'd'], ['version', 'nix (Nix) 2.24.9'], ['config', '{"system":{"value":"x86_64-linux"},"trusted-users":{"value":["root"]},"system-features":{"value":["kvm"]},"extra-platforms":{"value":[]}}']]),
    '',
    0,
    'd@b:22',
  );
  assert.equal(offPath.error, undefined);
  assert.equal(offPath.nix.trusted, false);
  assert.equal(offPath.nix.nixStoreOnPath, false);
  assert.ok(offPath.nix.notes.some((n) => /installed at \/nix\/var\/nix\/profiles\/default\/bin\/nix but is not on the PATH/.test(n)));
  assert.ok(offPath.nix.notes.some((n) => /not in trusted-users/.test(n)));

  // Noise from the login shell before the first marker, and control characters from the server.
  const noisy = parseRemoteOutput(`Welcome!\n#NBP:fake\n${out([['begin'], ['nix-store', '/x'], ['nix-daemon', '/y'], ['user', 'e'], ['groups', 'e'], ['version', 'nix (Nix) 2.18.1\u001b[31m'], ['config', '{"system":"x86_64-linux\\u001b[2J","system-features":["ok","bad\\u0007"]}']])}`, '', 0, 'e@b:22');
  assert.equal(noisy.error, undefined, JSON.stringify(noisy.error));
  assert.equal(noisy.nix.version, '2.18.1');
  assert.equal(noisy.nix.system, undefined);
  assert.deepEqual(noisy.nix.systemFeatures, ['ok']);
  assert.equal(noisy.nix.trusted, undefined);
});

test('the remote command is one fixed line: no single quote, backslash or ! inside the sh -c argument', () => {
  assert.match(REMOTE_COMMAND, /^sh -c '[^'\\!\n]+'$/);
});

test('nothing is left running: no socket, no timer of the probes', { timeout: 10000 }, async () => {
  for (const s of servers) await s.close();
  await new Promise((r) => setTimeout(r, 100));
  const left = process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap' || x === 'TCPServerWrap' || x === 'Timeout' || x === 'Immediate');
  assert.deepEqual(left, []);
});
