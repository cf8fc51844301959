/**
 * @file Sorting along an axis. One primitive, argsort (the permutation, int32, no gradient); the
 * values are then gathered with it, so their gradient is gather's: g scattered back to where each
 * value came from. sort and topk are composed, and inherit their forward-mode and batching rules
 * from argsort, gather and slice. Imports tensor.ts, ndarray.ts, shape.ts, errors.ts,
 * transforms/vmap.ts, ops/indexing.ts.
 */

import { ChainruleError } from "../errors.js";
import { allocate, argsort as argsortKernel } from "../ndarray.js";
import { formatShape, normalizeAxis } from "../shape.js";
import { Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { gather } from "./indexing.js";

/** A sorted tensor and where each of its values came from. */
export interface Sorted {
  /** The values, in order along the axis. */
  values: Tensor;
  /** Their positions along the axis in the input (int32). */
  indices: Tensor;
}

/** The stable sorting permutation along `axis` (int32); no gradient. */
const argsortOp = batchable(
  "argsort",
  (x: Tensor, axis: number, descending: boolean): Tensor => {
    const out = allocate("int32", x.size);
    argsortKernel(x.data, x.shape, axis, descending, out);
    return new Tensor(out, x.shape);
  },
  (batch, x, axis, descending): Tensor => batch.wrap(argsortOp(batch.inner(x), axis + 1, descending)),
);

function checkArgs(op: string, x: unknown, axis: number): number {
  if (!(x instanceof Tensor)) throw new ChainruleError(op, `x must be a Tensor, got ${typeof x}`);
  return normalizeAxis(op, axis, Math.max(x.ndim, 1)); // a 0-d tensor sorts as one element
}

/**
 * Sort along `axis` (PyTorch's sort with stable=True): equal values keep their order, NaN sorts
 * as larger than every number (last ascending, first descending).
 * values = gather(x, axis, indices)      ∂L/∂x = g scattered back to the indices
 */
export function sort(x: Tensor, axis = -1, descending = false): Sorted {
  const a = checkArgs("sort", x, axis);
  if (typeof descending !== "boolean")
    throw new ChainruleError("sort", `descending must be a boolean, got ${String(descending)}`);
  const flat = x.ndim === 0 ? x.reshape([1]) : x;
  const indices = argsortOp(flat, a, descending);
  const values = gather(flat, a, indices);
  return x.ndim === 0 ? { values: values.reshape([]), indices: indices.reshape([]) } : { values, indices };
}

/**
 * The k largest (or, with largest = false, smallest) values along `axis`, in that order: the
 * first k of the stable sort (ties keep their order, NaN counts as the largest).
 */
export function topk(x: Tensor, k: number, axis = -1, largest = true): Sorted {
  const a = checkArgs("topk", x, axis);
  const n = x.ndim === 0 ? 1 : (x.shape[a] as number);
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ChainruleError(
      "topk",
      `k must be an integer in 0…${n} (the size of axis ${a} in shape ${formatShape(x.shape)}), got ${String(k)}`,
    );
  }
  if (typeof largest !== "boolean")
    throw new ChainruleError("topk", `largest must be a boolean, got ${String(largest)}`);
  const flat = x.ndim === 0 ? x.reshape([1]) : x;
  const order = argsortOp(flat, a, largest);
  const indices = order.slice(...flat.shape.map((_, d) => (d === a ? ([0, k] as const) : null)));
  const values = gather(flat, a, indices);
  return x.ndim === 0 ? { values: values.reshape([]), indices: indices.reshape([]) } : { values, indices };
}
