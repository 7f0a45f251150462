// The chain root's ssh follows for a builder (SPEC §1.5): hostName (and the
// port of `host:port`) → Host / Match blocks, first value wins → HostName,
// Port, User, HostKeyAlias, IdentityFile, ProxyJump / ProxyCommand → the name
// it looks up in known_hosts.
import { mergeAscending } from './ascending';
import { matchPatternList } from './known-hosts';
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
  // The usual name has neither: no regular expression needed.
  if (!hostName.includes(':') && !hostName.startsWith('[')) return { host: hostName };
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostName);
  if (bracket) return { host: bracket[1] ?? '', port: bracket[2] ? Number(bracket[2]) : undefined };
  const m = /^([^:]+):(\d+)$/.exec(hostName);
  if (m) return { host: m[1] ?? '', port: Number(m[2]) };
  return { host: hostName };
}

/**
 * ssh_config pattern lists, as ssh's match_hostname: `*`, `?` (exactly one
 * character) and `!`, host names and patterns lowercased. (Not the
 * `ssh-config` package's glob: it builds a dozen RegExps per call, which made
 * a few thousand builders against a few thousand Host blocks take seconds.)
 */
function hostMatches(patterns: string[], name: string): boolean {
  return patterns.length > 0 && matchPatternList(patterns, name);
}

/**
 * Which blocks of a source can apply to a name. A Host block of plain names
 * (no `*`, `?` or `!`) applies exactly when the name is one of them, so such
 * blocks are found through a map; every other block is tried in turn. Keeps
 * resolving n builders against n Host blocks from being n² pattern matches.
 */
interface BlockIndex {
  /** Lowercased plain name → indices of the Host blocks that list it, ascending. */
  byName: Map<string, number[]>;
  /** Indices of the other blocks (global, Match, Host with wildcards or negation), ascending. */
  others: number[];
  /** Each block's pattern texts, made once rather than for every name tried. */
  texts: string[][];
  /** Each Match block's criteria, read once. */
  criteria: Map<number, Criterion[]>;
}

const blockIndexes = new WeakMap<SshBlock[], BlockIndex>();

function isPlainPattern(text: string): boolean {
  return text.length > 0 && text.length < 1023 && !/[*?!]/.test(text);
}

function blockIndex(blocks: SshBlock[]): BlockIndex {
  let index = blockIndexes.get(blocks);
  if (index) return index;
  index = { byName: new Map(), others: [], texts: blocks.map((b) => b.patterns.map((p) => p.text)), criteria: new Map() };
  blocks.forEach((block, i) => {
    if (block.kind === 'match') index.criteria.set(i, readCriteria(index.texts[i] ?? []));
    if (block.kind !== 'host' || block.patterns.length === 0 || !block.patterns.every((p) => isPlainPattern(p.text))) {
      index.others.push(i);
      return;
    }
    for (const name of new Set(block.patterns.map((p) => lowerAsciiName(p.text)))) {
      const list = index.byName.get(name);
      if (list) list.push(i);
      else index.byName.set(name, [i]);
    }
  });
  blockIndexes.set(blocks, index);
  return index;
}

function lowerAsciiName(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

const NONE: readonly number[] = [];

/** The indices of the blocks that may apply to `alias`, in file order. */
function candidateBlocks(index: BlockIndex, alias: string): readonly number[] {
  return mergeAscending(index.byName.get(lowerAsciiName(alias)) ?? NONE, index.others);
}

/** One criterion of a Match line: `all`, `host a,b`, `!user x`, … (lowercased). */
interface Criterion {
  negate: boolean;
  name: string;
  /** The comma-separated argument, for the criteria that take one. */
  arg?: string[];
}

/** The criteria of a Match line's words, as matchApplies reads them. */
function readCriteria(words: string[]): Criterion[] {
  const out: Criterion[] = [];
  for (let i = 0; i < words.length; i++) {
    const raw = (words[i] ?? '').toLowerCase();
    const negate = raw.startsWith('!');
    const name = negate ? raw.slice(1) : raw;
    if (name === 'all' || name === 'canonical' || name === 'final') out.push({ negate, name });
    else out.push({ negate, name, arg: (words[++i] ?? '').split(',') });
  }
  return out;
}

/** Match criteria: true / false when decidable, undefined for exec, localnetwork, tagged, … */
function matchApplies(criteria: Criterion[], alias: string, host: string, user: string | undefined): boolean | undefined {
  let result: boolean | undefined = true;
  for (const { negate, name, arg } of criteria) {
    let ok: boolean | undefined;
    if (name === 'all') ok = true;
    else if (name === 'canonical' || name === 'final') ok = false;
    else if (name === 'host') ok = hostMatches(arg ?? [], host);
    else if (name === 'originalhost') ok = hostMatches(arg ?? [], alias);
    else if (name === 'localuser') ok = hostMatches(arg ?? [], 'root');
    else if (name === 'user') ok = user === undefined ? undefined : hostMatches(arg ?? [], user);
    else ok = undefined;
    if (ok !== undefined && negate) ok = !ok;
    if (ok === false) return false;
    if (ok === undefined) result = undefined;
  }
  return result;
}

/** A HostName value with `%h` standing for the alias. */
function expandHost(value: string, alias: string): string {
  return value.includes('%h') ? value.replace(/%h/g, alias) : value;
}

/** The options whose first value wins (IdentityFile accumulates). */
const SINGLE: ReadonlySet<string> = new Set(['hostname', 'port', 'user', 'hostkeyalias', 'proxyjump', 'proxycommand']);

export function resolveChain(hostNameValue: string, sshUser: string | undefined, sources: SshSource[]): SshChain {
  const { host: alias, port: explicitPort } = splitHostPort(hostNameValue);
  const found = new Map<string, Found>();
  const identityFiles: Found[] = [];
  const applied: SshChain['applied'] = [];
  let uncertain = false;
  for (const source of sources) {
    const index = blockIndex(source.blocks);
    for (const i of candidateBlocks(index, alias)) {
      const block = source.blocks[i] as SshBlock;
      let applies: boolean | undefined;
      if (block.kind === 'global') applies = true;
      else if (block.kind === 'host') applies = hostMatches(index.texts[i] ?? [], alias);
      else {
        const hostNameSoFar = found.get('hostname');
        const current = hostNameSoFar ? expandHost(hostNameSoFar.value, alias) : alias;
        applies = matchApplies(index.criteria.get(i) ?? [], alias, current, sshUser ?? found.get('user')?.value);
      }
      if (applies === undefined) uncertain = true;
      if (!applies) continue;
      applied.push({ source, block });
      for (const o of block.options) {
        if (o.keyword === 'identityfile') identityFiles.push({ value: o.value, source, option: o });
        else if (SINGLE.has(o.keyword) && !found.has(o.keyword)) {
          found.set(o.keyword, { value: o.value, source, option: o });
        }
      }
    }
  }
  const hostNameFound = found.get('hostname');
  const hostName = hostNameFound ? expandHost(hostNameFound.value, alias) : alias;
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
