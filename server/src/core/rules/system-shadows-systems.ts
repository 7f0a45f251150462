// system-shadows-systems: both set; NixOS writes only `system`, `systems` is ignored.
import type { Diagnostic } from '../diagnostic';
import { attr, diag, nixBuilders, type Rule } from './rule';

export const systemShadowsSystems: Rule = {
  code: 'system-shadows-systems',
  summary: 'Both system and systems are set; systems is ignored.',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of nixBuilders(model)) {
      const system = attr(b, 'system');
      const systems = attr(b, 'systems');
      if (!system || !systems || system.value.kind !== 'string') continue;
      if (systems.value.kind !== 'list' || systems.value.items.length === 0) continue;
      const removal = systems.bindingSpan && system.bindingSpan ? system.bindingSpan : undefined;
      out.push(
        diag(
          'system-shadows-systems',
          'warning',
          systems.keySpan ?? systems.value.span ?? b.span,
          `Both system ("${system.value.value}") and systems are set: NixOS writes only system to /etc/nix/machines, so the other systems are ignored and their builds stay local. Remove system and list every system in systems.`,
          removal ? [{ title: 'Remove `system` (keep systems)', edits: [{ span: removal, newText: '' }] }] : [],
        ),
      );
    }
    return out;
  },
};
