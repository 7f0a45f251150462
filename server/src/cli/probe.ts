// `nix-builders probe [--json] [--port N] [--user U] [--identity FILE] [--timeout MS] HOST` (SPEC §2.1).
//
// Authentication: with --identity, only that key file (as Nix's sshKey). Without
// it: the ssh-agent when SSH_AUTH_SOCK is set, and the first of
// ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists.
// --timeout MS caps the TCP connect and the SSH handshake (and the login) at MS
// each; the remote command gets max(15000, MS), since a cold `nix` can take
// seconds to start. No host key is checked: the probe shows the key instead.
// Exit 0 when the host answered SSH (a host key was seen, even if the login
// failed), 1 when not, 2 on bad usage.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodePublicHostKey, fingerprintLine, parsePublicKeyLine } from '../core/ssh-keys';
import { checkTarget, DEFAULT_TIMEOUTS, probeBuilder, type ProbeResult, type ProbeTarget, type ProbeTimeouts } from '../probe/probe';

export const PROBE_USAGE = 'nix-builders probe [--json] [--port N] [--user U] [--identity FILE] [--timeout MS] HOST';

class UsageError extends Error {}

interface ProbeArgs {
  json: boolean;
  target: ProbeTarget;
  timeouts: ProbeTimeouts;
}

function parseArgs(args: string[]): ProbeArgs {
  let json = false;
  let port: number | undefined;
  let user: string | undefined;
  let identity: string | undefined;
  let timeout: number | undefined;
  const hosts: string[] = [];
  let optionsDone = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (optionsDone || !arg.startsWith('-') || arg === '-') {
      hosts.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsDone = true;
      continue;
    }
    if (arg === '--json') {
      json = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!['--port', '--user', '--identity', '--timeout'].includes(name)) throw new UsageError(`unknown option ${arg}`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = args[++i];
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
    switch (name) {
      case '--port':
        if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new UsageError(`--port takes a TCP port (1-65535), not "${value}"`);
        port = Number(value);
        break;
      case '--user':
        user = value;
        break;
      case '--identity':
        identity = value;
        break;
      case '--timeout':
        if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new UsageError(`--timeout takes milliseconds (a positive integer), not "${value}"`);
        timeout = Number(value);
        break;
    }
  }
  if (hosts.length !== 1) throw new UsageError(hosts.length === 0 ? 'probe needs a HOST' : 'probe takes exactly one HOST');
  let host = hosts[0] ?? '';
  // user@host, as ssh takes it; --user wins.
  const at = host.lastIndexOf('@');
  if (at > 0 && !host.startsWith('-')) {
    user ??= host.slice(0, at);
    host = host.slice(at + 1);
  }
  const target: ProbeTarget = { host, port: port ?? 22 };
  if (user !== undefined) target.user = user;
  if (identity !== undefined) {
    try {
      fs.accessSync(identity, fs.constants.R_OK);
    } catch {
      throw new UsageError(`cannot read the identity file ${identity}`);
    }
    target.privateKey = { path: identity };
  } else {
    if (process.env.SSH_AUTH_SOCK) target.useAgent = true;
    const home = os.homedir();
    const key = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(home, '.ssh', f)).find((f) => fs.existsSync(f));
    if (key) target.privateKey = { path: key };
  }
  const bad = checkTarget(target);
  if (bad) throw new UsageError(bad);
  const timeouts: ProbeTimeouts =
    timeout === undefined ? { ...DEFAULT_TIMEOUTS } : { connectMs: timeout, handshakeMs: timeout, commandMs: Math.max(DEFAULT_TIMEOUTS.commandMs, timeout) };
  return { json, target, timeouts };
}

/** The JSON of SPEC §2.1: host, port, hostKeys, nix (when logged in), error (when any). */
export function probeJson(r: ProbeResult): object {
  const out: Record<string, unknown> = {
    host: r.host,
    port: r.port,
    hostKeys: r.hostKeys.map((k) => ({ type: k.type, key: k.key, fingerprint: k.fingerprint })),
  };
  if (r.nix) {
    out.nix = {
      version: r.nix.version,
      system: r.nix.system ?? null,
      extraPlatforms: r.nix.extraPlatforms,
      systemFeatures: r.nix.systemFeatures,
      trusted: r.nix.trusted ?? null,
    };
  }
  if (r.error) out.error = { kind: r.error.kind, message: r.error.message };
  return out;
}

function probeText(r: ProbeResult, user: string | undefined): string {
  const lines: string[] = [];
  const where = r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
  lines.push(`${where}${r.rttMs !== undefined ? ` (TCP connect ${r.rttMs} ms)` : ''}`);
  for (const k of r.hostKeys) {
    lines.push(`host key: ${k.line}`);
    const parsed = parsePublicKeyLine(k.line);
    lines.push(`  ${'key' in parsed ? fingerprintLine(parsed.key) : k.fingerprint}`);
    lines.push(`  publicHostKey = "${encodePublicHostKey(k.line)}";`);
  }
  const n = r.nix;
  if (n) {
    const list = (xs: string[]) => (xs.length > 0 ? xs.join(' ') : '(none)');
    lines.push(`nix: ${n.version}`);
    lines.push(`system: ${n.system ?? '(unknown)'}`);
    lines.push(`extra platforms: ${list(n.extraPlatforms)}`);
    lines.push(`system features: ${list(n.systemFeatures)}`);
    lines.push(`trusted user${user ? ` ${user}` : ''}: ${n.trusted === undefined ? 'unknown' : n.trusted ? 'yes' : 'no'}`);
    lines.push(`nix-store on PATH: ${n.nixStoreOnPath ? 'yes' : 'no'}; nix-daemon on PATH: ${n.nixDaemonOnPath ? 'yes' : 'no'}`);
    for (const note of n.notes) lines.push(`note: ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `probe`; returns the exit code. */
export async function probeCommand(args: string[]): Promise<number> {
  let parsed: ProbeArgs;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`nix-builders: ${err.message}\nUsage: ${PROBE_USAGE}\n`);
    return 2;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  let r: ProbeResult;
  try {
    r = await probeBuilder(parsed.target, { timeouts: parsed.timeouts, signal: controller.signal });
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
  if (r.error?.kind === 'refused-input') {
    process.stderr.write(`nix-builders: ${r.error.message}\nUsage: ${PROBE_USAGE}\n`);
    return 2;
  }
  if (parsed.json) process.stdout.write(`${JSON.stringify(probeJson(r), null, 2)}\n`);
  else {
    process.stdout.write(probeText(r, parsed.target.user));
    if (r.error) process.stderr.write(`nix-builders: probe: ${r.error.kind}: ${r.error.message}\n`);
  }
  return r.hostKeys.length > 0 ? 0 : 1;
}
