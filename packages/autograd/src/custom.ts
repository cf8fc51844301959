/**
 * @file User-defined operations on tensors: a forward computation and a derivative rule, like
 * `torch.autograd.Function` or `jax.custom_vjp`. The result takes part in `backward`, `grad`,
 * `gradcheck` (whose blame names it), graph pictures and traces like a built-in op. Imports
 * tensor.ts, shape.ts, errors.ts.
 */

import { fromOp, noGrad, userRule } from "./engine.js";
import { ChainruleError } from "./errors.js";
import { formatShape } from "./shape.js";
import { Tensor } from "./tensor.js";
import { loopingOp } from "./transforms/vmap.js";

/** What `customOp` needs: a name, the forward computation and its derivative rule. */
export interface CustomOpDefinition {
  /** The op's name, shown in graphs, traces, gradcheck reports and errors. */
  name: string;
  /** The forward computation, run without recording; it may use any tensor operations. */
  forward(...inputs: Tensor[]): Tensor;
  /**
   * The vector–Jacobian product: given g = ∂L/∂out (and out, and the inputs), ∂L/∂input for
   * each input (null where there is none). Write it with tensor operations and the op can be
   * differentiated twice.
   */
  backward(g: Tensor, out: Tensor, ...inputs: Tensor[]): readonly (Tensor | null)[];
  /**
   * The forward-mode rule (optional): given the inputs' tangents (null for none) and out, the
   * output's tangent, written with tensor operations. Without it a `jvp` through the op throws.
   */
  jvp?(tangents: readonly (Tensor | null)[], out: Tensor, ...inputs: Tensor[]): Tensor;
  /** The derivative as a formula, for traces (optional). */
  formula?: string;
}

/** The formulas users gave their ops, by name (read by traces). */
export const customFormulas = new Map<string, string>();

/**
 * Define an operation from a forward function and its derivative rule.
 *
 * ```ts
 * // y = sin x      dy/dx = cos x
 * const sin = customOp({
 *   name: "sin",
 *   forward: (x) => tensor(x.toTypedArray().map(Math.sin), { shape: x.shape }),
 *   backward: (g, _out, x) => [g.mul(cosOf(x))],
 * });
 * const y = sin(x);
 * ```
 */
export function customOp(def: CustomOpDefinition): (...inputs: Tensor[]) => Tensor {
  if (typeof def?.name !== "string" || def.name === "") throw new ChainruleError("customOp", "needs a non-empty name");
  if (typeof def.forward !== "function" || typeof def.backward !== "function") {
    throw new ChainruleError("customOp", `op '${def.name}' needs forward and backward functions`);
  }
  if (def.formula !== undefined) customFormulas.set(def.name, def.formula);
  const op = (...inputs: Tensor[]): Tensor => {
    inputs.forEach((x, i) => {
      if (!(x instanceof Tensor)) throw new ChainruleError(def.name, `input ${i} must be a Tensor, got ${typeof x}`);
    });
    const out = noGrad(() => def.forward(...inputs));
    if (!(out instanceof Tensor)) throw new ChainruleError(def.name, `forward must return a Tensor, got ${typeof out}`);
    const jvp = def.jvp;
    return fromOp(def.name, out.data, out.shape, inputs, {
      // user code: what its rule receives and returns is never adopted by a leaf
      vjp: userRule((g, y) => {
        const grads = def.backward(g, y, ...inputs);
        if (!Array.isArray(grads) || grads.length !== inputs.length) {
          throw new ChainruleError(
            def.name,
            `backward must return an array of ${inputs.length} gradient(s) (null for none), got ${Array.isArray(grads) ? grads.length : typeof grads}`,
          );
        }
        grads.forEach((gi, i) => {
          if (gi !== null && !(gi instanceof Tensor)) {
            throw new ChainruleError(
              def.name,
              `backward returned ${typeof gi} for input ${i}; expected a Tensor of shape ${formatShape((inputs[i] as Tensor).shape)} or null`,
            );
          }
        });
        return grads;
      }),
      jvp: jvp === undefined ? undefined : (tangents, y) => jvp(tangents, y, ...inputs),
      replay: () => op(...inputs),
    });
  };
  // vmap: no batching rule is known for user code, so a batch runs example by example
  return loopingOp(def.name, op);
}
