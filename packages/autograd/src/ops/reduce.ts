/**
 * @file Reductions over axes, each forward beside its derivative rule, and the stable
 * log-sum-exp family built from them. sum and max/min read no saved value in backward (sum
 * broadcasts g; max/min use the positions they recorded), so they declare `saves: "none"`. On a
 * vmap batch each reduction reduces the same axes, one further right. prod is a primitive too;
 * var, std and norm are composed. Imports engine.ts,
 * tensor.ts, ndarray.ts, shape.ts, errors.ts, transforms/vmap.ts, ops/elementwise.ts.
 */

import { composing, fromOp, noGrad } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { allocate, type FloatArray, permute, reduce } from "../ndarray.js";
import { formatShape, normalizeAxes, normalizeAxis, reducedShape, sizeOf } from "../shape.js";
import { eye, full, Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { where } from "./elementwise.js";

type Axis = number | readonly number[] | undefined;

/** y = Σ x over axes      ∂L/∂x = g broadcast back over the summed axes      ẏ = Σ ẋ */
export const sum = batchable(
  "sum",
  (x: Tensor, axis: Axis, keepdims: boolean): Tensor => {
    const axes = normalizeAxes("sum", axis, x.ndim);
    const keep = reducedShape(x.shape, axes, true);
    const out = allocate(x.dtype, sizeOf(keep));
    reduce("sum", x.data, x.shape, axes, out);
    const shape = keepdims ? keep : reducedShape(x.shape, axes, false);
    return fromOp("sum", out, shape, [x], {
      vjp: (g) => [g.reshape(keep).expand(x.shape)],
      jvp: ([dx]) => sum(dx as Tensor, axes, keepdims),
      replay: () => sum(x, axes, keepdims),
      saves: "none",
    });
  },
  (batch, x, axis, keepdims): Tensor => batch.wrap(sum(batch.inner(x), batch.axes("sum", axis, x.ndim), keepdims)),
);

/** y = Σ x / n over axes (composed: its gradient is g/n broadcast back) */
export function mean(x: Tensor, axis: Axis, keepdims: boolean): Tensor {
  const axes = normalizeAxes("mean", axis, x.ndim);
  const n = axes.reduce((acc, a) => acc * (x.shape[a] as number), 1);
  if (n === 0) throw new ChainruleError("mean", `cannot average over an empty axis of shape ${formatShape(x.shape)}`);
  // an int32 mean is a float64 one: summing in float64 also keeps a large total from wrapping
  return sum(x.dtype === "int32" ? x.astype("float64") : x, axes, keepdims).div(n);
}

/**
 * y = max (or min) over axes      ∂L/∂x = g at the first extreme element of each reduced
 * group, 0 elsewhere (a subgradient at ties)      ẏ = ẋ at those elements
 */
export const extreme = batchable(
  "extreme",
  (kind: "max" | "min", x: Tensor, axis: Axis, keepdims: boolean): Tensor => {
    const axes = normalizeAxes(kind, axis, x.ndim);
    for (const a of axes) {
      if (x.shape[a] === 0)
        throw new ChainruleError(
          kind,
          `cannot reduce axis ${a} of size 0 in shape ${formatShape(x.shape)}: ${kind} of nothing is undefined`,
        );
    }
    const keep = reducedShape(x.shape, axes, true);
    const out = allocate(x.dtype, sizeOf(keep));
    const arg = new Int32Array(out.length);
    reduce(kind, x.data, x.shape, axes, out, arg);
    const shape = keepdims ? keep : reducedShape(x.shape, axes, false);
    // one-hot of the chosen elements: a constant
    const chosen = (dtype: Tensor["dtype"]) => {
      const mask = allocate(dtype, x.size);
      for (const i of arg) mask[i] = 1;
      return new Tensor(mask, x.shape);
    };
    return fromOp(kind, out, shape, [x], {
      vjp: (g) => [chosen(g.dtype).mul(g.reshape(keep))],
      jvp: ([dx]) =>
        chosen((dx as Tensor).dtype)
          .mul(dx as Tensor)
          .sum(axes, keepdims),
      replay: () => extreme(kind, x, axes, keepdims),
      saves: "none",
    });
  },
  (batch, kind, x, axis, keepdims): Tensor =>
    batch.wrap(extreme(kind, batch.inner(x), batch.axes(kind, axis, x.ndim), keepdims)),
);

/** Index (int32) of the first extreme element along one axis (or of the flattened tensor); no gradient. */
export const argExtreme = batchable(
  "argExtreme",
  (kind: "max" | "min", x: Tensor, axis: number | undefined, keepdims: boolean): Tensor => {
    const op = kind === "max" ? "argmax" : "argmin";
    if (axis === undefined && x.size === 0) {
      throw new ChainruleError(op, `cannot take the ${op} of an empty tensor of shape ${formatShape(x.shape)}`);
    }
    const flat = axis === undefined;
    const src = flat ? x.reshape([x.size]) : x;
    const a = flat ? 0 : normalizeAxis(op, axis, x.ndim);
    if (src.shape[a] === 0)
      throw new ChainruleError(op, `cannot reduce axis ${a} of size 0 in shape ${formatShape(x.shape)}`);
    const keep = reducedShape(src.shape, [a], true);
    const values = allocate("float64", sizeOf(keep));
    const arg = new Int32Array(values.length);
    reduce(kind, src.data, src.shape, [a], values, arg);
    // Flat index → position along the axis.
    const stride = sizeOf(src.shape.slice(a + 1));
    const len = src.shape[a] as number;
    const out = allocate("int32", arg.length);
    for (let i = 0; i < arg.length; i++) out[i] = Math.floor((arg[i] as number) / stride) % len;
    const shape = flat ? (keepdims ? x.shape.map(() => 1) : []) : keepdims ? keep : reducedShape(src.shape, [a], false);
    return new Tensor(out, shape);
  },
  (batch, kind, x, axis, keepdims): Tensor => {
    const inner = batch.inner(x);
    if (axis !== undefined) return batch.wrap(argExtreme(kind, inner, batch.axis(kind, axis, x.ndim), keepdims));
    // over each example's flattened elements
    const flat = argExtreme(kind, inner.reshape([batch.size, x.size]), 1, false);
    return batch.wrap(keepdims ? flat.reshape([batch.size, ...x.shape.map(() => 1)]) : flat);
  },
);

/**
 * y = log Σ exp(x) = m + log Σ exp(x − m), with m = max x held constant: the shift changes
 * nothing mathematically, keeps every exp ≤ 1 (no overflow), and the gradient that flows is
 * ∂y/∂x = softmax(x).
 */
export function logsumexp(x: Tensor, axis: Axis, keepdims: boolean): Tensor {
  const axes = normalizeAxes("logsumexp", axis, x.ndim);
  if (axes.some((a) => x.shape[a] === 0)) {
    // log Σ over nothing = log 0 = −∞, as NumPy/SciPy define it (and nothing to differentiate).
    return full(reducedShape(x.shape, axes, keepdims), Number.NEGATIVE_INFINITY, { dtype: x.dtype });
  }
  const max = noGrad(() => x.max(axes, true));
  // NOTE: where every element is −∞ (or the max is ±∞) shift by 0 instead, so x − m has no ∞ − ∞
  // (m − m is 0 exactly when m is finite).
  const m = noGrad(() => where(max.sub(max).eq(0), max, 0));
  const out = x.sub(m).exp().sum(axes, true).log().add(m);
  return keepdims ? out : out.reshape(reducedShape(x.shape, axes, false));
}

/** log softmax(x) = x − logsumexp(x) along `axis` */
export function logSoftmax(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis("logSoftmax", axis, x.ndim);
  return x.sub(logsumexp(x, a, true));
}

/** softmax(x) = exp(x − logsumexp(x)) along `axis`: rows sum to 1 */
export function softmax(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis("softmax", axis, x.ndim);
  return logSoftmax(x, a).exp();
}

/**
 * y = Π x over axes      ∂L/∂xᵢ = g·Πⱼ≠ᵢ xⱼ      ẏ = Σᵢ (Πⱼ≠ᵢ xⱼ)·ẋᵢ
 *
 * Πⱼ≠ᵢ xⱼ is y/xᵢ while no element is 0 (PyTorch's rule too). With zeros it is written out: each
 * element's group with that element replaced by 1, multiplied (n² values per group of n, but exact
 * at every order: the second derivative Πⱼ≠ᵢ,ₖ xⱼ survives where y/xᵢ would divide 0 by 0).
 */
export const prod = batchable(
  "prod",
  (x: Tensor, axis: Axis, keepdims: boolean): Tensor => {
    if (x.dtype === "int32") return prod(x.astype("float64"), axis, keepdims); // a float result, like mean's
    const axes = normalizeAxes("prod", axis, x.ndim);
    const keep = reducedShape(x.shape, axes, true);
    // The reduced axes moved last: each output element's group is then n contiguous values.
    const perm = [...x.shape.keys()].filter((a) => !axes.includes(a)).concat(axes);
    const n = axes.reduce((acc, a) => acc * (x.shape[a] as number), 1);
    const m = sizeOf(keep);
    const grouped = toGroups(x.data as FloatArray, x.shape, perm);
    const out = allocate(x.dtype, m);
    let zeros = false;
    for (let i = 0; i < m; i++) {
      let p = 1;
      for (let j = i * n; j < (i + 1) * n; j++) {
        const v = grouped[j] as number;
        if (v === 0) zeros = true;
        p *= v;
      }
      out[i] = p;
    }
    const shape = keepdims ? keep : reducedShape(x.shape, axes, false);
    // Πⱼ≠ᵢ xⱼ for every element, in x's shape, written in Tensor ops (differentiable again)
    const others = (y: Tensor): Tensor => {
      if (!zeros) return y.reshape(keep).div(x);
      const rows = where(eye(n, n, { dtype: x.dtype }), 1, x.permute(perm).reshape([m, 1, n]).expand([m, n, n]));
      return prod(rows, -1, false)
        .reshape(perm.map((a) => x.shape[a] as number))
        .permute(inversePermutation(perm));
    };
    return fromOp("prod", out, shape, [x], {
      vjp: (g, y) => {
        if (composing()) return [g.reshape(keep).mul(others(y))];
        const o = allocate(x.dtype, x.size) as FloatArray; // x is a float tensor here
        othersInGroups(grouped, m, n, o);
        return [g.reshape(keep).mul(new Tensor(fromGroups(o, x.shape, perm), x.shape))];
      },
      jvp: ([dx], y) =>
        others(y)
          .mul(dx as Tensor)
          .sum(axes, keepdims),
      replay: () => prod(x, axes, keepdims),
      saves: "all",
    });
  },
  (batch, x, axis, keepdims): Tensor => batch.wrap(prod(batch.inner(x), batch.axes("prod", axis, x.ndim), keepdims)),
);

/** The fused rule's Πⱼ≠ᵢ xⱼ, group by group. */
function othersInGroups(x: FloatArray, m: number, n: number, out: FloatArray): void {
  // Πⱼ≠ᵢ xⱼ = (Πⱼ<ᵢ xⱼ)·(Πⱼ>ᵢ xⱼ): the products before and after each element, with no division,
  // so zeros need no special case and a product that underflows loses no gradient
  for (let i = 0; i < m; i++) {
    const start = i * n;
    let before = 1;
    for (let j = start; j < start + n; j++) {
      out[j] = before;
      before *= x[j] as number;
    }
    let after = 1;
    for (let j = start + n - 1; j >= start; j--) {
      out[j] = (out[j] as number) * after;
      after *= x[j] as number;
    }
  }
}

function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((a, i) => {
    inv[a] = i;
  });
  return inv;
}

function isIdentity(perm: readonly number[]): boolean {
  return perm.every((a, i) => a === i);
}

/** x with its axes permuted by `perm` (x itself when the permutation is the identity). */
function toGroups(x: FloatArray, shape: readonly number[], perm: readonly number[]): FloatArray {
  if (isIdentity(perm)) return x;
  const out = allocate(x instanceof Float64Array ? "float64" : "float32", x.length);
  permute(x, shape, perm, out);
  return out;
}

/** The inverse of toGroups: values laid out by `perm` back in the layout of `shape`. */
function fromGroups(x: FloatArray, shape: readonly number[], perm: readonly number[]): FloatArray {
  if (isIdentity(perm)) return x;
  const out = allocate(x instanceof Float64Array ? "float64" : "float32", x.length);
  permute(
    x,
    perm.map((a) => shape[a] as number),
    inversePermutation(perm),
    out,
  );
  return out;
}

/** How var and std are taken: Bessel's `correction` (default 1) and whether reduced axes stay as size 1. */
export interface VarianceOptions {
  /** The divisor is max(0, n − correction): 1 (the default) for the sample variance, 0 for the population's. */
  correction?: number;
  /** Keep the reduced axes with size 1 (default false). */
  keepdims?: boolean;
}

/**
 * y = Σ (x − x̄)² / max(0, n − correction) over axes, x̄ the mean (composed: ∂y/∂x = 2(x − x̄)/(n − c)).
 * NOTE: as PyTorch, n ≤ correction divides by 0 (∞, or NaN where every element is equal), and an
 * empty axis gives NaN.
 */
export function variance(op: "var" | "std", x: Tensor, axis: Axis, options: VarianceOptions): Tensor {
  const { correction = 1, keepdims = false } = options;
  if (typeof correction !== "number" || !Number.isFinite(correction) || correction < 0) {
    throw new ChainruleError(op, `correction must be a finite number ≥ 0, got ${String(correction)}`);
  }
  if (typeof keepdims !== "boolean")
    throw new ChainruleError(op, `keepdims must be a boolean, got ${String(keepdims)}`);
  const axes = normalizeAxes(op, axis, x.ndim);
  const n = axes.reduce((acc, a) => acc * (x.shape[a] as number), 1);
  const d = x.sub(x.sum(axes, true).div(n));
  return d
    .square()
    .sum(axes, keepdims)
    .div(Math.max(0, n - correction));
}

/** std = √var, with the gradient 0 where the variance is 0 (as PyTorch), not ∞·0. */
export function std(x: Tensor, axis: Axis, options: VarianceOptions): Tensor {
  return safeSqrt(variance("std", x, axis, options));
}

/**
 * √v, and 0 with a zero gradient where v = 0 (PyTorch's choice for std and the 2-norm there): the
 * square root only ever sees the v > 0 elements, so no 1/(2√0) = ∞ reaches a gradient.
 */
function safeSqrt(v: Tensor): Tensor {
  const zero = v.eq(0);
  return where(zero, 0, where(zero, 1, v).sqrt());
}

/**
 * The p-norm over axes, for p = 1 (Σ|x|), 2 (√Σx²) and ∞ (max |x|). Gradients as PyTorch's:
 * sign(x)·g for p = 1 (0 at 0), x·g/‖x‖ for p = 2 (0 at the zero vector), and for ∞ g shared
 * equally by the elements that tie for the largest |x|.
 */
export function norm(x: Tensor, p: number, axis: Axis, keepdims: boolean): Tensor {
  if (p !== 1 && p !== 2 && p !== Number.POSITIVE_INFINITY) {
    throw new ChainruleError("norm", `p must be 1, 2 or Infinity, got ${String(p)}`);
  }
  if (typeof keepdims !== "boolean")
    throw new ChainruleError("norm", `keepdims must be a boolean, got ${String(keepdims)}`);
  const axes = normalizeAxes("norm", axis, x.ndim);
  if (p === 1) return x.abs().sum(axes, keepdims);
  if (p === 2) return safeSqrt(x.square().sum(axes, keepdims));
  for (const a of axes) {
    if (x.shape[a] === 0)
      throw new ChainruleError(
        "norm",
        `the ∞-norm of an empty axis (${a} in shape ${formatShape(x.shape)}) is undefined`,
      );
  }
  // m + mean of (|x| − m) over the ties, with m = max |x| held constant: the value is m exactly,
  // and the gradient is g/(number of ties)·sign(x) at each tie.
  const a = x.abs();
  const m = a.max(axes, true).detach();
  const ties = a.eq(m);
  const out = m.add(a.sub(m).mul(ties).sum(axes, true).div(ties.sum(axes, true)));
  return keepdims ? out : out.reshape(reducedShape(x.shape, axes, false));
}
