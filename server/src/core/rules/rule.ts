// The shape of a diagnostic rule, and the small helpers rules share for
// reading builder attributes and writing fixes.
import type { Diagnostic, Fix, Severity } from '../diagnostic';
import { pieceDoc, type StringValue, type Thunk, type Value } from '../eval/value';
import type { Builder, Model, ReadAttr } from '../model';
import type { Span } from '../span';
import type { Environment } from '../environment';
import type { BuilderHost, HostAnalysis, KeyCheck } from '../hosts';

export interface RuleContext {
  env: Environment;
  /** What root's ssh does for each builder (resolution chain, address, host key). */
  hosts: HostAnalysis;
}

export interface Rule {
  code: string;
  /** One line for the docs table. */
  summary: string;
  check(model: Model, ctx: RuleContext): Diagnostic[];
  /**
   * True when check() looks at each builder alone: it reports, builder after
   * builder of model.builders, what it reports for a model with only that
   * builder (a literal shared by several builders reported once), and nothing
   * else; what the rule says of the rest of the configuration is checkModel's.
   * A keystroke inside one builder then reruns check() for that builder only
   * (run-rules.ts, incremental.ts).
   */
  perBuilder?: true;
  /** What a perBuilder rule says of the configuration besides its builders (wrong-type: nix.buildMachines itself). */
  checkModel?(model: Model, ctx: RuleContext): Diagnostic[];
}

export function diag(
  code: string,
  severity: Severity,
  span: Span,
  message: string,
  fixes: Fix[] = [],
): Diagnostic {
  return { code, severity, span, message, fixes };
}

/**
 * For rules that check literals: a literal shared by several builders (a let
 * binding) is reported once. The returned function is true the first time it
 * sees a span, false after.
 */
export function firstSight(): (v: { span: Span }) => boolean {
  const seen = new Set<string>();
  return (v) => {
    const key = `${v.span.file}:${v.span.start}:${v.span.end}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

export function attr(b: Builder, name: string): ReadAttr | undefined {
  return b.attrs.get(name);
}

/** The string items of a list value that are known (others are skipped). */
export function knownStrings(v: Value): StringValue[] {
  if (v.kind !== 'list') return [];
  const out: StringValue[] = [];
  for (const t of v.items) {
    const x = t.force();
    if (x.kind === 'string') out.push(x);
  }
  return out;
}

/**
 * Calls f with each known string item of a list value, in order: knownStrings
 * without the array, for the rules that look at every item of every builder.
 */
export function forEachKnownString(v: Value, f: (s: StringValue) => void): void {
  if (v.kind !== 'list') return;
  const { items } = v;
  for (let i = 0; i < items.length; i++) {
    const x = (items[i] as Thunk).force();
    if (x.kind === 'string') f(x);
  }
}

/** Where a builder is, for messages: its hostName when known. */
export function builderLabel(b: Builder): string {
  const h = b.attrs.get('hostName')?.value;
  return h?.kind === 'string' ? `builder "${h.value}"` : 'this builder';
}

/** Escapes text for the inside of a Nix "…" string. */
export function nixStringEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${');
}

/**
 * An edit that replaces a string value's text. When the value maps 1:1 onto
 * the document (a literal, or a machines field), only the characters inside
 * the quotes are replaced, so the file's quoting style is kept.
 */
export function replaceString(v: StringValue, newValue: string): Fix['edits'][number] | undefined {
  const p = v.pieces;
  const only = p && p.length === 1 ? p[0] : undefined;
  if (only && only.at === 0 && only.length === v.value.length) {
    const doc = pieceDoc(only);
    return { span: { file: v.span.file, start: doc, end: doc + only.length }, newText: newValue };
  }
  if (v.value === '' && v.span.end - v.span.start === 2) {
    return { span: { file: v.span.file, start: v.span.start + 1, end: v.span.start + 1 }, newText: newValue };
  }
  return undefined;
}

export function replaceStringFix(title: string, v: StringValue, newValue: string, preferred = false): Fix[] {
  const edit = replaceString(v, nixStringEscape(newValue));
  return edit ? [{ title, edits: [edit], preferred }] : [];
}

export function didYouMean(suggestions: string[]): string {
  if (suggestions.length === 0) return '';
  return ` Did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?`;
}

// Per model: a dozen rules ask, and each filtered thousands of builders anew.
const nixBuilderLists = new WeakMap<Model, Builder[]>();

/** Builders written as Nix attribute sets (the NixOS option), as opposed to machines lines. Shared: do not modify. */
export function nixBuilders(model: Model): readonly Builder[] {
  let list = nixBuilderLists.get(model);
  if (!list) {
    list = model.builders.filter((b) => b.source === 'nix');
    nixBuilderLists.set(model, list);
  }
  return list;
}

/**
 * The builders whose host-key check came out as `kind`, with what ssh does for
 * them and their (string) hostName, for the host-key rules. Nothing when keys
 * are not checked (every check is then `unknown`): the chains are not worked out.
 */
export function buildersWithKeys<K extends KeyCheck['kind']>(
  model: Model,
  ctx: RuleContext,
  kind: K,
): { builder: Builder; host: BuilderHost & { keys: Extract<KeyCheck, { kind: K }> }; hostName: StringValue }[] {
  if (!ctx.hosts.env.checkHostKeys) return [];
  const out: { builder: Builder; host: BuilderHost & { keys: Extract<KeyCheck, { kind: K }> }; hostName: StringValue }[] = [];
  for (const builder of model.builders) {
    const host = ctx.hosts.forBuilder(builder);
    const hostName = attr(builder, 'hostName')?.value;
    if (!host || host.keys.kind !== kind || hostName?.kind !== 'string') continue;
    out.push({ builder, host: host as BuilderHost & { keys: Extract<KeyCheck, { kind: K }> }, hostName });
  }
  return out;
}
