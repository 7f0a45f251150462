// host-name-has-scheme: hostName carries `ssh://`, `ssh-ng://` or `user@`, which
// the module already adds from protocol and sshUser: the URI ends up doubled.
import type { Diagnostic, Fix } from '../diagnostic';
import { attr, diag, replaceString, type Rule } from './rule';

export const hostNameHasScheme: Rule = {
  code: 'host-name-has-scheme',
  summary: 'hostName starts with ssh://, ssh-ng:// or carries user@.',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    for (const b of model.builders) {
      if (b.source !== 'nix') continue;
      const h = attr(b, 'hostName')?.value;
      // Neither "://" nor "@": nothing to report, no regular expression to run for each builder.
      if (h?.kind !== 'string' || (!h.value.includes('@') && !h.value.includes('://'))) continue;
      const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(?:([^@/]*)@)?(.*)$/.exec(h.value);
      if (!m || (!m[1] && m[2] === undefined)) continue;
      const [, scheme, user, host] = m;
      const parts: string[] = [];
      if (scheme) parts.push(`the scheme "${scheme}://" (set protocol = "${scheme}"; instead)`);
      if (user !== undefined) parts.push(`the user "${user}@" (set sshUser = "${user}"; instead)`);
      const edit = replaceString(h, host ?? '');
      const fixes: Fix[] = edit ? [{ title: `Keep only "${host}" in hostName`, edits: [edit], preferred: true }] : [];
      out.push(
        diag(
          'host-name-has-scheme',
          'error',
          h.span,
          `hostName contains ${parts.join(' and ')}. NixOS writes protocol://sshUser@hostName itself, so this becomes a URI Nix cannot use (e.g. ssh://ssh://…).`,
          fixes,
        ),
      );
    }
    return out;
  },
};
