// What a probe of a builder turns into: the edits of "Fetch host key" (a
// knownHosts entry or publicHostKey), the edits of "Fill systems and
// features", and host-key-changed when the builder shows another key than the
// configured one. Pure: the probe itself runs in the front end.
import type { Diagnostic, Fix, TextEdit } from './diagnostic';
import { addBinding, knownHostsEntryFix } from './host-key-fixes';
import type { HostAnalysis, KeyEntry } from './hosts';
import type { Builder, Model } from './model';
import { nixStringEscape } from './rules/rule';
import { encodePublicHostKey } from './ssh-keys';
import type { Span } from './span';

export interface FetchedKey {
  type: string;
  /** base64 blob */
  key: string;
  fingerprint: string;
}

export interface RemoteReport {
  /** `system` followed by `extra-platforms`. */
  systems: string[];
  features: string[];
}

function hostValue(b: Builder) {
  const v = b.attrs.get('hostName')?.value;
  return v?.kind === 'string' ? v : undefined;
}

/** "Fetch host key": the knownHosts entry (preferred) and the publicHostKey alternative. */
export function fetchedKeyFixes(model: Model, hosts: HostAnalysis, b: Builder, key: FetchedKey): Fix[] {
  const h = hosts.forBuilder(b);
  if (!h) return [];
  const line = `${key.type} ${key.key}`;
  const fixes: Fix[] = [];
  const entry = knownHostsEntryFix(model, h.chain, line);
  if (entry) fixes.push({ ...entry, preferred: true });
  const phk = publicHostKeyFix(model, b, line);
  if (phk) fixes.push(phk);
  return fixes;
}

/** Sets publicHostKey (base64 of the whole key line) on a builder written as a Nix set. */
export function publicHostKeyFix(model: Model, b: Builder, keyLine: string): Fix | undefined {
  if (b.source !== 'nix') return undefined;
  const text = model.texts.get(b.file);
  if (text === undefined) return undefined;
  const value = encodePublicHostKey(keyLine);
  const existing = b.attrs.get('publicHostKey');
  let edit: TextEdit | undefined;
  if (existing?.bindingSpan && within(existing.bindingSpan, b.span) && text.slice(existing.bindingSpan.start, existing.bindingSpan.end).startsWith('publicHostKey')) {
    edit = { span: existing.bindingSpan, newText: `publicHostKey = "${value}";` };
  } else if (!existing) {
    edit = addBinding(text, b.span, `publicHostKey = "${value}";`);
  }
  return edit ? { title: 'Set publicHostKey of this builder instead', edits: [edit] } : undefined;
}

/** host-key-changed: the builder showed a key of a configured type that differs from every configured one. */
export function hostKeyChanged(hosts: HostAnalysis, b: Builder, key: FetchedKey): Diagnostic | undefined {
  const h = hosts.forBuilder(b);
  const value = hostValue(b);
  if (!h || !value || h.keys.kind !== 'covered') return undefined;
  // ssh compares keys of the type the server uses; keys of other types do not count.
  const sameType = h.keys.entries.filter((e): e is KeyEntry & { key: NonNullable<KeyEntry['key']> } => e.key?.type === key.type);
  if (sameType.length === 0 || sameType.some((e) => e.key.blob.replace(/=+$/, '') === key.key.replace(/=+$/, ''))) return undefined;
  const first = sameType[0] as KeyEntry & { key: NonNullable<KeyEntry['key']> };
  const d: Diagnostic = {
    code: 'host-key-changed',
    severity: 'error',
    span: value.span,
    message: `The builder "${h.chain.lookupName}" now shows the ${key.type} key ${key.fingerprint}, but ${first.label} has ${first.key.fingerprint}. ssh refuses to connect ("REMOTE HOST IDENTIFICATION HAS CHANGED"). If the builder was reinstalled, replace the configured key after checking the new fingerprint on the builder's console (ssh-keygen -l -f /etc/ssh/ssh_host_${key.type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-nistp\d+$/, 'ecdsa')}_key.pub); otherwise someone may be intercepting the connection.`,
    fixes: [],
  };
  if (first.span) d.related = [{ span: first.span, message: `configured key ${first.key.fingerprint}` }];
  return d;
}

function within(inner: Span, outer: Span): boolean {
  return inner.file === outer.file && inner.start >= outer.start && inner.end <= outer.end;
}

function listText(items: string[]): string {
  return `[ ${items.map((i) => `"${nixStringEscape(i)}"`).join(' ')} ]`;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

export interface FillResult {
  fix?: Fix;
  /** Explanations for the user (shared bindings, what was kept). */
  notes: string[];
}

/**
 * "Fill systems and features": set `systems` (or `system`) and
 * `supportedFeatures` to what the builder reports, keeping its other
 * attributes. A value from a binding shared with other builders is edited in
 * place only if every builder using it reported the same; otherwise this
 * builder gets its own attribute.
 */
export function fillSystemsAndFeatures(model: Model, b: Builder, report: RemoteReport, others = new Map<Builder, RemoteReport>()): FillResult {
  const notes: string[] = [];
  const text = model.texts.get(b.file);
  if (b.source !== 'nix' || text === undefined || text.slice(b.span.start, b.span.start + 1) !== '{') {
    return { notes: ['This builder is not written as an attribute set in a .nix file: nothing to edit.'] };
  }
  const edits: TextEdit[] = [];
  const added: string[] = [];
  const inheritRemovals = new Map<string, { span: Span; names: string[] }>();
  const useSystem = b.attrs.has('system') && b.attrs.get('system')?.value.kind === 'string' && report.systems.length === 1;
  const wanted: [string, string[]][] = [
    [useSystem ? 'system' : 'systems', report.systems],
    ['supportedFeatures', report.features],
  ];
  for (const [name, items] of wanted) {
    const a = b.attrs.get(name);
    const newText = name === 'system' ? `"${nixStringEscape(items[0] ?? '')}"` : listText(items);
    if (!a) {
      added.push(`${name} = ${newText};`);
      continue;
    }
    const span = a.value.span;
    if (span && within(span, b.span)) {
      edits.push({ span, newText });
      continue;
    }
    // The value comes from elsewhere (a let binding, an inherit): shared?
    const sharing = model.builders.filter((o) => o !== b && o.attrs.get(name)?.value.span && sameSpan(o.attrs.get(name)?.value.span, span));
    const allMatch = sharing.every((o) => {
      const r = others.get(o);
      return r !== undefined && sameList(name === 'supportedFeatures' ? r.features : r.systems, items);
    });
    if (span && allMatch) {
      edits.push({ span, newText });
      if (sharing.length > 0) notes.push(`${name} comes from a binding shared by ${sharing.length + 1} builders that all report the same: the shared binding is edited.`);
      continue;
    }
    notes.push(`${name} comes from a binding shared with ${sharing.length} other builder(s) that did not report the same (or were not probed): this builder gets its own ${name}.`);
    const binding = a.bindingSpan;
    const bindingText = binding ? text.slice(binding.start, binding.end) : '';
    if (binding && within(binding, b.span) && /^inherit\b/.test(bindingText)) {
      const key = `${binding.start}`;
      const r = inheritRemovals.get(key) ?? { span: binding, names: [] };
      r.names.push(name);
      inheritRemovals.set(key, r);
      added.push(`${name === 'system' ? 'systems' : name} = ${listText(items)};`);
    } else if (binding && within(binding, b.span)) {
      edits.push({ span: binding, newText: `${name} = ${newText};` });
    } else {
      notes.push(`${name} could not be edited safely.`);
    }
  }
  for (const { span, names } of inheritRemovals.values()) {
    const original = text.slice(span.start, span.end);
    let rewritten = original;
    for (const n of names) rewritten = rewritten.replace(new RegExp(`\\s${n}(?=[\\s;])`), '');
    edits.push({ span, newText: /^inherit(\s*\([^)]*\))?\s*;$/.test(rewritten) ? '' : rewritten });
  }
  for (const binding of added) {
    const e = addBinding(text, b.span, binding);
    if (e) edits.push(e);
  }
  if (edits.length === 0) return { notes };
  return {
    fix: { title: `Fill systems and features from the builder (${report.systems.join(', ')})`, edits: mergeInserts(edits) },
    notes,
  };
}

function sameSpan(a: Span | undefined, b: Span | undefined): boolean {
  return !!a && !!b && a.file === b.file && a.start === b.start && a.end === b.end;
}

/** Several inserts at the same place (the set's closing brace) become one, in order. */
function mergeInserts(edits: TextEdit[]): TextEdit[] {
  const out: TextEdit[] = [];
  for (const e of edits) {
    const same = out.find((o) => o.span.start === e.span.start && o.span.end === e.span.end && o.span.start === o.span.end && e.span.start === e.span.end);
    if (same) same.newText += e.newText;
    else out.push({ ...e });
  }
  return out;
}
