// Values of the static reader. Every value remembers the source span it came
// from, so a diagnostic reached through lets, inherits or lambdas points at the
// literal to edit. "unknown" is an explicit value that rules never report on.
import type { Span } from '../span';
import type { SyntaxNode } from '../parser';
import type { Scope } from './scope';
import type { Evaluator } from './evaluator';

/** A stretch of a string value that maps 1:1 onto document text. */
export interface StringPiece {
  /** Offset in the string value. */
  at: number;
  length: number;
  /**
   * The same characters in the document: `rel` units after the start of
   * `base`, the span of the literal they were written in. Relative, so that
   * the piece follows its literal when an edit elsewhere moves it.
   */
  base: Span;
  rel: number;
}

/** Where a piece's characters start in the document (UTF-16 units). */
export function pieceDoc(p: StringPiece): number {
  return p.base.start + p.rel;
}

export interface StringValue {
  kind: 'string';
  value: string;
  span: Span;
  /** Where the characters came from; absent when unknown (e.g. built by a function). */
  pieces?: StringPiece[];
}
export interface IntValue {
  kind: 'int';
  value: number;
  span: Span;
}
export interface FloatValue {
  kind: 'float';
  value: number;
  span: Span;
}
export interface BoolValue {
  kind: 'bool';
  value: boolean;
  span: Span;
}
export interface NullValue {
  kind: 'null';
  span: Span;
}
export interface PathValue {
  kind: 'path';
  /** The path as written (`./x.nix`, `/etc/x`, `~/x`). */
  value: string;
  span: Span;
}
export interface ListValue {
  kind: 'list';
  items: Thunk[];
  span: Span;
  /** False when some elements could not be read: the known ones are still checked. */
  complete: boolean;
}
export interface Attr {
  thunk: Thunk;
  /** The attribute name as written in the binding, when there is one. */
  keySpan?: Span;
  /** The whole binding `name = value;`, for edits that replace or remove it. */
  bindingSpan?: Span;
}
export interface AttrsValue {
  kind: 'attrs';
  attrs: Map<string, Attr>;
  span: Span;
  /** False when attributes may exist that could not be read (dynamic names, unknown `//`). */
  complete: boolean;
}
export interface LambdaValue {
  kind: 'lambda';
  node: SyntaxNode;
  /** The evaluator of the file the lambda is written in: `node` indexes its tree. */
  ev: Evaluator;
  scope: Scope;
  span: Span;
}
export interface PrimValue {
  kind: 'prim';
  name: string;
  arity: number;
  args: Thunk[];
  span: Span;
}
/** The NixOS module system's wrappers (mkIf, mkMerge, mkOverride, mkOrder). */
export type ModuleWrapper =
  | { kind: 'module'; type: 'if'; condition: Thunk; content: Thunk; span: Span }
  | { kind: 'module'; type: 'merge'; contents: Thunk; span: Span }
  | { kind: 'module'; type: 'override'; priority: number; content: Thunk; span: Span }
  | { kind: 'module'; type: 'order'; content: Thunk; span: Span };
export interface UnknownValue {
  kind: 'unknown';
  span?: Span;
}

export type Value =
  | StringValue
  | IntValue
  | FloatValue
  | BoolValue
  | NullValue
  | PathValue
  | ListValue
  | AttrsValue
  | LambdaValue
  | PrimValue
  | ModuleWrapper
  | UnknownValue;

export const UNKNOWN: UnknownValue = Object.freeze({ kind: 'unknown' }) as UnknownValue;

/** What a thunk of an expression evaluates: the node, in a scope, by its file's evaluator. */
export interface NodeThunkSource {
  eval(node: SyntaxNode, scope: Scope): Value;
  /** A thunk was read while it was being forced (a cycle): what was read first decided what came out unknown. */
  noteCycle(): void;
}

/** The evaluators whose expression thunks are being forced, innermost last: a cycle marks them all. */
const forcing: NodeThunkSource[] = [];

/** An expression thunk's recipe: the node, its scope and its file's evaluator. */
export interface ThunkExpression {
  source: NodeThunkSource;
  node: SyntaxNode;
  scope: Scope;
}

/** Marks a thunk being forced (`let a = a; in a` reads itself: unknown, not a loop). */
const FORCING: UnknownValue = Object.freeze({ kind: 'unknown' }) as UnknownValue;

/**
 * A lazily computed value. Forcing a thunk that is already being forced
 * (`let a = a; in a`) gives unknown instead of recursing.
 *
 * Kept small (four fields): a 1 MB file makes ~100k of them, all alive as long
 * as the read module, and the young-generation GC copies every survivor.
 */
export class Thunk {
  /** The value once forced; FORCING while being forced; undefined before. */
  private result: Value | undefined = undefined;
  /** A closure, or (for an expression thunk, without a closure) the evaluator of `node` in `scope`. */
  private source: (() => Value) | NodeThunkSource | undefined;
  private node: SyntaxNode = 0;
  private scope: Scope | undefined = undefined;

  constructor(compute: (() => Value) | undefined) {
    this.source = compute;
  }

  static of(value: Value): Thunk {
    const t = new Thunk(undefined);
    t.result = value;
    return t;
  }

  /** The thunk of `node` in `scope`, evaluated by `ev`. */
  static expr(ev: NodeThunkSource, node: SyntaxNode, scope: Scope): Thunk {
    const t = new Thunk(undefined);
    t.source = ev;
    t.node = node;
    t.scope = scope;
    return t;
  }

  /**
   * What an expression thunk not forced yet will evaluate (undefined once
   * forced, or for other thunks): kept by the model for the builders it reads
   * from a list, so that a keystroke inside one can evaluate just that again.
   */
  expression(): ThunkExpression | undefined {
    const src = this.source;
    if (this.result !== undefined || !src || typeof src === 'function' || !this.scope) return undefined;
    return { source: src, node: this.node, scope: this.scope };
  }

  /** Forgets the value and evaluates `e` on the next force (incremental.ts: the text under `e.node` changed). */
  recompute(e: ThunkExpression): void {
    if (this.result === FORCING) throw new Error('nix-builders: recompute of a thunk being forced');
    this.result = undefined;
    this.source = e.source;
    this.node = e.node;
    this.scope = e.scope;
  }

  force(): Value {
    const r = this.result;
    if (r !== undefined) {
      if (r !== FORCING) return r;
      for (const s of forcing) s.noteCycle();
      return UNKNOWN;
    }
    this.result = FORCING;
    let value: Value = UNKNOWN;
    const src = this.source;
    const expr = src !== undefined && typeof src !== 'function';
    if (expr) forcing.push(src);
    try {
      if (typeof src === 'function') value = src();
      else if (src) value = src.eval(this.node, this.scope as Scope);
    } finally {
      if (expr) forcing.pop();
      this.result = value;
      this.source = undefined;
      this.scope = undefined;
    }
    return value;
  }
}

export const UNKNOWN_THUNK = Thunk.of(UNKNOWN);

export function isKnown(v: Value): boolean {
  return v.kind !== 'unknown';
}
