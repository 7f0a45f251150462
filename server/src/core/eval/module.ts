// Reads a file as a NixOS module: applies the module function to its arguments
// (with `lib` known), and collects the definitions of an option path through
// `config`, mkIf, mkMerge, mkOverride and attribute-path nesting.
import type { Tree } from '../parser';
import type { Span } from '../span';
import { Evaluator, type EvalLimits, DEFAULT_LIMITS } from './evaluator';
import { libValue } from './builtins';
import { type Attr, type AttrsValue, Thunk, UNKNOWN, type Value } from './value';

export interface Definition {
  value: Value;
  /** Under an mkIf (or optional) whose condition is not known. */
  conditional: boolean;
  /** Module-system priority: mkForce 50, plain 100, mkDefault 1000. */
  priority: number;
  /** The binding that defines it (`nix.buildMachines = …;` or `buildMachines = …;`). */
  bindingSpan?: Span;
}

export interface ModuleRoot {
  file: string;
  ev: Evaluator;
  /** The configuration part of the module (its `config`, or the whole set). */
  config: Value;
  /** The module's `imports` list, if any. */
  imports: Value | undefined;
  /** The file's value is not a module the reader can see into; it is left out. */
  opaque?: boolean;
}

function moduleArgs(span: Span): AttrsValue {
  const lib = libValue();
  const pkgs: AttrsValue = { kind: 'attrs', attrs: new Map([['lib', { thunk: Thunk.of(lib) }]]), span, complete: false };
  const attrs = new Map<string, Attr>([
    ['lib', { thunk: Thunk.of(lib) }],
    ['pkgs', { thunk: Thunk.of(pkgs) }],
  ]);
  // config, options, modulesPath, … exist but are not known: an incomplete set.
  return { kind: 'attrs', attrs, span, complete: false };
}

export function readModule(file: string, tree: Tree, limits: EvalLimits = DEFAULT_LIMITS): ModuleRoot {
  const ev = new Evaluator(file, tree, limits);
  let v = ev.eval(tree.root, ev.globals);
  if (v.kind === 'lambda') v = ev.apply(v, Thunk.of(moduleArgs(v.span)), v.span);
  if (v.kind === 'module') return { file, ev, config: v, imports: undefined };
  if (v.kind !== 'attrs') {
    // Not a module (a package, a shell, a value built by code the reader cannot
    // follow): it contributes no definitions. Counting it as "could define
    // anything" would silence every configuration-wide check of the workspace.
    return { file, ev, config: { kind: 'attrs', attrs: new Map(), span: ev.span(tree.root), complete: true }, imports: undefined, opaque: true };
  }
  const imports = v.attrs.get('imports')?.thunk.force();
  const explicit = v.attrs.get('config');
  if (explicit || v.attrs.has('options')) {
    return { file, ev, config: explicit ? explicit.thunk.force() : UNKNOWN, imports };
  }
  return { file, ev, config: v, imports };
}

export interface Definitions {
  defs: Definition[];
  /** True when part of the configuration could not be read, so more definitions may exist. */
  partial: boolean;
}

export function definitions(roots: ModuleRoot[], path: string[]): Definitions {
  const out: Definition[] = [];
  const state = { partial: false };
  for (const r of roots) collect(r.config, path, 0, false, 100, out, state, 0, undefined);
  return { defs: out, partial: state.partial };
}

const MAX_WRAPPER_DEPTH = 200;

function collect(
  v: Value,
  path: string[],
  i: number,
  conditional: boolean,
  priority: number,
  out: Definition[],
  state: { partial: boolean },
  depth: number,
  bindingSpan: Span | undefined,
): void {
  if (depth > MAX_WRAPPER_DEPTH) {
    state.partial = true;
    return;
  }
  const next = (x: Value, j: number, c = conditional, p = priority, b = bindingSpan) =>
    collect(x, path, j, c, p, out, state, depth + 1, b);
  if (v.kind === 'module') {
    switch (v.type) {
      case 'if': {
        const c = v.condition.force();
        if (c.kind === 'bool' && !c.value) return;
        next(v.content.force(), i, conditional || c.kind !== 'bool');
        return;
      }
      case 'merge': {
        const l = v.contents.force();
        if (l.kind !== 'list') {
          state.partial = true;
          return;
        }
        if (!l.complete) state.partial = true;
        for (const t of l.items) next(t.force(), i);
        return;
      }
      case 'override':
        next(v.content.force(), i, conditional, v.priority);
        return;
      case 'order':
        next(v.content.force(), i);
        return;
    }
  }
  if (i === path.length) {
    if (v.kind === 'unknown') state.partial = true;
    out.push({ value: v, conditional, priority, bindingSpan });
    return;
  }
  if (v.kind === 'attrs') {
    const a = v.attrs.get(path[i] as string);
    if (a) next(a.thunk.force(), i + 1, conditional, priority, a.bindingSpan);
    else if (!v.complete) state.partial = true;
    return;
  }
  state.partial = true;
}

/**
 * Strips module wrappers from a single value (an attribute of a builder, say).
 * mkIf false gives undefined (the attribute is not set); an unknown condition
 * keeps the content.
 */
export function unwrap(v: Value, depth = 0): Value | undefined {
  if (v.kind !== 'module' || depth > MAX_WRAPPER_DEPTH) return v;
  switch (v.type) {
    case 'if': {
      const c = v.condition.force();
      if (c.kind === 'bool' && !c.value) return undefined;
      return unwrap(v.content.force(), depth + 1);
    }
    case 'override':
    case 'order':
      return unwrap(v.content.force(), depth + 1);
    case 'merge':
      return { kind: 'unknown', span: v.span };
  }
}

/** The definitions that win: those of the highest priority (lowest number). */
export function winning(defs: Definition[]): Definition[] {
  if (defs.length === 0) return defs;
  const best = Math.min(...defs.map((d) => d.priority));
  return defs.filter((d) => d.priority === best);
}
