// unresolved-host: the name root's ssh connects to resolves neither through
// the configuration (IP literal, ssh_config HostName, networking.hosts) nor
// through the resolver. Lookups run in the front end; until they answer, nothing is said.
import type { Diagnostic } from '../diagnostic';
import { attr, diag, type Rule } from './rule';

export const unresolvedHost: Rule = {
  code: 'unresolved-host',
  summary: 'The name ssh will connect to does not resolve.',
  perBuilder: true,
  check(model, ctx) {
    const out: Diagnostic[] = [];
    // Only a lookup answers `resolver`: without lookups, no builder's ssh chain needs working out here.
    if (!ctx.hosts.env.lookups) return out;
    for (const b of model.builders) {
      const h = ctx.hosts.forBuilder(b);
      const value = attr(b, 'hostName')?.value;
      if (!h || h.address.kind !== 'resolver' || h.address.resolution.status === 'resolved' || value?.kind !== 'string') continue;
      const { chain } = h;
      const r = h.address.resolution;
      const tried =
        chain.hostName === chain.alias
          ? `"${chain.hostName}" (no ssh_config HostName, not in networking.hosts)`
          : `"${chain.alias}" → HostName "${chain.hostName}" (from ${chain.hostNameFound?.source.label}), not in networking.hosts`;
      const why =
        r.status === 'timeout'
          ? `the lookup timed out after ${r.ms} ms`
          : r.status === 'not-found'
            ? `the resolver does not know it (${r.detail})`
            : `the lookup failed (${r.detail})`;
      const yours = h.yoursChain
        ? ` Your own ~/.ssh/config maps it to "${h.yoursChain.hostName}", but root's ssh (nix-daemon) does not read that file: add the Host block to programs.ssh.extraConfig.`
        : '';
      out.push(
        diag(
          'unresolved-host',
          'warning',
          value.span,
          `ssh cannot resolve this builder: tried ${tried}; ${why}. Builds then fail with "Could not resolve hostname". Resolution on the machine being configured may differ from this one; if the name is meant to resolve there, ignore this. Otherwise use an IP address, a Host block with HostName, or networking.hosts.${yours}`,
        ),
      );
    }
    return out;
  },
};
