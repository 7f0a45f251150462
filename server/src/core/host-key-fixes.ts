// Edits that make a host key reachable under the name ssh looks up: add the
// name to a knownHosts entry, add HostKeyAlias to a Host block, or create a
// knownHosts entry skeleton (the key itself is fetched by "Fetch host key").
import type { Fix, TextEdit } from './diagnostic';
import type { KeyEntry } from './hosts';
import type { Model } from './model';
import type { Span } from './span';
import type { SshChain } from './ssh-resolve';
import { nixStringEscape } from './rules/rule';

function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))?.[0] ?? '';
}

// The line break of the last text asked about: a fix per builder asks about the
// same file each time, and scanning a 1 MB file for "\r\n" took longer than the fix.
let lastText: string | undefined;
let lastEol = '\n';

function eol(text: string): string {
  if (text !== lastText) {
    lastEol = text.includes('\r\n') ? '\r\n' : '\n';
    lastText = text;
  }
  return lastEol;
}

/** Inserts `"name"` before the closing bracket of a list literal. */
function addToList(text: string, list: Span, name: string): TextEdit | undefined {
  const body = text.slice(list.start, list.end);
  if (!body.startsWith('[') || !body.endsWith(']')) return undefined;
  const close = list.end - 1;
  const before = text[close - 1] ?? '';
  const item = `"${nixStringEscape(name)}"`;
  const newText = /\s/.test(before) ? `${item} ` : ` ${item} `;
  return { span: { file: list.file, start: close, end: close }, newText };
}

/** Inserts a binding before the closing brace of an attribute set literal. */
export function addBinding(text: string, set: Span, binding: string): TextEdit | undefined {
  const body = text.slice(set.start, set.end);
  if (!body.startsWith('{') || !body.endsWith('}')) return undefined;
  const close = set.end - 1;
  if (!body.includes('\n')) {
    const before = text[close - 1] ?? '';
    return { span: { file: set.file, start: close, end: close }, newText: /\s/.test(before) ? `${binding} ` : ` ${binding} ` };
  }
  // Multi-line: a line of its own, indented like the set's first binding.
  const firstLine = body.indexOf('\n') + 1;
  const inner = /^[ \t]*/.exec(body.slice(firstLine))?.[0] ?? `${lineIndent(text, set.start)}  `;
  const lineStart = text.lastIndexOf('\n', close - 1) + 1;
  const onOwnLine = /^[ \t]*$/.test(text.slice(lineStart, close));
  const at = onOwnLine ? lineStart : close;
  const nl = eol(text);
  return { span: { file: set.file, start: at, end: at }, newText: onOwnLine ? `${inner}${binding}${nl}` : `${nl}${inner}${binding}${nl}${lineIndent(text, set.start)}` };
}

/** Adds `name` to the hostNames (or extraHostNames) of the knownHosts entry holding the key. */
export function addHostNameFix(model: Model, entry: KeyEntry, name: string): Fix | undefined {
  const h = entry.knownHost;
  if (!h) return undefined;
  const text = model.texts.get(h.file);
  if (text === undefined) return undefined;
  const hostNames = h.attrs.get('hostNames');
  const extra = h.attrs.get('extraHostNames');
  let edit: TextEdit | undefined;
  let where = 'hostNames';
  if (hostNames) edit = hostNames.value.kind === 'list' ? addToList(text, hostNames.value.span, name) : undefined;
  else if (extra) {
    where = 'extraHostNames';
    edit = extra.value.kind === 'list' ? addToList(text, extra.value.span, name) : undefined;
  } else {
    where = 'extraHostNames';
    edit = addBinding(text, h.span, `extraHostNames = [ "${nixStringEscape(name)}" ];`);
  }
  return edit ? { title: `Add "${name}" to ${entry.label}.${where}`, edits: [edit], preferred: true } : undefined;
}

/** Adds `HostKeyAlias <alias>` to the alias's Host block in programs.ssh.extraConfig. */
export function hostKeyAliasFix(model: Model, chain: SshChain): Fix | undefined {
  const applied = chain.applied.find(
    (a) => a.source.label === 'programs.ssh.extraConfig' && a.block.kind === 'host' && a.block.patterns.some((p) => p.text.toLowerCase() === chain.alias.toLowerCase()),
  );
  const at = applied?.block.insertAt;
  if (!applied || !at) return undefined;
  // The block's indentation as the document has it (the string value is dedented).
  const text = model.texts.get(at.file);
  const last = applied.block.options[applied.block.options.length - 1];
  const indent =
    text === undefined ? applied.block.optionIndent : last ? lineIndent(text, last.keywordSpan.start) : `${lineIndent(text, applied.block.headerSpan.start)}  `;
  return {
    title: `Add "HostKeyAlias ${chain.alias}" to the Host ${chain.alias} block`,
    edits: [{ span: at, newText: `\n${indent}HostKeyAlias ${chain.alias}` }],
  };
}

function attrName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) ? name : `"${nixStringEscape(name)}"`;
}

/** The names a knownHosts entry for this builder should list: alias, HostName, [host]:port. */
export function namesFor(chain: SshChain): string[] {
  const names = [chain.alias, chain.hostName];
  if (chain.hostKeyAlias) names.push(chain.hostKeyAlias.value);
  if (chain.port !== 22) names.push(`[${chain.hostName}]:${chain.port}`);
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

// The knownHosts names of a model, gathered once rather than for every builder's fix.
const takenNames = new WeakMap<Model, Set<string>>();

function knownHostNames(model: Model): Set<string> {
  let taken = takenNames.get(model);
  if (!taken) {
    taken = new Set(model.knownHosts.map((h) => h.name));
    takenNames.set(model, taken);
  }
  return taken;
}

/** A free attribute name for a new knownHosts entry (the alias, unless taken). */
function entryName(model: Model, alias: string): string {
  const taken = knownHostNames(model);
  if (!taken.has(alias)) return alias;
  for (let i = 2; ; i++) if (!taken.has(`${alias}-${i}`)) return `${alias}-${i}`;
}

/**
 * A new programs.ssh.knownHosts entry listing every name ssh looks up for the
 * builder: with the fetched key line, or empty (a skeleton) with a hint to fetch it.
 * Placed beside the existing entries when they are a set literal, else after
 * the nix.buildMachines binding.
 */
export function knownHostsEntryFix(model: Model, chain: SshChain, keyLine?: string): Fix | undefined {
  const name = entryName(model, chain.alias);
  const names = namesFor(chain).map((n) => `"${nixStringEscape(n)}"`).join(' ');
  const keyBinding = keyLine
    ? `publicKey = "${nixStringEscape(keyLine)}";`
    : `publicKey = ""; # the key: ssh-keyscan -t ed25519${chain.port !== 22 ? ` -p ${chain.port}` : ''} ${chain.hostName}`;
  const title = keyLine ? `Add the key to programs.ssh.knownHosts.${name}` : `Create programs.ssh.knownHosts.${name} (key to fill in)`;
  for (const def of model.knownHostsDefs.defs) {
    const v = def.value;
    const text = model.texts.get(v.span?.file ?? '');
    if (v.kind !== 'attrs' || text === undefined) continue;
    const nl = eol(text);
    const body = text.slice(v.span.start, v.span.end);
    if (!body.includes('\n')) continue;
    const inner = /^[ \t]*/.exec(body.slice(body.indexOf('\n') + 1))?.[0] ?? '  ';
    const binding = [`${attrName(name)} = {`, `${inner}  hostNames = [ ${names} ];`, `${inner}  ${keyBinding}`, `${inner}};`].join(nl);
    const edit = addBinding(text, v.span, binding);
    if (edit) return { title, edits: [edit] };
  }
  const def = model.buildMachines.defs.find((d) => d.bindingSpan);
  const span = def?.bindingSpan;
  const text = span ? model.texts.get(span.file) : undefined;
  if (!span || text === undefined || !/^nix\s*\.\s*buildMachines/.test(text.slice(span.start, span.start + 40))) return undefined;
  const nl = eol(text);
  const indent = lineIndent(text, span.start);
  const binding = `${nl}${indent}programs.ssh.knownHosts.${attrName(name)} = {${nl}${indent}  hostNames = [ ${names} ];${nl}${indent}  ${keyBinding}${nl}${indent}};`;
  return { title, edits: [{ span: { file: span.file, start: span.end, end: span.end }, newText: binding }] };
}

/** A new programs.ssh.knownHosts entry for the builder, with an empty key to fill in. */
export function skeletonFix(model: Model, chain: SshChain): Fix | undefined {
  return knownHostsEntryFix(model, chain);
}
