// machines-syntax: a machines-file / builders-string line Nix would reject.
// The parser (machines-file.ts) finds them while reading; this rule reports them.
import type { Rule } from './rule';

export const machinesSyntax: Rule = {
  code: 'machines-syntax',
  summary: 'A machines-file / builders-string line that Nix would reject.',
  check(model) {
    return model.machinesProblems;
  },
};
