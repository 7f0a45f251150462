// The builtins and nixpkgs `lib` functions that real builder configurations
// use, recognised under `builtins.`, `lib.`, `with lib;` and `inherit (lib)`.
// Each one keeps what is known of its inputs and answers unknown otherwise.
import type { Span } from '../span';
import type { Evaluator } from './evaluator';
import { coerceToString, concatLists, equalValues } from './evaluator';
import { Scope } from './scope';
import { type Attr, type AttrsValue, type ListValue, type PrimValue, Thunk, UNKNOWN, UNKNOWN_THUNK, type Value } from './value';

type Impl = (ev: Evaluator, args: Thunk[], span: Span) => Value;

const NOWHERE: Span = { file: '<builtin>', start: 0, end: 0 };

function unknownAt(span: Span): Value {
  return { kind: 'unknown', span };
}

function list(items: Thunk[], span: Span, complete: boolean): ListValue {
  return { kind: 'list', items, span, complete };
}

function arg(args: Thunk[], i: number): Value {
  return args[i]?.force() ?? UNKNOWN;
}

function byCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedNames(s: AttrsValue): string[] {
  // Nix orders names by their UTF-8 bytes, i.e. by code points (not UTF-16 units).
  return [...s.attrs.keys()].sort(byCodePoints);
}

function nameValue(name: string, s: AttrsValue): Value {
  const keySpan = s.attrs.get(name)?.keySpan ?? s.span;
  return { kind: 'string', value: name, span: keySpan };
}

function boolOf(v: Value): boolean | undefined {
  return v.kind === 'bool' ? v.value : undefined;
}

function mapList(ev: Evaluator, f: Thunk, l: Value, span: Span): Value {
  if (l.kind !== 'list') return unknownAt(span);
  const items = l.items.map((t) => new Thunk(() => ev.apply(f.force(), t, span)));
  return list(items, span, l.complete);
}

function concatAll(ev: Evaluator, lists: Value[], span: Span): Value {
  let out: Value = list([], span, true);
  for (const l of lists) {
    if (!ev.tick()) return unknownAt(span);
    out = concatLists(out, l, span);
  }
  return out;
}

function flatten(ev: Evaluator, v: Value, span: Span, out: Thunk[], state: { complete: boolean }): void {
  if (v.kind !== 'list') {
    state.complete = false;
    return;
  }
  if (!v.complete) state.complete = false;
  for (const t of v.items) {
    if (!ev.tick()) {
      state.complete = false;
      return;
    }
    const x = t.force();
    if (x.kind === 'list') ev.nested(undefined, () => flatten(ev, x, span, out, state));
    else if (x.kind === 'unknown') state.complete = false;
    else out.push(t);
  }
}

function attrsOf(entries: [string, Attr][], span: Span, complete: boolean): AttrsValue {
  return { kind: 'attrs', attrs: new Map(entries), span, complete };
}

function wrapper(type: 'override' | 'order', priority: number, content: Thunk, span: Span): Value {
  return type === 'override'
    ? { kind: 'module', type, priority, content, span }
    : { kind: 'module', type, content, span };
}

const IMPLS: Record<string, [number, Impl]> = {
  map: [2, (ev, a, span) => mapList(ev, a[0] as Thunk, arg(a, 1), span)],
  filter: [
    2,
    (ev, a, span) => {
      const l = arg(a, 1);
      if (l.kind !== 'list') return unknownAt(span);
      const items: Thunk[] = [];
      let complete = l.complete;
      for (const t of l.items) {
        const keep = boolOf(ev.apply(arg(a, 0), t, span));
        if (keep === undefined) complete = false;
        else if (keep) items.push(t);
      }
      return list(items, span, complete);
    },
  ],
  elemAt: [
    2,
    (_ev, a, span) => {
      const l = arg(a, 0);
      const i = arg(a, 1);
      if (l.kind !== 'list' || !l.complete || i.kind !== 'int') return unknownAt(span);
      return l.items[i.value]?.force() ?? unknownAt(span);
    },
  ],
  head: [1, (_ev, a, span) => {
    const l = arg(a, 0);
    return l.kind === 'list' && l.complete ? (l.items[0]?.force() ?? unknownAt(span)) : unknownAt(span);
  }],
  last: [1, (_ev, a, span) => {
    const l = arg(a, 0);
    return l.kind === 'list' && l.complete ? (l.items[l.items.length - 1]?.force() ?? unknownAt(span)) : unknownAt(span);
  }],
  tail: [1, (_ev, a, span) => {
    const l = arg(a, 0);
    return l.kind === 'list' && l.complete && l.items.length > 0 ? list(l.items.slice(1), span, true) : unknownAt(span);
  }],
  length: [1, (_ev, a, span) => {
    const l = arg(a, 0);
    return l.kind === 'list' && l.complete ? { kind: 'int', value: l.items.length, span } : unknownAt(span);
  }],
  listToAttrs: [
    1,
    (ev, a, span) => {
      const l = arg(a, 0);
      if (l.kind !== 'list') return unknownAt(span);
      const entries = new Map<string, Attr>();
      let complete = l.complete;
      // Unread elements of an incomplete list may come before any known one.
      let uncertain = !l.complete;
      for (const t of l.items) {
        if (!ev.tick()) return unknownAt(span);
        const item = t.force();
        const name = item.kind === 'attrs' ? item.attrs.get('name')?.thunk.force() : undefined;
        const value = item.kind === 'attrs' ? item.attrs.get('value') : undefined;
        if (!name || name.kind !== 'string' || !value) {
          complete = false;
          uncertain = true;
          continue;
        }
        // The first definition of a name wins, as in Nix; after an entry whose
        // name is unknown, a known name's value may be that entry's.
        if (!entries.has(name.value)) {
          entries.set(name.value, { thunk: uncertain ? UNKNOWN_THUNK : value.thunk, keySpan: name.span });
        }
      }
      return attrsOf([...entries], span, complete);
    },
  ],
  attrValues: [1, (_ev, a, span) => {
    const s = arg(a, 0);
    if (s.kind !== 'attrs') return unknownAt(span);
    return list(sortedNames(s).map((k) => (s.attrs.get(k) as Attr).thunk), span, s.complete);
  }],
  attrNames: [1, (_ev, a, span) => {
    const s = arg(a, 0);
    if (s.kind !== 'attrs') return unknownAt(span);
    return list(sortedNames(s).map((k) => Thunk.of(nameValue(k, s))), span, s.complete);
  }],
  mapAttrs: [2, (ev, a, span) => {
    const s = arg(a, 1);
    if (s.kind !== 'attrs') return unknownAt(span);
    const entries = sortedNames(s).map((k): [string, Attr] => {
      const at = s.attrs.get(k) as Attr;
      const thunk = new Thunk(() => ev.apply(ev.apply(arg(a, 0), Thunk.of(nameValue(k, s)), span), at.thunk, span));
      return [k, { ...at, thunk }];
    });
    return attrsOf(entries, span, s.complete);
  }],
  mapAttrsToList: [2, (ev, a, span) => {
    const s = arg(a, 1);
    if (s.kind !== 'attrs') return unknownAt(span);
    const items = sortedNames(s).map((k) => {
      const at = s.attrs.get(k) as Attr;
      return new Thunk(() => ev.apply(ev.apply(arg(a, 0), Thunk.of(nameValue(k, s)), span), at.thunk, span));
    });
    return list(items, span, s.complete);
  }],
  filterAttrs: [2, (ev, a, span) => {
    const s = arg(a, 1);
    if (s.kind !== 'attrs') return unknownAt(span);
    let complete = s.complete;
    const entries: [string, Attr][] = [];
    for (const k of sortedNames(s)) {
      const at = s.attrs.get(k) as Attr;
      const keep = boolOf(ev.apply(ev.apply(arg(a, 0), Thunk.of(nameValue(k, s)), span), at.thunk, span));
      if (keep === undefined) complete = false;
      else if (keep) entries.push([k, at]);
    }
    return attrsOf(entries, span, complete);
  }],
  genAttrs: [2, (ev, a, span) => {
    const names = arg(a, 0);
    if (names.kind !== 'list') return unknownAt(span);
    let complete = names.complete;
    const entries: [string, Attr][] = [];
    for (const t of names.items) {
      const n = t.force();
      if (n.kind !== 'string') {
        complete = false;
        continue;
      }
      entries.push([n.value, { thunk: new Thunk(() => ev.apply(arg(a, 1), t, span)), keySpan: n.span }]);
    }
    return attrsOf(entries, span, complete);
  }],
  concatMap: [2, (ev, a, span) => {
    const mapped = mapList(ev, a[0] as Thunk, arg(a, 1), span);
    if (mapped.kind !== 'list') return mapped;
    const out = concatAll(ev, mapped.items.map((t) => t.force()), span);
    return out.kind === 'list' ? { ...out, complete: out.complete && mapped.complete } : out;
  }],
  concatLists: [1, (ev, a, span) => {
    const l = arg(a, 0);
    if (l.kind !== 'list') return unknownAt(span);
    const out = concatAll(ev, l.items.map((t) => t.force()), span);
    return out.kind === 'list' ? { ...out, complete: out.complete && l.complete } : out;
  }],
  flatten: [1, (ev, a, span) => {
    const out: Thunk[] = [];
    const state = { complete: true };
    const v = arg(a, 0);
    if (v.kind !== 'list') return list([a[0] as Thunk], span, true);
    flatten(ev, v, span, out, state);
    return list(out, span, state.complete);
  }],
  // An unknown condition keeps the content readable (and the list open).
  optional: [2, (_ev, a, span) => {
    const c = boolOf(arg(a, 0));
    if (c === false) return list([], span, true);
    return list([a[1] as Thunk], span, c === true);
  }],
  optionals: [2, (_ev, a, span) => {
    const c = boolOf(arg(a, 0));
    if (c === false) return list([], span, true);
    const l = arg(a, 1);
    if (l.kind !== 'list') return unknownAt(span);
    return c === true ? l : { ...l, complete: false };
  }],
  optionalString: [2, (_ev, a, span): Value => {
    const c = boolOf(arg(a, 0));
    if (c === false) return { kind: 'string', value: '', span };
    return c === true ? arg(a, 1) : unknownAt(span);
  }],
  optionalAttrs: [2, (_ev, a, span) => {
    const c = boolOf(arg(a, 0));
    if (c === false) return attrsOf([], span, true);
    const s = arg(a, 1);
    if (s.kind !== 'attrs') return unknownAt(span);
    return c === true ? s : { ...s, complete: false };
  }],
  mkIf: [2, (_ev, a, span) => ({ kind: 'module', type: 'if', condition: a[0] as Thunk, content: a[1] as Thunk, span })],
  mkMerge: [1, (_ev, a, span) => ({ kind: 'module', type: 'merge', contents: a[0] as Thunk, span })],
  mkOverride: [2, (_ev, a, span) => {
    const p = arg(a, 0);
    return wrapper('override', p.kind === 'int' ? p.value : 100, a[1] as Thunk, span);
  }],
  mkForce: [1, (_ev, a, span) => wrapper('override', 50, a[0] as Thunk, span)],
  mkVMOverride: [1, (_ev, a, span) => wrapper('override', 10, a[0] as Thunk, span)],
  mkDefault: [1, (_ev, a, span) => wrapper('override', 1000, a[0] as Thunk, span)],
  mkOptionDefault: [1, (_ev, a, span) => wrapper('override', 1500, a[0] as Thunk, span)],
  mkBefore: [1, (_ev, a, span) => wrapper('order', 0, a[0] as Thunk, span)],
  mkAfter: [1, (_ev, a, span) => wrapper('order', 0, a[0] as Thunk, span)],
  mkOrder: [2, (_ev, a, span) => wrapper('order', 0, a[1] as Thunk, span)],
  removeAttrs: [2, (_ev, a, span) => {
    const s = arg(a, 0);
    const names = arg(a, 1);
    if (s.kind !== 'attrs' || names.kind !== 'list') return unknownAt(span);
    const attrs = new Map(s.attrs);
    let certain = names.complete;
    for (const t of names.items) {
      const n = t.force();
      if (n.kind === 'string') attrs.delete(n.value);
      else certain = false;
    }
    // A name that is not known may be any of the attributes: none is certain to remain.
    if (!certain) return { kind: 'attrs', attrs: new Map(), span: s.span, complete: false };
    return { kind: 'attrs', attrs, span: s.span, complete: s.complete };
  }],
  concatStringsSep: [2, (ev, a, span) => {
    const sep = arg(a, 0);
    const l = arg(a, 1);
    if (sep.kind !== 'string' || l.kind !== 'list' || !l.complete) return unknownAt(span);
    const parts: string[] = [];
    for (const t of l.items) {
      if (!ev.tick()) return unknownAt(span);
      const s = coerceToString(t.force(), false);
      if (s === undefined) return unknownAt(span);
      parts.push(s);
    }
    return { kind: 'string', value: parts.join(sep.value), span };
  }],
  concatMapStrings: [2, (ev, a, span) => {
    const mapped = mapList(ev, a[0] as Thunk, arg(a, 1), span);
    if (mapped.kind !== 'list' || !mapped.complete) return unknownAt(span);
    let out = '';
    for (const t of mapped.items) {
      const s = coerceToString(t.force(), false);
      if (s === undefined) return unknownAt(span);
      out += s;
    }
    return { kind: 'string', value: out, span };
  }],
  // A tuple type annotation: `toString` clashes with Object.prototype's in inference.
  toString: [1, (_ev: Evaluator, a: Thunk[], span: Span): Value => {
    const v = arg(a, 0);
    if (v.kind === 'string') return v;
    const s = coerceToString(v, true);
    return s === undefined ? unknownAt(span) : { kind: 'string', value: s, span };
  }] as [number, Impl],
  hasAttr: [2, (_ev, a, span) => {
    const n = arg(a, 0);
    const s = arg(a, 1);
    if (n.kind !== 'string' || s.kind !== 'attrs') return unknownAt(span);
    if (s.attrs.has(n.value)) return { kind: 'bool', value: true, span };
    return s.complete ? { kind: 'bool', value: false, span } : unknownAt(span);
  }],
  getAttr: [2, (_ev, a, span) => {
    const n = arg(a, 0);
    const s = arg(a, 1);
    if (n.kind !== 'string' || s.kind !== 'attrs') return unknownAt(span);
    return s.attrs.get(n.value)?.thunk.force() ?? unknownAt(span);
  }],
  elem: [2, (ev, a, span) => {
    const x = arg(a, 0);
    const l = arg(a, 1);
    if (l.kind !== 'list') return unknownAt(span);
    for (const t of l.items) {
      if (!ev.tick()) return unknownAt(span);
      const eq = equalValues(x, t.force());
      if (eq === undefined) return unknownAt(span);
      if (eq) return { kind: 'bool', value: true, span };
    }
    return l.complete ? { kind: 'bool', value: false, span } : unknownAt(span);
  }],
  nameValuePair: [2, (_ev, a, span) =>
    attrsOf([['name', { thunk: a[0] as Thunk }], ['value', { thunk: a[1] as Thunk }]], span, true)],
  id: [1, (_ev, a) => arg(a, 0)],
  const: [2, (_ev, a) => arg(a, 0)],
  import: [1, (_ev, _a, span) => unknownAt(span)],
};

const BUILTIN_NAMES = [
  'map', 'filter', 'elemAt', 'head', 'tail', 'length', 'listToAttrs', 'attrValues', 'attrNames', 'mapAttrs',
  'concatMap', 'concatLists', 'removeAttrs', 'concatStringsSep', 'toString', 'hasAttr', 'getAttr', 'elem', 'import',
];
const LIB_NAMES = Object.keys(IMPLS).filter((n) => n !== 'import');
/** Names Nix has in the global scope besides true/false/null. */
const GLOBAL_NAMES = ['map', 'toString', 'removeAttrs', 'import'];

function prim(name: string): PrimValue {
  const impl = IMPLS[name];
  return { kind: 'prim', name, arity: impl ? impl[0] : 1, args: [], span: NOWHERE };
}

function primAttrs(names: string[], extra: [string, Thunk][] = []): AttrsValue {
  const entries: [string, Attr][] = names.map((n) => [n, { thunk: Thunk.of(prim(n)) }]);
  for (const [n, t] of extra) entries.push([n, { thunk: t }]);
  // Incomplete: the real lib and builtins hold far more than this reader knows.
  return attrsOf(entries, NOWHERE, false);
}

/** The nixpkgs `lib` as far as this reader knows it (also under lib.lists, lib.attrsets, …). */
export function libValue(): AttrsValue {
  const lib = primAttrs(LIB_NAMES);
  for (const sub of ['lists', 'attrsets', 'strings', 'trivial', 'modules']) lib.attrs.set(sub, { thunk: Thunk.of(lib) });
  return lib;
}

export function globalScope(ev: Evaluator): Scope {
  void ev;
  const vars = new Map<string, Thunk>();
  vars.set('true', Thunk.of({ kind: 'bool', value: true, span: NOWHERE }));
  vars.set('false', Thunk.of({ kind: 'bool', value: false, span: NOWHERE }));
  vars.set('null', Thunk.of({ kind: 'null', span: NOWHERE }));
  vars.set('builtins', Thunk.of(primAttrs(BUILTIN_NAMES)));
  for (const n of GLOBAL_NAMES) vars.set(n, Thunk.of(prim(n)));
  return new Scope(undefined, vars);
}

export function applyPrim(ev: Evaluator, name: string, args: Thunk[], span: Span): Value {
  const impl = IMPLS[name];
  return impl ? impl[1](ev, args, span) : unknownAt(span);
}
