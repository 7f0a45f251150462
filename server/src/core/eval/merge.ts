// Lazy merging of attribute sets defined in several places (`a.b = 1; a = { c = 2; };`).
import { type Attr, type AttrsValue, Thunk, type Value } from './value';

export function mergeAttrs(values: Value[]): Value {
  const sets = values.filter((v): v is AttrsValue => v.kind === 'attrs');
  const first = sets[0];
  if (values.length === 1 && values[0]) return values[0];
  // Nix rejects a name defined twice unless both definitions are attribute sets.
  if (!first || sets.length < values.length) return { kind: 'unknown', span: first?.span };
  const grouped = new Map<string, Attr[]>();
  for (const s of sets) {
    for (const [k, a] of s.attrs) {
      const list = grouped.get(k);
      if (list) list.push(a);
      else grouped.set(k, [a]);
    }
  }
  const attrs = new Map<string, Attr>();
  for (const [k, list] of grouped) {
    const head = list[0] as Attr;
    attrs.set(
      k,
      list.length === 1 ? head : { ...head, thunk: new Thunk(() => mergeAttrs(list.map((a) => a.thunk.force()))) },
    );
  }
  return {
    kind: 'attrs',
    attrs,
    span: first.span,
    complete: sets.length === values.length && sets.every((s) => s.complete),
  };
}
