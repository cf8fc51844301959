/**
 * @file Two building blocks of networks that are not arithmetic on their own: dropout (a random
 * mask, then a product) and embedding (a row lookup). Both are composed from registered ops (mul,
 * take), whose vjp, jvp and batching rules they inherit:
 *
 *   dropout     y = x·m,  m = 0 with probability p, else 1/(1 − p)      ∂L/∂x = g·m
 *   embedding   y[i] = W[ids[i]]                                         ∂L/∂W[r] = Σ_{i: ids[i] = r} g[i]
 *
 * (the scatter-add of `take`'s rule, so a repeated id gathers the gradients of all its uses).
 * Imports errors.ts, ndarray.ts, random.ts (type), shape.ts, tensor.ts, transforms/vmap.ts.
 */

import { ChainruleError } from "../errors.js";
import { allocate } from "../ndarray.js";
import type { Random } from "../random.js";
import { formatShape } from "../shape.js";
import { Tensor, tensor } from "../tensor.js";
import { coreOf } from "../transforms/vmap.js";

function kind(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return x.constructor?.name ?? "object";
  return `${typeof x} ${String(x)}`;
}

/** Options of `dropout`: the mode and the seeded generator of the mask. */
export interface DropoutOptions {
  /** Apply the mask (true, the default, as PyTorch's F.dropout) or return x unchanged (false). */
  training?: boolean;
  /** The seeded generator the mask is drawn from (required when training with p > 0). */
  random?: Random;
}

/**
 * Dropout (PyTorch's F.dropout): in training, each element is zeroed with probability p and the
 * others are scaled by 1/(1 − p), so the expected value of each element is unchanged; in
 * evaluation (`training: false`) x is returned as it is. The mask is drawn from `random`, one
 * draw per element in row-major order (zeroed where the draw is below p), so the same seed gives
 * the same mask.
 *
 * NOTE: inside `vmap` the mask is drawn for one example's shape and shared by every example of
 * the batch (the mapped function is traced once).
 *
 * @example
 * dropout(x, 0.5, { random: new Random(0) });   // training: about half zeroed, the rest doubled
 * dropout(x, 0.5, { training: false });         // x itself
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  const op = "dropout";
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `x must be a Tensor, got ${kind(x)}`);
  if (typeof p !== "number" || !(p >= 0 && p < 1)) {
    throw new ChainruleError(
      op,
      `p must be a probability in [0, 1), got ${kind(p)} (for x of shape ${formatShape(x.shape)})`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new ChainruleError(op, `options must be an object, got ${kind(options)}`);
  }
  const { training = true, random } = options;
  if (!training || p === 0) return x;
  if (typeof (random as Partial<Random> | undefined)?.next !== "function") {
    throw new ChainruleError(
      op,
      "in training with p > 0 the mask needs a seeded generator: pass { random: new Random(seed) }",
    );
  }
  const r = random as Random;
  const mask = allocate(x.dtype, x.size);
  const scale = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = r.next() < p ? 0 : scale;
  return x.mul(new Tensor(mask, [...x.shape])); // the mask is a constant: no gradient of its own
}

/** What `embedding` accepts as ids: numbers (nested arrays of them), an Int32Array, or a tensor of integers. */
export type EmbeddingIds = number | readonly number[] | readonly (readonly number[])[] | Int32Array | Tensor;

/**
 * An embedding lookup (PyTorch's F.embedding): row `ids[i]` of `weight` [numEmbeddings, dim] for
 * each id, so ids of shape S give a result of shape [...S, dim]. The gradient is added into the
 * rows used, once per use (a repeated id receives the sum). Ids must be integers in
 * [0, numEmbeddings); a tensor of ids (of any float or integer dtype) is read by value.
 *
 * @example
 * const W = randn([10, 3], new Random(0), { requiresGrad: true });
 * embedding([[1, 2], [1, 9]], W).shape;  // [2, 2, 3]; W.grad row 1 gets two contributions
 */
export function embedding(ids: EmbeddingIds, weight: Tensor): Tensor {
  const op = "embedding";
  if (!(weight instanceof Tensor) || weight.ndim !== 2) {
    const got = weight instanceof Tensor ? `shape ${formatShape(weight.shape)}` : kind(weight);
    throw new ChainruleError(op, `weight must be a matrix [numEmbeddings, embeddingDim], got ${got}`);
  }
  const rows = weight.shape[0] as number;
  const dim = weight.shape[1] as number;
  let shape: readonly number[];
  let values: ArrayLike<number>;
  let batched: Tensor | null = null;
  if (ids instanceof Tensor) {
    shape = ids.shape;
    // Inside vmap the values of every example sit under the batch wrappers: check them all.
    values = coreOf(ids).data;
    if (ids.batch !== null) batched = ids;
  } else if (ids instanceof Int32Array) {
    shape = [ids.length];
    values = ids;
  } else if (typeof ids === "number" || Array.isArray(ids)) {
    let parsed: Tensor;
    try {
      parsed = tensor(ids as number | number[]);
    } catch (error) {
      throw new ChainruleError(
        op,
        `ids: ${error instanceof Error ? error.message.replace(/^tensor: /, "") : String(error)}`,
      );
    }
    shape = parsed.shape;
    values = parsed.data;
  } else {
    throw new ChainruleError(op, `ids must be a number array, an Int32Array or a Tensor of integers, got ${kind(ids)}`);
  }
  const index = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const id = values[i] as number;
    if (!Number.isInteger(id) || id < 0 || id >= rows) {
      const what = Number.isInteger(id) ? "is out of range" : "is not an integer";
      throw new ChainruleError(
        op,
        `id ${id} at position ${i} of ids of shape ${formatShape(shape)} ${what}; expected integers in [0, ${rows}) for a weight of shape ${formatShape(weight.shape)}`,
      );
    }
    index[i] = id;
  }
  // Ids batched by vmap go through take's own rule (one lookup per example); all others at once.
  const rowsUsed = batched === null ? weight.take(index, 0) : weight.take(batched.reshape([-1]), 0);
  return rowsUsed.reshape([...shape, dim]);
}
