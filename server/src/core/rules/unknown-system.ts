// unknown-system: a system string that is not a known platform double: Nix
// matches it literally, so a typo means the builder never gets builds.
import { suggest } from '../did-you-mean';
import type { Diagnostic } from '../diagnostic';
import type { StringValue } from '../eval/value';
import { KNOWN_SYSTEMS, isKnownSystem } from '../known-systems';
import { attr, diag, didYouMean, firstSight, forEachKnownString, replaceStringFix, type Rule } from './rule';

export const unknownSystem: Rule = {
  code: 'unknown-system',
  summary: 'A system that is not a known platform (with did-you-mean).',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    const first = firstSight();
    const check = (v: StringValue): void => {
      if (isKnownSystem(v.value)) return;
      if (!first(v)) return;
      const s = suggest(v.value, KNOWN_SYSTEMS);
      out.push(
        diag(
          'unknown-system',
          'warning',
          v.span,
          `"${v.value}" is not a known system type. Nix compares systems literally, so derivations for the intended system will not be sent to this builder.${didYouMean(s)}`,
          s.flatMap((x, i) => replaceStringFix(`Replace with "${x}"`, v, x, i === 0)),
        ),
      );
    };
    // No per-builder arrays: this runs over every system of thousands of builders.
    for (const b of model.builders) {
      const system = attr(b, 'system')?.value;
      if (system?.kind === 'string') check(system);
      const systems = attr(b, 'systems')?.value;
      if (systems) forEachKnownString(systems, check);
    }
    return out;
  },
};
