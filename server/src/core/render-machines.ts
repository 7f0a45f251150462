// The /etc/nix/machines text NixOS writes for the nix.buildMachines builders,
// with unknown values shown as <unknown> rather than guessed.
import type { Value } from './eval/value';
import { nixToString, renderMachineLine } from './machines-file';
import type { Builder } from './model';

const UNKNOWN_TEXT = '<unknown>';

function str(v: Value | undefined, fallback: string | null): string | null {
  if (!v) return fallback;
  if (v.kind === 'string') return v.value;
  if (v.kind === 'null') return null;
  if (v.kind === 'path') return v.value;
  return UNKNOWN_TEXT;
}

function strings(v: Value | undefined): string[] {
  if (!v) return [];
  if (v.kind !== 'list') return [UNKNOWN_TEXT];
  const out = v.items.map((t) => {
    const x = t.force();
    return x.kind === 'string' ? x.value : UNKNOWN_TEXT;
  });
  return v.complete ? out : [...out, UNKNOWN_TEXT];
}

function num(v: Value | undefined, fallback: number): { n: number | string; float: boolean } {
  if (!v) return { n: fallback, float: false };
  if (v.kind === 'int' || v.kind === 'float') return { n: v.value, float: v.kind === 'float' };
  return { n: UNKNOWN_TEXT, float: false };
}

export interface RenderedLine {
  line: string;
  builder: Builder;
  /** Some value could not be read statically. */
  hasUnknown: boolean;
}

export function renderBuilder(b: Builder): RenderedLine {
  const get = (n: string) => b.attrs.get(n)?.value;
  const maxJobs = num(get('maxJobs'), 1);
  const speed = num(get('speedFactor'), 1);
  const line = renderMachineLine({
    protocol: str(get('protocol'), 'ssh'),
    sshUser: str(get('sshUser'), null),
    hostName: str(get('hostName'), UNKNOWN_TEXT) ?? UNKNOWN_TEXT,
    system: str(get('system'), null),
    systems: strings(get('systems')),
    sshKey: str(get('sshKey'), null),
    maxJobs: 0,
    speedFactor: 0,
    speedFactorIsFloat: speed.float,
    supportedFeatures: strings(get('supportedFeatures')),
    mandatoryFeatures: strings(get('mandatoryFeatures')),
    publicHostKey: str(get('publicHostKey'), null),
  });
  // Numbers are put in afterwards so an unknown one prints as <unknown>.
  const fields = line.split(' ');
  const fmt = (x: { n: number | string; float: boolean }) =>
    typeof x.n === 'string' ? x.n : nixToString(x.n, x.float);
  fields[3] = fmt(maxJobs);
  fields[4] = fmt(speed);
  const text = fields.join(' ');
  return { line: text, builder: b, hasUnknown: text.includes(UNKNOWN_TEXT) || !b.complete };
}
