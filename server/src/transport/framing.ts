// The LSP base protocol's framing (`Content-Length: N\r\n\r\n` + N bytes of
// JSON), made robust against a client that sends malformed input.
// vscode-jsonrpc's reader loses the framing for good after one bad header (a
// length that is not a number, no length, garbage between messages) and then
// never answers again. FrameResync sits between stdin and that reader: it
// passes well-formed frames through unchanged and drops anything else up to the
// next header, so the next well-formed message is answered.
//
// What counts as the start of a frame: `Content-Length:` (any case), digits and
// a line end. That text cannot occur inside a valid JSON body (a JSON string
// holds no raw line end, and outside strings it is not JSON), so a body in
// which it occurs was given a length too large, and the frame is dropped there.
//
// Wiring (server.ts): read stdin through it, and end when the client stops
// reading (a write to a closed pipe otherwise surfaces as an uncaught
// "Connection is closed" from vscode-jsonrpc):
//
//   const connection = process.argv.includes('--stdio')
//     ? createConnection(ProposedFeatures.all, resyncedStdin((m) => logError(`… ${m.bytes} bytes dropped: ${m.reason}`)), process.stdout)
//     : createConnection(ProposedFeatures.all);
//   process.stdout.on('error', () => process.exit(1));
//
// (With explicit streams vscode-languageserver no longer redirects console.*
// to the client's log as it does for `--stdio`: nothing may print to stdout.)
import { Transform, type TransformCallback } from 'node:stream';

/** Largest body accepted (a didOpen of a large file is a few MB). */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;
/** Largest header block; anything longer is not a header. */
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const NAMES = [Buffer.from('Content-Length:', 'latin1'), Buffer.from('content-length:', 'latin1'), Buffer.from('CONTENT-LENGTH:', 'latin1')];
/** Longest prefix of a header name kept while nothing else is known. */
const KEEP = 16;
const FRAME_START = /^content-length:[ \t]*\d+\r\n/i;
/** Whether text can still become FRAME_START when more bytes arrive. */
function couldBecomeFrameStart(text: string): boolean {
  const name = 'content-length:';
  const lower = text.toLowerCase();
  if (lower.length <= name.length) return name.startsWith(lower);
  return lower.startsWith(name) && /^[ \t]*(?:\d+\r?)?$/.test(lower.slice(name.length));
}
const HEADER_LINE = /^([!#-'*+.0-9A-Z^_`a-z|~-]+):[ \t]*(.*?)[ \t]*$/;
const TOKEN_COLON = /^[!#-'*+.0-9A-Z^_`a-z|~-]+:/;
const TOKEN_ONLY = /^[!#-'*+.0-9A-Z^_`a-z|~-]*$/;

export interface Malformed {
  /** Bytes dropped. */
  bytes: number;
  reason: string;
}

export class FrameResync extends Transform {
  private buf = Buffer.alloc(64 * 1024);
  private bufStart = 0;
  private bufEnd = 0;
  /** The frame being received: where its body starts and how long it is. */
  private frame: { bodyAt: number; length: number; scanned: number } | undefined;

  /** Called for each stretch of input dropped. */
  constructor(private readonly onMalformed: (m: Malformed) => void = () => {}) {
    super();
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.append(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      this.drain();
    } catch (err) {
      // Never fail the stream: drop what is buffered and wait for the next frame.
      this.dropBytes(this.bufEnd - this.bufStart, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.bufEnd > this.bufStart) this.dropBytes(this.bufEnd - this.bufStart, 'input ended inside a message');
    callback();
  }

  private get buffered(): number {
    return this.bufEnd - this.bufStart;
  }

  private view(from = 0, to = this.buffered): Buffer {
    return this.buf.subarray(this.bufStart + from, this.bufStart + to);
  }

  private append(chunk: Buffer): void {
    if (this.bufEnd + chunk.length > this.buf.length) {
      const live = this.buffered;
      const size = Math.max(this.buf.length, (live + chunk.length) * 2);
      const next = size > this.buf.length ? Buffer.allocUnsafe(size) : this.buf;
      this.buf.copy(next, 0, this.bufStart, this.bufEnd);
      this.buf = next;
      this.bufStart = 0;
      this.bufEnd = live;
    }
    chunk.copy(this.buf, this.bufEnd);
    this.bufEnd += chunk.length;
  }

  private consume(n: number): void {
    this.bufStart += n;
    if (this.bufStart === this.bufEnd) this.bufStart = this.bufEnd = 0;
    if (this.frame) {
      this.frame.bodyAt -= n;
      this.frame.scanned -= n;
    }
  }

  private dropBytes(n: number, reason: string): void {
    if (n <= 0) return;
    this.frame = undefined;
    this.consume(n);
    try {
      this.onMalformed({ bytes: n, reason });
    } catch {
      // A logger failing must not stop the input.
    }
  }

  /** The first position in [from, to) where a header name starts (any of the spellings), or -1. */
  private findName(from: number, to = this.buffered): number {
    const v = this.view(0, Math.min(this.buffered, to + KEEP));
    let best = -1;
    for (const name of NAMES) {
      const i = v.indexOf(name, from);
      if (i >= 0 && i < to && (best < 0 || i < best)) best = i;
    }
    return best;
  }

  /** The first frame start (a complete `Content-Length: digits\r\n`) at or after `from`, or -1. */
  private findFrameStart(from: number, to = this.buffered): number {
    for (let at = this.findName(from, to); at >= 0; at = this.findName(at + 1, to)) {
      const line = this.buf.toString('latin1', this.bufStart + at, this.bufStart + Math.min(this.buffered, at + 40));
      if (FRAME_START.test(line)) return at;
    }
    return -1;
  }

  private drain(): void {
    for (;;) {
      if (this.frame) {
        if (!this.finishFrame()) return;
        continue;
      }
      if (this.buffered === 0) return;
      const state = this.headerState();
      if (state === 'wait') return;
      if (state === 'no') {
        // Not a header here: skip to the next header name.
        const at = this.findName(0);
        if (at < 0) {
          // Keep a tail that might be the beginning of a header name.
          const n = this.buffered - Math.min(this.buffered, KEEP);
          if (n > 0) this.dropBytes(n, 'bytes outside a message');
          return;
        }
        this.dropBytes(at, 'bytes outside a message');
        continue;
      }
      const headerEnd = this.view(0, Math.min(this.buffered, MAX_HEADER_BYTES + HEADER_END.length)).indexOf(HEADER_END);
      if (headerEnd < 0) {
        if (this.buffered <= MAX_HEADER_BYTES) return;
        this.dropLine('a header block that never ends');
        continue;
      }
      const length = this.contentLength(this.buf.toString('latin1', this.bufStart, this.bufStart + headerEnd));
      if (length === undefined) {
        // Drop one line at a time: a well-formed frame may start on the next.
        this.dropLine('a malformed header');
        continue;
      }
      this.frame = { bodyAt: headerEnd + HEADER_END.length, length, scanned: headerEnd + HEADER_END.length };
    }
  }

  /**
   * Drops the first line (with its line end), at least one byte; or less, when
   * a frame starts inside it (`Content-LenContent-Length: 52`, garbage glued
   * to the next header).
   */
  private dropLine(reason: string): void {
    const eol = this.view().indexOf('\r\n', 0, 'latin1');
    const lineEnd = eol >= 0 ? eol + 2 : Math.max(1, this.buffered - KEEP);
    const inner = this.findFrameStart(1, lineEnd);
    this.dropBytes(inner > 0 ? inner : lineEnd, reason);
  }

  /** Whether the buffer starts with a header line ('yes'), cannot ('no'), or cannot tell yet ('wait'). */
  private headerState(): 'yes' | 'no' | 'wait' {
    const head = this.buf.toString('latin1', this.bufStart, this.bufStart + Math.min(this.buffered, 256));
    const eol = head.indexOf('\r\n');
    const line = eol >= 0 ? head.slice(0, eol) : head;
    if (TOKEN_COLON.test(line)) return 'yes';
    if (eol < 0 && head.length < 256 && TOKEN_ONLY.test(line)) return 'wait';
    return 'no';
  }

  /** Content-Length of a header block, when the block is well formed. */
  private contentLength(block: string): number | undefined {
    let length: number | undefined;
    for (const line of block.split('\r\n')) {
      const m = HEADER_LINE.exec(line);
      if (!m) return undefined;
      if ((m[1] as string).toLowerCase() !== 'content-length') continue;
      const v = m[2] as string;
      if (!/^\d{1,10}$/.test(v) || length !== undefined) return undefined;
      length = Number(v);
    }
    return length !== undefined && length <= MAX_BODY_BYTES ? length : undefined;
  }

  /** Emits the frame when complete; drops it when a frame start shows up inside its body. True when done with it. */
  private finishFrame(): boolean {
    const f = this.frame as { bodyAt: number; length: number; scanned: number };
    const available = Math.min(this.buffered, f.bodyAt + f.length);
    // Scan only what arrived since the last time (minus a header's length, for a name split across chunks).
    const from = Math.max(f.bodyAt, f.scanned - 40);
    const inner = this.findFrameStart(from, available);
    if (inner >= 0) {
      this.dropBytes(inner, 'a message shorter than its Content-Length');
      return true;
    }
    f.scanned = available;
    if (this.buffered < f.bodyAt + f.length) return false;
    const n = f.bodyAt + f.length;
    // A header may begin in the body's last bytes and not be complete yet (input
    // arriving in small pieces): no valid JSON text ends like that, so wait.
    for (let p = Math.max(f.bodyAt, n - KEEP); p < n; p++) {
      const c = this.buf[this.bufStart + p];
      if (c !== 0x43 && c !== 0x63) continue;
      const text = this.buf.toString('latin1', this.bufStart + p, this.bufStart + Math.min(this.buffered, p + 40));
      if (couldBecomeFrameStart(text) && p + 40 > this.buffered) {
        f.scanned = p;
        return false;
      }
    }
    this.push(Buffer.from(this.view(0, n)));
    this.frame = undefined;
    this.consume(n);
    return true;
  }
}

/**
 * process.stdin through a FrameResync. It ends (and closes) when stdin does,
 * which is what makes vscode-languageserver exit when the client goes away.
 */
export function resyncedStdin(onMalformed?: (m: Malformed) => void): NodeJS.ReadableStream {
  const resync = new FrameResync(onMalformed);
  process.stdin.on('error', () => resync.end());
  return process.stdin.pipe(resync);
}
