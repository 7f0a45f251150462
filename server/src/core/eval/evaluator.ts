// A small lazy partial evaluator over the tree-sitter tree (SPEC §2.3). It
// reads what can be known statically and answers "unknown" for the rest. Fuel
// and depth limits make every input terminate without overflowing the stack.
import type { SyntaxNode } from '../parser';
import type { Span } from '../span';
import { Scope } from './scope';
import { joinText, stringParts } from './strings';
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

export const DEFAULT_LIMITS: EvalLimits = { fuel: 2_000_000, depth: 400 };

export class Evaluator {
  private fuel: number;
  private depth = 0;
  readonly globals: Scope;

  constructor(
    readonly file: string,
    limits: EvalLimits = DEFAULT_LIMITS,
  ) {
    this.fuel = limits.fuel;
    this.maxDepth = limits.depth;
    this.globals = globalScope(this);
  }

  private readonly maxDepth: number;

  span(node: SyntaxNode): Span {
    return { file: this.file, start: node.startIndex, end: node.endIndex };
  }

  /** Whether the budget still allows another step; used by builtins that loop. */
  tick(): boolean {
    return --this.fuel > 0;
  }

  thunk(node: SyntaxNode | null | undefined, scope: Scope): Thunk {
    if (!node) return UNKNOWN_THUNK;
    return new Thunk(() => this.eval(node, scope));
  }

  eval(node: SyntaxNode, scope: Scope): Value {
    if (--this.fuel <= 0 || this.depth >= this.maxDepth) return UNKNOWN;
    this.depth++;
    try {
      return this.evalNode(node, scope);
    } finally {
      this.depth--;
    }
  }

  /** Runs `f` one level deeper (function application, forcing inside builtins). */
  nested<T>(fallback: T, f: () => T): T {
    if (this.depth >= this.maxDepth || --this.fuel <= 0) return fallback;
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private evalNode(node: SyntaxNode, scope: Scope): Value {
    const span = this.span(node);
    switch (node.type) {
      case 'source_code': {
        const e = node.childForFieldName('expression');
        return e ? this.eval(e, scope) : UNKNOWN;
      }
      case 'parenthesized_expression':
        return this.evalField(node, 'expression', scope);
      case 'integer_expression': {
        const n = Number(node.text);
        return Number.isSafeInteger(n) ? { kind: 'int', value: n, span } : UNKNOWN;
      }
      case 'float_expression':
        return { kind: 'float', value: Number(node.text), span };
      case 'string_expression':
      case 'indented_string_expression':
        return this.evalString(node, scope);
      case 'path_expression':
      case 'hpath_expression':
        // Interpolated paths are not read.
        return node.namedChildren.some((c) => c.type === 'interpolation')
          ? { kind: 'unknown', span }
          : { kind: 'path', value: node.text, span };
      case 'uri_expression':
        return { kind: 'string', value: node.text, span, pieces: [{ at: 0, length: node.text.length, doc: node.startIndex }] };
      case 'list_expression':
        return {
          kind: 'list',
          items: node.childrenForFieldName('element').map((e) => this.thunk(e, scope)),
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
        const env = this.thunk(node.childForFieldName('environment'), scope);
        return this.evalField(node, 'body', scope.withScope(env));
      }
      case 'assert_expression':
        return this.evalField(node, 'body', scope);
      case 'variable_expression': {
        const name = node.childForFieldName('name')?.text ?? '';
        const v = this.lookup(name, scope, span);
        // Globals (true, null, builtins.map…) take the span of their use.
        return v.span?.file === '<builtin>' ? { ...v, span } : v;
      }
      case 'function_expression':
        return { kind: 'lambda', node, scope, span } satisfies LambdaValue;
      case 'apply_expression':
        return this.apply(
          this.eval(node.childForFieldName('function') as SyntaxNode, scope),
          this.thunk(node.childForFieldName('argument'), scope),
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
        const op = node.childForFieldName('operator')?.type;
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

  private evalField(node: SyntaxNode, field: string, scope: Scope): Value {
    const c = node.childForFieldName(field);
    return c ? this.eval(c, scope) : UNKNOWN;
  }

  lookup(name: string, scope: Scope, span: Span): Value {
    const t = scope.lookup(name) ?? this.globals.lookup(name);
    return t ? t.force() : { kind: 'unknown', span };
  }

  private evalString(node: SyntaxNode, scope: Scope): Value {
    const span = this.span(node);
    const texts: { text: string; doc?: number }[] = [];
    for (const part of stringParts(node)) {
      if (part.kind === 'text') {
        texts.push(part);
        continue;
      }
      const expr = part.node.childForFieldName('expression');
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
    if (node.type === 'identifier') return node.text;
    if (node.type === 'string_expression') {
      const v = this.evalString(node, scope);
      return v.kind === 'string' ? v.value : undefined;
    }
    if (node.type === 'interpolation') {
      const e = node.childForFieldName('expression');
      const v = e ? this.eval(e, scope) : UNKNOWN;
      return v.kind === 'string' ? v.value : undefined;
    }
    return undefined;
  }

  private evalAttrs(node: SyntaxNode, scope: Scope, rec: boolean): AttrsValue {
    const set = node.namedChildren.find((c) => c.type === 'binding_set');
    if (!rec) return this.buildAttrs(set, scope, scope, this.span(node));
    const vars = new Map<string, Thunk>();
    const inner = scope.child(vars);
    const attrs = this.buildAttrs(set, inner, scope, this.span(node));
    for (const [k, a] of attrs.attrs) vars.set(k, a.thunk);
    return attrs;
  }

  private evalLet(node: SyntaxNode, scope: Scope): Value {
    const set = node.namedChildren.find((c) => c.type === 'binding_set');
    const vars = new Map<string, Thunk>();
    const inner = scope.child(vars);
    const attrs = this.buildAttrs(set, inner, scope, this.span(node));
    for (const [k, a] of attrs.attrs) vars.set(k, a.thunk);
    return this.evalField(node, 'body', inner);
  }

  /**
   * Builds an attribute set from a binding_set. Values are evaluated in
   * `valueScope`; `inherit x;` reads `inheritScope` (the enclosing scope, also
   * for rec and let, as Nix does). Paths like `a.b = 1; a.c = 2; a = { d = 3; };`
   * are merged lazily.
   */
  buildAttrs(set: SyntaxNode | undefined, valueScope: Scope, inheritScope: Scope, span: Span): AttrsValue {
    const root = new PathBuilder(span);
    let complete = true;
    for (const b of set ? set.namedChildren : []) {
      if (b.type === 'binding') {
        const path = b.childForFieldName('attrpath');
        const names = path ? path.namedChildren : [];
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
        root.add(keys, this.thunk(b.childForFieldName('expression'), valueScope), this.span(b));
      } else if (b.type === 'inherit' || b.type === 'inherit_from') {
        const from = b.type === 'inherit_from' ? this.thunk(b.childForFieldName('expression'), inheritScope) : undefined;
        const attrsNode = b.childForFieldName('attrs');
        for (const n of attrsNode ? attrsNode.namedChildren : []) {
          const name = this.attrName(n, inheritScope);
          if (name === undefined) {
            complete = false;
            continue;
          }
          const nameSpan = this.span(n);
          const thunk = from
            ? new Thunk(() => this.select(from.force(), name))
            : new Thunk(() => this.lookup(name, inheritScope, nameSpan));
          root.add([{ name, span: nameSpan }], thunk, this.span(b));
        }
      }
      // Anything else is an ERROR node inside the set: its bindings are not read.
      else if (b.type === 'ERROR') complete = false;
    }
    const v = root.build(this);
    v.complete = v.complete && complete && !set?.hasError;
    return v;
  }

  private evalSelect(node: SyntaxNode, scope: Scope): Value {
    let v = this.evalField(node, 'expression', scope);
    const path = node.childForFieldName('attrpath');
    const def = node.childForFieldName('default');
    for (const n of path ? path.namedChildren : []) {
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
    const path = node.childForFieldName('attrpath');
    for (const n of path ? path.namedChildren : []) {
      const name = this.attrName(n, scope);
      if (name === undefined || v.kind !== 'attrs') return { kind: 'unknown', span };
      const a = v.attrs.get(name);
      if (!a) return v.complete ? { kind: 'bool', value: false, span } : { kind: 'unknown', span };
      v = a.thunk.force();
    }
    return { kind: 'bool', value: true, span };
  }

  private evalBinary(node: SyntaxNode, scope: Scope, span: Span): Value {
    const op = node.childForFieldName('operator')?.type ?? '';
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
      if (f.kind === 'lambda') return this.applyLambda(f, arg);
      if (f.kind === 'prim') {
        const args = [...f.args, arg];
        if (args.length < f.arity) return { ...f, args, span };
        return applyPrim(this, f.name, args, span);
      }
      return { kind: 'unknown', span };
    });
  }

  private applyLambda(f: LambdaValue, arg: Thunk): Value {
    const vars = new Map<string, Thunk>();
    const inner = f.scope.child(vars);
    const universal = f.node.childForFieldName('universal');
    if (universal) vars.set(universal.text, arg);
    const formals = f.node.childForFieldName('formals');
    if (formals) {
      for (const formal of formals.childrenForFieldName('formal')) {
        const name = formal.childForFieldName('name');
        if (!name || name.isMissing) continue;
        const def = formal.childForFieldName('default');
        vars.set(
          name.text,
          new Thunk(() => {
            const a = arg.force();
            if (a.kind === 'attrs') {
              const given = a.attrs.get(name.text);
              if (given) return given.thunk.force();
              if (a.complete) return def ? this.eval(def, inner) : UNKNOWN;
            }
            return UNKNOWN;
          }),
        );
      }
    }
    const body = f.node.childForFieldName('body');
    return body ? this.eval(body, inner) : UNKNOWN;
  }
}

/** Builds nested attribute sets from binding paths, merging repeated prefixes. */
class PathBuilder {
  private readonly entries = new Map<string, { keySpan: Span; bindingSpan: Span; thunks: Thunk[]; child?: PathBuilder }>();

  constructor(private readonly span: Span) {}

  add(keys: { name: string; span: Span }[], thunk: Thunk, bindingSpan: Span): void {
    const [head, ...rest] = keys;
    if (!head) return;
    let e = this.entries.get(head.name);
    if (!e) {
      e = { keySpan: head.span, bindingSpan, thunks: [] };
      this.entries.set(head.name, e);
    }
    if (rest.length === 0) {
      e.thunks.push(thunk);
    } else {
      e.child ??= new PathBuilder(bindingSpan);
      e.child.add(rest, thunk, bindingSpan);
    }
  }

  build(ev: Evaluator): AttrsValue {
    const attrs = new Map<string, Attr>();
    for (const [name, e] of this.entries) {
      const sources: Thunk[] = [...e.thunks];
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
  const attrs = new Map(l.attrs);
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
  switch (op) {
    case '+':
      return { kind, value: a + b, span };
    case '-':
      return { kind, value: a - b, span };
    case '*':
      return { kind, value: a * b, span };
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
      const parts: string[] = [];
      for (const t of v.items) {
        const s = coerceToString(t.force(), true);
        if (s === undefined) return undefined;
        parts.push(s);
      }
      return parts.join(' ');
    }
    default:
      return undefined;
  }
}

export { UNKNOWN };
