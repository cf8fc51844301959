/**
 * @file Function transforms over the Tensor engine, in the style of JAX: `grad`, `valueAndGrad`,
 * `vjp` (reverse mode) and `jvp` (forward mode). They work on the function, not on `.grad`
 * fields: no `.grad` is written, and every backward pass keeps its graph (retainGraph), so graphs
 * the user is holding are not disturbed. Because derivative rules are themselves differentiable,
 * the transforms compose: `grad(grad(f))` is f'', `jvp(grad(f))` a Hessian-vector product, and
 * inside `vmap` they work per example. Imports engine.ts, tensor.ts, shape.ts, errors.ts and
 * transforms/vmap.ts.
 */

import {
  type BackwardOptions,
  fromOp,
  isGradEnabled,
  runBackward,
  setTangent,
  tangentOf,
  withForwardLevel,
  withGradMode,
} from "./engine.js";
import { ChainruleError } from "./errors.js";
import { formatShape, sameShape } from "./shape.js";
import { Tensor, zerosLike } from "./tensor.js";
import { batchedAt, coreOf, levelsOf, liveBatchLevels, rewrap } from "./transforms/vmap.js";

type TensorFn = (...args: Tensor[]) => Tensor;

/**
 * The arguments to differentiate, as leaves: an argument already in a graph (for instance an outer
 * `grad`'s variable) is used as it is, so outer transforms can see through this one; any other is
 * wrapped as a fresh leaf that shares its storage and keeps its tangents (so `jvp` sees through
 * this transform). Inside `vmap`, a variable is batched at every live level, so that each example
 * gets a gradient of its own.
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
  const live = liveBatchLevels();
  return args.map((arg, i) => {
    if (!argnums.includes(i)) return arg;
    const a = live.length > 0 ? batchedAt(arg, live) : arg;
    const core = coreOf(a);
    let leaf: Tensor;
    if (!core.requiresGrad) {
      leaf = core.detach().requireGrad();
      leaf.tangents = core.tangents;
    } else {
      // The same tensor in two differentiated slots: give each slot a node of its own (an identity
      // op, still connected to the tensor), so each slot gets its own partial derivative.
      const repeated = argnums.some((j) => j !== i && args[j] === arg);
      leaf = repeated ? core.add(0) : core;
    }
    return rewrap(leaf, levelsOf(a));
  });
}

/**
 * runBackward for outputs and inputs that may be batched inside vmap: the graph is recorded on the
 * plain tensors under the batch wrappers, so the pass runs there (the seed batched like the
 * output) and each gradient is wrapped like its input. A plain output with a batched seed (a
 * vmap over cotangents, as jacrev does) runs as it is: the rules then work on batched gradients.
 */
function backwardOf(
  out: Tensor,
  seed: Tensor | undefined,
  options: BackwardOptions,
  inputs: readonly Tensor[],
): (Tensor | null)[] {
  const levels = levelsOf(out);
  if (levels.length === 0) return runBackward(out, seed, options, inputs);
  const core = coreOf(out);
  const s = coreOf(batchedAt(seed ?? zerosLike(out).add(1), levels));
  const same = inputs.map((x) => {
    const l = levelsOf(x);
    return l.length === levels.length && l.every((v, k) => v === levels[k]);
  });
  const grads = runBackward(
    core,
    s,
    options,
    inputs.map((x, k) => (same[k] ? coreOf(x) : x)),
  );
  // An input batched differently from the output does not reach it (a batched value only flows
  // into batched results), so its gradient is zero.
  return grads.map((g, k) => (g === null || !same[k] ? null : rewrap(g, levels)));
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
  const seen = new Set(cotangent === undefined || cotangent.batch !== null ? [] : [cotangent.data]);
  return results.map((t) => {
    if (t.batch !== null || t.tangents !== null) return t; // made by this call's operations
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
      ? backwardOf(y, undefined, { createGraph, retainGraph: true }, wrt)
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
      const grads = backwardOf(
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
 * Jacobian–vector product by forward mode: f(inputs) and its derivative along `tangents`,
 * ∂f/∂inputs · tangents, in one forward pass. Each input carries its tangent, and every op
 * computes its output's tangent from its inputs' by its jvp rule, beside its value.
 *
 * ```ts
 * const { out, tangent } = jvp((x) => x.sin(), [tensor([0, 1])], [tensor([1, 1])]); // tangent = cos x
 * ```
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
  if (typeof f !== "function") throw new ChainruleError("jvp", `f must be a function, got ${typeof f}`);
  if (!Array.isArray(inputs) || !Array.isArray(tangents) || inputs.length !== tangents.length) {
    throw new ChainruleError("jvp", "inputs and tangents must be arrays of the same length");
  }
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new ChainruleError("jvp", `input ${i} must be a Tensor, got ${typeof x}`);
    const t = tangents[i];
    if (!(t instanceof Tensor) || !sameShape(t.shape, x.shape)) {
      const got = t instanceof Tensor ? formatShape(t.shape) : typeof t;
      throw new ChainruleError(
        "jvp",
        `tangent ${i} has shape ${got}; it must match its input's shape ${formatShape(x.shape)}`,
      );
    }
  });
  return withForwardLevel((level) => {
    const out = f(...inputs.map((x, i) => dual(x, tangents[i] as Tensor, level)));
    if (!(out instanceof Tensor)) throw new ChainruleError("jvp", `f must return a Tensor, got ${typeof out}`);
    const levels = levelsOf(out);
    const t = tangentOf(coreOf(out), level);
    return { out, tangent: t === null ? zerosLike(out) : rewrap(t, levels) };
  });
}

/**
 * x carrying tangent t at a forward-mode level: an identity op over x (so x's graph and its
 * tangents at other levels pass through) with t set as its tangent. Inside vmap, x and t are
 * first batched alike.
 */
function dual(x: Tensor, t: Tensor, level: number): Tensor {
  const levels = [...new Set([...levelsOf(x), ...levelsOf(t)])];
  const bx = levels.length > 0 ? batchedAt(x, levels) : x;
  const bt = levels.length > 0 ? batchedAt(t, levels) : t;
  const core = coreOf(bx);
  if (core.dtype === "int32")
    throw new ChainruleError("jvp", "an int32 input cannot carry a tangent (no derivative flows through integers)");
  const d = fromOp("dual", core.data, core.shape, [core], {
    vjp: (g) => [g],
    jvp: ([dx]) => dx as Tensor,
    saves: "none",
  });
  const tc = coreOf(bt);
  setTangent(d, level, tc.dtype === d.dtype ? tc : tc.astype(d.dtype));
  return rewrap(d, levelsOf(bx));
}
