// Runs the diagnostic rules over a model, and reruns them after a keystroke
// inside one builder (incremental.ts): the rules marked perBuilder for that
// builder only, the others over the whole model.
import type { Diagnostic } from './diagnostic';
import type { Builder, Model } from './model';
import { RULES } from './rules';
import type { Rule, RuleContext } from './rules/rule';
import { fixedSpan, type Span } from './span';

const ORDER = new Map(RULES.map((r, i) => [r.code, i]));

/** The rules that look at each builder alone (Rule.perBuilder). */
const BUILDER_RULES: readonly Rule[] = RULES.filter((r) => r.perBuilder);
const BUILDER_CODES = new Set(BUILDER_RULES.map((r) => r.code));

export function isPerBuilderCode(code: string): boolean {
  return BUILDER_CODES.has(code);
}

export function runRules(model: Model, ctx: RuleContext): Diagnostic[] {
  return finish(RULES.flatMap((rule) => [...rule.check(model, ctx), ...(rule.checkModel?.(model, ctx) ?? [])]));
}

/** What the perBuilder rules report for one builder of `model`. */
export function builderDiagnostics(model: Model, builder: Builder, ctx: RuleContext): Diagnostic[] {
  const alone: Model = { ...model, builders: [builder] };
  return BUILDER_RULES.flatMap((rule) => rule.check(alone, ctx)).map(fixed);
}

/** What the other rules, and the perBuilder rules' checkModel, report for the whole model. */
export function modelDiagnostics(model: Model, ctx: RuleContext): Diagnostic[] {
  return RULES.flatMap((rule) => (rule.perBuilder ? (rule.checkModel?.(model, ctx) ?? []) : rule.check(model, ctx))).map(fixed);
}

/** Identifies a diagnostic: a literal shared by several builders (a let binding) is reported once. */
export function diagnosticKey(d: Diagnostic): string {
  return `${d.code}\u0000${d.span.file}\u0000${d.span.start}\u0000${d.span.end}\u0000${d.message}`;
}

/**
 * The diagnostics as the analysis hands them out: each once, none on a
 * builtin, with their spans as numbers (the values' spans follow later edits,
 * a published diagnostic does not), in document order; at one place in the
 * order of the rules, then by content, so that any way of arriving at the same
 * set gives the same list.
 */
export function finish(all: Diagnostic[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const d of all) {
    if (d.span.file === '<builtin>') continue;
    const f = fixed(d);
    const key = diagnosticKey(f);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out.sort(documentOrder);
}

function documentOrder(a: Diagnostic, b: Diagnostic): number {
  if (a.span.file !== b.span.file) return a.span.file < b.span.file ? -1 : 1;
  return (
    a.span.start - b.span.start ||
    (ORDER.get(a.code) ?? 0) - (ORDER.get(b.code) ?? 0) ||
    a.span.end - b.span.end ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

/** The diagnostic with every span as numbers, as they are now. */
function fixed(d: Diagnostic): Diagnostic {
  return mapSpans(d, fixedSpan);
}

/** The diagnostic with `f` applied to each of its spans (its own, its fixes' edits, its related places). */
export function mapSpans(d: Diagnostic, f: (s: Span) => Span): Diagnostic {
  const out: Diagnostic = {
    ...d,
    span: f(d.span),
    fixes: d.fixes.map((x) => ({ ...x, edits: x.edits.map((e) => ({ ...e, span: f(e.span) })) })),
  };
  if (d.related) out.related = d.related.map((r) => ({ ...r, span: f(r.span) }));
  return out;
}
