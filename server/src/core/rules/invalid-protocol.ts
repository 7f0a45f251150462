// invalid-protocol: protocol other than null, "ssh" or "ssh-ng": NixOS rejects the value.
import { suggest } from '../did-you-mean';
import type { Diagnostic } from '../diagnostic';
import { attr, diag, didYouMean, nixBuilders, replaceStringFix, type Rule } from './rule';

const PROTOCOLS = ['ssh', 'ssh-ng'];

export const invalidProtocol: Rule = {
  code: 'invalid-protocol',
  summary: 'protocol is not null, "ssh" or "ssh-ng".',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of nixBuilders(model)) {
      const v = attr(b, 'protocol')?.value;
      if (v?.kind !== 'string' || PROTOCOLS.includes(v.value)) continue;
      const s = suggest(v.value.replace(/:\/\/$/, ''), PROTOCOLS, { maxDistance: 3 });
      out.push(
        diag(
          'invalid-protocol',
          'error',
          v.span,
          `protocol must be null, "ssh" (nix-store --serve) or "ssh-ng" (nix-daemon --stdio), not "${v.value}": NixOS rejects the configuration.${didYouMean(s)}`,
          s.flatMap((x, i) => replaceStringFix(`Use "${x}"`, v, x, i === 0)),
        ),
      );
    }
    return out;
  },
};
