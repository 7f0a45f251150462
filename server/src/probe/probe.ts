// Probes a builder over SSH with ssh2 (no `ssh` child process): the host key
// seen in the key exchange, and, after logging in, what the remote Nix reports
// about itself (SPEC §1.5, §2.1), through ONE fixed remote command.
//
// Bounds: every probe ends. `connectMs` caps the TCP connect (including a name
// lookup), `handshakeMs` caps the SSH banner + key exchange and, again, the
// login, `commandMs` caps the remote command; an AbortSignal ends the probe at
// once. On every path the socket is destroyed and all timers are cleared.
//
// Security: nothing from the configuration reaches a shell; host and user are
// checked before any connection; no agent or port forwarding, no pty, no
// shell; the private key is read only from `privateKey.path` and never appears
// in a result or message; text from the server is stripped of control
// characters and shortened before it goes into a message.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import type * as Ssh2 from 'ssh2';
import type { PublicKey } from '../core/ssh-keys';

export interface ProbeTarget {
  /** Address or name to connect to. */
  host: string;
  port: number;
  /** Login name; default the user running this process (as ssh). */
  user?: string;
  /** Private key file for publickey authentication. */
  privateKey?: { path: string };
  /** Also try the ssh-agent at SSH_AUTH_SOCK (when set). */
  useAgent?: boolean;
  /**
   * The configured host keys for the name ssh looks up. When given, their types
   * are asked for first (as ssh orders host key algorithms) and the host key is
   * checked before login: an empty list refuses (host-key-unknown), a key that
   * is not in the list refuses (host-key-mismatch). Undefined: no check (CLI use).
   */
  expectedKeys?: PublicKey[];
}

export interface ProbeTimeouts {
  /** TCP connect, including a name lookup. */
  connectMs: number;
  /** From the TCP connect to the end of the key exchange; and again for the login. */
  handshakeMs: number;
  /** The remote command, from the login to its exit. */
  commandMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ProbeTimeouts> = Object.freeze({ connectMs: 5000, handshakeMs: 5000, commandMs: 15000 });

export interface HostKeyInfo {
  /** Key type from the blob: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256… */
  type: string;
  /** base64 of the key blob. */
  key: string;
  /** 'SHA256:…' unpadded, as ssh-keygen -l prints. */
  fingerprint: string;
  /** "type blob", a public key line. */
  line: string;
}

export interface RemoteNix {
  /** "2.8.0" from `nix --version`. */
  version: string;
  system?: string;
  extraPlatforms: string[];
  systemFeatures: string[];
  /** Whether the login user is in trusted-users (by name, `*` or `@group`); undefined when unknowable. */
  trusted?: boolean;
  nixStoreOnPath: boolean;
  nixDaemonOnPath: boolean;
  notes: string[];
}

export type ProbeErrorKind =
  | 'no-route'
  | 'refused'
  | 'timeout'
  | 'no-banner'
  | 'host-key-mismatch'
  | 'host-key-unknown'
  | 'auth-failed'
  | 'no-nix'
  | 'nix-too-old'
  | 'command-failed'
  | 'refused-input'
  | 'cancelled'
  | 'other';

export interface ProbeResult {
  host: string;
  port: number;
  /** The host key the server proved in the key exchange (at most one). */
  hostKeys: HostKeyInfo[];
  /** Present when the login and the remote command worked (also for nix-too-old, with what could be read). */
  nix?: RemoteNix;
  error?: { kind: ProbeErrorKind; message: string };
  /** Duration of the TCP connect (including a name lookup), ms. */
  rttMs?: number;
}

export interface ProbeOptions {
  timeouts?: Partial<ProbeTimeouts>;
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------
// The remote command. ONE fixed string: nothing from the configuration is ever
// put into it. It runs under the login shell of the user (`$SHELL -c`), which
// may be fish or csh, hence `sh -c '…'` around a one-line POSIX script with no
// single quote, backslash or `!` inside. PATH is left as the login shell sets
// it: Nix's own remote builds run `nix-store --serve` / `nix-daemon --stdio`
// with that same PATH. stdin is closed at once, so a forced command (e.g.
// nix.sshServe's `nix-store --serve`) ends instead of waiting.
const SCRIPT = [
  'm() { echo; echo "#NBP:$1"; }',
  'm begin',
  'N=$(command -v nix 2>/dev/null)',
  'if [ -z "$N" ]; then for d in /nix/var/nix/profiles/default/bin /run/current-system/sw/bin "$HOME/.nix-profile/bin"; do if [ -x "$d/nix" ]; then N="$d/nix"; m off-path; echo "$N"; break; fi; done; fi',
  'm nix-store',
  'command -v nix-store',
  'm nix-daemon',
  'command -v nix-daemon',
  'm user',
  'id -un 2>/dev/null || whoami',
  'm groups',
  'id -Gn 2>/dev/null',
  'if [ -z "$N" ]; then m no-nix; if command -v nix-store >/dev/null 2>&1; then m store-version; nix-store --version 2>&1; fi; m end; exit 0; fi',
  'm version',
  '"$N" --version 2>&1',
  'J=$("$N" config show --json --extra-experimental-features nix-command 2>&1)' +
    ' || { m config-error; printf "%s" "$J"; J=$("$N" show-config --json --extra-experimental-features nix-command 2>&1); }' +
    ' || { m config-error; printf "%s" "$J"; J=$("$N" show-config --json 2>&1); }' +
    ' && m config || m config-error',
  'printf "%s" "$J"',
  'm end',
].join('; ');

/** The exact command sent to every builder. */
export const REMOTE_COMMAND = `sh -c '${SCRIPT}'`;

const MAX_STDOUT = 8 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;
const MAX_KEY_FILE = 1024 * 1024;
const MAX_BANNER_HEAD = 8192;

// ---------------------------------------------------------------------------
// ssh2 is bundled (its optional native bindings, sshcrypto.node and
// cpu-features, stay external: ssh2 falls back to pure JS without them, so the
// VSIX needs no node_modules for it), and loaded on the first probe only.
let ssh2Module: typeof Ssh2 | undefined;
function ssh2(): typeof Ssh2 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: only probes need it
  ssh2Module ??= require('ssh2') as typeof Ssh2;
  return ssh2Module;
}

// ---------------------------------------------------------------------------
// Helpers.

/** Server text made safe for a message: no control characters, at most `max` characters. */
function clean(s: string, max = 200): string {
  const t = s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || n > blob.length - 4) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}

function hostKeyInfo(blob: Buffer): HostKeyInfo {
  const type = clean(blobType(blob) ?? 'unknown', 64);
  const key = blob.toString('base64');
  return { type, key, fingerprint: fingerprintOf(blob), line: `${type} ${key}` };
}

/** Host key algorithms, best first; ssh-dss is never offered. */
const HOST_KEY_ALGOS: readonly Ssh2.ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function algosFor(keyType: string): Ssh2.ServerHostKeyAlgorithm[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return HOST_KEY_ALGOS.filter((a) => a === keyType);
}

/** As OpenSSH orders them: the algorithms of the keys it already knows first, then the rest. */
function hostKeyAlgorithms(expected: PublicKey[] | undefined): Ssh2.ServerHostKeyAlgorithm[] {
  if (!expected || expected.length === 0) return [...HOST_KEY_ALGOS];
  const known = new Set(expected.flatMap((k) => algosFor(k.type)));
  return [...HOST_KEY_ALGOS.filter((a) => known.has(a)), ...HOST_KEY_ALGOS.filter((a) => !known.has(a))];
}

function decodeBlob(b64: string): Buffer | undefined {
  const buf = Buffer.from(b64, 'base64');
  return buf.length > 0 ? buf : undefined;
}

function describeKeys(keys: PublicKey[]): string {
  return keys.map((k) => `${k.type} ${k.fingerprint}`).join(', ');
}

function hostPort(host: string, port: number): string {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

function defaultUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'root';
  }
}

/** Why a target may not be used, before any connection. */
export function checkTarget(target: ProbeTarget): string | undefined {
  const { host, port, user } = target;
  const bad = /[\s\x00-\x1f\x7f]/;
  if (typeof host !== 'string' || host === '') return 'the host name is empty';
  if (host.startsWith('-')) return `refusing host "${clean(host, 60)}": a host name cannot start with "-" (it would be read as an option)`;
  if (bad.test(host)) return `refusing host "${clean(host, 60)}": it contains whitespace or control characters`;
  if (host.length > 255 || !/^[A-Za-z0-9._:%[\]-]+$/.test(host)) return `refusing host "${clean(host, 60)}": not a host name or IP address`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `refusing port ${String(port)}: not a TCP port (1-65535)`;
  if (user !== undefined) {
    if (user === '') return 'the user name is empty';
    if (user.startsWith('-')) return `refusing user "${clean(user, 60)}": a user name cannot start with "-" (it would be read as an option)`;
    if (bad.test(user)) return `refusing user "${clean(user, 60)}": it contains whitespace or control characters`;
    if (user.length > 256) return 'refusing the user name: too long';
  }
  return undefined;
}

function resolveTimeouts(t: Partial<ProbeTimeouts> | undefined): ProbeTimeouts {
  const pick = (v: number | undefined, d: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, 2 ** 31 - 1) : d);
  return {
    connectMs: pick(t?.connectMs, DEFAULT_TIMEOUTS.connectMs),
    handshakeMs: pick(t?.handshakeMs, DEFAULT_TIMEOUTS.handshakeMs),
    commandMs: pick(t?.commandMs, DEFAULT_TIMEOUTS.commandMs),
  };
}

// ---------------------------------------------------------------------------
// Authentication plan: what to try, prepared before connecting.

interface AuthPlan {
  username: string;
  methods: Ssh2.AnyAuthMethod[];
  /** What each method is, for messages: "publickey with key file X (ssh-ed25519 SHA256:…)". */
  labels: string[];
  /** Why a requested method cannot be used (key file unreadable, agent not set). */
  problems: string[];
}

async function readKeyFile(path: string, file: string): Promise<{ data: Buffer } | { problem: string }> {
  try {
    const st = await fs.promises.stat(path);
    if (!st.isFile()) return { problem: `the key file ${file} is not a regular file` };
    if (st.size > MAX_KEY_FILE) return { problem: `the key file ${file} is too large to be a private key` };
    return { data: await fs.promises.readFile(path) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    return { problem: `cannot read the key file ${file} (${why})` };
  }
}

async function planAuth(target: ProbeTarget): Promise<AuthPlan> {
  const username = target.user ?? defaultUser();
  const plan: AuthPlan = { username, methods: [], labels: [], problems: [] };
  if (target.privateKey) {
    const path = target.privateKey.path;
    const file = clean(path, 300);
    const read = await readKeyFile(path, file);
    if ('problem' in read) {
      plan.problems.push(read.problem);
    } else {
      let parsed: Ssh2.ParsedKey | Error;
      try {
        const p = ssh2().utils.parseKey(read.data);
        parsed = Array.isArray(p) ? ((p as Ssh2.ParsedKey[])[0] ?? new Error('empty')) : p;
      } catch {
        parsed = new Error('unreadable');
      }
      read.data.fill(0);
      if (parsed instanceof Error) {
        plan.problems.push(
          /passphrase|encrypted/i.test(parsed.message)
            ? `the key file ${file} is protected by a passphrase; the nix-daemon cannot unlock it either, so the builder needs a key without one`
            : `the key file ${file} is not a private key in a format ssh2 reads (OpenSSH, PEM or PuTTY)`,
        );
      } else if (!parsed.isPrivateKey()) {
        plan.problems.push(`the key file ${file} holds a public key; give the private key file (without .pub)`);
      } else {
        const fp = fingerprintOf(parsed.getPublicSSH());
        plan.methods.push({ type: 'publickey', username, key: parsed });
        plan.labels.push(`publickey with key file ${file} (${parsed.type} ${fp})`);
      }
    }
  }
  if (target.useAgent) {
    const sock = process.env.SSH_AUTH_SOCK;
    if (sock) {
      plan.methods.push({ type: 'agent', username, agent: sock });
      plan.labels.push('publickey with the keys of the ssh-agent (SSH_AUTH_SOCK)');
    } else {
      plan.problems.push('no ssh-agent (SSH_AUTH_SOCK is not set)');
    }
  }
  if (!target.privateKey && !target.useAgent) plan.problems.push('no key file and no agent were given');
  return plan;
}

// ---------------------------------------------------------------------------
// Parsing the remote command's output.

interface Section {
  name: string;
  body: string[];
}

function sections(stdout: string): Section[] {
  const out: Section[] = [];
  let cur: Section | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^#NBP:([a-z-]+)$/.exec(line.trimEnd());
    if (m?.[1]) {
      cur = { name: m[1], body: [] };
      out.push(cur);
    } else if (cur) {
      cur.body.push(line);
    }
  }
  return out;
}

function firstLine(s: Section | undefined): string | undefined {
  const l = s?.body.map((x) => x.trim()).find((x) => x !== '');
  return l;
}

function parseVersion(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /\b(\d+\.\d+(?:\.\d+)?(?:[-+.~][0-9A-Za-z.+~-]*)?)/.exec(text);
  return m?.[1] ? clean(m[1], 64) : undefined;
}

const NAME = /^[\x21-\x7e]{1,200}$/;

/** A setting's value: `{value: …}` since Nix 2.4, the value itself before. */
function settingValue(config: Record<string, unknown>, name: string): unknown {
  const v = config[name];
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'value' in v) return (v as { value: unknown }).value;
  return v;
}

function stringList(v: unknown): string[] | undefined {
  let items: unknown[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'string') items = v.split(/\s+/);
  else return undefined;
  const out: string[] = [];
  for (const x of items) {
    if (typeof x === 'string' && NAME.test(x) && !out.includes(x) && out.length < 256) out.push(x);
  }
  return out;
}

function trustedBy(list: string[] | undefined, user: string | undefined, groups: string[] | undefined): boolean | undefined {
  if (!list || !user) return undefined;
  if (list.includes('*') || list.includes(user)) return true;
  const groupEntries = list.filter((e) => e.startsWith('@')).map((e) => e.slice(1));
  if (groupEntries.length === 0) return false;
  if (!groups) return undefined;
  return groupEntries.some((g) => groups.includes(g));
}

type Parsed = { nix?: RemoteNix; error?: { kind: ProbeErrorKind; message: string } };

/** Reads the remote command's output. Exported for tests. */
export function parseRemoteOutput(stdout: string, stderr: string, exitCode: number | undefined, where: string, agent = false): Parsed {
  // Whatever the login shell prints before the first marker (motd, rc files) is ignored.
  const all = sections(stdout);
  const begin = all.findIndex((s) => s.name === 'begin');
  const secs = begin >= 0 ? all.slice(begin) : [];
  const get = (name: string) => secs.find((s) => s.name === name);
  const errText = clean(stderr.trim().split('\n').slice(-3).join(' '));
  const exit = exitCode === undefined ? 'no exit code' : `exit code ${exitCode}`;
  if (!get('begin')) {
    if (exitCode === 127 && /\bnix\b/.test(stderr)) {
      return { error: { kind: 'no-nix', message: `there is no \`nix\` command on ${where} (${errText || 'not found'}). Install Nix there, or put it on the PATH of non-interactive ssh sessions.` } };
    }
    if (exitCode === 127) {
      return { error: { kind: 'command-failed', message: `the login shell on ${where} could not run the probe's \`sh\` command (${errText || exit})` } };
    }
    return {
      error: {
        kind: 'command-failed',
        message:
          `${where} did not run the probe's command (${exit}${errText ? `: ${errText}` : ''}); ` +
          'is a forced command set for this key or user (authorized_keys `command=`, ForceCommand, nix.sshServe)?',
      },
    };
  }
  if (!get('end')) {
    return { error: { kind: 'command-failed', message: `the probe's command on ${where} stopped early (${exit}${errText ? `: ${errText}` : ''})` } };
  }
  const notes: string[] = [];
  const nixStoreOnPath = (firstLine(get('nix-store')) ?? '') !== '';
  const nixDaemonOnPath = (firstLine(get('nix-daemon')) ?? '') !== '';
  const userLine = firstLine(get('user'));
  const user = userLine && NAME.test(userLine) ? userLine : undefined;
  const groupsLine = firstLine(get('groups'));
  const groups = groupsLine !== undefined ? groupsLine.split(/\s+/).filter((g) => NAME.test(g)) : undefined;
  const offPath = firstLine(get('off-path'));
  if (agent) {
    notes.push('logged in with a key of the ssh-agent (SSH_AUTH_SOCK); the nix-daemon runs ssh as root without your agent, so the builder needs an sshKey file that root can read');
  }
  if (offPath !== undefined) {
    notes.push(`\`nix\` is installed at ${clean(offPath, 120)} but is not on the PATH of non-interactive ssh sessions`);
  }
  if (!nixStoreOnPath) {
    notes.push('`nix-store` is not on the PATH of non-interactive ssh sessions: `ssh://` builders run `nix-store --serve` there and will fail');
  }
  if (!nixDaemonOnPath) {
    notes.push('`nix-daemon` is not on the PATH of non-interactive ssh sessions: `ssh-ng://` builders run `nix-daemon --stdio` there and will fail');
  }

  if (get('no-nix')) {
    const storeVersion = parseVersion(firstLine(get('store-version')));
    if (storeVersion !== undefined) {
      return {
        nix: { version: storeVersion, extraPlatforms: [], systemFeatures: [], nixStoreOnPath, nixDaemonOnPath, notes },
        error: {
          kind: 'nix-too-old',
          message: `Nix ${storeVersion} on ${where} has no \`nix\` command, so its system, extra-platforms and system-features cannot be read (\`nix show-config --json\` needs Nix 2.0 or later)`,
        },
      };
    }
    return {
      error: {
        kind: 'no-nix',
        message:
          `there is no \`nix\` command on ${where}, neither on the PATH of non-interactive ssh sessions nor in ` +
          '/nix/var/nix/profiles/default/bin, /run/current-system/sw/bin or ~/.nix-profile/bin. Install Nix there, or put it on that PATH.',
      },
    };
  }

  const version = parseVersion(firstLine(get('version'))) ?? 'unknown';
  const base: RemoteNix = { version, extraPlatforms: [], systemFeatures: [], nixStoreOnPath, nixDaemonOnPath, notes };
  const configSec = get('config');
  const errors = secs.filter((s) => s.name === 'config-error').map((s) => s.body.join('\n'));
  if (!configSec) {
    const errorText = errors.join('\n');
    const lastErr = clean(errors.map((e) => e.trim()).filter((e) => e !== '').pop() ?? '');
    if (/unrecogni[sz]ed (flag|command)|not a recogni[sz]ed command|unknown (flag|command|option)/i.test(errorText)) {
      return {
        nix: base,
        error: {
          kind: 'nix-too-old',
          message:
            `Nix ${version} on ${where} has neither \`nix config show --json\` nor \`nix show-config --json\`, so its system, ` +
            `extra-platforms and system-features cannot be read${lastErr ? ` (${lastErr})` : ''}. Upgrade Nix on the builder.`,
        },
      };
    }
    return { nix: base, error: { kind: 'command-failed', message: `\`nix show-config --json\` failed on ${where}${lastErr ? `: ${lastErr}` : ''}` } };
  }
  let config: Record<string, unknown> | undefined;
  for (const line of configSec.body) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(t);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) config = v as Record<string, unknown>;
    } catch {
      // not the JSON line
    }
    if (config) break;
  }
  if (!config) {
    return { nix: base, error: { kind: 'command-failed', message: `\`nix show-config --json\` on ${where} printed no JSON object` } };
  }
  const sys = settingValue(config, 'system');
  const system = typeof sys === 'string' && NAME.test(sys) ? sys : undefined;
  const trusted = trustedBy(stringList(settingValue(config, 'trusted-users')), user, groups);
  if (trusted === false && user) {
    notes.push(
      `${user} is not in trusted-users on the builder: Nix refuses store paths it copies there unless they are signed ` +
        '(add the user to nix.settings.trusted-users on the builder, or sign paths with secret-key-files)',
    );
  }
  const nix: RemoteNix = {
    ...base,
    system,
    extraPlatforms: stringList(settingValue(config, 'extra-platforms')) ?? [],
    systemFeatures: stringList(settingValue(config, 'system-features')) ?? [],
    trusted,
  };
  if (nix.trusted === undefined) delete nix.trusted;
  if (nix.system === undefined) delete nix.system;
  return { nix };
}

// ---------------------------------------------------------------------------
// One SSH session.

type Phase = 'connect' | 'banner' | 'kex' | 'auth' | 'command';

class Session {
  private readonly t: ProbeTimeouts;
  private readonly where: string;
  private readonly hostKeys: HostKeyInfo[] = [];
  private phase: Phase = 'connect';
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private sock: net.Socket | undefined;
  private client: Ssh2.Client | undefined;
  private rttMs: number | undefined;
  private head = '';
  private bytesIn = 0;
  private sawIdent = false;
  private authTried: string[] = [];
  private authTriedTypes: string[] = [];
  private keyVerdict: { kind: ProbeErrorKind; message: string } | undefined;
  private serverMethods: string[] | undefined;
  private stdout: Buffer[] = [];
  private stdoutBytes = 0;
  private stderr = '';
  private exitCode: number | undefined;
  private exitSignal: string | undefined;
  private readonly onAbort = () => this.fail('cancelled', `the probe of ${this.where} was cancelled`);

  constructor(
    private readonly target: ProbeTarget,
    private readonly mode: 'keys' | 'login',
    timeouts: ProbeTimeouts,
    private readonly signal: AbortSignal | undefined,
    private readonly auth: AuthPlan | undefined,
    private readonly resolve: (r: ProbeResult) => void,
  ) {
    this.t = timeouts;
    this.where = hostPort(target.host, target.port);
  }

  start(): void {
    if (this.signal?.aborted) return this.onAbort();
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    const started = performance.now();
    this.arm(this.t.connectMs, () =>
      this.fail('timeout', `no answer from ${this.where} within ${this.t.connectMs} ms while connecting (TCP): the host is down, or a firewall drops the packets`),
    );
    const host = this.target.host.replace(/^\[(.*)\]$/, '$1');
    let sock: net.Socket;
    try {
      sock = net.connect({ host, port: this.target.port });
    } catch (err) {
      return this.fail('other', `cannot connect to ${this.where}: ${clean((err as Error).message)}`);
    }
    this.sock = sock;
    sock.on('error', (err: NodeJS.ErrnoException) => this.socketError(err));
    sock.once('connect', () => {
      if (this.done) return;
      this.rttMs = Math.round((performance.now() - started) * 10) / 10;
      this.startSsh(sock);
    });
  }

  private arm(ms: number, onTimeout: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(onTimeout, ms);
  }

  private startSsh(sock: net.Socket): void {
    this.phase = 'banner';
    this.arm(this.t.handshakeMs, () => this.handshakeTimeout());
    const client = new (ssh2().Client)();
    this.client = client;
    client.on('error', (err: Error & { level?: string; code?: unknown }) => this.sshError(err));
    client.on('close', () => this.closed());
    client.on('handshake', () => this.handshakeDone());
    client.on('ready', () => this.loggedIn());
    const cfg: Ssh2.ConnectConfig = {
      sock,
      username: this.auth?.username ?? this.target.user ?? defaultUser(),
      readyTimeout: 0,
      keepaliveInterval: 0,
      agentForward: false,
      tryKeyboard: false,
      algorithms: { serverHostKey: hostKeyAlgorithms(this.target.expectedKeys) },
      hostVerifier: (key: Buffer) => this.verifyHostKey(key),
      authHandler: (methodsLeft, _partial, next) => this.nextAuth(methodsLeft, next),
    };
    try {
      client.connect(cfg);
    } catch (err) {
      return this.fail('other', `cannot start SSH with ${this.where}: ${clean((err as Error).message)}`);
    }
    // Attached after ssh2's own listener, so ssh2 misses no byte.
    sock.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      if (!this.sawIdent && this.head.length < MAX_BANNER_HEAD) {
        this.head += chunk.toString('latin1');
        if (/(^|\n)SSH-[^\n]*\n/.test(this.head)) this.sawIdent = true;
      }
    });
  }

  private verifyHostKey(blob: Buffer): boolean {
    if (this.done) return false;
    this.phase = 'kex';
    const info = hostKeyInfo(blob);
    this.hostKeys.length = 0;
    this.hostKeys.push(info);
    const verdict = this.checkExpected(info, blob);
    if (!verdict) return true;
    if (this.mode === 'keys') {
      // No login follows: let the exchange finish, so the key is proven by
      // its signature, and report the verdict then.
      this.keyVerdict = verdict;
      return true;
    }
    this.fail(verdict.kind, verdict.message);
    return false;
  }

  /** The host key against target.expectedKeys: undefined when it matches or nothing is expected. */
  private checkExpected(info: HostKeyInfo, blob: Buffer): { kind: ProbeErrorKind; message: string } | undefined {
    const expected = this.target.expectedKeys;
    if (!expected) return undefined;
    const notLoggingIn = this.mode === 'login' ? ' Not logging in.' : '';
    if (expected.length === 0) {
      return {
        kind: 'host-key-unknown',
        message:
          `no host key is configured for ${this.where}, so its key ${info.type} ${info.fingerprint} cannot be checked.${notLoggingIn} ` +
          'Add the key to programs.ssh.knownHosts or publicHostKey after checking it on the builder (ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub).',
      };
    }
    if (expected.some((k) => decodeBlob(k.blob)?.equals(blob))) return undefined;
    const sameType = expected.some((k) => k.type === info.type);
    return {
      kind: 'host-key-mismatch',
      message:
        (sameType
          ? `${this.where} presented the ${info.type} host key ${info.fingerprint}, which is not the configured one (${describeKeys(expected)}). `
          : `${this.where} has no host key of the configured type(s) (${describeKeys(expected)}); it presented ${info.type} ${info.fingerprint}. `) +
        `The builder was reinstalled or its keys regenerated, or the connection is intercepted.${notLoggingIn} Check the key on the builder before updating the configuration.`,
    };
  }

  private handshakeDone(): void {
    if (this.done) return;
    if (this.mode === 'keys') {
      this.finish(this.keyVerdict, undefined, 'end');
      return;
    }
    this.phase = 'auth';
    const user = this.auth?.username ?? '?';
    this.arm(this.t.handshakeMs, () =>
      this.fail('timeout', `logging in as ${user} on ${this.where} did not finish within ${this.t.handshakeMs} ms${this.triedText()}`),
    );
  }

  private nextAuth(methodsLeft: Ssh2.AuthenticationType[] | null, next: Ssh2.NextAuthHandler): void {
    if (this.done) return next(false as unknown as Ssh2.AuthenticationType);
    if (methodsLeft) this.serverMethods = methodsLeft.map((m) => clean(m, 40));
    const plan = this.auth;
    const idx = this.authTried.length;
    const method = plan?.methods[idx];
    const label = plan?.labels[idx];
    const serverTakesKeys = !this.serverMethods || this.serverMethods.includes('publickey');
    if (!method || !label || !serverTakesKeys) {
      this.authFailed();
      return next(false as unknown as Ssh2.AuthenticationType);
    }
    this.authTried.push(label);
    this.authTriedTypes.push(method.type);
    next(method);
  }

  private triedText(): string {
    return this.authTried.length > 0 ? ` (tried ${this.authTried.join(', then ')})` : '';
  }

  private authFailed(detail?: string): void {
    const user = this.auth?.username ?? '?';
    const parts: string[] = [];
    if (this.authTried.length > 0) parts.push(`tried ${this.authTried.join(', then ')}`);
    if (this.auth) parts.push(...this.auth.problems);
    if (this.serverMethods) {
      parts.push(
        this.serverMethods.includes('publickey')
          ? `the server takes: ${this.serverMethods.join(', ')}`
          : `the server does not take publickey logins (only ${this.serverMethods.join(', ') || 'none'}), which Nix needs`,
      );
    }
    if (detail) parts.push(detail);
    const head = this.authTried.length > 0 ? `${this.where} refused the login as ${user}` : `cannot log in to ${this.where} as ${user}`;
    this.fail('auth-failed', `${head}${parts.length > 0 ? `: ${parts.join('; ')}` : ''}`);
  }

  private loggedIn(): void {
    if (this.done) return;
    const client = this.client;
    if (!client) return;
    this.phase = 'command';
    this.arm(this.t.commandMs, () =>
      this.fail(
        'timeout',
        `the probe's command (nix --version, nix show-config --json) on ${this.where} did not finish within ${this.t.commandMs} ms`,
      ),
    );
    try {
      client.exec(REMOTE_COMMAND, {}, (err, stream) => {
        if (this.done) {
          stream?.destroy();
          return;
        }
        if (err) return this.fail('command-failed', `${this.where} refused to run a command: ${clean(err.message)}`);
        stream.on('data', (chunk: Buffer) => {
          this.stdoutBytes += chunk.length;
          if (this.stdoutBytes > MAX_STDOUT) {
            this.fail('command-failed', `the probe's command on ${this.where} printed more than ${MAX_STDOUT} bytes`);
            return;
          }
          this.stdout.push(chunk);
        });
        stream.stderr.on('data', (chunk: Buffer) => {
          if (this.stderr.length < MAX_STDERR) this.stderr += chunk.toString('utf8');
        });
        stream.on('exit', (code: number | null, signal?: string) => {
          if (typeof code === 'number') this.exitCode = code;
          if (typeof signal === 'string') this.exitSignal = signal;
        });
        stream.on('error', () => undefined);
        stream.on('close', () => this.commandDone());
        // EOF on stdin: a forced command that reads stdin ends instead of waiting.
        stream.end();
      });
    } catch (err) {
      this.fail('command-failed', `cannot run the probe's command on ${this.where}: ${clean((err as Error).message)}`);
    }
  }

  private commandDone(): void {
    if (this.done) return;
    const stdout = Buffer.concat(this.stdout).toString('utf8');
    const stderr = this.exitSignal ? `${this.stderr}\n(killed by signal ${this.exitSignal})` : this.stderr;
    const viaAgent = this.authTriedTypes[this.authTriedTypes.length - 1] === 'agent';
    const parsed = parseRemoteOutput(stdout, stderr, this.exitCode, `${this.auth?.username ?? '?'}@${this.where}`, viaAgent);
    this.finish(parsed.error, parsed.nix, 'end');
  }

  private handshakeTimeout(): void {
    const ms = this.t.handshakeMs;
    if (this.phase === 'banner' && !this.sawIdent) {
      if (this.bytesIn === 0) {
        this.fail(
          'no-banner',
          `${this.where} accepted the TCP connection but sent no SSH banner within ${ms} ms: it is not an SSH server, or sshd is overloaded (MaxStartups)`,
        );
      } else {
        this.fail('timeout', `${this.where} sent only ${this.bytesIn} bytes of its SSH banner within ${ms} ms: too slow, or not an SSH server`);
      }
      return;
    }
    this.hostKeys.length = 0; // not proven
    this.fail('timeout', `the SSH key exchange with ${this.where} did not finish within ${ms} ms`);
  }

  private socketError(err: NodeJS.ErrnoException): void {
    if (this.done) return;
    const code = err.code ?? '';
    if (this.phase === 'connect') {
      switch (code) {
        case 'ECONNREFUSED':
          return this.fail('refused', `nothing listens on ${this.where} (connection refused): sshd is not running there, or listens on another port`);
        case 'EHOSTUNREACH':
        case 'ENETUNREACH':
        case 'EHOSTDOWN':
        case 'ENETDOWN':
          return this.fail('no-route', `no route to ${this.where} (${code}): the host is down, or its network cannot be reached from here`);
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
        case 'EAI_NONAME':
        case 'EAI_NODATA':
          return this.fail('no-route', `cannot resolve the host name ${this.target.host} (${code})`);
        case 'ETIMEDOUT':
          return this.fail('timeout', `connecting to ${this.where} timed out (${code}): the host is down, or a firewall drops the packets`);
        default:
          return this.fail('other', `cannot connect to ${this.where}: ${clean(err.message)}`);
      }
    }
    this.closedEarly(code !== '' ? code : clean(err.message));
  }

  private sshError(err: Error & { level?: string; code?: unknown }): void {
    if (this.done) return;
    const level = err.level ?? '';
    // ssh2 goes on after these: a failing agent or a key that cannot sign.
    if (level === 'agent' || (level === 'client-authentication' && !/All configured authentication methods failed/.test(err.message))) return;
    if (level === 'client-socket') return this.socketError(err as NodeJS.ErrnoException);
    const msg = clean(err.message);
    if (this.phase === 'banner' && !this.sawIdent) {
      if (this.bytesIn === 0) return this.closedEarly();
      const said = clean(this.head.split('\n')[0] ?? '', 60);
      return this.fail('no-banner', `${this.where} is not an SSH server${said ? `: it sent "${said}"` : ''} (${msg})`);
    }
    if (this.phase === 'auth') return this.authFailed(`the server said: ${msg}`);
    if (this.phase === 'command') return this.fail('command-failed', `the connection to ${this.where} failed while the probe's command ran: ${msg}`);
    // A key seen before the exchange failed (e.g. a bad signature) is not proven.
    if (this.phase === 'kex') this.hostKeys.length = 0;
    return this.fail('other', `the SSH key exchange with ${this.where} failed: ${msg}`);
  }

  private closed(): void {
    if (this.done) return;
    this.closedEarly();
  }

  private closedEarly(why?: string): void {
    const suffix = why ? ` (${why})` : '';
    switch (this.phase) {
      case 'connect':
        return this.fail('other', `the connection to ${this.where} closed while connecting${suffix}`);
      case 'banner':
        if (!this.sawIdent) {
          return this.fail(
            'no-banner',
            `${this.where} closed the connection without sending an SSH banner${suffix}: sshd refused it (MaxStartups, a TCP wrapper or firewall), or it is not an SSH server`,
          );
        }
        return this.fail('other', `${this.where} closed the connection during the SSH key exchange${suffix}`);
      case 'kex':
        this.hostKeys.length = 0; // not proven
        return this.fail('other', `${this.where} closed the connection during the SSH key exchange${suffix}`);
      case 'auth':
        return this.authFailed(`the server closed the connection${suffix}`);
      case 'command':
        return this.fail('command-failed', `the connection to ${this.where} closed before the probe's command finished${suffix}`);
    }
  }

  private fail(kind: ProbeErrorKind, message: string): void {
    this.finish({ kind, message }, undefined, 'destroy');
  }

  private finish(error: ProbeResult['error'], nix: RemoteNix | undefined, close: 'end' | 'destroy'): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.signal?.removeEventListener('abort', this.onAbort);
    const sock = this.sock;
    if (sock) {
      if (close === 'end' && this.client && !sock.destroyed) {
        // A polite SSH disconnect; the socket is destroyed right after the
        // write is flushed, whatever the server does.
        try {
          this.client.end();
        } catch {
          // ignore
        }
        if (sock.writableNeedDrain) sock.once('drain', () => sock.destroy());
        else setImmediate(() => sock.destroy());
      } else {
        sock.destroy();
      }
    }
    const result: ProbeResult = { host: this.target.host, port: this.target.port, hostKeys: [...this.hostKeys] };
    if (nix) result.nix = nix;
    if (error) result.error = error;
    if (this.rttMs !== undefined) result.rttMs = this.rttMs;
    this.resolve(result);
  }
}

async function run(target: ProbeTarget, opts: ProbeOptions | undefined, mode: 'keys' | 'login'): Promise<ProbeResult> {
  const base: ProbeResult = { host: target.host, port: target.port, hostKeys: [] };
  const bad = checkTarget(target);
  if (bad) return { ...base, error: { kind: 'refused-input', message: bad } };
  const signal = opts?.signal;
  const cancelled = (): ProbeResult => ({ ...base, error: { kind: 'cancelled', message: `the probe of ${hostPort(target.host, target.port)} was cancelled` } });
  if (signal?.aborted) return cancelled();
  const auth = mode === 'login' ? await planAuth(target) : undefined;
  if (signal?.aborted) return cancelled();
  const timeouts = resolveTimeouts(opts?.timeouts);
  return new Promise<ProbeResult>((resolve) => new Session(target, mode, timeouts, signal, auth, resolve).start());
}

/**
 * Handshake only, no login (as `ssh-keyscan -t ed25519`, falling back to the
 * types the server has): the host key the server proves in the key exchange.
 * With expectedKeys, the configured key types are asked for first (as ssh
 * does), so the key returned is comparable, and a key that does not match is
 * reported as host-key-mismatch (host-key-unknown for an empty list), with the
 * key in hostKeys.
 */
export function fetchHostKeys(target: ProbeTarget, opts?: ProbeOptions): Promise<ProbeResult> {
  return run(target, opts, 'keys');
}

/**
 * Handshake, host key check against expectedKeys (when given), login, and the
 * one fixed remote command that reads the remote Nix's version and settings.
 */
export function probeBuilder(target: ProbeTarget, opts?: ProbeOptions): Promise<ProbeResult> {
  return run(target, opts, 'login');
}
