// unknown-feature: a system feature that is not well known. Features are
// user-definable, so this is a warning with did-you-mean, never an error.
import { suggest } from '../did-you-mean';
import type { Diagnostic } from '../diagnostic';
import { isKnownFeature, KNOWN_FEATURES } from '../known-features';
import { attr, diag, didYouMean, knownStrings, replaceStringFix, type Rule } from './rule';

export const unknownFeature: Rule = {
  code: 'unknown-feature',
  summary: 'A system feature that is not well known (with did-you-mean).',
  check(model) {
    const out: Diagnostic[] = [];
    const seen = new Set<string>();
    for (const b of model.builders) {
      for (const name of ['supportedFeatures', 'mandatoryFeatures']) {
        const v = attr(b, name)?.value;
        if (!v) continue;
        for (const f of knownStrings(v)) {
          if (isKnownFeature(f.value)) continue;
          const key = `${f.span.file}:${f.span.start}:${f.span.end}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const s = suggest(f.value, KNOWN_FEATURES);
          out.push(
            diag(
              'unknown-feature',
              'warning',
              f.span,
              `"${f.value}" is not a well-known system feature. Derivations ask for features by exact name (kvm, big-parallel, nixos-test, benchmark, …), so a misspelt one is never matched.${didYouMean(s)} If it is your own feature, ignore this.`,
              s.flatMap((x, i) => replaceStringFix(`Replace with "${x}"`, f, x, i === 0)),
            ),
          );
        }
      }
    }
    return out;
  },
};
