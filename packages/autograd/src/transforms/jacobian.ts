/**
 * @file Jacobians and Hessians, as JAX computes them: `jacrev` maps the pullback (vᵀJ) over the
 * rows of the identity with vmap, one reverse pass for all output elements; `jacfwd` maps the
 * pushforward (J·v) over the columns, one forward pass for all input elements; `hessian` is
 * forward-over-reverse, `jacfwd(jacrev(f))`; `hvp` is the jvp of the gradient, H·v without forming
 * H. Results have JAX's shapes: the output's shape followed by the input's. Imports functional.ts,
 * tensor.ts, errors.ts and transforms/vmap.ts.
 *
 * Which mode is cheap: reverse mode costs one pass per *output* element, forward mode one per
 * *input* element, so jacrev suits few outputs and many inputs (a loss), jacfwd the opposite.
 */

import { ChainruleError } from "../errors.js";
import { grad, jvp, vjp } from "../functional.js";
import { eye, Tensor } from "../tensor.js";
import { vmap } from "./vmap.js";

type TensorFn = (...args: Tensor[]) => Tensor;

/** The argument positions to differentiate: one (a number) or several (an array). */
function positions(op: string, argnums: number | readonly number[], n: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new ChainruleError(op, `argnums entry ${i} is out of range for ${n} argument(s)`);
    }
  }
  return list;
}

/** The identity of size n, each row shaped like `shape`: [n, ...shape] (a basis of directions). */
function basis(shape: readonly number[], dtype: Tensor["dtype"]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return eye(n, n, { dtype }).reshape([n, ...shape]);
}

/** [n, ...rest] with the leading axis split back into `lead` (the output's or input's shape). */
function unflatten(t: Tensor, lead: readonly number[]): Tensor {
  return t.reshape([...lead, ...t.shape.slice(1)]);
}

function checkOutput(op: string, out: unknown): Tensor {
  if (!(out instanceof Tensor)) throw new ChainruleError(op, `f must return a Tensor, got ${typeof out}`);
  return out;
}

/**
 * The Jacobian of f by reverse mode: ∂f/∂x with shape [...f's shape, ...x's shape] (an array of
 * them for an array of `argnums`).
 *
 * ```ts
 * jacrev((x) => x.mul(x))(tensor([1, 2])); // [[2, 0], [0, 4]]
 * ```
 */
export function jacrev(f: TensorFn, argnums: number | readonly number[] = 0): (...args: Tensor[]) => Tensor | Tensor[] {
  return (...args: Tensor[]) => {
    const wanted = positions("jacrev", argnums, args.length);
    const { out, pullback } = vjp(f, ...args);
    checkOutput("jacrev", out);
    // row i of J is eᵢᵀJ: the pullback of the i-th basis vector, all rows in one batched pass
    const rows = vmap((v: Tensor) => pullback(v))(basis(out.shape, out.dtype));
    const jac = wanted.map((i) => unflatten(rows[i] as Tensor, out.shape));
    return typeof argnums === "number" ? (jac[0] as Tensor) : jac;
  };
}

/**
 * The Jacobian of f by forward mode: the same shapes as `jacrev`, one pushforward J·eⱼ per input
 * element, all in one batched pass.
 */
export function jacfwd(f: TensorFn, argnums: number | readonly number[] = 0): (...args: Tensor[]) => Tensor | Tensor[] {
  return (...args: Tensor[]) => {
    const wanted = positions("jacfwd", argnums, args.length);
    const jac = wanted.map((i) => {
      const x = args[i] as Tensor;
      if (!(x instanceof Tensor)) throw new ChainruleError("jacfwd", `argument ${i} must be a Tensor, got ${typeof x}`);
      const along = (t: Tensor) => jvp((xi: Tensor) => f(...args.map((a, k) => (k === i ? xi : a))), [x], [t]).tangent;
      const cols = vmap(along)(basis(x.shape, x.dtype)); // [x.size, ...out shape]: column j is J·eⱼ
      const outRank = cols.ndim - 1;
      // move the input axis to the end, then split it into x's shape
      const perm = [...Array.from({ length: outRank }, (_, d) => d + 1), 0];
      const moved = cols.permute(perm);
      return moved.reshape([...moved.shape.slice(0, outRank), ...x.shape]);
    });
    return typeof argnums === "number" ? (jac[0] as Tensor) : jac;
  };
}

/**
 * The Hessian of a scalar function: ∂²f/∂x² with shape [...x's shape, ...x's shape], by forward
 * mode over reverse mode (`jacfwd(jacrev(f))`).
 */
export function hessian(f: TensorFn, argnum = 0): (...args: Tensor[]) => Tensor {
  return (...args: Tensor[]) => {
    positions("hessian", argnum, args.length);
    const scalar = (...xs: Tensor[]) => {
      const y = checkOutput("hessian", f(...xs));
      if (y.size !== 1) {
        throw new ChainruleError("hessian", `f must return a one-element tensor, got shape [${y.shape.join(", ")}]`);
      }
      return y.reshape([]);
    };
    return jacfwd((...xs: Tensor[]) => grad(scalar, argnum)(...xs), argnum)(...args) as Tensor;
  };
}

/**
 * The Hessian–vector product H·v of a scalar function at x, without forming H: the forward-mode
 * derivative of the gradient along v (one forward pass over one reverse pass).
 */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  if (!(x instanceof Tensor) || !(v instanceof Tensor)) throw new ChainruleError("hvp", "x and v must be Tensors");
  return jvp(grad(f), [x], [v]).tangent;
}
