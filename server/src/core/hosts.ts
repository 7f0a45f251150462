// Per builder, what root's ssh will do: the resolution chain, the address,
// and which known-hosts entry (if any) covers the name it looks up. Shared by
// the unresolved-host / missing-host-key / host-key-name-mismatch rules and hover.
import { isIP } from 'node:net';
import type { Environment, ExternalFile, Resolution } from './environment';
import { unwrap } from './eval/module';
import type { Value } from './eval/value';
import { type KnownHostsLine, KnownHostsIndex, parseKnownHosts } from './known-hosts';
import type { Builder, KnownHost, Model } from './model';
import type { Span } from './span';
import { parseSshConfig } from './ssh-config';
import { resolveFrom } from './imports';
import { KeyMemo, type PublicKey } from './ssh-keys';
import { resolveChain, type SshChain, type SshSource } from './ssh-resolve';

export interface KeyEntry {
  patterns: string[];
  marker?: 'cert-authority' | 'revoked';
  key?: PublicKey;
  kind: 'knownHosts' | 'file' | 'publicHostKey';
  /** "programs.ssh.knownHosts.ruby", "/etc/ssh/ssh_known_hosts:12", "publicHostKey". */
  label: string;
  file: string;
  line?: number;
  span?: Span;
  notRoot: boolean;
  knownHost?: KnownHost;
  /** Host names not fully known: it might cover any name. */
  uncertain: boolean;
}

export type KeyCheck =
  | { kind: 'unknown' }
  | { kind: 'covered'; entries: KeyEntry[]; via: 'exact' | 'bare-host-fallback' | 'cert-authority' | 'publicHostKey' }
  | { kind: 'missing'; elsewhere: KeyEntry[] }
  | { kind: 'mismatch'; entries: { entry: KeyEntry; name: string }[]; publicHostKey: boolean };

export type AddressCheck =
  | { kind: 'skip'; why: 'unknown' | 'proxy' | 'off' }
  | { kind: 'ip' | 'networking.hosts'; address: string }
  | { kind: 'pending' }
  | { kind: 'resolver'; resolution: Resolution };

export interface BuilderHost {
  chain: SshChain;
  /** The chain with the editing user's own ssh_config added, when it differs. */
  yoursChain?: SshChain;
  address: AddressCheck;
  keys: KeyCheck;
}

function str(v: Value | undefined): string | undefined {
  const u = v && unwrap(v);
  return u?.kind === 'string' ? u.value : undefined;
}

function stringList(v: Value | undefined): { items: string[]; complete: boolean } {
  const u = v && unwrap(v);
  if (!u || u.kind !== 'list') return { items: [], complete: !v };
  const items: string[] = [];
  let complete = u.complete;
  for (const t of u.items) {
    const x = t.force();
    if (x.kind === 'string') items.push(x.value);
    else complete = false;
  }
  return { items, complete };
}

/** Host names, and whether they are all known. */
type NameList = { items: string[]; complete: boolean };

/**
 * A known host's names: hostNames, or failing that its attribute name and
 * extraHostNames. (extraHostNames is read either way, first: see the constructor.)
 */
function knownHostNames(h: KnownHost): NameList {
  const extra = stringList(h.attrs.get('extraHostNames')?.value);
  const hostNames = h.attrs.get('hostNames');
  return hostNames ? stringList(hostNames.value) : { items: [h.name, ...extra.items], complete: extra.complete };
}

/** A name ssh could be given: not empty, no blanks, `/`, `@`, control or replacement characters, no leading `-`. */
function isPlausibleHost(host: string): boolean {
   
  return host !== '' && !host.startsWith('-') && !/[\s/@\u0000-\u001f\u007f\ufffd]/.test(host);
}

/** A `[host]:port` name in a known-hosts entry. */
interface PortPattern {
  entry: KeyEntry;
  pattern: string;
  port: number;
}

export class HostAnalysis {
  readonly rootSources: SshSource[];
  readonly yourSources: SshSource[];
  /** Public keys read for this analysis; the bad-*-key rules read the same values. */
  readonly parsedKeys = new KeyMemo();
  /** The names of each of model.knownHosts, in its order: read at once, see the constructor. */
  private readonly knownHostNameLists: NameList[];
  /**
   * Every known-hosts entry; made on the first key check (none when keys are not
   * checked): parsing and fingerprinting thousands of keys is most of the work.
   */
  private entryList?: KeyEntry[];
  private readonly lines = new Map<KnownHostsLine, KeyEntry>();
  private readonly etcHosts: Map<string, string>;
  private readonly etcHostsComplete: boolean;
  private readonly cache = new Map<Builder, BuilderHost | undefined>();
  /**
   * The entries as known_hosts lines, indexed once: with thousands of builders
   * and entries, scanning every line for every builder made the host checks
   * quadratic. Made on the first key check (none when keys are not checked).
   */
  private knownLines?: { root: KnownHostsIndex; yours: KnownHostsIndex };
  /** The user's ssh_config before root's: the chain ssh would follow for the editing user. */
  private readonly allSources: SshSource[];
  /** Some entry root's ssh reads might cover any name: keys are then unknown. Made with the entries. */
  private rootUncertainMemo?: boolean;
  /** Root's `[host]:port` patterns by lowercased host, in entry and pattern order; made on first use. */
  private portPatterns?: Map<string, PortPattern[]>;

  constructor(
    private readonly model: Model,
    readonly env: Environment,
  ) {
    const fromFile = (f: ExternalFile): SshSource => ({
      label: f.path,
      notRoot: f.notRoot,
      blocks: parseSshConfig(f.text, (s, e) => ({ file: f.path, start: s, end: e })),
    });
    const nix: SshSource = { label: 'programs.ssh.extraConfig', notRoot: false, blocks: model.sshBlocks };
    // NixOS writes extraConfig at the top of /etc/ssh/ssh_config: it comes first.
    this.rootSources = [nix, ...env.sshConfigFiles.filter((f) => !f.notRoot).map(fromFile)];
    this.yourSources = env.sshConfigFiles.filter((f) => f.notRoot).map(fromFile);
    this.allSources = [...this.yourSources, ...this.rootSources];
    // The lists are lazy values: they are read here, in the order they always
    // were, because a file's evaluation budget is shared and the order of first
    // reads decides what an exhausted budget leaves unknown.
    this.knownHostNameLists = model.knownHosts.map(knownHostNames);
    const { map, complete } = this.readNetworkingHosts();
    this.etcHosts = map;
    this.etcHostsComplete = complete;
  }

  private get entries(): KeyEntry[] {
    this.entryList ??= [...this.nixEntries(), ...this.fileEntries()];
    return this.entryList;
  }

  private get rootUncertain(): boolean {
    this.rootUncertainMemo ??= this.entries.some((e) => e.uncertain && !e.notRoot);
    return this.rootUncertainMemo;
  }

  private nixEntries(): KeyEntry[] {
    const out: KeyEntry[] = [];
    for (const [i, h] of this.model.knownHosts.entries()) {
      const names = this.knownHostNameLists[i] as NameList;
      let key: PublicKey | undefined;
      const pk = str(h.attrs.get('publicKey')?.value);
      const pkFile = h.attrs.get('publicKeyFile')?.value;
      if (pk !== undefined) {
        const r = this.parsedKeys.publicKeyLine(pk);
        if ('key' in r) key = r.key;
      } else if (pkFile && (pkFile.kind === 'path' || pkFile.kind === 'string') && this.env.readFile) {
        const p = pkFile.value.startsWith('/') ? pkFile.value : resolveFrom(h.file, pkFile.value);
        const text = this.env.readFile(p);
        const r = text === undefined ? undefined : this.parsedKeys.publicKeyLine(text.trim());
        if (r && 'key' in r) key = r.key;
      }
      // Unset is `false`: no marker, nothing uncertain.
      const caValue = h.attrs.get('certAuthority')?.value;
      const ca = caValue && unwrap(caValue);
      out.push({
        patterns: names.items,
        marker: ca?.kind === 'bool' && ca.value ? 'cert-authority' : undefined,
        key,
        kind: 'knownHosts',
        label: `programs.ssh.knownHosts.${h.name}`,
        file: h.file,
        span: h.nameSpan ?? h.span,
        notRoot: false,
        knownHost: h,
        uncertain: !names.complete || (ca !== undefined && ca.kind !== 'bool'),
      });
    }
    return out;
  }

  private fileEntries(): KeyEntry[] {
    const out: KeyEntry[] = [];
    for (const f of this.env.knownHostsFiles) {
      for (const l of parseKnownHosts(f.text)) {
        const e: KeyEntry = {
          patterns: l.patterns,
          marker: l.marker,
          key: l.key,
          kind: 'file',
          label: `${f.path}:${l.line}`,
          file: f.path,
          line: l.line,
          notRoot: f.notRoot,
          uncertain: false,
        };
        out.push(e);
      }
    }
    return out;
  }

  private readNetworkingHosts(): { map: Map<string, string>; complete: boolean } {
    const map = new Map<string, string>();
    let complete = !this.model.networkingHosts.partial;
    for (const def of this.model.networkingHosts.defs) {
      const v = unwrap(def.value);
      if (!v || v.kind !== 'attrs') {
        complete = false;
        continue;
      }
      complete &&= v.complete;
      for (const [address, a] of v.attrs) {
        const names = stringList(a.thunk.force());
        complete &&= names.complete;
        for (const n of names.items) if (!map.has(n.toLowerCase())) map.set(n.toLowerCase(), address);
      }
    }
    return { map, complete };
  }

  /** Known-hosts lines for the entries that root's ssh (or only the user's) reads. */
  private asLines(filter: (e: KeyEntry) => boolean): KnownHostsLine[] {
    const out: KnownHostsLine[] = [];
    for (const e of this.entries) {
      if (!filter(e)) continue;
      const line: KnownHostsLine = { marker: e.marker, patterns: e.patterns, key: e.key, keyType: e.key?.type ?? '', line: e.line ?? 0, start: 0, end: 0 };
      this.lines.set(line, e);
      out.push(line);
    }
    return out;
  }

  private get rootLines(): KnownHostsIndex {
    return this.indexedLines().root;
  }

  private get yourLines(): KnownHostsIndex {
    return this.indexedLines().yours;
  }

  private indexedLines(): { root: KnownHostsIndex; yours: KnownHostsIndex } {
    this.knownLines ??= {
      root: new KnownHostsIndex(this.asLines((e) => !e.notRoot)),
      yours: new KnownHostsIndex(this.asLines((e) => e.notRoot)),
    };
    return this.knownLines;
  }

  private lookup(lines: KnownHostsIndex, host: string, port: number) {
    const r = lines.lookup(host, port);
    const entry = (l: KnownHostsLine) => this.lines.get(l) as KeyEntry;
    return {
      matches: r.matches.map((m) => ({ entry: entry(m.line), via: m.via })),
      ca: r.certAuthorities.map(entry),
    };
  }

  /** Drops what was worked out for a builder that an incremental analysis replaced (incremental.ts). */
  forget(b: Builder): void {
    this.cache.delete(b);
  }

  forBuilder(b: Builder): BuilderHost | undefined {
    if (this.cache.has(b)) return this.cache.get(b);
    const result = this.compute(b);
    this.cache.set(b, result);
    return result;
  }

  private compute(b: Builder): BuilderHost | undefined {
    const host = str(b.attrs.get('hostName')?.value);
    if (host === undefined || !isPlausibleHost(host)) return undefined;
    const userValue = b.attrs.get('sshUser')?.value;
    const user = str(userValue);
    const chain = resolveChain(host, user, this.rootSources);
    const yours = this.yourSources.length > 0 ? resolveChain(host, user, this.allSources) : undefined;
    const yoursChain = yours && (yours.hostName !== chain.hostName || yours.port !== chain.port) ? yours : undefined;
    return { chain, yoursChain, address: this.address(chain), keys: this.keys(b, chain) };
  }

  private address(chain: SshChain): AddressCheck {
    if (chain.proxy) return { kind: 'skip', why: 'proxy' };
    if (chain.uncertain) return { kind: 'skip', why: 'unknown' };
    const name = chain.hostName.replace(/\.$/, '');
    if (isIP(name)) return { kind: 'ip', address: name };
    const mapped = this.etcHosts.get(name.toLowerCase());
    if (mapped) return { kind: 'networking.hosts', address: mapped };
    if (!this.etcHostsComplete) return { kind: 'skip', why: 'unknown' };
    if (!this.env.lookups) return { kind: 'skip', why: 'off' };
    const r = this.env.resolve(name);
    return r ? { kind: 'resolver', resolution: r } : { kind: 'pending' };
  }

  private keys(b: Builder, chain: SshChain): KeyCheck {
    if (chain.uncertain || !this.env.checkHostKeys) return { kind: 'unknown' };
    const rootLines = this.rootLines;
    const lookupHost = chain.hostKeyAlias ? chain.lookupName : chain.hostName.toLowerCase();
    const lookupPort = chain.hostKeyAlias ? 22 : chain.port;
    const found = this.lookup(rootLines, lookupHost, lookupPort);
    if (found.matches.length > 0) {
      return { kind: 'covered', entries: found.matches.map((m) => m.entry), via: found.matches[0]?.via ?? 'exact' };
    }
    if (found.ca.length > 0) return { kind: 'covered', entries: found.ca, via: 'cert-authority' };

    // Nix writes "<hostName as written> <key>" to a known_hosts file of its own.
    const phk = str(b.attrs.get('publicHostKey')?.value);
    const phkDecoded = phk !== undefined ? this.parsedKeys.publicHostKey(phk) : undefined;
    if (phk !== undefined) {
      const written = chain.alias.toLowerCase();
      if (written === chain.lookupName) {
        const key = phkDecoded && 'key' in phkDecoded ? phkDecoded.key : undefined;
        return {
          kind: 'covered',
          entries: [{ patterns: [written], key, kind: 'publicHostKey', label: 'publicHostKey', file: b.file, span: b.attrs.get('publicHostKey')?.value.span, notRoot: false, uncertain: false }],
          via: 'publicHostKey',
        };
      }
    }
    if (this.model.knownHostsDefs.partial || this.rootUncertain) return { kind: 'unknown' };

    // The key may be there under another name: the alias, the HostName, another port.
    const others: { entry: KeyEntry; name: string }[] = [];
    const candidates = new Set([chain.alias.toLowerCase(), chain.hostName.toLowerCase(), ...(chain.hostKeyAlias ? [chain.hostKeyAlias.value.toLowerCase()] : [])]);
    candidates.delete(chain.lookupName);
    for (const name of candidates) {
      for (const m of this.lookup(rootLines, name, 22).matches) others.push({ entry: m.entry, name });
    }
    for (const { entry, pattern, port } of this.portPatternsOf(chain.hostName)) {
      if (port !== chain.port && !others.some((o) => o.entry === entry)) others.push({ entry, name: pattern });
    }
    if (others.length > 0 || phk !== undefined) return { kind: 'mismatch', entries: others, publicHostKey: phk !== undefined };
    const yours = this.lookup(this.yourLines, lookupHost, lookupPort).matches.map((m) => m.entry);
    return { kind: 'missing', elsewhere: yours };
  }

  /** The `[host]:port` names of root's entries for this host (any case), in entry and pattern order. */
  private portPatternsOf(host: string): PortPattern[] {
    this.portPatterns ??= this.indexPortPatterns();
    return this.portPatterns.get(host.toLowerCase()) ?? [];
  }

  private indexPortPatterns(): Map<string, PortPattern[]> {
    const map = new Map<string, PortPattern[]>();
    for (const entry of this.entries) {
      if (entry.notRoot) continue;
      for (const pattern of entry.patterns) {
        const m = /^\[([^\]]+)\]:(\d+)$/.exec(pattern);
        if (!m) continue;
        const host = (m[1] ?? '').toLowerCase();
        const list = map.get(host);
        const p = { entry, pattern, port: Number(m[2]) };
        if (list) list.push(p);
        else map.set(host, [p]);
      }
    }
    return map;
  }
}
