/**
 * @file The multi-layer perceptron: Linear layers with an activation after each, the network of
 * the chapter. Nielsen's 784–30–10 network is
 * `new MLP([784, 30, 10], { activation: "sigmoid", outputActivation: "sigmoid", random })`.
 * Imports module.ts, linear.ts, activations.ts and the public API of @chainrule/autograd.
 *
 *   a⁰ = x,   zˡ = aˡ⁻¹·Wˡᵀ + bˡ,   aˡ = act(zˡ)   (outputActivation on the last layer)
 */

import { ChainruleError, defaultRandom, type Random, type Tensor, type TensorDtype } from "@chainrule/autograd";
import { ACTIVATIONS, type ActivationName, activationFunction } from "./activations.js";
import { Linear, type LinearInit } from "./linear.js";
import { Module, type ModuleConfig } from "./module.js";

/** Options of `MLP`. */
export interface MLPOptions {
  /**
   * The generator every layer draws from, layer by layer (W¹, b¹, W², b², …); without it, the
   * default generator (reseeded by `manualSeed`).
   */
  random?: Random;
  /** Activation after every hidden layer (default "relu"). */
  activation?: ActivationName;
  /** Activation after the last layer (default "identity": the output is the logits). */
  outputActivation?: ActivationName;
  /** Biases in every layer (default true). */
  bias?: boolean;
  /** Initialisation of every layer (default "pytorch"; see LinearInit). */
  init?: LinearInit;
  /** float64 (default) or float32. */
  dtype?: TensorDtype;
}

/**
 * An MLP of layer sizes [in, hidden…, out]. Its layers are `layers.0`, `layers.1`, … (Linear
 * only; activations hold no parameters), so parameter names match a PyTorch module that keeps
 * its Linear layers in `self.layers = nn.ModuleList(...)`.
 *
 * @example
 * // W2 of the benchmark: every weight and bias gaussian12, drawn W¹, b¹, W², b² from mulberry32(2)
 * const net = new MLP([784, 30, 10], {
 *   activation: "sigmoid", outputActivation: "sigmoid", init: "gaussian12", random: new Random(2),
 * });
 * net.forward(x); // x: [batch, 784] → [batch, 10]
 */
export class MLP extends Module {
  /** The Linear layers, input first. */
  readonly layers: Linear[];
  /** The layer sizes [in, hidden…, out]. */
  readonly sizes: readonly number[];
  /** The activation after each hidden layer. */
  readonly activation: ActivationName;
  /** The activation after the last layer. */
  readonly outputActivation: ActivationName;

  constructor(sizes: readonly number[], options: MLPOptions = {}) {
    super();
    if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new ChainruleError(
        "MLP",
        `sizes must list at least two positive integers [in, …, out], got ${JSON.stringify(sizes)}`,
      );
    }
    if (options === null || typeof options !== "object") {
      throw new ChainruleError("MLP", `options must be an object, got ${String(options)}`);
    }
    // One generator for all layers, so an MLP draws the same numbers as its Linear layers would.
    const random = options.random ?? defaultRandom();
    this.activation = options.activation ?? "relu";
    this.outputActivation = options.outputActivation ?? "identity";
    for (const [name, a] of [
      ["activation", this.activation],
      ["outputActivation", this.outputActivation],
    ] as const) {
      if (!ACTIVATIONS.includes(a)) {
        throw new ChainruleError(
          "MLP",
          `${name} must be one of ${ACTIVATIONS.map((s) => `"${s}"`).join(", ")}, got ${JSON.stringify(a)}`,
        );
      }
    }
    this.sizes = [...sizes];
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      this.layers.push(
        new Linear(sizes[i] as number, sizes[i + 1] as number, {
          random,
          ...(options.bias === undefined ? {} : { bias: options.bias }),
          ...(options.init === undefined ? {} : { init: options.init }),
          ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
        }),
      );
    }
    this.labelParameters();
  }

  /** x: [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    const hidden = activationFunction(this.activation, "MLP");
    const output = activationFunction(this.outputActivation, "MLP");
    let a = x;
    this.layers.forEach((layer, i) => {
      const z = layer.forward(a);
      a = i === this.layers.length - 1 ? output(z) : hidden(z);
    });
    return a;
  }

  override config(): ModuleConfig {
    const first = this.layers[0] as Linear;
    return {
      type: "MLP",
      sizes: [...this.sizes],
      activation: this.activation,
      outputActivation: this.outputActivation,
      bias: first.bias !== null,
      dtype: first.weight.dtype,
    };
  }
}
