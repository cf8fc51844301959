/**
 * @file Function transforms over the Tensor engine, in the style of JAX: `grad`, `valueAndGrad`,
 * `vjp` and `jvp`. They work on the function, not on `.grad` fields: no `.grad` is written, and
 * every backward pass keeps its graph (retainGraph), so graphs the user is holding are not
 * disturbed. Because derivative rules are themselves differentiable, the transforms compose:
 * `grad(grad(f))` is f''. Imports tensor.ts and errors.ts.
 */

import { ChainruleError } from "./errors.js";
import { formatShape, sameShape } from "./shape.js";
import { isGradEnabled, runBackward, Tensor, withGradMode, zerosLike } from "./tensor.js";

type TensorFn = (...args: Tensor[]) => Tensor;

/**
 * The arguments to differentiate, as leaves: an argument already in a graph (for instance an outer
 * `grad`'s variable) is used as it is, so outer transforms can see through this one; any other is
 * wrapped as a fresh leaf that shares its storage.
 */
function asVariables(op: string, args: Tensor[], argnums: readonly number[]): Tensor[] {
  args.forEach((a, i) => {
    if (!(a instanceof Tensor)) throw new ChainruleError(op, `argument ${i} must be a Tensor, got ${typeof a}`);
  });
  for (const i of argnums) {
    if (!Number.isInteger(i) || i < 0 || i >= args.length) {
      throw new ChainruleError(op, `argnums entry ${i} is out of range for ${args.length} argument(s)`);
    }
  }
  return args.map((a, i) => {
    if (!argnums.includes(i)) return a;
    if (!a.requiresGrad) return a.detach().requireGrad();
    // The same tensor in two differentiated slots: give each slot a node of its own (an identity
    // op, still connected to the tensor), so each slot gets its own partial derivative.
    const repeated = argnums.some((j) => j !== i && args[j] === a);
    return repeated ? a.add(0) : a;
  });
}

/** Record the backward pass when an enclosing transform (or the user) differentiates through us. */
function nested(args: readonly Tensor[]): boolean {
  return isGradEnabled() && args.some((a) => a.requiresGrad);
}

/**
 * Results the caller owns: a plain gradient that shares its storage with an earlier result or
 * with the caller's own cotangent (a rule may pass g through unchanged) is copied, so changing
 * one result in place never changes another. Gradients with a graph are left as they are.
 */
function distinct(results: Tensor[], cotangent?: Tensor): Tensor[] {
  const seen = new Set(cotangent === undefined ? [] : [cotangent.data]);
  return results.map((t) => {
    const plain = t.isLeaf && !t.requiresGrad;
    const out = plain && seen.has(t.data) ? t.clone() : t;
    seen.add(out.data);
    return out;
  });
}

function checkScalar(op: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) throw new ChainruleError(op, `f must return a Tensor, got ${typeof y}`);
  if (y.size !== 1)
    throw new ChainruleError(
      op,
      `f must return a one-element tensor, got shape ${formatShape(y.shape)} (use vjp for other outputs)`,
    );
  return y;
}

/**
 * Value and gradient of a scalar function with respect to argument `argnums` (a number → one
 * gradient; an array → a list, in that order).
 *
 * ```ts
 * const [y, dy] = valueAndGrad((x) => x.mul(x).sum())(tensor([1, 2])); // y = 5, dy = [2, 4]
 * ```
 */
export function valueAndGrad(f: TensorFn, argnums: number): (...args: Tensor[]) => [Tensor, Tensor];
export function valueAndGrad(f: TensorFn, argnums: readonly number[]): (...args: Tensor[]) => [Tensor, Tensor[]];
export function valueAndGrad(f: TensorFn): (...args: Tensor[]) => [Tensor, Tensor];
export function valueAndGrad(f: TensorFn, argnums: number | readonly number[] = 0) {
  const nums = typeof argnums === "number" ? [argnums] : [...argnums];
  return (...args: Tensor[]): [Tensor, Tensor | Tensor[]] => {
    const xs = asVariables("grad", args, nums);
    const createGraph = nested(args);
    const y = withGradMode(true, () => checkScalar("grad", f(...xs)));
    const wrt = nums.map((i) => xs[i] as Tensor);
    const grads = y.requiresGrad
      ? runBackward(y, undefined, { createGraph, retainGraph: true }, wrt)
      : wrt.map(() => null);
    const out = distinct(grads.map((g, k) => g ?? zerosLike(wrt[k] as Tensor)));
    const value = createGraph ? y : y.detach();
    return [value, typeof argnums === "number" ? (out[0] as Tensor) : out];
  };
}

/**
 * The gradient of a scalar function, as a function: `grad(f)(x)` = ∂f/∂x, and `grad(grad(f))`
 * the second derivative of a scalar function of a scalar.
 */
export function grad(f: TensorFn, argnums: number): (...args: Tensor[]) => Tensor;
export function grad(f: TensorFn, argnums: readonly number[]): (...args: Tensor[]) => Tensor[];
export function grad(f: TensorFn): (...args: Tensor[]) => Tensor;
export function grad(f: TensorFn, argnums: number | readonly number[] = 0) {
  const vg = valueAndGrad(f, argnums as readonly number[]) as (...args: Tensor[]) => [Tensor, Tensor | Tensor[]];
  return (...args: Tensor[]) => vg(...args)[1];
}

/**
 * Vector–Jacobian product: evaluates f at `inputs` and returns its output with a pullback
 * v ↦ vᵀ·∂f/∂inputs (one gradient per input), callable any number of times.
 */
export function vjp(
  f: TensorFn,
  ...inputs: Tensor[]
): {
  /** f(inputs). */
  out: Tensor;
  /** v ↦ vᵀ·J for each input, v shaped like `out`. */
  pullback: (v: Tensor) => Tensor[];
} {
  const xs = asVariables(
    "vjp",
    inputs,
    inputs.map((_, i) => i),
  );
  const out = withGradMode(true, () => f(...xs));
  if (!(out instanceof Tensor)) throw new ChainruleError("vjp", `f must return a Tensor, got ${typeof out}`);
  const createGraph = nested(inputs);
  return {
    out: createGraph ? out : out.detach(),
    pullback(v: Tensor): Tensor[] {
      if (!(v instanceof Tensor)) throw new ChainruleError("vjp", `the cotangent must be a Tensor, got ${typeof v}`);
      if (!out.requiresGrad) return xs.map((x) => zerosLike(x));
      const grads = runBackward(
        out,
        v,
        { createGraph: createGraph || (isGradEnabled() && v.requiresGrad), retainGraph: true },
        xs,
      );
      return distinct(
        grads.map((g, i) => g ?? zerosLike(xs[i] as Tensor)),
        v,
      );
    },
  };
}

/**
 * Jacobian–vector product (forward mode): returns f(inputs) and ∂f/∂inputs · tangents.
 *
 * Computed by the double-vjp trick rather than by forward-mode rules: u ↦ uᵀJ is linear in u,
 * so differentiating uᵀJ·t with respect to u gives J·t. It costs two backward passes.
 */
export function jvp(
  f: TensorFn,
  inputs: Tensor[],
  tangents: Tensor[],
): {
  /** f(inputs). */
  out: Tensor;
  /** J·t: the directional derivative of f along the tangents, shaped like `out`. */
  tangent: Tensor;
} {
  if (!Array.isArray(inputs) || !Array.isArray(tangents) || inputs.length !== tangents.length) {
    throw new ChainruleError("jvp", "inputs and tangents must be arrays of the same length");
  }
  tangents.forEach((t, i) => {
    const x = inputs[i] as Tensor;
    if (!(t instanceof Tensor) || !sameShape(t.shape, x.shape)) {
      const got = t instanceof Tensor ? formatShape(t.shape) : typeof t;
      throw new ChainruleError(
        "jvp",
        `tangent ${i} has shape ${got}; it must match its input's shape ${formatShape(x.shape)}`,
      );
    }
  });
  const xs = asVariables(
    "jvp",
    inputs,
    inputs.map((_, i) => i),
  );
  return withGradMode(true, () => {
    const out = f(...xs);
    if (!(out instanceof Tensor)) throw new ChainruleError("jvp", `f must return a Tensor, got ${typeof out}`);
    if (!out.requiresGrad) return { out, tangent: zerosLike(out) };
    const u = zerosLike(out).requireGrad(); // a dummy cotangent: only its linearity is used
    const vjps = runBackward(out, u, { createGraph: true, retainGraph: true }, xs);
    let s: Tensor | null = null;
    vjps.forEach((g, i) => {
      if (g === null) return;
      const term = g.mul(tangents[i] as Tensor).sum();
      s = s === null ? term : s.add(term);
    });
    const total = s as Tensor | null;
    if (total === null || !total.requiresGrad) return { out: out.detach(), tangent: zerosLike(out) };
    const outer = nested(inputs);
    const [jt] = runBackward(total, undefined, { createGraph: outer, retainGraph: true }, [u]);
    return { out: outer ? out : out.detach(), tangent: jt ?? zerosLike(out) };
  });
}
