/**
 * @file Operations that move elements without arithmetic, each beside its inverse, which is its
 * derivative rule: reshape ↔ reshape back, permute ↔ the inverse permutation, expand ↔ sum
 * (done by the engine), slice ↔ scatter into zeros, take ↔ scatter-add, concat ↔ slices. The rules
 * move g and read no saved value, so each declares `saves: "none"` for the in-place checks.
 * Imports tensor.ts, ndarray.ts, shape.ts, errors.ts.
 */

import { ChainruleError } from "../errors.js";
import {
  allocate,
  concat as concatKernel,
  expand as expandKernel,
  gather,
  permute as permuteKernel,
  window,
} from "../ndarray.js";
import { broadcastShapes, checkShape, formatShape, normalizeAxes, normalizeAxis, sameShape, sizeOf } from "../shape.js";
import { fromOp, Tensor } from "../tensor.js";

/** y = x viewed with a new shape (shares the storage)      ∂L/∂x = g reshaped back */
export function reshape(x: Tensor, shapeLike: readonly number[]): Tensor {
  if (!Array.isArray(shapeLike))
    throw new ChainruleError("reshape", `shape must be an array, got ${String(shapeLike)}`);
  const shape = [...shapeLike];
  const unknown = shape.indexOf(-1);
  if (unknown !== shape.lastIndexOf(-1))
    throw new ChainruleError("reshape", `only one dimension may be -1, got ${formatShape(shape)}`);
  if (unknown >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new ChainruleError(
        "reshape",
        `cannot infer the -1 in ${formatShape(shape)} for ${x.size} elements (shape ${formatShape(x.shape)})`,
      );
    }
    shape[unknown] = x.size / known;
  }
  checkShape("reshape", shape);
  if (sizeOf(shape) !== x.size) {
    throw new ChainruleError(
      "reshape",
      `cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)} (${sizeOf(shape)} elements)`,
    );
  }
  if (sameShape(shape, x.shape)) return x;
  return fromOp(
    "reshape",
    x.data,
    shape,
    [x],
    (g) => [g.reshape(x.shape)],
    () => reshape(x, shape),
    "none",
  );
}

/** y = x with axes reordered (y axis i = x axis perm[i])      ∂L/∂x = g permuted by perm⁻¹ */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  if (!Array.isArray(axes) || axes.length !== x.ndim) {
    throw new ChainruleError(
      "permute",
      `axes must list each of the ${x.ndim} axes once, got ${Array.isArray(axes) ? formatShape(axes) : String(axes)}`,
    );
  }
  const perm = axes.map((a) => normalizeAxis("permute", a, x.ndim));
  if (new Set(perm).size !== perm.length)
    throw new ChainruleError("permute", `axes ${formatShape(axes)} repeat an axis`);
  if (perm.every((p, i) => p === i)) return x;
  const shape = perm.map((p) => x.shape[p] as number);
  const out = allocate(x.dtype, x.size);
  permuteKernel(x.data, x.shape, perm, out);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return fromOp(
    "permute",
    out,
    shape,
    [x],
    (g) => [g.permute(inverse)],
    () => permute(x, perm),
    "none",
  );
}

/** permute(axes), or swap the last two axes when none are given. */
export function transpose(x: Tensor, axes?: readonly number[]): Tensor {
  if (axes !== undefined) return permute(x, axes);
  if (x.ndim < 2) return x;
  const perm = x.shape.map((_, i) => i);
  perm[x.ndim - 2] = x.ndim - 1;
  perm[x.ndim - 1] = x.ndim - 2;
  return permute(x, perm);
}

/**
 * y = x broadcast to `shape`      ∂L/∂x = g summed over the broadcast axes (the engine's
 * sumToShape does that for every op, so the rule passes g through)
 */
export function expand(x: Tensor, shapeLike: readonly number[]): Tensor {
  const shape = checkShape("expand", shapeLike);
  const target = broadcastShapes("expand", x.shape, shape);
  if (!sameShape(target, shape)) {
    throw new ChainruleError("expand", `cannot broadcast shape ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  if (sameShape(shape, x.shape)) return x;
  const out = allocate(x.dtype, sizeOf(shape));
  expandKernel(x.data, x.shape, shape, out);
  return fromOp(
    "expand",
    out,
    shape,
    [x],
    (g) => [g],
    () => expand(x, shape),
    "none",
  );
}

export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  const axes =
    axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes("squeeze", axis, x.ndim);
  for (const a of axes) {
    if (x.shape[a] !== 1)
      throw new ChainruleError("squeeze", `axis ${a} has size ${x.shape[a]}, not 1, in shape ${formatShape(x.shape)}`);
  }
  return reshape(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis("unsqueeze", axis, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

export function flatten(x: Tensor, startAxis: number, endAxis: number): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis("flatten", startAxis, x.ndim);
  const e = normalizeAxis("flatten", endAxis, x.ndim);
  if (s > e) throw new ChainruleError("flatten", `startAxis ${startAxis} comes after endAxis ${endAxis}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** [start, end, step] with Python's meaning; any part may be null/undefined. */
export type SliceRange = readonly [
  start?: number | null | undefined,
  end?: number | null | undefined,
  step?: number | null | undefined,
];

/** Python's slice.indices: clamp start/end to the axis and count the elements. */
function sliceIndices(range: SliceRange, len: number, axis: number): { start: number; step: number; count: number } {
  const [rawStart, rawEnd, rawStep] = range;
  const step = rawStep ?? 1;
  for (const v of [rawStart, rawEnd, rawStep]) {
    if (v !== null && v !== undefined && !Number.isInteger(v)) {
      throw new ChainruleError(
        "slice",
        `axis ${axis}: start, end and step must be integers or null, got [${range.join(", ")}]`,
      );
    }
  }
  if (step === 0) throw new ChainruleError("slice", `axis ${axis}: step must not be 0`);
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const resolve = (v: number | null | undefined, dflt: number, lo: number, hi: number) =>
    v === null || v === undefined ? dflt : clamp(v < 0 ? v + len : v, lo, hi);
  const start = step > 0 ? resolve(rawStart, 0, 0, len) : resolve(rawStart, len - 1, -1, len - 1);
  const end = step > 0 ? resolve(rawEnd, len, 0, len) : resolve(rawEnd, -1, -1, len - 1);
  const count = step > 0 ? Math.max(0, Math.ceil((end - start) / step)) : Math.max(0, Math.ceil((start - end) / -step));
  // A raw negative end of −len−1 or less means "before the start" for negative steps.
  return { start: count === 0 ? 0 : start, step, count };
}

/** y = a strided window of x      ∂L/∂x = g written into that window of zeros */
export function slice(x: Tensor, ranges: readonly (SliceRange | null)[]): Tensor {
  if (ranges.length > x.ndim)
    throw new ChainruleError("slice", `got ${ranges.length} ranges for a tensor of rank ${x.ndim}`);
  const start: number[] = [];
  const step: number[] = [];
  const shape: number[] = [];
  x.shape.forEach((len, d) => {
    const r = ranges[d];
    if (r !== undefined && r !== null && !Array.isArray(r)) {
      throw new ChainruleError("slice", `axis ${d}: a range must be [start, end, step] or null, got ${String(r)}`);
    }
    const { start: s, step: st, count } = sliceIndices(r ?? [], len, d);
    start.push(s);
    step.push(st);
    shape.push(count);
  });
  return sliceWindow(x, shape, start, step);
}

/** y = zeros of `shape` with g written into the window      ∂L/∂g = that window of ∂L/∂y */
function sliceScatter(g: Tensor, shape: readonly number[], start: number[], step: number[]): Tensor {
  const out = allocate(g.dtype, sizeOf(shape));
  window(g.data, shape, start, step, g.shape, out, true);
  return fromOp(
    "sliceScatter",
    out,
    shape,
    [g],
    (h) => [sliceWindow(h, g.shape, start, step)],
    () => sliceScatter(g, shape, start, step),
    "none",
  );
}

/** The window of h by a precomputed start and step (the adjoint of sliceScatter). */
function sliceWindow(h: Tensor, shape: readonly number[], start: number[], step: number[]): Tensor {
  const out = allocate(h.dtype, sizeOf(shape));
  window(h.data, h.shape, start, step, shape, out);
  return fromOp(
    "slice",
    out,
    shape,
    [h],
    (k) => [sliceScatter(k, h.shape, start, step)],
    () => sliceWindow(h, shape, start, step),
    "none",
  );
}

/** Indices for `take` and `indexSelect`: a number array, an Int32Array, or an integer-valued Tensor. */
export type IndexLike = readonly number[] | Int32Array | Tensor;

function toIndex(op: string, indices: IndexLike, len: number, axis: number): Int32Array {
  if (!(indices instanceof Tensor) && !(indices instanceof Int32Array) && !Array.isArray(indices)) {
    throw new ChainruleError(
      op,
      `indices must be an array of integers, an Int32Array or a 1-d Tensor, got ${String(indices)}`,
    );
  }
  const raw: ArrayLike<number> = indices instanceof Tensor ? indices.data : indices;
  if (indices instanceof Tensor && indices.ndim !== 1) {
    throw new ChainruleError(op, `indices must be 1-d, got shape ${formatShape(indices.shape)}`);
  }
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] as number;
    if (!Number.isInteger(v) || v < -len || v >= len) {
      throw new ChainruleError(op, `index ${v} (position ${i}) is out of range for axis ${axis} of size ${len}`);
    }
    out[i] = v < 0 ? v + len : v;
  }
  return out;
}

/** y = x gathered along `axis` at `indices`      ∂L/∂x = g scatter-added back to those positions */
export function take(x: Tensor, indices: IndexLike, axis: number): Tensor {
  const a = normalizeAxis("take", axis, x.ndim);
  const index = toIndex("take", indices, x.shape[a] as number, a);
  const shape = [...x.shape];
  shape[a] = index.length;
  const out = allocate(x.dtype, sizeOf(shape));
  gather(x.data, x.shape, a, index, out);
  return fromOp(
    "take",
    out,
    shape,
    [x],
    (g) => [scatterAdd(g, x.shape, a, index)],
    () => take(x, index, a),
    "none",
  );
}

/** y = zeros of `shape` with g's slices added at `index` along axis      ∂L/∂g = take(∂L/∂y) */
function scatterAdd(g: Tensor, shape: readonly number[], axis: number, index: Int32Array): Tensor {
  const out = allocate(g.dtype, sizeOf(shape));
  gather(out, shape, axis, index, g.data, true);
  return fromOp(
    "scatterAdd",
    out,
    shape,
    [g],
    (h) => [take(h, index, axis)],
    () => scatterAdd(g, shape, axis, index),
    "none",
  );
}

/** y = x₁ ‖ x₂ ‖ … along axis      ∂L/∂xᵢ = the matching slice of g */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new ChainruleError("concat", "needs a non-empty array of tensors");
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ChainruleError("concat", `element ${i} is not a Tensor`);
  });
  const first = tensors[0] as Tensor;
  const a = normalizeAxis("concat", axis, first.ndim);
  const dtype = tensors.some((t) => t.dtype === "float64") ? "float64" : "float32";
  const parts = tensors.map((t: Tensor, i: number) => {
    const same = t.ndim === first.ndim && t.shape.every((d: number, k: number) => k === a || d === first.shape[k]);
    if (!same) {
      throw new ChainruleError(
        "concat",
        `tensor ${i} has shape ${formatShape(t.shape)}, which does not match ${formatShape(first.shape)} outside axis ${a}`,
      );
    }
    return t.dtype === dtype ? t : t.astype(dtype);
  });
  const shape = [...first.shape];
  shape[a] = parts.reduce((acc, t) => acc + (t.shape[a] as number), 0);
  const out = allocate(dtype, sizeOf(shape));
  concatKernel(parts, a, out);
  const bounds: number[] = [0];
  for (const t of parts) bounds.push((bounds[bounds.length - 1] as number) + (t.shape[a] as number));
  return fromOp(
    "concat",
    out,
    shape,
    parts,
    (g) =>
      parts.map((_, i) => g.slice(...shape.map((_, d) => (d === a ? ([bounds[i], bounds[i + 1]] as const) : null)))),
    () => concat(parts, a),
    "none",
  );
}

/** Join along a new axis: unsqueeze each, then concat. */
export function stack(tensors: readonly Tensor[], axis: number): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new ChainruleError("stack", "needs a non-empty array of tensors");
  const first = tensors[0] as Tensor;
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor) || !sameShape(t.shape, first.shape)) {
      const got = t instanceof Tensor ? formatShape(t.shape) : "not a Tensor";
      throw new ChainruleError(
        "stack",
        `tensor ${i} has shape ${got}; every tensor must have shape ${formatShape(first.shape)}`,
      );
    }
  });
  const a = normalizeAxis("stack", axis, first.ndim + 1);
  return concat(
    tensors.map((t) => t.unsqueeze(a)),
    a,
  );
}
