/**
 * @file @chainrule/autograd/testing: fast-check arbitraries and gradient properties for users'
 * own property tests (and ours: every op test of the library is written with this kit).
 * fast-check is a peer dependency of this entry point only, never of the core.
 * Imports the public surface of the package.
 *
 * @module @chainrule/autograd/testing
 */

import fc from "fast-check";
import type { Dtype, GradcheckOptions, GradcheckReport } from "../gradcheck.js";
import { gradcheck, gradgradcheck } from "../gradcheck.js";
import { type Tensor, tensor } from "../tensor.js";

export { gradcheckModule, type ModuleCheckReport } from "../gradcheck.js";

/** Bounds for `shapeArb`: the rank and the size of each dimension. */
export interface ShapeConstraints {
  /** The fewest axes (default 0). */
  minRank?: number;
  /** The most axes (default 3). */
  maxRank?: number;
  /** The smallest dimension (default 1). */
  minDim?: number;
  /** The largest dimension (default 4). */
  maxDim?: number;
}

/** Shapes of rank minRank…maxRank (default 0…3) with dimensions minDim…maxDim (default 1…4). */
export function shapeArb(c: ShapeConstraints = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 3, minDim = 1, maxDim = 4 } = c;
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * Two shapes that broadcast together (NumPy rules): a common result shape, from which each
 * operand drops some leading axes and turns some dimensions into 1.
 */
export function broadcastPairArb(c: ShapeConstraints = {}): fc.Arbitrary<[number[], number[]]> {
  return shapeArb(c).chain((out) => {
    const operand = fc
      .tuple(
        fc.integer({ min: 0, max: out.length }),
        fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      )
      .map(([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.tuple(operand, operand);
  });
}

/**
 * Operand shapes for matmul, covering every case of NumPy's rules: vector·vector,
 * vector·matrix, matrix·vector, matrix·matrix, and batched products whose leading axes
 * broadcast.
 */
export function matmulShapesArb(
  c: { maxDim?: number; maxBatchRank?: number } = {},
): fc.Arbitrary<[number[], number[]]> {
  const { maxDim = 4, maxBatchRank = 2 } = c;
  const dim = fc.integer({ min: 1, max: maxDim });
  return fc
    .record({
      m: dim,
      k: dim,
      n: dim,
      kind: fc.constantFrom("vv", "vm", "mv", "mm", "batched"),
      batch: broadcastPairArb({ maxRank: maxBatchRank, maxDim: 3 }),
    })
    .map(({ m, k, n, kind, batch }): [number[], number[]] => {
      switch (kind) {
        case "vv":
          return [[k], [k]];
        case "vm":
          return [[k], [...batch[1], k, n]];
        case "mv":
          return [[...batch[0], m, k], [k]];
        case "mm":
          return [
            [m, k],
            [k, n],
          ];
        default:
          return [
            [...batch[0], m, k],
            [...batch[1], k, n],
          ];
      }
    });
}

/** Where values are drawn: an interval, minus a margin around points where a function has a kink. */
export interface Domain {
  /** The lower end of the interval. */
  min: number;
  /** The upper end of the interval. */
  max: number;
  /** Points to stay away from (relu: [0]); values closer than `margin` are pushed out. */
  avoid?: readonly number[];
  /** How far to stay from each point of `avoid` (default 0.05). */
  margin?: number;
}

/**
 * Ready-made domains: all reals in [−3, 3], positives in [0.1, 4] (for log, sqrt), and reals
 * away from 0 (for relu, abs, sign).
 *
 * @displayType Record<"real" | "positive" | "awayFromZero", Domain>
 */
export const domains = {
  real: { min: -3, max: 3 },
  positive: { min: 0.1, max: 4 },
  /** Reals away from 0: for relu, abs, sign. */
  awayFromZero: { min: -3, max: 3, avoid: [0], margin: 0.05 },
} satisfies Record<string, Domain>;

/** Move v out of (k − margin, k + margin) for every kink k, keeping its side: by construction, not by filtering. */
function avoidKinks(v: number, d: Domain): number {
  const margin = d.margin ?? 0.05;
  for (const k of d.avoid ?? []) {
    if (Math.abs(v - k) < margin) v = v >= k ? k + margin : k - margin;
  }
  return v;
}

/** Tensors of `shape` with values in `domain` (default: reals in [−3, 3]). */
export function tensorArb(
  shape: readonly number[],
  options: { domain?: Domain; dtype?: Dtype; requiresGrad?: boolean } = {},
): fc.Arbitrary<Tensor> {
  const d = options.domain ?? domains.real;
  const n = shape.reduce((a, b) => a * b, 1);
  return fc
    .array(fc.double({ min: d.min, max: d.max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((values) =>
      tensor(
        values.map((v) => avoidKinks(v, d)),
        { shape, dtype: options.dtype ?? "float64", requiresGrad: options.requiresGrad ?? false },
      ),
    );
}

/** Options of `checkGradients`: gradcheck's options and fast-check's run settings. */
export interface CheckGradientsOptions extends GradcheckOptions {
  /** fast-check runs (default 50). */
  numRuns?: number;
  /** Also check second derivatives (gradgradcheck) for every input. */
  gradgrad?: boolean;
  /** fast-check seed, to replay a failure. */
  seed?: number;
}

/**
 * A property: for every input drawn from `inputs`, `gradcheck(f, inputs)` passes. On failure
 * fast-check shrinks the inputs and the error message carries the gradcheck report of the
 * smallest counterexample.
 */
export function checkGradients<T extends Tensor[]>(
  f: (...inputs: T) => Tensor,
  inputs: fc.Arbitrary<T>,
  options: CheckGradientsOptions = {},
): void {
  const { numRuns = 50, seed, gradgrad = false, ...gradcheckOptions } = options;
  const fn = f as (...inputs: Tensor[]) => Tensor;
  fc.assert(
    fc.property(inputs, (xs) => {
      const shapes = () => xs.map((x) => `[${x.shape.join(", ")}]`).join(", ");
      const report: GradcheckReport = gradcheck(fn, xs, gradcheckOptions);
      if (!report.ok) throw new Error(`inputs of shapes ${shapes()}\n${report.toString()}`);
      if (gradgrad) {
        const second = gradgradcheck(fn, xs, gradcheckOptions);
        if (!second.ok) throw new Error(`second derivatives, inputs of shapes ${shapes()}\n${second.toString()}`);
      }
    }),
    { numRuns, ...(seed === undefined ? {} : { seed }) },
  );
}
