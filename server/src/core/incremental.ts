// A keystroke inside one builder's strings and numbers (its hostName, a system,
// a maxJobs) re-reads that builder, not the file. NixDocument gives such an edit
// a tree of the same shape (Tree.lexical, lexical-edit.ts): every node keeps its
// index and the nodes after the edit move. The previous analysis then stays
// right — its spans are nodes of the evaluator's tree (NodeSpan) and follow the
// edit once the evaluator moves to the new tree — except for what read the
// edited leaf. When the leaf lies in an item of a nix.buildMachines list that
// nothing else can reach, that item is all that read it: it is evaluated again
// and its builder replaced; the host analysis keeps what it worked out for the
// other builders. Anything else is analysed in full (analyze.ts).
import type { Analysis, SourceFile } from './analyze';
import type { Diagnostic } from './diagnostic';
import type { Environment } from './environment';
import type { EvalLimits } from './eval/evaluator';
import { type ModuleRoot, unwrap } from './eval/module';
import { nixBuilder } from './extract';
import type { Builder, Model } from './model';
import { fieldId, type LexicalOrigin, type SyntaxNode, type Tree } from './parser';
import { builderDiagnostics, diagnosticKey, finish, isPerBuilderCode, mapSpans, modelDiagnostics } from './run-rules';
import type { Span } from './span';

/** What an analysis keeps for the next one to start from. */
export interface AnalysisInputs {
  files: { path: string; text: string }[];
  limits: EvalLimits;
}

/** What a keystroke's analysis takes from the previous one. */
export type Reusable = Pick<Analysis, 'inputs' | 'roots' | 'model' | 'hosts' | 'diagnostics'>;

export interface Reused {
  model: Model;
  diagnostics: Diagnostic[];
  /** The module of the edited file, now reading its new tree. */
  root: ModuleRoot;
  edited: SourceFile;
}

/**
 * The model and diagnostics after a lexical edit of one file, re-reading only
 * the builder the edit is in; undefined when that is not enough. Then either
 * nothing was changed, or `previous` was moved to the new tree and must not be
 * used again: the full analysis reads the edited file anew in both cases.
 */
export function reuseAfterLexicalEdit(files: SourceFile[], env: Environment, limits: EvalLimits, previous: Reusable): Reused | undefined {
  const edited = onlyEditedFile(files, limits, previous.inputs);
  const lexical = edited?.tree?.lexical;
  if (!edited || !lexical || edited.tree?.text !== edited.text) return undefined;
  const tree = edited.tree;
  const root = previous.roots.find((r) => r.file === edited.path);
  const before = root?.ev.tree;
  const run = before && editsSince(lexical, before);
  if (!root || !before || !run) return undefined;
  if (root.ev.limited) return undefined;
  const old = builderHolding(previous.model.builders, root, before, run.leaf);
  const origin = old?.origin;
  if (!old || !origin || !reachedOnlyAsListItem(tree, origin.expression.node)) return undefined;
  // The item, in the previous text; every edit since lies inside it.
  const item = { file: root.file, start: before.start(origin.expression.node), end: before.end(origin.expression.node) };
  let itemEnd = item.end;
  for (const e of run.edits) {
    if (e.start < item.start || e.oldEnd > itemEnd) return undefined;
    itemEnd += e.newEnd - e.oldEnd;
  }
  const delta = itemEnd - item.end;

  // What the builder rules said of the builder before (in the previous
  // positions): said inside the item, it was the builder's alone; said of a
  // literal outside (a shared let binding), other builders may say it too, and
  // the builder must still say it after the edit.
  const ctx = { env, hosts: previous.hosts };
  const said = builderDiagnostics(previous.model, old, ctx);
  const inside = (s: Span) => s.file === item.file && s.start >= item.start && s.end <= item.end;
  const gone = new Set(said.filter((d) => inside(d.span)).map(diagnosticKey));
  const sharedBefore = said.filter((d) => !inside(d.span));
  // The rest of what the builder rules said stays, its positions moved by the edit.
  const moved = (s: Span): Span | undefined => {
    if (s.file !== item.file || s.end <= item.start) return s;
    if (s.start >= item.end) return { file: s.file, start: s.start + delta, end: s.end + delta };
    return undefined;
  };
  const kept: Diagnostic[] = [];
  for (const d of previous.diagnostics) {
    if (!isPerBuilderCode(d.code) || gone.has(diagnosticKey(d))) continue;
    let ok = true;
    const m = mapSpans(d, (s) => {
      const to = moved(s);
      if (!to) ok = false;
      return to ?? s;
    });
    if (!ok) return undefined;
    kept.push(m);
  }

  // From here on the previous analysis is moved to the new tree.
  root.ev.rebase(tree);
  origin.thunk.recompute(origin.expression);
  const value = unwrap(origin.thunk.force());
  if (!value) return undefined;
  const builder = nixBuilder({ value, conditional: old.conditional, origin });
  if (!builder) return undefined;
  const builders = previous.model.builders.slice();
  builders[builders.indexOf(old)] = builder;
  const texts = new Map(previous.model.texts);
  texts.set(edited.path, edited.text);
  previous.hosts.forget(old);
  const model: Model = { ...previous.model, builders, texts };

  const now = builderDiagnostics(model, builder, ctx);
  const nowKeys = new Set(now.map(diagnosticKey));
  for (const d of sharedBefore) {
    const m = mapSpans(d, (s) => moved(s) ?? s);
    if (!nowKeys.has(diagnosticKey(m))) return undefined;
  }
  const diagnostics = finish([...kept, ...now, ...modelDiagnostics(model, ctx)]);
  // While no limit or cycle cut an evaluation short, every value is what a
  // full evaluation gives, whatever was read first. Checked after the last
  // read: the builder's attributes and the rules force values too. (A full
  // analysis spends less fuel than this one had: it evaluates the item once,
  // this one once more per keystroke; when the fuel runs out, the full
  // analysis reads the file anew.)
  if (root.ev.limited) return undefined;
  return { model, diagnostics, root, edited };
}

/**
 * The edits from `before` to the tree of `lexical`, oldest first, each in the
 * offsets of the text it was made in, and the leaf of the first (an index in
 * `before`, whose nodes every tree of the run shares); undefined when the run
 * does not start at `before`.
 */
function editsSince(lexical: LexicalOrigin, before: Tree): { edits: LexicalOrigin['edit'][]; leaf: SyntaxNode } | undefined {
  const edits: LexicalOrigin['edit'][] = [];
  for (let o: LexicalOrigin | undefined = lexical; o; o = o.prior) {
    edits.push(o.edit);
    if (o.from.deref() === before) return { edits: edits.reverse(), leaf: o.leaf };
  }
  return undefined;
}

/** The one file whose text changed (same files, same order, same limits), if there is exactly one. */
function onlyEditedFile(files: SourceFile[], limits: EvalLimits, inputs: AnalysisInputs): SourceFile | undefined {
  if (inputs.limits !== limits || inputs.files.length !== files.length) return undefined;
  let edited: SourceFile | undefined;
  for (let i = 0; i < files.length; i++) {
    const f = files[i] as SourceFile;
    const was = inputs.files[i] as { path: string; text: string };
    if (f.path !== was.path) return undefined;
    if (f.text === was.text) continue;
    if (edited) return undefined;
    edited = f;
  }
  return edited;
}

/** The builder read from a list item of `root`'s file that holds `leaf`, when exactly one does. */
function builderHolding(builders: Builder[], root: ModuleRoot, tree: Tree, leaf: SyntaxNode): Builder | undefined {
  let found: Builder | undefined;
  const start = tree.start(leaf);
  const end = tree.end(leaf);
  for (const b of builders) {
    const e = b.origin?.expression;
    if (!e || e.source !== root.ev || tree.start(e.node) > start || tree.end(e.node) < end) continue;
    if (found) return undefined;
    found = b;
  }
  return found;
}

/**
 * Whether the value of `item` can reach nothing but the list it is an item of,
 * and that list nothing but the attribute it defines: the item and the
 * attribute sets around it are not bound to a name (let, rec, a lambda's
 * argument) that other code could read, and no function but the module's own
 * sees them. Then re-evaluating the item is re-evaluating all that read it.
 */
function reachedOnlyAsListItem(tree: Tree, item: SyntaxNode): boolean {
  const path = pathTo(tree, item);
  if (!path) return false;
  for (let i = path.length - 1; i > 0; i--) {
    const child = path[i] as SyntaxNode;
    const parent = path[i - 1] as SyntaxNode;
    if (!passesThrough(tree, parent, child, i - 1)) return false;
  }
  return true;
}

function passesThrough(tree: Tree, parent: SyntaxNode, child: SyntaxNode, depth: number): boolean {
  const inField = (name: string) => tree.field(parent, fieldId(name)) === child;
  switch (tree.type(parent)) {
    case 'source_code':
    case 'list_expression':
    case 'parenthesized_expression':
    case 'attrset_expression':
    case 'binding_set':
      return true;
    case 'binding':
      return inField('expression');
    case 'binary_expression': {
      const op = tree.field(parent, fieldId('operator'));
      return op >= 0 && tree.nodeText(op) === '++';
    }
    case 'let_expression':
    case 'with_expression':
    case 'assert_expression':
      return inField('body');
    case 'function_expression':
      // The module's own function, applied once by readModule.
      return depth === 1 && inField('body');
    default:
      return false;
  }
}

/** The named nodes from the root down to `node` (in preorder, the child holding it is the last one not after it). */
function pathTo(tree: Tree, node: SyntaxNode): SyntaxNode[] | undefined {
  const path: SyntaxNode[] = [tree.root];
  let at = tree.root;
  while (at !== node) {
    let next = -1;
    for (const c of tree.named(at)) {
      if (c > node) break;
      next = c;
    }
    if (next < 0 || tree.end(next) < tree.end(node)) return undefined;
    path.push(next);
    at = next;
  }
  return path;
}
