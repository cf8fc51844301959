/**
 * @file Activation functions, as functions of a Tensor and as parameterless Modules (to place in
 * a `Sequential`). Each is one tensor op or a short composition, so its derivative comes from the
 * op's rule in autograd; the formulas are repeated here for the reader. Imports module.ts and the
 * public API of @chainrule/autograd.
 */

import { ChainruleError, Tensor, where } from "@chainrule/autograd";
import { describe, Module, type ModuleConfig } from "./module.js";

/** The activation's input, checked to be a Tensor. */
function input(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `expected a Tensor, got ${describe(x)}`);
  return x;
}

/** Names accepted where an activation is chosen by name (MLP options, model configs). */
export type ActivationName = "sigmoid" | "tanh" | "relu" | "leakyRelu" | "softmax" | "identity";

/** The names of the activations an `MLP` accepts (see `ActivationName`). */
export const ACTIVATIONS: readonly ActivationName[] = ["sigmoid", "tanh", "relu", "leakyRelu", "softmax", "identity"];

/** σ(x) = 1/(1 + e⁻ˣ), elementwise      σ'(x) = σ(x)(1 − σ(x)): the chapter's activation. */
export function sigmoid(x: Tensor): Tensor {
  return input("sigmoid", x).sigmoid();
}

/** tanh x, elementwise      tanh'(x) = 1 − tanh² x */
export function tanh(x: Tensor): Tensor {
  return input("tanh", x).tanh();
}

/** max(0, x), elementwise      relu'(x) = 1 if x > 0, else 0 (0 chosen at the kink) */
export function relu(x: Tensor): Tensor {
  return input("relu", x).relu();
}

/**
 * x if x > 0, else α·x, elementwise (α = `negativeSlope`, default 0.01 as in PyTorch)
 *   derivative 1 if x > 0, else α (α chosen at the kink, as PyTorch does)
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (typeof negativeSlope !== "number" || !Number.isFinite(negativeSlope)) {
    throw new ChainruleError("leakyRelu", `negativeSlope must be a finite number, got ${String(negativeSlope)}`);
  }
  // NOTE: `where` rather than max(x, αx), which would be wrong for α > 1.
  return where(input("leakyRelu", x).gt(0), x, x.mul(negativeSlope));
}

/** eˣⁱ / Σⱼ eˣʲ along `axis` (default the last), computed stably through logSoftmax. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return input("softmax", x).softmax(axis);
}

/** x itself: the "no activation" of an output layer that produces logits. */
export function identity(x: Tensor): Tensor {
  return x;
}

/** The function of an activation name; a ChainruleError names the valid ones. */
export function activationFunction(name: ActivationName, op = "activation"): (x: Tensor) => Tensor {
  switch (name) {
    case "sigmoid":
      return sigmoid;
    case "tanh":
      return tanh;
    case "relu":
      return relu;
    case "leakyRelu":
      return (x) => leakyRelu(x);
    case "softmax":
      return (x) => softmax(x);
    case "identity":
      return identity;
    default:
      throw new ChainruleError(
        op,
        `unknown activation ${describe(name)}; expected one of ${ACTIVATIONS.map((a) => `"${a}"`).join(", ")}`,
      );
  }
}

/** `sigmoid` as a module. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** `tanh` as a module. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** `relu` as a module. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** `leakyRelu` as a module: `new LeakyReLU(0.2)`. */
export class LeakyReLU extends Module {
  /** The slope for x < 0. */
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== "number" || !Number.isFinite(negativeSlope)) {
      throw new ChainruleError("LeakyReLU", `negativeSlope must be a finite number, got ${String(negativeSlope)}`);
    }
    this.negativeSlope = negativeSlope;
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override config(): ModuleConfig {
    return { type: "LeakyReLU", negativeSlope: this.negativeSlope };
  }
}

/** `softmax` along `axis` (default the last) as a module. */
export class Softmax extends Module {
  /** The axis the probabilities sum to 1 along. */
  readonly axis: number;

  constructor(axis = -1) {
    super();
    if (!Number.isInteger(axis)) throw new ChainruleError("Softmax", `axis must be an integer, got ${String(axis)}`);
    this.axis = axis;
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }

  override config(): ModuleConfig {
    return { type: "Softmax", axis: this.axis };
  }
}

/** `identity` as a module. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
