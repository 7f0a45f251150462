// Probes many builders with bounded concurrency. Results come back in the order
// of the targets; cancelling the signal ends the running probes at once (kind
// `cancelled`) and settles the waiting ones without connecting.
import { fetchHostKeys, probeBuilder, type ProbeResult, type ProbeTarget, type ProbeTimeouts } from './probe';

export interface ProbeAllOptions {
  /** Probes running at once. Default 4. */
  concurrency?: number;
  timeouts?: Partial<ProbeTimeouts>;
  signal?: AbortSignal;
  /** 'login' (default): probeBuilder; 'keys': fetchHostKeys only. */
  mode?: 'login' | 'keys';
  /** Called after each probe settles, in completion order. Exceptions are ignored. */
  onProgress?: (done: number, total: number, result: ProbeResult) => void;
}

export const DEFAULT_CONCURRENCY = 4;

export async function probeAll(targets: readonly ProbeTarget[], opts: ProbeAllOptions = {}): Promise<ProbeResult[]> {
  const total = targets.length;
  const results = new Array<ProbeResult>(total);
  const concurrency = Math.max(1, Math.min(Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY) || DEFAULT_CONCURRENCY, 256));
  const probe = opts.mode === 'keys' ? fetchHostKeys : probeBuilder;
  let next = 0;
  let done = 0;

  const report = (r: ProbeResult) => {
    done++;
    try {
      opts.onProgress?.(done, total, r);
    } catch {
      // a progress callback must not stop the pool
    }
  };

  const worker = async () => {
    for (;;) {
      const i = next++;
      const target = targets[i];
      if (i >= total || !target) return;
      // An aborted signal makes probe() settle at once as `cancelled`.
      let r: ProbeResult;
      try {
        r = await probe(target, { timeouts: opts.timeouts, signal: opts.signal });
      } catch (err) {
        r = { host: target.host, port: target.port, hostKeys: [], error: { kind: 'other', message: (err as Error).message } };
      }
      results[i] = r;
      report(r);
    }
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}
