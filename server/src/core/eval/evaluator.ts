// A small lazy partial evaluator over the tree-sitter tree (SPEC §2.3). It
// reads what can be known statically and answers "unknown" for the rest. Fuel
// and depth limits make every input terminate without overflowing the stack.
import { fieldId, type SyntaxNode, type Tree } from '../parser';
import { NodeSpan, type NodePlaces, type Span } from '../span';
import { Scope } from './scope';
import { joinText, type StringPart, stringParts } from './strings';
import {
  type Attr,
  type AttrsValue,
  type LambdaValue,
  type ListValue,
  type StringValue,
  Thunk,
  UNKNOWN,
  UNKNOWN_THUNK,
  type Value,
} from './value';
import { mergeAttrs } from './merge';
import { applyPrim, globalScope } from './builtins';
import { nixToString } from '../machines-file';

export interface EvalLimits {
  /** Evaluation steps for one file; past it everything is unknown. */
  fuel: number;
  /** Nesting of evaluation (expressions, applications) before answering unknown. */
  depth: number;
}

// Real configurations take a few hundred steps per file; the fuel only stops
// runaway recursion (`f = x: [ (f x) (f x) ]`), whose values all stay in memory.
export const DEFAULT_LIMITS: EvalLimits = { fuel: 500_000, depth: 400 };

/** The grammar's fields the reader uses. */
const FIELD_NAMES = [
  'argument',
  'attrpath',
  'attrs',
  'body',
  'condition',
  'consequence',
  'alternative',
  'default',
  'element',
  'environment',
  'expression',
  'formal',
  'formals',
  'function',
  'left',
  'name',
  'operator',
  'right',
  'universal',
] as const;
type FieldName = (typeof FIELD_NAMES)[number];

let fieldTable: Record<FieldName, number> | undefined;
/** Field ids by name, looked up in the grammar once. */
function FIELDS(): Record<FieldName, number> {
  fieldTable ??= Object.fromEntries(FIELD_NAMES.map((n) => [n, fieldId(n)])) as Record<FieldName, number>;
  return fieldTable;
}

export class Evaluator implements NodePlaces {
  private fuel: number;
  private depth = 0;
  readonly globals: Scope;

  constructor(
    readonly file: string,
    /** The file's syntax tree. Nodes are indices into it; every node but the root is > 0. */
    private current: Tree,
    limits: EvalLimits = DEFAULT_LIMITS,
  ) {
    this.fuel = limits.fuel;
    this.maxDepth = limits.depth;
    this.globals = globalScope(this);
  }

  get tree(): Tree {
    return this.current;
  }

  /**
   * Moves the evaluator to a lexically edited copy of its tree (same nodes,
   * offsets moved, the text of one leaf changed: Tree.lexical). Every span it
   * made follows (NodeSpan). Values already computed stay: the caller
   * re-evaluates what read the edited leaf (incremental.ts).
   */
  rebase(tree: Tree): void {
    if (tree.nodeCount !== this.current.nodeCount) throw new Error('nix-builders: rebase onto a tree of another shape');
    this.current = tree;
  }

  /**
   * Whether a limit (fuel or depth) or a cycle (a value read while being
   * computed) ever cut an evaluation short. Until then, every value is what a
   * full evaluation gives whatever the order things were first read in; after,
   * a value first read deep inside one builder may be unknown where another
   * builder would have read it whole, so re-evaluating one builder alone
   * (incremental.ts) is not done.
   */
  get limited(): boolean {
    return this.cutShort;
  }

  private cutShort = false;

  noteCycle(): void {
    this.cutShort = true;
  }

  private limit<T>(fallback: T): T {
    this.cutShort = true;
    return fallback;
  }

  nodeStart(node: SyntaxNode): number {
    return this.current.start(node);
  }

  nodeEnd(node: SyntaxNode): number {
    return this.current.end(node);
  }

  private readonly maxDepth: number;

  /** The first child in a field, or null. */
  field(node: SyntaxNode, name: FieldName): SyntaxNode | null {
    const c = this.tree.field(node, FIELDS()[name]);
    return c < 0 ? null : c;
  }

  /** Every child in a field. */
  fieldAll(node: SyntaxNode, name: FieldName): SyntaxNode[] {
    return this.tree.fieldAll(node, FIELDS()[name]);
  }

  /** The decoded parts of a string literal. */
  private parts(node: SyntaxNode, span: Span): StringPart[] {
    return stringParts(this.tree, node, span);
  }

  /** The named children. (Plain array reads: cheaper to recompute than to cache.) */
  named(node: SyntaxNode): SyntaxNode[] {
    return this.tree.named(node);
  }

  type(node: SyntaxNode): string {
    return this.tree.type(node);
  }

  /** The node's source text (used for names and number literals). */
  text(node: SyntaxNode): string {
    return this.tree.nodeText(node);
  }

  span(node: SyntaxNode): Span {
    return new NodeSpan(this, node);
  }

  /** Whether the budget still allows another step; used by builtins that loop. */
  tick(): boolean {
    return --this.fuel > 0 || this.limit(false);
  }

  thunk(node: SyntaxNode | null | undefined, scope: Scope): Thunk {
    if (!node) return UNKNOWN_THUNK;
    return Thunk.expr(this, node, scope);
  }

  eval(node: SyntaxNode, scope: Scope): Value {
    if (--this.fuel <= 0 || this.depth >= this.maxDepth) return this.limit(UNKNOWN);
    this.depth++;
    try {
      return this.evalNode(node, scope);
    } finally {
      this.depth--;
    }
  }

  /** Runs `f` one level deeper (function application, forcing inside builtins). */
  nested<T>(fallback: T, f: () => T): T {
    if (this.depth >= this.maxDepth || --this.fuel <= 0) return this.limit(fallback);
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private evalNode(node: SyntaxNode, scope: Scope): Value {
    const span = this.span(node);
    switch (this.type(node)) {
      case 'source_code': {
        const e = this.field(node, 'expression');
        return e ? this.eval(e, scope) : UNKNOWN;
      }
      case 'parenthesized_expression':
        return this.evalField(node, 'expression', scope);
      case 'integer_expression': {
        const n = Number(this.text(node));
        return Number.isSafeInteger(n) ? { kind: 'int', value: n, span } : UNKNOWN;
      }
      case 'float_expression':
        return { kind: 'float', value: Number(this.text(node)), span };
      case 'string_expression':
      case 'indented_string_expression':
        return this.evalString(node, scope);
      case 'path_expression':
      case 'hpath_expression':
        // Interpolated paths are not read.
        return this.named(node).some((c) => this.type(c) === 'interpolation')
          ? { kind: 'unknown', span }
          : { kind: 'path', value: this.text(node), span };
      case 'uri_expression': {
        const text = this.text(node);
        return { kind: 'string', value: text, span, pieces: [{ at: 0, length: text.length, base: span, rel: 0 }] };
      }
      case 'list_expression':
        return {
          kind: 'list',
          items: this.fieldAll(node, 'element').map((e) => this.thunk(e, scope)),
          span,
          complete: true,
        };
      case 'attrset_expression':
        return this.evalAttrs(node, scope, false);
      case 'rec_attrset_expression':
        return this.evalAttrs(node, scope, true);
      case 'let_expression':
        return this.evalLet(node, scope);
      case 'with_expression': {
        const env = this.thunk(this.field(node, 'environment'), scope);
        return this.evalField(node, 'body', scope.withScope(env));
      }
      case 'assert_expression':
        return this.evalField(node, 'body', scope);
      case 'variable_expression': {
        const nameNode = this.field(node, 'name');
        const name = nameNode ? this.text(nameNode) : '';
        const v = this.lookup(name, scope, span);
        // Globals (true, null, builtins.map…) take the span of their use.
        return v.span?.file === '<builtin>' ? { ...v, span } : v;
      }
      case 'function_expression':
        return { kind: 'lambda', node, ev: this, scope, span } satisfies LambdaValue;
      case 'apply_expression':
        return this.apply(
          this.eval(this.field(node, 'function') as SyntaxNode, scope),
          this.thunk(this.field(node, 'argument'), scope),
          span,
        );
      case 'select_expression':
        return this.evalSelect(node, scope);
      case 'has_attr_expression':
        return this.evalHasAttr(node, scope, span);
      case 'if_expression': {
        const c = this.evalField(node, 'condition', scope);
        if (c.kind !== 'bool') return { kind: 'unknown', span };
        return this.evalField(node, c.value ? 'consequence' : 'alternative', scope);
      }
      case 'binary_expression':
        return this.evalBinary(node, scope, span);
      case 'unary_expression': {
        const opNode = this.field(node, 'operator');
        const op = opNode ? this.type(opNode) : undefined;
        const v = this.evalField(node, 'argument', scope);
        if (op === '!' && v.kind === 'bool') return { kind: 'bool', value: !v.value, span };
        if (op === '-' && (v.kind === 'int' || v.kind === 'float')) return { kind: v.kind, value: -v.value, span };
        return { kind: 'unknown', span };
      }
      default:
        // ERROR / MISSING nodes, spath (<nixpkgs>), let_attrset_expression, …
        return { kind: 'unknown', span };
    }
  }

  private evalField(node: SyntaxNode, field: FieldName, scope: Scope): Value {
    const c = this.field(node, field);
    return c ? this.eval(c, scope) : UNKNOWN;
  }

  lookup(name: string, scope: Scope, span: Span): Value {
    const t = scope.lookup(name) ?? this.globals.lookup(name);
    return t ? t.force() : { kind: 'unknown', span };
  }

  private evalString(node: SyntaxNode, scope: Scope): Value {
    const span = this.span(node);
    const parts = this.parts(node, span);
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only?.kind === 'text') {
      // One stretch of text (most strings): no joining.
      const pieces = only.base !== undefined && only.text.length > 0 ? [{ at: 0, length: only.text.length, base: only.base, rel: only.rel }] : [];
      return { kind: 'string', value: only.text, span, pieces };
    }
    const texts: { text: string; base?: Span; rel?: number }[] = [];
    for (const part of parts) {
      if (part.kind === 'text') {
        texts.push(part);
        continue;
      }
      const expr = this.field(part.node, 'expression');
      const v = expr ? this.eval(expr, scope) : UNKNOWN;
      const s = coerceToString(v, false);
      if (s === undefined) return { kind: 'unknown', span };
      texts.push({ text: s });
    }
    const { value, pieces } = joinText(texts);
    return { kind: 'string', value, span, pieces };
  }

  /** The name of one element of an attribute path: identifier, "string" or ${expr}. */
  attrName(node: SyntaxNode, scope: Scope): string | undefined {
    const type = this.type(node);
    if (type === 'identifier') return this.text(node);
    if (type === 'string_expression') {
      const v = this.evalString(node, scope);
      return v.kind === 'string' ? v.value : undefined;
    }
    if (type === 'interpolation') {
      const e = this.field(node, 'expression');
      const v = e ? this.eval(e, scope) : UNKNOWN;
      return v.kind === 'string' ? v.value : undefined;
    }
    return undefined;
  }

  private evalAttrs(node: SyntaxNode, scope: Scope, rec: boolean): AttrsValue {
    const set = this.named(node).find((c) => this.type(c) === 'binding_set');
    if (!rec) return this.buildAttrs(set, scope, scope, this.span(node));
    const vars = new Map<string, Thunk>();
    const inner = scope.child(vars);
    const attrs = this.buildAttrs(set, inner, scope, this.span(node), vars);
    vars.clear();
    for (const [k, a] of attrs.attrs) vars.set(k, a.thunk);
    return attrs;
  }

  private evalLet(node: SyntaxNode, scope: Scope): Value {
    const set = this.named(node).find((c) => this.type(c) === 'binding_set');
    const vars = new Map<string, Thunk>();
    const inner = scope.child(vars);
    const attrs = this.buildAttrs(set, inner, scope, this.span(node), vars);
    vars.clear();
    for (const [k, a] of attrs.attrs) vars.set(k, a.thunk);
    return this.evalField(node, 'body', inner);
  }

  /**
   * Builds an attribute set from a binding_set. Values are evaluated in
   * `valueScope`; `inherit x;` reads `inheritScope` (the enclosing scope, also
   * for rec and let, as Nix does). Paths like `a.b = 1; a.c = 2; a = { d = 3; };`
   * are merged lazily.
   */
  buildAttrs(
    set: SyntaxNode | undefined,
    valueScope: Scope,
    inheritScope: Scope,
    span: Span,
    vars?: Map<string, Thunk>,
  ): AttrsValue {
    const root = new PathBuilder(span);
    let complete = true;
    const bindings = set ? this.named(set) : [];
    // In rec and let, names with interpolations see the static attributes:
    // read the static bindings first and publish them before the dynamic ones.
    const isDynamic = (b: SyntaxNode) =>
      this.type(b) === 'binding' &&
      (this.field(b, 'attrpath') ? this.named(this.field(b, 'attrpath') as SyntaxNode) : []).some(
        (n) => this.type(n) === 'interpolation' || (this.type(n) === 'string_expression' && this.named(n).some((c) => this.type(c) === 'interpolation')),
      );
    const ordered = vars ? [...bindings.filter((b) => !isDynamic(b)), ...bindings.filter(isDynamic)] : bindings;
    let published = false;
    for (const b of ordered) {
      if (vars && !published && isDynamic(b)) {
        published = true;
        for (const [k, a] of root.build(this).attrs) vars.set(k, a.thunk);
      }
      const type = this.type(b);
      if (type === 'binding') {
        const path = this.field(b, 'attrpath');
        const names = path ? this.named(path) : [];
        if (names.length === 1) {
          // `name = value;`, the common case: no key list.
          const n = names[0] as SyntaxNode;
          const name = this.attrName(n, valueScope);
          if (name === undefined) complete = false;
          else root.addOne(name, this.span(n), this.thunk(this.field(b, 'expression'), valueScope), this.span(b));
          continue;
        }
        const keys: { name: string; span: Span }[] = [];
        for (const n of names) {
          const name = this.attrName(n, valueScope);
          if (name === undefined) break;
          keys.push({ name, span: this.span(n) });
        }
        if (keys.length < names.length || keys.length === 0) {
          complete = false;
          continue;
        }
        root.add(keys, this.thunk(this.field(b, 'expression'), valueScope), this.span(b));
      } else if (type === 'inherit' || type === 'inherit_from') {
        // `inherit (e)` evaluates e in the set's own scope (for rec and let too).
        const from = type === 'inherit_from' ? this.thunk(this.field(b, 'expression'), valueScope) : undefined;
        const attrsNode = this.field(b, 'attrs');
        for (const n of attrsNode ? this.named(attrsNode) : []) {
          const name = this.attrName(n, inheritScope);
          if (name === undefined) {
            complete = false;
            continue;
          }
          const nameSpan = this.span(n);
          const thunk = from
            ? new Thunk(() => this.select(from.force(), name))
            : new Thunk(() => this.lookup(name, inheritScope, nameSpan));
          root.addOne(name, nameSpan, thunk, this.span(b));
        }
      }
      // Anything else is an ERROR node inside the set: its bindings are not read.
      else if (type === 'ERROR') complete = false;
    }
    const v = root.build(this);
    v.complete = v.complete && complete && !(set && this.tree.hasError(set));
    return v;
  }

  private evalSelect(node: SyntaxNode, scope: Scope): Value {
    let v = this.evalField(node, 'expression', scope);
    const path = this.field(node, 'attrpath');
    const def = this.field(node, 'default');
    for (const n of path ? this.named(path) : []) {
      const name = this.attrName(n, scope);
      if (name === undefined) return { kind: 'unknown', span: this.span(node) };
      if (v.kind === 'attrs') {
        const a = v.attrs.get(name);
        if (a) {
          v = a.thunk.force();
          continue;
        }
        if (v.complete && def) return this.eval(def, scope);
      }
      return { kind: 'unknown', span: this.span(node) };
    }
    return v;
  }

  select(v: Value, name: string): Value {
    if (v.kind !== 'attrs') return UNKNOWN;
    return v.attrs.get(name)?.thunk.force() ?? UNKNOWN;
  }

  private evalHasAttr(node: SyntaxNode, scope: Scope, span: Span): Value {
    let v = this.evalField(node, 'expression', scope);
    const path = this.field(node, 'attrpath');
    for (const n of path ? this.named(path) : []) {
      const name = this.attrName(n, scope);
      if (name === undefined || v.kind !== 'attrs') return { kind: 'unknown', span };
      const a = v.attrs.get(name);
      if (!a) return v.complete ? { kind: 'bool', value: false, span } : { kind: 'unknown', span };
      v = a.thunk.force();
    }
    return { kind: 'bool', value: true, span };
  }

  private evalBinary(node: SyntaxNode, scope: Scope, span: Span): Value {
    const opNode = this.field(node, 'operator');
    const op = opNode ? this.type(opNode) : '';
    const left = () => this.evalField(node, 'left', scope);
    const right = () => this.evalField(node, 'right', scope);
    switch (op) {
      case '++':
        return concatLists(left(), right(), span);
      case '//':
        return updateAttrs(left(), right(), span);
      case '&&': {
        const l = left();
        if (l.kind === 'bool' && !l.value) return { kind: 'bool', value: false, span };
        const r = right();
        if (l.kind === 'bool' && r.kind === 'bool') return { kind: 'bool', value: r.value, span };
        return r.kind === 'bool' && !r.value ? { kind: 'bool', value: false, span } : { kind: 'unknown', span };
      }
      case '||': {
        const l = left();
        if (l.kind === 'bool' && l.value) return { kind: 'bool', value: true, span };
        const r = right();
        if (l.kind === 'bool' && r.kind === 'bool') return { kind: 'bool', value: r.value, span };
        return r.kind === 'bool' && r.value ? { kind: 'bool', value: true, span } : { kind: 'unknown', span };
      }
      case '->': {
        const l = left();
        if (l.kind === 'bool' && !l.value) return { kind: 'bool', value: true, span };
        const r = right();
        return l.kind === 'bool' && r.kind === 'bool' ? { kind: 'bool', value: r.value, span } : { kind: 'unknown', span };
      }
      case '==':
      case '!=': {
        const eq = equalValues(left(), right());
        return eq === undefined ? { kind: 'unknown', span } : { kind: 'bool', value: op === '==' ? eq : !eq, span };
      }
      default:
        return arithmetic(op, left(), right(), span);
    }
  }

  apply(f: Value, arg: Thunk, span: Span): Value {
    return this.nested<Value>({ kind: 'unknown', span }, () => {
      // A lambda reads its own file's tree (values can cross files through the module system).
      if (f.kind === 'lambda') return f.ev.applyLambda(f, arg);
      if (f.kind === 'prim') {
        const args = [...f.args, arg];
        if (args.length < f.arity) return { ...f, args, span };
        return applyPrim(this, f.name, args, span);
      }
      return { kind: 'unknown', span };
    });
  }

  applyLambda(f: LambdaValue, arg: Thunk): Value {
    const vars = new Map<string, Thunk>();
    const inner = f.scope.child(vars);
    const universal = this.field(f.node, 'universal');
    if (universal) vars.set(this.text(universal), arg);
    const formals = this.field(f.node, 'formals');
    if (formals) {
      for (const formal of this.fieldAll(formals, 'formal')) {
        const name = this.field(formal, 'name');
        if (!name || this.tree.isMissing(name)) continue;
        const def = this.field(formal, 'default');
        const formalName = this.text(name);
        vars.set(
          formalName,
          new Thunk(() => {
            const a = arg.force();
            if (a.kind === 'attrs') {
              const given = a.attrs.get(formalName);
              if (given) return given.thunk.force();
              if (a.complete) return def ? this.eval(def, inner) : UNKNOWN;
            }
            return UNKNOWN;
          }),
        );
      }
    }
    const body = this.field(f.node, 'body');
    return body ? this.eval(body, inner) : UNKNOWN;
  }
}

interface PathEntry {
  keySpan: Span;
  bindingSpan: Span;
  /** The values bound to exactly this path, in order (usually one). */
  thunk?: Thunk;
  more?: Thunk[];
  /** Deeper paths under this name (`a.b = …`). */
  child?: PathBuilder;
}

/**
 * Builds nested attribute sets from binding paths, merging repeated prefixes.
 * Until a path has several names or a name comes twice, the attributes go
 * straight into the set's Map (most sets: `name = value;` only).
 */
class PathBuilder {
  private direct: Map<string, Attr> | undefined = new Map();
  private entries: Map<string, PathEntry> | undefined;

  constructor(private readonly span: Span) {}

  /** `name = value;` (or `inherit name;`). */
  addOne(name: string, keySpan: Span, thunk: Thunk, bindingSpan: Span): void {
    if (this.direct && !this.direct.has(name)) {
      this.direct.set(name, { thunk, keySpan, bindingSpan });
      return;
    }
    this.add([{ name, span: keySpan }], thunk, bindingSpan);
  }

  /** Iterative: a path of 100,000 names (`a.a.a… = 1;`) must neither copy nor recurse per name. */
  add(keys: { name: string; span: Span }[], thunk: Thunk, bindingSpan: Span): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking down the path
    let node: PathBuilder = this;
    for (let i = 0; i < keys.length; i++) {
      const head = keys[i] as { name: string; span: Span };
      const entries = node.pathEntries();
      let e = entries.get(head.name);
      if (!e) {
        e = { keySpan: head.span, bindingSpan };
        entries.set(head.name, e);
      }
      if (i === keys.length - 1) {
        if (!e.thunk) e.thunk = thunk;
        else (e.more ??= []).push(thunk);
      } else {
        e.child ??= new PathBuilder(bindingSpan);
        node = e.child;
      }
    }
  }

  /** Leaves the direct mode: the attributes so far become path entries, in order. */
  private pathEntries(): Map<string, PathEntry> {
    if (!this.entries) {
      this.entries = new Map();
      for (const [name, a] of this.direct ?? []) {
        this.entries.set(name, { keySpan: a.keySpan as Span, bindingSpan: a.bindingSpan as Span, thunk: a.thunk });
      }
      this.direct = undefined;
    }
    return this.entries;
  }

  build(ev: Evaluator): AttrsValue {
    // Direct mode: the Map itself (a build before the last binding only has its entries copied out).
    if (this.direct) return { kind: 'attrs', attrs: this.direct, span: this.span, complete: true };
    const attrs = new Map<string, Attr>();
    for (const [name, e] of this.entries ?? []) {
      // `name = value;` once: no merging, no extra arrays.
      if (e.thunk && !e.more && !e.child) {
        attrs.set(name, { thunk: e.thunk, keySpan: e.keySpan, bindingSpan: e.bindingSpan });
        continue;
      }
      const sources: Thunk[] = [...(e.thunk ? [e.thunk] : []), ...(e.more ?? [])];
      if (e.child) {
        const child = e.child;
        sources.unshift(new Thunk(() => child.build(ev)));
      }
      const thunk = sources.length === 1 ? (sources[0] as Thunk) : new Thunk(() => mergeAttrs(sources.map((s) => s.force())));
      attrs.set(name, { thunk, keySpan: e.keySpan, bindingSpan: e.bindingSpan });
    }
    return { kind: 'attrs', attrs, span: this.span, complete: true };
  }
}

export function concatLists(l: Value, r: Value, span: Span): Value {
  if (l.kind !== 'list' && r.kind !== 'list') return { kind: 'unknown', span };
  const items = [...(l.kind === 'list' ? l.items : []), ...(r.kind === 'list' ? r.items : [])];
  const complete = l.kind === 'list' && r.kind === 'list' && l.complete && r.complete;
  return { kind: 'list', items, span, complete } satisfies ListValue;
}

export function updateAttrs(l: Value, r: Value, span: Span): Value {
  // An unknown right side could override anything; an unknown left side still
  // leaves the right side's attributes known.
  if (r.kind !== 'attrs') return { kind: 'unknown', span };
  if (l.kind !== 'attrs') return { kind: 'attrs', attrs: new Map(r.attrs), span: r.span, complete: false };
  const attrs = new Map<string, Attr>();
  // An attribute of r whose name is unknown may replace any of l's: their values are then unknown.
  for (const [k, a] of l.attrs) attrs.set(k, r.complete ? a : { ...a, thunk: UNKNOWN_THUNK });
  for (const [k, a] of r.attrs) attrs.set(k, a);
  return { kind: 'attrs', attrs, span: l.span, complete: l.complete && r.complete };
}

export function equalValues(a: Value, b: Value): boolean | undefined {
  const scalar = (v: Value) =>
    v.kind === 'string' || v.kind === 'int' || v.kind === 'float' || v.kind === 'bool' || v.kind === 'path';
  if (a.kind === 'null' || b.kind === 'null') {
    if (a.kind === 'unknown' || b.kind === 'unknown') return undefined;
    return a.kind === b.kind;
  }
  if (scalar(a) && scalar(b)) {
    const av = (a as { value: unknown }).value;
    const bv = (b as { value: unknown }).value;
    const numeric = (a.kind === 'int' || a.kind === 'float') && (b.kind === 'int' || b.kind === 'float');
    if (!numeric && a.kind !== b.kind) return false;
    return av === bv;
  }
  return undefined;
}

function arithmetic(op: string, l: Value, r: Value, span: Span): Value {
  if (op === '+' && (l.kind === 'string' || l.kind === 'path') && (r.kind === 'string' || r.kind === 'path')) {
    if (l.kind === 'string' && r.kind === 'path') return { kind: 'unknown', span };
    const pieces = [
      ...(l.kind === 'string' ? (l.pieces ?? []) : []),
      ...(r.kind === 'string' ? (r.pieces ?? []).map((p) => ({ ...p, at: p.at + l.value.length })) : []),
    ];
    if (l.kind === 'path') return { kind: 'path', value: l.value + r.value, span };
    return { kind: 'string', value: l.value + r.value, span, pieces } satisfies StringValue;
  }
  const num = (v: Value) => (v.kind === 'int' || v.kind === 'float' ? v.value : undefined);
  const a = num(l);
  const b = num(r);
  if (a === undefined || b === undefined) return { kind: 'unknown', span };
  const isFloat = l.kind === 'float' || r.kind === 'float';
  const kind = isFloat ? 'float' : 'int';
  // Nix integers are 64-bit; past 2^53 a JavaScript number is not exact.
  const exact = (value: number): Value =>
    isFloat || Number.isSafeInteger(value) ? { kind, value, span } : { kind: 'unknown', span };
  switch (op) {
    case '+':
      return exact(a + b);
    case '-':
      return exact(a - b);
    case '*':
      return exact(a * b);
    case '/':
      if (b === 0) return { kind: 'unknown', span };
      return { kind, value: isFloat ? a / b : Math.trunc(a / b), span };
    case '<':
      return { kind: 'bool', value: a < b, span };
    case '<=':
      return { kind: 'bool', value: a <= b, span };
    case '>':
      return { kind: 'bool', value: a > b, span };
    case '>=':
      return { kind: 'bool', value: a >= b, span };
    default:
      return { kind: 'unknown', span };
  }
}

/** Nix's string coercion: `"${x}"` (strict) or toString (lenient). */
export function coerceToString(v: Value, lenient: boolean): string | undefined {
  switch (v.kind) {
    case 'string':
      return v.value;
    case 'path':
      // "${./x}" copies the file to the store; toString gives the absolute path.
      // Neither is knowable here for a relative path.
      return lenient && v.value.startsWith('/') ? v.value : undefined;
    case 'int':
      return lenient ? String(v.value) : undefined;
    case 'float':
      return lenient ? nixToString(v.value, true) : undefined;
    case 'bool':
      return lenient ? (v.value ? '1' : '') : undefined;
    case 'null':
      return lenient ? '' : undefined;
    case 'list': {
      if (!lenient || !v.complete) return undefined;
      let out = '';
      for (let i = 0; i < v.items.length; i++) {
        const x = (v.items[i] as Thunk).force();
        const s = coerceToString(x, true);
        if (s === undefined) return undefined;
        out += s;
        // Nix puts no separator after an empty inner list.
        if (i < v.items.length - 1 && !(x.kind === 'list' && x.items.length === 0)) out += ' ';
      }
      return out;
    }
    default:
      return undefined;
  }
}

export { UNKNOWN };
