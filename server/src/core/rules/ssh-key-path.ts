// ssh-key-path: sshKey must be an absolute path on the local machine that root
// can read. A relative path, `~`, a Nix path literal (copied world-readable into
// the store) or a /nix/store path all fail or leak the key.
import type { Diagnostic } from '../diagnostic';
import { attr, diag, nixStringEscape, type Rule } from './rule';

export const sshKeyPath: Rule = {
  code: 'ssh-key-path',
  summary: 'sshKey is relative, uses ~, is a Nix path literal, or lies in /nix/store.',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of model.builders) {
      const v = attr(b, 'sshKey')?.value;
      if (!v) continue;
      if (v.kind === 'path') {
        const absolute = v.value.startsWith('/');
        out.push(
          diag(
            'ssh-key-path',
            'warning',
            v.span,
            `sshKey is a Nix path (${v.value}): Nix copies the private key into the world-readable /nix/store. Write it as a string with the absolute path on this machine, e.g. "/root/.ssh/nixremote".`,
            absolute ? [{ title: 'Quote the path (keep the key out of the store)', edits: [{ span: v.span, newText: `"${nixStringEscape(v.value)}"` }], preferred: true }] : [],
          ),
        );
        continue;
      }
      if (v.kind !== 'string') continue;
      let why: string | undefined;
      if (v.value.startsWith('~')) why = 'starts with ~, which nix-daemon does not expand (and root\'s home is not yours)';
      else if (v.value.startsWith('/nix/store/')) why = 'is in /nix/store, which every user can read: the private key is exposed';
      else if (!v.value.startsWith('/')) why = 'is relative, but nix-daemon runs ssh from its own directory';
      if (!why) continue;
      out.push(diag('ssh-key-path', 'warning', v.span, `sshKey "${v.value}" ${why}. Use an absolute path that root can read, e.g. "/root/.ssh/nixremote".`));
    }
    return out;
  },
};
