/**
 * @file Datasets and the loader that batches them, as PyTorch's `torch.utils.data`: a `Dataset`
 * is anything with a `length` and `get(i)`; `TensorDataset` holds tensors of the same number of
 * rows; a `DataLoader` walks a dataset in batches, shuffled by a seeded generator, and collates
 * each batch. Imports module.ts (for `describe`) and the public API of @chainrule/autograd.
 */

import { ChainruleError, defaultRandom, type Random, stack, Tensor } from "@chainrule/autograd";
import { describe, optionsObject } from "./module.js";

/** A map-style dataset: `length` examples, the i-th one given by `get(i)`. */
export interface Dataset<T> {
  /** The number of examples. */
  readonly length: number;
  /** Example `index`, for 0 ≤ index < length. */
  get(index: number): T;
}

/**
 * Tensors of the same number of rows (axis 0), seen as a dataset of rows: example i is the list
 * of the tensors' i-th rows, as `torch.utils.data.TensorDataset`.
 *
 * @example
 * const data = new TensorDataset(X, Y); // X: [n, 784], Y: [n, 10]
 * const [x0, y0] = data.get(0); // x0: [784], y0: [10]
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> implements Dataset<T> {
  /** The tensors, as given. */
  readonly tensors: Readonly<T>;
  readonly length: number;

  constructor(...tensors: T) {
    const op = "TensorDataset";
    if (tensors.length === 0) throw new ChainruleError(op, "expected at least one Tensor");
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor) || t.ndim === 0) {
        throw new ChainruleError(
          op,
          `argument ${i} must be a Tensor with at least one axis (rows), got ${describe(t)}`,
        );
      }
    });
    const n = tensors[0]!.shape[0]!;
    tensors.forEach((t, i) => {
      if (t.shape[0] !== n) {
        throw new ChainruleError(
          op,
          `tensor ${i} has ${t.shape[0]} rows but tensor 0 has ${n}; every tensor needs the same number`,
        );
      }
    });
    this.tensors = tensors;
    this.length = n;
  }

  /** The `index`-th row of every tensor. */
  get(index: number): T {
    checkIndex("TensorDataset.get", index, this.length);
    return this.tensors.map((t) => t.take([index], 0).reshape(t.shape.slice(1))) as T;
  }

  /** The rows at `indices` of every tensor, in that order: one gather per tensor. */
  rows(indices: ArrayLike<number>): T {
    for (let i = 0; i < indices.length; i++) checkIndex("TensorDataset.rows", indices[i]!, this.length);
    const list = Int32Array.from(indices);
    return this.tensors.map((t) => t.take(list, 0)) as T;
  }
}

/** Turns the examples of one batch into the batch the training loop sees. */
export type Collate<T, B> = (examples: T[]) => B;

/**
 * What a batch of examples T becomes by default: a list (or tuple) of Tensors stays one, each
 * position stacked; Tensors are stacked into one; anything else is the list of examples.
 */
export type DefaultBatch<T> = T extends readonly Tensor[]
  ? { -readonly [K in keyof T]: Tensor }
  : T extends Tensor
    ? Tensor
    : T[];

/** Options of `DataLoader`. */
export interface DataLoaderOptions<T, B> {
  /** Examples per batch (default 1). */
  batchSize?: number;
  /** Visit the examples in a new random order on every pass (default false: stored order). */
  shuffle?: boolean;
  /**
   * The generator each pass's order is drawn from (one `permutation(length)` per pass); without
   * it, the default generator (reseeded by `manualSeed`).
   */
  random?: Random;
  /** Leave out a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /**
   * Builds a batch from its examples (default `defaultCollate`: stack Tensors, and lists of
   * Tensors position by position; anything else is passed on as the list of examples).
   */
  collate?: Collate<T, B>;
}

/**
 * The default collation: examples that are Tensors are stacked into one Tensor with a new first
 * axis; examples that are lists of Tensors (a `TensorDataset`'s) are stacked position by
 * position; any other examples are returned as the list they are.
 */
export function defaultCollate<T>(examples: T[]): DefaultBatch<T> {
  const first = examples[0];
  if (first instanceof Tensor) return stack(examples as Tensor[]) as DefaultBatch<T>;
  if (Array.isArray(first) && first.length > 0 && first.every((x) => x instanceof Tensor)) {
    return first.map((_, k) => stack(examples.map((e) => (e as Tensor[])[k]!))) as DefaultBatch<T>;
  }
  return examples as DefaultBatch<T>;
}

/**
 * Batches of a dataset, as `torch.utils.data.DataLoader`: iterate it once per epoch. With
 * `shuffle`, each pass draws a new order from the generator, so a seeded generator (or
 * `manualSeed`) makes every epoch's batches repeat bit for bit.
 *
 * @example
 * const loader = new DataLoader(new TensorDataset(X, Y), { batchSize: 32, shuffle: true, random: new Random(0) });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const [x, y] of loader) {
 *     // x: [32, …], y: [32, …]; the last batch may be smaller unless dropLast
 *   }
 * }
 */
export class DataLoader<T, B = DefaultBatch<T>> implements Iterable<B> {
  /** The dataset it batches. */
  readonly dataset: Dataset<T>;
  /** Examples per batch. */
  readonly batchSize: number;
  /** Whether each pass draws a new order. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is left out. */
  readonly dropLast: boolean;
  private readonly random: Random | undefined;
  private readonly collate: Collate<T, B> | undefined;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    const op = "DataLoader";
    options = optionsObject(op, options);
    if (
      typeof dataset !== "object" ||
      dataset === null ||
      typeof dataset.get !== "function" ||
      !Number.isInteger(dataset.length) ||
      dataset.length < 0
    ) {
      throw new ChainruleError(
        op,
        `dataset must have an integer length and a get(index) method, got ${describe(dataset)}`,
      );
    }
    const { batchSize = 1, shuffle = false, dropLast = false, random, collate } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ChainruleError(op, `batchSize must be a positive integer, got ${describe(batchSize)}`);
    }
    if (random !== undefined && typeof (random as Partial<Random>).permutation !== "function") {
      throw new ChainruleError(op, `random must be a Random, got ${describe(random)}`);
    }
    if (collate !== undefined && typeof collate !== "function") {
      throw new ChainruleError(op, `collate must be a function, got ${describe(collate)}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.random = random;
    this.collate = collate;
  }

  /** The number of batches in one pass, as `len(loader)`. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One pass over the dataset: a new order if shuffling, then batch after batch. */
  *[Symbol.iterator](): Iterator<B> {
    const n = this.dataset.length;
    let order: Int32Array;
    if (this.shuffle) {
      order = (this.random ?? defaultRandom()).permutation(n);
    } else {
      order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    }
    for (let start = 0; start < n; start += this.batchSize) {
      const end = Math.min(start + this.batchSize, n);
      if (this.dropLast && end - start < this.batchSize) return;
      yield this.batch(order.subarray(start, end));
    }
  }

  private batch(indices: Int32Array): B {
    // A TensorDataset with the default collation gathers each tensor's rows at once: the same
    // result as stacking the rows one by one, in one copy.
    if (this.collate === undefined && this.dataset instanceof TensorDataset) {
      return this.dataset.rows(indices) as B;
    }
    const examples = Array.from(indices, (i) => this.dataset.get(i));
    return this.collate === undefined ? (defaultCollate(examples) as B) : this.collate(examples);
  }
}

function checkIndex(op: string, index: number, n: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new ChainruleError(op, `index ${String(index)} is outside [0, ${n})`);
  }
}
