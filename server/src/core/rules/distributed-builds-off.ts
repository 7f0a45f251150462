// distributed-builds-off: builders are defined but nix.distributedBuilds is not
// true, so NixOS writes `builders =` (empty) and every build stays local.
import type { Diagnostic, Fix } from '../diagnostic';
import { unwrap } from '../eval/module';
import type { Model } from '../model';
import { diag, nixBuilders, type Rule } from './rule';

/** What goes between the inserted binding and the one at `offset`: a new line with its indentation, or a space when other code precedes it on its line. */
function separator(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const eol = text.charCodeAt(lineStart - 2) === 13 ? '\r\n' : '\n';
  return /^[ \t]*$/.test(before) ? `${eol}${before}` : ' ';
}

/** Inserts `nix.distributedBuilds = true;` before the binding that defines the builders. */
function insertFix(model: Model): Fix[] {
  const def = model.buildMachines.defs.find((d) => d.bindingSpan);
  const span = def?.bindingSpan;
  const text = span ? model.texts.get(span.file) : undefined;
  if (!span || text === undefined) return [];
  const written = text.slice(span.start, span.start + 40);
  const name = /^nix\s*\.\s*buildMachines/.test(written)
    ? 'nix.distributedBuilds'
    : /^buildMachines/.test(written)
      ? 'distributedBuilds'
      : undefined;
  if (!name) return [];
  return [
    {
      title: 'Set nix.distributedBuilds = true',
      edits: [{ span: { file: span.file, start: span.start, end: span.start }, newText: `${name} = true;${separator(text, span.start)}` }],
      preferred: true,
    },
  ];
}

export const distributedBuildsOff: Rule = {
  code: 'distributed-builds-off',
  summary: 'Builders are defined but nix.distributedBuilds is not true.',
  check(model) {
    const builders = nixBuilders(model);
    const first = builders[0];
    if (!first) return [];
    const d = model.distributedBuilds;
    const values = d.defs.map((x) => unwrap(x.value));
    if (values.some((v) => v?.kind === 'bool' && v.value)) return [];
    if (values.some((v) => v && v.kind !== 'bool') || d.defs.some((x) => x.conditional)) return [];
    const literalFalse = values.find((v) => v?.kind === 'bool' && !v.value);
    if (!literalFalse && d.partial) return [];
    const out: Diagnostic[] = [];
    const message =
      'nix.buildMachines is set but nix.distributedBuilds is not true: NixOS then writes `builders =` (empty) to nix.conf and every build stays local. Set nix.distributedBuilds = true;';
    if (literalFalse?.kind === 'bool' && literalFalse.span.file !== '<builtin>') {
      out.push(diag('distributed-builds-off', 'warning', literalFalse.span, message, [
        { title: 'Set nix.distributedBuilds = true', edits: [{ span: literalFalse.span, newText: 'true' }], preferred: true },
      ]));
    } else {
      const at = model.buildMachines.defs.find((x) => x.bindingSpan)?.bindingSpan ?? first.span;
      out.push(diag('distributed-builds-off', 'warning', { file: at.file, start: at.start, end: Math.min(at.end, at.start + 17) }, message, insertFix(model)));
    }
    return out;
  },
};
