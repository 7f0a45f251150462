// Builds the Model from the module roots of a configuration and from machines
// files: every builder with its attributes as written, known hosts, ssh_config
// text and the settings that decide whether builders are used at all.
import type { Diagnostic } from './diagnostic';
import { definitions, type Definitions, type ModuleRoot, unwrap, winning } from './eval/module';
import { mapStringRange } from './eval/strings';
import { type AttrsValue, type StringValue, Thunk, type ThunkExpression, type Value } from './eval/value';
import { type MachineEntry, type MachineField, parseMachines } from './machines-file';
import type { Builder, BuilderSource, ConfLine, KnownHost, Model, ReadAttr } from './model';
import { fixedSpan, type Span } from './span';
import { parseSshConfig } from './ssh-config';

function readAttrs(v: AttrsValue): Map<string, ReadAttr> {
  const out = new Map<string, ReadAttr>();
  for (const [name, a] of v.attrs) {
    const value = unwrap(a.thunk.force());
    if (value === undefined) continue; // mkIf false: not set
    out.set(name, { name, value, keySpan: a.keySpan, bindingSpan: a.bindingSpan });
  }
  return out;
}

export interface ListItem {
  value: Value;
  conditional: boolean;
  origin: Builder['origin'];
}

/**
 * What each list item thunk read for a builder evaluated, kept past its first
 * force: a later analysis of the same read module (another file edited, a
 * lookup answered) extracts its builders again, and a keystroke after that
 * still re-reads only the builder it is in (incremental.ts).
 */
const itemExpressions = new WeakMap<Thunk, ThunkExpression>();

/** Items of a list option across its winning definitions. */
function listItems(d: Definitions): ListItem[] {
  const out: ListItem[] = [];
  for (const def of winning(d.defs)) {
    const l = def.value;
    if (l.kind !== 'list') continue;
    for (const thunk of l.items) {
      let expression = thunk.expression();
      if (expression) itemExpressions.set(thunk, expression);
      else expression = itemExpressions.get(thunk);
      const v = unwrap(thunk.force());
      if (v) out.push({ value: v, conditional: def.conditional, origin: expression && { thunk, expression } });
    }
  }
  return out;
}

/** The builder an item of nix.buildMachines is, if it is an attribute set. */
export function nixBuilder(item: ListItem): Builder | undefined {
  const { value, conditional, origin } = item;
  if (value.kind !== 'attrs') return undefined;
  return {
    source: 'nix',
    file: value.span.file,
    span: value.span,
    attrs: readAttrs(value),
    complete: value.complete,
    conditional,
    ...(origin ? { origin } : {}),
  };
}

function nixBuilders(d: Definitions): Builder[] {
  const out: Builder[] = [];
  for (const item of listItems(d)) {
    const b = nixBuilder(item);
    if (b) out.push(b);
  }
  return out;
}

function knownHosts(d: Definitions): KnownHost[] {
  // attrsOf submodule: the same host may be defined in several places; merge by name.
  const byName = new Map<string, KnownHost>();
  for (const def of winning(d.defs)) {
    const set = def.value;
    if (set.kind !== 'attrs') continue;
    for (const [name, a] of set.attrs) {
      const v = unwrap(a.thunk.force());
      if (!v || v.kind !== 'attrs') continue;
      const attrs = readAttrs(v);
      const definition = { file: v.span.file, span: v.span, attrs };
      const existing = byName.get(name);
      if (existing) {
        for (const [k, r] of attrs) existing.attrs.set(k, r);
        existing.complete &&= v.complete;
        existing.definitions.push(definition);
        continue;
      }
      byName.set(name, {
        name,
        file: v.span.file,
        nameSpan: a.keySpan,
        span: v.span,
        attrs: new Map(attrs),
        complete: v.complete,
        definitions: [definition],
      });
    }
  }
  return [...byName.values()];
}

function strings(d: Definitions): StringValue[] {
  const out: StringValue[] = [];
  for (const def of d.defs) {
    const v = unwrap(def.value);
    if (v?.kind === 'string') out.push(v);
  }
  return out;
}

/**
 * A range of a string value, in its document: mapped through the value's
 * pieces when read, so it follows the string when an edit elsewhere moves it
 * (a Host block of extraConfig after the builder being typed into).
 */
class StringStretch implements Span {
  constructor(
    private readonly s: StringValue,
    private readonly from: number,
    private readonly to: number,
  ) {}

  get file(): string {
    return this.s.span.file;
  }

  get start(): number {
    return mapStringRange(this.s.pieces, this.s.span, this.from, this.to).start;
  }

  get end(): number {
    return mapStringRange(this.s.pieces, this.s.span, this.from, this.to).end;
  }

  toJSON(): Span {
    return fixedSpan(this);
  }
}

/** Locates a range of a string value in its document. */
export function stringLocator(s: StringValue): (start: number, end: number) => Span {
  return (start, end) => new StringStretch(s, start, end);
}

/** A nix.conf line, and where the characters of its value are in the document. */
interface LocatedConfLine {
  line: ConfLine;
  /** Maps a range of `line.value` to the document (through escapes and interpolations). */
  locateValue: (start: number, end: number) => Span;
}

/** `key = value` lines of nix.extraOptions (`builders = …`, `max-jobs = …`, …). */
function confLines(values: StringValue[]): LocatedConfLine[] {
  const out: LocatedConfLine[] = [];
  for (const s of values) {
    const locate = stringLocator(s);
    let offset = 0;
    for (const line of s.value.split('\n')) {
      const m = /^(\s*)([A-Za-z0-9-]+)(\s*=\s*)(.*?)\s*$/.exec(line.replace(/#.*/, ''));
      if (m) {
        const keyStart = offset + (m[1] ?? '').length;
        const key = m[2] ?? '';
        const valueStart = keyStart + key.length + (m[3] ?? '').length;
        const value = m[4] ?? '';
        out.push({
          line: {
            key,
            value,
            span: locate(keyStart, valueStart + value.length),
            valueSpan: locate(valueStart, valueStart + value.length),
          },
          locateValue: (start, end) => locate(valueStart + start, valueStart + end),
        });
      }
      offset += line.length + 1;
    }
  }
  return out;
}

/** Where a machines text lies: `locate` maps its offsets to the document, whose text is `doc` when known. */
interface MachinesSource {
  locate: (start: number, end: number) => Span;
  doc?: string;
}

/**
 * The machines text from `start` to `start + text.length` as a string value.
 * Fields are unquoted, so in a machines file the value is the document text
 * itself; inside a Nix string it is only when no escape or interpolation lies
 * within it. Only then does the value claim a 1:1 map onto the document, which
 * fixes rely on to edit the characters in place.
 */
function field(text: string, start: number, src: MachinesSource): Value {
  const span = src.locate(start, start + text.length);
  const exact = src.doc !== undefined && src.doc.slice(span.start, span.end) === text;
  return exact
    ? { kind: 'string', value: text, span, pieces: [{ at: 0, length: text.length, base: span, rel: 0 }] }
    : { kind: 'string', value: text, span };
}

function commaList(f: MachineField, src: MachinesSource): Value {
  const items: Thunk[] = [];
  let at = f.offset;
  for (const part of f.text.split(',')) {
    if (part) items.push(Thunk.of(field(part, at, src)));
    at += part.length + 1;
  }
  return { kind: 'list', items, span: f.span, complete: true };
}

/** A machines line as builder attributes, so the same rules check it. */
export function machineBuilder(e: MachineEntry, source: BuilderSource, src: MachinesSource): Builder | undefined {
  const attrs = new Map<string, ReadAttr>();
  const set = (name: string, value: Value) => attrs.set(name, { name, value, keySpan: value.span });
  const uri = e.fields[0];
  if (!uri) return undefined;
  let rest = uri.text;
  let at = uri.offset;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    set('protocol', field(scheme[1] ?? '', at, src));
    rest = rest.slice(scheme[0].length);
    at += scheme[0].length;
  }
  const atSign = rest.lastIndexOf('@');
  if (atSign >= 0) {
    set('sshUser', field(rest.slice(0, atSign), at, src));
    rest = rest.slice(atSign + 1);
    at += atSign + 1;
  }
  set('hostName', field(rest, at, src));
  const names = ['systems', 'sshKey', 'maxJobs', 'speedFactor', 'supportedFeatures', 'mandatoryFeatures', 'publicHostKey'];
  names.forEach((name, i) => {
    const f = e.fields[i + 1];
    if (!f || f.text === '-' || f.text === '') return;
    if (name === 'systems' || name === 'supportedFeatures' || name === 'mandatoryFeatures') set(name, commaList(f, src));
    else if (name === 'maxJobs' && /^\d+$/.test(f.text)) set(name, { kind: 'int', value: Number(f.text), span: f.span });
    else if (name === 'speedFactor' && /^[0-9.eE+-]+$/.test(f.text) && !Number.isNaN(Number(f.text)))
      set(name, { kind: 'float', value: Number(f.text), span: f.span });
    else if (name !== 'maxJobs' && name !== 'speedFactor') set(name, field(f.text, f.offset, src));
  });
  return { source, file: e.span.file, span: e.span, attrs, complete: true, conditional: false };
}

/**
 * Builders from machines text. `locate` maps offsets of `text` to the document
 * (through a Nix string's escapes and interpolations); `doc` is the document's
 * text, to tell where a field is written literally.
 */
export function buildersFromMachinesText(
  text: string,
  locate: (start: number, end: number) => Span,
  source: BuilderSource,
  doc?: string,
): { builders: Builder[]; problems: Diagnostic[] } {
  const parsed = parseMachines(text, locate);
  const builders: Builder[] = [];
  for (const e of parsed.entries) {
    if (e.include) continue;
    const b = machineBuilder(e, source, { locate, doc });
    if (b) builders.push(b);
  }
  return { builders, problems: parsed.diagnostics };
}

function hostSystem(roots: ModuleRoot[]): string | undefined {
  for (const path of [['nixpkgs', 'hostPlatform'], ['nixpkgs', 'hostPlatform', 'system'], ['nixpkgs', 'system'], ['nixpkgs', 'localSystem', 'system']]) {
    for (const def of winning(definitions(roots, path).defs)) {
      const v = unwrap(def.value);
      if (v?.kind === 'string') return v.value;
    }
  }
  return undefined;
}

export interface MachinesFile {
  file: string;
  text: string;
}

export function extractModel(roots: ModuleRoot[], machinesFiles: MachinesFile[] = [], texts = new Map<string, string>()): Model {
  const defs = (p: string) => definitions(roots, p.split('.'));
  const buildMachines = defs('nix.buildMachines');
  const builders = nixBuilders(buildMachines);
  const machinesProblems: Diagnostic[] = [];
  const settingsBuilders = defs('nix.settings.builders');
  const extraOptionsDefs = defs('nix.extraOptions');
  const confs = confLines(strings(extraOptionsDefs));
  const extraOptions = confs.map((c) => c.line);
  const sshExtraConfig = strings(defs('programs.ssh.extraConfig'));
  const knownHostsDefs = defs('programs.ssh.knownHosts');

  // A `builders` string (nix.settings or nix.extraOptions) is machines text.
  for (const s of strings(settingsBuilders)) {
    const r = buildersFromMachinesText(s.value, stringLocator(s), 'builders-setting', texts.get(s.span.file));
    builders.push(...r.builders);
    machinesProblems.push(...r.problems);
  }
  for (const c of confs.filter((x) => x.line.key === 'builders')) {
    // Through the string's own map: the value may hold escapes or interpolations.
    const r = buildersFromMachinesText(c.line.value, c.locateValue, 'builders-setting', texts.get(c.line.span.file));
    builders.push(...r.builders);
    machinesProblems.push(...r.problems);
  }
  for (const m of machinesFiles) {
    const r = buildersFromMachinesText(m.text, (s, e) => ({ file: m.file, start: s, end: e }), 'machines-file', m.text);
    builders.push(...r.builders);
    machinesProblems.push(...r.problems);
  }

  return {
    files: [...roots.map((r) => r.file), ...machinesFiles.map((m) => m.file)],
    texts,
    builders,
    knownHosts: knownHosts(knownHostsDefs),
    knownHostsDefs,
    sshExtraConfig,
    sshBlocks: sshExtraConfig.flatMap((s) => parseSshConfig(s.value, stringLocator(s))),
    networkingHosts: defs('networking.hosts'),
    distributedBuilds: defs('nix.distributedBuilds'),
    buildMachines,
    settings: {
      builders: settingsBuilders,
      maxJobs: defs('nix.settings.max-jobs'),
      buildersUseSubstitutes: defs('nix.settings.builders-use-substitutes'),
      extraOptions,
      extraOptionsPartial: extraOptionsDefs.partial || extraOptionsDefs.defs.some((d) => unwrap(d.value)?.kind === 'unknown'),
    },
    hostSystem: hostSystem(roots),
    machinesProblems,
  };
}
