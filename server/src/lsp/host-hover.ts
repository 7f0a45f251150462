// The part of a hover on a builder's hostName that tells what root's ssh will
// do with it (SPEC §1.5): alias → HostName:port (and where each value comes
// from), the address, the user and key it logs in with, and the known-hosts
// entry that covers the name it looks up, with the key's fingerprint as
// `ssh-keygen -l` prints it — or what is missing.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuilderHost, KeyEntry } from '../core/hosts';
import { unwrap } from '../core/eval/module';
import type { Builder } from '../core/model';
import type { Span } from '../core/span';
import type { SshBlock } from '../core/ssh-config';
import { fingerprintLine } from '../core/ssh-keys';
import type { Found, SshChain } from '../core/ssh-resolve';
import type { EnvironmentInfo } from './environment';

/** Where things are, as Markdown (a link to the line where possible). */
export interface Places {
  /** "[ssh.nix:3](file:///…#L3)" for a span of a configuration or ssh_config file. */
  span(span: Span): string;
  /** "[/etc/ssh/ssh_known_hosts:12](…)" for a line of an external file. */
  fileLine(file: string, line: number): string;
  /** A file name as shown (~ for the home folder). */
  file(file: string): string;
}

const ROOT_DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk'].map((k) => `/root/.ssh/${k}`);

/** Inline code that survives any value (backticks, line breaks). */
export function code(s: string): string {
  const flat = s.replace(/[\r\n]+/g, ' ');
  const run = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(run + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function blockOf(chain: SshChain, f: Found): SshBlock | undefined {
  return chain.applied.find((a) => a.block.options.includes(f.option))?.block ?? f.source.blocks.find((b) => b.options.includes(f.option));
}

function blockTitle(b: SshBlock | undefined): string {
  if (!b || b.kind === 'global') return 'before any Host line';
  const head = b.kind === 'host' ? 'Host' : 'Match';
  return `${head} ${b.patterns.map((p) => p.text).join(' ')}`;
}

/** "(Host fast, programs.ssh.extraConfig in [ssh.nix:4](…))". */
function origin(chain: SshChain, f: Found, places: Places): string {
  const where = places.span(f.option.keywordSpan);
  const source = f.source.label === 'programs.ssh.extraConfig' ? 'programs.ssh.extraConfig' : 'ssh_config';
  const yours = f.source.notRoot ? ', your own file: root does not read it' : '';
  return `(${code(blockTitle(blockOf(chain, f)))}, ${source} ${where}${yours})`;
}

function str(b: Builder, name: string): { value?: string; span?: Span; set: boolean } {
  const a = b.attrs.get(name);
  if (!a) return { set: false };
  const v = unwrap(a.value);
  if (!v || v.kind === 'null') return { set: false };
  return v.kind === 'string' ? { value: v.value, span: v.span, set: true } : { span: a.value.span, set: true };
}

function entryText(e: KeyEntry, places: Places): string {
  const where =
    e.kind === 'file' && e.line !== undefined
      ? places.fileLine(e.file, e.line)
      : e.span
        ? `${code(e.label)} ${places.span(e.span)}`
        : code(e.label);
  const mine = e.notRoot ? ' (yours, not root\'s)' : '';
  const key = e.key ? code(fingerprintLine(e.key)) : 'its key could not be read';
  const marker = e.marker === 'cert-authority' ? '@cert-authority ' : '';
  return `${marker}${where}${mine}: ${key}`;
}

function nameLine(h: BuilderHost, places: Places): string {
  const c = h.chain;
  if (c.hostNameFound) return `**Host** ${code(c.alias)} → HostName ${code(c.hostName)} ${origin(c, c.hostNameFound, places)}`;
  return `**Host** ${code(c.alias)} (no HostName for it in root's ssh_config: ssh connects to this name)`;
}

function portLine(b: Builder, h: BuilderHost, places: Places): string {
  const c = h.chain;
  if (c.portFound) return `**Port** ${c.port} ${origin(c, c.portFound, places)}`;
  const written = str(b, 'hostName').value ?? '';
  if (c.port !== 22 || /:\d+$/.test(written)) return `**Port** ${c.port} (from hostName)`;
  return '**Port** 22 (default)';
}

function addressLine(h: BuilderHost, info: EnvironmentInfo, places: Places): string {
  const a = h.address;
  const c = h.chain;
  const name = code(c.hostName);
  switch (a.kind) {
    case 'ip':
      return `**Address** ${code(a.address)} (an IP address)`;
    case 'networking.hosts':
      return `**Address** ${code(a.address)} (${code(c.hostName)} in networking.hosts)`;
    case 'pending':
      return `**Address** looking up ${name} through ${info.resolver}… (this hover does not wait for it)`;
    case 'skip':
      if (a.why === 'proxy' && c.proxy) {
        return `**Address** not resolved here: the connection goes through ${code(`${c.proxy.option.keyword === 'proxycommand' ? 'ProxyCommand' : 'ProxyJump'} ${c.proxy.value}`)} ${origin(c, c.proxy, places)}, and the jump host resolves ${name}`;
      }
      if (a.why === 'off') {
        const why =
          info.lookups === 'untrusted'
            ? 'the workspace is not trusted'
            : info.lookups === 'starting'
              ? 'the settings are not known yet'
              : 'nixBuilders.lookups.enable is off';
        return `**Address** ${name} not looked up: ${why}`;
      }
      return `**Address** not checked: part of the configuration (networking.hosts, a Match block) could not be read statically`;
    case 'resolver': {
      const r = a.resolution;
      if (r.status === 'resolved') return `**Address** ${r.addresses.map(code).join(', ')} (${name} through ${info.resolver})`;
      if (r.status === 'timeout') return `**Address** unresolved: looking up ${name} through ${info.resolver} timed out after ${r.ms} ms`;
      if (r.status === 'not-found') return `**Address** unresolved: ${info.resolver} does not know ${name} (${r.detail})`;
      return `**Address** unresolved: looking up ${name} through ${info.resolver} failed (${r.detail})`;
    }
  }
}

function userLine(b: Builder, h: BuilderHost, places: Places): string {
  const u = str(b, 'sshUser');
  if (u.set) return u.value !== undefined ? `**User** ${code(u.value)} (sshUser ${places.span(u.span as Span)})` : '**User** set by sshUser, to a value not known statically';
  if (h.chain.user) return `**User** ${code(h.chain.user.value)} ${origin(h.chain, h.chain.user, places)}`;
  return "**User** `root` (no sshUser and no ssh_config User: ssh logs in as the local user, and nix-daemon runs it as root)";
}

function keyLine(b: Builder, h: BuilderHost, places: Places): string {
  const k = str(b, 'sshKey');
  const configured = h.chain.identityFiles.map((f) => `${code(f.value)} ${origin(h.chain, f, places)}`);
  if (k.set) {
    const first = k.value !== undefined ? `${code(k.value)} (sshKey ${places.span(k.span as Span)}, passed to ssh with -i)` : 'set by sshKey, to a value not known statically';
    return `**Key** ${first}${configured.length > 0 ? `; ssh also tries ${configured.join(', ')}` : ''}`;
  }
  if (configured.length > 0) return `**Key** ${configured.join(', ')}`;
  return `**Key** root's default keys (no sshKey, no ssh_config IdentityFile): ${ROOT_DEFAULT_KEYS.map(code).join(', ')}`;
}

function hostKeyLines(h: BuilderHost, info: EnvironmentInfo, places: Places): string[] {
  const c = h.chain;
  const k = h.keys;
  const lookedUp = `**Host key** looked up as ${code(c.lookupName)}${c.hostKeyAlias ? ` (HostKeyAlias ${origin(c, c.hostKeyAlias, places)})` : ''}`;
  const read =
    info.lookups === 'on'
      ? info.knownHostsFiles.length > 0
        ? `known_hosts files read: ${info.knownHostsFiles.map((f) => places.file(f.path)).join(', ')}`
        : 'no known_hosts file read (none configured or none exists)'
      : `known_hosts files not read (${info.lookups === 'untrusted' ? 'untrusted workspace' : info.lookups === 'starting' ? 'settings not known yet' : 'nixBuilders.lookups.enable is off'})`;
  switch (k.kind) {
    case 'unknown':
      return [`${lookedUp}: not checked, part of the configuration could not be read statically`];
    case 'covered': {
      const via =
        k.via === 'bare-host-fallback'
          ? ` (no entry for ${code(`[${c.hostName.toLowerCase()}]:${c.port}`)}: ssh falls back to the bare host name)`
          : k.via === 'cert-authority'
            ? ' (a @cert-authority entry: the builder must present a host certificate signed by it)'
            : k.via === 'publicHostKey'
              ? ' (publicHostKey: Nix writes it to a known_hosts file of its own)'
              : '';
      return [`${lookedUp}, covered by${via}:`, ...k.entries.map((e) => `  - ${entryText(e, places)}`)];
    }
    case 'missing': {
      const out = [`${lookedUp}: **missing**, no programs.ssh.knownHosts entry, publicHostKey or known_hosts line names it (${read})`];
      for (const e of k.elsewhere) out.push(`  - ${entryText(e, places)}: root's ssh (nix-daemon) does not read it`);
      return out;
    }
    case 'mismatch': {
      const out = [`${lookedUp}: **mismatched**, a key is known only under another name:`];
      for (const { entry, name } of k.entries) out.push(`  - under ${code(name)}: ${entryText(entry, places)}`);
      if (k.publicHostKey) out.push(`  - publicHostKey: Nix writes it under ${code(c.alias)}${c.hostKeyAlias ? '' : ', which ssh does not look up without HostKeyAlias'}`);
      return out;
    }
  }
}

/** The Markdown section for a builder's hostName hover; undefined when the name cannot be followed. */
export function hostSection(b: Builder, h: BuilderHost | undefined, info: EnvironmentInfo, places: Places): string | undefined {
  if (!h) return undefined;
  const lines = [
    `- ${nameLine(h, places)}`,
    `- ${portLine(b, h, places)}`,
    `- ${addressLine(h, info, places)}`,
    `- ${userLine(b, h, places)}`,
    `- ${keyLine(b, h, places)}`,
    ...hostKeyLines(h, info, places).map((l, i) => (i === 0 ? `- ${l}` : l)),
  ];
  if (h.chain.uncertain) lines.push('- A Match block this reader cannot evaluate (exec, localnetwork, …) may change all of this.');
  if (h.yoursChain) lines.push(`- Your own ssh_config maps it to ${code(h.yoursChain.hostName)}, but root's ssh (nix-daemon) does not read that file.`);
  return [`**How root's ssh reaches it** (nix-daemon runs ssh as root)`, ...lines].join('\n');
}

/** Places for hovers: file:// links with a #L line fragment, names shown relative to the workspace folders. */
export function makePlaces(opts: {
  /** Line (0-based) of an offset in a file the analysis read, if known. */
  lineOf(file: string, offset: number): number | undefined;
  folders: readonly string[];
  home: string;
  toFsPath(file: string): string | undefined;
}): Places {
  const shown = (fsPath: string): string => {
    const folder = opts.folders.filter((f) => fsPath.startsWith(`${f}${path.sep}`)).sort((a, b) => b.length - a.length)[0];
    if (folder) return path.relative(folder, fsPath);
    return fsPath.startsWith(`${opts.home}${path.sep}`) ? `~${fsPath.slice(opts.home.length)}` : fsPath;
  };
  const link = (label: string, fsPath: string | undefined, line: number | undefined): string => {
    if (!fsPath) return label;
    const href = `${pathToFileURL(fsPath).href}${line !== undefined ? `#L${line}` : ''}`;
    return `[${label.replace(/[[\]\\]/g, '\\$&')}](<${href.replace(/[<>]/g, encodeURIComponent)}>)`;
  };
  return {
    span(span) {
      const fsPath = opts.toFsPath(span.file);
      const line0 = opts.lineOf(span.file, span.start);
      const line = line0 === undefined ? undefined : line0 + 1;
      const name = fsPath ? shown(fsPath) : span.file;
      return link(line === undefined ? name : `${name}:${line}`, fsPath, line);
    },
    fileLine(file, line) {
      const fsPath = opts.toFsPath(file);
      return link(`${fsPath ? shown(fsPath) : file}:${line}`, fsPath, line);
    },
    file(file) {
      const fsPath = opts.toFsPath(file);
      return fsPath ? shown(fsPath) : file;
    },
  };
}
