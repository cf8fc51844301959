/**
 * @file Normalizations: layer norm, batch norm and group norm. Each standardizes x over some axes,
 *
 *   x̂ = (x − μ) / √(σ² + ε)      μ = mean x,  σ² = mean (x − μ)²  (the biased variance)
 *   y = x̂·γ + β                  (γ = weight, β = bias, per feature or channel)
 *
 * and differs only in the axes it averages over. All three are composed from differentiable ops
 * (mean, sub, mul, sqrt, div), so the gradient flows through μ and σ² as the calculus says,
 *
 *   ∂L/∂x = (1/√(σ² + ε))·(ĝ − mean ĝ − x̂·mean(ĝ·x̂)),  ĝ = g·γ, the means over the same axes,
 *
 * and the forward-mode rules, batching rules (vmap) and second derivatives come from those ops.
 * Batch norm also keeps running estimates of μ and σ² for evaluation, updated in place as
 * PyTorch does. Imports engine.ts, errors.ts, shape.ts, tensor.ts.
 */

import { noGrad } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { formatShape, sameShape } from "../shape.js";
import { Tensor } from "../tensor.js";

/** x̂ = (x − μ)/√(σ² + ε), with μ and the biased σ² over `axes` (kept as size-1 axes). */
function standardize(x: Tensor, axes: number[], eps: number): { xhat: Tensor; mean: Tensor; variance: Tensor } {
  const mean = x.mean(axes, true);
  const centered = x.sub(mean);
  const variance = centered.mul(centered).mean(axes, true);
  return { xhat: centered.div(variance.add(eps).sqrt()), mean, variance };
}

function checkInput(op: string, x: unknown, minRank: number, expected: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `x must be a Tensor, got ${kind(x)}`);
  if (x.ndim < minRank) {
    throw new ChainruleError(
      op,
      `x of shape ${formatShape(x.shape)} has rank ${x.ndim}; expected at least ${minRank} dimensions ${expected}`,
    );
  }
}

/** An optional per-feature tensor (weight, bias, running statistics): null/undefined, or a Tensor of `shape`. */
function checkOptional(op: string, name: string, t: unknown, shape: readonly number[], of: string): Tensor | null {
  if (t === null || t === undefined) return null;
  if (!(t instanceof Tensor)) throw new ChainruleError(op, `${name} must be a Tensor or null, got ${kind(t)}`);
  if (!sameShape(t.shape, shape)) {
    throw new ChainruleError(op, `${name} has shape ${formatShape(t.shape)}; expected ${formatShape(shape)} (${of})`);
  }
  return t;
}

function checkEps(op: string, eps: unknown): number {
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) {
    throw new ChainruleError(op, `eps must be a finite number ≥ 0, got ${String(eps)}`);
  }
  return eps;
}

function optionsOf<T extends object>(op: string, options: T | undefined): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ChainruleError(op, `options must be an object, got ${kind(options)}`);
  }
  return options;
}

function kind(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return x.constructor?.name ?? "object";
  return `${typeof x} ${String(x)}`;
}

/** y = x̂·γ + β, with γ and β of shape [C] lined up with axis 1 of x: [C, 1, …, 1]. */
function channelAffine(y: Tensor, weight: Tensor | null, bias: Tensor | null, ndim: number): Tensor {
  const along = (t: Tensor) => t.reshape([t.shape[0] as number, ...new Array<number>(ndim - 2).fill(1)]);
  let out = y;
  if (weight !== null) out = out.mul(along(weight));
  if (bias !== null) out = out.add(along(bias));
  return out;
}

export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Layer normalization (PyTorch's F.layer_norm): each example standardized over its trailing
 * `normalizedShape` dimensions, then scaled by `weight` and shifted by `bias` (both of shape
 * `normalizedShape`, optional).
 *
 *   y = (x − μ)/√(σ² + ε)·γ + β      μ, σ² over the last normalizedShape.length axes
 *
 * @example
 * layerNorm(x, [4]);                    // x: [batch, 4], each row to mean 0, variance ≈ 1
 * layerNorm(x, [3, 4], gamma, beta);    // x: [..., 3, 4]
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  options?: LayerNormOptions,
): Tensor {
  const op = "layerNorm";
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ChainruleError(
      op,
      `normalizedShape must be a positive integer or a non-empty array of them, got ${JSON.stringify(normalizedShape)}`,
    );
  }
  checkInput(op, x, 1, "");
  const k = shape.length;
  const trailing = x.shape.slice(Math.max(0, x.ndim - k));
  if (x.ndim < k || !sameShape(trailing, shape)) {
    throw new ChainruleError(
      op,
      `normalizedShape ${formatShape(shape)} does not match the trailing dimensions of x of shape ${formatShape(x.shape)}; expected x's shape to end in ${formatShape(shape)}`,
    );
  }
  const w = checkOptional(op, "weight", weight, shape, "normalizedShape");
  const b = checkOptional(op, "bias", bias, shape, "normalizedShape");
  const { eps = 1e-5 } = optionsOf(op, options);
  checkEps(op, eps);
  const axes = shape.map((_, i) => x.ndim - k + i);
  let y = standardize(x, axes, eps).xhat;
  // γ and β have the trailing shape, so they broadcast over the leading axes as they are.
  if (w !== null) y = y.mul(w);
  if (b !== null) y = y.add(b);
  return y;
}

export interface BatchNormOptions {
  /**
   * Normalize by this batch's statistics and update the running ones (true), or by the running
   * statistics (false, the default, as PyTorch's F.batch_norm).
   */
  training?: boolean;
  /** Weight of the new batch in the running statistics (default 0.1): r ← (1 − m)·r + m·batch. */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalization (PyTorch's F.batch_norm) of x [N, C, …]: each channel c standardized over
 * the batch and every axis after the channel axis, then scaled by weight[c] and shifted by
 * bias[c] (optional, of shape [C]).
 *
 * - training: μ and the biased σ² of this batch normalize x, and the gradient flows through them.
 *   Running statistics, when given, are updated in place (no gradient):
 *   runningMean ← (1 − m)·runningMean + m·μ,  runningVar ← (1 − m)·runningVar + m·σ²·n/(n − 1)
 *   (the unbiased variance over the n values of a channel).
 * - evaluation (`training: false`): the running statistics normalize x; they are required.
 *
 * @example
 * const runningMean = zeros([3]), runningVar = ones([3]);
 * batchNorm(x, runningMean, runningVar, gamma, beta, { training: true }); // x: [N, 3, H, W]
 * batchNorm(x, runningMean, runningVar, gamma, beta);                     // evaluation
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options?: BatchNormOptions,
): Tensor {
  const op = "batchNorm";
  checkInput(op, x, 2, "[N, C, …] (a batch of N examples with C channels)");
  const channels = x.shape[1] as number;
  const of = `one per channel of x of shape ${formatShape(x.shape)}`;
  const rm = checkOptional(op, "runningMean", runningMean, [channels], of);
  const rv = checkOptional(op, "runningVar", runningVar, [channels], of);
  const w = checkOptional(op, "weight", weight, [channels], of);
  const b = checkOptional(op, "bias", bias, [channels], of);
  const { training = false, momentum = 0.1, eps = 1e-5 } = optionsOf(op, options);
  checkEps(op, eps);
  if (typeof momentum !== "number" || !Number.isFinite(momentum)) {
    throw new ChainruleError(op, `momentum must be a finite number, got ${String(momentum)}`);
  }
  if ((rm === null) !== (rv === null)) {
    throw new ChainruleError(op, "runningMean and runningVar must be given together (or both null)");
  }
  const axes = x.shape.map((_, d) => d).filter((d) => d !== 1);
  if (!training) {
    if (rm === null || rv === null) {
      throw new ChainruleError(
        op,
        "evaluation mode (training: false) normalizes by the running statistics, so runningMean and runningVar are required",
      );
    }
    const along = (t: Tensor) => t.reshape([channels, ...new Array<number>(x.ndim - 2).fill(1)]);
    const xhat = x.sub(along(rm)).div(along(rv).add(eps).sqrt());
    return channelAffine(xhat, w, b, x.ndim);
  }
  const n = axes.reduce((acc, a) => acc * (x.shape[a] as number), 1);
  if (n <= 1) {
    throw new ChainruleError(
      op,
      `expected more than 1 value per channel when training, got x of shape ${formatShape(x.shape)} (${n} per channel)`,
    );
  }
  for (const [name, t] of [
    ["runningMean", rm],
    ["runningVar", rv],
  ] as const) {
    if (t === null) continue;
    if (!t.isLeaf || t.requiresGrad) {
      throw new ChainruleError(
        op,
        `${name} is updated in place, so it must be a plain tensor (a leaf without requiresGrad), got one that ${t.requiresGrad ? "requires grad" : `was made by '${t.op}'`}`,
      );
    }
    if (x.batch !== null) {
      throw new ChainruleError(
        op,
        "cannot update running statistics inside vmap (each example would have its own); pass null running statistics, or use evaluation mode",
      );
    }
  }
  const { xhat, mean, variance } = standardize(x, axes, eps);
  if (rm !== null && rv !== null) {
    const mu = mean.data;
    const s2 = variance.data;
    const unbiased = n / (n - 1);
    noGrad(() => {
      rm.update_(op, (d) => {
        for (let c = 0; c < channels; c++) d[c] = momentum * (mu[c] as number) + (1 - momentum) * (d[c] as number);
      });
      rv.update_(op, (d) => {
        for (let c = 0; c < channels; c++) {
          d[c] = momentum * (s2[c] as number) * unbiased + (1 - momentum) * (d[c] as number);
        }
      });
    });
  }
  return channelAffine(xhat, w, b, x.ndim);
}

export interface GroupNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Group normalization (PyTorch's F.group_norm) of x [N, C, …]: the C channels are split into
 * `groups` groups of C/groups consecutive channels, each example standardized over each group
 * (its channels and every axis after them), then scaled by weight[c] and shifted by bias[c]
 * (optional, of shape [C]). groups = 1 is layer norm over [C, …]; groups = C is instance norm.
 *
 * @example
 * groupNorm(x, 2, gamma, beta); // x: [N, 6, H, W]: channels 0–2 and 3–5 standardized apart
 */
export function groupNorm(
  x: Tensor,
  groups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options?: GroupNormOptions,
): Tensor {
  const op = "groupNorm";
  checkInput(op, x, 2, "[N, C, …] (a batch of N examples with C channels)");
  if (!Number.isInteger(groups) || groups < 1) {
    throw new ChainruleError(op, `groups must be a positive integer, got ${String(groups)}`);
  }
  const channels = x.shape[1] as number;
  if (channels % groups !== 0) {
    throw new ChainruleError(
      op,
      `x of shape ${formatShape(x.shape)} has ${channels} channels, which cannot be split into ${groups} groups; expected a number of channels divisible by groups`,
    );
  }
  const of = `one per channel of x of shape ${formatShape(x.shape)}`;
  const w = checkOptional(op, "weight", weight, [channels], of);
  const b = checkOptional(op, "bias", bias, [channels], of);
  const { eps = 1e-5 } = optionsOf(op, options);
  checkEps(op, eps);
  const batch = x.shape[0] as number;
  const perGroup = (channels / groups) * x.shape.slice(2).reduce((a, d) => a * d, 1);
  const grouped = x.reshape([batch, groups, perGroup]);
  const xhat = standardize(grouped, [2], eps).xhat.reshape(x.shape as number[]);
  return channelAffine(xhat, w, b, x.ndim);
}
