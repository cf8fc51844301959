/**
 * @file Movement ops that copy elements to new places: pad, flip, roll, tile, repeatInterleave
 * (one primitive, `remap`), split and chunk (slices), tril and triu (`triangle`), and the
 * diagonal that einsum takes for a repeated subscript.
 *
 * `remap` gathers by one index map per axis: y[i₀, i₁, …] = x[m₀(i₀), m₁(i₁), …], or a constant
 * where a map points outside x (constant padding). Every op of the first group is such a map:
 * padding by reflection maps −1 to 1, rolling by s maps i to i − s mod n, tiling maps i to i mod n.
 * The derivative of a gather is its adjoint, a scatter-add through the same maps (an element
 * copied to several places collects all their gradients); the adjoint's derivative is the gather
 * again. Both are linear, so tangents move as values do, and on a vmap batch the batch axis gets
 * the identity map. Imports engine.ts, tensor.ts, ndarray.ts, shape.ts, errors.ts,
 * transforms/vmap.ts.
 */

import { fromOp } from "../engine.js";
import { ChainruleError } from "../errors.js";
import {
  allocate,
  checkAllocation,
  diagonal as diagonalKernel,
  remap as remapKernel,
  triangle as triangleKernel,
} from "../ndarray.js";
import { formatShape, normalizeAxis, sizeOf } from "../shape.js";
import { Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";

/** An index map for one axis: output position → input position (−1: the fill); null is the identity. */
type IndexMap = Int32Array | null;

/**
 * y[i₀, …] = x[m₀(i₀), …] (`fill` where a map gives −1)      ∂L/∂x = g scatter-added through
 * the maps      ẏ = the same gather of ẋ, filled with 0 (the fill is a constant)
 */
const remap = batchable(
  "remap",
  (name: string, x: Tensor, maps: readonly IndexMap[], fill: number): Tensor => {
    const shape = maps.map((m, d) => (m === null ? (x.shape[d] as number) : m.length));
    checkAllocation(name, shape, x.dtype);
    const out = allocate(x.dtype, sizeOf(shape));
    remapKernel(x.data, x.shape, maps, shape, out, fill);
    return fromOp(name, out, shape, [x], {
      vjp: (g) => [remapAdd(g, x.shape, maps)],
      jvp: ([dx]) => remap(name, dx as Tensor, maps, 0),
      replay: () => remap(name, x, maps, fill),
      saves: "none",
    });
  },
  (batch, name, x, maps, fill): Tensor => batch.wrap(remap(name, batch.inner(x), [null, ...maps], fill)),
);

/** y = zeros of `shape` with g scatter-added through the maps      ∂L/∂g = the gather of ∂L/∂y */
const remapAdd = batchable(
  "remapAdd",
  (g: Tensor, shape: readonly number[], maps: readonly IndexMap[]): Tensor => {
    const out = allocate(g.dtype, sizeOf(shape));
    remapKernel(out, shape, maps, g.shape, g.data, 0, true);
    return fromOp("remapAdd", out, shape, [g], {
      vjp: (h) => [remap("remap", h, maps, 0)],
      jvp: ([dg]) => remapAdd(dg as Tensor, shape, maps),
      replay: () => remapAdd(g, shape, maps),
      saves: "none",
    });
  },
  (batch, g, shape, maps): Tensor => batch.wrap(remapAdd(batch.inner(g), [batch.size, ...shape], [null, ...maps])),
);

function isInteger(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function describe(v: unknown): string {
  return Array.isArray(v) ? JSON.stringify(v) : String(v);
}

// ---- pad ----

export type PadMode = "constant" | "reflect" | "replicate";

export interface PadOptions {
  /** "constant" (default): fill with `value`; "reflect": mirror without repeating the edge; "replicate": repeat the edge. */
  mode?: PadMode;
  /** The fill of constant padding (default 0). */
  value?: number;
}

/**
 * Pad every axis by widths[d] = [before, after] elements, as torch.nn.functional.pad (but with
 * the widths listed from the first axis on). Reflect: x[−i] = x[i] and x[n − 1 + i] = x[n − 1 − i],
 * so each width must be < the axis length; replicate repeats the edge element.
 */
export function pad(x: Tensor, widths: readonly (readonly [number, number])[], options: PadOptions = {}): Tensor {
  if (options === null || typeof options !== "object")
    throw new ChainruleError("pad", `options must be an object { mode?, value? }, got ${String(options)}`);
  const { mode = "constant", value } = options;
  if (mode !== "constant" && mode !== "reflect" && mode !== "replicate")
    throw new ChainruleError("pad", `mode must be "constant", "reflect" or "replicate", got ${describe(mode)}`);
  if (value !== undefined && typeof value !== "number")
    throw new ChainruleError("pad", `value must be a number, got ${describe(value)}`);
  // as in PyTorch, a value of 0 passes with any mode (it is the default), any other only with "constant"
  if (value !== undefined && value !== 0 && mode !== "constant")
    throw new ChainruleError("pad", `mode "${mode}" takes no value (got ${value}); only "constant" padding fills`);
  if (!Array.isArray(widths) || widths.length !== x.ndim) {
    throw new ChainruleError(
      "pad",
      `widths must list [before, after] for each of the ${x.ndim} axes of shape ${formatShape(x.shape)}, got ${describe(widths)}`,
    );
  }
  widths.forEach((w, d) => {
    if (!Array.isArray(w) || w.length !== 2 || !isInteger(w[0]) || !isInteger(w[1]) || w[0] < 0 || w[1] < 0) {
      throw new ChainruleError(
        "pad",
        `widths[${d}] must be [before, after] with non-negative integers, got ${describe(w)}`,
      );
    }
    const n = x.shape[d] as number;
    if (mode === "reflect" && (w[0] >= n || w[1] >= n) && (w[0] > 0 || w[1] > 0)) {
      throw new ChainruleError(
        "pad",
        `reflect padding widths[${d}] = [${w[0]}, ${w[1]}] must each be less than the size ${n} of axis ${d} (shape ${formatShape(x.shape)})`,
      );
    }
    if (mode === "replicate" && n === 0 && (w[0] > 0 || w[1] > 0)) {
      throw new ChainruleError(
        "pad",
        `replicate padding of axis ${d} needs an element to repeat, but it has size 0 (shape ${formatShape(x.shape)})`,
      );
    }
  });
  checkAllocation(
    "pad",
    x.shape.map((n, d) => n + (widths[d]?.[0] ?? 0) + (widths[d]?.[1] ?? 0)),
    x.dtype,
  );
  const maps = widths.map(([before, after], d): IndexMap => {
    if (before === 0 && after === 0) return null;
    const n = x.shape[d] as number;
    const m = new Int32Array(n + before + after);
    for (let i = 0; i < m.length; i++) {
      const p = i - before; // position in x
      if (mode === "constant") m[i] = p >= 0 && p < n ? p : -1;
      else if (mode === "replicate") m[i] = Math.min(Math.max(p, 0), n - 1);
      else m[i] = p < 0 ? -p : p >= n ? 2 * (n - 1) - p : p; // reflect about the edge elements
    }
    return m;
  });
  if (maps.every((m) => m === null)) return x;
  return remap("pad", x, maps, value ?? 0);
}

// ---- flip, roll ----

/** Axes given as a number or a list, normalized, each at most once. */
function axisList(op: string, axes: number | readonly number[], ndim: number): number[] {
  const list = typeof axes === "number" ? [axes] : axes;
  if (!Array.isArray(list))
    throw new ChainruleError(op, `axes must be a number or an array of numbers, got ${String(axes)}`);
  return list.map((a) => normalizeAxis(op, a, ndim));
}

/** y = x reversed along the given axes (torch.flip): y[i] = x[n − 1 − i] */
export function flip(x: Tensor, axes: number | readonly number[]): Tensor {
  const list = axisList("flip", axes, x.ndim);
  if (new Set(list).size !== list.length)
    throw new ChainruleError("flip", `axes ${describe(axes)} repeat an axis of a tensor of rank ${x.ndim}`);
  if (list.length === 0) return x;
  const maps = x.shape.map((n, d): IndexMap => {
    if (!list.includes(d)) return null;
    const m = new Int32Array(n);
    for (let i = 0; i < n; i++) m[i] = n - 1 - i;
    return m;
  });
  return remap("flip", x, maps, 0);
}

/**
 * y = x shifted cyclically by `shifts` along `axis` (torch.roll): y[i] = x[(i − s) mod n]. Shifts
 * and axes may be lists of the same length (an axis listed twice is rolled twice); without an
 * axis the flattened tensor is rolled and reshaped back.
 */
export function roll(x: Tensor, shifts: number | readonly number[], axis?: number | readonly number[]): Tensor {
  const shiftList = typeof shifts === "number" ? [shifts] : shifts;
  if (!Array.isArray(shiftList) || !shiftList.every(isInteger))
    throw new ChainruleError("roll", `shifts must be an integer or an array of integers, got ${describe(shifts)}`);
  if (axis === undefined) {
    if (shiftList.length !== 1) {
      throw new ChainruleError(
        "roll",
        `without an axis, shifts must be one integer (the flattened tensor is rolled), got ${describe(shifts)}`,
      );
    }
    return roll(x.reshape([x.size]), shiftList, 0).reshape(x.shape as number[]);
  }
  const axes = axisList("roll", axis, x.ndim);
  if (axes.length !== shiftList.length) {
    throw new ChainruleError(
      "roll",
      `shifts ${describe(shifts)} and axis ${describe(axis)} must have the same length (one shift per axis)`,
    );
  }
  const total = new Array<number>(x.ndim).fill(0);
  axes.forEach((a, i) => {
    total[a] = (total[a] as number) + (shiftList[i] as number);
  });
  const maps = x.shape.map((n, d): IndexMap => {
    const s = n === 0 ? 0 : (((total[d] as number) % n) + n) % n;
    if (s === 0) return null;
    const m = new Int32Array(n);
    for (let i = 0; i < n; i++) m[i] = i < s ? i - s + n : i - s;
    return m;
  });
  if (maps.every((m) => m === null)) return x;
  return remap("roll", x, maps, 0);
}

// ---- tile, repeatInterleave ----

/**
 * y = x repeated reps[d] times along each axis (torch.tile): y[i] = x[i mod n]. reps shorter than
 * the rank is padded with leading 1s; longer, x gains leading axes of size 1.
 */
export function tile(x: Tensor, repsLike: number | readonly number[]): Tensor {
  const reps = typeof repsLike === "number" ? [repsLike] : repsLike;
  if (!Array.isArray(reps) || !reps.every((r) => isInteger(r) && r >= 0))
    throw new ChainruleError("tile", `reps must be an array of non-negative integers, got ${describe(repsLike)}`);
  const rank = Math.max(reps.length, x.ndim);
  const full = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  const src = x.ndim < rank ? x.reshape([...new Array<number>(rank - x.ndim).fill(1), ...x.shape]) : x;
  checkAllocation(
    "tile",
    src.shape.map((n, d) => n * (full[d] as number)),
    x.dtype,
  );
  const maps = src.shape.map((n, d): IndexMap => {
    const r = full[d] as number;
    if (r === 1) return null;
    const m = new Int32Array(n * r);
    for (let i = 0; i < m.length; i++) m[i] = i % n;
    return m;
  });
  if (maps.every((m) => m === null)) return src;
  return remap("tile", src, maps, 0);
}

/**
 * Each element repeated along `axis` (torch.repeat_interleave): `repeats` times, or repeats[j]
 * times for element j (a list or 1-d tensor of the axis's length, or of length 1). Without an axis, the
 * flattened tensor is repeated. y = x[j] for the repeats[j] positions of element j.
 */
export function repeatInterleave(x: Tensor, repeats: number | readonly number[] | Tensor, axis?: number): Tensor {
  if (axis === undefined) return repeatInterleave(x.reshape([x.size]), repeats, 0);
  const a = normalizeAxis("repeatInterleave", axis, x.ndim);
  const n = x.shape[a] as number;
  if (repeats instanceof Tensor && repeats.ndim > 1) {
    throw new ChainruleError(
      "repeatInterleave",
      `repeats must be a number or a 1-d list, got a tensor of shape ${formatShape(repeats.shape)}`,
    );
  }
  const list = typeof repeats === "number" ? [repeats] : repeats instanceof Tensor ? Array.from(repeats.data) : repeats;
  if (!Array.isArray(list) || !list.every((r) => isInteger(r) && r >= 0)) {
    throw new ChainruleError(
      "repeatInterleave",
      `repeats must be a non-negative integer or an array of them, got ${describe(repeats)}`,
    );
  }
  if (list.length !== 1 && list.length !== n) {
    throw new ChainruleError(
      "repeatInterleave",
      `repeats has ${list.length} entries; expected one per element of axis ${a} (${n}) or a single one`,
    );
  }
  const count = (j: number) => (list.length === 1 ? list[0] : list[j]) as number;
  let total = 0;
  for (let j = 0; j < n; j++) total += count(j);
  checkAllocation(
    "repeatInterleave",
    x.shape.map((d, k) => (k === a ? total : d)),
    x.dtype,
  );
  const m = new Int32Array(total);
  for (let j = 0, o = 0; j < n; j++) for (let r = count(j); r > 0; r--) m[o++] = j;
  const maps = x.shape.map((_, d): IndexMap => (d === a ? m : null));
  return remap("repeatInterleave", x, maps, 0);
}

// ---- split, chunk ----

/**
 * Cut x along `axis` into pieces (torch.split): of `sizes[i]` elements each (they must add up to
 * the axis length), or, given one number, of that many elements each (the last may be shorter).
 * Each piece is a slice, so its gradient is written back into its window.
 */
export function split(x: Tensor, sizeOrSizes: number | readonly number[], axis = 0): Tensor[] {
  if (x.ndim === 0) throw new ChainruleError("split", "cannot split a 0-d tensor: it has no axis");
  const a = normalizeAxis("split", axis, x.ndim);
  const n = x.shape[a] as number;
  let sizes: number[];
  if (typeof sizeOrSizes === "number") {
    const s = sizeOrSizes;
    if (!isInteger(s) || s < 0 || (s === 0 && n > 0)) {
      throw new ChainruleError(
        "split",
        `the piece size must be a positive integer (0 only for an empty axis), got ${s} for axis ${a} of size ${n}`,
      );
    }
    const count = s === 0 ? 1 : Math.max(Math.ceil(n / s), 1);
    sizes = Array.from({ length: count }, (_, i) => Math.min(s, n - i * s));
  } else {
    if (!Array.isArray(sizeOrSizes) || !sizeOrSizes.every((s) => isInteger(s) && s >= 0))
      throw new ChainruleError(
        "split",
        `sizes must be a number or an array of non-negative integers, got ${describe(sizeOrSizes)}`,
      );
    const sum = sizeOrSizes.reduce((acc, s) => acc + s, 0);
    if (sum !== n) {
      throw new ChainruleError(
        "split",
        `sizes ${describe(sizeOrSizes)} add up to ${sum}, but axis ${a} of shape ${formatShape(x.shape)} has ${n} elements`,
      );
    }
    sizes = [...sizeOrSizes];
  }
  let start = 0;
  return sizes.map((s) => {
    const piece = x.slice(...x.shape.map((_, d) => (d === a ? ([start, start + s] as const) : null)));
    start += s;
    return piece;
  });
}

/**
 * Cut x along `axis` into `chunks` pieces of ⌈n / chunks⌉ elements (torch.chunk): the last may be
 * shorter, and there may be fewer than `chunks` pieces (an empty axis gives `chunks` empty ones).
 */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (x.ndim === 0) throw new ChainruleError("chunk", "cannot chunk a 0-d tensor: it has no axis");
  if (!isInteger(chunks) || chunks <= 0)
    throw new ChainruleError("chunk", `chunks must be a positive integer, got ${describe(chunks)}`);
  const a = normalizeAxis("chunk", axis, x.ndim);
  const n = x.shape[a] as number;
  if (n === 0) return split(x, new Array<number>(chunks).fill(0), a);
  return split(x, Math.ceil(n / chunks), a);
}

// ---- tril, triu ----

/**
 * y = x on and below (tril) or on and above (triu) the k-th diagonal of the last two axes, 0
 * elsewhere      ∂L/∂x = the same triangle of g      ẏ = the same triangle of ẋ
 */
const triangle = batchable(
  "triangle",
  (x: Tensor, k: number, upper: boolean): Tensor => {
    const op = upper ? "triu" : "tril";
    if (x.ndim < 2)
      throw new ChainruleError(
        op,
        `needs a tensor of rank ≥ 2 (matrices in the last two axes), got shape ${formatShape(x.shape)}`,
      );
    if (!isInteger(k)) throw new ChainruleError(op, `k (the diagonal) must be an integer, got ${describe(k)}`);
    const out = allocate(x.dtype, x.size);
    triangleKernel(x.data, x.shape, k, upper, out);
    return fromOp(op, out, x.shape, [x], {
      vjp: (g) => [triangle(g, k, upper)],
      jvp: ([dx]) => triangle(dx as Tensor, k, upper),
      replay: () => triangle(x, k, upper),
      saves: "none",
    });
  },
  (batch, x, k, upper): Tensor => batch.wrap(triangle(batch.inner(x), k, upper)),
);

/** The lower triangle of the last two axes: elements with j − i ≤ k kept, the rest 0 (torch.tril). */
export function tril(x: Tensor, k = 0): Tensor {
  return triangle(x, k, false);
}

/** The upper triangle of the last two axes: elements with j − i ≥ k kept, the rest 0 (torch.triu). */
export function triu(x: Tensor, k = 0): Tensor {
  return triangle(x, k, true);
}

// ---- diagonal ----

/**
 * y = the diagonal of x over axes a ≠ b of equal length: x's other axes, then the diagonal as the
 * last axis (as torch.diagonal)      ∂L/∂x = g written onto that diagonal of zeros
 */
export const diagonal = batchable(
  "diagonal",
  (x: Tensor, axis1: number, axis2: number): Tensor => {
    const [a, b] = diagonalAxes(x, axis1, axis2);
    const shape = [...x.shape.filter((_, d) => d !== a && d !== b), x.shape[a] as number];
    const out = allocate(x.dtype, sizeOf(shape));
    diagonalKernel(x.data, x.shape, a, b, out);
    return fromOp("diagonal", out, shape, [x], {
      vjp: (g) => [diagonalEmbed(g, x.shape, a, b)],
      jvp: ([dx]) => diagonal(dx as Tensor, a, b),
      replay: () => diagonal(x, a, b),
      saves: "none",
    });
  },
  (batch, x, axis1, axis2): Tensor => {
    const [a, b] = diagonalAxes(x, axis1, axis2);
    return batch.wrap(diagonal(batch.inner(x), a + 1, b + 1));
  },
);

/** The two axes of a diagonal, checked and sorted. */
function diagonalAxes(x: Tensor, axis1: number, axis2: number): [number, number] {
  const a = normalizeAxis("diagonal", axis1, x.ndim);
  const b = normalizeAxis("diagonal", axis2, x.ndim);
  if (a === b) throw new ChainruleError("diagonal", `axis1 and axis2 must differ, got ${axis1} and ${axis2}`);
  if (x.shape[a] !== x.shape[b]) {
    throw new ChainruleError(
      "diagonal",
      `axes ${a} and ${b} of shape ${formatShape(x.shape)} must have the same length for a diagonal`,
    );
  }
  return a < b ? [a, b] : [b, a];
}

/** y = zeros of `shape` with g (diagonal last) written onto the diagonal over axes a < b      ∂L/∂g = that diagonal of ∂L/∂y */
const diagonalEmbed = batchable(
  "diagonalEmbed",
  (g: Tensor, shape: readonly number[], a: number, b: number): Tensor => {
    const out = allocate(g.dtype, sizeOf(shape));
    diagonalKernel(out, shape, a, b, g.data, true);
    return fromOp("diagonalEmbed", out, shape, [g], {
      vjp: (h) => [diagonal(h, a, b)],
      jvp: ([dg]) => diagonalEmbed(dg as Tensor, shape, a, b),
      replay: () => diagonalEmbed(g, shape, a, b),
      saves: "none",
    });
  },
  (batch, g, shape, a, b): Tensor => batch.wrap(diagonalEmbed(batch.inner(g), [batch.size, ...shape], a + 1, b + 1)),
);
