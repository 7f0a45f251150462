// Nix's machines-file / `builders` syntax (SPEC 1.2): the parser, with the errors Nix itself raises, and the line NixOS writes (SPEC 1.1).
import type { Diagnostic } from './diagnostic';
import type { Span } from './span';
import { suggest } from './did-you-mean';

export interface MachineField {
  text: string;
  span: Span;
  /** Where the field starts in the parsed text (before `locate`). */
  offset: number;
}

export interface MachineEntry {
  /** The entry without surrounding blanks and without its comment. */
  span: Span;
  /** Fields as Nix splits them; fields[0] is the store URI; `-` stays `-`. Empty for an include. */
  fields: MachineField[];
  /** An `@/path` entry: Nix reads that file with the same rules (silently skipped when missing). */
  include?: { path: string; span: Span };
}

export interface ParsedMachines {
  entries: MachineEntry[];
  diagnostics: Diagnostic[];
}

/** Field positions of a machine line (0-based, as in Nix's parseBuilderLine). */
export const FIELD = {
  uri: 0,
  systems: 1,
  sshKey: 2,
  maxJobs: 3,
  speedFactor: 4,
  supportedFeatures: 5,
  mandatoryFeatures: 6,
  publicHostKey: 7,
} as const;

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const AT = 64;

/** Nix's trim() and tokenizeString() default set: " \t\n\r". */
function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === NL || c === CR;
}

/**
 * Splits `text` as Nix's expandBuilderLines + parseBuilderLine do. Nix splits
 * on newlines and `;` first and only then cuts at `#`, so a `;` after a `#`
 * still starts a new entry. Includes are reported, not followed.
 */
export function parseMachines(text: string, locate: (start: number, end: number) => Span): ParsedMachines {
  const entries: MachineEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  const n = text.length;
  // indexOf scans far faster than a charCodeAt loop; each search result is
  // reused until passed, so the whole split stays linear.
  let nextNl = -1;
  let nextSemi = -1;
  let nextHash = -1;
  let partStart = 0;
  while (partStart <= n) {
    if (nextNl < partStart) nextNl = indexOrEnd(text, '\n', partStart);
    if (nextSemi < partStart) nextSemi = indexOrEnd(text, ';', partStart);
    const partEnd = Math.min(nextNl, nextSemi);
    if (nextHash < partStart) nextHash = indexOrEnd(text, '#', partStart);
    // Nix cuts the entry at its first '#'.
    const entry = parseEntry(text, partStart, Math.min(partEnd, nextHash), locate, diagnostics);
    if (entry) entries.push(entry);
    partStart = partEnd + 1;
  }
  return { entries, diagnostics };
}

function indexOrEnd(text: string, ch: string, from: number): number {
  const i = text.indexOf(ch, from);
  return i < 0 ? text.length : i;
}

function parseEntry(
  text: string,
  start: number,
  end: number,
  locate: (start: number, end: number) => Span,
  diagnostics: Diagnostic[],
): MachineEntry | undefined {
  let a = start;
  while (a < end && isBlank(text.charCodeAt(a))) a++;
  let b = end;
  while (b > a && isBlank(text.charCodeAt(b - 1))) b--;
  if (a === b) return undefined;

  if (text.charCodeAt(a) === AT) {
    let p = a + 1;
    while (p < b && isBlank(text.charCodeAt(p))) p++;
    return { span: locate(a, b), fields: [], include: { path: text.slice(p, b), span: locate(p, b) } };
  }

  const fields: MachineField[] = [];
  let i = a;
  while (i < b) {
    while (i < b && isBlank(text.charCodeAt(i))) i++;
    const f = i;
    while (i < b && !isBlank(text.charCodeAt(i))) i++;
    if (i > f) fields.push({ text: text.slice(f, i), span: locate(f, i), offset: f });
  }
  checkFields(fields, diagnostics);
  return { span: locate(a, b), fields };
}

function syntaxError(field: MachineField, message: string): Diagnostic {
  return { code: 'machines-syntax', severity: 'error', message, span: field.span, fixes: [] };
}

/** Nix skips a field that is absent or `-` (its isSet()). */
function setField(fields: MachineField[], index: number): MachineField | undefined {
  const f = fields[index];
  return f && f.text !== '-' ? f : undefined;
}

function checkFields(fields: MachineField[], out: Diagnostic[]): void {
  const uri = fields[FIELD.uri];
  if (uri) {
    const d = checkUri(uri);
    if (d) out.push(d);
  }
  const maxJobs = setField(fields, FIELD.maxJobs);
  if (maxJobs) {
    const d = checkMaxJobs(maxJobs);
    if (d) out.push(d);
  }
  const speed = setField(fields, FIELD.speedFactor);
  if (speed) {
    const d = checkSpeedFactor(speed);
    if (d) out.push(d);
  }
  const key = setField(fields, FIELD.publicHostKey);
  if (key) {
    const d = checkBase64(key);
    if (d) out.push(d);
  }
}

/** Schemes of stores that can run builds (Nix opens the URI with openStore). */
const BUILDING_SCHEMES = new Set(['ssh', 'ssh-ng', 'mounted-ssh-ng', 'unix', 'local', 'local-overlay', 'daemon']);
/** Stores Nix can open but never build on: the build hook cannot use them. */
const CACHE_SCHEMES = new Set(['http', 'https', 'file', 's3', 'gs', 'dummy']);
const BUILDER_SCHEMES = ['ssh', 'ssh-ng', 'mounted-ssh-ng'];

function checkUri(field: MachineField): Diagnostic | undefined {
  if (field.text === '-') {
    return syntaxError(
      field,
      'The store URI (field 1) is "-": Nix requires a builder address there and rejects this machines line. ' +
        'Write the builder as ssh://user@host or ssh-ng://user@host.',
    );
  }
  // Without "://" Nix prepends ssh:// (or keeps auto/daemon/local and paths), which is always acceptable.
  const sep = field.text.indexOf('://');
  if (sep < 0) return undefined;
  const raw = field.text.slice(0, sep);
  // URI schemes are case-insensitive by RFC 3986; staying quiet on "SSH://" errs on the safe side.
  const scheme = raw.toLowerCase();
  if (BUILDING_SCHEMES.has(scheme)) return undefined;
  if (CACHE_SCHEMES.has(scheme)) {
    return syntaxError(
      field,
      `"${raw}://" is a binary cache, not a builder: Nix cannot run builds there, so this machine is never used. ` +
        'Use ssh:// or ssh-ng:// to a machine running Nix, and list the cache in substituters instead.',
    );
  }
  const close = suggest(scheme, BUILDER_SCHEMES, { max: 1 });
  const hint = close[0] ? `Did you mean ${close[0]}://? ` : '';
  const shown = raw === '' ? 'an empty scheme' : `the unknown scheme "${raw}://"`;
  return syntaxError(
    field,
    `The store URI (field 1) has ${shown}: Nix cannot open a store with it, so this machine is never used. ` +
      `${hint}Builders use ssh://, ssh-ng:// or mounted-ssh-ng://.`,
  );
}

const UINT_MAX = 4294967295;

function checkMaxJobs(field: MachineField): Diagnostic | undefined {
  const t = field.text;
  // Nix parses with boost::lexical_cast<unsigned int>, which accepts a leading '+'.
  if (/^\+?[0-9]+$/.test(t) && Number(t) <= UINT_MAX) return undefined;
  const num = Number(t);
  let advice = 'Write a number such as 2.';
  if (Number.isFinite(num) && num < 0) advice = 'Write 0 to keep the builder idle, or a positive number such as 2.';
  else if (Number.isFinite(num) && num > UINT_MAX) advice = 'Write a smaller number, such as the builder\'s core count.';
  else if (Number.isFinite(num)) advice = `Write a whole number such as ${Math.max(1, Math.round(num))}.`;
  return syntaxError(
    field,
    `maxJobs (field 4) must be an unsigned integer, got "${t}": Nix rejects this machines line. ${advice}`,
  );
}

// What boost::lexical_cast<float> accepts: decimal with optional exponent, or inf/infinity/nan.
const FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const FLOAT_SPECIAL = /^([+-]?)(?:inf|infinity|nan)$/i;

function checkSpeedFactor(field: MachineField): Diagnostic | undefined {
  const t = field.text;
  const special = FLOAT_SPECIAL.exec(t);
  let negative: boolean;
  if (special) negative = special[1] === '-' && !/nan/i.test(t);
  else if (FLOAT.test(t)) negative = Number(t) < 0;
  else {
    return syntaxError(
      field,
      `speedFactor (field 5) must be a number, got "${t}": Nix rejects this machines line. Write a number such as 1 or 2.5.`,
    );
  }
  if (!negative) return undefined;
  return syntaxError(
    field,
    `speedFactor (field 5) must not be negative, got "${t}": Nix stops with "speed factor must be >= 0". ` +
      'Write a positive number; higher means a faster builder.',
  );
}

function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

function checkBase64(field: MachineField): Diagnostic | undefined {
  const t = field.text;
  // Nix's base64 decoder stops at the first '=' and checks only what precedes it.
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 61 /* = */) return undefined;
    if (isBase64Char(c)) continue;
    const ch = String.fromCodePoint(t.codePointAt(i) ?? c);
    const looksLikeKeyLine = /^(ssh-|ecdsa-|sk-)/.test(t);
    const cause = looksLikeKeyLine
      ? 'This looks like the raw key line, whose spaces split it over several fields. '
      : '';
    return syntaxError(
      field,
      `publicHostKey (field 8) must be standard base64, but "${ch}" at position ${i + 1} is not a base64 character: ` +
        `Nix rejects this machines line. ${cause}` +
        "Use the builder's `base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub`, or - to rely on known_hosts.",
    );
  }
  return undefined;
}

export interface MachineSpec {
  protocol: string | null;
  sshUser: string | null;
  hostName: string;
  system: string | null;
  systems: string[];
  sshKey: string | null;
  maxJobs: number;
  speedFactor: number;
  /** Nix prints a float with six decimals even when it is whole (2.0 → "2.000000"); JS cannot tell 2.0 from 2. */
  speedFactorIsFloat?: boolean;
  supportedFeatures: string[];
  mandatoryFeatures: string[];
  publicHostKey: string | null;
}

/** The line nixos/modules/config/nix-remote-build.nix writes to /etc/nix/machines, without the newline. */
export function renderMachineLine(m: MachineSpec): string {
  const uri = `${m.protocol !== null ? `${m.protocol}://` : ''}${m.sshUser !== null ? `${m.sshUser}@` : ''}${m.hostName}`;
  const systems = m.system !== null ? m.system : m.systems.length > 0 ? m.systems.join(',') : '-';
  const supported = [...m.supportedFeatures, ...m.mandatoryFeatures];
  return [
    uri,
    systems,
    m.sshKey !== null ? m.sshKey : '-',
    nixToString(m.maxJobs),
    nixToString(m.speedFactor, m.speedFactorIsFloat),
    supported.length > 0 ? supported.join(',') : '-',
    m.mandatoryFeatures.length > 0 ? m.mandatoryFeatures.join(',') : '-',
    m.publicHostKey !== null ? m.publicHostKey : '-',
  ].join(' ');
}

/** Nix's `toString` of a number: integers plainly, floats as C's "%f" (std::to_string). */
export function nixToString(n: number, isFloat = !Number.isInteger(n)): string {
  if (!isFloat && Number.isInteger(n)) return BigInt(n).toString();
  return formatFixed6(n);
}

/** printf("%f", x) exactly: six decimals, the exact binary value rounded half to even. */
function formatFixed6(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const neg = view.getUint32(0) >>> 31 === 1;
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp = -1074; // subnormal
  if (expBits !== 0) {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  // |x| = mant * 2^exp; we want round(|x| * 10^6).
  const m6 = mant * 1000000n;
  let scaled: bigint;
  if (exp >= 0) scaled = m6 << BigInt(exp);
  else {
    const den = 1n << BigInt(-exp);
    scaled = m6 / den;
    const twice = (m6 % den) * 2n;
    if (twice > den || (twice === den && (scaled & 1n) === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(7, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}
