/**
 * @file Timing and summary helpers shared by every workload. Imports result.ts.
 */

import type { Summary } from "./result.js";

/** Monotonic wall clock in seconds (performance.now() is high-resolution and in-process). */
export function seconds(): number {
  return performance.now() / 1000;
}

/** One warm-up call, then `count` timed calls: seconds per call. */
export function timeCalls(call: () => void, count: number): number[] {
  call();
  const out: number[] = [];
  for (let s = 0; s < count; s++) {
    const t0 = seconds();
    call();
    out.push(seconds() - t0);
  }
  return out;
}

/** Median [min–max] of the samples; the median of an even count is the mean of the middle two. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** Resident set size of this process now, in MB (2²⁰ bytes, as /usr/bin/time counts). */
export function rssMB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/**
 * Collect garbage if the process was started with --expose-gc. Used only between samples, where
 * a workload says the previous graph is released untimed (W5) — never inside a timed region.
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === "function") gc();
}

/** Index of the largest of `n` values starting at `offset`; the first index wins ties. */
export function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  let bestValue = values[offset]!;
  for (let j = 1; j < n; j++) {
    const v = values[offset + j]!;
    if (v > bestValue) {
      bestValue = v;
      best = j;
    }
  }
  return best;
}

/** Fraction of rows whose argmax (first index on ties) equals the label. */
export function accuracyOf(scores: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (argmax(scores, i * classes, classes) === labels[i]) correct++;
  return correct / labels.length;
}
