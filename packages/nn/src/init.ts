/**
 * @file Seeded initializers. Each fills an existing tensor in place (PyTorch's `nn.init.*_`
 * convention, hence the trailing underscore) from a `Random` that the caller owns, element by
 * element in row-major order, so the same seed gives the same weights bit for bit on every
 * machine, and a harness in another language can draw the same numbers. Imports the public API
 * of @chainrule/autograd.
 *
 * Scales, with fanIn = shape[1]·(receptive field) and fanOut = shape[0]·(receptive field) for a
 * weight stored [out, in, …] as Linear's is:
 *
 *   xavierUniform_  U(−a, a),  a = gain·√(6 / (fanIn + fanOut))      (Glorot & Bengio, 2010)
 *   xavierNormal_   N(0, σ²),  σ = gain·√(2 / (fanIn + fanOut))
 *   heUniform_      U(−a, a),  a = gain·√(3 / fanIn),  gain √2 (ReLU)  (He et al., 2015; "Kaiming")
 *   heNormal_       N(0, σ²),  σ = gain / √fanIn
 *
 * Both keep the variance of activations (Xavier: also of gradients) about constant from layer
 * to layer, which is what lets deep stacks train at all.
 */

import { ChainruleError, defaultRandom, fromStorage, noGrad, type Random, Tensor } from "@chainrule/autograd";

/** Fill `t` from `draw()`, in row-major order, in place (inside noGrad, so parameters may be filled). */
function fill(op: string, t: Tensor, random: Random | null, draw: () => number): Tensor {
  if (!(t instanceof Tensor)) throw new ChainruleError(op, "the first argument must be a Tensor");
  if (random !== null && typeof (random as Partial<Random> | undefined)?.next !== "function") {
    throw new ChainruleError(
      op,
      "needs a seeded generator as its second argument: pass new Random(seed), or leave it out for the default one",
    );
  }
  const values = new Float64Array(t.size);
  for (let i = 0; i < values.length; i++) values[i] = draw();
  // NOTE: values are drawn in float64; copy_ rounds them to the nearest float32 for a float32
  // tensor (Math.fround), the rule the benchmark workloads use to cast initial weights.
  noGrad(() => t.copy_(fromStorage(values, t.shape)));
  return t;
}

function checkNumber(op: string, name: string, v: number, positive = false): void {
  if (typeof v !== "number" || !Number.isFinite(v) || (positive ? v <= 0 : false)) {
    throw new ChainruleError(op, `${name} must be a finite${positive ? " positive" : ""} number, got ${String(v)}`);
  }
}

/** fanIn and fanOut of a weight of shape [out, in, …kernel]: in·k and out·k with k the kernel size. */
export function fans(shape: readonly number[]): {
  /** Inputs feeding each output unit (the last axis of a weight [out, in]). */
  fanIn: number;
  /** Outputs each input unit feeds (the first axis). */
  fanOut: number;
} {
  if (shape.length < 2) {
    throw new ChainruleError(
      "fans",
      `fan-in and fan-out need a weight of at least 2 dimensions [out, in, …], got shape [${shape.join(", ")}]`,
    );
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

/** The gain that keeps the activation variance steady: 1 (linear, sigmoid), 5/3 (tanh), √2 (relu), √(2/(1+α²)) (leaky relu). */
export function calculateGain(
  nonlinearity: "linear" | "sigmoid" | "tanh" | "relu" | "leakyRelu",
  slope = 0.01,
): number {
  switch (nonlinearity) {
    case "linear":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu":
      return Math.sqrt(2 / (1 + slope * slope));
    default:
      throw new ChainruleError(
        "calculateGain",
        `nonlinearity must be "linear", "sigmoid", "tanh", "relu" or "leakyRelu", got ${JSON.stringify(nonlinearity)}`,
      );
  }
}

/** Every element `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  checkNumber("constant_", "value", value);
  return fill("constant_", t, null, () => value);
}

/** Every element 0. */
export function zeros_(t: Tensor): Tensor {
  return fill("zeros_", t, null, () => 0);
}

/** Uniform in [low, high): low + (high − low)·u for each draw u (Random.uniform). */
export function uniform_(t: Tensor, random: Random = defaultRandom(), low = 0, high = 1): Tensor {
  checkNumber("uniform_", "low", low);
  checkNumber("uniform_", "high", high);
  if (!(low <= high)) throw new ChainruleError("uniform_", `low ${low} must not exceed high ${high}`);
  return fill("uniform_", t, random, () => random.uniform(low, high));
}

/**
 * Uniform in [−bound, bound): (2u − 1)·bound for each draw u. Written this way, not as
 * −bound + 2·bound·u, because 2u − 1 is exact and the product is rounded once: the formula the
 * benchmark workloads (W1, W3) reproduce in other languages.
 */
export function symmetricUniform_(t: Tensor, random: Random, bound: number): Tensor {
  checkNumber("symmetricUniform_", "bound", bound);
  return fill("symmetricUniform_", t, random, () => (2 * random.next() - 1) * bound);
}

/** Normal N(mean, std²) by Box–Muller (Random.normal: two draws per element). */
export function normal_(t: Tensor, random: Random = defaultRandom(), mean = 0, std = 1): Tensor {
  checkNumber("normal_", "mean", mean);
  checkNumber("normal_", "std", std);
  return fill("normal_", t, random, () => random.normal(mean, std));
}

/**
 * Approximately N(0, 1): the sum of 12 uniform draws minus 6 (Random.gaussian12), exact in
 * float64 in any language, hence bit-reproducible elsewhere. The initialisation of Nielsen's
 * network in the W2 workload.
 */
export function gaussian12_(t: Tensor, random: Random = defaultRandom()): Tensor {
  return fill("gaussian12_", t, random, () => random.gaussian12());
}

/** Xavier/Glorot uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, random: Random = defaultRandom(), gain = 1): Tensor {
  checkNumber("xavierUniform_", "gain", gain);
  const { fanIn, fanOut } = fansOf("xavierUniform_", t);
  return symmetricUniform_(t, random, gain * Math.sqrt(6 / (fanIn + fanOut)));
}

/** Xavier/Glorot normal: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, random: Random = defaultRandom(), gain = 1): Tensor {
  checkNumber("xavierNormal_", "gain", gain);
  const { fanIn, fanOut } = fansOf("xavierNormal_", t);
  return normal_(t, random, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** He/Kaiming uniform: U(−a, a) with a = gain·√(3 / fanIn); the default gain √2 suits ReLU. */
export function heUniform_(t: Tensor, random: Random = defaultRandom(), gain = Math.SQRT2): Tensor {
  checkNumber("heUniform_", "gain", gain);
  const { fanIn } = fansOf("heUniform_", t);
  return symmetricUniform_(t, random, gain * Math.sqrt(3 / fanIn));
}

/** He/Kaiming normal: N(0, σ²) with σ = gain/√fanIn; the default gain √2 suits ReLU. */
export function heNormal_(t: Tensor, random: Random = defaultRandom(), gain = Math.SQRT2): Tensor {
  checkNumber("heNormal_", "gain", gain);
  const { fanIn } = fansOf("heNormal_", t);
  return normal_(t, random, 0, gain / Math.sqrt(fanIn));
}

function fansOf(op: string, t: Tensor): { fanIn: number; fanOut: number } {
  if (!(t instanceof Tensor)) throw new ChainruleError(op, "the first argument must be a Tensor");
  if (t.ndim < 2) {
    throw new ChainruleError(
      op,
      `needs a weight of at least 2 dimensions [out, in, …] to know its fans, got shape [${t.shape.join(", ")}]`,
    );
  }
  const f = fans(t.shape);
  if (f.fanIn === 0 || f.fanOut === 0) {
    throw new ChainruleError(op, `cannot scale a weight of shape [${t.shape.join(", ")}]: it has a fan of 0`);
  }
  return f;
}
