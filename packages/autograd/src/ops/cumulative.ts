/**
 * @file Running reductions along one axis, each forward beside its derivative rule: cumsum,
 * cumprod and logcumsumexp (stable). A 0-d tensor is read as one element along axis 0 or −1, as
 * PyTorch does. On a vmap batch each runs one axis further right. Imports engine.ts, tensor.ts,
 * ndarray.ts, shape.ts, errors.ts, transforms/vmap.ts, ops/elementwise.ts.
 */

import { composing, fromOp } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { allocate, cumprodGrad, cumulate, logcumsumexpGrad, logcumsumexp as logcumsumexpKernel } from "../ndarray.js";
import { normalizeAxis } from "../shape.js";
import { arange, Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { where } from "./elementwise.js";

/** The axis of a running reduction (a 0-d tensor has axis 0, as one element). */
function axisOf(op: string, x: Tensor, axis: number): number {
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `x must be a Tensor, got ${typeof x}`);
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
 * NOTE: not the quotients (Σ_{i ≥ k} g_i·y_i)/x_k and y_i·Σ_{k ≤ i} ẋ_k/x_k: they are 0/0 at a zero, and
 * their second derivatives lose every digit near one. The backward pass runs in two exact passes
 * (ndarray.ts's cumprodGrad); the composed rules (recorded passes, jvp, vmap) use the Jacobian,
 * n² per fibre.
 */
const cumprodOp = batchable(
  "cumprod",
  (x: Tensor, axis: number): Tensor => {
    const out = allocate(x.dtype, x.size);
    cumulate("prod", x.data, x.shape, axis, false, out);
    return fromOp("cumprod", out, x.shape, [x], {
      vjp: (g) => {
        if (!composing()) {
          const gx = allocate(g.dtype, g.size);
          cumprodGrad(x.data, g.data, x.shape, axis, gx);
          return [new Tensor(gx, x.shape)];
        }
        const { moved, back } = axisLast(x, axis);
        const gl = axisLast(g, axis).moved;
        return [cumprodJacobian(moved).mul(gl.unsqueeze(-2)).sum(-1).permute(back)];
      },
      jvp: ([dx]) => {
        const { moved, back } = axisLast(x, axis);
        const tl = axisLast(dx as Tensor, axis).moved;
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
 * W[…, k, i] = ∂y_i/∂x_k = exp(x_k − y_i) for k ≤ i, 0 after (the axis last): logcumsumexp's
 * Jacobian, for its composed rules. The mask is applied before exp, so no masked exponent can
 * overflow, and its derivative there is exp(−∞) = 0, not 0·∞.
 */
function logcumsumexpJacobian(xl: Tensor, yl: Tensor): Tensor {
  const n = xl.shape[xl.ndim - 1] as number;
  const k = arange(n).reshape([n, 1]);
  const i = arange(n).reshape([1, n]);
  return where(i.ge(k), xl.unsqueeze(-1).sub(yl.unsqueeze(-2)), Number.NEGATIVE_INFINITY).exp();
}

/**
 * y_i = log Σ_{j ≤ i} exp(x_j), one stable log-add-exp a step
 * ∂L/∂x_k = Σ_{i ≥ k} g_i·exp(x_k − y_i)      ẏ_i = Σ_{k ≤ i} exp(x_k − y_i)·ẋ_k
 * The backward pass runs in one stable pass from the end (ndarray.ts's logcumsumexpGrad); the
 * composed rules (recorded passes, jvp, vmap) use the Jacobian, n² per fibre.
 */
const logcumsumexpOp = batchable(
  "logcumsumexp",
  (x: Tensor, axis: number): Tensor => {
    const out = allocate(x.dtype === "int32" ? "float64" : x.dtype, x.size);
    logcumsumexpKernel(x.data, x.shape, axis, out);
    return fromOp("logcumsumexp", out, x.shape, [x], {
      vjp: (g, y) => {
        if (!composing()) {
          const gx = allocate(g.dtype, g.size);
          logcumsumexpGrad(x.data, y.data, g.data, x.shape, axis, gx);
          return [new Tensor(gx, x.shape)];
        }
        const { moved, back } = axisLast(x, axis);
        const jacobian = logcumsumexpJacobian(moved, axisLast(y, axis).moved);
        return [jacobian.mul(axisLast(g, axis).moved.unsqueeze(-2)).sum(-1).permute(back)];
      },
      jvp: ([dx], y) => {
        const { moved, back } = axisLast(x, axis);
        const jacobian = logcumsumexpJacobian(moved, axisLast(y, axis).moved);
        return jacobian
          .mul(axisLast(dx as Tensor, axis).moved.unsqueeze(-1))
          .sum(-2)
          .permute(back);
      },
      replay: () => logcumsumexpOp(x, axis),
      saves: "all",
    });
  },
  (batch, x, axis): Tensor => batch.wrap(logcumsumexpOp(batch.inner(x), axis + 1)),
);

/** log Σ_{j ≤ i} exp(x_j) along `axis`, stable for any spread of values (PyTorch's logcumsumexp). */
export function logcumsumexp(x: Tensor, axis: number): Tensor {
  const a = axisOf("logcumsumexp", x, axis);
  if (x.ndim === 0) return x.dtype === "int32" ? x.astype("float64") : x;
  return logcumsumexpOp(x, a);
}
