// Lexical scopes of the reader: let / rec / function arguments, and `with`.
// Nix looks a name up in every lexical scope first and only then in the
// `with` environments, innermost first; an unknown `with` makes the name unknown.
import { Thunk, UNKNOWN_THUNK } from './value';

export class Scope {
  constructor(
    readonly parent: Scope | undefined,
    readonly vars: Map<string, Thunk> | undefined,
    readonly withEnv?: Thunk,
  ) {}

  child(vars: Map<string, Thunk>): Scope {
    return new Scope(this, vars);
  }

  withScope(env: Thunk): Scope {
    return new Scope(this, undefined, env);
  }

  lookup(name: string): Thunk | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the parent chain
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const t = s.vars?.get(name);
      if (t) return t;
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the parent chain
    for (let s: Scope | undefined = this; s; s = s.parent) {
      if (!s.withEnv) continue;
      const env = s.withEnv.force();
      if (env.kind === 'attrs') {
        const a = env.attrs.get(name);
        if (a) return a.thunk;
        if (!env.complete) return UNKNOWN_THUNK;
      } else {
        return UNKNOWN_THUNK;
      }
    }
    return undefined;
  }
}
