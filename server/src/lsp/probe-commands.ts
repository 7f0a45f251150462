// Probing builders from the language server: "Fetch host key", "Fill systems
// and features" and "Probe all builders" (protocol.ts has the names and types
// the client sees).
//
// Security: a probe starts only when the client executes one of the commands
// (an explicit user action; listing code actions never probes), never in an
// untrusted workspace (revoking trust aborts running probes), never through a
// ProxyJump / ProxyCommand or an ssh_config this reader cannot follow. Fetch
// host key edits only after the user confirmed the fingerprint through
// `nixBuilders/confirmHostKey`; a key that differs from the configured one is
// reported (host-key-changed), never replaced. Fill logs in only after the
// host key matched the configured one.
//
// Where ssh would connect: the address from the configuration (an IP literal,
// networking.hosts) or the configured resolver, the port from hostName / Port,
// the user from sshUser, else ssh_config User, else root (nix-daemon runs ssh
// as root), the key from sshKey, else root's IdentityFile / default keys when
// readable, plus the editing user's ssh-agent (with a note that the nix-daemon
// does not have it).
//
// Bounds: the probe timeouts and the concurrency of Probe all come from the
// settings; progress is reported as LSP work done progress, and cancelling it
// (or the request) aborts the probes at once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type ApplyWorkspaceEditResult,
  type CancellationToken,
  type CodeAction,
  CodeActionKind,
  MessageType,
  type Range,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import type { Analysis } from '../core/analyze';
import type { Diagnostic } from '../core/diagnostic';
import { unwrap } from '../core/eval/module';
import type { StringValue } from '../core/eval/value';
import { namesFor } from '../core/host-key-fixes';
import type { BuilderHost } from '../core/hosts';
import type { Builder, Model } from '../core/model';
import { type FetchedKey, fetchedKeyFixes, fillSystemsAndFeatures, type RemoteReport } from '../core/probe-edits';
import type { LineIndex, Span } from '../core/span';
import { fingerprintLine, parsePublicKeyLine, type PublicKey } from '../core/ssh-keys';
import { fetchHostKeys, type HostKeyInfo, probeBuilder, type ProbeResult, type ProbeTarget, type ProbeTimeouts } from '../probe/probe';
import { type FileResolver, toLspDiagnostic, toRange, toWorkspaceEdit } from './convert';
import type { OpenDocuments } from './documents';
import type { LspEnvironment } from './environment';
import {
  type BuilderRef,
  type BuilderReport,
  Commands,
  CONFIRM_HOST_KEY_REQUEST,
  type ConfirmHostKeyParams,
  type FetchHostKeyArgs,
  type FetchHostKeyResult,
  type FillResult,
  type HostKeyStatus,
  type HostKeyTarget,
  type ProbeAllArgs,
  type ProbeAllResult,
  type ProbeErrorKindName,
  type RefusedReason,
} from './protocol';
import type { SeenHostKeys } from './seen-host-keys';
import type { Settings } from './settings';

/** Work done progress as vscode-languageserver's reporters offer it. */
export interface Progress {
  begin(title: string, percentage?: number, message?: string, cancellable?: boolean): void;
  report(percentage: number, message?: string): void;
  done(): void;
  /** Cancelled when the client cancels a progress the server created. */
  readonly token?: CancellationToken;
}

/** What the commands need from the connection (server.ts wires it). */
export interface ProbeIo {
  /** `nixBuilders/confirmHostKey`; resolves to the client's answer. */
  confirm(params: ConfirmHostKeyParams, token: CancellationToken): Promise<unknown>;
  applyEdit(label: string, edit: WorkspaceEdit): Promise<ApplyWorkspaceEditResult>;
  show(type: MessageType, message: string): void;
  /** window/showMessageRequest: the title of the action chosen, if any. */
  ask(type: MessageType, message: string, actions: string[]): Promise<string | undefined>;
  log(message: string): void;
  logError(message: string): void;
}

export interface ProbeCommandsOptions {
  io: ProbeIo;
  docs: OpenDocuments;
  env: LspEnvironment;
  analysis: { current(): { analysis: Analysis | undefined }; readonly resolve: FileResolver };
  seen: SeenHostKeys;
  settings(): Settings;
  trusted(): boolean;
  /** The client declared initializationOptions.confirmHostKey. */
  canConfirm(): boolean;
  /** Something the diagnostics depend on changed (a key was remembered). */
  onChange(): void;
}

const UNTRUSTED_MESSAGE =
  'Nix Builders: probing builders over SSH is turned off in an untrusted workspace (Restricted Mode). Trust the workspace to fetch host keys or read systems and features from a builder.';

// ---------------------------------------------------------------------------
// Builders and what ssh would do for them.

function hostValue(b: Builder): StringValue | undefined {
  const v = b.attrs.get('hostName')?.value;
  const u = v && unwrap(v);
  return u?.kind === 'string' ? u : undefined;
}

function contains(span: Span, file: string, offset: number): boolean {
  return span.file === file && span.start <= offset && offset <= span.end;
}

/** The core's name for a document: the open document's, else the URI itself (indexed files). */
function corePath(docs: OpenDocuments, uri: string): string {
  return docs.get(uri)?.path ?? uri;
}

function isRef(x: unknown): x is BuilderRef {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return typeof r.uri === 'string' && typeof r.offset === 'number' && Number.isFinite(r.offset) && (r.hostName === undefined || typeof r.hostName === 'string');
}

/** The builder a command's arguments name, in the analysis as it is now. */
export function findBuilder(model: Model, file: string, ref: BuilderRef): Builder | undefined {
  const inFile = model.builders.filter((b) => b.file === file);
  const matches = (b: Builder) => ref.hostName === undefined || hostValue(b)?.value === ref.hostName;
  const byHost = inFile.find((b) => {
    const v = hostValue(b);
    return v !== undefined && contains(v.span, file, ref.offset);
  });
  if (byHost && matches(byHost)) return byHost;
  const bySpan = inFile.filter((b) => contains(b.span, file, ref.offset)).sort((a, b) => a.span.end - a.span.start - (b.span.end - b.span.start))[0];
  if (bySpan && matches(bySpan)) return bySpan;
  if (ref.hostName === undefined) return undefined;
  // The text moved since the action was listed: the builder with that hostName closest to the offset.
  const same = inFile.filter((b) => hostValue(b)?.value === ref.hostName);
  return same.sort((a, b) => Math.abs(a.span.start - ref.offset) - Math.abs(b.span.start - ref.offset))[0];
}

type KeyStatus = 'configured' | 'none' | 'unreadable' | 'cert-authority';

interface Plan {
  builder: Builder;
  host: BuilderHost;
  /** hostName as written. */
  written: string;
  address: string;
  port: number;
  user: string;
  keyStatus: KeyStatus;
  /** The configured keys for the looked-up name (keyStatus 'configured'). */
  expected: PublicKey[];
  privateKey?: string;
  useAgent: boolean;
  notes: string[];
}

type Planned = { plan: Plan } | { problem: string; kind: ProbeErrorKindName; host?: BuilderHost; address?: string; port?: number };

function configuredKeys(h: BuilderHost): { status: KeyStatus; keys: PublicKey[] } {
  const k = h.keys;
  if (k.kind === 'missing' || k.kind === 'mismatch') return { status: 'none', keys: [] };
  if (k.kind === 'unknown') return { status: 'unreadable', keys: [] };
  if (k.via === 'cert-authority') return { status: 'cert-authority', keys: [] };
  const keys = k.entries.filter((e) => e.marker !== 'revoked' && e.key).map((e) => e.key as PublicKey);
  return keys.length > 0 ? { status: 'configured', keys } : { status: 'unreadable', keys: [] };
}

function readable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.R_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

const ROOT_DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk'];

// ---------------------------------------------------------------------------

export class ProbeCommands {
  private readonly runningCommands = new Set<AbortController>();
  /** What builders reported, by looked-up name: Fill edits a shared binding only when all its builders agree. */
  private readonly reports = new Map<string, RemoteReport>();

  constructor(private readonly o: ProbeCommandsOptions) {}

  /** Commands probing now (for logs and tests). */
  get running(): number {
    return this.runningCommands.size;
  }

  /** Trust changed: revoking it aborts every running probe. */
  setTrusted(trusted: boolean): void {
    if (trusted) return;
    for (const c of this.runningCommands) c.abort();
  }

  dispose(): void {
    for (const c of this.runningCommands) c.abort();
  }

  private timeouts(): ProbeTimeouts {
    const p = this.o.settings().probe;
    return { connectMs: p.connectTimeoutMs, handshakeMs: p.handshakeTimeoutMs, commandMs: p.commandTimeoutMs };
  }

  /** Runs a command; `progress` is the reporter for the request (a null one when the client gave no token). */
  async execute(command: string, args: unknown[], token: CancellationToken, progress: () => Promise<Progress>): Promise<unknown> {
    switch (command) {
      case Commands.fetchHostKey:
        return this.fetchHostKey(args[0], token, progress);
      case Commands.fillSystemsAndFeatures:
        return this.fill(args[0], token, progress);
      case Commands.probeAllBuilders:
        return this.probeAll(args[0], token, progress);
      default:
        return null;
    }
  }

  /** An AbortSignal that fires on request cancellation, progress cancellation, or trust revoked. */
  private abortable(token: CancellationToken): { controller: AbortController; follow(t?: CancellationToken): void; release(): void } {
    const controller = new AbortController();
    const subs: { dispose(): void }[] = [];
    const follow = (t?: CancellationToken) => {
      if (!t) return;
      if (t.isCancellationRequested) controller.abort();
      else subs.push(t.onCancellationRequested(() => controller.abort()));
    };
    follow(token);
    this.runningCommands.add(controller);
    return {
      controller,
      follow,
      release: () => {
        this.runningCommands.delete(controller);
        for (const s of subs) s.dispose();
      },
    };
  }

  private current(): Analysis | undefined {
    return this.o.analysis.current().analysis;
  }

  private refused(reason: RefusedReason, message: string, type: MessageType = MessageType.Warning): { applied: false; reason: RefusedReason; message: string } {
    this.o.io.show(type, message);
    return { applied: false, reason, message };
  }

  /** Where and as whom ssh would connect for a builder; resolves the name when needed. */
  private async plan(a: Analysis, b: Builder): Promise<Planned> {
    const hv = hostValue(b);
    const h = a.hosts.forBuilder(b);
    if (!hv || !h) {
      return { kind: 'not-probed', problem: 'its hostName is not known statically (or is not a plain host name), so it cannot be probed from here' };
    }
    const c = h.chain;
    const port = c.port;
    if (c.proxy) {
      return {
        kind: 'not-probed',
        host: h,
        port,
        problem: `the connection goes through ${c.proxy.option.keyword === 'proxycommand' ? 'ProxyCommand' : 'ProxyJump'} ${c.proxy.value}; the probe connects only directly`,
      };
    }
    if (c.uncertain) {
      return { kind: 'not-probed', host: h, port, problem: 'a Match block this reader cannot evaluate may change where ssh connects, so it is not probed' };
    }
    let address = c.hostName.replace(/\.$/, '');
    const ac = h.address;
    if (ac.kind === 'ip' || ac.kind === 'networking.hosts') address = ac.address;
    else if (ac.kind === 'resolver' || ac.kind === 'pending' || (ac.kind === 'skip' && ac.why === 'unknown')) {
      const r = ac.kind === 'resolver' && ac.resolution.status === 'resolved' ? ac.resolution : await this.o.env.resolveNow(address);
      if (r) {
        if (r.status !== 'resolved' || r.addresses.length === 0) {
          const why = r.status === 'timeout' ? `timed out after ${r.ms} ms` : r.status === 'resolved' ? 'no address' : r.detail;
          return { kind: 'no-route', host: h, port, address, problem: `${address} does not resolve (${why})` };
        }
        address = r.addresses[0] as string;
      }
    }
    // The login: user and key, as the nix-daemon would use them.
    const notes: string[] = [];
    const userAttr = b.attrs.get('sshUser');
    const userValue = userAttr && unwrap(userAttr.value);
    let user: string;
    if (userValue && userValue.kind === 'string') user = userValue.value;
    else if (userValue && userValue.kind !== 'null') return { kind: 'not-probed', host: h, port, address, problem: 'its sshUser is not known statically' };
    else user = c.user?.value ?? 'root';
    const keyAttr = b.attrs.get('sshKey');
    const keyValue = keyAttr && unwrap(keyAttr.value);
    let privateKey: string | undefined;
    let useAgent = false;
    if (keyValue && (keyValue.kind === 'string' || keyValue.kind === 'path')) {
      if (path.isAbsolute(keyValue.value)) privateKey = keyValue.value;
      else {
        useAgent = true;
        notes.push(`sshKey ${keyValue.value} is not an absolute path, which the nix-daemon cannot use either; logging in with your ssh-agent instead`);
      }
    } else if (keyValue && keyValue.kind !== 'null') {
      return { kind: 'not-probed', host: h, port, address, problem: 'its sshKey is not known statically' };
    } else {
      // No sshKey: root's IdentityFile or default keys (when this process can read them), and the agent.
      useAgent = true;
      const rootHome = '/root';
      const candidates = [
        ...c.identityFiles.map((f) => (f.value === '~' ? rootHome : f.value.startsWith('~/') ? path.join(rootHome, f.value.slice(2)) : f.value)),
        ...ROOT_DEFAULT_KEYS.map((k) => path.join(rootHome, '.ssh', k)),
      ];
      privateKey = candidates.find((p) => path.isAbsolute(p) && readable(p));
    }
    const { status, keys } = configuredKeys(h);
    const written = hv.value;
    return { plan: { builder: b, host: h, written, address, port, user, keyStatus: status, expected: keys, privateKey, useAgent, notes } };
  }

  private remember(plan: Plan, r: ProbeResult): HostKeyInfo | undefined {
    const key = r.hostKeys[0];
    if (!key) return undefined;
    if (this.o.seen.remember(plan.host.chain.lookupName, key)) this.o.onChange();
    return key;
  }

  private where(plan: Plan): string {
    const hp = plan.address.includes(':') ? `[${plan.address}]:${plan.port}` : `${plan.address}:${plan.port}`;
    return plan.written === plan.address || plan.written === `${plan.address}:${plan.port}` ? hp : `${plan.written} (${hp})`;
  }

  // -------------------------------------------------------------- fetch host key

  private async fetchHostKey(arg: unknown, token: CancellationToken, progress: () => Promise<Progress>): Promise<FetchHostKeyResult> {
    if (!this.o.trusted()) return this.refused('untrusted', UNTRUSTED_MESSAGE);
    if (!isRef(arg)) return this.refused('no-builder', 'Fetch host key: the command needs a builder ({ uri, offset }).', MessageType.Error);
    const args = arg as FetchHostKeyArgs;
    const target: HostKeyTarget = args.target === 'publicHostKey' ? 'publicHostKey' : 'knownHosts';
    const a = this.current();
    const file = corePath(this.o.docs, args.uri);
    const b = a && findBuilder(a.model, file, args);
    if (!a || !b) return this.refused('no-builder', 'Fetch host key: the builder is no longer there (the document changed).');
    const planned = await this.plan(a, b);
    if ('problem' in planned) return this.refused('not-probeable', `Fetch host key: ${hostValue(b)?.value ?? 'this builder'} is not probed: ${planned.problem}.`);
    const plan = planned.plan;
    const compare = plan.keyStatus === 'configured';
    const abort = this.abortable(token);
    let r: ProbeResult;
    const p = await progress().catch(() => undefined);
    try {
      abort.follow(p?.token);
      p?.begin(`Fetching the host key of ${plan.written}`, undefined, `connecting to ${this.where(plan)}`, true);
      r = await fetchHostKeys(
        { host: plan.address, port: plan.port, ...(compare ? { expectedKeys: plan.expected } : {}) },
        { timeouts: this.timeouts(), signal: abort.controller.signal },
      );
    } finally {
      p?.done();
      abort.release();
    }
    const key = this.remember(plan, r);
    const lookupName = plan.host.chain.lookupName;
    if (r.error?.kind === 'cancelled') return { applied: false, reason: 'cancelled', message: r.error.message };
    if (r.error?.kind === 'host-key-mismatch' && key) {
      return {
        ...this.refused(
          'host-key-changed',
          `${plan.written} (${this.where(plan)}) now shows the ${key.type} host key ${key.fingerprint}, which is not the configured key for "${lookupName}" (${plan.expected.map((k) => `${k.type} ${k.fingerprint}`).join(', ')}). Nothing was changed: check the key on the builder's console before replacing the configured one (see the host-key-changed diagnostic).`,
          MessageType.Error,
        ),
        hostKey: keyOf(key),
      };
    }
    if (r.error || !key) {
      return this.refused('probe-failed', `Fetch host key: ${r.error?.message ?? `${this.where(plan)} showed no host key`}.`, MessageType.Error);
    }
    if (compare) {
      return { ...this.refused('host-key-matches', `The host key of ${plan.written} (${key.type} ${key.fingerprint}) matches the configured one for "${lookupName}".`, MessageType.Info), hostKey: keyOf(key) };
    }
    if (plan.keyStatus !== 'none') {
      const why = plan.keyStatus === 'cert-authority' ? 'is covered by a @cert-authority entry (host certificates are not checked here)' : 'could not be read statically';
      return {
        ...this.refused('no-edit', `${plan.written} (${this.where(plan)}) shows the ${key.type} host key ${key.fingerprint}; the configured key for "${lookupName}" ${why}, so nothing was changed.`, MessageType.Info),
        hostKey: keyOf(key),
      };
    }

    // Trust on first use: the user decides, with the fingerprint in front of them.
    const line = `${key.type} ${key.key}`;
    const fix = this.keyFix(a, b, key, target);
    if (!fix) return { ...this.refused('no-edit', `Fetch host key: no place to put the key of ${plan.written} as ${target === 'knownHosts' ? 'a programs.ssh.knownHosts entry' : 'publicHostKey'} was found.`), hostKey: keyOf(key) };
    const parsed = parsePublicKeyLine(`${line} ${lookupName}`);
    const params: ConfirmHostKeyParams = {
      host: plan.written,
      address: plan.address,
      port: plan.port,
      lookupName,
      keyType: key.type,
      fingerprint: key.fingerprint,
      fingerprintLine: 'key' in parsed ? fingerprintLine(parsed.key) : `${key.fingerprint} (${key.type})`,
      publicKey: line,
      target,
      ...(target === 'knownHosts' ? { hostNames: namesFor(plan.host.chain) } : {}),
      editTitle: fix.title,
    };
    if (!this.o.canConfirm()) {
      return {
        ...this.refused(
          'no-confirmation-support',
          `Fetch host key: ${plan.written} (${this.where(plan)}) shows the ${key.type} key ${key.fingerprint}, but this editor cannot ask you to confirm it (it does not implement nixBuilders/confirmHostKey), so nothing was added. Check the fingerprint on the builder (ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub) and add the key by hand.`,
        ),
        hostKey: keyOf(key),
      };
    }
    let answer: unknown;
    try {
      answer = await this.o.io.confirm(params, token);
    } catch (err) {
      this.o.io.logError(`nix-builders: ${CONFIRM_HOST_KEY_REQUEST} failed: ${err instanceof Error ? err.message : String(err)}`);
      answer = false;
    }
    if (token.isCancellationRequested) return { applied: false, reason: 'cancelled', message: 'Fetch host key was cancelled.', hostKey: keyOf(key) };
    if (answer !== true) {
      return { ...this.refused('declined', `The host key ${key.fingerprint} of ${plan.written} was not trusted: nothing was added.`, MessageType.Info), hostKey: keyOf(key) };
    }
    // The documents may have changed while the user decided: the edit is made against them as they are now.
    const a2 = this.current();
    const b2 = a2 && findBuilder(a2.model, corePath(this.o.docs, args.uri), args);
    const h2 = b2 && a2?.hosts.forBuilder(b2);
    if (!a2 || !b2 || !h2 || h2.chain.lookupName !== lookupName) {
      return { ...this.refused('no-builder', 'Fetch host key: the builder changed while you decided; nothing was added.'), hostKey: keyOf(key) };
    }
    const fix2 = this.keyFix(a2, b2, key, target);
    const edit = fix2 && toWorkspaceEdit(fix2, this.o.analysis.resolve);
    if (!fix2 || !edit) return { ...this.refused('no-edit', 'Fetch host key: the edit could not be made (the file is not open or indexed).'), hostKey: keyOf(key) };
    return { ...(await this.apply(fix2.title, edit, `${fix2.title} (${key.type} ${key.fingerprint}).`)), hostKey: keyOf(key) };
  }

  private keyFix(a: Analysis, b: Builder, key: HostKeyInfo, target: HostKeyTarget) {
    const fixes = fetchedKeyFixes(a.model, a.hosts, b, { type: key.type, key: key.key, fingerprint: key.fingerprint });
    return target === 'knownHosts' ? fixes.find((f) => f.preferred) : fixes.find((f) => !f.preferred);
  }

  private async apply(label: string, edit: WorkspaceEdit, done: string): Promise<{ applied: boolean; reason?: RefusedReason; message: string }> {
    let result: ApplyWorkspaceEditResult;
    try {
      result = await this.o.io.applyEdit(label, edit);
    } catch (err) {
      return this.refused('edit-rejected', `${label}: the editor did not apply the edit (${err instanceof Error ? err.message : String(err)}).`, MessageType.Error);
    }
    if (!result.applied) return this.refused('edit-rejected', `${label}: the editor did not apply the edit${result.failureReason ? ` (${result.failureReason})` : ''}.`, MessageType.Error);
    this.o.io.show(MessageType.Info, done);
    return { applied: true, message: done };
  }

  // -------------------------------------------------------------- fill systems and features

  private async fill(arg: unknown, token: CancellationToken, progress: () => Promise<Progress>): Promise<FillResult> {
    if (!this.o.trusted()) return this.refused('untrusted', UNTRUSTED_MESSAGE);
    if (!isRef(arg)) return this.refused('no-builder', 'Fill systems and features: the command needs a builder ({ uri, offset }).', MessageType.Error);
    const a = this.current();
    const b = a && findBuilder(a.model, corePath(this.o.docs, arg.uri), arg);
    if (!a || !b) return this.refused('no-builder', 'Fill systems and features: the builder is no longer there (the document changed).');
    if (b.source !== 'nix') return this.refused('no-edit', 'Fill systems and features: this builder is not written as an attribute set in a .nix file.');
    const planned = await this.plan(a, b);
    const name = hostValue(b)?.value ?? 'this builder';
    if ('problem' in planned) return this.refused('not-probeable', `Fill systems and features: ${name} is not probed: ${planned.problem}.`);
    const plan = planned.plan;
    const lookupName = plan.host.chain.lookupName;
    if (plan.keyStatus === 'none') {
      const message = `Fill systems and features: no host key is configured for "${lookupName}", the name root's ssh looks up for ${name}, so the probe does not log in (it could not tell the builder from an impostor). Fetch its host key first.`;
      this.offerFetch(message, arg);
      return { applied: false, reason: 'host-key-unknown', message };
    }
    if (plan.keyStatus !== 'configured') {
      const why = plan.keyStatus === 'cert-authority' ? 'is a @cert-authority entry (host certificates are not checked here)' : 'could not be read statically';
      return this.refused('host-key-unknown', `Fill systems and features: the configured host key for "${lookupName}" ${why}, so the probe does not log in.`);
    }
    const abort = this.abortable(token);
    let r: ProbeResult;
    const p = await progress().catch(() => undefined);
    try {
      abort.follow(p?.token);
      p?.begin(`Reading systems and features of ${name}`, undefined, `logging in as ${plan.user} on ${this.where(plan)}`, true);
      r = await probeBuilder(this.target(plan), { timeouts: this.timeouts(), signal: abort.controller.signal });
    } finally {
      p?.done();
      abort.release();
    }
    const key = this.remember(plan, r);
    if (r.error?.kind === 'cancelled') return { applied: false, reason: 'cancelled', message: r.error.message };
    if (r.error?.kind === 'host-key-mismatch') {
      return this.refused(
        'host-key-changed',
        `Fill systems and features: ${name} (${this.where(plan)}) shows ${key ? `the ${key.type} host key ${key.fingerprint}` : 'a host key'}, which is not the configured key for "${lookupName}". Not logging in; see the host-key-changed diagnostic.`,
        MessageType.Error,
      );
    }
    const nix = r.nix;
    if (r.error || !nix) return this.refused('probe-failed', `Fill systems and features: ${r.error?.message ?? 'the builder reported nothing'}.`, MessageType.Error);
    const systems = [...new Set([...(nix.system ? [nix.system] : []), ...nix.extraPlatforms])];
    const report: RemoteReport = { systems, features: [...nix.systemFeatures] };
    if (systems.length === 0) return this.refused('probe-failed', `Fill systems and features: Nix ${nix.version} on ${name} did not report its system.`, MessageType.Error);
    this.rememberReport(lookupName, report);
    const notes = [...plan.notes, ...nix.notes];

    const a2 = this.current();
    const b2 = a2 && findBuilder(a2.model, corePath(this.o.docs, arg.uri), arg);
    if (!a2 || !b2) return this.refused('no-builder', 'Fill systems and features: the builder changed during the probe; nothing was edited.');
    const result = fillSystemsAndFeatures(a2.model, b2, report, this.othersFor(a2));
    notes.unshift(...result.notes);
    const base = { systems, features: report.features, notes };
    const text = a2.model.texts.get(b2.file);
    const fix = result.fix;
    if (!fix || (text !== undefined && fix.edits.every((e) => e.span.file === b2.file && text.slice(e.span.start, e.span.end) === e.newText))) {
      const message = fix
        ? `${name} already lists what it reports (${systems.join(', ')}; features: ${report.features.join(', ') || 'none'}).`
        : `Fill systems and features: nothing to edit. ${result.notes.join(' ')}`;
      this.o.io.show(MessageType.Info, [message, ...nix.notes].join(' '));
      return { applied: false, reason: 'no-edit', message, ...base };
    }
    const edit = toWorkspaceEdit(fix, this.o.analysis.resolve);
    if (!edit) return { ...this.refused('no-edit', 'Fill systems and features: the edit could not be made (the file is not open or indexed).'), ...base };
    const trust = nix.trusted === undefined ? '' : nix.trusted ? ` ${plan.user} is a trusted user there.` : '';
    const done = `Filled from ${name} (Nix ${nix.version}): systems ${systems.join(', ')}; features ${report.features.join(', ') || 'none'}.${trust}${notes.length > 0 ? ` ${notes.join('. ')}.` : ''}`;
    return { ...(await this.apply(fix.title, edit, done)), ...base };
  }

  private rememberReport(lookupName: string, report: RemoteReport): void {
    this.reports.delete(lookupName);
    this.reports.set(lookupName, report);
    if (this.reports.size > 4096) this.reports.delete(this.reports.keys().next().value as string);
  }

  /** What the other builders reported (from earlier probes), for shared bindings. */
  private othersFor(a: Analysis): Map<Builder, RemoteReport> {
    const out = new Map<Builder, RemoteReport>();
    for (const b of a.model.builders) {
      const h = a.hosts.forBuilder(b);
      const r = h && this.reports.get(h.chain.lookupName);
      if (r) out.set(b, r);
    }
    return out;
  }

  /** After a refusal for an unknown host key: offers Fetch host key (not awaited: the command answers at once). */
  private offerFetch(message: string, ref: BuilderRef): void {
    const action = 'Fetch host key';
    void this.o.io
      .ask(MessageType.Warning, message, [action])
      .then((choice) => {
        if (choice !== action) return;
        return this.fetchHostKey({ uri: ref.uri, offset: ref.offset, hostName: ref.hostName }, NEVER, () => Promise.resolve(NULL_PROGRESS));
      })
      .catch((err: unknown) => this.o.io.logError(`nix-builders: ${err instanceof Error ? err.message : String(err)}`));
  }

  private target(plan: Plan): ProbeTarget {
    return {
      host: plan.address,
      port: plan.port,
      user: plan.user,
      ...(plan.privateKey ? { privateKey: { path: plan.privateKey } } : {}),
      useAgent: plan.useAgent,
      expectedKeys: plan.expected,
    };
  }

  // -------------------------------------------------------------- probe all builders

  private async probeAll(arg: unknown, token: CancellationToken, progress: () => Promise<Progress>): Promise<ProbeAllResult> {
    if (!this.o.trusted()) {
      this.o.io.show(MessageType.Warning, UNTRUSTED_MESSAGE);
      return [];
    }
    const a = this.current();
    if (!a) return [];
    const uris = typeof arg === 'object' && arg !== null && Array.isArray((arg as ProbeAllArgs).uris) ? ((arg as ProbeAllArgs).uris as unknown[]) : undefined;
    const files = uris && new Set(uris.filter((u): u is string => typeof u === 'string').map((u) => corePath(this.o.docs, u)));
    const builders = a.model.builders.filter((b) => !files || files.has(b.file));
    const abort = this.abortable(token);
    const p = await progress().catch(() => undefined);
    const total = builders.length;
    try {
      abort.follow(p?.token);
      p?.begin(`Probing ${total} builder${total === 1 ? '' : 's'}`, 0, undefined, true);
      const plans = await Promise.all(builders.map((b) => this.plan(a, b)));
      // Builders that ssh reaches the same way share one probe.
      const jobs: { key: string; run: () => Promise<ProbeResult> }[] = [];
      const keyOfPlan = (pl: Plan) =>
        JSON.stringify([pl.address, pl.port, pl.user, pl.privateKey ?? '', pl.useAgent, pl.keyStatus, pl.expected.map((k) => k.fingerprint).sort()]);
      for (const pl of plans) {
        if (!('plan' in pl)) continue;
        const key = keyOfPlan(pl.plan);
        if (jobs.some((j) => j.key === key)) continue;
        const plan = pl.plan;
        jobs.push({
          key,
          run: () =>
            plan.keyStatus === 'configured'
              ? probeBuilder(this.target(plan), { timeouts: this.timeouts(), signal: abort.controller.signal })
              : fetchHostKeys({ host: plan.address, port: plan.port }, { timeouts: this.timeouts(), signal: abort.controller.signal }),
        });
      }
      const concurrency = Math.max(1, this.o.settings().probe.concurrency);
      let next = 0;
      const results = new Map<string, ProbeResult>();
      const worker = async () => {
        for (;;) {
          const job = jobs[next++];
          if (!job) return;
          let r: ProbeResult;
          try {
            r = await job.run();
          } catch (err) {
            r = { host: '', port: 0, hostKeys: [], error: { kind: 'other', message: err instanceof Error ? err.message : String(err) } };
          }
          results.set(job.key, r);
          p?.report((100 * results.size) / Math.max(1, jobs.length), `${results.size}/${jobs.length}: ${r.host}:${r.port} ${r.error ? r.error.kind : 'ok'}`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
      const reports = builders.map((b, i) => {
        const pl = plans[i] as Planned;
        const r = 'plan' in pl ? results.get(keyOfPlan(pl.plan)) : undefined;
        return this.report(b, pl, r);
      });
      const reachable = reports.filter((x) => x.reachable).length;
      this.o.io.log(`nix-builders: probed ${total} builders: ${reachable} reachable, ${total - reachable} not.`);
      return reports;
    } finally {
      p?.done();
      abort.release();
    }
  }

  private report(b: Builder, pl: Planned, r: ProbeResult | undefined): BuilderReport {
    const hv = hostValue(b);
    const span = hv && hv.span.file === b.file ? hv.span : b.span;
    const target = this.o.analysis.resolve(span.file);
    const range = target ? toRange(target.lines, span) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const host = hv?.value ?? '';
    const out: BuilderReport = { host, uri: target?.uri ?? b.file, range, reachable: false, hostKeyStatus: 'not-checked' };
    if (!('plan' in pl)) {
      const h = pl.host;
      if (h && h.chain.hostName !== h.chain.alias) out.hostName = h.chain.hostName;
      if (pl.address) out.address = pl.address;
      if (pl.port) out.port = pl.port;
      out.error = { kind: pl.kind, message: pl.problem };
      return out;
    }
    const plan = pl.plan;
    if (plan.host.chain.hostName !== plan.host.chain.alias) out.hostName = plan.host.chain.hostName;
    out.address = plan.address;
    out.port = plan.port;
    out.user = plan.user;
    if (!r) {
      out.error = { kind: 'cancelled', message: `the probe of ${this.where(plan)} was cancelled` };
      return out;
    }
    const key = this.remember(plan, r);
    if (r.rttMs !== undefined) out.rttMs = r.rttMs;
    out.reachable = key !== undefined;
    if (key) out.hostKey = keyOf(key);
    let status: HostKeyStatus = 'not-checked';
    if (key) {
      if (plan.keyStatus === 'configured') status = r.error?.kind === 'host-key-mismatch' ? 'changed' : 'matches';
      else if (plan.keyStatus === 'none') status = 'unknown';
    }
    out.hostKeyStatus = status;
    if (r.error) out.error = { kind: r.error.kind, message: r.error.message };
    else if (plan.keyStatus !== 'configured') {
      out.error = {
        kind: plan.keyStatus === 'none' ? 'host-key-unknown' : 'not-probed',
        message:
          plan.keyStatus === 'none'
            ? `no host key is configured for "${plan.host.chain.lookupName}", so the probe did not log in (run Fetch host key first)`
            : `the configured host key for "${plan.host.chain.lookupName}" ${plan.keyStatus === 'cert-authority' ? 'is a @cert-authority entry' : 'could not be read statically'}, so the probe did not log in`,
      };
    }
    const nix = r.nix;
    if (nix) {
      out.nixVersion = nix.version;
      out.systems = [...new Set([...(nix.system ? [nix.system] : []), ...nix.extraPlatforms])];
      out.features = [...nix.systemFeatures];
      if (nix.trusted !== undefined) out.trusted = nix.trusted;
      const notes = [...plan.notes, ...nix.notes];
      if (notes.length > 0) out.notes = notes;
      if (!r.error && out.systems.length > 0) this.rememberReport(plan.host.chain.lookupName, { systems: out.systems, features: out.features });
    }
    return out;
  }
}

function keyOf(k: HostKeyInfo): { type: string; key: string; fingerprint: string } {
  return { type: k.type, key: k.key, fingerprint: k.fingerprint };
}

const NEVER: CancellationToken = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
const NULL_PROGRESS: Progress = { begin() {}, report() {}, done() {} };

// ---------------------------------------------------------------------------
// Code actions: commands only (listing them never probes).

const PLACEHOLDER: FetchedKey = { type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', fingerprint: 'SHA256:' };

export interface ProbeActionContext {
  analysis: Analysis;
  /** Core diagnostics of the document. */
  diagnostics: readonly Diagnostic[];
  /** The document: core path, URI, line index. */
  file: string;
  uri: string;
  lines: LineIndex;
  range: Range;
  only?: readonly string[];
  resolve: FileResolver;
  trusted: boolean;
}

/** Whether an action of `kind` is wanted by the request's `only`. */
function wanted(kind: string, only: readonly string[] | undefined): boolean {
  return !only || only.length === 0 || only.some((k) => k === CodeActionKind.Empty || k === kind || kind.startsWith(`${k}.`));
}

function overlaps(span: Span, start: number, end: number): boolean {
  return span.start <= end && start <= span.end;
}

export function probeCodeActions(c: ProbeActionContext): CodeAction[] {
  if (!c.trusted) return [];
  const quick = wanted(CodeActionKind.QuickFix, c.only);
  const rewrite = wanted(CodeActionKind.RefactorRewrite, c.only);
  if (!quick && !rewrite) return [];
  const { model, hosts } = c.analysis;
  const start = c.lines.offset(c.range.start);
  const end = c.lines.offset(c.range.end);
  const out: CodeAction[] = [];
  const builders = model.builders.filter((b) => b.file === c.file);
  const refOf = (b: Builder): BuilderRef => {
    const hv = hostValue(b);
    return { uri: c.uri, offset: hv && hv.span.file === c.file ? hv.span.start : b.span.start, ...(hv ? { hostName: hv.value } : {}) };
  };
  /** Which key edits could be made for b (checked with a placeholder key: nothing is probed). */
  const targets = (b: Builder): HostKeyTarget[] => {
    const fixes = fetchedKeyFixes(model, hosts, b, PLACEHOLDER);
    const ok = (f: (typeof fixes)[number] | undefined) => !!f && !!toWorkspaceEdit(f, c.resolve);
    const list: HostKeyTarget[] = [];
    if (ok(fixes.find((f) => f.preferred))) list.push('knownHosts');
    if (ok(fixes.find((f) => !f.preferred))) list.push('publicHostKey');
    return list;
  };
  const probeable = (b: Builder): BuilderHost | undefined => {
    const h = hosts.forBuilder(b);
    return h && hostValue(b) && !h.chain.proxy && !h.chain.uncertain ? h : undefined;
  };
  const fetchActions = (b: Builder, diagnostics?: CodeAction['diagnostics']): CodeAction[] =>
    targets(b).map((target) => ({
      title: target === 'knownHosts' ? 'Fetch host key → programs.ssh.knownHosts' : 'Fetch host key → publicHostKey',
      kind: diagnostics ? CodeActionKind.QuickFix : CodeActionKind.RefactorRewrite,
      ...(diagnostics ? { diagnostics } : {}),
      command: { title: 'Fetch host key', command: Commands.fetchHostKey, arguments: [{ ...refOf(b), target } satisfies FetchHostKeyArgs] },
    }));
  const fillAction = (b: Builder, diagnostics?: CodeAction['diagnostics']): CodeAction => ({
    title: 'Fill systems and features from the builder',
    kind: diagnostics ? CodeActionKind.QuickFix : CodeActionKind.RefactorRewrite,
    ...(diagnostics ? { diagnostics } : {}),
    command: { title: 'Fill systems and features', command: Commands.fillSystemsAndFeatures, arguments: [refOf(b)] },
  });
  const fillable = (b: Builder) => b.source === 'nix' && model.texts.get(b.file)?.[b.span.start] === '{';

  const fetchDone = new Set<Builder>();
  const fillDone = new Set<Builder>();
  if (quick) {
    for (const d of c.diagnostics) {
      if (d.span.file !== c.file || !overlaps(d.span, start, end)) continue;
      if (d.code === 'missing-host-key' || d.code === 'host-key-name-mismatch') {
        const b = builders.find((x) => {
          const hv = hostValue(x);
          return hv && hv.span.file === d.span.file && hv.span.start === d.span.start && hv.span.end === d.span.end;
        });
        if (!b || fetchDone.has(b) || !probeable(b)) continue;
        fetchDone.add(b);
        out.push(...fetchActions(b, [toLspDiagnostic(d, c.lines, c.resolve)]));
      } else if (d.code === 'missing-system') {
        const b = builders.find((x) => contains(x.span, c.file, d.span.start));
        if (!b || fillDone.has(b) || !fillable(b) || !probeable(b)) continue;
        fillDone.add(b);
        out.push(fillAction(b, [toLspDiagnostic(d, c.lines, c.resolve)]));
      }
    }
  }
  if (rewrite) {
    for (const b of builders) {
      if (!overlaps(b.span, start, end) || b.span.start > start || b.span.end < end) continue;
      const h = probeable(b);
      if (!h) continue;
      const hv = hostValue(b) as StringValue;
      const attr = b.attrs.get('hostName');
      const hostSpan = attr?.bindingSpan && attr.bindingSpan.file === c.file ? attr.bindingSpan : hv.span;
      if (!fetchDone.has(b) && hostSpan.file === c.file && overlaps(hostSpan, start, end)) {
        if (h.keys.kind === 'missing' || h.keys.kind === 'mismatch') out.push(...fetchActions(b));
        else if (h.keys.kind === 'covered' && h.keys.via !== 'cert-authority') {
          out.push({
            title: 'Fetch host key and compare it with the configured one',
            kind: CodeActionKind.RefactorRewrite,
            command: { title: 'Fetch host key', command: Commands.fetchHostKey, arguments: [refOf(b)] },
          });
        }
      }
      if (!fillDone.has(b) && fillable(b)) out.push(fillAction(b));
    }
  }
  return out;
}
