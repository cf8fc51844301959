/**
 * @file Two interleaved half-moons, the toy classification set of the micrograd demo: the
 * canonical 100 points of the benchmark workloads (data/moons100.json), and a seeded generator of
 * the same construction for examples that want more or fewer points. Imports `Random` and
 * `ChainruleError` from @chainrule/autograd.
 */

import { readFileSync } from "node:fs";
import { ChainruleError, type Random } from "@chainrule/autograd";

export interface Moons {
  /** [n][2] points (x, y). */
  X: number[][];
  /** [n] labels: −1 for the outer moon, +1 for the inner one. */
  y: number[];
}

/**
 * The 100 points of workload W1, read from the package's copy of moons100.json.
 *
 * NOTE: the file is canonical and read rather than regenerated, so that harnesses in other
 * languages need not reproduce cos/sin to the last bit. `makeMoons(100, 0.1, new Random(1337),
 * new Random(1338))` gives the same numbers in Node, which the tests check.
 */
export function loadMoons(): Moons {
  // The same relative path works from src/data/ (tests) and from dist/data/ (the built examples).
  const url = new URL("../../data/moons100.json", import.meta.url);
  const { X, y } = JSON.parse(readFileSync(url, "utf8")) as Moons;
  if (X.length !== y.length || X.some((point) => point.length !== 2))
    throw new ChainruleError("loadMoons", `${url.pathname} is not 100 points (x, y) with one label each`);
  return { X, y };
}

/**
 * `n` points on two half-circles with Gaussian-like noise, as in scikit-learn's `make_moons`:
 * ⌊n/2⌋ outer points (label −1) at (cos t, sin t) and the rest inner (label +1) at
 * (1 − cos t, ½ − sin t), with t evenly spaced over [0, π] on each moon. Every coordinate gets
 * `noise · gaussian12()` from `random`, x then y, point by point; then the points are shuffled by
 * `shuffle.permutation(n)` (point i is the p[i]-th point generated).
 *
 * ```ts
 * const { X, y } = makeMoons(200, 0.1, new Random(7)); // 200 points, 100 per label
 * ```
 */
export function makeMoons(n: number, noise: number, random: Random, shuffle: Random = random): Moons {
  if (!Number.isInteger(n) || n < 2) throw new ChainruleError("makeMoons", `n must be an integer ≥ 2, got ${n}`);
  const nOuter = Math.floor(n / 2);
  const nInner = n - nOuter;
  const X: number[][] = [];
  const y: number[] = [];
  // t_i = π·i/(m − 1), i = 0…m−1, so both ends of each moon are included.
  const angle = (i: number, m: number) => (m > 1 ? (Math.PI * i) / (m - 1) : 0);
  for (let i = 0; i < nOuter; i++) {
    const t = angle(i, nOuter);
    X.push([Math.cos(t), Math.sin(t)]);
    y.push(-1);
  }
  for (let i = 0; i < nInner; i++) {
    const t = angle(i, nInner);
    X.push([1 - Math.cos(t), 0.5 - Math.sin(t)]);
    y.push(1);
  }
  // Draws are taken even when noise is 0, so the noise level never shifts the shuffle's stream
  // when `shuffle` is `random`.
  for (const point of X) {
    point[0] = point[0]! + noise * random.gaussian12();
    point[1] = point[1]! + noise * random.gaussian12();
  }
  const p = shuffle.permutation(n);
  return { X: Array.from(p, (i) => X[i]!), y: Array.from(p, (i) => y[i]!) };
}
