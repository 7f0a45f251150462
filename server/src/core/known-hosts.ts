// Parses OpenSSH known_hosts text and answers which lines apply to a host, the way ssh looks them up (SPEC §1.5).
import { mergeAscending } from './ascending';
import { createHmac, randomBytes } from 'node:crypto';
import { parsePublicKeyLine, type PublicKey } from './ssh-keys';

export interface KnownHostsLine {
  marker?: 'cert-authority' | 'revoked';
  /** Host patterns as written (comma-separated field split), possibly hashed |1|salt|hash. */
  patterns: string[];
  /**
   * From parsePublicKeyLine(`${type} ${blob}`); undefined when the key part is invalid.
   * On lines from parseKnownHosts it is computed on first read.
   */
  key: PublicKey | undefined;
  /** The key type field as written. */
  keyType: string;
  /** Whatever follows the key, trimmed; absent when empty. */
  comment?: string;
  /** 1-based. */
  line: number;
  /** UTF-16 offsets of the line in the text, without its line break. */
  start: number;
  end: number;
}

export interface HostKeyMatch {
  line: KnownHostsLine;
  /**
   * 'exact': the line names `[host]:port` (or `host` for port 22); 'bare-host-fallback': the
   * port is not 22, no line names `[host]:port`, and this line names the bare host.
   * ('cert-authority' is never produced: @cert-authority lines are in `certAuthorities`.)
   */
  via: 'exact' | 'bare-host-fallback' | 'cert-authority';
}

const SSH_DEFAULT_PORT = 22;
const HASH_MAGIC = '|1|';
const SHA1_BYTES = 20;
// match_pattern_list copies each sub-pattern into a 1024-byte buffer and gives up (no match) on longer ones.
const MAX_SUBPATTERN = 1023;

/** ASCII lowercase, as OpenSSH's lowercase()/tolower() in the C locale. */
function lowerAscii(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9; // ' ' or '\t': the only separators hostfile.c knows
}

// ---------------------------------------------------------------------------
// Parsing (hostfile.c hostkeys_foreach_file).

/** The index of the character code c in s[from, end), or -1 (indexOf without looking past the line). */
function indexIn(s: string, c: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (s.charCodeAt(i) === c) return i;
  return -1;
}

/**
 * The marker at `i` (check_markers), in the line that ends at `end`: returns the marker
 * and the index after it and its blanks, or undefined for a line ssh rejects ("invalid marker").
 */
function readMarker(s: string, i: number, end: number): { marker?: 'cert-authority' | 'revoked'; next: number } | undefined {
  let marker: 'cert-authority' | 'revoked' | undefined;
  while (i < end && s.charCodeAt(i) === 64 /* @ */) {
    if (marker !== undefined) return undefined; // only one marker is allowed
    // The marker ends at the first space of the rest of the line, or failing that the first tab.
    let sp = indexIn(s, 32, i, end);
    if (sp < 0) sp = indexIn(s, 9, i, end);
    if (sp < 0 || sp <= i + 1 || sp - i >= 32) return undefined;
    const word = s.slice(i, sp);
    if (word === '@cert-authority') marker = 'cert-authority';
    else if (word === '@revoked') marker = 'revoked';
    else return undefined;
    i = sp;
    while (i < end && isBlank(s.charCodeAt(i))) i++;
  }
  return marker === undefined ? { next: i } : { marker, next: i };
}

/**
 * A parsed line. Validating and fingerprinting a key costs far more than reading the
 * line (an ECDSA point check especially), so `key` is computed on first read, once;
 * it is an accessor on the prototype, which keeps 100,000 lines small and fast to make.
 * (Spreading a line leaves `key` out; JSON.stringify includes it.)
 */
class Entry implements KnownHostsLine {
  marker?: 'cert-authority' | 'revoked';
  patterns: string[];
  keyType: string;
  comment?: string;
  line: number;
  start: number;
  end: number;
  readonly #blob: string;
  #key: PublicKey | undefined | null = null;

  constructor(
    marker: 'cert-authority' | 'revoked' | undefined,
    patterns: string[],
    keyType: string,
    blob: string,
    comment: string | undefined,
    line: number,
    start: number,
    end: number,
  ) {
    if (marker !== undefined) this.marker = marker;
    this.patterns = patterns;
    this.keyType = keyType;
    if (comment !== undefined) this.comment = comment;
    this.line = line;
    this.start = start;
    this.end = end;
    this.#blob = blob;
  }

  get key(): PublicKey | undefined {
    if (this.#key === null) {
      const parsed = parsePublicKeyLine(`${this.keyType} ${this.#blob}`);
      this.#key = 'key' in parsed ? parsed.key : undefined;
    }
    return this.#key;
  }

  set key(value: PublicKey | undefined) {
    this.#key = value;
  }

  toJSON(): KnownHostsLine {
    return { ...this, key: this.key };
  }
}

/**
 * Parses the line s[start, end) (without its line break); undefined for blank, comment
 * and malformed lines.
 */
function parseLine(s: string, start: number, end: number, lineNo: number): KnownHostsLine | undefined {
  let i = start;
  while (i < end && isBlank(s.charCodeAt(i))) i++;
  if (i >= end || s.charCodeAt(i) === 35 /* # */) return undefined;

  let marker: 'cert-authority' | 'revoked' | undefined;
  if (s.charCodeAt(i) === 64) {
    const m = readMarker(s, i, end);
    if (!m) return undefined;
    marker = m.marker;
    i = m.next;
  }

  // Host patterns: up to the next blank; a line that ends there has no key.
  const hostsStart = i;
  while (i < end && !isBlank(s.charCodeAt(i))) i++;
  if (i >= end || i === hostsStart) return undefined;
  const hosts = s.slice(hostsStart, i);
  while (i < end && isBlank(s.charCodeAt(i))) i++;
  if (i >= end || s.charCodeAt(i) === 35) return undefined; // truncated before key type

  const typeStart = i;
  while (i < end && !isBlank(s.charCodeAt(i))) i++;
  const keyType = s.slice(typeStart, i);
  // Legacy SSH-1 RSA lines start with the key size ("1024 35 ..."): ssh skips them.
  if (i - typeStart < 8 && /^[0-9]+$/.test(keyType)) return undefined;
  while (i < end && isBlank(s.charCodeAt(i))) i++;
  if (i >= end || s.charCodeAt(i) === 35) return undefined; // truncated after key type

  const blobStart = i;
  while (i < end && !isBlank(s.charCodeAt(i))) i++;
  const blob = s.slice(blobStart, i);
  while (i < end && isBlank(s.charCodeAt(i))) i++;
  let commentEnd = end;
  while (commentEnd > i && /\s/.test(s.charAt(commentEnd - 1))) commentEnd--;

  const comment = commentEnd > i ? s.slice(i, commentEnd) : undefined;
  const patterns = hosts.indexOf(',') < 0 ? [hosts] : hosts.split(',');
  return new Entry(marker, patterns, keyType, blob, comment, lineNo, start, end);
}

/**
 * The entries of a known_hosts file. Blank and comment lines are skipped, and so are
 * lines ssh cannot read at all (a bad marker, no key type, nothing after the key type,
 * SSH-1 keys). Lines whose key type or key data is broken are kept with `key` undefined.
 * CRLF line ends are tolerated. Never throws; linear in the length of the text.
 */
export function parseKnownHosts(text: string): KnownHostsLine[] {
  const out: KnownHostsLine[] = [];
  let pos = 0;
  let lineNo = 0;
  while (pos <= text.length) {
    lineNo++;
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    let end = nl;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    if (end > pos) {
      const entry = parseLine(text, pos, end, lineNo);
      if (entry) out.push(entry);
    }
    pos = nl + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Matching (match.c match_pattern, match_pattern_list; hostfile.c match_maybe_hashed).

/** Glob match with `*` (any run) and `?` (one character), as match_pattern. */
function globMatch(s: string, p: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = p.charCodeAt(pi);
    if (pi < p.length && (pc === 63 /* ? */ || pc === s.charCodeAt(si))) {
      si++;
      pi++;
    } else if (pi < p.length && pc === 42 /* * */) {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < p.length && p.charCodeAt(pi) === 42) pi++;
  return pi === p.length;
}

/** A `|1|salt|hash` field ssh can read: the salt decoded, the HMAC-SHA1 it holds (base64). */
interface HashedName {
  salt: Buffer;
  mac: string;
}

function readHashed(entry: string): HashedName | undefined {
  if (!entry.startsWith(HASH_MAGIC)) return undefined;
  const delim = entry.indexOf('|', HASH_MAGIC.length);
  const b64salt = entry.slice(HASH_MAGIC.length, delim);
  if (delim < 0 || b64salt.length === 0 || b64salt.length > 1024) return undefined;
  const salt = Buffer.from(b64salt, 'base64');
  if (salt.length !== SHA1_BYTES) return undefined;
  // ssh re-encodes the salt and compares the whole string, so only canonical base64 matches.
  const prefix = `${HASH_MAGIC}${salt.toString('base64')}|`;
  return entry.startsWith(prefix) ? { salt, mac: entry.slice(prefix.length) } : undefined;
}

/** Whether a `|1|salt|hash` entry is the hash of `name` (host_hash + exact comparison). */
function hashedMatches(entry: string, name: string): boolean {
  const hashed = readHashed(entry);
  return hashed !== undefined && hashedNameMatches(hashed, name);
}

function hashedNameMatches({ salt, mac }: HashedName, name: string): boolean {
  if (hmacBase64(name, salt) === mac) return true;
  const lower = lowerAscii(name);
  return lower !== name && hmacBase64(lower, salt) === mac;
}

function hmacBase64(name: string, salt: Buffer): string {
  return createHmac('sha1', salt).update(name, 'utf8').digest('base64');
}

function hashWithSalt(name: string, salt: Buffer): string {
  return `${HASH_MAGIC}${salt.toString('base64')}|${hmacBase64(name, salt)}`;
}

/**
 * ssh's host pattern-list match: case-insensitive, `*` and `?` wildcards, `!` negation
 * (a matching negated pattern makes the whole list fail). A hashed field (`|1|salt|hash`,
 * which ssh only recognises as the whole field) matches when it is the HMAC-SHA1 of the
 * name or of the name lowercased (ssh lowercases host names before the lookup).
 */
export function matchesHost(patterns: string[], name: string): boolean {
  const first = patterns[0];
  if (first === undefined) return false;
  if (first.startsWith('|')) return patterns.length === 1 && hashedMatches(first, name);
  return matchPatternList(patterns, name);
}

/**
 * match.c match_pattern_list with dolower: case-insensitive (ASCII) `*` / `?`
 * globs, `!` negation (a matching negated pattern fails the whole list).
 * Also what ssh_config Host lines and Match criteria use.
 */
export function matchPatternList(patterns: string[], name: string): boolean {
  const host = lowerAscii(name);
  let positive = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const sub = negated ? raw.slice(1) : raw;
    if (sub.length >= MAX_SUBPATTERN) return false;
    if (globMatch(host, lowerAscii(sub))) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** The name ssh looks up in known_hosts: `host` for port 22, `[host]:port` otherwise; the host lowercased. */
export function knownHostsName(host: string, port: number): string {
  const h = lowerAscii(host);
  return port === SSH_DEFAULT_PORT || port === 0 ? h : `[${h}]:${port}`;
}

/**
 * `|1|base64salt|base64hmac` as `ssh-keygen -H` writes it: HMAC-SHA1 keyed with a
 * 20-byte salt (random unless given) over the name, lowercased as ssh-keygen does.
 */
export function hashHostName(name: string, salt?: Buffer): string {
  const s = salt ?? randomBytes(SHA1_BYTES);
  if (s.length !== SHA1_BYTES) {
    throw new RangeError(`known_hosts salts are ${SHA1_BYTES} bytes (ssh ignores other lengths), got ${s.length}`);
  }
  return hashWithSalt(lowerAscii(name), s);
}

// ---------------------------------------------------------------------------
// Lookup (sshconnect.c check_host_key).

/** The lines of a, then of b, each once (a lone line needs no set to say so). */
function distinct(a: KnownHostsLine[], b: KnownHostsLine[]): KnownHostsLine[] {
  if (b.length === 0 && a.length <= 1) return a;
  if (a.length === 0 && b.length <= 1) return b;
  const out: KnownHostsLine[] = [];
  const seen = new Set<KnownHostsLine>();
  for (const line of [...a, ...b]) {
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  return out;
}

/**
 * What the lines say about `host` on `port`, as ssh checks it (lines with an unreadable
 * key are ignored, as ssh ignores them):
 * - `matches`: plain lines naming `[host]:port` (`host` for port 22). For another port
 *   with no such line, the plain lines naming the bare host instead: ssh retries
 *   without the port only when nothing is known for `[host]:port`; a mismatching
 *   `[host]:port` key is fatal.
 * - `certAuthorities`: @cert-authority lines naming `[host]:port`, then (port not 22)
 *   those naming the bare host: a certificate host key signed by one is accepted.
 * - `revoked`: @revoked lines for the names ssh consults: `[host]:port`, and the bare
 *   host when ssh may fall back to it. A revoked key is never accepted.
 * A HostKeyAlias is looked up as is, without the port: pass it with port 22.
 */
export function lookupHostKeys(
  lines: KnownHostsLine[],
  host: string,
  port: number,
): { matches: HostKeyMatch[]; revoked: KnownHostsLine[]; certAuthorities: KnownHostsLine[] } {
  return lookupAmong(lines, host, port, (line, name) => matchesHost(line.patterns, name));
}

type HostKeyLookup = ReturnType<typeof lookupHostKeys>;

/**
 * lookupHostKeys over `lines`, which must hold every line that can match the
 * host (in file order); `matches` tells whether a line matches a name.
 */
function lookupAmong(
  lines: Iterable<KnownHostsLine>,
  host: string,
  port: number,
  matches: (line: KnownHostsLine, name: string) => boolean,
): HostKeyLookup {
  const name = knownHostsName(host, port);
  const bare = knownHostsName(host, SSH_DEFAULT_PORT);
  const withPort = name !== bare;

  const plainPort: KnownHostsLine[] = [];
  const plainBare: KnownHostsLine[] = [];
  const caPort: KnownHostsLine[] = [];
  const caBare: KnownHostsLine[] = [];
  const revPort: KnownHostsLine[] = [];
  const revBare: KnownHostsLine[] = [];
  for (const line of lines) {
    const onPort = matches(line, name);
    const onBare = withPort && matches(line, bare);
    if ((!onPort && !onBare) || line.key === undefined) continue;
    const [port, bareList] =
      line.marker === 'cert-authority' ? [caPort, caBare] : line.marker === 'revoked' ? [revPort, revBare] : [plainPort, plainBare];
    if (onPort) port.push(line);
    if (onBare) bareList.push(line);
  }

  const hostMatches: HostKeyMatch[] =
    plainPort.length > 0 || !withPort
      ? plainPort.map((line) => ({ line, via: 'exact' as const }))
      : plainBare.map((line) => ({ line, via: 'bare-host-fallback' as const }));

  const certAuthorities = distinct(caPort, caBare);

  // ssh consults the bare host after a plain key finds nothing for [host]:port, or after
  // a certificate's CA is not among the [host]:port CAs.
  const bareConsulted = withPort && (plainPort.length === 0 || caBare.length > 0);
  const revoked = distinct(revPort, bareConsulted ? revBare : []);

  return { matches: hostMatches, revoked, certAuthorities };
}

// ---------------------------------------------------------------------------
// Indexed lookup, for many hosts against the same lines.

/** A line's patterns are plain names: no `*`, `?` or `!`, not hashed, not too long for ssh. */
function isPlainPattern(p: string): boolean {
  return p.length > 0 && p.length < MAX_SUBPATTERN && !/[*?!]/.test(p);
}

const NONE: readonly number[] = [];

/**
 * lookupHostKeys for many hosts against the same lines, with the same answers.
 * A line of plain names (no wildcard, negation or hash) can only match a name
 * it spells, so such lines are found through a map by name, and only the other
 * lines are tried for every lookup: 2,000 builders against 2,000 knownHosts
 * entries were 4,000,000 pattern matches. Hashed lines keep their decoded salt.
 * The lines must not change while the index is used.
 */
export class KnownHostsIndex {
  /** Lowercased plain name → indices of the lines that list it, ascending. */
  private readonly byName = new Map<string, number[]>();
  /** Indices of the other lines (wildcards, negation, hashed, …), ascending. */
  private readonly others: number[] = [];
  /** Each hashed line in `others`, read once (null: ssh does not read it as hashed). */
  private readonly hashed = new Map<KnownHostsLine, HashedName | null>();

  constructor(readonly lines: readonly KnownHostsLine[]) {
    lines.forEach((line, i) => this.add(line, i));
  }

  private add(line: KnownHostsLine, i: number): void {
    const first = line.patterns[0];
    if (first === undefined || first.startsWith('|') || !line.patterns.every(isPlainPattern)) {
      this.others.push(i);
      if (first?.startsWith('|') && line.patterns.length === 1) this.hashed.set(line, readHashed(first) ?? null);
      return;
    }
    for (const name of new Set(line.patterns.map(lowerAscii))) {
      const list = this.byName.get(name);
      if (list) list.push(i);
      else this.byName.set(name, [i]);
    }
  }

  lookup(host: string, port: number): HostKeyLookup {
    const name = knownHostsName(host, port);
    const bare = knownHostsName(host, SSH_DEFAULT_PORT);
    const named = mergeAscending(this.byName.get(name) ?? NONE, name === bare ? NONE : (this.byName.get(bare) ?? NONE));
    const candidates = mergeAscending(named, this.others);
    if (candidates.length === 0) return { matches: [], revoked: [], certAuthorities: [] };
    const lines = candidates.map((i) => this.lines[i] as KnownHostsLine);
    return lookupAmong(lines, host, port, (line, n) => this.matches(line, n));
  }

  /** matchesHost, with a hashed line read once. */
  private matches(line: KnownHostsLine, name: string): boolean {
    const hashed = this.hashed.get(line);
    if (hashed === undefined) return matchesHost(line.patterns, name);
    return hashed !== null && hashedNameMatches(hashed, name);
  }
}
