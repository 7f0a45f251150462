// mandatory-features: explains what mandatoryFeatures does, because it is often
// used where supportedFeatures was meant and then the builder idles.
import type { Diagnostic } from '../diagnostic';
import { attr, builderLabel, diag, knownStrings, type Rule } from './rule';

export const mandatoryFeatures: Rule = {
  code: 'mandatory-features',
  summary: 'Explains the restriction mandatoryFeatures imposes.',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of model.builders) {
      const a = attr(b, 'mandatoryFeatures');
      if (!a || a.value.kind !== 'list' || a.value.items.length === 0) continue;
      const names = knownStrings(a.value).map((s) => s.value);
      const list = names.length > 0 ? names.join(', ') : 'these features';
      out.push(
        diag(
          'mandatory-features',
          'information',
          a.keySpan ?? a.value.span ?? b.span,
          `${builderLabel(b)} only takes derivations that require ALL of: ${list}. Everything else is built elsewhere. If you meant "can also do", move them to supportedFeatures.`,
        ),
      );
    }
    return out;
  },
};
