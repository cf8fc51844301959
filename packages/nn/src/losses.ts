/**
 * @file Loss functions, composed from tensor ops so that autograd derives their gradients. Each
 * checks its shapes and names itself in errors. Imports module.ts (for `describe`) and the public
 * API of @chainrule/autograd.
 *
 * The constants of `mseLoss` (e = ŷ − y, N = number of elements, m = ŷ.shape[0] examples):
 *
 * | call                                    | value            | gradient ∂/∂ŷ | PyTorch                        |
 * | --------------------------------------- | ---------------- | ------------- | ------------------------------ |
 * | mseLoss(ŷ, y)  (reduction "mean")       | Σ e² / N         | 2e / N        | F.mse_loss(ŷ, y)               |
 * | { reduction: "sum" }                    | Σ e²             | 2e            | reduction="sum"                |
 * | { reduction: "batchmean" }              | Σ e² / m         | 2e / m        | reduction="sum", then / m      |
 * | { reduction: "none" }                   | e² (elementwise) | —             | reduction="none"               |
 * | { half: true, … }                       | ½ × the above    | e / N, …      |                                |
 * | quadraticCost(a, y) = { half: true, reduction: "batchmean" } | (1/m) Σₓ ½‖a(x) − y(x)‖² | e / m | |
 *
 * The default is PyTorch's, so numbers agree with torch out of the box; the chapter's quadratic
 * cost, whose ½ cancels the 2 of the derivative (∂C/∂a = a − y), is `quadraticCost`.
 */

import {
  ChainruleError,
  customOp,
  formatShape,
  sameShape,
  stack,
  Tensor,
  tensor,
  zerosLike,
} from "@chainrule/autograd";
import { describe, optionsObject } from "./module.js";

/** How per-element (or per-example) losses are combined. */
export type Reduction = "mean" | "sum" | "none";

/** Options of `mseLoss`. */
export interface MSELossOptions {
  /** "mean" (default: over all N elements), "sum", "batchmean" (over the m = shape[0] examples), "none". */
  reduction?: Reduction | "batchmean";
  /** Multiply by ½, the chapter's quadratic cost (default false, as PyTorch). */
  half?: boolean;
}

function checkTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `${name} must be a Tensor, got ${describe(x)}`);
}

function checkSameShape(op: string, a: Tensor, b: Tensor, names: [string, string]): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ChainruleError(
      op,
      `${names[0]} has shape ${formatShape(a.shape)} but ${names[1]} has shape ${formatShape(b.shape)}; they must match`,
    );
  }
}

function checkReduction<R extends string>(op: string, reduction: R, allowed: readonly R[]): void {
  if (!allowed.includes(reduction)) {
    throw new ChainruleError(
      op,
      `reduction must be ${allowed.map((r) => `"${r}"`).join(", ")}, got ${describe(reduction)}`,
    );
  }
}

/** Combine losses by mean / sum / none. */
function reduce(losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return losses;
  return reduction === "sum" ? losses.sum() : losses.mean();
}

/**
 * Mean squared error between predictions ŷ and targets y of the same shape; see the table at
 * the top of this file for every reduction's constant. Default: Σ(ŷ − y)²/N over all N elements.
 *
 * @example
 * mseLoss(pred, target);                                     // PyTorch's F.mse_loss
 * mseLoss(a, y, { half: true, reduction: "batchmean" });     // the chapter's C, = quadraticCost(a, y)
 */
export function mseLoss(prediction: Tensor, target: Tensor, options: MSELossOptions = {}): Tensor {
  options = optionsObject("mseLoss", options);
  const op = "mseLoss";
  checkTensor(op, "prediction", prediction);
  checkTensor(op, "target", target);
  checkSameShape(op, prediction, target, ["prediction", "target"]);
  const reduction = options.reduction ?? "mean";
  checkReduction(op, reduction, ["mean", "sum", "batchmean", "none"]);
  const e = prediction.sub(target);
  let loss = e.mul(e); // e²      ∂(e²)/∂e = 2e (e is used twice: the two contributions add)
  if (options.half === true) loss = loss.mul(0.5); // ½e²      ∂/∂e = e
  if (reduction === "batchmean") {
    const m = prediction.ndim === 0 ? 1 : (prediction.shape[0] as number);
    if (m === 0) throw new ChainruleError(op, "batchmean needs at least one example (shape[0] is 0)");
    return loss.sum().div(m);
  }
  if (reduction === "mean" && prediction.size === 0) {
    throw new ChainruleError(op, 'the mean of an empty tensor is undefined; use reduction "sum"');
  }
  return reduce(loss, reduction);
}

/**
 * The chapter's quadratic cost, C = (1/m) Σₓ ½‖a(x) − y(x)‖², the mean over the m examples
 * (rows) of half the squared norm: ∂C/∂a = (a − y)/m. For a single example vector a of shape [n],
 * C = ½‖a − y‖² is `mseLoss(a, y, { half: true, reduction: "sum" })`.
 */
export function quadraticCost(a: Tensor, y: Tensor): Tensor {
  return mseLoss(a, y, { half: true, reduction: "batchmean" });
}

/** Options of `crossEntropy`, PyTorch's F.cross_entropy's (camelCased). */
export interface CrossEntropyOptions {
  /**
   * "mean" (default), "sum", or "none" (one loss per example). With class labels the mean divides
   * by the sum of the weights of the targets not ignored (their count, without `weight`); with
   * probabilities, by the number of examples. As PyTorch's F.cross_entropy.
   */
  reduction?: Reduction;
  /** A weight per class, w [C] (a Tensor or numbers): example i's loss is scaled by w[yᵢ] (default: all 1). */
  weight?: Tensor | readonly number[] | null;
  /**
   * Class labels equal to this value contribute nothing, to the loss or to the mean's
   * denominator (default −100, as PyTorch). Not allowed (≥ 0) with probability targets.
   */
  ignoreIndex?: number;
  /**
   * ε in [0, 1]: the target becomes (1 − ε)·target + ε/C, a mix with the uniform distribution
   * over the C classes (default 0).
   */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy from logits z [..., C] (classes on the last axis, examples on the
 * leading axes), computed stably as −log softmax(z) = logsumexp(z) − z:
 *
 *   class labels y (integers in [0, C)):   ℓ = −log softmax(z)[y]           ∂ℓ/∂z = softmax(z) − onehot(y)
 *   probabilities t (same shape as z):     ℓ = −Σ_c t_c log softmax(z)_c    ∂ℓ/∂z = softmax(z)·Σt − t
 *
 * Labels are a number array, an Int32Array or a Tensor with the leading shape of z (a single
 * number for one example of shape [C]); a Tensor of z's own shape is read as probabilities
 * (e.g. one-hot rows). The options follow PyTorch's F.cross_entropy exactly:
 *
 *   labels, weight w, smoothing ε:  ℓᵢ = (1 − ε)·(−w[yᵢ] log pᵢ[yᵢ]) + (ε/C)·(−Σ_c w[c] log pᵢ[c]),
 *                                   0 where yᵢ = ignoreIndex; the mean is Σᵢ ℓᵢ / Σ_{i not ignored} w[yᵢ]
 *   probabilities:                  ℓᵢ = −Σ_c w[c]·((1 − ε)·tᵢ[c] + ε/C)·log pᵢ[c]; the mean is Σᵢ ℓᵢ / (examples)
 *
 * @example
 * crossEntropy(logits, [2, 0, 1]);        // logits: [3, C]
 * crossEntropy(logits, oneHot([2, 0, 1], C));
 * crossEntropy(logits, [2, -100, 1], { labelSmoothing: 0.1, weight: [1, 2, 1] }); // the middle one ignored
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor | readonly number[] | Int32Array | number,
  options: CrossEntropyOptions = {},
): Tensor {
  options = optionsObject("crossEntropy", options);
  const op = "crossEntropy";
  if (typeof target === "number") target = [target]; // one example's label
  checkTensor(op, "logits", logits);
  const reduction = options.reduction ?? "mean";
  checkReduction(op, reduction, ["mean", "sum", "none"]);
  if (logits.ndim === 0) throw new ChainruleError(op, "logits must have a class axis: shape [..., C], got []");
  const classes = logits.shape[logits.ndim - 1] as number;
  const lead = logits.shape.slice(0, -1);
  const count = lead.reduce((a, b) => a * b, 1);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) {
    throw new ChainruleError(op, `ignoreIndex must be an integer, got ${describe(ignoreIndex)}`);
  }
  const smoothing = options.labelSmoothing ?? 0;
  if (typeof smoothing !== "number" || !(smoothing >= 0 && smoothing <= 1)) {
    throw new ChainruleError(op, `labelSmoothing must be a number in [0, 1], got ${describe(smoothing)}`);
  }
  const weight = classWeights(op, options.weight, classes, logits);
  const logp = logits.logSoftmax(-1);

  if (target instanceof Tensor && target.ndim === logits.ndim) {
    checkSameShape(op, logits, target, ["logits", "probability targets"]);
    if (ignoreIndex >= 0) {
      throw new ChainruleError(
        op,
        `ignoreIndex ${ignoreIndex} cannot be used with probability targets (only with class labels)`,
      );
    }
    // the smoothed target (1 − ε)·t + ε/C, weighted per class
    let t: Tensor = smoothing > 0 ? target.mul(1 - smoothing).add(smoothing / classes) : target;
    if (weight !== null) t = t.mul(weight);
    const losses = logp.mul(t).sum(-1).neg(); // −Σ_c w_c t_c log p_c, per example
    if (reduction === "mean" && count === 0) throw new ChainruleError(op, "the mean over 0 examples is undefined");
    return reduce(losses, reduction);
  }

  let labels: ArrayLike<number>;
  if (target instanceof Tensor) {
    if (!sameShape(target.shape, lead)) {
      throw new ChainruleError(
        op,
        `target of shape ${formatShape(target.shape)} fits neither class labels of shape ${formatShape(lead)} nor probabilities of shape ${formatShape(logits.shape)}`,
      );
    }
    labels = target.data;
  } else if (Array.isArray(target) || target instanceof Int32Array) {
    labels = target as ArrayLike<number>;
    if (labels.length !== count) {
      throw new ChainruleError(
        op,
        `${labels.length} labels given for ${count} examples (logits of shape ${formatShape(logits.shape)})`,
      );
    }
  } else {
    throw new ChainruleError(op, `target must be a Tensor, a number array or an Int32Array, got ${describe(target)}`);
  }
  // Position of each example's label in the flattened log-probabilities (row·C + label), the
  // weight of its label (0 where ignored), and whether it counts at all.
  const index = new Int32Array(count);
  const labelWeight = new Float64Array(count);
  const counted = new Float64Array(count);
  const w = weight === null ? null : weight.data;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const y = labels[i] as number;
    if (y === ignoreIndex) {
      index[i] = i * classes; // any valid position: its weight is 0
      continue;
    }
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new ChainruleError(op, `label ${y} at position ${i} is not a class index in [0, ${classes})`);
    }
    index[i] = i * classes + y;
    labelWeight[i] = w === null ? 1 : (w[y] as number);
    counted[i] = 1;
    total += labelWeight[i] as number;
  }
  const asTensor = (values: Float64Array) => tensor(values, { shape: [count], dtype: logits.dtype });
  // −w[y]·log p[y]
  let losses = logp
    .reshape([count * classes])
    .take(index)
    .neg()
    .mul(asTensor(labelWeight));
  if (smoothing > 0) {
    // −Σ_c w_c log p_c, 0 where ignored: the loss against the uniform target, weighted as PyTorch does
    const weighted = weight === null ? logp : logp.mul(weight);
    const uniform = weighted.sum(-1).neg().reshape([count]).mul(asTensor(counted));
    losses = losses.mul(1 - smoothing).add(uniform.mul(smoothing / classes));
  }
  if (reduction === "none") return losses.reshape(lead);
  if (reduction === "sum") return losses.sum();
  if (!(total > 0)) {
    const why =
      count === 0
        ? "there are no examples"
        : counted.includes(1)
          ? "the weights of the targets not ignored sum to 0"
          : "every target is ignored";
    throw new ChainruleError(op, `the mean over 0 examples is undefined (${why}); use reduction "sum"`);
  }
  return losses.sum().div(total);
}

/** The class weights as a tensor [C] in the logits' dtype, or null; checked. */
function classWeights(op: string, weight: unknown, classes: number, logits: Tensor): Tensor | null {
  if (weight === undefined || weight === null) return null;
  let w: Tensor;
  if (weight instanceof Tensor) w = weight;
  else if (Array.isArray(weight) && weight.every((v) => typeof v === "number")) w = tensor(weight as number[]);
  else throw new ChainruleError(op, `weight must be a Tensor or a number array, got ${describe(weight)}`);
  if (!sameShape(w.shape, [classes])) {
    throw new ChainruleError(
      op,
      `weight of shape ${formatShape(w.shape)} must have one entry per class: expected [${classes}] for logits of shape ${formatShape(logits.shape)}`,
    );
  }
  return w.dtype === logits.dtype ? w : w.astype(logits.dtype);
}

/** Options of `binaryCrossEntropy` and `binaryCrossEntropyWithLogits`. */
export interface BinaryCrossEntropyOptions {
  /** "mean" over all elements (default), "sum", or "none". */
  reduction?: Reduction;
}

// y·max(log p, −100) + (1 − y)·max(log(1 − p), −100), PyTorch's clamp: finite for p = 0 or 1.
const clampedLog = (q: Tensor) => q.log().maximum(-100);

/**
 * Elementwise binary cross-entropy as one op, with PyTorch's clamps in both directions:
 *
 *   ℓ = −(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100))
 *   ∂ℓ/∂p = (p − y) / max(p(1 − p), 10⁻¹²)      ∂ℓ/∂y = max(log(1 − p), −100) − max(log p, −100)
 *
 * A composition of log and maximum would differentiate the clamp itself and meet 0·∞ at p = 0 or
 * 1; the explicit rule stays finite there, in float32 too.
 */
const bceElementwise = customOp({
  name: "binaryCrossEntropy",
  formula: "∂ℓ/∂p = (p − y)/max(p(1 − p), 1e-12)",
  forward: (p, y) => {
    const [pp, yy] = [p as Tensor, y as Tensor];
    return yy
      .mul(clampedLog(pp))
      .add(
        yy
          .neg()
          .add(1)
          .mul(clampedLog(pp.neg().add(1))),
      )
      .neg();
  },
  backward: (g, _out, p, y) => {
    const [pp, yy] = [p as Tensor, y as Tensor];
    const q = pp.neg().add(1); // 1 − p
    const dp = pp.sub(yy).div(pp.mul(q).maximum(1e-12));
    // ∂ℓ/∂y = log(1 − p) − log p, made only when the target itself needs a gradient
    return [g.mul(dp), yy.requiresGrad ? g.mul(clampedLog(q).sub(clampedLog(pp))) : null];
  },
});

/**
 * Binary cross-entropy of probabilities p ∈ [0, 1] against targets y (same shape, usually 0/1):
 *
 *   ℓ = −(y·log p + (1 − y)·log(1 − p))      ∂ℓ/∂p = (p − y) / (p(1 − p))
 *
 * NOTE: like PyTorch, each log is clamped at −100 and the gradient's denominator at 10⁻¹², so
 * p = 0 or 1 gives a finite loss (exactly 100 per element at worst) and a finite gradient, in
 * float64 and float32. Prefer `binaryCrossEntropyWithLogits` after a sigmoid: it is stable for
 * any logit.
 */
export function binaryCrossEntropy(p: Tensor, y: Tensor, options: BinaryCrossEntropyOptions = {}): Tensor {
  const op = "binaryCrossEntropy";
  checkTensor(op, "probabilities", p);
  checkTensor(op, "target", y);
  checkSameShape(op, p, y, ["probabilities", "target"]);
  options = optionsObject(op, options);
  const reduction = options.reduction ?? "mean";
  checkReduction(op, reduction, ["mean", "sum", "none"]);
  for (let i = 0; i < p.size; i++) {
    const v = p.data[i] as number;
    if (!(v >= 0 && v <= 1)) {
      throw new ChainruleError(
        op,
        `probabilities must lie in [0, 1]; element ${i} is ${v} (pass logits to binaryCrossEntropyWithLogits)`,
      );
    }
  }
  return reduce(bceElementwise(p, y), reduction);
}

/**
 * Binary cross-entropy of σ(z) from logits z, without forming σ(z):
 *
 *   ℓ = log(1 + eᶻ) − y·z = logsumexp(0, z) − y·z      ∂ℓ/∂z = σ(z) − y
 *
 * logsumexp keeps it finite for any z, and its gradient (a softmax over [0, z]) is exactly σ(z)
 * even at z = 0, where a max(z, 0) + log(1 + e^−|z|) composition would pick up the kinks of
 * max and |·| and give −y instead of ½ − y. PyTorch: F.binary_cross_entropy_with_logits.
 */
export function binaryCrossEntropyWithLogits(z: Tensor, y: Tensor, options: BinaryCrossEntropyOptions = {}): Tensor {
  options = optionsObject("binaryCrossEntropyWithLogits", options);
  const op = "binaryCrossEntropyWithLogits";
  checkTensor(op, "logits", z);
  checkTensor(op, "target", y);
  checkSameShape(op, z, y, ["logits", "target"]);
  const reduction = options.reduction ?? "mean";
  checkReduction(op, reduction, ["mean", "sum", "none"]);
  const softplus = stack([zerosLike(z), z], -1).logsumexp(-1); // log(e⁰ + eᶻ)
  return reduce(softplus.sub(y.mul(z)), reduction);
}
