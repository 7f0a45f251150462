// builders-list: nix.settings.builders given as a list. nix.conf renders lists
// space-separated, so several machines become ONE broken machine line.
import type { Diagnostic, Fix } from '../diagnostic';
import { diag, nixStringEscape, type Rule } from './rule';

export const buildersList: Rule = {
  code: 'builders-list',
  summary: 'nix.settings.builders is a list of more than one element.',
  check(model) {
    const out: Diagnostic[] = [];
    for (const def of model.settings.builders.defs) {
      const v = def.value;
      if (v.kind !== 'list' || v.items.length < 2) continue;
      const items = v.items.map((t) => t.force());
      const strings = items.every((x) => x.kind === 'string') ? items.map((x) => (x.kind === 'string' ? x.value : '')) : undefined;
      const fixes: Fix[] =
        strings && v.complete
          ? [{ title: 'Join the machines with " ; " into one string', edits: [{ span: v.span, newText: `"${nixStringEscape(strings.join(' ; '))}"` }], preferred: true }]
          : [];
      out.push(
        diag(
          'builders-list',
          'error',
          v.span,
          'nix.settings.builders is a list: nix.conf joins list elements with spaces, so Nix reads all these machines as ONE machine line and the extra words as its systems, key, jobs… Write one string with the machines separated by " ; " (or use nix.buildMachines).',
          fixes,
        ),
      );
    }
    return out;
  },
};
