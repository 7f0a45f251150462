// Host-name lookups for the unresolved-host check (SPEC 2.2), kept off the
// request path: the analysis only ever calls `peek` (synchronous, cache only);
// the front end calls `prefetch` after an analysis and re-checks the documents
// when `onSettled` fires.
//
// Bounds:
// - every lookup has a deadline (`timeoutMs`, default 2 s), after which it
//   settles as { status: 'timeout' };
// - at most `concurrency` lookups run at once (default 4); the rest wait in a
//   FIFO queue of at most `maxQueued` names (default 256; when full, the oldest
//   waiting name is dropped and settles as an error, uncached);
// - answers are cached for `ttlMs` (default 5 min), failures and timeouts for
//   `failureTtlMs` (default 30 s, never longer than `ttlMs`); the cache holds
//   at most 4096 names.
//
// What a timeout does to the call underneath depends on the back end:
// - `server` (node:dns Resolver, c-ares, not on libuv's thread pool): each
//   running lookup has a Resolver of its own (timeout = timeoutMs, tries = 1;
//   idle ones are reused) and is cancelled with Resolver.cancel() at the
//   deadline, so nothing is left running and the slot is free at once.
// - injected `lookup`: it receives an AbortSignal that is aborted at the
//   deadline. The slot is free at once; a call that ignores the signal counts
//   as "abandoned" until its promise settles, and while `concurrency` calls are
//   abandoned no new lookup starts (so at most 2 x concurrency calls exist).
// - the system resolver (dns.lookup -> getaddrinfo) cannot be cancelled and
//   holds one of libuv's threads (UV_THREADPOOL_SIZE, default 4, shared with
//   fs and crypto) until it returns. The caller gets its timeout at the
//   deadline, but the thread is still counted: running + abandoned system calls
//   never exceed min(concurrency, pool size - 1), so one thread is always left
//   for the file reads the server does on the request path, and a hung
//   getaddrinfo frees its slot only when it returns (glibc gives up after
//   resolv.conf's timeout x attempts).
import * as dns from 'node:dns';
import { isIP } from 'node:net';
import type { Resolution } from '../core/environment';

export type { Resolution };

export interface ResolverOptions {
  /** Deadline of one lookup, in ms. Default 2000. */
  timeoutMs?: number;
  /** Lookups running at once. Default 4. */
  concurrency?: number;
  /** Cache lifetime of answers (resolved). Default 5 minutes. */
  ttlMs?: number;
  /** Cache lifetime of not-found, error and timeout results. Default 30 s (at most ttlMs). */
  failureTtlMs?: number;
  /** Names waiting for a slot, at most; the oldest is dropped beyond. Default 256. */
  maxQueued?: number;
  /**
   * DNS server, 'ip', 'ip:port', '[ipv6]:port' (port 53 by default): queries A and
   * AAAA there through a node:dns Resolver instead of the system resolver.
   * Empty: the system resolver. Not an IP address: every lookup is an error.
   */
  server?: string;
  /** Injected resolver (tests, other front ends); takes precedence over `server`. */
  lookup?: (name: string, signal: AbortSignal) => Promise<string[]>;
  /** Clock for cache expiry. Default Date.now. */
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_TTL_MS = 5 * 60_000;
const DEFAULT_FAILURE_TTL_MS = 30_000;
const DEFAULT_MAX_QUEUED = 256;
const MAX_CACHED = 4096;

const DISPOSED: Resolution = Object.freeze({ status: 'error', detail: 'the resolver was shut down' });
const DROPPED: Resolution = Object.freeze({ status: 'error', detail: 'too many names waiting for a lookup' });
const EMPTY: Resolution = Object.freeze({ status: 'error', detail: 'empty host name' });

/** One running lookup, as a back end starts it. `done` never rejects. */
interface Call {
  done: Promise<Resolution>;
  /** Stops the call at the deadline; returns true if nothing is left running. */
  cancel(): boolean;
  /** What is known so far (one address family answered), used at the deadline. */
  partial?(): Resolution | undefined;
}

type Backend = { kind: 'server' | 'system' | 'injected'; start(name: string): Call };

interface Waiter {
  name: string;
  settle(r: Resolution): void;
}

interface Running extends Waiter {
  call: Call;
  timer: NodeJS.Timeout;
}

type Normalized = { kind: 'ip'; result: Resolution } | { kind: 'name'; key: string } | { kind: 'empty' };

function normalize(name: string): Normalized {
  let n = name.trim();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  if (isIP(n) !== 0) return { kind: 'ip', result: Object.freeze({ status: 'resolved', addresses: Object.freeze([n]) as string[] }) };
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (n === '') return { kind: 'empty' };
  return { kind: 'name', key: n.toLowerCase() };
}

function positive(v: number | undefined, dflt: number, min: number): number {
  return v !== undefined && Number.isFinite(v) && v >= min ? v : dflt;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const NOT_FOUND_CODES = new Set([dns.NOTFOUND, dns.NODATA, 'EAI_NONAME', 'EAI_NODATA']);

const EXPLAINED: Record<string, string> = {
  [dns.SERVFAIL]: 'the DNS server failed to answer (SERVFAIL)',
  [dns.REFUSED]: 'the DNS server refused the query (REFUSED)',
  [dns.CONNREFUSED]: 'could not contact the DNS server',
  [dns.BADNAME]: 'not a valid host name',
  [dns.FORMERR]: 'the DNS server rejected the query as malformed (FORMERR)',
  [dns.BADRESP]: 'the DNS server sent a malformed reply',
  EAI_AGAIN: 'temporary failure in name resolution',
};

function errorResult(err: unknown): Resolution {
  const code = codeOf(err);
  const text = EXPLAINED[code];
  return { status: 'error', detail: text ? `${text} [${code}]` : messageOf(err) };
}

function addressesResult(list: readonly string[], emptyDetail: string): Resolution {
  const addresses = [...new Set(list)];
  return addresses.length > 0 ? { status: 'resolved', addresses } : { status: 'not-found', detail: emptyDetail };
}

/** dns.lookup({ all: true }): getaddrinfo on libuv's thread pool, cannot be cancelled. */
function systemBackend(): Backend {
  return {
    kind: 'system',
    start(name) {
      const done = new Promise<Resolution>((resolve) => {
        try {
          dns.lookup(name, { all: true, verbatim: true }, (err, list) => {
            if (!err) resolve(addressesResult(list.map((a) => a.address), 'the system resolver returned no addresses'));
            else if (NOT_FOUND_CODES.has(codeOf(err))) resolve({ status: 'not-found', detail: 'the system resolver does not know this name' });
            else resolve(errorResult(err));
          });
        } catch (err) {
          resolve(errorResult(err));
        }
      });
      return { done, cancel: () => false };
    },
  };
}

/**
 * A node:dns Resolver per running lookup, so that cancel() stops exactly that
 * lookup; idle Resolvers are kept for reuse (creating one costs ~0.1 ms), at most
 * one per slot. (Node disables c-ares' own query cache, so reuse caches nothing.)
 */
function serverBackend(server: string, timeoutMs: number, keep: number): Backend {
  let configError: string | undefined;
  try {
    new dns.Resolver().setServers([server]);
  } catch (err) {
    configError = `invalid DNS server "${server}": ${messageOf(err)}`;
  }
  const idle: dns.Resolver[] = [];
  const take = (): dns.Resolver => {
    const reused = idle.pop();
    if (reused) return reused;
    const resolver = new dns.Resolver({ timeout: Math.max(1, Math.round(timeoutMs)), tries: 1 });
    resolver.setServers([server]);
    return resolver;
  };
  const release = (resolver: dns.Resolver): void => {
    if (idle.length < keep) idle.push(resolver);
  };
  return {
    kind: 'server',
    start(name) {
      if (configError !== undefined) return { done: Promise.resolve({ status: 'error', detail: configError }), cancel: () => true };
      const resolver = take();
      let released = false;
      const found: string[] = [];
      const query = (method: 'resolve4' | 'resolve6'): Promise<unknown> =>
        new Promise((resolve) => {
          try {
            resolver[method](name, (err, list) => {
              if (err) resolve(err);
              else {
                found.push(...list);
                resolve(undefined);
              }
            });
          } catch (err) {
            resolve(err);
          }
        });
      const done = Promise.all([query('resolve4'), query('resolve6')]).then((errors): Resolution => {
        if (!released) {
          released = true;
          release(resolver);
        }
        if (found.length > 0) return addressesResult(found, '');
        const codes = errors.map(codeOf);
        if (codes.includes(dns.NOTFOUND)) return { status: 'not-found', detail: `no such name (NXDOMAIN from ${server})` };
        if (codes.every((c) => NOT_FOUND_CODES.has(c))) return { status: 'not-found', detail: `no A or AAAA records (from ${server})` };
        if (codes.includes(dns.TIMEOUT)) return { status: 'timeout', ms: timeoutMs };
        return errorResult(errors.find((e) => !NOT_FOUND_CODES.has(codeOf(e))));
      });
      return {
        done,
        cancel: () => {
          // Only this lookup's queries run on this Resolver: cancel() ends them
          // (their callbacks get ECANCELLED) and leaves the Resolver reusable.
          resolver.cancel();
          return true;
        },
        partial: () => (found.length > 0 ? addressesResult(found, '') : undefined),
      };
    },
  };
}

function injectedBackend(lookup: (name: string, signal: AbortSignal) => Promise<string[]>): Backend {
  return {
    kind: 'injected',
    start(name) {
      const abort = new AbortController();
      const done = (async (): Promise<Resolution> => {
        try {
          return addressesResult(await lookup(name, abort.signal), 'no addresses');
        } catch (err) {
          if (NOT_FOUND_CODES.has(codeOf(err))) return { status: 'not-found', detail: messageOf(err) };
          if (codeOf(err) === dns.TIMEOUT) return { status: 'timeout', ms: 0 };
          return errorResult(err);
        }
      })();
      return {
        done,
        cancel: () => {
          abort.abort();
          return false;
        },
      };
    },
  };
}

export class HostResolver {
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly maxQueued: number;
  /** running + abandoned calls allowed at once. */
  private readonly maxOutstanding: number;
  private readonly now: () => number;
  private readonly backend: Backend;

  private readonly cache = new Map<string, { result: Resolution; expires: number }>();
  /** Queued or running names, with the promise every caller of resolve() shares. */
  private readonly pending = new Map<string, Promise<Resolution>>();
  private readonly waiting: Waiter[] = [];
  private readonly running = new Set<Running>();
  private abandonedCalls = 0;
  private disposed = false;

  constructor(opts: ResolverOptions = {}) {
    this.timeoutMs = Math.min(2 ** 31 - 1, positive(opts.timeoutMs, DEFAULT_TIMEOUT_MS, 1));
    this.concurrency = Math.floor(positive(opts.concurrency, DEFAULT_CONCURRENCY, 1));
    this.ttlMs = positive(opts.ttlMs, DEFAULT_TTL_MS, 0);
    this.failureTtlMs = Math.min(this.ttlMs, positive(opts.failureTtlMs, DEFAULT_FAILURE_TTL_MS, 0));
    this.maxQueued = Math.floor(positive(opts.maxQueued, DEFAULT_MAX_QUEUED, 1));
    this.now = opts.now ?? Date.now;
    if (opts.lookup) this.backend = injectedBackend(opts.lookup);
    else if (opts.server !== undefined && opts.server.trim() !== '') this.backend = serverBackend(opts.server.trim(), this.timeoutMs, this.concurrency);
    else this.backend = systemBackend();
    if (this.backend.kind === 'system') {
      const pool = Math.min(1024, Math.max(1, Math.floor(Number(process.env['UV_THREADPOOL_SIZE'])) || 4));
      this.maxOutstanding = Math.max(1, Math.min(this.concurrency, pool - 1));
    } else {
      this.maxOutstanding = 2 * this.concurrency;
    }
  }

  /** Lookups running now (timed-out calls no longer count). */
  get inFlight(): number {
    return this.running.size;
  }

  /** Names waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Timed-out calls that could not be cancelled and have not returned yet. */
  get abandoned(): number {
    return this.abandonedCalls;
  }

  /** The cached answer, if any and not expired (IP literals: themselves). Never starts a lookup. */
  peek(name: string): Resolution | undefined {
    const n = normalize(name);
    if (n.kind === 'ip') return n.result;
    if (n.kind === 'empty') return EMPTY;
    const hit = this.cache.get(n.key);
    if (!hit) return undefined;
    if (hit.expires <= this.now()) {
      this.cache.delete(n.key);
      return undefined;
    }
    return hit.result;
  }

  /** Starts a lookup unless one is cached or in flight; resolves when done. Never rejects. */
  resolve(name: string): Promise<Resolution> {
    const n = normalize(name);
    if (n.kind === 'ip') return Promise.resolve(n.result);
    if (n.kind === 'empty') return Promise.resolve(EMPTY);
    if (this.disposed) return Promise.resolve(DISPOSED);
    const hit = this.peek(n.key);
    if (hit) return Promise.resolve(hit);
    const pending = this.pending.get(n.key);
    if (pending) return pending;
    const key = n.key;
    const promise = new Promise<Resolution>((settle) => {
      this.waiting.push({ name: key, settle });
    });
    this.pending.set(key, promise);
    if (this.waiting.length > this.maxQueued) {
      const dropped = this.waiting.shift();
      if (dropped) this.finish(dropped, DROPPED, false);
    }
    this.pump();
    return promise;
  }

  /**
   * Starts lookups for the names that have no cached answer. `onSettled` is called
   * once per batch: after every name of the batch that was not answered yet has
   * settled (including names another batch had already started). It is not
   * called when every name was already answered (cached or an IP literal), nor
   * after dispose(). An exception it throws is swallowed.
   */
  prefetch(names: string[], onSettled: () => void): void {
    if (this.disposed) return;
    const waits: Promise<Resolution>[] = [];
    for (const name of new Set(names)) {
      if (this.peek(name) === undefined) waits.push(this.resolve(name));
    }
    if (waits.length === 0) return;
    void Promise.all(waits).then(() => {
      if (this.disposed) return;
      try {
        onSettled();
      } catch {
        // The front end's refresh failing must not become an unhandled rejection.
      }
    });
  }

  /**
   * Cancels running lookups (Resolver.cancel / abort), empties the queue and the
   * cache; every pending promise settles with an error. Later calls answer
   * IP literals only.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const r of [...this.running]) {
      clearTimeout(r.timer);
      this.running.delete(r);
      r.call.cancel();
      this.finish(r, DISPOSED, false);
    }
    for (const w of this.waiting.splice(0)) this.finish(w, DISPOSED, false);
    this.pending.clear();
    this.cache.clear();
  }

  private pump(): void {
    while (
      !this.disposed &&
      this.running.size < this.concurrency &&
      this.running.size + this.abandonedCalls < this.maxOutstanding
    ) {
      const next = this.waiting.shift();
      if (!next) return;
      this.start(next);
    }
  }

  private start(w: Waiter): void {
    const call = this.backend.start(w.name);
    const running: Running = {
      ...w,
      call,
      timer: setTimeout(() => {
        if (!this.running.delete(running)) return;
        const partial = call.partial?.();
        const stopped = call.cancel();
        if (!stopped) {
          this.abandonedCalls++;
          void call.done.then(() => {
            this.abandonedCalls--;
            this.pump();
          });
        }
        this.finish(running, partial ?? { status: 'timeout', ms: this.timeoutMs }, true);
        this.pump();
      }, this.timeoutMs),
    };
    this.running.add(running);
    void call.done.then((result) => {
      if (!this.running.delete(running)) return; // timed out or disposed
      clearTimeout(running.timer);
      this.finish(running, result.status === 'timeout' ? { status: 'timeout', ms: this.timeoutMs } : result, true);
      this.pump();
    });
  }

  private finish(w: Waiter, result: Resolution, cache: boolean): void {
    this.pending.delete(w.name);
    if (cache && !this.disposed) this.store(w.name, result);
    if (result.status === 'resolved') Object.freeze(result.addresses);
    w.settle(Object.freeze(result));
  }

  private store(key: string, result: Resolution): void {
    const now = this.now();
    const ttl = result.status === 'resolved' ? this.ttlMs : this.failureTtlMs;
    this.cache.delete(key);
    if (this.cache.size >= MAX_CACHED) {
      for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
      while (this.cache.size >= MAX_CACHED) {
        const oldest = this.cache.keys().next();
        if (oldest.done) break;
        this.cache.delete(oldest.value);
      }
    }
    this.cache.set(key, { result, expires: now + ttl });
  }
}
