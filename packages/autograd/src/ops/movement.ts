/**
 * @file Operations that move elements without arithmetic, each beside its inverse, which is its
 * derivative rule: reshape ↔ reshape back, permute ↔ the inverse permutation, expand ↔ sum
 * (done by the engine), slice ↔ scatter into zeros, take ↔ scatter-add, concat ↔ slices. The rules
 * move g and read no saved value, so each declares `saves: "none"` for the in-place checks. Being
 * linear, each moves tangents as it moves values (ẏ = the op applied to ẋ); on a vmap batch each
 * does the same move one axis further right. Imports engine.ts, tensor.ts, ndarray.ts, shape.ts,
 * errors.ts, transforms/vmap.ts, ops/elementwise.ts (dtype promotion).
 */

import { fromOp, versionOf } from "../engine.js";
import { ChainruleError } from "../errors.js";
import {
  allocate,
  checkAllocation,
  concat as concatKernel,
  expand as expandKernel,
  gather,
  permute as permuteKernel,
  type Storage,
  window,
} from "../ndarray.js";
import { broadcastShapes, checkShape, formatShape, normalizeAxes, normalizeAxis, sameShape, sizeOf } from "../shape.js";
import { arange, storageOf, Tensor, type View, zerosLike } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { promote } from "./elementwise.js";

/** The shape asked of `reshape`, with its −1 inferred and its size checked against x's. */
function resolveShape(x: Tensor, shapeLike: readonly number[]): number[] {
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
  return shape;
}

/** y = x viewed with a new shape (shares the storage)      ∂L/∂x = g reshaped back */
export const reshape = batchable(
  "reshape",
  (x: Tensor, shapeLike: readonly number[]): Tensor => {
    const shape = resolveShape(x, shapeLike);
    if (sameShape(shape, x.shape)) return x;
    return fromOp("reshape", x.data, shape, [x], {
      vjp: (g) => [g.reshape(x.shape)],
      jvp: ([dx]) => (dx as Tensor).reshape(shape),
      replay: () => reshape(x, shape),
      saves: "none",
    });
  },
  (batch, x, shape): Tensor => batch.wrap(batch.inner(x).reshape([batch.size, ...resolveShape(x, shape)])),
);

/** The axes of `permute`, checked: each of x's axes once. */
function checkPermutation(x: Tensor, axes: readonly number[]): number[] {
  if (!Array.isArray(axes) || axes.length !== x.ndim) {
    throw new ChainruleError(
      "permute",
      `axes must list each of the ${x.ndim} axes once, got ${Array.isArray(axes) ? formatShape(axes) : String(axes)}`,
    );
  }
  const perm = axes.map((a) => normalizeAxis("permute", a, x.ndim));
  if (new Set(perm).size !== perm.length)
    throw new ChainruleError("permute", `axes ${formatShape(axes)} repeat an axis`);
  return perm;
}

/** y = x with axes reordered (y axis i = x axis perm[i])      ∂L/∂x = g permuted by perm⁻¹ */
export const permute = batchable(
  "permute",
  (x: Tensor, axes: readonly number[]): Tensor => {
    const perm = checkPermutation(x, axes);
    if (perm.every((p, i) => p === i)) return x;
    // A permutation of a view is one permutation of its source; undoing the view gives the source
    // itself (a gradient sent back through a transpose arrives in its source's layout, uncopied).
    const view = x.view;
    const fromSource = view === null ? null : perm.map((p) => view.perm[p] as number);
    if (view !== null && fromSource?.every((p, i) => p === i)) return view.source;
    const shape = perm.map((p) => x.shape[p] as number);
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    // a view: no copy until its values are read (a product reads a transpose from x directly)
    const values = view === null ? permutedView(x, perm) : permutedView(view.source, fromSource as number[]);
    return fromOp("permute", values, shape, [x], {
      vjp: (g) => [g.permute(inverse)],
      jvp: ([dx]) => (dx as Tensor).permute(perm),
      replay: () => permute(x, perm),
      saves: "none",
    });
  },
  (batch, x, axes): Tensor => batch.wrap(permute(batch.inner(x), [0, ...checkPermutation(x, axes).map((p) => p + 1)])),
);

/**
 * x's values permuted, copied when first read and again only after x (or what it views) has been
 * changed in place: the values a PyTorch view would show.
 */
function permutedView(x: Tensor, perm: readonly number[]): View {
  let values: Storage | null = null;
  let readAt = -1; // the source's version when `values` were copied
  return {
    source: x,
    perm,
    read() {
      const version = versionOf(storageOf(x));
      if (values === null || version !== readAt) {
        const out = allocate(x.dtype, x.size);
        permuteKernel(x.data, x.shape, perm, out);
        values = out;
        readAt = version;
      }
      return values;
    },
  };
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
export const expand = batchable(
  "expand",
  (x: Tensor, shapeLike: readonly number[]): Tensor => {
    const shape = checkShape("expand", shapeLike);
    const target = broadcastShapes("expand", x.shape, shape);
    if (!sameShape(target, shape)) {
      throw new ChainruleError("expand", `cannot broadcast shape ${formatShape(x.shape)} to ${formatShape(shape)}`);
    }
    if (sameShape(shape, x.shape)) return x;
    checkAllocation("expand", shape, x.dtype);
    const out = allocate(x.dtype, sizeOf(shape));
    expandKernel(x.data, x.shape, shape, out);
    return fromOp("expand", out, shape, [x], {
      vjp: (g) => [g],
      jvp: ([dx]) => (dx as Tensor).expand(shape),
      replay: () => expand(x, shape),
      saves: "none",
    });
  },
  (batch, x, shape): Tensor =>
    batch.wrap(expand(batch.lift(x, shape.length), [batch.size, ...checkShape("expand", shape)])),
);

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
const sliceScatter = batchable(
  "sliceScatter",
  (g: Tensor, shape: readonly number[], start: number[], step: number[]): Tensor => {
    const out = allocate(g.dtype, sizeOf(shape));
    window(g.data, shape, start, step, g.shape, out, true);
    return fromOp("sliceScatter", out, shape, [g], {
      vjp: (h) => [sliceWindow(h, g.shape, start, step)],
      jvp: ([dg]) => sliceScatter(dg as Tensor, shape, start, step),
      replay: () => sliceScatter(g, shape, start, step),
      saves: "none",
    });
  },
  (batch, g, shape, start, step): Tensor =>
    batch.wrap(sliceScatter(batch.inner(g), [batch.size, ...shape], [0, ...start], [1, ...step])),
);

/** The window of h by a precomputed start and step (the adjoint of sliceScatter). */
const sliceWindow = batchable(
  "slice",
  (h: Tensor, shape: readonly number[], start: number[], step: number[]): Tensor => {
    const out = allocate(h.dtype, sizeOf(shape));
    window(h.data, h.shape, start, step, shape, out);
    return fromOp("slice", out, shape, [h], {
      vjp: (k) => [sliceScatter(k, h.shape, start, step)],
      jvp: ([dh]) => sliceWindow(dh as Tensor, shape, start, step),
      replay: () => sliceWindow(h, shape, start, step),
      saves: "none",
    });
  },
  (batch, h, shape, start, step): Tensor =>
    batch.wrap(sliceWindow(batch.inner(h), [batch.size, ...shape], [0, ...start], [1, ...step])),
);

/** Indices for take: an array of integers, an Int32Array, or a 1-d tensor (int32, or floats holding integers). */
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
export const take = batchable(
  "take",
  (x: Tensor, indices: IndexLike, axis: number): Tensor => {
    const a = normalizeAxis("take", axis, x.ndim);
    const index = toIndex("take", indices, x.shape[a] as number, a);
    const shape = [...x.shape];
    shape[a] = index.length;
    const out = allocate(x.dtype, sizeOf(shape));
    gather(x.data, x.shape, a, index, out);
    return fromOp("take", out, shape, [x], {
      vjp: (g) => [indexAdd(g, x.shape, a, index)],
      jvp: ([dx]) => take(dx as Tensor, index, a),
      replay: () => take(x, index, a),
      saves: "none",
    });
  },
  (batch, x, indices, axis): Tensor => {
    // a batch of inputs, the same indices for all: the same take one axis further right
    if (!batch.has(indices)) return batch.wrap(take(batch.inner(x), indices, batch.axis("take", axis, x.ndim)));
    // indices of their own per example: one take from the batch with the batch axis merged into the
    // taken axis, example b's index i becoming b·n + i
    const idx = batch.inner(indices as Tensor);
    if (idx.ndim !== 2)
      throw new ChainruleError("take", `indices must be 1-d, got shape ${formatShape(idx.shape.slice(1))}`);
    const a = normalizeAxis("take", axis, x.ndim);
    const n = x.shape[a] as number;
    const [size, m] = idx.shape as [number, number];
    const first = [0, a + 1, ...x.shape.map((_, d) => d + 1).filter((d) => d !== a + 1)];
    const rows = batch
      .full(x)
      .permute(first)
      .reshape([size * n, ...x.shape.filter((_, d) => d !== a)]);
    // taking from 0…n−1 checks every index against the axis and counts negative ones from the end
    const within = take(arange(n, undefined, 1, { dtype: "int32" }), idx.reshape([size * m]), 0);
    const offsets = arange(size, undefined, 1, { dtype: "int32" }).mul(n).reshape([size, 1]);
    const picked = take(
      rows,
      within
        .reshape([size, m])
        .add(offsets)
        .reshape([size * m]),
      0,
    );
    const back = first.map((_, d) => first.indexOf(d));
    return batch.wrap(picked.reshape([size, m, ...x.shape.filter((_, d) => d !== a)]).permute(back));
  },
);

/**
 * y = zeros of `shape` with g's slices added at `index` along axis (PyTorch's index_add)
 * ∂L/∂g = take(∂L/∂y)
 */
const indexAdd = batchable(
  "indexAdd",
  (g: Tensor, shape: readonly number[], axis: number, index: Int32Array): Tensor => {
    const out = allocate(g.dtype, sizeOf(shape));
    gather(out, shape, axis, index, g.data, true);
    return fromOp("indexAdd", out, shape, [g], {
      vjp: (h) => [take(h, index, axis)],
      jvp: ([dg]) => indexAdd(dg as Tensor, shape, axis, index),
      replay: () => indexAdd(g, shape, axis, index),
      saves: "none",
    });
  },
  (batch, g, shape, axis, index): Tensor =>
    batch.wrap(indexAdd(batch.inner(g), [batch.size, ...shape], axis + 1, index)),
);

/** y = x₁ ‖ x₂ ‖ … along axis      ∂L/∂xᵢ = the matching slice of g */
export const concat = batchable(
  "concat",
  (tensors: readonly Tensor[], axis: number): Tensor => {
    if (!Array.isArray(tensors) || tensors.length === 0)
      throw new ChainruleError("concat", "needs a non-empty array of tensors");
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new ChainruleError("concat", `element ${i} is not a Tensor`);
    });
    const first = tensors[0] as Tensor;
    const a = normalizeAxis("concat", axis, first.ndim);
    const dtype = tensors.map((t) => t.dtype).reduce(promote);
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
    return fromOp("concat", out, shape, parts, {
      vjp: (g) =>
        parts.map((_, i) => g.slice(...shape.map((_, d) => (d === a ? ([bounds[i], bounds[i + 1]] as const) : null)))),
      jvp: (ts) =>
        concat(
          ts.map((t, i) => t ?? zerosLike(parts[i] as Tensor)),
          a,
        ), // ẏ = ẋ₁ ‖ ẋ₂ ‖ …
      replay: () => concat(parts, a),
      saves: "none",
    });
  },
  (batch, tensors, axis): Tensor => {
    const first = tensors[0] as Tensor;
    return batch.wrap(
      concat(
        tensors.map((t) => batch.full(t)),
        batch.axis("concat", axis, first.ndim),
      ),
    );
  },
);

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
