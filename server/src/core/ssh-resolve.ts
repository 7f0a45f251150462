// The chain root's ssh follows for a builder (SPEC §1.5): hostName (and the
// port of `host:port`) → Host / Match blocks, first value wins → HostName,
// Port, User, HostKeyAlias, IdentityFile, ProxyJump / ProxyCommand → the name
// it looks up in known_hosts.
import { glob } from 'ssh-config';
import { type SshBlock, type SshOption } from './ssh-config';
import type { Span } from './span';

export interface SshSource {
  /** How messages name it: "programs.ssh.extraConfig", "/etc/ssh/ssh_config", … */
  label: string;
  /** A file root's ssh does not read (the editing user's ~/.ssh/config). */
  notRoot: boolean;
  blocks: SshBlock[];
}

export interface Found {
  value: string;
  source: SshSource;
  option: SshOption;
}

export interface SshChain {
  /** hostName as written, without a `:port`. */
  alias: string;
  /** The port of `host:port` in hostName (Nix >= 2.31), which wins over Port. */
  port: number;
  portFound?: Found;
  /** The host ssh connects to: HostName (with %h expanded), or the alias. */
  hostName: string;
  hostNameFound?: Found;
  user?: Found;
  identityFiles: Found[];
  hostKeyAlias?: Found;
  /** ProxyJump or ProxyCommand: the jump host resolves the name, not this machine. */
  proxy?: Found;
  /** The name ssh looks up in known_hosts: HostKeyAlias, else `host` or `[host]:port`, lowercased. */
  lookupName: string;
  /** A Match block with criteria this reader cannot evaluate (exec, …) might apply. */
  uncertain: boolean;
  /** Blocks that applied, in order. */
  applied: { source: SshSource; block: SshBlock }[];
}

/** Splits `host:port` / `[v6]:port` (Nix >= 2.31); a bare IPv6 address has no port. */
export function splitHostPort(hostName: string): { host: string; port?: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostName);
  if (bracket) return { host: bracket[1] ?? '', port: bracket[2] ? Number(bracket[2]) : undefined };
  const m = /^([^:]+):(\d+)$/.exec(hostName);
  if (m) return { host: m[1] ?? '', port: Number(m[2]) };
  return { host: hostName };
}

/**
 * ssh_config pattern lists. The `ssh-config` package's glob implements `*`,
 * `?` and `!` as ssh does, but compares case-sensitively; ssh lowercases host
 * names and patterns (match_hostname), so both are lowercased here.
 */
function hostMatches(patterns: string[], name: string): boolean {
  return patterns.length > 0 && glob(patterns.map((p) => p.toLowerCase()), name.toLowerCase());
}

/** Match criteria: true / false when decidable, undefined for exec, localnetwork, tagged, … */
function matchApplies(block: SshBlock, alias: string, host: string, user: string | undefined): boolean | undefined {
  const words = block.patterns.map((p) => p.text);
  let result: boolean | undefined = true;
  for (let i = 0; i < words.length; i++) {
    const raw = (words[i] ?? '').toLowerCase();
    const negate = raw.startsWith('!');
    const criterion = negate ? raw.slice(1) : raw;
    let ok: boolean | undefined;
    if (criterion === 'all') ok = true;
    else if (criterion === 'canonical' || criterion === 'final') ok = false;
    else {
      const arg = (words[++i] ?? '').split(',');
      if (criterion === 'host') ok = hostMatches(arg, host);
      else if (criterion === 'originalhost') ok = hostMatches(arg, alias);
      else if (criterion === 'localuser') ok = hostMatches(arg, 'root');
      else if (criterion === 'user') ok = user === undefined ? undefined : hostMatches(arg, user);
      else ok = undefined;
    }
    if (ok !== undefined && negate) ok = !ok;
    if (ok === false) return false;
    if (ok === undefined) result = undefined;
  }
  return result;
}

const SINGLE = ['hostname', 'port', 'user', 'hostkeyalias', 'proxyjump', 'proxycommand'] as const;

export function resolveChain(hostNameValue: string, sshUser: string | undefined, sources: SshSource[]): SshChain {
  const { host: alias, port: explicitPort } = splitHostPort(hostNameValue);
  const found = new Map<string, Found>();
  const identityFiles: Found[] = [];
  const applied: SshChain['applied'] = [];
  let uncertain = false;
  for (const source of sources) {
    for (const block of source.blocks) {
      let applies: boolean | undefined;
      if (block.kind === 'global') applies = true;
      else if (block.kind === 'host') applies = hostMatches(block.patterns.map((p) => p.text), alias);
      else {
        const current = found.get('hostname')?.value.replace(/%h/g, alias) ?? alias;
        applies = matchApplies(block, alias, current, sshUser ?? found.get('user')?.value);
      }
      if (applies === undefined) uncertain = true;
      if (!applies) continue;
      applied.push({ source, block });
      for (const o of block.options) {
        if (o.keyword === 'identityfile') identityFiles.push({ value: o.value, source, option: o });
        else if ((SINGLE as readonly string[]).includes(o.keyword) && !found.has(o.keyword)) {
          found.set(o.keyword, { value: o.value, source, option: o });
        }
      }
    }
  }
  const hostNameFound = found.get('hostname');
  const hostName = hostNameFound ? hostNameFound.value.replace(/%h/g, alias) : alias;
  const portFound = found.get('port');
  const port = explicitPort ?? (portFound && /^\d+$/.test(portFound.value) ? Number(portFound.value) : 22);
  const hostKeyAlias = found.get('hostkeyalias');
  const proxy = found.get('proxyjump') ?? found.get('proxycommand');
  const bare = hostName.toLowerCase();
  // With HostKeyAlias ssh uses the alias as it is, without the port (sshconnect.c).
  const lookupName = hostKeyAlias ? hostKeyAlias.value.toLowerCase() : port === 22 ? bare : `[${bare}]:${port}`;
  return {
    alias,
    port,
    portFound: explicitPort === undefined ? portFound : undefined,
    hostName,
    hostNameFound,
    user: sshUser === undefined ? found.get('user') : undefined,
    identityFiles,
    hostKeyAlias,
    proxy: proxy && proxy.value.toLowerCase() !== 'none' ? proxy : undefined,
    lookupName,
    uncertain,
    applied,
  };
}

/** Where a Found value sits, for messages. */
export function foundSpan(f: Found): Span {
  return f.option.valueSpan;
}
