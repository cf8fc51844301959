/**
 * @file Normalizations: layer norm, batch norm and group norm. Each standardizes x over some axes,
 *
 *   x̂ = (x − μ) / √(σ² + ε)      μ = mean x,  σ² = mean (x − μ)²  (the biased variance)
 *   y = x̂·γ + β                  (γ = weight, β = bias, per feature or channel)
 *
 * and differs only in the axes it averages over. Both steps are one primitive, `standardize`,
 * whose gradient flows through μ and σ² as the calculus says,
 *
 *   ∂L/∂x = (1/√(σ² + ε))·(ĝ − mean ĝ − x̂·mean(ĝ·x̂)),  ĝ = g·γ, the means over the same axes.
 *
 * It is a primitive only for speed (a few loops over the elements instead of a dozen
 * broadcasting ops, each a pass of its own): its composed form (mean, sub, mul, pow, then the
 * affine step) is written beside it, is what its rules use whenever they must be differentiable
 * again or batched, and is what the tests compare it with. Group norm's groups are not axes of x,
 * so its affine step stays ops.
 * Batch norm also keeps running estimates of μ and σ² for evaluation, updated in place as
 * PyTorch does. Imports engine.ts, errors.ts, ndarray.ts, shape.ts, tensor.ts, transforms/vmap.ts.
 */

import { composing, fromOp, noGrad } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { allocate } from "../ndarray.js";
import { broadcastShapes, formatShape, normalizeAxes, sameShape, stridesOf } from "../shape.js";
import { Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";

/**
 * The composed form: x̂ = (x − μ)/√(σ² + ε), μ and the biased σ² over `axes` (kept as size-1
 * axes), and 1/√(σ² + ε), all in differentiable ops.
 */
export function standardizeComposed(x: Tensor, axes: readonly number[], eps: number): { xhat: Tensor; rstd: Tensor } {
  const mean = x.mean(axes, true);
  const centered = x.sub(mean);
  const variance = centered.mul(centered).mean(axes, true);
  const rstd = variance.add(eps).pow(-0.5);
  return { xhat: centered.mul(rstd), rstd };
}

/**
 * For each element of a tensor of `shape`, the flat index of the element it reads of a tensor of
 * `of` broadcast to `shape` (right-aligned; axes of size 1 in `of`, or missing, are broadcast).
 * With `of` = `shape` with the reduced axes set to 1, that is the element's group.
 */
function broadcastIndex(shape: readonly number[], of: readonly number[]): Int32Array {
  const lead = shape.length - of.length;
  const ofStrides = stridesOf(of);
  const step = shape.map((_, d) => (d < lead || of[d - lead] === 1 ? 0 : (ofStrides[d - lead] as number)));
  const size = shape.reduce((a, d) => a * d, 1);
  const index = new Int32Array(size);
  const at = new Array<number>(shape.length).fill(0);
  let k = 0;
  for (let i = 0; i < size; i++) {
    index[i] = k;
    // the next element in row-major order: an odometer over the axes, moving k along
    for (let d = shape.length - 1; d >= 0; d--) {
      at[d] = (at[d] as number) + 1;
      k += step[d] as number;
      if ((at[d] as number) < (shape[d] as number)) break;
      k -= (step[d] as number) * (shape[d] as number);
      at[d] = 0;
    }
  }
  return index;
}

/** Statistics of a standardization, filled in by `standardize` for batch norm's running estimates. */
export interface Moments {
  /** μ per group. */
  mean?: Float64Array;
  /** The biased σ² per group. */
  variance?: Float64Array;
}

/** x̂·γ + β in ops, either of γ and β absent (the affine step of the composed form). */
function affine(xhat: Tensor, weight: Tensor | null, bias: Tensor | null): Tensor {
  let y = xhat;
  if (weight !== null) y = y.mul(weight);
  if (bias !== null) y = y.add(bias);
  return y;
}

/**
 * y = x̂·γ + β,  x̂ = (x − μ)/√(σ² + ε), μ and the biased σ² over `axes`, per group of the other
 * axes; γ (weight) and β (bias) broadcast against x and may be null.
 *   ∂L/∂x = r·(ĝ − mean ĝ − x̂·mean(ĝ·x̂)),  ĝ = g·γ,  r = 1/√(σ² + ε)
 *   ∂L/∂γ = g·x̂,  ∂L/∂β = g   (summed over the broadcast axes by the engine)
 *   ẏ = γ·r·(ẋ − mean ẋ − x̂·mean(ẋ·x̂)) + x̂·γ̇ + β̇
 * The rules run as loops when nothing is recorded, and in the composed form otherwise.
 * `moments`, if not null, receives μ and σ².
 */
export const standardize = batchable(
  "standardize",
  (
    x: Tensor,
    axes: readonly number[],
    eps: number,
    weight: Tensor | null,
    bias: Tensor | null,
    moments: Moments | null,
  ): Tensor => {
    const reduced = normalizeAxes("standardize", axes, x.ndim);
    const groupShape = x.shape.map((d, k) => (reduced.includes(k) ? 1 : d));
    const groups = groupShape.reduce((a, d) => a * d, 1);
    const n = groups === 0 ? 0 : x.size / groups;
    if (n === 0 && x.size > 0) {
      throw new ChainruleError(
        "standardize",
        `cannot standardize over axes of size 0 in shape ${formatShape(x.shape)}`,
      );
    }
    for (const t of [weight, bias]) {
      if (t !== null && !sameShape(broadcastShapes("standardize", t.shape, x.shape), x.shape)) {
        throw new ChainruleError(
          "standardize",
          `weight or bias of shape ${formatShape(t.shape)} does not broadcast to x's shape ${formatShape(x.shape)}`,
        );
      }
    }
    const group = broadcastIndex(x.shape, groupShape);
    const data = x.data;
    const mean = new Float64Array(groups);
    const variance = new Float64Array(groups);
    for (let i = 0; i < data.length; i++) {
      const k = group[i] as number;
      mean[k] = (mean[k] as number) + (data[i] as number);
    }
    for (let k = 0; k < groups; k++) mean[k] = (mean[k] as number) / n;
    for (let i = 0; i < data.length; i++) {
      const k = group[i] as number;
      const d = (data[i] as number) - (mean[k] as number);
      variance[k] = (variance[k] as number) + d * d;
    }
    const rstd = new Float64Array(groups);
    for (let k = 0; k < groups; k++) {
      variance[k] = (variance[k] as number) / n;
      rstd[k] = 1 / Math.sqrt((variance[k] as number) + eps);
    }
    const xhat = new Float64Array(x.size);
    for (let i = 0; i < data.length; i++) {
      const k = group[i] as number;
      xhat[i] = ((data[i] as number) - (mean[k] as number)) * (rstd[k] as number);
    }
    // Where γ or β is one value per group (batch norm's per channel), the group index serves.
    const indexOf = (t: Tensor) => {
      const padded = [...new Array<number>(x.ndim - t.ndim).fill(1), ...t.shape];
      return sameShape(padded, groupShape) ? group : broadcastIndex(x.shape, t.shape);
    };
    const w = weight === null ? null : { data: weight.data, at: indexOf(weight) };
    const sharesIndex = w !== null && bias !== null && sameShape(bias.shape, (weight as Tensor).shape);
    const b =
      bias === null ? null : { data: bias.data, at: sharesIndex ? (w as { at: Int32Array }).at : indexOf(bias) };
    const dtype = [weight, bias].some((t) => t !== null && t.dtype === "float64") ? "float64" : x.dtype;
    const out = allocate(dtype, x.size);
    for (let i = 0; i < out.length; i++) {
      let v = xhat[i] as number;
      if (w !== null) v *= w.data[w.at[i] as number] as number;
      if (b !== null) v += b.data[b.at[i] as number] as number;
      out[i] = v;
    }
    if (moments !== null) {
      moments.mean = mean;
      moments.variance = variance;
    }
    // r·(v − mean v − x̂·mean(v·x̂)) for a cotangent or tangent v of x̂, from x in composed ops
    const composed = (v: Tensor, xh: Tensor, r: Tensor): Tensor =>
      v
        .sub(v.mean(reduced, true))
        .sub(xh.mul(v.mul(xh).mean(reduced, true)))
        .mul(r);
    const parents = [x, ...(weight === null ? [] : [weight]), ...(bias === null ? [] : [bias])];
    return fromOp("standardize", out, x.shape, parents, {
      vjp: (g) => {
        if (composing()) {
          const { xhat: xh, rstd: r } = standardizeComposed(x, reduced, eps);
          const gx = composed(weight === null ? g : g.mul(weight), xh, r);
          return [gx, ...(weight === null ? [] : [g.mul(xh)]), ...(bias === null ? [] : [g])];
        }
        // the same formulas as one pass of sums and one of updates, with x̂ and r kept by the forward pass
        const gd = g.data;
        const sumG = new Float64Array(groups);
        const sumGX = new Float64Array(groups);
        const gw = weight === null ? null : allocate(weight.dtype, weight.size);
        const gb = bias === null ? null : allocate(bias.dtype, bias.size);
        const ghat = new Float64Array(gd.length); // ĝ = g·γ
        for (let i = 0; i < gd.length; i++) {
          const gi = gd[i] as number;
          const xi = xhat[i] as number;
          if (gw !== null && w !== null) {
            const p = w.at[i] as number;
            gw[p] = (gw[p] as number) + gi * xi;
          }
          if (gb !== null && b !== null) {
            const p = b.at[i] as number;
            gb[p] = (gb[p] as number) + gi;
          }
          const gh = w === null ? gi : gi * (w.data[w.at[i] as number] as number);
          ghat[i] = gh;
          const k = group[i] as number;
          sumG[k] = (sumG[k] as number) + gh;
          sumGX[k] = (sumGX[k] as number) + gh * xi;
        }
        const dx = allocate(x.dtype, gd.length);
        for (let i = 0; i < gd.length; i++) {
          const k = group[i] as number;
          dx[i] =
            (rstd[k] as number) *
            ((ghat[i] as number) - (sumG[k] as number) / n - ((xhat[i] as number) * (sumGX[k] as number)) / n);
        }
        const grads: Tensor[] = [new Tensor(dx, x.shape)];
        if (weight !== null && gw !== null) grads.push(new Tensor(gw, weight.shape));
        if (bias !== null && gb !== null) grads.push(new Tensor(gb, bias.shape));
        return grads;
      },
      jvp: (tangents) => {
        const { xhat: xh, rstd: r } = standardizeComposed(x, reduced, eps);
        const [dx, ...rest] = tangents;
        let dy = dx === null || dx === undefined ? xh.mul(0) : composed(dx, xh, r);
        if (weight !== null) dy = dy.mul(weight);
        const dw = weight === null ? null : (rest.shift() ?? null);
        const db = bias === null ? null : (rest.shift() ?? null);
        if (dw !== null) dy = dy.add(xh.mul(dw));
        if (db !== null) dy = dy.add(db);
        return dy;
      },
      replay: () => standardize(x, reduced, eps, weight, bias, null),
    });
  },
  // batched: x's standardization on the whole batch, the same axes one further right; then the
  // affine step in ops, which batch γ and β by their own rules
  (batch, x, axes, eps, weight, bias, moments): Tensor => {
    const xhat = batch.has(x)
      ? batch.wrap(standardize(batch.inner(x), batch.axes("standardize", axes, x.ndim), eps, null, null, moments))
      : standardize(x, axes, eps, null, null, moments);
    return affine(xhat, weight, bias);
  },
);

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

/** A per-channel tensor [C] lined up with axis 1 of an x of rank `ndim`: [C, 1, …, 1] (null stays null). */
function alongChannels(t: Tensor | null, ndim: number): Tensor | null {
  return t === null ? null : t.reshape([t.shape[0] as number, ...new Array<number>(ndim - 2).fill(1)]);
}

/** Options of `layerNorm`. */
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
  // γ and β have the trailing shape, so they broadcast over the leading axes as they are.
  return standardize(x, axes, eps, w, b, null);
}

/** Options of `batchNorm`: the mode, the running statistics' momentum, ε. */
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
    const mean = alongChannels(rm, x.ndim) as Tensor;
    const variance = alongChannels(rv, x.ndim) as Tensor;
    return affine(x.sub(mean).div(variance.add(eps).sqrt()), alongChannels(w, x.ndim), alongChannels(b, x.ndim));
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
  const moments: Moments = {};
  const y = standardize(x, axes, eps, alongChannels(w, x.ndim), alongChannels(b, x.ndim), moments);
  if (rm !== null && rv !== null) {
    const mu = moments.mean as Float64Array;
    const s2 = moments.variance as Float64Array;
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
  return y;
}

/** Options of `groupNorm`. */
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
  if (perGroup === 0) {
    throw new ChainruleError(op, `x of shape ${formatShape(x.shape)} has no values to standardize in a group`);
  }
  // the groups are not axes of x, so γ and β (per channel) follow as ops on x's shape
  const xhat = standardize(grouped, [2], eps, null, null, null).reshape(x.shape as number[]);
  return affine(xhat, alongChannels(w, x.ndim), alongChannels(b, x.ndim));
}
