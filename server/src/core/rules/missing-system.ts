// missing-system: neither `system` nor a non-empty `systems`: the module's one assertion fails.
import type { Diagnostic } from '../diagnostic';
import { attr, diag, nixBuilders, type Rule } from './rule';

export const missingSystem: Rule = {
  code: 'missing-system',
  summary: 'Neither system nor a non-empty systems.',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of nixBuilders(model)) {
      const system = attr(b, 'system');
      const systems = attr(b, 'systems');
      if (system && system.value.kind !== 'null') continue;
      if (systems) {
        const v = systems.value;
        if (v.kind !== 'list' || !v.complete || v.items.length > 0) continue;
      } else if (!b.complete) continue;
      const span = systems?.value.span ?? { file: b.span.file, start: b.span.start, end: b.span.start + 1 };
      out.push(
        diag(
          'missing-system',
          'error',
          span,
          'This builder has neither `system` nor a non-empty `systems`: NixOS fails the assertion "specify system or systems" and the configuration does not build. Add systems = [ "x86_64-linux" ]; (the builder\'s own system, see `nix config show system` on it).',
        ),
      );
    }
    return out;
  },
};
