// duplicate-builder: the same protocol+user+hostName twice. Nix treats them as
// two machines, doubling the load on one host.
import type { Diagnostic } from '../diagnostic';
import type { Builder } from '../model';
import { attr, diag, type Rule } from './rule';

// A builder's identity does not change (its values are read once): after a
// keystroke inside one builder, the others' are not built again (incremental.ts).
const identities = new WeakMap<Builder, string | null>();

function identity(b: Builder): string | undefined {
  let id = identities.get(b);
  if (id === undefined) {
    id = identityOf(b) ?? null;
    identities.set(b, id);
  }
  return id ?? undefined;
}

function identityOf(b: Builder): string | undefined {
  const host = attr(b, 'hostName')?.value;
  if (host?.kind !== 'string') return undefined;
  const p = attr(b, 'protocol')?.value;
  const u = attr(b, 'sshUser')?.value;
  if ((p && p.kind !== 'string' && p.kind !== 'null') || (u && u.kind !== 'string' && u.kind !== 'null')) return undefined;
  const protocol = p?.kind === 'string' ? p.value : p?.kind === 'null' ? '' : 'ssh';
  const user = u?.kind === 'string' ? u.value : '';
  return `${b.file}\u0000${protocol}://${user}@${host.value.toLowerCase()}`;
}

export const duplicateBuilder: Rule = {
  code: 'duplicate-builder',
  summary: 'The same protocol + user + hostName twice.',
  check(model) {
    const out: Diagnostic[] = [];
    // Per file: one repository often holds the configurations of several machines.
    const first = new Map<string, Builder>();
    for (const b of model.builders) {
      const id = identity(b);
      if (!id) continue;
      const prev = first.get(id);
      if (!prev) {
        first.set(id, b);
        continue;
      }
      const host = attr(b, 'hostName')?.value;
      const d = diag(
        'duplicate-builder',
        'warning',
        host?.span ?? b.span,
        `This builder repeats one defined earlier (same protocol, user and hostName). Nix counts it as a second machine and sends it twice the jobs. Merge the two entries (combine their systems and features).`,
      );
      d.related = [{ span: attr(prev, 'hostName')?.value.span ?? prev.span, message: 'first definition' }];
      out.push(d);
    }
    return out;
  },
};
