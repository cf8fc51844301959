/**
 * @file @chainrule/autograd/testing: fast-check arbitraries and gradient properties for users'
 * own property tests (and ours: every op test of the library is written with this kit).
 * fast-check is a peer dependency of this entry point only, never of the core.
 * Imports the public surface of the package.
 */

import fc from "fast-check";
import { jvp, vjp } from "../functional.js";
import type { Dtype, GradcheckOptions, GradcheckReport } from "../gradcheck.js";
import { gradcheck, gradgradcheck } from "../gradcheck.js";
import { stack, type Tensor, tensor } from "../tensor.js";
import { vmap } from "../transforms/vmap.js";

export { gradcheckModule, type ModuleCheckReport } from "../gradcheck.js";

export interface ShapeConstraints {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
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
  min: number;
  max: number;
  /** Points to stay away from (relu: [0]); values closer than `margin` are pushed out. */
  avoid?: readonly number[];
  margin?: number;
}

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

/**
 * fc.assert, with the failing case's own message (the gradient report) put into the thrown
 * error's message: test runners print the message, not always its `cause`.
 */
function assertProperty<T>(property: fc.IProperty<T>, params: fc.Parameters<T>): void {
  try {
    fc.assert(property, params);
  } catch (error) {
    const cause = error instanceof Error ? error.cause : undefined;
    if (!(error instanceof Error) || !(cause instanceof Error) || error.message.includes(cause.message)) throw error;
    throw new Error(`${error.message}\n\n${cause.message}`, { cause });
  }
}

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
  assertProperty(
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

export interface CheckTransformsOptions {
  /** fast-check runs (default 30). */
  numRuns?: number;
  /** fast-check seed, to replay a failure. */
  seed?: number;
  /** Check forward mode (jvp) against finite differences (default true; false for ops with no derivative). */
  forward?: boolean;
  /** Check the reverse rule on a batch of cotangents (vmap of the pullback) against one pullback each (default true). */
  batchedPullback?: boolean;
  /** Finite-difference step and tolerances of the forward check (float64). */
  eps?: number;
  atol?: number;
  rtol?: number;
}

/** A direction to differentiate along: fixed, varied values in the shape of x. */
function direction(x: Tensor, salt: number): Tensor {
  const n = x.size;
  return tensor(
    Array.from({ length: n }, (_, i) => Math.sin(1.3 + 0.7 * i + salt)),
    { shape: x.shape, dtype: x.dtype },
  );
}

function maxDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.size; i++) {
    const x = a.data[i] as number;
    const y = b.data[i] as number;
    if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY;
    if (!Number.isNaN(x)) worst = Math.max(worst, Math.abs(x - y) / (1 + Math.abs(y)));
  }
  return worst;
}

/**
 * A property for the function transforms, for every input drawn from `inputs`:
 * - forward mode: `jvp(f)` along a fixed direction equals the central finite difference
 *   (f(x + hv) − f(x − hv)) / 2h;
 * - vmap: `vmap(f)` over a batch of three scaled copies of the inputs (all mapped, and only the
 *   first or only the last mapped when there are several) equals f on each copy, stacked;
 * - batched reverse rules: `vmap` of the pullback over three cotangents equals three pullbacks.
 */
export function checkTransforms<T extends Tensor[]>(
  f: (...inputs: T) => Tensor,
  inputs: fc.Arbitrary<T>,
  options: CheckTransformsOptions = {},
): void {
  const { numRuns = 30, seed, forward = true, batchedPullback = true, eps = 1e-6, atol = 1e-5, rtol = 1e-3 } = options;
  const fn = f as (...inputs: Tensor[]) => Tensor;
  assertProperty(
    fc.property(inputs, (xs) => {
      const shapes = xs.map((x) => `[${x.shape.join(", ")}]`).join(", ");
      if (forward) {
        const vs = xs.map((x, i) => direction(x, i));
        const { out, tangent } = jvp(fn, xs, vs);
        const plus = fn(...xs.map((x, i) => x.add((vs[i] as Tensor).mul(eps))));
        const minus = fn(...xs.map((x, i) => x.sub((vs[i] as Tensor).mul(eps))));
        const numeric = plus.sub(minus).div(2 * eps);
        if (tangent.shape.join() !== out.shape.join())
          throw new Error(`jvp: tangent shape differs from the output's, inputs ${shapes}`);
        for (let k = 0; k < numeric.size; k++) {
          const a = tangent.data[k] as number;
          const b = numeric.data[k] as number;
          if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
            throw new Error(
              `jvp disagrees with finite differences at output element ${k}: ${a} vs ${b}, inputs ${shapes}`,
            );
          }
        }
      }
      const scales = [1, 1.01, 0.99];
      const copies = scales.map((c) => xs.map((x) => x.mul(c)));
      const expected = stack(copies.map((ys) => fn(...ys)));
      const layouts: (0 | null)[][] = [xs.map(() => 0 as const)];
      if (xs.length > 1) {
        layouts.push(xs.map((_, i) => (i === 0 ? 0 : null)));
        layouts.push(xs.map((_, i) => (i === xs.length - 1 ? 0 : null)));
      }
      for (const inAxes of layouts) {
        const args = xs.map((x, i) => (inAxes[i] === 0 ? stack(copies.map((ys) => ys[i] as Tensor)) : x));
        const want = inAxes.every((a) => a === 0)
          ? expected
          : stack(scales.map((c) => fn(...xs.map((x, i) => (inAxes[i] === 0 ? x.mul(c) : x)))));
        const got = vmap(fn, { inAxes })(...args);
        const d = maxDiff(got, want);
        if (!(d <= 1e-12))
          throw new Error(`vmap (inAxes ${JSON.stringify(inAxes)}) differs from a loop by ${d}, inputs ${shapes}`);
      }
      if (batchedPullback) {
        const { out, pullback } = vjp(fn, ...xs);
        const cotangents = [0, 1, 2].map((k) => direction(out, 10 + k));
        const batched = vmap((v: Tensor) => pullback(v))(stack(cotangents));
        const looped = cotangents.map((v) => pullback(v));
        xs.forEach((_, i) => {
          const d = maxDiff(batched[i] as Tensor, stack(looped.map((g) => g[i] as Tensor)));
          if (!(d <= 1e-12))
            throw new Error(`a batch of cotangents gives other gradients for input ${i} (by ${d}), inputs ${shapes}`);
        });
      }
    }),
    { numRuns, ...(seed === undefined ? {} : { seed }) },
  );
}
