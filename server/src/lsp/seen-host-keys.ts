// The host keys builders showed to probes, per name root's ssh looks up (in
// memory only, for the life of the server), and the host-key-changed
// diagnostics they cause (SPEC §2.2): every analysis reports a builder whose
// configured key of that type differs from the one it showed, until the
// configuration matches again. A later probe's key of the same type replaces
// the earlier one.
import type { Analysis } from '../core/analyze';
import type { Diagnostic } from '../core/diagnostic';
import { type FetchedKey, hostKeyChanged } from '../core/probe-edits';

/** Most names remembered (a bound against a runaway workspace); the oldest go first. */
const MAX_NAMES = 4096;

export class SeenHostKeys {
  private readonly byName = new Map<string, Map<string, FetchedKey>>();
  private gen = 0;

  /** Changes whenever a remembered key changes: part of the analysis cache key. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.byName.size;
  }

  /** Remembers the key `lookupName` showed; true when it differs from what was remembered. */
  remember(lookupName: string, key: FetchedKey): boolean {
    const name = lookupName.toLowerCase();
    let types = this.byName.get(name);
    const old = types?.get(key.type);
    if (old && old.key.replace(/=+$/, '') === key.key.replace(/=+$/, '')) return false;
    if (!types) {
      if (this.byName.size >= MAX_NAMES) this.byName.delete(this.byName.keys().next().value as string);
      types = new Map();
      this.byName.set(name, types);
    }
    types.set(key.type, { type: key.type, key: key.key, fingerprint: key.fingerprint });
    this.gen++;
    return true;
  }

  get(lookupName: string): FetchedKey[] {
    return [...(this.byName.get(lookupName.toLowerCase())?.values() ?? [])];
  }

  /** host-key-changed for every builder whose looked-up name showed a key other than the configured one. */
  diagnostics(analysis: Analysis): Diagnostic[] {
    if (this.byName.size === 0) return [];
    const out: Diagnostic[] = [];
    const seen = new Set<string>();
    for (const b of analysis.model.builders) {
      const h = analysis.hosts.forBuilder(b);
      if (!h) continue;
      for (const key of this.get(h.chain.lookupName)) {
        const d = hostKeyChanged(analysis.hosts, b, key);
        if (!d) continue;
        const id = `${d.span.file}\0${d.span.start}\0${d.span.end}\0${d.message}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(d);
      }
    }
    return out;
  }
}
