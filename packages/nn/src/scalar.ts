/**
 * @file The scalar flavour of nn, micrograd's shape: a `Neuron` is a list of weight `Value`s and
 * a bias, a `Layer` a list of neurons, a `ScalarMLP` a list of layers. The contract is the tensor
 * Module's — `forward`, `parameters()`, `namedParameters()` with dotted names, `zeroGrad()` —
 * at the size where a learner can print every weight and every gradient. Imports
 * the public API of @chainrule/autograd.
 *
 *   neuron j:  zⱼ = bⱼ + Σₖ wⱼₖ·xₖ   (summed left to right, starting from b, as micrograd does)
 *              aⱼ = act(zⱼ)
 */

import { ChainruleError, defaultRandom, type Random, Value } from "@chainrule/autograd";

/** Activations a scalar neuron can apply ("identity" for a linear output neuron). */
export type ScalarActivation = "relu" | "tanh" | "sigmoid" | "identity";

const SCALAR_ACTIVATIONS: readonly ScalarActivation[] = ["relu", "tanh", "sigmoid", "identity"];

/**
 * How weights and biases are drawn, from a caller's `Random`, neuron by neuron, weights in input
 * order, then the bias:
 * - "uniform" (default, micrograd's): w = 2u − 1 ∈ [−1, 1), b = 0 (no draw);
 * - "gaussian12": w and b ≈ N(0, 1) (Nielsen's init, reproducible anywhere);
 * - a function (random, fanIn, role) → number, called for every weight and bias in that order.
 */
export type ScalarInit =
  | "uniform"
  | "gaussian12"
  | ((random: Random, fanIn: number, role: "weight" | "bias") => number);

/** Options of `Neuron`, `Layer` and `ScalarMLP`. */
export interface ScalarOptions {
  /**
   * The seeded generator the initial weights are drawn from; without it, the default generator
   * (reseeded by `manualSeed`).
   */
  random?: Random;
  /** How weights and biases are drawn (default "uniform": micrograd's). */
  init?: ScalarInit;
}

function draw(init: ScalarInit, random: Random, fanIn: number, role: "weight" | "bias"): number {
  if (typeof init === "function") return init(random, fanIn, role);
  if (init === "gaussian12") return random.gaussian12();
  if (init === "uniform") return role === "weight" ? 2 * random.next() - 1 : 0;
  throw new ChainruleError(
    "ScalarMLP",
    `unknown init ${JSON.stringify(init)}; expected "uniform", "gaussian12" or a function`,
  );
}

function checkRandom(op: string, options: ScalarOptions | undefined): Random {
  const random = options?.random ?? defaultRandom();
  if (typeof (random as Partial<Random>).next !== "function") {
    throw new ChainruleError(
      op,
      "options.random must be a seeded generator (new Random(seed)), or left out for the default one",
    );
  }
  return random;
}

function checkActivation(op: string, a: unknown): ScalarActivation {
  if (!SCALAR_ACTIVATIONS.includes(a as ScalarActivation)) {
    throw new ChainruleError(
      op,
      `activation must be ${SCALAR_ACTIVATIONS.map((s) => `"${s}"`).join(", ")}, got ${JSON.stringify(a)}`,
    );
  }
  return a as ScalarActivation;
}

/** The shared contract: parameters by dotted name, and zeroing their gradients. */
export abstract class ScalarModule {
  /** [dotted name, Value] for every weight and bias, in order. */
  abstract namedParameters(): Array<[string, Value]>;

  /** Every weight and bias, in order (layer, neuron, weights then bias). */
  parameters(): Value[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** Set every parameter's gradient to 0 before the next backward pass. */
  zeroGrad(): void {
    for (const v of this.parameters()) v.grad = 0;
  }

  /** Label every parameter with its dotted name, so graph pictures and traces show it. Returns this. */
  labelParameters(prefix = ""): this {
    for (const [name, v] of this.namedParameters()) v.label = prefix + name;
    return this;
  }
}

/**
 * One neuron: a = act(b + w₀x₀ + w₁x₁ + …).
 *
 * @example
 * const n = new Neuron(2, { random: new Random(0), activation: "tanh" });
 * n.forward([1.0, -2.0]); // a Value
 */
export class Neuron extends ScalarModule {
  /** The weights, one per input. */
  readonly w: Value[];
  /** The bias. */
  readonly b: Value;
  /** The activation applied to w·x + b. */
  readonly activation: ScalarActivation;

  constructor(inputs: number, options: ScalarOptions & { activation?: ScalarActivation } = {}) {
    super();
    if (!Number.isInteger(inputs) || inputs < 1) {
      throw new ChainruleError("Neuron", `the number of inputs must be a positive integer, got ${String(inputs)}`);
    }
    const random = checkRandom("Neuron", options);
    const init = options.init ?? "uniform";
    this.activation = checkActivation("Neuron", options.activation ?? "relu");
    this.w = Array.from({ length: inputs }, (_, k) => new Value(draw(init, random, inputs, "weight"), `w.${k}`));
    this.b = new Value(draw(init, random, inputs, "bias"), "b");
  }

  /** x: one number or Value per input → the neuron's activation. */
  forward(x: ReadonlyArray<Value | number>): Value {
    if (!Array.isArray(x) || x.length !== this.w.length) {
      throw new ChainruleError(
        "Neuron",
        `expected ${this.w.length} inputs, got ${Array.isArray(x) ? x.length : typeof x}`,
      );
    }
    let z = this.b;
    this.w.forEach((w, k) => {
      z = z.add(w.mul(x[k] as Value | number)); // z ← z + wₖ·xₖ
    });
    switch (this.activation) {
      case "relu":
        return z.relu();
      case "tanh":
        return z.tanh();
      case "sigmoid":
        return z.sigmoid();
      default:
        return z;
    }
  }

  namedParameters(): Array<[string, Value]> {
    return [...this.w.map((w, k): [string, Value] => [`w.${k}`, w]), ["b", this.b]];
  }
}

/** A layer of neurons reading the same inputs: `outputs` neurons of `inputs` weights each. */
export class Layer extends ScalarModule {
  /** The layer's neurons, one per output. */
  readonly neurons: Neuron[];

  constructor(inputs: number, outputs: number, options: ScalarOptions & { activation?: ScalarActivation } = {}) {
    super();
    if (!Number.isInteger(outputs) || outputs < 1) {
      throw new ChainruleError("Layer", `the number of outputs must be a positive integer, got ${String(outputs)}`);
    }
    this.neurons = Array.from({ length: outputs }, () => new Neuron(inputs, options));
  }

  /** x: [inputs] → one Value per neuron. */
  forward(x: ReadonlyArray<Value | number>): Value[] {
    return this.neurons.map((n) => n.forward(x));
  }

  namedParameters(): Array<[string, Value]> {
    return this.neurons.flatMap((n, j) =>
      n.namedParameters().map(([name, v]): [string, Value] => [`neurons.${j}.${name}`, v]),
    );
  }
}

/**
 * micrograd's MLP over Values, with the tensor MLP's signature: layer sizes [in, hidden…, out],
 * `activation` after hidden layers (default "relu"), `outputActivation` after the last (default
 * "identity"). micrograd's `MLP(2, [16, 16, 1])` is `new ScalarMLP([2, 16, 16, 1], { random })`,
 * and with `new Random(11)` it is the W1 benchmark model, weight for weight.
 *
 * @example
 * const model = new ScalarMLP([2, 4, 1], { random: new Random(0), activation: "tanh" });
 * const [out] = model.forward([0.5, -1]);
 * out.backward();
 * model.namedParameters()[0]; // ["layers.0.neurons.0.w.0", Value(...)]
 */
export class ScalarMLP extends ScalarModule {
  /** The layers, input first. */
  readonly layers: Layer[];
  /** The layer sizes [in, hidden…, out]. */
  readonly sizes: readonly number[];

  constructor(
    sizes: readonly number[],
    options: ScalarOptions & { activation?: ScalarActivation; outputActivation?: ScalarActivation } = {},
  ) {
    super();
    if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new ChainruleError(
        "ScalarMLP",
        `sizes must list at least two positive integers [in, …, out], got ${JSON.stringify(sizes)}`,
      );
    }
    const random = checkRandom("ScalarMLP", options);
    const hidden = checkActivation("ScalarMLP", options.activation ?? "relu");
    const output = checkActivation("ScalarMLP", options.outputActivation ?? "identity");
    this.sizes = [...sizes];
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const activation = i + 2 === sizes.length ? output : hidden;
      this.layers.push(new Layer(sizes[i] as number, sizes[i + 1] as number, { ...options, random, activation }));
    }
    this.labelParameters();
  }

  /** x: [in] numbers or Values → [out] Values. */
  forward(x: ReadonlyArray<Value | number>): Value[] {
    let a: ReadonlyArray<Value | number> = x;
    for (const layer of this.layers) a = layer.forward(a);
    return a as Value[];
  }

  namedParameters(): Array<[string, Value]> {
    return this.layers.flatMap((l, i) =>
      l.namedParameters().map(([name, v]): [string, Value] => [`layers.${i}.${name}`, v]),
    );
  }
}
