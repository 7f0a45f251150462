// Parses, validates, fingerprints and base64-wraps OpenSSH public host keys the way NixOS options hold them.
import { createHash, createPublicKey, hash } from 'node:crypto';

/** Host key types OpenSSH accepts in known_hosts (SPEC §1.5). */
export const HOST_KEY_TYPES: readonly string[] = Object.freeze([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export interface PublicKey {
  type: string;
  /** base64 as written (for a bare-blob or re-encoded value: canonical, padded). */
  blob: string;
  comment?: string;
  bits: number;
  /** 'SHA256:...' without padding, as ssh-keygen -l prints. */
  fingerprint: string;
}

export type KeyProblem = {
  kind: 'not-base64' | 'empty' | 'unknown-type' | 'blob-type-mismatch' | 'bad-blob' | 'missing-type' | 'missing-blob';
  message: string;
};

export type PublicHostKeyFix = { kind: 'encode-line' | 'encode-blob'; newValue: string };

// The labels ssh-keygen -l prints in parentheses (sshkey_type()). ssh-dss is here
// only so a caller that builds a PublicKey itself still gets the right label.
const LABELS: Record<string, string> = {
  'ssh-ed25519': 'ED25519',
  'ssh-rsa': 'RSA',
  'ecdsa-sha2-nistp256': 'ECDSA',
  'ecdsa-sha2-nistp384': 'ECDSA',
  'ecdsa-sha2-nistp521': 'ECDSA',
  'sk-ssh-ed25519@openssh.com': 'ED25519-SK',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'ECDSA-SK',
  'ssh-dss': 'DSA',
};

interface Curve {
  name: string; // as in the blob's curve field
  jwk: string; // node:crypto JWK crv
  bits: number;
  coordBytes: number;
}
const CURVES: Record<string, Curve> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', jwk: 'P-256', bits: 256, coordBytes: 32 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', jwk: 'P-384', bits: 384, coordBytes: 48 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', jwk: 'P-521', bits: 521, coordBytes: 66 },
  'sk-ecdsa-sha2-nistp256@openssh.com': { name: 'nistp256', jwk: 'P-256', bits: 256, coordBytes: 32 },
};

// OpenSSH limits (ssh.h SSH_RSA_MINIMUM_MODULUS_SIZE, sshbuf.h SSHBUF_MAX_BIGNUM).
const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;

const GENERATE_HINT = '`base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub`';

function isHostKeyType(t: string): boolean {
  return HOST_KEY_TYPES.includes(t);
}

/** The host key file on the builder that holds a key of this type. */
function hostKeyFile(type: string): string {
  if (type.includes('rsa')) return '/etc/ssh/ssh_host_rsa_key.pub';
  if (type.includes('ecdsa')) return '/etc/ssh/ssh_host_ecdsa_key.pub';
  return '/etc/ssh/ssh_host_ed25519_key.pub';
}

/** The name `ssh-keyscan -t` takes for a key type. */
function keyscanType(type: string): string {
  const base = type.includes('rsa') ? 'rsa' : type.includes('ecdsa') ? 'ecdsa' : 'ed25519';
  return type.startsWith('sk-') ? `${base}-sk` : base;
}

/** Shortens long key material for messages: "AAAAC3NzaC1lZDI1NTE5…". */
function abbrev(s: string, max = 24): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * Whether Nix's base64 decoder takes s: only A-Za-z0-9+/, then at most two '='.
 * Nix ignores missing padding (and anything after the first '='; we are stricter
 * there because trailing junk is never intended). The empty string is not base64
 * of anything useful, so it is rejected.
 */
export function isStandardBase64(s: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(s);
}

// The value of each base64 character (standard alphabet), -1 for any other code unit below 128.
const BASE64_VALUES: readonly number[] = (() => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const values = new Array<number>(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

/**
 * Whether OpenSSH's b64_pton takes s as a key blob: the standard alphabet,
 * padded to a multiple of four, unused bits zero; i.e. s is exactly the
 * canonical encoding of its bytes. Checked character by character rather than
 * by decoding and encoding again: one string less per key.
 */
function isCanonicalBase64(s: string): boolean {
  const n = s.length;
  if (n === 0 || n % 4 !== 0) return false;
  const pad = s.charCodeAt(n - 1) !== 61 /* = */ ? 0 : s.charCodeAt(n - 2) !== 61 ? 1 : 2;
  for (let i = 0; i < n - pad; i++) if ((BASE64_VALUES[s.charCodeAt(i)] ?? -1) < 0) return false;
  // The last character before the padding carries 2 (one `=`) or 4 (two) unused bits.
  const last = BASE64_VALUES[s.charCodeAt(n - pad - 1)] ?? -1;
  return pad === 0 || (last & (pad === 1 ? 0x3 : 0xf)) === 0;
}

/** base64 of the whole line, as `base64 -w0 file.pub` prints it (the file ends in a newline). */
export function encodePublicHostKey(line: string): string {
  const text = line.endsWith('\n') ? line : `${line}\n`;
  return Buffer.from(text, 'utf8').toString('base64');
}

/** `ssh-keygen -l -f` output for one key: "256 SHA256:xxx comment (ED25519)". */
export function fingerprintLine(key: PublicKey): string {
  const label = LABELS[key.type] ?? key.type.toUpperCase();
  const comment = key.comment !== undefined && key.comment !== '' ? key.comment : 'no comment';
  return `${key.bits} ${key.fingerprint} ${comment} (${label})`;
}

// crypto.hash (Node >= 20.12) makes no Hash object: under half the cost of
// createHash for a key blob, which counts with thousands of knownHosts keys.
const sha256Base64: (data: Buffer) => string =
  typeof hash === 'function' ? (data) => hash('sha256', data, 'base64') : (data) => createHash('sha256').update(data).digest('base64');

function fingerprintOf(blob: Buffer): string {
  const digest = sha256Base64(blob);
  let end = digest.length;
  while (end > 0 && digest.charCodeAt(end - 1) === 61 /* = */) end--;
  return `SHA256:${digest.slice(0, end)}`;
}

// ---------------------------------------------------------------------------
// SSH wire format (RFC 4251 §5): uint32 length + bytes.

class WireReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  string(): Buffer | undefined {
    const start = this.pos + 4;
    const n = this.skip();
    return n === undefined ? undefined : this.buf.subarray(start, start + n);
  }

  /** Reads past the next string without making a Buffer of it; its length, or undefined when cut off. */
  skip(): number | undefined {
    if (this.remaining < 4) return undefined;
    const n = this.buf.readUInt32BE(this.pos);
    if (n > this.remaining - 4) return undefined;
    this.pos += 4 + n;
    return n;
  }

  /** Whether the next string is the ASCII text `text`; if so, reads past it (no Buffer, no string made). */
  skipIf(text: string): boolean {
    if (this.remaining < 4) return false;
    const n = this.buf.readUInt32BE(this.pos);
    if (n !== text.length || n > this.remaining - 4) return false;
    for (let i = 0; i < n; i++) if (this.buf[this.pos + 4 + i] !== text.charCodeAt(i)) return false;
    this.pos += 4 + n;
    return true;
  }
}

/** A key type name as it can appear in a blob: short printable ASCII. */
function typeName(b: Buffer | undefined): string | undefined {
  if (!b || b.length === 0 || b.length > 64) return undefined;
  for (const c of b) if (c < 0x21 || c > 0x7e) return undefined;
  return b.toString('latin1');
}

/** The key type a decoded blob starts with, if it looks like an SSH key blob at all. */
function blobTypeName(blob: Buffer): string | undefined {
  return typeName(new WireReader(blob).string());
}

/** Bit length of an unsigned big-endian integer, as OpenSSL's BN_num_bits. */
function bitLength(b: Buffer): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  const first = b[i];
  if (first === undefined) return 0;
  return (b.length - i - 1) * 8 + (32 - Math.clz32(first));
}

type BlobCheck = { bits: number } | { kind: 'bad-blob' | 'blob-type-mismatch'; detail: string; inner?: string };

/** Validates a decoded blob against the declared type, as sshkey_from_blob would. */
function checkBlob(declared: string, blob: Buffer): BlobCheck {
  const r = new WireReader(blob);
  // The usual case, the declared type (printable ASCII), is read without making a string of it.
  if (!r.skipIf(declared)) {
    const inner = typeName(r.string());
    if (inner === undefined) {
      return { kind: 'bad-blob', detail: 'it does not start with a key type, so it is not an OpenSSH public key' };
    }
    if (inner !== declared) {
      return { kind: 'blob-type-mismatch', detail: `the key data is a \`${inner}\` key`, inner };
    }
  }
  const truncated: BlobCheck = { kind: 'bad-blob', detail: 'it is truncated' };
  let bits: number;
  switch (declared) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      const pkLength = r.skip();
      if (pkLength === undefined) return truncated;
      if (pkLength !== 32) {
        return { kind: 'bad-blob', detail: `an Ed25519 key is 32 bytes, this one is ${pkLength}` };
      }
      bits = 256;
      break;
    }
    case 'ssh-rsa': {
      const e = r.string();
      const n = r.string();
      if (!e || !n) return truncated;
      // mpints are two's complement; OpenSSH rejects negative ones.
      if ((e[0] ?? 0) & 0x80 || (n[0] ?? 0) & 0x80) {
        return { kind: 'bad-blob', detail: 'the RSA exponent or modulus is negative' };
      }
      bits = bitLength(n);
      if (bits < RSA_MIN_BITS) {
        return { kind: 'bad-blob', detail: `the RSA modulus has ${bits} bits; OpenSSH refuses RSA keys under ${RSA_MIN_BITS} bits` };
      }
      if (bits > RSA_MAX_BITS) {
        return { kind: 'bad-blob', detail: `the RSA modulus has ${bits} bits; OpenSSH refuses RSA keys over ${RSA_MAX_BITS} bits` };
      }
      if (bitLength(e) === 0) return { kind: 'bad-blob', detail: 'the RSA exponent is zero' };
      break;
    }
    default: {
      const curve = CURVES[declared];
      if (!curve) return { kind: 'bad-blob', detail: `\`${declared}\` is not a supported host key type` };
      const name = r.string();
      const q = r.string();
      if (!name || !q) return truncated;
      if (name.toString('latin1') !== curve.name) {
        return { kind: 'bad-blob', detail: `its curve is \`${name.toString('latin1')}\`, not \`${curve.name}\`` };
      }
      // OpenSSH only takes uncompressed points: 0x04 || X || Y.
      if (q.length !== 1 + 2 * curve.coordBytes || q[0] !== 4) {
        return { kind: 'bad-blob', detail: `its ${curve.name} public point is malformed` };
      }
      // node:crypto refuses a JWK point that is not on the curve, as sshkey_ec_validate_public does.
      try {
        createPublicKey({
          key: {
            kty: 'EC',
            crv: curve.jwk,
            x: q.subarray(1, 1 + curve.coordBytes).toString('base64url'),
            y: q.subarray(1 + curve.coordBytes).toString('base64url'),
          },
          format: 'jwk',
        });
      } catch {
        return { kind: 'bad-blob', detail: `its public point is not on the ${curve.name} curve` };
      }
      bits = curve.bits;
      break;
    }
  }
  if (declared.startsWith('sk-')) {
    // Security-key keys carry the FIDO application ("ssh:...") after the key.
    if (r.skip() === undefined) return truncated;
  }
  if (r.remaining !== 0) return { kind: 'bad-blob', detail: `it has ${r.remaining} unexpected trailing bytes` };
  return { bits };
}

// ---------------------------------------------------------------------------
// Key lines.

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function suggestType(t: string): string | undefined {
  const lower = t.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of HOST_KEY_TYPES) {
    const d = editDistance(lower, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return bestD <= 3 ? best : undefined;
}

/** Explains a first field that is not a supported key type. */
function unknownTypeProblem(first: string, second: string | undefined): KeyProblem {
  const p = (kind: KeyProblem['kind'], message: string): KeyProblem => ({ kind, message });
  if (first === 'ssh-dss') {
    return p(
      'unknown-type',
      'ssh-dss (DSA) host keys are no longer supported by OpenSSH (disabled in 9.8, removed in 10.0), so ssh ignores this key. ' +
        'Use the builder\'s ed25519 key from /etc/ssh/ssh_host_ed25519_key.pub instead.',
    );
  }
  if (first.endsWith('-cert-v01@openssh.com')) {
    return p(
      'unknown-type',
      `\`${first}\` is a certificate, not a host key. To trust host certificates, use the CA's public key (\`ssh-ed25519 AAAA…\`) with \`certAuthority = true\`.`,
    );
  }
  if (first.startsWith('-----BEGIN')) {
    return p(
      'unknown-type',
      'This is a PRIVATE key. Never put private keys in the Nix configuration (everything there ends up world-readable in /nix/store); ' +
        'consider that key exposed. Use the public key line from the matching .pub file instead.',
    );
  }
  if (/^(SHA256|MD5):/.test(first)) {
    return p(
      'unknown-type',
      'This is a key fingerprint (as `ssh-keygen -l` prints it), not the key itself. ' +
        'Use the public key line from /etc/ssh/ssh_host_ed25519_key.pub on the builder, or `ssh-keyscan -t ed25519 HOST`.',
    );
  }
  if (first.startsWith('@') || (second !== undefined && (isHostKeyType(second) || second === 'ssh-dss'))) {
    return p(
      'unknown-type',
      `\`${abbrev(first, 40)}\` is not a key type: this looks like a known_hosts line with host names in front. ` +
        'Keep only the `<type> <base64 key>` part here and list the host names in `hostNames`.',
    );
  }
  if (isStandardBase64(first)) {
    const bytes = Buffer.from(first, 'base64');
    const inner = blobTypeName(bytes);
    if (inner !== undefined) {
      return p(
        'missing-type',
        `The key type is missing: this is a bare \`${inner}\` key blob. Write \`${inner} ${abbrev(first)}\`, ` +
          `the first two fields of ${hostKeyFile(inner)} on the builder.`,
      );
    }
  }
  const hint = suggestType(first);
  return p(
    'unknown-type',
    `\`${abbrev(first, 40)}\` is not a host key type OpenSSH knows` +
      (hint ? `; did you mean \`${hint}\`?` : `; expected one of ${HOST_KEY_TYPES.join(', ')}.`) +
      ' The line should read `<type> <base64 key> [comment]`, as in /etc/ssh/ssh_host_ed25519_key.pub.',
  );
}

/** Why a blob field is not base64 that OpenSSH reads. */
function blobBase64Problem(type: string, blob: string): KeyProblem {
  const bad = /[^A-Za-z0-9+/=]/.exec(blob);
  if (bad) {
    return {
      kind: 'not-base64',
      message:
        `The key data after \`${type}\` is not base64: \`${bad[0]}\` at position ${bad.index + 1} is not allowed. ` +
        `Copy the line again, unchanged and on one line, from ${hostKeyFile(type)} on the builder.`,
    };
  }
  const body = blob.replace(/=+$/, '');
  if (/=/.test(body) || blob.length - body.length > 2 || body.length % 4 === 1) {
    return {
      kind: 'not-base64',
      message: `The key data after \`${type}\` is not valid base64 (it looks cut off or edited). Copy the line again from ${hostKeyFile(type)} on the builder.`,
    };
  }
  if (blob === body && body.length % 4 !== 0) {
    const pad = '='.repeat(4 - (body.length % 4));
    return {
      kind: 'not-base64',
      message: `The key data after \`${type}\` lacks its base64 padding, and ssh rejects it that way: it must end in \`${pad}\`.`,
    };
  }
  return {
    kind: 'not-base64',
    message: `The key data after \`${type}\` is not canonical base64 (wrong padding), and ssh rejects it. Copy the line again from ${hostKeyFile(type)} on the builder.`,
  };
}

/** A public key line "type blob [comment]", as in a .pub file or knownHosts.<name>.publicKey. */
export function parsePublicKeyLine(line: string): { key: PublicKey } | { problem: KeyProblem } {
  const r = checkPublicKeyLine(line);
  return 'problem' in r ? r : { key: keyOf(r.checked) };
}

/** A key line that passed every check: all of its PublicKey but the fingerprint. */
interface CheckedKeyLine {
  type: string;
  blob: string;
  comment?: string;
  bits: number;
  bytes: Buffer;
}

function keyOf({ type, blob, comment, bits, bytes }: CheckedKeyLine): PublicKey {
  const key: PublicKey = { type, blob, bits, fingerprint: fingerprintOf(bytes) };
  if (comment !== undefined) key.comment = comment;
  return key;
}

/** parsePublicKeyLine's checks, without the fingerprint (which only a key that is shown needs). */
function checkPublicKeyLine(line: string): { checked: CheckedKeyLine } | { problem: KeyProblem } {
  // Like sshkey_try_load_public: leading blanks are skipped and the line ends at CR or LF.
  let s = line.trimStart(); // as replace(/^\s+/, ''): trim's white space is exactly \s
  const eol = s.search(/[\r\n]/);
  if (eol >= 0) s = s.slice(0, eol);
  if (s.trim() === '') {
    return {
      problem: {
        kind: 'empty',
        message:
          'The public key is empty. Expected `<type> <base64 key>`, e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub on the builder ' +
          '(or the output of `ssh-keyscan -t ed25519 HOST` without the host name).',
      },
    };
  }
  const m = /^(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(.*))?$/.exec(s);
  const type = m?.[1] ?? s;
  const blob = m?.[2];
  const comment = m?.[3] !== undefined && m[3] !== '' ? m[3] : undefined;

  if (!isHostKeyType(type)) return { problem: unknownTypeProblem(type, blob) };
  if (blob === undefined) {
    return {
      problem: {
        kind: 'missing-blob',
        message:
          `\`${type}\` is not followed by the key data. Copy the whole line from ${hostKeyFile(type)} on the builder ` +
          `(or \`ssh-keyscan -t ${keyscanType(type)} HOST\`).`,
      },
    };
  }
  if (!isCanonicalBase64(blob)) return { problem: blobBase64Problem(type, blob) };
  const bytes = Buffer.from(blob, 'base64');

  const check = checkBlob(type, bytes);
  if ('kind' in check) {
    if (check.kind === 'blob-type-mismatch') {
      const inner = check.inner ?? '?';
      return {
        problem: {
          kind: 'blob-type-mismatch',
          message:
            `The line says \`${type}\` but ${check.detail}; ssh rejects the mismatch. ` +
            `Write \`${inner} ${abbrev(blob)}\`, as in ${hostKeyFile(inner)} on the builder.`,
        },
      };
    }
    return {
      problem: {
        kind: 'bad-blob',
        message: `The \`${type}\` key data is damaged: ${check.detail}. Copy the line again from ${hostKeyFile(type)} on the builder.`,
      },
    };
  }
  return { checked: { type, blob, comment, bits: check.bits, bytes } };
}

// ---------------------------------------------------------------------------
// nix.buildMachines.*.publicHostKey: base64 of the whole key line.

/** Why a publicHostKey value is unusable, with a fix when the intended key is clear. */
export type HostKeyProblem = { problem: KeyProblem; fix?: PublicHostKeyFix };

export type DecodeResult = { key: PublicKey; line: string } | HostKeyProblem;

/** decodePublicHostKey's answer before the key's fingerprint is made. */
type CheckedHostKey = { checked: CheckedKeyLine; line: string } | HostKeyProblem;

function hostKeyProblem(kind: KeyProblem['kind'], message: string, fix?: PublicHostKeyFix): HostKeyProblem {
  return fix ? { problem: { kind, message }, fix } : { problem: { kind, message } };
}

const EXPECTED = `It must be the base64 of the whole public key line: the output of ${GENERATE_HINT} run on the builder.`;

// One decoder for every call: making a TextDecoder costs more than decoding a key line.
// (A failed decode leaves no state behind: decode() without `stream` resets.)
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as UTF-8 text, or undefined when they are binary (invalid UTF-8 or control characters). */
function asText(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
   
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text) ? undefined : text;
}

/** The first non-blank line, without surrounding whitespace. */
function firstLine(text: string): string {
  return (text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim();
}

/** Re-states a key-line problem for a publicHostKey whose decoded or pasted line is broken. */
function wrapLineProblem(prefix: string, problem: KeyProblem, fix?: PublicHostKeyFix): HostKeyProblem {
  return hostKeyProblem(problem.kind, `${prefix} ${problem.message}`, fix);
}

/** The value holds whitespace: a pasted key line, a known_hosts line, or base64 wrapped over lines. */
function decodeWithWhitespace(v: string): HostKeyProblem {
  const tokens = v.split(/\s+/);
  const first = tokens[0] ?? '';

  // `base64` without -w0 wraps at 76 columns; the line breaks would split the
  // /etc/nix/machines line.
  if (tokens.length > 1 && tokens.every((t) => /^[A-Za-z0-9+/]+=*$/.test(t))) {
    const joined = tokens.join('');
    if (isStandardBase64(joined)) {
      const text = asText(Buffer.from(joined, 'base64'));
      const parsed = text !== undefined ? checkPublicKeyLine(text) : undefined;
      if (text !== undefined && parsed && 'checked' in parsed) {
        return hostKeyProblem(
          'not-base64',
          'publicHostKey is base64 split over several lines (`base64` wraps its output unless given -w0), which breaks the /etc/nix/machines line. ' +
            `Use the one-line output of ${GENERATE_HINT}.`,
          { kind: 'encode-line', newValue: encodePublicHostKey(firstLine(text)) },
        );
      }
    }
  }

  // "ssh-ed25519 AAAA… root@host": the .pub line itself.
  if (isHostKeyType(first)) {
    const parsed = checkPublicKeyLine(v);
    if ('checked' in parsed) {
      return hostKeyProblem(
        'not-base64',
        'publicHostKey holds a raw public key line, but Nix expects it base64-encoded. ' +
          `Use the output of ${GENERATE_HINT} (run on the builder), i.e. the base64 of this line.`,
        { kind: 'encode-line', newValue: encodePublicHostKey(v) },
      );
    }
    return wrapLineProblem(
      `publicHostKey holds a raw public key line (Nix expects the base64 of the line, see ${GENERATE_HINT}), and the line itself is broken.`,
      parsed.problem,
    );
  }

  // "builder ssh-ed25519 AAAA…": a known_hosts or ssh-keyscan line. Nix adds the
  // host name itself, so the fix encodes only the key part.
  const typeAt = tokens.findIndex((t) => isHostKeyType(t));
  if (typeAt > 0) {
    const keyPart = tokens.slice(typeAt).join(' ');
    const parsed = checkPublicKeyLine(keyPart);
    if ('checked' in parsed) {
      return hostKeyProblem(
        'not-base64',
        'publicHostKey holds a known_hosts line (host names, then the key), but Nix expects only the key line, base64-encoded; ' +
          `Nix adds the host name itself. Use the output of ${GENERATE_HINT} (run on the builder).`,
        { kind: 'encode-line', newValue: encodePublicHostKey(keyPart) },
      );
    }
    return wrapLineProblem(`publicHostKey holds a known_hosts line (Nix expects only the base64 of the key line, see ${GENERATE_HINT}), and its key is broken.`, parsed.problem);
  }

  const parsed = checkPublicKeyLine(v);
  if ('problem' in parsed) return wrapLineProblem(`publicHostKey is not base64 of a key line. ${EXPECTED}`, parsed.problem);
  // Unreachable: a line that parses starts with a host key type, handled above.
  return hostKeyProblem('not-base64', `publicHostKey is not base64. ${EXPECTED}`);
}

/** A single token that Nix's base64 decoder would reject. */
function decodeNotBase64(v: string): HostKeyProblem {
  if (isHostKeyType(v) || v === 'ssh-dss') {
    return hostKeyProblem(
      'missing-blob',
      `publicHostKey is only the key type \`${v}\`. ${EXPECTED}`,
    );
  }
  if (/^(SHA256|MD5):/.test(v)) {
    return hostKeyProblem(
      'not-base64',
      `publicHostKey is a key fingerprint (as \`ssh-keygen -l\` prints it), not the key. ${EXPECTED}`,
    );
  }
  // Key material is long; a short token with '-' is more likely a host name.
  if (v.length >= 40 && /^[A-Za-z0-9_-]+=*$/.test(v)) {
    return hostKeyProblem(
      'not-base64',
      `publicHostKey uses the URL-safe base64 alphabet (\`-\` and \`_\`); Nix only decodes standard base64 (\`+\` and \`/\`). ${EXPECTED}`,
    );
  }
  const bad = /[^A-Za-z0-9+/]/.exec(v.replace(/=+$/, ''));
  const where = bad ? `: Nix rejects \`${bad[0]}\` at position ${bad.index + 1}` : '';
  return hostKeyProblem('not-base64', `publicHostKey is not base64${where}. ${EXPECTED}`);
}

/**
 * Decodes a NixOS `publicHostKey` value (base64 of the whole key line) and
 * recognises the usual mistakes, with a fix where the intended key is clear.
 */
export function decodePublicHostKey(value: string): DecodeResult {
  const r = checkPublicHostKey(value);
  return 'checked' in r ? { key: keyOf(r.checked), line: r.line } : r;
}

/** decodePublicHostKey without the fingerprint. */
function checkPublicHostKey(value: string): CheckedHostKey {
  // Nix splits machines lines on whitespace, so surrounding blanks do no harm.
  const v = value.trim();
  if (v === '') {
    return hostKeyProblem(
      'empty',
      `publicHostKey is empty. Set it to the output of ${GENERATE_HINT} run on the builder, or leave it null to rely on known_hosts / programs.ssh.knownHosts.`,
    );
  }
  if (/\s/.test(v)) return decodeWithWhitespace(v);
  // Checked before base64: "/etc/ssh/hostkey" is made of base64 characters, but
  // no key line's base64 starts with '/' (it starts with the type's letters).
  if (/^(\/|~|\.\.?\/)/.test(v)) {
    return hostKeyProblem(
      'not-base64',
      `publicHostKey is a file path, but it takes the key itself. ${EXPECTED}`,
    );
  }
  if (!isStandardBase64(v)) return decodeNotBase64(v);

  const bytes = Buffer.from(v, 'base64');

  // "AAAAC3NzaC1lZDI1NTE5AAAA…": the blob alone decodes to a length-prefixed type
  // name, which a text line never does (it would start with a NUL byte).
  const inner = blobTypeName(bytes);
  if (inner !== undefined) {
    if (!isHostKeyType(inner)) {
      const p = unknownTypeProblem(inner, undefined);
      return hostKeyProblem(
        'unknown-type',
        `publicHostKey is a bare key blob (no key type, not base64 of a line) of type \`${inner}\`. ${p.message}`,
      );
    }
    // Re-encode canonically: the decoded line goes to ssh, which needs padding.
    const blob = bytes.toString('base64');
    const check = checkBlob(inner, bytes);
    if ('kind' in check) {
      return hostKeyProblem(
        'bad-blob',
        `publicHostKey is a bare \`${inner}\` key blob, and it is damaged: ${check.detail}. ${EXPECTED}`,
      );
    }
    return hostKeyProblem(
      'missing-type',
      `publicHostKey is a bare \`${inner}\` key blob, but Nix expects the base64 of the whole line \`${inner} ${abbrev(blob)}\`. ` +
        `Use the output of ${GENERATE_HINT} on the builder.`,
      { kind: 'encode-blob', newValue: encodePublicHostKey(`${inner} ${blob}`) },
    );
  }

  const text = asText(bytes);
  if (text === undefined) {
    return hostKeyProblem(
      'not-base64',
      `publicHostKey is base64, but it decodes to binary data rather than a public key line. ${EXPECTED}`,
    );
  }
  const line = firstLine(text);

  // Encoded twice: the decoded text is itself the base64 of a key line.
  if (line !== '' && !/\s/.test(line) && isStandardBase64(line)) {
    const innerText = asText(Buffer.from(line, 'base64'));
    const parsed = innerText !== undefined ? checkPublicKeyLine(innerText) : undefined;
    if (innerText !== undefined && parsed && 'checked' in parsed) {
      return hostKeyProblem(
        'not-base64',
        `publicHostKey is base64-encoded twice. ${EXPECTED}`,
        { kind: 'encode-line', newValue: encodePublicHostKey(firstLine(innerText)) },
      );
    }
  }

  const parsed = checkPublicKeyLine(line);
  if ('problem' in parsed) {
    const shown = line === '' ? 'an empty line' : `\`${abbrev(line, 40)}\``;
    return wrapLineProblem(`publicHostKey decodes to ${shown}, which is not a usable key line.`, parsed.problem);
  }
  return { checked: parsed.checked, line };
}

// ---------------------------------------------------------------------------
// Memoised, for one analysis.

export type ParsedKeyLine = ReturnType<typeof parsePublicKeyLine>;

/**
 * parsePublicKeyLine and decodePublicHostKey, memoised for one analysis: the
 * host analysis and the bad-known-host-key / bad-public-host-key rules read the
 * same values, and validating and fingerprinting a key costs microseconds (2,000
 * knownHosts keys read twice were a fifth of the rules' time). A fingerprint is
 * made only for a key asked for (the rules only ask what is wrong). The results
 * are shared: callers must not modify them.
 */
export class KeyMemo {
  private readonly checkedLines = new Map<string, ReturnType<typeof checkPublicKeyLine>>();
  private readonly lines = new Map<string, ParsedKeyLine>();
  private readonly checkedHostKeys = new Map<string, CheckedHostKey>();
  private readonly hostKeys = new Map<string, DecodeResult>();

  /** What parsePublicKeyLine(line) reports as the problem, if any. */
  keyLineProblem(line: string): KeyProblem | undefined {
    const r = this.checkLine(line);
    return 'problem' in r ? r.problem : undefined;
  }

  publicKeyLine(line: string): ParsedKeyLine {
    let r = this.lines.get(line);
    if (!r) {
      const c = this.checkLine(line);
      r = 'problem' in c ? c : { key: keyOf(c.checked) };
      this.lines.set(line, r);
    }
    return r;
  }

  /** What decodePublicHostKey(value) reports as the problem (and fix), if any. */
  publicHostKeyProblem(value: string): HostKeyProblem | undefined {
    const r = this.checkHostKey(value);
    return 'problem' in r ? r : undefined;
  }

  publicHostKey(value: string): DecodeResult {
    let r = this.hostKeys.get(value);
    if (!r) {
      const c = this.checkHostKey(value);
      r = 'checked' in c ? { key: keyOf(c.checked), line: c.line } : c;
      this.hostKeys.set(value, r);
    }
    return r;
  }

  private checkLine(line: string): ReturnType<typeof checkPublicKeyLine> {
    let r = this.checkedLines.get(line);
    if (!r) {
      r = checkPublicKeyLine(line);
      this.checkedLines.set(line, r);
    }
    return r;
  }

  private checkHostKey(value: string): CheckedHostKey {
    let r = this.checkedHostKeys.get(value);
    if (!r) {
      r = checkPublicHostKey(value);
      this.checkedHostKeys.set(value, r);
    }
    return r;
  }
}
