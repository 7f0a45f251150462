// Text the probe commands show: the host-key confirmation dialog and the
// "Probe all builders" report (a Markdown table). Pure functions, no vscode
// import, so test/client can check them without an editor.
import type { BuilderReport, ConfirmHostKeyParams, HostKeyStatus } from '../../server/src/lsp/protocol';

/** `address:port`, with brackets around an IPv6 address. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export const TRUST_BUTTON = 'Trust this key';

/** The modal's message and detail for `nixBuilders/confirmHostKey`. */
export function confirmHostKeyText(p: ConfirmHostKeyParams): { message: string; detail: string } {
  const where =
    p.target === 'knownHosts'
      ? `programs.ssh.knownHosts${Array.isArray(p.hostNames) && p.hostNames.length > 0 ? `, for the names ${p.hostNames.join(', ')}` : ''}`
      : 'the builder’s publicHostKey';
  const detail = [
    `Builder: ${p.host}`,
    `Address: ${hostPort(p.address, p.port)}`,
    `Looked up by root’s ssh as: ${p.lookupName}`,
    `Key type: ${p.keyType}`,
    `Fingerprint: ${p.fingerprintLine || p.fingerprint}`,
    '',
    `The key goes into ${where} (${p.editTitle}).`,
    '',
    'Trust it only if this fingerprint is the one the builder shows on its own console (ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub): whoever answered on this address could be someone else.',
  ].join('\n');
  return { message: `Trust the ${p.keyType} host key ${p.fingerprint} of ${p.host}?`, detail };
}

const KEY_STATUS: Record<HostKeyStatus, string> = {
  matches: 'matches',
  changed: '**CHANGED**',
  unknown: 'not configured',
  'not-checked': 'not checked',
};

/** A Markdown table cell: no line breaks, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim() || ' ';
}

function reachability(r: BuilderReport): string {
  if (r.reachable) {
    // Reached, but the probe stopped before reading Nix: say why (host key unknown, login failed …).
    return r.error ? `yes; ${r.error.kind}: ${r.error.message}` : 'yes';
  }
  return r.error ? `no: ${r.error.kind}: ${r.error.message}` : 'no';
}

export interface ReportOptions {
  /** How a builder's document is named in the report (a workspace-relative path). */
  name(uri: string): string;
  /** When the probe ran (the report's header). */
  when: Date;
  /** The probe was cancelled before it finished. */
  cancelled?: boolean;
}

/** The report of "Probe all builders": a header, one table row per builder, then the notes. */
export function reportMarkdown(reports: readonly BuilderReport[], o: ReportOptions): string {
  const reachable = reports.filter((r) => r.reachable).length;
  const out = [
    '# Nix builders: probe report',
    '',
    `${o.when.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}: ${reports.length} builder${reports.length === 1 ? '' : 's'}, ${reachable} reachable${o.cancelled ? ' (cancelled before all probes finished)' : ''}.`,
    '',
  ];
  if (reports.length === 0) {
    out.push('No builder was probed.', '');
    return out.join('\n');
  }
  const header = ['Builder', 'Address', 'Reachable', 'Host key', 'Nix', 'Systems', 'Features', 'Trusted', 'Latency', 'Where'];
  const rows = reports.map((r) => [
    r.hostName ? `${r.host} (${r.hostName})` : r.host || '(unknown)',
    r.address ? `${r.user ? `${r.user}@` : ''}${r.port ? hostPort(r.address, r.port) : r.address}` : '',
    reachability(r),
    `${KEY_STATUS[r.hostKeyStatus]}${r.hostKey ? ` (${r.hostKey.type} ${r.hostKey.fingerprint})` : ''}`,
    r.nixVersion ?? '',
    r.systems?.join(', ') ?? '',
    r.features ? r.features.join(', ') || 'none' : '',
    r.trusted === undefined ? '' : r.trusted ? 'yes' : 'no',
    r.rttMs === undefined ? '' : `${Math.round(r.rttMs)} ms`,
    `${o.name(r.uri)}:${r.range.start.line + 1}`,
  ]);
  const table = [header, ...rows].map((row) => row.map(cell));
  // Padded columns, so the table also reads well as plain text.
  const widths = header.map((_, i) => Math.max(3, ...table.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  out.push(line(table[0] as string[]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...table.slice(1).map(line), '');
  const noted = reports.filter((r) => r.notes && r.notes.length > 0);
  if (noted.length > 0) {
    out.push('## Notes', '');
    for (const r of noted) for (const n of r.notes ?? []) out.push(`- ${r.host}: ${n.replace(/\r?\n/g, ' ')}`);
    out.push('');
  }
  return out.join('\n');
}

/** "3/7" from a progress message of the server ("3/7: host:22 ok"), else undefined. */
export function progressCount(message: string | undefined): string | undefined {
  const m = message && /^(\d+)\/(\d+)\b/.exec(message);
  return m ? `${m[1]}/${m[2]}` : undefined;
}
