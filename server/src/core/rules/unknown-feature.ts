// unknown-feature: a system feature that is not well known. Features are
// user-definable, so this is a warning with did-you-mean, never an error.
import { suggest } from '../did-you-mean';
import type { Diagnostic } from '../diagnostic';
import { isKnownFeature, KNOWN_FEATURES } from '../known-features';
import type { StringValue } from '../eval/value';
import { attr, diag, didYouMean, firstSight, forEachKnownString, replaceStringFix, type Rule } from './rule';

const FEATURE_ATTRS = ['supportedFeatures', 'mandatoryFeatures'] as const;

export const unknownFeature: Rule = {
  code: 'unknown-feature',
  summary: 'A system feature that is not well known (with did-you-mean).',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    const first = firstSight();
    const check = (f: StringValue): void => {
      if (isKnownFeature(f.value)) return;
      if (!first(f)) return;
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
    };
    // No per-builder arrays: this runs over every feature of thousands of builders.
    for (const b of model.builders) {
      for (const name of FEATURE_ATTRS) {
        const v = attr(b, name)?.value;
        if (v) forEachKnownString(v, check);
      }
    }
    return out;
  },
};
