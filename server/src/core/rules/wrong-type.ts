// wrong-type: a builder attribute whose value has a type the option rejects
// (`maxJobs = "3"`, `systems = "x86_64-linux"`); NixOS stops evaluating.
import { BUILDER_OPTIONS, type OptionDoc, type OptionType } from '../builder-options';
import type { Diagnostic, Fix } from '../diagnostic';
import type { Thunk, Value } from '../eval/value';
import type { Builder, ReadAttr } from '../model';
import { diag, nixBuilders, replaceString, type Rule } from './rule';

function typeName(v: Value): string {
  switch (v.kind) {
    case 'string':
      return 'a string';
    case 'int':
      return 'an integer';
    case 'float':
      return 'a float';
    case 'bool':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'path':
      return 'a path';
    case 'list':
      return 'a list';
    case 'attrs':
      return 'an attribute set';
    case 'lambda':
    case 'prim':
      return 'a function';
    default:
      return 'an unknown value';
  }
}

/** Whether v fits the type; undefined when the value is not known well enough to say. */
function fits(t: OptionType, v: Value): boolean | undefined {
  if (v.kind === 'unknown' || v.kind === 'module') return undefined;
  switch (t) {
    case 'string':
      return v.kind === 'string';
    case 'nullOrString':
    case 'protocol':
      // A path for sshKey is reported by ssh-key-path, which says why it hurts.
      return v.kind === 'string' || v.kind === 'null' || v.kind === 'path';
    case 'listOfStrings':
      return v.kind === 'list';
    case 'int':
      return v.kind === 'int';
    case 'number':
      return v.kind === 'int' || v.kind === 'float';
    case 'bool':
      return v.kind === 'bool';
  }
}

function listItemProblems(name: string, v: Value, out: Diagnostic[]): void {
  if (v.kind !== 'list') return;
  // Indexed: every list of every builder passes here.
  const { items } = v;
  for (let i = 0; i < items.length; i++) {
    const x = (items[i] as Thunk).force();
    if (x.kind === 'unknown' || x.kind === 'string' || x.kind === 'module') continue;
    out.push(
      diag('wrong-type', 'error', x.span, `${name} must be a list of strings, but this element is ${typeName(x)}: NixOS rejects the configuration.`),
    );
  }
}

function fixFor(name: string, t: OptionType, v: Value): Fix[] {
  // `systems = "x86_64-linux"` → `systems = [ "x86_64-linux" ]`
  if (t === 'listOfStrings' && v.kind === 'string') {
    return [
      {
        title: `Make ${name} a list`,
        edits: [
          { span: { file: v.span.file, start: v.span.start, end: v.span.start }, newText: '[ ' },
          { span: { file: v.span.file, start: v.span.end, end: v.span.end }, newText: ' ]' },
        ],
        preferred: true,
      },
    ];
  }
  // `maxJobs = "3"` → `maxJobs = 3`
  if ((t === 'int' || t === 'number') && v.kind === 'string' && /^\d+(\.\d+)?$/.test(v.value)) {
    if (t === 'int' && v.value.includes('.')) return [];
    const inner = replaceString(v, v.value);
    if (!inner) return [];
    return [{ title: `Use the number ${v.value}`, edits: [{ span: v.span, newText: v.value }], preferred: true }];
  }
  return [];
}

// Attribute names come from the document, not internalised: a map finds them
// faster than a property lookup does (which stays as the fallback, for the
// names Object.prototype has).
const OPTIONS: ReadonlyMap<string, OptionDoc> = new Map(Object.entries(BUILDER_OPTIONS));

function attrProblems(b: Builder, a: ReadAttr, out: Diagnostic[]): void {
  const opt = OPTIONS.get(a.name) ?? BUILDER_OPTIONS[a.name];
  if (!opt) return;
  const ok = fits(opt.type, a.value);
  if (ok === false) {
    out.push(
      diag(
        'wrong-type',
        'error',
        a.value.span ?? a.keySpan ?? b.span,
        `${a.name} must be ${opt.typeText}, but it is ${typeName(a.value)}: NixOS stops with "A definition for option … is not of type …".`,
        fixFor(a.name, opt.type, a.value),
      ),
    );
  } else if (opt.type === 'listOfStrings') {
    listItemProblems(a.name, a.value, out);
  }
}

export const wrongType: Rule = {
  code: 'wrong-type',
  summary: 'A value of the wrong type, e.g. maxJobs = "3" or systems = "x86_64-linux".',
  perBuilder: true,
  check(model) {
    const out: Diagnostic[] = [];
    // forEach: no iterator objects for the attributes of thousands of builders.
    for (const b of nixBuilders(model)) b.attrs.forEach((a) => attrProblems(b, a, out));
    return out;
  },
  checkModel(model) {
    const out: Diagnostic[] = [];
    // nix.buildMachines itself must be a list.
    for (const def of model.buildMachines.defs) {
      const v = def.value;
      if (v.kind !== 'unknown' && v.kind !== 'list' && v.kind !== 'module') {
        out.push(
          diag('wrong-type', 'error', v.span, `nix.buildMachines must be a list of attribute sets (one per builder), but it is ${typeName(v)}.`),
        );
      } else if (v.kind === 'list') {
        for (const t of v.items) {
          const x = t.force();
          if (x.kind !== 'unknown' && x.kind !== 'attrs' && x.kind !== 'module') {
            out.push(diag('wrong-type', 'error', x.span, `Each element of nix.buildMachines must be an attribute set, but this one is ${typeName(x)}.`));
          }
        }
      }
    }
    return out;
  },
};
