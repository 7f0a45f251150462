// invalid-speed-factor: speedFactor must be a positive number.
import type { Diagnostic } from '../diagnostic';
import { attr, diag, nixBuilders, type Rule } from './rule';

export const invalidSpeedFactor: Rule = {
  code: 'invalid-speed-factor',
  summary: 'speedFactor is not a positive number.',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    // In a machines line Nix reads 0 as 1, and machines-syntax reports a negative one.
    for (const b of nixBuilders(model)) {
      const v = attr(b, 'speedFactor')?.value;
      if (!v || (v.kind !== 'int' && v.kind !== 'float')) continue;
      if (v.value > 0) continue;
      const why = v.value < 0 ? 'Nix rejects a negative speed factor' : 'Nix reads 0 as 1, which is probably not what you meant';
      out.push(diag('invalid-speed-factor', 'error', v.span, `speedFactor must be a positive number (higher = preferred); ${why}. Use e.g. 1, or 2 for a machine twice as fast.`));
    }
    return out;
  },
};
