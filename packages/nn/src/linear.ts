/**
 * @file The fully connected layer y = x·Wᵀ + b. W is stored [out, in] as in PyTorch, so a state
 * dict's `weight`/`bias` are torch.nn.Linear's, and row j of W holds the weights into neuron j —
 * the book's w^l_{jk} (k indexes the previous layer). The product is one `mm(x, W, false, true)`:
 * the transpose is a flag for the kernel, not a copy. Imports module.ts, init.ts and the public
 * API of @chainrule/autograd.
 *
 *   y = x·Wᵀ + b      ∂L/∂x = G·W,   ∂L/∂W = Gᵀ·x,   ∂L/∂b = Σ_rows G
 *
 * (the rules of mm and of the broadcast add; the engine sums b's gradient over the batch).
 */

import {
  ChainruleError,
  defaultRandom,
  mm,
  type Random,
  type Tensor,
  Tensor as TensorClass,
  type TensorDtype,
  zeros,
} from "@chainrule/autograd";
import {
  gaussian12_,
  heNormal_,
  heUniform_,
  normal_,
  symmetricUniform_,
  xavierNormal_,
  xavierUniform_,
  zeros_,
} from "./init.js";
import { Module, type ModuleConfig, parameter } from "./module.js";

/**
 * How a Linear layer's weight W [out, in] and bias b [out] are drawn, in that order, each
 * row-major, from the layer's `Random`:
 *
 * | name              | W                                   | b                  |
 * | ----------------- | ----------------------------------- | ------------------ |
 * | "pytorch" default | U(−1/√in, 1/√in)                    | U(−1/√in, 1/√in)   |
 * | "xavierUniform"   | U(−a, a), a = √(6/(in + out))       | 0                  |
 * | "xavierNormal"    | N(0, 2/(in + out))                  | 0                  |
 * | "heUniform"       | U(−a, a), a = √(6/in)               | 0                  |
 * | "heNormal"        | N(0, 2/in)                          | 0                  |
 * | "normal"          | N(0, 1) (Box–Muller)                | N(0, 1)            |
 * | "gaussian12"      | gaussian12 ≈ N(0, 1)                | gaussian12         |
 *
 * or a function that fills both in place. "normal" and "gaussian12" are Nielsen's N(0, 1) for
 * every weight and bias; the uniform bounds are drawn as (2u − 1)·bound.
 */
export type LinearInit =
  | "pytorch"
  | "xavierUniform"
  | "xavierNormal"
  | "heUniform"
  | "heNormal"
  | "normal"
  | "gaussian12"
  | ((weight: Tensor, bias: Tensor | null, random: Random) => void);

/** The names of the built-in initialisations a `Linear` accepts (see `LinearInit`). */
export const LINEAR_INITS = [
  "pytorch",
  "xavierUniform",
  "xavierNormal",
  "heUniform",
  "heNormal",
  "normal",
  "gaussian12",
] as const;

/** Options of `Linear`. */
export interface LinearOptions {
  /**
   * The seeded generator the initial weights are drawn from; without it, the default generator
   * (reseeded by `manualSeed`).
   */
  random?: Random;
  /** Whether to add a bias b (default true). */
  bias?: boolean;
  /** How W and b are drawn (default "pytorch"); see `LinearInit`. */
  init?: LinearInit;
  /** float64 (default) or float32. */
  dtype?: TensorDtype;
}

/** Fill a fresh weight [out, in] and bias [out] by the named scheme, weight first. */
export function initLinear(weight: Tensor, bias: Tensor | null, random: Random, init: LinearInit = "pytorch"): void {
  if (typeof init === "function") {
    init(weight, bias, random);
    return;
  }
  const fanIn = weight.shape[1] as number;
  switch (init) {
    case "pytorch": {
      // PyTorch's reset_parameters: kaiming_uniform_(a=√5), whose bound gain·√(3/in) with
      // gain = √(2/(1 + 5)) is exactly 1/√in, and the same bound for the bias.
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      symmetricUniform_(weight, random, bound);
      if (bias !== null) symmetricUniform_(bias, random, bound);
      return;
    }
    case "xavierUniform":
    case "xavierNormal":
    case "heUniform":
    case "heNormal": {
      const fill = {
        xavierUniform: xavierUniform_,
        xavierNormal: xavierNormal_,
        heUniform: heUniform_,
        heNormal: heNormal_,
      }[init];
      fill(weight, random);
      if (bias !== null) zeros_(bias);
      return;
    }
    case "normal":
      normal_(weight, random);
      if (bias !== null) normal_(bias, random);
      return;
    case "gaussian12":
      gaussian12_(weight, random);
      if (bias !== null) gaussian12_(bias, random);
      return;
    default:
      throw new ChainruleError(
        "Linear",
        `unknown init ${JSON.stringify(init)}; expected a function or one of ${LINEAR_INITS.map((s) => `"${s}"`).join(", ")}`,
      );
  }
}

/**
 * y = x·Wᵀ + b;  x: [..., in] → y: [..., out] (any leading shape, including none: [in] → [out]).
 *
 * @example
 * const layer = new Linear(784, 30, { random: new Random(0) });
 * layer.forward(x); // x: [batch, 784] → [batch, 30]
 */
export class Linear extends Module {
  /** W, shape [out, in]: row j holds the weights into output j. */
  readonly weight: Tensor;
  /** b, shape [out], or null without a bias. */
  readonly bias: Tensor | null;
  /** The size of each input row. */
  readonly inFeatures: number;
  /** The size of each output row. */
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    for (const [name, v] of [
      ["inFeatures", inFeatures],
      ["outFeatures", outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ChainruleError("Linear", `${name} must be a positive integer, got ${String(v)}`);
      }
    }
    if (options === null || typeof options !== "object") {
      throw new ChainruleError("Linear", `options must be an object, got ${String(options)}`);
    }
    const random = options.random ?? defaultRandom();
    if (typeof (random as Partial<Random>).next !== "function") {
      throw new ChainruleError(
        "Linear",
        "options.random must be a seeded generator (new Random(seed)), or left out for the default one",
      );
    }
    const dtype = options.dtype ?? "float64";
    if (dtype !== "float64" && dtype !== "float32") {
      throw new ChainruleError("Linear", `dtype must be "float64" or "float32", got ${JSON.stringify(dtype)}`);
    }
    const useBias = options.bias ?? true;
    const weight = zeros([outFeatures, inFeatures], { dtype });
    const bias = useBias ? zeros([outFeatures], { dtype }) : null;
    initLinear(weight, bias, random, options.init ?? "pytorch");
    this.weight = parameter(weight, "weight");
    this.bias = bias === null ? null : parameter(bias, "bias");
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof TensorClass)) throw new ChainruleError("Linear", "the input must be a Tensor");
    const n = this.inFeatures;
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== n) {
      throw new ChainruleError(
        "Linear",
        `input of shape [${x.shape.join(", ")}] must end in ${n} (in features), as [batch, ${n}] or [${n}]`,
      );
    }
    // Fold the leading axes into one batch axis: one matrix product, then unfold.
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    const x2 = x.ndim === 2 ? x : x.reshape([rows, n]);
    let y = mm(x2, this.weight, false, true); // [rows, in]·[out, in]ᵀ = [rows, out]
    if (this.bias !== null) y = y.add(this.bias); // b broadcast over the rows
    return x.ndim === 2 ? y : y.reshape([...lead, this.outFeatures]);
  }

  override config(): ModuleConfig {
    return {
      type: "Linear",
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      bias: this.bias !== null,
      dtype: this.weight.dtype,
    };
  }
}
