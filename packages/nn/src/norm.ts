/**
 * @file Normalization layers, PyTorch's BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm: the
 * functions of @chainrule/autograd (batchNorm, layerNorm, groupNorm) with their affine parameters
 * (weight 1, bias 0 at first, as PyTorch initializes them) and, for batch norm, the running
 * statistics as buffers (`running_mean`, `running_var`, `num_batches_tracked`: PyTorch's names,
 * so state dicts and model files move between the two). `train()` / `eval()` choose between the
 * batch's statistics and the running ones. Imports module.ts and the public API of
 * @chainrule/autograd.
 */

import {
  batchNorm,
  ChainruleError,
  formatShape,
  groupNorm,
  layerNorm,
  noGrad,
  ones,
  Tensor,
  type TensorDtype,
  zeros,
} from "@chainrule/autograd";
import { buffer, describe, Module, type ModuleConfig, parameter, pythonBool, pythonFloat } from "./module.js";

function checkCount(op: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new ChainruleError(op, `${name} must be a positive integer, got ${describe(v)}`);
  }
  return v as number;
}

function checkEps(op: string, eps: unknown): number {
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) {
    throw new ChainruleError(op, `eps must be a finite number ≥ 0, got ${describe(eps)}`);
  }
  return eps;
}

function checkDtype(op: string, dtype: unknown): TensorDtype {
  if (dtype !== "float64" && dtype !== "float32") {
    throw new ChainruleError(op, `dtype must be "float64" or "float32", got ${describe(dtype)}`);
  }
  return dtype;
}

function checkInput(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `the input must be a Tensor, got ${describe(x)}`);
}

/** Options of `BatchNorm1d` and `BatchNorm2d` (PyTorch's, camelCased). */
export interface BatchNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /**
   * Weight of each new batch in the running statistics (default 0.1); null for a cumulative
   * average (each batch weighted 1/num_batches_tracked), as PyTorch's momentum=None.
   */
  momentum?: number | null;
  /** Learn a weight γ and a bias β per channel (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true); without, batch statistics are used always. */
  trackRunningStats?: boolean;
  /** float64 (default) or float32, of the parameters and running statistics. */
  dtype?: TensorDtype;
}

/**
 * The batch norm layers: y = (x − μ)/√(σ² + ε)·γ + β per channel (axis 1). In training mode μ and
 * σ² are the batch's and the running statistics are updated; in evaluation mode the running
 * statistics are used (see autograd's `batchNorm`).
 */
abstract class BatchNormBase extends Module {
  /** γ [C] (1 at first), or null without `affine`. */
  readonly weight: Tensor | null;
  /** β [C] (0 at first), or null without `affine`. */
  readonly bias: Tensor | null;
  /** The running mean [C] (0 at first), saved as `running_mean`; null without `trackRunningStats`. */
  readonly runningMean: Tensor | null;
  /** The running (unbiased) variance [C] (1 at first), saved as `running_var`. */
  readonly runningVar: Tensor | null;
  /** How many training batches have updated the running statistics, saved as `num_batches_tracked`. */
  readonly numBatchesTracked: Tensor | null;
  /** The channels C normalized. */
  readonly numFeatures: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** The weight of a new batch in the running statistics (null: a cumulative average). */
  readonly momentum: number | null;
  /** Whether a learned per-channel weight and bias follow the normalization. */
  readonly affine: boolean;
  /** Whether running statistics are kept (and used in eval mode). */
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const op = new.target.name;
    if (typeof options !== "object" || options === null) {
      throw new ChainruleError(op, `options must be an object, got ${describe(options)}`);
    }
    this.numFeatures = checkCount(op, "numFeatures", numFeatures);
    this.eps = checkEps(op, options.eps ?? 1e-5);
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null && (typeof momentum !== "number" || !Number.isFinite(momentum))) {
      throw new ChainruleError(op, `momentum must be a finite number or null, got ${describe(momentum)}`);
    }
    this.momentum = momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const dtype = checkDtype(op, options.dtype ?? "float64");
    this.weight = this.affine ? parameter(ones([numFeatures], { dtype }), "weight") : null;
    this.bias = this.affine ? parameter(zeros([numFeatures], { dtype }), "bias") : null;
    const track = this.trackRunningStats;
    this.runningMean = track ? buffer(zeros([numFeatures], { dtype }), "running_mean") : null;
    this.runningVar = track ? buffer(ones([numFeatures], { dtype }), "running_var") : null;
    // NOTE: PyTorch keeps this count as int64; here it is a float64 scalar, exact up to 2⁵³.
    this.numBatchesTracked = track ? buffer(zeros([]), "num_batches_tracked") : null;
  }

  /** The ranks this layer accepts, and how to name them in errors. */
  protected abstract readonly ranks: readonly number[];
  /** The input shapes accepted, for error messages. */
  protected abstract readonly layout: string;

  forward(x: Tensor): Tensor {
    const op = this.constructor.name;
    checkInput(op, x);
    if (!this.ranks.includes(x.ndim)) {
      throw new ChainruleError(
        op,
        `expected a ${this.ranks.map((r) => `${r}-d`).join(" or ")} input ${this.layout}, got x of shape ${formatShape(x.shape)}`,
      );
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new ChainruleError(
        op,
        `x of shape ${formatShape(x.shape)} has ${x.shape[1]} channels (axis 1); expected ${this.numFeatures} (numFeatures)`,
      );
    }
    const useBatch = this.training || !this.trackRunningStats;
    const updating = this.training && this.trackRunningStats;
    const count = this.numBatchesTracked;
    // PyTorch counts the batch first, so a cumulative average (momentum null) weights it 1/count.
    const momentum = this.momentum ?? (updating && count !== null ? 1 / (count.item() + 1) : 0);
    const y = batchNorm(
      x,
      useBatch && !updating ? null : this.runningMean,
      useBatch && !updating ? null : this.runningVar,
      this.weight,
      this.bias,
      { training: useBatch, momentum, eps: this.eps },
    );
    // counted only once batchNorm has succeeded, so a refused input changes nothing
    if (updating && count !== null) noGrad(() => count.addInPlace(1));
    return y;
  }

  override repr(): string {
    const momentum = this.momentum === null ? "None" : pythonFloat(this.momentum);
    return `${this.config().type}(${this.numFeatures}, eps=${pythonFloat(this.eps)}, momentum=${momentum}, affine=${pythonBool(this.affine)}, track_running_stats=${pythonBool(this.trackRunningStats)})`;
  }

  override config(): ModuleConfig {
    return {
      type: this.constructor.name,
      numFeatures: this.numFeatures,
      eps: this.eps,
      momentum: this.momentum,
      affine: this.affine,
      trackRunningStats: this.trackRunningStats,
      dtype: this.runningMean?.dtype ?? this.weight?.dtype ?? "float64",
    };
  }
}

/**
 * Batch normalization over a batch of vectors [N, C] or sequences [N, C, L] (PyTorch's
 * nn.BatchNorm1d), per channel C.
 *
 * @example
 * const bn = new BatchNorm1d(30);
 * bn.forward(x);           // x: [batch, 30]; training: batch statistics, running ones updated
 * bn.eval().forward(x);    // the running statistics
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
  /** The input shapes accepted, for error messages. */
  protected readonly layout = "[N, C] or [N, C, L]";
}

/**
 * Batch normalization over a batch of images [N, C, H, W] (PyTorch's nn.BatchNorm2d), per
 * channel C, over the batch and both spatial axes.
 *
 * @example
 * const bn = new BatchNorm2d(16);
 * bn.forward(x); // x: [batch, 16, H, W]
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
  /** The input shapes accepted, for error messages. */
  protected readonly layout = "[N, C, H, W]";
}

/** Options of `LayerNorm` (PyTorch's, camelCased). */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn a weight γ (and a bias β) of shape normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether to learn β too (default true). */
  bias?: boolean;
  /** float64 (default) or float32. */
  dtype?: TensorDtype;
}

/**
 * Layer normalization (PyTorch's nn.LayerNorm): each example standardized over its trailing
 * `normalizedShape` axes, then y = x̂·γ + β elementwise (γ = 1, β = 0 at first).
 *
 * @example
 * const ln = new LayerNorm([64]);
 * ln.forward(x); // x: [..., 64]
 */
export class LayerNorm extends Module {
  /** γ of shape normalizedShape, or null without elementwiseAffine. */
  readonly weight: Tensor | null;
  /** β of shape normalizedShape, or null. */
  readonly bias: Tensor | null;
  /** The trailing shape normalized over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Whether a learned weight and bias follow the normalization. */
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const op = "LayerNorm";
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ChainruleError(
        op,
        `normalizedShape must be a positive integer or a non-empty array of them, got ${describe(normalizedShape)}`,
      );
    }
    if (typeof options !== "object" || options === null) {
      throw new ChainruleError(op, `options must be an object, got ${describe(options)}`);
    }
    this.normalizedShape = [...shape];
    this.eps = checkEps(op, options.eps ?? 1e-5);
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const dtype = checkDtype(op, options.dtype ?? "float64");
    this.weight = this.elementwiseAffine ? parameter(ones(shape, { dtype }), "weight") : null;
    this.bias = this.elementwiseAffine && (options.bias ?? true) ? parameter(zeros(shape, { dtype }), "bias") : null;
  }

  forward(x: Tensor): Tensor {
    checkInput("LayerNorm", x);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, { eps: this.eps });
  }

  override repr(): string {
    const tuple =
      this.normalizedShape.length === 1 ? `(${this.normalizedShape[0]},)` : `(${this.normalizedShape.join(", ")})`;
    return `${this.config().type}(${tuple}, eps=${pythonFloat(this.eps)}, elementwise_affine=${pythonBool(this.elementwiseAffine)})`;
  }

  override config(): ModuleConfig {
    return {
      type: "LayerNorm",
      normalizedShape: [...this.normalizedShape],
      eps: this.eps,
      elementwiseAffine: this.elementwiseAffine,
      bias: this.bias !== null,
      dtype: this.weight?.dtype ?? "float64",
    };
  }
}

/** Options of `GroupNorm` (PyTorch's, camelCased). */
export interface GroupNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn a weight γ and a bias β per channel (default true). */
  affine?: boolean;
  /** float64 (default) or float32. */
  dtype?: TensorDtype;
}

/**
 * Group normalization (PyTorch's nn.GroupNorm): the channels of x [N, C, …] in `numGroups`
 * groups, each example standardized per group, then y = x̂·γ + β per channel.
 *
 * @example
 * const gn = new GroupNorm(4, 32);
 * gn.forward(x); // x: [batch, 32, H, W]: 4 groups of 8 channels
 */
export class GroupNorm extends Module {
  /** γ [C] (1 at first), or null without `affine`. */
  readonly weight: Tensor | null;
  /** β [C] (0 at first), or null without `affine`. */
  readonly bias: Tensor | null;
  /** The groups the channels are split into. */
  readonly numGroups: number;
  /** The channels C. */
  readonly numChannels: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Whether a learned per-channel weight and bias follow the normalization. */
  readonly affine: boolean;

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    const op = "GroupNorm";
    this.numGroups = checkCount(op, "numGroups", numGroups);
    this.numChannels = checkCount(op, "numChannels", numChannels);
    if (numChannels % numGroups !== 0) {
      throw new ChainruleError(
        op,
        `numChannels ${numChannels} cannot be split into ${numGroups} groups; expected numChannels divisible by numGroups`,
      );
    }
    if (typeof options !== "object" || options === null) {
      throw new ChainruleError(op, `options must be an object, got ${describe(options)}`);
    }
    this.eps = checkEps(op, options.eps ?? 1e-5);
    this.affine = options.affine ?? true;
    const dtype = checkDtype(op, options.dtype ?? "float64");
    this.weight = this.affine ? parameter(ones([numChannels], { dtype }), "weight") : null;
    this.bias = this.affine ? parameter(zeros([numChannels], { dtype }), "bias") : null;
  }

  forward(x: Tensor): Tensor {
    checkInput("GroupNorm", x);
    if (x.ndim >= 2 && x.shape[1] !== this.numChannels) {
      throw new ChainruleError(
        "GroupNorm",
        `x of shape ${formatShape(x.shape)} has ${x.shape[1]} channels (axis 1); expected ${this.numChannels} (numChannels)`,
      );
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, { eps: this.eps });
  }

  override repr(): string {
    return `${this.config().type}(${this.numGroups}, ${this.numChannels}, eps=${pythonFloat(this.eps)}, affine=${pythonBool(this.affine)})`;
  }

  override config(): ModuleConfig {
    return {
      type: "GroupNorm",
      numGroups: this.numGroups,
      numChannels: this.numChannels,
      eps: this.eps,
      affine: this.affine,
      dtype: this.weight?.dtype ?? "float64",
    };
  }
}
