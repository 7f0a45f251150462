// bad-public-host-key: publicHostKey that is not base64 of a `type blob` line.
// Nix then fails every connection to the builder; a pasted raw line or bare
// blob is fixed by encoding it.
import type { Diagnostic } from '../diagnostic';
import { attr, diag, replaceStringFix, type Rule } from './rule';

export const badPublicHostKey: Rule = {
  code: 'bad-public-host-key',
  summary: 'publicHostKey is not base64 of a "type blob" key line.',
  perBuilder: true,
  check(model, ctx) {
    const out: Diagnostic[] = [];
    for (const b of model.builders) {
      // A machines line's field 8 is already checked for base64 by machines-syntax.
      const v = attr(b, 'publicHostKey')?.value;
      if (v?.kind !== 'string') continue;
      // Memoised: the host analysis decodes the same values.
      const r = ctx.hosts.parsedKeys.publicHostKeyProblem(v.value);
      if (!r) continue;
      const fixes = r.fix
        ? replaceStringFix(
            r.fix.kind === 'encode-line' ? 'Encode the key line as base64' : 'Add the key type and encode as base64',
            v,
            r.fix.newValue,
            true,
          )
        : [];
      out.push(diag('bad-public-host-key', 'error', v.span, r.problem.message, fixes));
    }
    return out;
  },
};
