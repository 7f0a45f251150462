// Timing helpers for the benchmarks: a monotonic clock in ms, percentiles by
// nearest rank, and repeated measurement after a warm-up.
'use strict';

/** Milliseconds since an arbitrary origin, from process.hrtime.bigint(). */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs fn once and returns [ms, result]. */
function time(fn) {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

/** Nearest-rank percentile (p in [0, 100]) of a list of numbers. */
function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

const median = (samples) => percentile(samples, 50);

function summary(samples) {
  return {
    n: samples.length,
    min: Math.min(...samples),
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    max: Math.max(...samples),
  };
}

/**
 * Measures fn `reps` times after `warmup` untimed runs; returns the samples.
 * `setup` (untimed) runs before each call and its result is passed to fn;
 * `teardown` (untimed) gets fn's result (e.g. to free a parse tree now rather
 * than in the middle of a later, timed, measurement).
 */
function measure(fn, { reps, warmup = 1, setup, teardown } = {}) {
  for (let i = 0; i < warmup; i++) {
    const r = fn(setup ? setup() : undefined);
    if (teardown) teardown(r);
  }
  const samples = [];
  for (let i = 0; i < reps; i++) {
    const arg = setup ? setup() : undefined;
    const [ms, r] = time(() => fn(arg));
    samples.push(ms);
    if (teardown) teardown(r);
  }
  return samples;
}

/** Pretty ms: three significant digits. */
function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(3)} ms`;
}

module.exports = { nowMs, time, percentile, median, summary, measure, fmtMs };
