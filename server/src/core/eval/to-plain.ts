// Converts a value to plain data (for the differential test against Nix, the
// CLI and hover). Unknown parts become the UNKNOWN_MARK object.
import { unwrap } from './module';
import type { Value } from './value';

export const UNKNOWN_MARK = Object.freeze({ unknown: true });
export type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain } | typeof UNKNOWN_MARK;

export function toPlain(v: Value | undefined, depth = 0): Plain {
  if (!v || depth > 100) return UNKNOWN_MARK;
  const u = unwrap(v);
  if (!u) return UNKNOWN_MARK;
  switch (u.kind) {
    case 'string':
    case 'int':
    case 'float':
    case 'bool':
    case 'path':
      return u.value;
    case 'null':
      return null;
    case 'list': {
      const items = u.items.map((t) => toPlain(t.force(), depth + 1));
      return u.complete ? items : [...items, UNKNOWN_MARK];
    }
    case 'attrs': {
      const o: { [k: string]: Plain } = {};
      for (const k of [...u.attrs.keys()].sort()) o[k] = toPlain(u.attrs.get(k)?.thunk.force(), depth + 1);
      if (!u.complete) o['…'] = UNKNOWN_MARK;
      return o;
    }
    default:
      return UNKNOWN_MARK;
  }
}
