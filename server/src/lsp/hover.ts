// Hover: option docs on builder / knownHosts attribute names, and what a value
// was read as (after let, inherit, ++, mkDefault, …) on values. On a builder's
// hostName also how root's ssh reaches it (host-hover.ts).
import { type Hover, MarkupKind } from 'vscode-languageserver';
import { BUILDER_OPTIONS, KNOWN_HOST_OPTIONS, type OptionDoc } from '../core/builder-options';
import { toPlain } from '../core/eval/to-plain';
import type { Builder, Model, ReadAttr } from '../core/model';
import type { LineIndex } from '../core/span';
import { type AttrHit, attrAt } from './locate';
import { plainToNix } from './nix-text';

const MACHINES_FIELD: Record<string, number> = {
  protocol: 1,
  sshUser: 1,
  hostName: 1,
  systems: 2,
  sshKey: 3,
  maxJobs: 4,
  speedFactor: 5,
  supportedFeatures: 6,
  mandatoryFeatures: 7,
  publicHostKey: 8,
};

function optionOf(hit: AttrHit): { doc: OptionDoc | undefined; where: string } {
  if (hit.owner.kind === 'knownHost') {
    return { doc: KNOWN_HOST_OPTIONS[hit.attr.name], where: `programs.ssh.knownHosts.${hit.owner.host.name}` };
  }
  const b = hit.owner.builder;
  const where =
    b.source === 'nix'
      ? 'nix.buildMachines'
      : `machines line, field ${MACHINES_FIELD[hit.attr.name] ?? '?'}${b.source === 'builders-setting' ? ' (builders setting)' : ''}`;
  return { doc: Object.hasOwn(BUILDER_OPTIONS, hit.attr.name) ? BUILDER_OPTIONS[hit.attr.name] : undefined, where };
}

function valueBlock(a: ReadAttr): string {
  let text: string;
  try {
    text = plainToNix(toPlain(a.value));
  } catch {
    text = '«unknown»';
  }
  return ['```nix', `${a.name} = ${text};`, '```'].join('\n');
}

export function hoverAt(
  model: Model,
  file: string,
  lines: LineIndex,
  offset: number,
  /** The ssh section of a hover on a builder's hostName. */
  hostDetails?: (b: Builder) => string | undefined,
): Hover | null {
  const hit = attrAt(model, file, offset);
  if (!hit) return null;
  const { doc, where } = optionOf(hit);
  const parts: string[] = [];
  if (hit.on === 'key') {
    if (doc) {
      parts.push(`**${hit.attr.name}** · \`${doc.typeText}\` · default \`${doc.default}\` · *${where}*`, doc.doc);
    } else if (hit.owner.kind === 'builder' && hit.owner.builder.source === 'nix') {
      parts.push(`**${hit.attr.name}** is not an option of nix.buildMachines.`);
    } else if (hit.owner.kind === 'knownHost') {
      parts.push(`**${hit.attr.name}** is not an option of programs.ssh.knownHosts.`);
    }
    parts.push(`Read as:\n${valueBlock(hit.attr)}`);
  } else {
    parts.push(`Read as:\n${valueBlock(hit.attr)}`);
    if (doc) parts.push(`\`${hit.attr.name}\`: \`${doc.typeText}\`, default \`${doc.default}\` · *${where}*`);
  }
  if (hostDetails && hit.owner.kind === 'builder' && hit.attr.name === 'hostName') {
    const section = hostDetails(hit.owner.builder);
    if (section) parts.push(section);
  }
  return {
    contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n') },
    range: lines.range(hit.span.start, hit.span.end),
  };
}
