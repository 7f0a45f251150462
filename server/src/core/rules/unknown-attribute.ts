// unknown-attribute: a builder attribute the NixOS submodule does not declare
// (`hostname`, `sshkey`, `port`): NixOS refuses to evaluate the configuration.
import { BUILDER_OPTIONS } from '../builder-options';
import { suggest } from '../did-you-mean';
import type { Diagnostic } from '../diagnostic';
import type { ReadAttr } from '../model';
import { diag, didYouMean, nixBuilders, type Rule } from './rule';

const NAMES = Object.keys(BUILDER_OPTIONS);
// Attribute names come from the document, not internalised: a set finds them
// several times faster than `in` does. `in` stays as the fallback, as it also
// accepts Object.prototype's names (`toString`, …) and the answers must not change.
const NAME_SET: ReadonlySet<string> = new Set(NAMES);

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
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    const check = (a: ReadAttr): void => {
      if (NAME_SET.has(a.name) || a.name in BUILDER_OPTIONS || !a.keySpan) return;
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
    };
    // forEach: no iterator objects for the attributes of thousands of builders.
    for (const b of nixBuilders(model)) b.attrs.forEach(check);
    return out;
  },
};
