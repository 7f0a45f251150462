// invalid-max-jobs: a negative or fractional maxJobs (rejected), or 0 (the builder is never used).
import type { Diagnostic } from '../diagnostic';
import { attr, builderLabel, diag, type Rule } from './rule';

export const invalidMaxJobs: Rule = {
  code: 'invalid-max-jobs',
  summary: 'maxJobs negative or not an integer (error), or 0 (warning: never used).',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of model.builders) {
      const v = attr(b, 'maxJobs')?.value;
      if (!v) continue;
      if (v.kind === 'float' || (v.kind === 'int' && v.value < 0)) {
        out.push(diag('invalid-max-jobs', 'error', v.span, `maxJobs must be a whole number of parallel builds, 1 or more; ${v.value} is rejected by Nix's machines parser.`));
      } else if (v.kind === 'int' && v.value === 0) {
        out.push(
          diag('invalid-max-jobs', 'warning', v.span, `maxJobs = 0: Nix never chooses ${builderLabel(b)}, so its builds stay local (or fail when local builds are off). Set it to the number of builds the machine should run at once.`),
        );
      }
    }
    return out;
  },
};
