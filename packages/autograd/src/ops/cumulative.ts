/**
 * @file Running reductions along one axis, each forward beside its derivative rule: cumsum and
 * cumprod (primitives), and logcumsumexp (composed, stable). A 0-d tensor is read as one element
 * along axis 0 or −1, as PyTorch does. On a vmap batch each runs one axis further right.
 * Imports engine.ts, tensor.ts, ndarray.ts, shape.ts, errors.ts, transforms/vmap.ts,
 * ops/elementwise.ts.
 */

import { fromOp } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { allocate, cumulate } from "../ndarray.js";
import { normalizeAxis } from "../shape.js";
import { arange, Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { where } from "./elementwise.js";

/** The axis of a running reduction (a 0-d tensor has axis 0, as one element). */
function axisOf(op: string, x: Tensor, axis: unknown): number {
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `x must be a Tensor, got ${typeof x}`);
  if (typeof axis !== "number") throw new ChainruleError(op, `axis must be an integer, got ${String(axis)}`);
  return normalizeAxis(op, axis, Math.max(x.ndim, 1));
}

/**
 * y_i = Σ_{j ≤ i} x_j (from the end when `reverse`)      ∂L/∂x_k = Σ_{i ≥ k} g_i, the running sum of
 * g from the other end      ẏ = cumsum(ẋ)
 */
const cumsumOp = batchable(
  "cumsum",
  (x: Tensor, axis: number, reverse: boolean): Tensor => {
    const out = allocate(x.dtype, x.size);
    cumulate("sum", x.data, x.shape, axis, reverse, out);
    return fromOp("cumsum", out, x.shape, [x], {
      vjp: (g) => [cumsumOp(g, axis, !reverse)],
      jvp: ([dx]) => cumsumOp(dx as Tensor, axis, reverse),
      replay: () => cumsumOp(x, axis, reverse),
      saves: "none",
    });
  },
  (batch, x, axis, reverse): Tensor => batch.wrap(cumsumOp(batch.inner(x), axis + 1, reverse)),
);

/** The running sum along `axis`: y_i = x_0 + … + x_i (PyTorch's cumsum). */
export function cumsum(x: Tensor, axis: number): Tensor {
  const a = axisOf("cumsum", x, axis);
  return x.ndim === 0 ? x : cumsumOp(x, a, false);
}

/**
 * The Jacobian of cumprod along the last axis, J[…, k, i] = ∂y_i/∂x_k = Π_{j ≤ i, j ≠ k} x_j for
 * i ≥ k (0 for i < k): the running product of x with x_k replaced by 1. Exact with zeros in x,
 * where the quotient y_i/x_k is 0/0. Made of ops, so it can be differentiated again.
 */
function cumprodJacobian(xl: Tensor): Tensor {
  const n = xl.shape[xl.ndim - 1] as number;
  const k = arange(n).reshape([n, 1]);
  const i = arange(n).reshape([1, n]);
  const withoutK = cumprodOp(where(k.eq(i), 1, xl.unsqueeze(-2)), xl.ndim); // [..., k, i]
  return where(i.ge(k), withoutK, 0);
}

/** t with `axis` moved last, and the permutation that moves it back. */
function axisLast(t: Tensor, axis: number): { moved: Tensor; back: number[] } {
  const perm = t.shape.map((_, d) => d).filter((d) => d !== axis);
  perm.push(axis);
  return { moved: t.permute(perm), back: perm.map((_, d) => perm.indexOf(d)) };
}

/**
 * y_i = Π_{j ≤ i} x_j      ∂L/∂x_k = Σ_{i ≥ k} g_i·Π_{j ≤ i, j ≠ k} x_j      ẏ_i = Σ_{k ≤ i} ẋ_k·Π_{j ≤ i, j ≠ k} x_j
 * Where x has no zero these are (Σ_{i ≥ k} g_i·y_i)/x_k and y_i·Σ_{k ≤ i} ẋ_k/x_k, two running sums
 * (as PyTorch computes them); with a zero the quotients are 0/0 and the rules use the Jacobian
 * (n² per fibre) instead.
 */
const cumprodOp = batchable(
  "cumprod",
  (x: Tensor, axis: number): Tensor => {
    const out = allocate(x.dtype, x.size);
    const data = x.data;
    cumulate("prod", data, x.shape, axis, false, out);
    // NOTE: the quotient form needs every |x| well above 0: below 1e-150, x² (in its second
    // derivative) underflows to 0. Such tiny values take the exact form, as zeros do.
    let zero = false;
    for (let i = 0; i < data.length && !zero; i++) zero = Math.abs(data[i] as number) < 1e-150;
    return fromOp("cumprod", out, x.shape, [x], {
      vjp: (g, y) => {
        if (!zero) return [cumsumOp(g.mul(y), axis, true).div(x)];
        const { moved, back } = axisLast(x, axis);
        const gl = axisLast(g, axis).moved;
        return [cumprodJacobian(moved).mul(gl.unsqueeze(-2)).sum(-1).permute(back)];
      },
      jvp: ([dx], y) => {
        const t = dx as Tensor;
        if (!zero) return y.mul(cumsumOp(t.div(x), axis, false));
        const { moved, back } = axisLast(x, axis);
        const tl = axisLast(t, axis).moved;
        return cumprodJacobian(moved).mul(tl.unsqueeze(-1)).sum(-2).permute(back);
      },
      replay: () => cumprodOp(x, axis),
      saves: "all",
    });
  },
  (batch, x, axis): Tensor => batch.wrap(cumprodOp(batch.inner(x), axis + 1)),
);

/** The running product along `axis`: y_i = x_0·…·x_i (PyTorch's cumprod; exact gradients at zeros). */
export function cumprod(x: Tensor, axis: number): Tensor {
  const a = axisOf("cumprod", x, axis);
  return x.ndim === 0 ? x : cumprodOp(x, a);
}

/**
 * y_i = log Σ_{j ≤ i} exp(x_j), computed as logsumexp over each prefix (x_j for j ≤ i, −∞ after):
 * stable whatever the spread of x (no running sum of exponentials that underflows or overflows),
 * and its gradient ∂y_i/∂x_k = exp(x_k − y_i) for k ≤ i comes from logsumexp's. Costs n² per fibre.
 */
export function logcumsumexp(x: Tensor, axis: number): Tensor {
  const a = axisOf("logcumsumexp", x, axis);
  const xf = x.dtype === "int32" ? x.astype("float64") : x;
  if (x.ndim === 0) return xf;
  const { moved, back } = axisLast(xf, a);
  const n = x.shape[a] as number;
  const i = arange(n).reshape([n, 1]);
  const j = arange(n).reshape([1, n]);
  const prefixes = where(j.le(i), moved.unsqueeze(-2), Number.NEGATIVE_INFINITY); // [..., i, j]
  return prefixes.logsumexp(-1).permute(back);
}
