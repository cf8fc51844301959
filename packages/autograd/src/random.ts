/**
 * @file Seeded randomness: every random function of the library draws from a `Random`, so the
 * same seed gives the same numbers in every run and on every machine. One given explicitly gives
 * full control; without one, the process-wide default generator is used, which starts from
 * DEFAULT_SEED and is reseeded by `manualSeed` (PyTorch's `torch.manual_seed`). The generator is mulberry32
 * (32-bit state, doubles k/2³²), chosen because it is tiny and bit-exact across languages, which
 * lets benchmark harnesses in other languages reproduce our data and initial weights. Imports
 * errors.ts.
 */

import { ChainruleError } from "./errors.js";

/**
 * A seeded pseudo-random generator (mulberry32). Give one to any function that draws numbers
 * (`randn`, layer constructors, `DataLoader`) to control exactly which numbers it sees.
 *
 * @example
 * const r = new Random(42);
 * r.next(); // 0.6011037519201636, in every run
 */
export class Random {
  private state: number;

  /** A generator seeded with an integer; `new Random(42).next()` is always 0.6011037519201636. */
  constructor(seed: number) {
    this.state = checkSeed("Random", seed);
  }

  /** Restart this generator from `seed`, as if it were `new Random(seed)`; returns it. */
  manualSeed(seed: number): this {
    this.state = checkSeed("manualSeed", seed);
    return this;
  }

  /** A double in [0, 1): the next mulberry32 draw, k/2³² for an integer k. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * A standard normal draw (Box–Muller). Uses two uniforms per call; 1 − u keeps the log's
   * argument in (0, 1].
   */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Approximately N(0, 1): the sum of 12 uniforms minus 6. Every partial sum is a multiple of
   * 2⁻³² below 12, so the value is exact in float64 in any language and summation order: the
   * reproducible stand-in for a Gaussian that the benchmark workloads use.
   */
  gaussian12(): number {
    let s = 0;
    for (let i = 0; i < 12; i++) s += this.next();
    return s - 6;
  }

  /** A random permutation of 0…n−1 (Fisher–Yates from the top: j = ⌊u·(i + 1)⌋, swap i and j). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0)
      throw new ChainruleError("permutation", `n must be a non-negative integer, got ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i >= 1; i--) {
      const j = this.int(i + 1);
      const t = p[i] as number;
      p[i] = p[j] as number;
      p[j] = t;
    }
    return p;
  }
}

function checkSeed(op: string, seed: number): number {
  if (!Number.isInteger(seed)) throw new ChainruleError(op, `seed must be an integer, got ${String(seed)}`);
  return seed >>> 0;
}

/** The seed the default generator starts from in a new process (PyTorch's also starts fixed). */
export const DEFAULT_SEED = 0;

const defaultGenerator = new Random(DEFAULT_SEED);

/**
 * The process-wide generator used wherever no `random` is given: layer initialisation, `rand`,
 * `randn`, shuffling `DataLoader`s. Draws from it depend on everything drawn before, so for a
 * reproducible run call `manualSeed` once at the start, or pass your own `Random`.
 */
export function defaultRandom(): Random {
  return defaultGenerator;
}

/**
 * Reseed the default generator, as `torch.manual_seed(seed)`: after it, everything that draws
 * from the default generator repeats bit for bit. Returns the default generator.
 *
 * @example
 * manualSeed(0);
 * const model = new MLP([2, 4, 1]); // the same weights in every run
 */
export function manualSeed(seed: number): Random {
  return defaultGenerator.manualSeed(seed);
}
