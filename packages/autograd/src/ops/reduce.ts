/**
 * @file Reductions over axes, each forward beside its derivative rule, and the stable
 * log-sum-exp family built from them. sum and max/min read no saved value in backward (sum
 * broadcasts g; max/min use the positions they recorded), so they declare `saves: "none"`. On a
 * vmap batch each reduction reduces the same axes, one further right. Imports engine.ts,
 * tensor.ts, ndarray.ts, shape.ts, errors.ts, transforms/vmap.ts, ops/elementwise.ts.
 */

import { fromOp, noGrad } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { allocate, reduce } from "../ndarray.js";
import { formatShape, normalizeAxes, normalizeAxis, reducedShape, sizeOf } from "../shape.js";
import { full, Tensor } from "../tensor.js";
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
