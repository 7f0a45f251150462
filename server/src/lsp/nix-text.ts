// Renders plain data (core/eval/to-plain) as Nix source text for hovers.
import { type Plain, UNKNOWN_MARK } from '../core/eval/to-plain';

const IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;
const MAX_ITEMS = 50;
const WIDTH = 72;

export function nixString(s: string): string {
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\$\{/g, '\\${')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `"${body}"`;
}

function key(k: string): string {
  return IDENT.test(k) ? k : nixString(k);
}

/** Nix text of a value; `«unknown»` marks what could not be read statically. */
export function plainToNix(p: Plain, indent = ''): string {
  if (p === UNKNOWN_MARK) return '«unknown»';
  if (p === null) return 'null';
  if (typeof p === 'string') return nixString(p);
  if (typeof p === 'number' || typeof p === 'boolean') return String(p);
  const inner = `${indent}  `;
  if (Array.isArray(p)) {
    if (p.length === 0) return '[ ]';
    const shown = p.slice(0, MAX_ITEMS).map((x) => plainToNix(x, inner));
    if (p.length > MAX_ITEMS) shown.push(`… ${p.length - MAX_ITEMS} more`);
    const flat = `[ ${shown.join(' ')} ]`;
    if (flat.length + indent.length <= WIDTH && !flat.includes('\n')) return flat;
    return `[\n${shown.map((s) => inner + s).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(p as Record<string, Plain>);
  if (entries.length === 0) return '{ }';
  const shown = entries.map(([k, v]) => (k === '…' && v === UNKNOWN_MARK ? '…' : `${key(k)} = ${plainToNix(v, inner)};`));
  const flat = `{ ${shown.join(' ')} }`;
  if (flat.length + indent.length <= WIDTH && !flat.includes('\n')) return flat;
  return `{\n${shown.map((s) => inner + s).join('\n')}\n${indent}}`;
}
