// unknown-attribute: a builder attribute the NixOS submodule does not declare
// (`hostname`, `sshkey`, `port`): NixOS refuses to evaluate the configuration.
import { BUILDER_OPTIONS } from '../builder-options';
import { suggest } from '../did-you-mean';
import type { Diagnostic } from '../diagnostic';
import { diag, didYouMean, nixBuilders, type Rule } from './rule';

const NAMES = Object.keys(BUILDER_OPTIONS);

// Names people carry over from ssh_config, machines files or other tools; edit
// distance alone does not find these.
const SYNONYMS: Record<string, string> = {
  user: 'sshUser',
  username: 'sshUser',
  identityfile: 'sshKey',
  key: 'sshKey',
  sshkeyfile: 'sshKey',
  host: 'hostName',
  address: 'hostName',
  publickey: 'publicHostKey',
  hostkey: 'publicHostKey',
  sshpublichostkey: 'publicHostKey',
  jobs: 'maxJobs',
  maxjob: 'maxJobs',
  features: 'supportedFeatures',
  speed: 'speedFactor',
  platforms: 'systems',
};

function suggestions(name: string): string[] {
  const direct = suggest(name, NAMES);
  const synonym = SYNONYMS[name.toLowerCase().replace(/[-_]/g, '')];
  return synonym && !direct.includes(synonym) ? [synonym, ...direct] : direct;
}

export const unknownAttribute: Rule = {
  code: 'unknown-attribute',
  summary: 'An attribute that nix.buildMachines does not have.',
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of nixBuilders(model)) {
      for (const a of b.attrs.values()) {
        if (a.name in BUILDER_OPTIONS || !a.keySpan) continue;
        const s = suggestions(a.name);
        const hint = a.name === 'port' ? ' For a port other than 22, set `Port` in a programs.ssh.extraConfig Host block (or use host:port with Nix >= 2.31).' : '';
        out.push(
          diag(
            'unknown-attribute',
            'error',
            a.keySpan,
            `nix.buildMachines has no attribute "${a.name}": NixOS stops with "The option … does not exist".${didYouMean(s)}${hint}`,
            s.map((name, i) => ({
              title: `Rename to ${name}`,
              edits: [{ span: a.keySpan as NonNullable<typeof a.keySpan>, newText: name }],
              preferred: i === 0,
            })),
          ),
        );
      }
    }
    return out;
  },
};
