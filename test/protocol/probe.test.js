// Probing builders through the language server: Fetch host key (with the
// client's confirmation), host-key-changed, Fill systems and features, Probe
// all builders (progress, cancellation, concurrency), trust, and hovers that
// stay fast while probes hang. Against a real OpenSSH sshd started by the test
// on 127.0.0.1 and local TCP servers on 127.0.0.1: no packet leaves the machine.
// The "remote" Nix is this machine's nix. Needs root, sshd, ssh-keygen, nix.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const sshd = require('../helpers/sshd');
const { LspClient, CAPABILITIES, ensureBuilt, positionOf, applyEdits, hoverText } = require('./lsp-client');

const skip = sshd.sshdSkipReason();

// On CI everything is installed: a skip there would hide a missing install step.
it('the real-sshd protocol tests run on CI', { skip: !process.env.CI }, () => {
  assert.equal(skip, false, `skipped on CI: ${skip}`);
});

const COMMANDS = { fetch: 'nixBuilders.fetchHostKey', fill: 'nixBuilders.fillSystemsAndFeatures', all: 'nixBuilders.probeAllBuilders' };
/** A key no test server has. */
const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7n11XxB8B3HjdyAsL3PuLVDZxWCzEOUTJAY8+goQmW';

const uriOf = (p) => pathToFileURL(p).href;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tmp(prefix) {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `nix-builders-${prefix}-`)));
}

function p95(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
}

function localNix() {
  const json = JSON.parse(execFileSync('nix', ['show-config', '--json', '--extra-experimental-features', 'nix-command'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const v = (k) => (json[k] && typeof json[k] === 'object' && !Array.isArray(json[k]) && 'value' in json[k] ? json[k].value : json[k]);
  return { system: v('system'), extraPlatforms: v('extra-platforms'), systemFeatures: v('system-features') };
}

/** One builder as a Nix attribute set, indented for a list inside nix.buildMachines. */
function builder({ host, key, user = 'root', systems = '[ "x86_64-linux" ]', extra = [] }) {
  return [
    '    {',
    `      hostName = "${host}";`,
    `      sshUser = "${user}";`,
    ...(key ? [`      sshKey = "${key}";`] : []),
    ...(systems ? [`      systems = ${systems};`] : []),
    ...extra.map((l) => `      ${l}`),
    '    }',
  ].join('\n');
}

function config(builders, more = '') {
  return `{\n  nix.distributedBuilds = true;\n  nix.buildMachines = [\n${builders.join('\n')}\n  ];\n${more}}\n`;
}

/**
 * A language server on a workspace folder, with a client that answers
 * confirmHostKey (`confirm`: true, false, or a function), applies edits to the
 * documents it opened (and to files on disk for the others), and records
 * messages and progress.
 */
async function start(folder, { confirm = true, confirmHostKey = true, trusted, settings = {}, workDoneProgress = true } = {}) {
  const lsp = new LspClient({
    debounceMs: 20,
    lookups: { enable: false },
    sshConfigFiles: [],
    knownHostsFiles: [],
    probe: { connectTimeoutMs: 5000, handshakeTimeoutMs: 5000, commandTimeoutMs: 30000, concurrency: 4 },
    ...settings,
  });
  const s = { lsp, confirms: [], edits: [], messages: [], asked: [], created: [], progress: [], docs: new Map() };
  lsp.conn.onRequest('nixBuilders/confirmHostKey', (p) => {
    s.confirms.push(p);
    return typeof confirm === 'function' ? confirm(p) : confirm;
  });
  lsp.conn.onRequest('workspace/applyEdit', async (p) => {
    s.edits.push(p);
    for (const [uri, edits] of Object.entries(p.edit.changes ?? {})) {
      const open = s.docs.get(uri);
      if (open) {
        open.text = applyEdits(open.text, edits);
        open.version++;
        await lsp.change(uri, open.version, [{ text: open.text }]);
      } else {
        const file = new URL(uri);
        fs.writeFileSync(file, applyEdits(fs.readFileSync(file, 'utf8'), edits));
        await lsp.filesChanged([{ uri, type: 2 }]);
      }
    }
    return { applied: true };
  });
  lsp.conn.onNotification('window/showMessage', (p) => s.messages.push(p));
  lsp.conn.onRequest('window/showMessageRequest', (p) => {
    s.asked.push(p);
    return null;
  });
  lsp.conn.onRequest('window/workDoneProgress/create', (p) => {
    s.created.push(p.token);
    return null;
  });
  lsp.conn.onUnhandledProgress((p) => s.progress.push(p));
  const init = { trusted, ...(confirmHostKey ? { confirmHostKey: true } : {}) };
  s.init = await lsp.initialize({
    rootUri: uriOf(folder),
    workspaceFolders: [{ uri: uriOf(folder), name: path.basename(folder) }],
    capabilities: { ...CAPABILITIES, window: { workDoneProgress } },
    initializationOptions: init,
  });
  await lsp.initialized();
  s.open = async (file, text) => {
    const uri = uriOf(file);
    s.docs.set(uri, { text, version: 1 });
    await lsp.open(uri, text);
    return uri;
  };
  s.text = (uri) => s.docs.get(uri).text;
  s.version = (uri) => s.docs.get(uri).version;
  s.exec = (command, ...args) => lsp.request('workspace/executeCommand', { command, arguments: args });
  /** Code actions at the second character of needle. */
  s.actions = (uri, needle, only) => {
    const pos = positionOf(s.text(uri), needle, 1);
    return lsp.request('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: pos, end: pos },
      context: { diagnostics: [], ...(only ? { only } : {}) },
    });
  };
  return s;
}

describe('probing builders from the language server', { skip }, () => {
  let dir;
  let hostEd;
  let hostRsa;
  let clientKey;
  let main;
  let fp;
  const servers = [];

  before(async () => {
    ensureBuilt();
    dir = tmp('probe-lsp');
    hostEd = sshd.keygen(dir, 'host_ed25519_key', 'ed25519');
    hostRsa = sshd.keygen(dir, 'host_rsa_key', 'rsa');
    clientKey = sshd.keygen(dir, 'client_key', 'ed25519');
    fs.writeFileSync(path.join(dir, 'authorized_keys'), `${sshd.pubLine(clientKey)}\n`);
    main = await sshd.startSshd(dir, 'main', [hostRsa, hostEd]);
    fp = sshd.keygenFingerprint(hostEd);
  });

  after(async () => {
    for (const s of servers) await s.lsp.stop();
    main?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function server(files, opts) {
    const folder = tmp('ws');
    for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(folder, rel), text);
    const s = await start(folder, opts);
    servers.push(s);
    s.folder = folder;
    return s;
  }

  const edKey = () => `ssh-ed25519 ${sshd.pubBlob(hostEd)}`;
  const connections = () => (main.log.match(/Connection from 127\.0\.0\.1/g) ?? []).length;

  it('Fetch host key: confirmed by the user, adds a knownHosts entry after the buildMachines binding; missing-host-key goes away', { timeout: 60000 }, async () => {
    const s = await server({});
    const text = config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey })]);
    const uri = await s.open(path.join(s.folder, 'builders.nix'), text);
    const diags = await s.lsp.diagnostics(uri, 1);
    assert.ok(diags.some((d) => d.code === 'missing-host-key'), JSON.stringify(diags));

    // The actions are commands: listing them connects nowhere.
    const before = connections();
    const actions = await s.actions(uri, `127.0.0.1:${main.port}`);
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Fetch host key → programs.ssh.knownHosts'), titles.join('\n'));
    assert.ok(titles.includes('Fetch host key → publicHostKey'), titles.join('\n'));
    const fetch = actions.find((a) => a.title === 'Fetch host key → programs.ssh.knownHosts');
    assert.equal(fetch.kind, 'quickfix');
    assert.equal(fetch.diagnostics[0].code, 'missing-host-key');
    assert.equal(fetch.edit, undefined);
    assert.equal(fetch.command.command, COMMANDS.fetch);
    assert.ok(s.init.capabilities.executeCommandProvider.commands.includes(COMMANDS.fetch));
    await sleep(200);
    assert.equal(connections(), before, 'no probe on listing code actions');

    const result = await s.exec(fetch.command.command, ...fetch.command.arguments);
    assert.equal(result.applied, true, JSON.stringify(result));
    // The user saw host, address, port and the fingerprint ssh-keygen -l prints, before any edit.
    assert.equal(s.confirms.length, 1);
    const c = s.confirms[0];
    assert.equal(c.host, `127.0.0.1:${main.port}`);
    assert.equal(c.address, '127.0.0.1');
    assert.equal(c.port, main.port);
    assert.equal(c.keyType, 'ssh-ed25519', 'ed25519 preferred over the RSA key the server also has');
    assert.equal(c.fingerprint, fp.fingerprint);
    assert.match(c.fingerprintLine, new RegExp(`^256 ${fp.fingerprint.replace(/[+/]/g, '\\$&')} .*\\(ED25519\\)$`));
    assert.equal(c.lookupName, `[127.0.0.1]:${main.port}`);
    assert.deepEqual(c.hostNames, ['127.0.0.1', `[127.0.0.1]:${main.port}`]);
    assert.equal(s.edits.length, 1);
    // Work done progress while probing.
    assert.ok(s.created.length >= 1);
    assert.deepEqual(
      s.progress.filter((p) => p.token === s.created[0]).map((p) => p.value.kind),
      ['begin', 'end'],
    );

    const expected = config(
      [builder({ host: `127.0.0.1:${main.port}`, key: clientKey })],
    ).replace(
      '  ];\n',
      `  ];\n  programs.ssh.knownHosts."127.0.0.1" = {\n    hostNames = [ "127.0.0.1" "[127.0.0.1]:${main.port}" ];\n    publicKey = "${edKey()}";\n  };\n`,
    );
    assert.equal(s.text(uri), expected);
    const after = await s.lsp.diagnostics(uri, 2);
    assert.deepEqual(after.map((d) => d.code), [], JSON.stringify(after));
  });

  it('Fetch host key: beside the existing knownHosts entries, in the file that holds them', { timeout: 60000 }, async () => {
    const ssh = `{\n  programs.ssh.knownHosts = {\n    other = {\n      hostNames = [ "other.example" ];\n      publicKey = "${OTHER_KEY}";\n    };\n  };\n}\n`;
    const s = await server({ 'ssh.nix': ssh });
    const uri = await s.open(path.join(s.folder, 'builders.nix'), config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey })]));
    const diags = await s.lsp.diagnostics(uri, 1);
    assert.ok(diags.some((d) => d.code === 'missing-host-key'));
    const published = s.lsp.published.length;
    const fetch = (await s.actions(uri, 'hostName = "')).find((a) => a.title === 'Fetch host key → programs.ssh.knownHosts');
    const result = await s.exec(fetch.command.command, ...fetch.command.arguments);
    assert.equal(result.applied, true, JSON.stringify(result));
    assert.deepEqual(Object.keys(s.edits[0].edit.changes), [uriOf(path.join(s.folder, 'ssh.nix'))]);
    assert.equal(
      fs.readFileSync(path.join(s.folder, 'ssh.nix'), 'utf8'),
      ssh.replace(
        '    };\n  };\n',
        `    };\n    "127.0.0.1" = {\n      hostNames = [ "127.0.0.1" "[127.0.0.1]:${main.port}" ];\n      publicKey = "${edKey()}";\n    };\n  };\n`,
      ),
    );
    assert.equal(s.text(uri), config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey })]), 'the builder file is untouched');
    await s.lsp.waitFor(uri, (p) => !p.diagnostics.some((d) => d.code === 'missing-host-key'), { after: published, what: 'missing-host-key gone' });
  });

  it('Fetch host key → publicHostKey: base64 of the key line on the builder', { timeout: 60000 }, async () => {
    const s = await server({});
    const uri = await s.open(path.join(s.folder, 'builders.nix'), config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey })]));
    await s.lsp.diagnostics(uri, 1);
    const fetch = (await s.actions(uri, 'hostName = "')).find((a) => a.title === 'Fetch host key → publicHostKey');
    const result = await s.exec(fetch.command.command, ...fetch.command.arguments);
    assert.equal(result.applied, true, JSON.stringify(result));
    assert.equal(s.confirms[0].target, 'publicHostKey');
    const m = /\n {6}publicHostKey = "([A-Za-z0-9+/=]+)";\n/.exec(s.text(uri));
    assert.ok(m, s.text(uri));
    assert.equal(Buffer.from(m[1], 'base64').toString(), `${edKey()}\n`);
  });

  it('Fetch host key: declined by the user, no edit', { timeout: 60000 }, async () => {
    const s = await server({}, { confirm: false });
    const uri = await s.open(path.join(s.folder, 'builders.nix'), config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey })]));
    await s.lsp.diagnostics(uri, 1);
    const fetch = (await s.actions(uri, 'hostName = "')).find((a) => a.command?.command === COMMANDS.fetch);
    const result = await s.exec(fetch.command.command, ...fetch.command.arguments);
    assert.equal(result.applied, false);
    assert.equal(result.reason, 'declined');
    assert.equal(s.confirms.length, 1);
    assert.equal(s.edits.length, 0);
  });

  it('Fetch host key: a client that cannot confirm gets no edit, and is told why', { timeout: 60000 }, async () => {
    const s = await server({}, { confirmHostKey: false });
    const uri = await s.open(path.join(s.folder, 'builders.nix'), config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey })]));
    await s.lsp.diagnostics(uri, 1);
    const fetch = (await s.actions(uri, 'hostName = "')).find((a) => a.command?.command === COMMANDS.fetch);
    const result = await s.exec(fetch.command.command, ...fetch.command.arguments);
    assert.equal(result.applied, false);
    assert.equal(result.reason, 'no-confirmation-support');
    assert.equal(s.confirms.length, 0);
    assert.equal(s.edits.length, 0);
    assert.ok(s.messages.some((m) => m.message.includes(fp.fingerprint) && /cannot ask you to confirm/.test(m.message)), JSON.stringify(s.messages));
  });

  it('host-key-changed: the builder shows another key than the configured one; never replaced; gone once the configuration matches', { timeout: 60000 }, async () => {
    const wrong = `  programs.ssh.knownHosts.b = {\n    hostNames = [ "[127.0.0.1]:${main.port}" ];\n    publicKey = "${OTHER_KEY}";\n  };\n`;
    const s = await server({});
    const text = config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey })], wrong);
    const uri = await s.open(path.join(s.folder, 'builders.nix'), text);
    assert.deepEqual((await s.lsp.diagnostics(uri, 1)).map((d) => d.code), []);
    const actions = await s.actions(uri, 'hostName = "');
    const compare = actions.find((a) => a.command?.command === COMMANDS.fetch);
    assert.equal(compare.title, 'Fetch host key and compare it with the configured one');
    const published = s.lsp.published.length;
    const result = await s.exec(compare.command.command, ...compare.command.arguments);
    assert.equal(result.reason, 'host-key-changed', JSON.stringify(result));
    assert.equal(result.hostKey.fingerprint, fp.fingerprint);
    assert.equal(s.confirms.length, 0, 'a changed key is never offered for trust');
    assert.equal(s.edits.length, 0);
    const diags = await s.lsp.waitFor(uri, (p) => p.diagnostics.some((d) => d.code === 'host-key-changed'), { after: published });
    const d = diags.find((x) => x.code === 'host-key-changed');
    assert.equal(d.severity, 1);
    assert.ok(d.message.includes(fp.fingerprint), d.message);
    const configuredFp = 'SHA256:' + require('node:crypto').createHash('sha256').update(Buffer.from(OTHER_KEY.split(' ')[1], 'base64')).digest('base64').replace(/=+$/, '');
    assert.ok(d.message.includes(configuredFp), d.message);
    assert.ok(d.message.includes('programs.ssh.knownHosts.b'), d.message);
    assert.equal(d.relatedInformation[0].location.uri, uri);
    assert.equal(d.relatedInformation[0].location.range.start.line, text.split('\n').findIndex((l) => l.includes('knownHosts.b')));
    assert.equal(d.range.start.line, positionOf(text, 'hostName').line);
    // Fill refuses to log in to it.
    const fill = actions.find((a) => a.command?.command === COMMANDS.fill);
    const filled = await s.exec(fill.command.command, ...fill.command.arguments);
    assert.equal(filled.reason, 'host-key-changed');
    assert.equal(s.edits.length, 0);
    // Still reported on every publication, until the configuration has the key the builder shows.
    const v2 = text.replace('    hostNames', '    # reinstalled?\n    hostNames');
    await s.lsp.change(uri, 2, [{ text: v2 }]);
    assert.ok((await s.lsp.diagnostics(uri, 2)).some((x) => x.code === 'host-key-changed'));
    await s.lsp.change(uri, 3, [{ text: v2.replace(OTHER_KEY, edKey()) }]);
    assert.deepEqual((await s.lsp.diagnostics(uri, 3)).map((x) => x.code), []);
  });

  it('Fill systems and features: logs in with sshUser and sshKey after checking the host key, and writes what the builder reports', { timeout: 90000 }, async () => {
    const local = localNix();
    const known = `  programs.ssh.knownHosts.b = {\n    hostNames = [ "[127.0.0.1]:${main.port}" ];\n    publicKey = "${edKey()}";\n  };\n`;
    const s = await server({});
    const text = config(
      [builder({ host: `127.0.0.1:${main.port}`, key: clientKey, systems: '[ "aarch64-linux" ]', extra: ['maxJobs = 8; # keep me'] })],
      known,
    );
    const uri = await s.open(path.join(s.folder, 'builders.nix'), text);
    await s.lsp.diagnostics(uri, 1);
    const fill = (await s.actions(uri, 'maxJobs')).find((a) => a.command?.command === COMMANDS.fill);
    assert.ok(fill, 'offered anywhere on the builder');
    assert.equal(fill.kind, 'refactor.rewrite');
    const before = main.log.length;
    const result = await s.exec(fill.command.command, ...fill.command.arguments);
    assert.equal(result.applied, true, JSON.stringify(result));
    const systems = [local.system, ...local.extraPlatforms];
    assert.deepEqual(result.systems, systems);
    assert.deepEqual(result.features, local.systemFeatures);
    assert.equal(systems[0], 'x86_64-linux');
    const list = (xs) => `[ ${xs.map((x) => `"${x}"`).join(' ')} ]`;
    assert.equal(
      s.text(uri),
      text
        .replace('systems = [ "aarch64-linux" ];', `systems = ${list(systems)};`)
        .replace('maxJobs = 8; # keep me\n', `maxJobs = 8; # keep me\n      supportedFeatures = ${list(local.systemFeatures)};\n`),
    );
    await sleep(200);
    assert.match(main.log.slice(before), /Accepted publickey for root/);
    assert.ok(s.messages.some((m) => m.type === 3 && m.message.startsWith('Filled from')), JSON.stringify(s.messages));
  });

  it('Fill systems and features: refuses to log in without a configured host key, and offers Fetch host key', { timeout: 30000 }, async () => {
    const s = await server({});
    const uri = await s.open(path.join(s.folder, 'builders.nix'), config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey, systems: '[ ]' })]));
    const diags = await s.lsp.diagnostics(uri, 1);
    assert.ok(diags.some((d) => d.code === 'missing-system'));
    // Offered as the quick fix of missing-system.
    const fill = (await s.actions(uri, '[ ]')).find((a) => a.command?.command === COMMANDS.fill && a.kind === 'quickfix');
    assert.equal(fill.diagnostics[0].code, 'missing-system');
    const before = connections();
    const result = await s.exec(fill.command.command, ...fill.command.arguments);
    assert.equal(result.reason, 'host-key-unknown');
    await sleep(200);
    assert.equal(connections(), before, 'not even connected');
    assert.equal(s.asked.length, 1);
    assert.deepEqual(s.asked[0].actions, [{ title: 'Fetch host key' }]);
    assert.equal(s.edits.length, 0);
  });

  it('Probe all builders: per builder reachability with the reason, host key status, Nix, systems, features, trust, round-trip time', { timeout: 90000 }, async () => {
    const local = localNix();
    const closed = await sshd.freePort();
    const known = (name, hostName, key) => `  programs.ssh.knownHosts.${name} = {\n    hostNames = [ "${hostName}" ];\n    publicKey = "${key}";\n  };\n`;
    const s = await server({});
    // The same sshd under two more names (ssh_config aliases), so each gets a host key status of its own.
    const hostBlock = (name) => `    Host ${name}\n      HostName 127.0.0.1\n      Port ${main.port}\n      HostKeyAlias ${name}\n`;
    const extraConfig = `  programs.ssh.extraConfig = ''\n${hostBlock('fresh')}${hostBlock('changed')}  '';\n`;
    const text = config(
      [
        builder({ host: `127.0.0.1:${main.port}`, key: clientKey }),
        builder({ host: 'fresh', key: clientKey }),
        builder({ host: 'changed', key: clientKey }),
        builder({ host: `127.0.0.1:${closed}`, key: clientKey }),
      ],
      known('ok', `[127.0.0.1]:${main.port}`, edKey()) + known('changed', 'changed', OTHER_KEY) + extraConfig,
    );
    const uri = await s.open(path.join(s.folder, 'builders.nix'), text);
    await s.lsp.diagnostics(uri, 1);
    const reports = await s.exec(COMMANDS.all);
    assert.equal(reports.length, 4, JSON.stringify(reports, null, 1));
    const [ok, fresh, changed, down] = reports;

    assert.equal(ok.host, `127.0.0.1:${main.port}`);
    assert.equal(ok.uri, uri);
    assert.equal(ok.range.start.line, positionOf(text, `127.0.0.1:${main.port}`).line);
    assert.equal(ok.address, '127.0.0.1');
    assert.equal(ok.port, main.port);
    assert.equal(ok.user, 'root');
    assert.equal(ok.reachable, true);
    assert.equal(ok.error, undefined, JSON.stringify(ok.error));
    assert.equal(ok.hostKeyStatus, 'matches');
    assert.equal(ok.hostKey.fingerprint, fp.fingerprint);
    assert.equal(ok.nixVersion, '2.8.0');
    assert.deepEqual(ok.systems, [local.system, ...local.extraPlatforms]);
    assert.deepEqual(ok.features, local.systemFeatures);
    assert.equal(ok.trusted, true);
    assert.equal(typeof ok.rttMs, 'number');

    assert.equal(fresh.host, 'fresh');
    assert.equal(fresh.hostName, '127.0.0.1');
    assert.equal(fresh.port, main.port);
    assert.equal(fresh.reachable, true);
    assert.equal(fresh.hostKeyStatus, 'unknown');
    assert.equal(fresh.error.kind, 'host-key-unknown');
    assert.equal(fresh.nixVersion, undefined, 'no login without a configured host key');

    assert.equal(changed.reachable, true);
    assert.equal(changed.hostKeyStatus, 'changed');
    assert.equal(changed.error.kind, 'host-key-mismatch');
    assert.equal(changed.nixVersion, undefined);

    assert.equal(down.reachable, false);
    assert.equal(down.port, closed);
    assert.equal(down.error.kind, 'refused');
    assert.match(down.error.message, /connection refused/);
    assert.equal(down.hostKeyStatus, 'not-checked');

    // Progress: created by the server, begin … end.
    const token = s.created[0];
    const kinds = s.progress.filter((p) => p.token === token).map((p) => p.value.kind);
    assert.equal(kinds[0], 'begin');
    assert.equal(kinds[kinds.length - 1], 'end');
    assert.ok(kinds.includes('report'));
    // The probe saw a changed key: host-key-changed on that builder.
    const diags = await s.lsp.waitFor(uri, (p) => p.diagnostics.some((d) => d.code === 'host-key-changed'));
    assert.equal(diags.filter((d) => d.code === 'host-key-changed').length, 1);
  });

  it('an untrusted workspace: no probe actions, and every probe command is refused without connecting', { timeout: 30000 }, async () => {
    const s = await server({}, { trusted: false });
    const uri = await s.open(path.join(s.folder, 'builders.nix'), config([builder({ host: `127.0.0.1:${main.port}`, key: clientKey, systems: '[ ]' })]));
    await s.lsp.diagnostics(uri, 1);
    const actions = await s.actions(uri, 'hostName = "');
    assert.deepEqual(actions.filter((a) => a.command), []);
    const before = connections();
    const ref = { uri, offset: s.text(uri).indexOf('127.0.0.1'), hostName: `127.0.0.1:${main.port}` };
    assert.equal((await s.exec(COMMANDS.fetch, ref)).reason, 'untrusted');
    assert.equal((await s.exec(COMMANDS.fill, ref)).reason, 'untrusted');
    assert.deepEqual(await s.exec(COMMANDS.all), []);
    assert.equal(s.messages.filter((m) => /untrusted workspace/.test(m.message)).length, 3);
    await sleep(200);
    assert.equal(connections(), before);
    assert.equal(s.confirms.length + s.edits.length, 0);
  });

  it('hovers answer within 50 ms (p95) while 50 probes hang; cancelling the progress ends them at once', { timeout: 60000 }, async () => {
    // 50 local TCP servers that accept and never send a banner.
    const sockets = [];
    const hang = [];
    for (let i = 0; i < 50; i++) {
      const srv = net.createServer((sock) => {
        sock.resume();
        sockets.push(sock);
      });
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      hang.push(srv);
    }
    try {
      const s = await server({}, { settings: { probe: { connectTimeoutMs: 5000, handshakeTimeoutMs: 30000, commandTimeoutMs: 30000, concurrency: 50 } } });
      const text = config(hang.map((srv) => builder({ host: `127.0.0.1:${srv.address().port}`, key: clientKey })));
      const uri = await s.open(path.join(s.folder, 'builders.nix'), text);
      await s.lsp.diagnostics(uri, 1);
      const began = performance.now();
      const all = s.exec(COMMANDS.all);
      while (sockets.length < 50 && performance.now() - began < 10000) await sleep(10);
      assert.equal(sockets.length, 50, 'all 50 probes connected and hang');

      const pos = positionOf(text, 'hostName = "', 14, 25);
      // Let the probes settle into waiting for their banners (ssh2 is loaded on the first one).
      await sleep(200);
      for (let i = 0; i < 10; i++) await s.lsp.request('textDocument/hover', { textDocument: { uri }, position: pos });
      const times = [];
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        const h = await s.lsp.request('textDocument/hover', { textDocument: { uri }, position: pos });
        times.push(performance.now() - t0);
        assert.match(hoverText(h), /How root's ssh reaches it/);
      }
      const hoverP95 = p95(times);
      console.log(`hover while 50 probes hang: p95 ${hoverP95.toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`);
      assert.ok(hoverP95 < 50, `hover p95 ${hoverP95} ms`);
      assert.ok(sockets.every((sock) => !sock.readableEnded), 'the 50 probes still hang');
      assert.equal((await s.lsp.request('nixBuilders/status')).probes.running, 1);

      // Cancel through the progress the server created.
      assert.equal(s.created.length, 1);
      const t0 = performance.now();
      await s.lsp.conn.sendNotification('window/workDoneProgress/cancel', { token: s.created[0] });
      const reports = await all;
      const cancelMs = performance.now() - t0;
      console.log(`probe all cancelled: answered after ${cancelMs.toFixed(1)} ms`);
      assert.ok(cancelMs < 1000, `${cancelMs} ms`);
      assert.equal(reports.length, 50);
      assert.ok(reports.every((r) => r.error?.kind === 'cancelled' && !r.reachable), JSON.stringify(reports[0]));
      for (let i = 0; i < 100 && !sockets.every((sock) => sock.readableEnded); i++) await sleep(10);
      assert.ok(sockets.every((sock) => sock.readableEnded), 'every probe connection closed');
    } finally {
      for (const sock of sockets) sock.destroy();
      for (const srv of hang) srv.close();
    }
  });

  it('cancelling the request, or revoking trust, ends running probes at once', { timeout: 60000 }, async () => {
    const sockets = [];
    const srv = net.createServer((sock) => {
      sock.resume();
      sockets.push(sock);
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const s = await server({}, { settings: { probe: { connectTimeoutMs: 5000, handshakeTimeoutMs: 30000, commandTimeoutMs: 30000, concurrency: 4 } } });
      const host = `127.0.0.1:${srv.address().port}`;
      const uri = await s.open(path.join(s.folder, 'builders.nix'), config([builder({ host, key: clientKey })]));
      await s.lsp.diagnostics(uri, 1);
      const ref = { uri, offset: s.text(uri).indexOf(host), hostName: host };

      // $/cancelRequest on the executeCommand request.
      const rpc = require('vscode-jsonrpc/node');
      const source = new rpc.CancellationTokenSource();
      const pending = s.lsp.conn.sendRequest('workspace/executeCommand', { command: COMMANDS.fetch, arguments: [ref] }, source.token);
      while (sockets.length < 1) await sleep(10);
      let t0 = performance.now();
      source.cancel();
      const r1 = await pending.catch((err) => ({ rejected: err.message }));
      assert.ok(performance.now() - t0 < 1000);
      assert.ok(r1.reason === 'cancelled' || r1.rejected, JSON.stringify(r1));

      // Trust revoked while Probe all runs.
      const all = s.exec(COMMANDS.all);
      while (sockets.length < 2) await sleep(10);
      t0 = performance.now();
      await s.lsp.conn.sendNotification('nixBuilders/didChangeTrust', { trusted: false });
      const reports = await all;
      assert.ok(performance.now() - t0 < 1000);
      assert.equal(reports[0].error.kind, 'cancelled');
      assert.equal(s.confirms.length + s.edits.length, 0);
    } finally {
      for (const sock of sockets) sock.destroy();
      srv.close();
    }
  });

  it('Probe all: the concurrency setting bounds the probes running at once', { timeout: 60000 }, async () => {
    // 8 builders that never send a banner: each probe ends at the 300 ms handshake timeout.
    let open = 0;
    let lastAccept = 0;
    const samples = [];
    const srvs = [];
    for (let i = 0; i < 8; i++) {
      const srv = net.createServer((sock) => {
        open++;
        lastAccept = performance.now();
        sock.resume();
        sock.on('close', () => open--);
      });
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      srvs.push(srv);
    }
    // Open connections, sampled away from the moments one probe ends and the next starts.
    const sampler = setInterval(() => {
      if (performance.now() - lastAccept > 30) samples.push(open);
    }, 10);
    try {
      const s = await server({}, { settings: { probe: { connectTimeoutMs: 2000, handshakeTimeoutMs: 300, commandTimeoutMs: 2000, concurrency: 3 } } });
      const uri = await s.open(path.join(s.folder, 'builders.nix'), config(srvs.map((srv) => builder({ host: `127.0.0.1:${srv.address().port}`, key: clientKey }))));
      await s.lsp.diagnostics(uri, 1);
      const t0 = performance.now();
      const reports = await s.exec(COMMANDS.all);
      const ms = performance.now() - t0;
      assert.equal(reports.length, 8);
      assert.ok(reports.every((r) => r.error?.kind === 'no-banner' && r.reachable === false), JSON.stringify(reports[0]));
      // 8 probes, 3 at a time: 3 rounds of 300 ms (all at once would take one).
      assert.ok(ms >= 850, `${ms} ms`);
      assert.equal(Math.max(...samples), 3, JSON.stringify(samples));
    } finally {
      clearInterval(sampler);
      for (const srv of srvs) srv.close();
    }
  });
});

describe('probe code actions (nothing is probed)', () => {
  it('offered on host-key-name-mismatch as quick fixes, and as commands on a hostName', { timeout: 30000 }, async () => {
    ensureBuilt();
    const folder = tmp('ws');
    const s = await start(folder);
    try {
      // The key is known under the alias, but ssh looks up the HostName.
      const text = `{
  nix.distributedBuilds = true;
  nix.buildMachines = [ { hostName = "fast"; systems = [ "x86_64-linux" ]; } ];
  programs.ssh.extraConfig = ''
    Host fast
      HostName 192.0.2.7
  '';
  programs.ssh.knownHosts.fast.publicKey = "${OTHER_KEY}";
}
`;
      const uri = await s.open(path.join(folder, 'builders.nix'), text);
      const diags = await s.lsp.diagnostics(uri, 1);
      assert.ok(diags.some((d) => d.code === 'host-key-name-mismatch'), JSON.stringify(diags));
      const onValue = await s.actions(uri, '"fast"');
      const quick = onValue.filter((a) => a.command?.command === COMMANDS.fetch);
      assert.deepEqual(
        quick.map((a) => [a.title, a.kind, a.diagnostics?.[0]?.code]),
        [
          ['Fetch host key → programs.ssh.knownHosts', 'quickfix', 'host-key-name-mismatch'],
          ['Fetch host key → publicHostKey', 'quickfix', 'host-key-name-mismatch'],
        ],
      );
      assert.deepEqual(quick[0].command.arguments, [{ uri, offset: text.indexOf('"fast"'), hostName: 'fast', target: 'knownHosts' }]);
      // only: [quickfix] leaves out the refactorings; only: [refactor] the quick fixes.
      const onlyQuick = await s.actions(uri, '"fast"', ['quickfix']);
      assert.ok(onlyQuick.every((a) => a.kind === 'quickfix'));
      const onlyRefactor = await s.actions(uri, '"fast"', ['refactor']);
      assert.deepEqual(
        onlyRefactor.map((a) => [a.title, a.kind]),
        [
          ['Fetch host key → programs.ssh.knownHosts', 'refactor.rewrite'],
          ['Fetch host key → publicHostKey', 'refactor.rewrite'],
          ['Fill systems and features from the builder', 'refactor.rewrite'],
        ],
      );
      // Outside any builder: none.
      const outside = await s.actions(uri, 'distributedBuilds');
      assert.deepEqual(outside.filter((a) => a.command), []);
      assert.deepEqual(s.confirms, []);
    } finally {
      await s.lsp.stop();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
