/**
 * @file Classification metrics: accuracy, the confusion matrix, and precision, recall and F1 per
 * class (scikit-learn's definitions). Every metric reads predictions the same way (classesOf).
 * Imports data.ts (labelValues), module.ts (describe, optionsObject) and the public API of
 * @chainrule/autograd.
 */

import { ChainruleError, sameShape, Tensor } from "@chainrule/autograd";
import { labelValues } from "./data.js";
import { describe, optionsObject } from "./module.js";

/** Predictions or targets given as class labels: numbers, an Int32Array or a 1-d Tensor. */
export type Labels = readonly number[] | Int32Array | Tensor;

/** Options of the metrics that read scores. */
export interface MetricOptions {
  /**
   * For one score per example ([n] or [n, 1]): the class is 1 where the score is ≥ threshold,
   * else 0 (default 0.5, for probabilities; use 0 for logits).
   */
  threshold?: number;
}

/** Options of `confusionMatrix` and `precisionRecallF1`. */
export interface ClassMetricOptions extends MetricOptions {
  /** The number of classes C (default: the columns of the scores, or 1 + the largest label). */
  numClasses?: number;
}

/**
 * The predicted and the true class of each example, and the number of columns of the scores.
 *
 * - predictions [n, C] with C ≥ 2 (scores, probabilities or logits): the class is the argmax of
 *   each row, the first one on ties;
 * - predictions [n] or [n, 1] (one score per example): 1 where the score is ≥ threshold, else 0.
 *
 * Targets are labels [n] or a Tensor shaped like the predictions (one-hot rows, or 0/1 values).
 */
function classesOf(
  op: string,
  predictions: Tensor,
  targets: Labels,
  threshold: number,
): { predicted: ArrayLike<number>; actual: ArrayLike<number>; columns: number } {
  if (!(predictions instanceof Tensor) || predictions.ndim === 0 || predictions.ndim > 2) {
    throw new ChainruleError(
      op,
      `predictions must be a Tensor of shape [n] or [n, C], got ${describe(predictions)}${predictions instanceof Tensor ? ` of shape [${predictions.shape.join(", ")}]` : ""}`,
    );
  }
  if (typeof threshold !== "number" || Number.isNaN(threshold)) {
    throw new ChainruleError(op, `threshold must be a number, got ${describe(threshold)}`);
  }
  const n = predictions.shape[0] as number;
  const columns = predictions.ndim === 2 ? (predictions.shape[1] as number) : 1;
  const binary = columns === 1;
  const predicted = binary
    ? Array.from(predictions.data, (s) => (s >= threshold ? 1 : 0))
    : Array.from(predictions.argmax(1).data);

  let actual: ArrayLike<number>;
  const like = targets instanceof Tensor && sameShape(targets.shape, predictions.shape);
  if (like && !binary) actual = (targets as Tensor).argmax(1).data;
  else if (like) actual = (targets as Tensor).data;
  else actual = labelValues(op, targets);
  if (actual.length !== n) throw new ChainruleError(op, `${actual.length} targets for ${n} predictions`);
  if (n === 0) throw new ChainruleError(op, `the ${op} of 0 predictions is undefined`);
  return { predicted, actual, columns: binary ? 2 : columns };
}

/**
 * The fraction of examples classified correctly, a number in [0, 1].
 *
 * - predictions [n, C] with C ≥ 2 (scores, probabilities or logits): the class is the argmax of
 *   each row, the first one on ties;
 * - predictions [n] or [n, 1] (one score per example): the class is 1 where the score is ≥
 *   `threshold` (default 0.5, for probabilities; use 0 for logits), else 0.
 *
 * `targets` are class labels [n] (numbers, Int32Array or Tensor) or a Tensor shaped like the
 * predictions: one-hot rows (read by argmax) or 0/1 values for one score per example.
 *
 * @example
 * accuracy(tensor([[0.1, 0.9], [0.8, 0.2]]), [1, 1]); // 0.5
 */
export function accuracy(predictions: Tensor, targets: Labels, options: MetricOptions = {}): number {
  options = optionsObject("accuracy", options);
  const { predicted, actual } = classesOf("accuracy", predictions, targets, options.threshold ?? 0.5);
  let correct = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) correct++;
  return correct / actual.length;
}

/**
 * The C×C confusion matrix: entry [i][j] counts the examples of true class i predicted as class
 * j (rows are the truth, as scikit-learn's `confusion_matrix`). Predictions are read as by
 * `accuracy`.
 *
 * @example
 * confusionMatrix(tensor([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]), [0, 1, 1]);
 * // [[1, 0],
 * //  [1, 1]]
 */
export function confusionMatrix(predictions: Tensor, targets: Labels, options: ClassMetricOptions = {}): number[][] {
  const op = "confusionMatrix";
  options = optionsObject(op, options);
  const { predicted, actual, columns } = classesOf(op, predictions, targets, options.threshold ?? 0.5);
  let c = options.numClasses;
  if (c === undefined) {
    c = columns;
    for (let i = 0; i < actual.length; i++) c = Math.max(c, (actual[i] as number) + 1);
  } else if (!Number.isInteger(c) || c < 1) {
    throw new ChainruleError(op, `numClasses must be a positive integer, got ${describe(c)}`);
  }
  const matrix = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let i = 0; i < actual.length; i++) {
    const [t, p] = [actual[i] as number, predicted[i] as number];
    for (const [name, k] of [
      ["target", t],
      ["prediction", p],
    ] as const) {
      if (!Number.isInteger(k) || k < 0 || k >= c) {
        throw new ChainruleError(op, `${name} ${k} at position ${i} is not a class index in [0, ${c})`);
      }
    }
    (matrix[t] as number[])[p]!++;
  }
  return matrix;
}

/** Precision, recall, F1 and support per class, and their unweighted (macro) means. */
export interface ClassificationReport {
  /** Per class k: of the examples predicted k, the fraction that are k (0 when none is predicted k). */
  precision: number[];
  /** Per class k: of the examples of class k, the fraction predicted k (0 when there are none). */
  recall: number[];
  /** Per class: the harmonic mean 2PR/(P + R) of precision and recall (0 when both are 0). */
  f1: number[];
  /** Per class: the number of examples of that class. */
  support: number[];
  /** The mean over classes of each score, every class counting the same. */
  macro: {
    /** The mean precision over classes. */
    precision: number;
    /** The mean recall over classes. */
    recall: number;
    /** The mean F1 over classes. */
    f1: number;
  };
}

/**
 * Precision, recall and F1 per class, from the confusion matrix M:
 * precisionₖ = Mₖₖ / Σᵢ Mᵢₖ, recallₖ = Mₖₖ / Σⱼ Mₖⱼ, F1ₖ = 2·P·R / (P + R). NOTE: a ratio with
 * a zero denominator is 0, as scikit-learn's `zero_division=0`.
 *
 * @example
 * const report = precisionRecallF1(model.forward(x), labels);
 * report.f1[3]; // F1 of class 3
 * report.macro.f1; // the mean F1 over classes
 */
export function precisionRecallF1(
  predictions: Tensor,
  targets: Labels,
  options: ClassMetricOptions = {},
): ClassificationReport {
  const m = confusionMatrix(predictions, targets, optionsObject("precisionRecallF1", options));
  const c = m.length;
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  for (let k = 0; k < c; k++) {
    const tp = m[k]![k]!;
    let predictedK = 0;
    let actualK = 0;
    for (let i = 0; i < c; i++) {
      predictedK += m[i]![k]!;
      actualK += m[k]![i]!;
    }
    const p = ratio(tp, predictedK);
    const r = ratio(tp, actualK);
    precision.push(p);
    recall.push(r);
    f1.push(ratio(2 * p * r, p + r));
    support.push(actualK);
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / c;
  return { precision, recall, f1, support, macro: { precision: mean(precision), recall: mean(recall), f1: mean(f1) } };
}
