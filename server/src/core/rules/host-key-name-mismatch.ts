// host-key-name-mismatch: a key exists, but under another name than the one
// ssh looks up (alias vs HostName, [host]:port, publicHostKey on an alias
// without HostKeyAlias): verification still fails.
import type { Diagnostic, Fix } from '../diagnostic';
import { addHostNameFix, hostKeyAliasFix } from '../host-key-fixes';
import { buildersWithKeys, diag, type Rule } from './rule';

export const hostKeyNameMismatch: Rule = {
  code: 'host-key-name-mismatch',
  summary: 'A key exists, but under another name than the one ssh looks up.',
  // Not perBuilder: its fixes take indentation from the document text around
  // the knownHosts entries and Host blocks, which an edit elsewhere on the same
  // line changes; rerun over every builder, from the host analysis's answers.
  check(model, ctx) {
    const out: Diagnostic[] = [];
    for (const { host: h, hostName: value } of buildersWithKeys(model, ctx, 'mismatch')) {
      const { chain } = h;
      const places = h.keys.entries.map((e) => `${e.entry.label} (under "${e.name}")`);
      if (h.keys.publicHostKey) places.push(`publicHostKey (Nix writes it under "${chain.alias}")`);
      const fixes: Fix[] = [];
      for (const e of h.keys.entries) {
        const f = addHostNameFix(model, e.entry, chain.lookupName);
        if (f && !fixes.some((x) => x.title === f.title)) fixes.push(f);
      }
      const underAlias = h.keys.publicHostKey || h.keys.entries.some((e) => e.name === chain.alias.toLowerCase());
      if (underAlias && !chain.hostKeyAlias && chain.hostName.toLowerCase() !== chain.alias.toLowerCase()) {
        const f = hostKeyAliasFix(model, chain);
        if (f) fixes.push(f);
      }
      out.push(
        diag(
          'host-key-name-mismatch',
          'warning',
          value.span,
          `root's ssh looks up the host key under "${chain.lookupName}"${chain.hostName !== chain.alias ? ` (HostName of "${chain.alias}")` : ''}, but the key is known only under another name: ${places.join('; ')}. Verification fails with "Host key verification failed". Add "${chain.lookupName}" to the entry's names${chain.hostName !== chain.alias && !chain.hostKeyAlias ? `, or set HostKeyAlias ${chain.alias} in the Host block` : ''}.`,
          fixes,
        ),
      );
    }
    return out;
  },
};
