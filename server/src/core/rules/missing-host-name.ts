// missing-host-name: a builder without hostName; NixOS requires it.
import type { Diagnostic } from '../diagnostic';
import { diag, nixBuilders, type Rule } from './rule';

export const missingHostName: Rule = {
  code: 'missing-host-name',
  summary: 'A builder without hostName.',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of nixBuilders(model)) {
      if (!b.complete || b.attrs.has('hostName')) continue;
      out.push(
        diag(
          'missing-host-name',
          'error',
          { file: b.span.file, start: b.span.start, end: b.span.start + 1 },
          'This builder has no hostName: NixOS stops with "The option nix.buildMachines.*.hostName is used but not defined". Add hostName = "…"; with the builder\'s DNS name, IP address or ssh Host alias.',
        ),
      );
    }
    return out;
  },
};
