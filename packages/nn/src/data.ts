/**
 * @file Data helpers: mini-batches over tensors with seeded shuffling, and one-hot encoding
 * (metrics.ts scores predictions, dataloader.ts batches whole datasets). Imports module.ts (for `describe`) and the public API of @chainrule/autograd.
 */

import { ChainruleError, type Random, Tensor, type TensorDtype, zeros } from "@chainrule/autograd";
import { describe, optionsObject } from "./module.js";

/** Options of `batches`. */
export interface BatchOptions {
  /** Rows per batch (the last batch may be smaller unless `dropLast`). */
  batchSize: number;
  /**
   * Visit the rows in the order `random.permutation(n)` (Fisher–Yates, seeded); without it, in
   * stored order. Each call to `batches` draws one permutation, so pass a generator per epoch
   * (`new Random(2000 + epoch)` reproduces the W2 workload's batch order) or one shared stream.
   */
  random?: Random;
  /** Skip a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/**
 * Mini-batches of rows (axis 0) of tensors that have the same number of rows: each batch is the
 * list of the tensors' rows at the same positions.
 *
 * @example
 * for (const [x, y] of batches([X, Y], { batchSize: 10, random: new Random(2000 + epoch) })) {
 *   // x: [10, 784], y: [10, 10]
 * }
 */
export function* batches(tensors: readonly Tensor[], options: BatchOptions): Generator<Tensor[], void, undefined> {
  const op = "batches";
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new ChainruleError(op, `expected a non-empty array of Tensors, got ${describe(tensors)}`);
  }
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor) || t.ndim === 0) {
      throw new ChainruleError(op, `tensor ${i} must be a Tensor with at least one axis (rows), got ${describe(t)}`);
    }
  });
  const n = (tensors[0] as Tensor).shape[0] as number;
  tensors.forEach((t, i) => {
    if (t.shape[0] !== n) {
      throw new ChainruleError(
        op,
        `tensor ${i} has ${t.shape[0]} rows but tensor 0 has ${n}; every tensor needs the same number`,
      );
    }
  });
  const { batchSize, random, dropLast = false } = options ?? ({} as BatchOptions);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ChainruleError(op, `batchSize must be a positive integer, got ${describe(batchSize)}`);
  }
  if (random !== undefined && typeof (random as Partial<Random>).permutation !== "function") {
    throw new ChainruleError(op, `random must be a Random, got ${describe(random)}`);
  }
  let order: Int32Array;
  if (random === undefined) {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    order = random.permutation(n);
  }
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(start + batchSize, n);
    if (dropLast && end - start < batchSize) return;
    const rows = order.subarray(start, end);
    yield tensors.map((t) => t.take(rows, 0));
  }
}

/**
 * Rows of zeros with a 1 at each label: labels [n] → [n, numClasses].
 *
 * @example
 * oneHot([2, 0], 3); // [[0, 0, 1], [1, 0, 0]]
 */
export function oneHot(
  labels: readonly number[] | Int32Array | Tensor,
  numClasses: number,
  options: { dtype?: TensorDtype } = {},
): Tensor {
  options = optionsObject("oneHot", options);
  const op = "oneHot";
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ChainruleError(op, `numClasses must be a positive integer, got ${describe(numClasses)}`);
  }
  const values = labelValues(op, labels);
  const out = zeros([values.length, numClasses], { dtype: options.dtype ?? "float64" });
  for (let i = 0; i < values.length; i++) {
    const y = values[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new ChainruleError(op, `label ${y} at position ${i} is not a class index in [0, ${numClasses})`);
    }
    out.data[i * numClasses + y] = 1;
  }
  return out;
}

/** The labels as numbers: a number array, an Int32Array or a 1-d Tensor. */
export function labelValues(op: string, labels: unknown): ArrayLike<number> {
  if (labels instanceof Tensor) {
    if (labels.ndim !== 1) throw new ChainruleError(op, `labels must be 1-d, got shape [${labels.shape.join(", ")}]`);
    return labels.data;
  }
  if (Array.isArray(labels) || labels instanceof Int32Array) return labels as ArrayLike<number>;
  throw new ChainruleError(op, `labels must be a number array, an Int32Array or a 1-d Tensor, got ${describe(labels)}`);
}
