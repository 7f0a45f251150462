// missing-host-key: no knownHosts entry, publicHostKey or known_hosts line
// covers the name root's ssh looks up: the build fails with "Host key
// verification failed" (nix-daemon cannot answer ssh's question).
import type { Diagnostic, Fix } from '../diagnostic';
import { skeletonFix } from '../host-key-fixes';
import { buildersWithKeys, diag, type Rule } from './rule';

export const missingHostKey: Rule = {
  code: 'missing-host-key',
  summary: 'No known host key for the name ssh will look up.',
  // Not perBuilder: its fixes take indentation from the document text around
  // the knownHosts entries and Host blocks, which an edit elsewhere on the same
  // line changes; rerun over every builder, from the host analysis's answers.
  check(model, ctx) {
    const out: Diagnostic[] = [];
    for (const { host: h, hostName: value } of buildersWithKeys(model, ctx, 'missing')) {
      const { chain } = h;
      const via =
        chain.hostKeyAlias
          ? ` (its HostKeyAlias)`
          : chain.hostName !== chain.alias
            ? ` (the HostName of "${chain.alias}"${chain.port !== 22 ? `, port ${chain.port}` : ''})`
            : chain.port !== 22
              ? ` (port ${chain.port}; ssh then also tries "${chain.hostName.toLowerCase()}")`
              : '';
      const elsewhere = h.keys.elsewhere[0];
      const note = elsewhere ? ` Your ${elsewhere.label} has it, but root's ssh (nix-daemon) does not read that file.` : '';
      const fix = skeletonFix(model, chain);
      const fixes: Fix[] = fix ? [fix] : [];
      out.push(
        diag(
          'missing-host-key',
          'warning',
          value.span,
          `No host key is known for "${chain.lookupName}"${via}, the name root's ssh looks up: not in programs.ssh.knownHosts, publicHostKey or the known_hosts files read. The first build fails with "Host key verification failed".${note} Add a programs.ssh.knownHosts entry with the builder's key (ssh-keyscan -t ed25519${chain.port !== 22 ? ` -p ${chain.port}` : ''} ${chain.hostName}), or set publicHostKey.`,
          fixes,
        ),
      );
    }
    return out;
  },
};
