/**
 * @file Indexing by integer tensors, each beside its adjoint, which is its derivative rule:
 * gather ↔ scatterAdd (PyTorch's gather and scatter_add), and indexSelect (take with PyTorch's
 * index_select checks). Indices are int32 tensors, or plain arrays of integers; they carry no
 * gradient, and are checked (rank, shape, range) before any work is done. On a vmap batch the
 * index may be batched too: every operand is spread over the batch and the op runs one axis
 * further right. Imports engine.ts, tensor.ts, ndarray.ts, shape.ts, errors.ts,
 * transforms/vmap.ts, ops/elementwise.ts, ops/movement.ts.
 */

import { fromOp } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { allocate, alongAxis } from "../ndarray.js";
import { formatShape, normalizeAxis, sameShape, sizeOf } from "../shape.js";
import { arange, type NestedArray, Tensor, tensor, zeros } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { promote } from "./elementwise.js";
import { take } from "./movement.js";

/** What an index argument may be: an int32 tensor, an Int32Array (1-d), or nested arrays of integers. */
export type IndexTensorLike = Tensor | Int32Array | NestedArray;

/** An index argument as an int32 tensor, refusing floats tensors and non-integer numbers. */
export function toIndexTensor(op: string, index: unknown): Tensor {
  if (index instanceof Tensor) {
    if (index.dtype !== "int32") {
      throw new ChainruleError(
        op,
        `index must be an int32 tensor or an array of integers, got a ${index.dtype} tensor of shape ${formatShape(index.shape)} (cast it with astype("int32"))`,
      );
    }
    return index;
  }
  if (index instanceof Int32Array) return tensor(index, { dtype: "int32" });
  if (typeof index !== "number" && !Array.isArray(index)) {
    throw new ChainruleError(
      op,
      `index must be an int32 tensor or an array of integers, got ${index === null ? "null" : typeof index}`,
    );
  }
  const parsed = tensor(index as NestedArray); // float64: nothing truncated before the check
  const values = parsed.data;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new ChainruleError(op, `index must hold integers, got ${v} at flat position ${i}`);
    }
  }
  return parsed.astype("int32");
}

/** Every index in [0, len): PyTorch's gather, scatter_add and index_select take no negative index. */
function checkRange(op: string, index: Tensor, len: number, axis: number, xShape: readonly number[]): void {
  const values = index.data;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < 0 || v >= len) {
      throw new ChainruleError(
        op,
        `index ${v} (flat position ${i}) is out of bounds for axis ${axis} of size ${len} in shape ${formatShape(xShape)} (valid: 0…${len - 1})`,
      );
    }
  }
}

/** Index and x of one rank, the index no larger than x outside the axis (PyTorch's gather rule). */
function checkAlong(op: string, x: Tensor, axis: number, index: Tensor, xName = "x"): void {
  if (index.ndim !== x.ndim) {
    throw new ChainruleError(
      op,
      `index of shape ${formatShape(index.shape)} must have the same rank as ${xName} of shape ${formatShape(x.shape)} (${x.ndim})`,
    );
  }
  index.shape.forEach((d, k) => {
    if (k !== axis && d > (x.shape[k] as number)) {
      throw new ChainruleError(
        op,
        `index of shape ${formatShape(index.shape)} is larger than ${xName} of shape ${formatShape(x.shape)} along axis ${k} (only axis ${axis} may differ)`,
      );
    }
  });
  checkRange(op, index, x.shape[axis] as number, axis, x.shape);
}

/** y[p] = x[p with its axis coordinate → index[p]]      ∂L/∂x = scatterAdd(0, axis, index, g)      ẏ = gather(ẋ) */
const gatherOp = batchable(
  "gather",
  // `op` names the op in errors: gather, or indexSelect checking a batched index through it
  (x: Tensor, axis: number, index: Tensor, op: string): Tensor => {
    checkAlong(op, x, axis, index);
    const idx = index.data as Int32Array;
    const out = allocate(x.dtype, idx.length);
    alongAxis(x.data, x.shape, axis, idx, index.shape, out);
    const frozen = new Tensor(idx.slice(), index.shape); // the rules' own copy: later changes to index cannot reach them
    return fromOp("gather", out, index.shape, [x], {
      vjp: (g) => [scatterAddOp(zeros(x.shape, { dtype: g.dtype }), axis, frozen, g)],
      jvp: ([dx]) => gatherOp(dx as Tensor, axis, frozen, op),
      replay: () => gatherOp(x, axis, frozen, op),
      saves: "none",
    });
  },
  // a batch of inputs, of indices, or of both: spread each over the batch, one axis further right
  (batch, x, axis, index, op): Tensor => batch.wrap(gatherOp(batch.full(x), axis + 1, batch.full(index), op)),
);

/**
 * y = x with src[p] added at p with its axis coordinate → index[p] (src of index's shape)
 * ∂L/∂x = g      ∂L/∂src = gather(g, axis, index)      ẏ = scatterAdd(ẋ, axis, index, ṡrc)
 */
const scatterAddOp = batchable(
  "scatterAdd",
  (x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor => {
    checkAlong("scatterAdd", x, axis, index);
    if (!sameShape(src.shape, index.shape)) {
      throw new ChainruleError(
        "scatterAdd",
        `src of shape ${formatShape(src.shape)} must have index's shape ${formatShape(index.shape)}`,
      );
    }
    const dtype = promote(x.dtype, src.dtype);
    const out = allocate(dtype, x.size);
    out.set(x.data);
    const idx = index.data as Int32Array;
    alongAxis(out, x.shape, axis, idx, index.shape, src.data, true);
    const frozen = new Tensor(idx.slice(), index.shape);
    return fromOp("scatterAdd", out, x.shape, [x, src], {
      vjp: (g) => [g, gatherOp(g, axis, frozen, "gather")],
      jvp: ([dx, ds], y) =>
        scatterAddOp(
          dx ?? zeros(x.shape, { dtype: y.dtype }),
          axis,
          frozen,
          ds ?? zeros(src.shape, { dtype: y.dtype }),
        ),
      replay: () => scatterAddOp(x, axis, frozen, src),
      saves: "none",
    });
  },
  (batch, x, axis, index, src): Tensor =>
    batch.wrap(scatterAddOp(batch.full(x), axis + 1, batch.full(index), batch.full(src))),
);

/** The axis of a gather-like op, with a 0-d x read as rank 1 (PyTorch accepts axis 0 and −1 there). */
function axisOf(op: string, x: Tensor, axis: number): number {
  return normalizeAxis(op, axis, Math.max(x.ndim, 1));
}

function checkTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new ChainruleError(op, `${name} must be a Tensor, got ${x === null ? "null" : typeof x}`);
  }
}

/**
 * PyTorch's gather: y has index's shape and y[i][j][k] = x[i][index[i][j][k]][k] for axis 1
 * (likewise for the other axes). index has x's rank, and no larger extent than x outside `axis`.
 */
export function gather(x: Tensor, axis: number, indexLike: IndexTensorLike): Tensor {
  checkTensor("gather", "x", x);
  const a = axisOf("gather", x, axis);
  const index = toIndexTensor("gather", indexLike);
  if (x.ndim === 0 && index.ndim === 0) return gatherOp(x.reshape([1]), 0, index.reshape([1]), "gather").reshape([]);
  return gatherOp(x, a, index, "gather");
}

/**
 * PyTorch's scatter_add: a copy of x with src[i][j][k] added at x[i][index[i][j][k]][k] for axis 1
 * (repeated indices add up). index, src and x share one rank; index is no larger than src, nor
 * than x outside `axis`; only the part of src that index covers is used.
 */
export function scatterAdd(x: Tensor, axis: number, indexLike: IndexTensorLike, src: Tensor): Tensor {
  checkTensor("scatterAdd", "x", x);
  checkTensor("scatterAdd", "src", src);
  const a = axisOf("scatterAdd", x, axis);
  const index = toIndexTensor("scatterAdd", indexLike);
  if (src.ndim !== index.ndim || index.shape.some((d, k) => d > (src.shape[k] as number))) {
    throw new ChainruleError(
      "scatterAdd",
      `index of shape ${formatShape(index.shape)} must have src's rank and be no larger than src of shape ${formatShape(src.shape)}`,
    );
  }
  if (x.ndim === 0 && index.ndim === 0)
    return scatterAddOp(x.reshape([1]), 0, index.reshape([1]), src.reshape([1])).reshape([]);
  // the covered part of src (its gradient is then zero elsewhere, as it should be)
  const used = index.shape.every((d, k) => d === src.shape[k])
    ? src
    : src.slice(...index.shape.map((d) => [0, d] as const));
  return scatterAddOp(x, a, index, used);
}

/**
 * PyTorch's index_select: the slices of x at `index` (1-d or 0-d, each in [0, n)) along `axis`;
 * the gradient adds g's slices back at those positions.
 */
export function indexSelect(x: Tensor, axis: number, indexLike: IndexTensorLike): Tensor {
  checkTensor("indexSelect", "x", x);
  if (x.ndim === 0) throw new ChainruleError("indexSelect", "x must have at least one axis, got a 0-d tensor");
  const a = axisOf("indexSelect", x, axis);
  const index = toIndexTensor("indexSelect", indexLike);
  if (index.ndim > 1) {
    throw new ChainruleError("indexSelect", `index must be 1-d or 0-d, got shape ${formatShape(index.shape)}`);
  }
  const n = x.shape[a] as number;
  const flat = index.reshape([sizeOf(index.shape)]);
  if (index.batch === null) {
    checkRange("indexSelect", index, n, a, x.shape);
    return take(x, flat, a);
  }
  // a batched index (inside vmap), whose values cannot be read here: gathering it from 0…n−1
  // checks each against [0, n) where the values are known
  return take(x, gatherOp(arange(n, undefined, 1, { dtype: "int32" }), 0, flat, "indexSelect"), a);
}
