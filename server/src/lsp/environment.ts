// The language server's view of the outside world, from the settings: root's
// ssh_config and known_hosts files (read with readExternalFiles, re-read when
// the settings or the files change), and host-name lookups through a
// HostResolver that is never on the request path. An analysis only peeks at the
// resolver's cache; afterwards the names still pending are looked up in the
// background, and each answer bumps `generation` and calls onChange, so the
// documents are analysed and published again.
//
// Lookups and the external files are used only when the workspace is trusted
// and nixBuilders.lookups.enable is on, and not before the settings are known
// (so a lookup never goes to a resolver the user did not choose).
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Environment, ExternalFile, Resolution } from '../core/environment';
import { expandHome, readExternalFiles } from '../hosts/external-files';
import { HostResolver } from '../hosts/resolver';
import type { Settings } from './settings';

export interface EnvironmentInfo {
  /** 'on'; 'off' by nixBuilders.lookups.enable; 'untrusted' workspace; 'starting' before the settings are known. */
  lookups: 'on' | 'off' | 'untrusted' | 'starting';
  /** How names are resolved, for messages: "DNS server 127.0.0.1:53" or "the system resolver". */
  resolver: string;
  timeoutMs: number;
  sshConfigFiles: readonly ExternalFile[];
  knownHostsFiles: readonly ExternalFile[];
  home: string;
}

export interface EnvironmentOptions {
  /** Lookup answers or external files changed: the analysis is out of date. */
  onChange(): void;
  logError(message: string): void;
  home?: string;
  /** Poll interval of the ssh_config / known_hosts files (fs.watchFile). */
  watchIntervalMs?: number;
}

/**
 * Names waited for at once, below the resolver's queue bound (256), so that no
 * name of ours is dropped from its queue; the rest wait for the next analysis.
 */
const MAX_REQUESTED = 200;

function normalizeName(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

export class LspEnvironment {
  private gen = 0;
  private settings: Settings | undefined;
  private trustedFlag = true;
  private configKey = '';
  private sshConfigFiles: ExternalFile[] = [];
  private knownHostsFiles: ExternalFile[] = [];
  private resolver: HostResolver | undefined;
  /** Last answer per name: kept while the resolver refreshes an expired one, so warnings do not blink. */
  private readonly lastKnown = new Map<string, Resolution>();
  /** Names this front end is waiting for. */
  private readonly requested = new Set<string>();
  /** Names answered from lastKnown in the last analysis: looked up again. */
  private readonly stale = new Set<string>();
  private watched: string[] = [];
  private readonly home: string;
  private disposed = false;

  constructor(private readonly o: EnvironmentOptions) {
    this.home = o.home ?? os.homedir();
  }

  /** Changes when lookup answers arrive or the external files / settings change. */
  get generation(): number {
    return this.gen;
  }

  get ready(): boolean {
    return this.settings !== undefined;
  }

  get trusted(): boolean {
    return this.trustedFlag;
  }

  /** Lookups and the files outside the workspace may be used. */
  get external(): boolean {
    return !!this.settings && this.trustedFlag && this.settings.lookups.enable;
  }

  /** Lookups currently waited for (for tests and logs). */
  get waiting(): number {
    return this.requested.size;
  }

  /** Applies settings and trust; re-reads files and replaces the resolver when what they depend on changed. */
  configure(settings: Settings, trusted: boolean): void {
    if (this.disposed) return;
    this.settings = settings;
    this.trustedFlag = trusted;
    const key = JSON.stringify([trusted, settings.lookups.enable, settings.dnsServer, settings.lookupTimeoutMs, settings.sshConfigFiles, settings.knownHostsFiles]);
    if (key === this.configKey) return;
    this.configKey = key;
    this.resolver?.dispose();
    this.resolver = undefined;
    this.requested.clear();
    this.stale.clear();
    this.lastKnown.clear();
    if (this.external) {
      this.resolver = new HostResolver({ server: settings.dnsServer.trim() || undefined, timeoutMs: settings.lookupTimeoutMs });
    }
    this.readFiles();
    this.watch();
    this.gen++;
  }

  info(): EnvironmentInfo {
    const s = this.settings;
    const dns = s?.dnsServer.trim() ?? '';
    return {
      lookups: !s ? 'starting' : !this.trustedFlag ? 'untrusted' : s.lookups.enable ? 'on' : 'off',
      resolver: dns !== '' ? `DNS server ${dns}` : 'the system resolver',
      timeoutMs: s?.lookupTimeoutMs ?? 0,
      sshConfigFiles: this.sshConfigFiles,
      knownHostsFiles: this.knownHostsFiles,
      home: this.home,
    };
  }

  /** The core's Environment for one analysis. */
  environment(readFile: (path: string) => string | undefined): Environment {
    return {
      sshConfigFiles: this.sshConfigFiles,
      knownHostsFiles: this.knownHostsFiles,
      lookups: this.external,
      checkHostKeys: true,
      resolve: (name) => this.peek(name),
      readFile,
    };
  }

  private peek(name: string): Resolution | undefined {
    const r = this.resolver?.peek(name);
    const key = normalizeName(name);
    if (r) {
      this.lastKnown.set(key, r);
      return r;
    }
    const old = this.lastKnown.get(key);
    if (old) this.stale.add(name);
    return old;
  }

  /**
   * Looks up, in the background, the names an analysis found pending (and those
   * it answered from an expired answer). Each answer bumps the generation and
   * calls onChange. Never blocks.
   */
  lookUp(pending: Iterable<string>): void {
    const resolver = this.resolver;
    const names = new Set([...pending, ...this.stale]);
    this.stale.clear();
    if (!resolver || !this.external) return;
    for (const name of names) {
      const key = normalizeName(name);
      if (this.requested.size >= MAX_REQUESTED) break;
      if (key === '' || this.requested.has(key) || resolver.peek(name) !== undefined) continue;
      this.requested.add(key);
      resolver.prefetch([name], () => {
        if (this.resolver !== resolver) return;
        this.requested.delete(key);
        this.changed();
      });
    }
  }

  /**
   * Resolves a name now, for a probe the user asked for (bounded by
   * nixBuilders.lookupTimeoutMs). Undefined when lookups are off or the
   * workspace is untrusted: the probe then connects by name.
   */
  async resolveNow(name: string): Promise<Resolution | undefined> {
    const resolver = this.resolver;
    if (!resolver || !this.external) return undefined;
    const cached = resolver.peek(name);
    const r = cached ?? (await resolver.resolve(name));
    if (!cached && this.resolver === resolver) this.changed();
    return r;
  }

  dispose(): void {
    this.disposed = true;
    this.unwatch();
    this.resolver?.dispose();
    this.resolver = undefined;
  }

  private changed(): void {
    this.gen++;
    try {
      this.o.onChange();
    } catch (err) {
      this.o.logError(`nix-builders: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  private readFiles(): void {
    const s = this.settings;
    if (!s || !this.external) {
      this.sshConfigFiles = [];
      this.knownHostsFiles = [];
      return;
    }
    this.sshConfigFiles = readExternalFiles(s.sshConfigFiles, this.home);
    this.knownHostsFiles = readExternalFiles(s.knownHostsFiles, this.home);
  }

  /** Polls the configured files (stat every few seconds; they may not exist yet). */
  private watch(): void {
    this.unwatch();
    const s = this.settings;
    if (!s || !this.external) return;
    const paths = [...new Set([...s.sshConfigFiles, ...s.knownHostsFiles].map((p) => expandHome(p, this.home)))];
    for (const p of paths) {
      try {
        fs.watchFile(p, { persistent: false, interval: this.o.watchIntervalMs ?? 2000 }, this.onFileEvent);
        this.watched.push(p);
      } catch (err) {
        this.o.logError(`nix-builders: cannot watch ${p}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private unwatch(): void {
    for (const p of this.watched) fs.unwatchFile(p, this.onFileEvent);
    this.watched = [];
  }

  private readonly onFileEvent = (curr: fs.Stats, prev: fs.Stats): void => {
    if (this.disposed || (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino)) return;
    this.readFiles();
    this.changed();
  };
}
