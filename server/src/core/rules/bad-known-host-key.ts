// bad-known-host-key: a programs.ssh.knownHosts publicKey that is not a
// `type blob` pair of a known key type: ssh ignores the line, so the host
// stays unverified and root's ssh refuses the builder.
import type { Diagnostic } from '../diagnostic';
import { diag, type Rule } from './rule';

export const badKnownHostKey: Rule = {
  code: 'bad-known-host-key',
  summary: 'A knownHosts publicKey that is not a valid "type blob" key.',
  check(model, ctx) {
    const out: Diagnostic[] = [];
    // Every definition: a good key for the same host in another file must not hide a bad one.
    for (const h of model.knownHosts) {
      for (const def of h.definitions) {
        const v = def.attrs.get('publicKey')?.value;
        if (v?.kind !== 'string') continue;
        // Memoised: the host analysis reads the same keys.
        const problem = ctx.hosts.parsedKeys.keyLineProblem(v.value);
        if (!problem) continue;
        out.push(
          diag(
            'bad-known-host-key',
            'error',
            v.span,
            `programs.ssh.knownHosts.${h.name}.publicKey: ${problem.message} ssh skips this line of /etc/ssh/ssh_known_hosts, so the host key is not known. Use the content of the host's /etc/ssh/ssh_host_ed25519_key.pub (without host names).`,
          ),
        );
      }
    }
    return out;
  },
};
