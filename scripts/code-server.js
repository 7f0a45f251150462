// Finds, installs (scripts/install-code-server.sh) and starts code-server, the
// browser VS Code used by `npm start` and the e2e tests. See shared/E2E.md.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const CODE_SERVER_VERSION = '4.139.1';
const NODE_VERSION = '24.21.0';

function paths() {
  const cache =
    process.env.NIX_BUILDERS_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'nix-builders');
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const nodeDir = path.join(cache, `node-${NODE_VERSION}-linux-${arch}`);
  const csDir = path.join(cache, `code-server-${CODE_SERVER_VERSION}`);
  return {
    cache,
    node: path.join(nodeDir, 'bin', 'node'),
    entry: path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    marker: path.join(csDir, '.installed'),
  };
}

/** Runs the (idempotent, cached) install script unless everything is already there. */
function ensureInstalled() {
  const p = paths();
  const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).status === 0;
  if (fs.existsSync(p.node) && fs.existsSync(p.entry) && fs.existsSync(p.marker) && chromium) return p;
  console.log('[nix-builders] installing code-server and Chromium (scripts/install-code-server.sh, cached)');
  const r = spawnSync('bash', [path.join(root, 'scripts', 'install-code-server.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/install-code-server.sh failed');
  return p;
}

function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Runs the command as the leader of a new process group and takes the whole
// group down when its stdin (a pipe from the launcher) closes: code-server then
// never outlives `npm start` or a test run, however they end.
const GUARD = `
const { spawn } = require('node:child_process');
const [cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let down = false;
function takeDown() {
  if (down) return;
  down = true;
  try { process.kill(-process.pid, 'SIGTERM'); } catch {}
  setTimeout(() => { try { process.kill(-process.pid, 'SIGKILL'); } catch {} }, 5000).unref();
}
process.on('SIGTERM', takeDown);
process.on('SIGINT', takeDown);
process.stdin.on('end', takeDown);
process.stdin.on('error', takeDown);
process.stdin.resume();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`;

function healthy(url) {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

/**
 * Starts code-server on 127.0.0.1 in its own process group (it leaves helper
 * processes that killing the main PID would miss) with home-directory state
 * redirected into `stateDir`. Resolves once /healthz answers.
 */
async function startCodeServer({ stateDir, extensionsDir, workspace, port, log, extraArgs = [], smokeTestDriver = false }) {
  const p = ensureInstalled();
  port ??= await freePort();
  const userDataDir = path.join(stateDir, 'user');
  extensionsDir ??= path.join(stateDir, 'exts');
  fs.mkdirSync(extensionsDir, { recursive: true });
  const xdg = path.join(stateDir, 'xdg');
  for (const d of ['config', 'data', 'cache']) fs.mkdirSync(path.join(xdg, d), { recursive: true });
  const args = [
    p.entry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...extraArgs,
    ...(workspace ? [workspace] : []),
  ];
  const out = fs.openSync(log ?? path.join(stateDir, 'code-server.log'), 'a');
  const env = {
    ...process.env,
    PATH: `${path.dirname(p.node)}:${process.env.PATH}`,
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_DATA_HOME: path.join(xdg, 'data'),
    XDG_CACHE_HOME: path.join(xdg, 'cache'),
  };
  // No extension gallery: nothing to fetch here, and no lookups of outside hosts.
  env.EXTENSIONS_GALLERY ??= JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' });
  delete env.NODE_OPTIONS;
  delete env.VSCODE_IPC_HOOK_CLI;
  // detached: a new session and process group, led by the guard.
  const proc = spawn(process.execPath, ['-e', GUARD, p.node, ...args], { detached: true, stdio: ['pipe', out, out], env });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  proc.on('exit', () => {
    exited = true;
  });
  const stop = () => stopGroup(proc);
  const deadline = Date.now() + 60_000;
  while (!(await healthy(url))) {
    if (exited) throw new Error(`code-server exited during start-up (log: ${log ?? path.join(stateDir, 'code-server.log')})`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error('code-server did not answer /healthz within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, proc, stop, userDataDir, extensionsDir };
}

/** SIGTERM to the whole process group, SIGKILL after 5 s. */
async function stopGroup(proc) {
  const pgid = proc.pid;
  if (!pgid) return;
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

module.exports = { root, paths, ensureInstalled, freePort, startCodeServer, CODE_SERVER_VERSION };
