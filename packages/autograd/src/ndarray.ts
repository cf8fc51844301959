/**
 * @file The numeric loops: plain indexed loops over row-major typed arrays, no gradients, no
 * allocation inside inner loops. Broadcasting reads operands through zero strides instead of
 * copying them. Imports errors.ts, shape.ts, rules.ts (types only), and kernels/matmul.ts (the SIMD
 * ReLU and arithmetic on long arrays).
 */

import { ChainruleError } from "./errors.js";
import { binaryWasm, reluGradWasm, reluWasm, sumRowsWasm, WASM_MIN_ELEMENTS } from "./kernels/matmul.js";
import { gradMath, mapMath } from "./kernels/unary.js";
import type { BinaryRule } from "./rules.js";
import { broadcastStrides, formatShape, type Shape, sizeOf, stridesOf } from "./shape.js";

/**
 * Element types: two float widths, and int32 for indices and labels (argmax, sort's indices,
 * gather's index, class labels). int32 tensors never carry gradients.
 */
export type Dtype = "float64" | "float32" | "int32";
/** The float dtypes: the ones gradients flow through. */
export type FloatDtype = "float64" | "float32";
/** A float storage: what the arithmetic kernels (matmul, the elementwise maps) work on. */
export type FloatArray = Float64Array | Float32Array;
/** Any tensor's storage: a float storage or the Int32Array of an int32 tensor. */
export type Storage = FloatArray | Int32Array;

/** The dtype of a storage. */
export function dtypeOf(data: Storage): Dtype {
  return data instanceof Float64Array ? "float64" : data instanceof Float32Array ? "float32" : "int32";
}

/**
 * A zeroed storage of `size` elements. Small ones (up to SLAB_MAX bytes) are views into shared
 * slabs, each handed out once: a typed array with a buffer of its own costs an ArrayBuffer object
 * and a separately allocated block — about 200 bytes for the 8 of a scalar, which is most of the
 * memory (and garbage-collection time) of a graph of 0-d tensors, and about 0.6 µs for a 30×10
 * activation, five times a view's cost. Sizes are grouped in classes of a power of two bytes, and a
 * slab holds at most PER_SLAB storages of its class (1 KB for tiny ones): a slab lives as long as
 * any view into it, so a kept storage keeps at most PER_SLAB times its class's size alive. Such a
 * storage's `buffer` is the slab: code that reads it must use `byteOffset` and `byteLength`, as for
 * any typed array.
 */
export function allocate(dtype: "int32", size: number): Int32Array;
export function allocate(dtype: FloatDtype, size: number): FloatArray;
export function allocate(dtype: Dtype, size: number): Storage;
export function allocate(dtype: Dtype, size: number): Storage {
  const View = dtype === "float64" ? Float64Array : dtype === "float32" ? Float32Array : Int32Array;
  const bytes = size * View.BYTES_PER_ELEMENT;
  if (bytes <= SLAB_MAX) return slabFor(dtype, bytes).take(size);
  const out = new View(size);
  madeInPass?.add(out);
  return out;
}

/**
 * The storages allocated while a backward pass records them (tensor.ts's `runBackward`): a
 * gradient whose storage the pass made, and that nothing else holds, can become a leaf's `.grad`
 * without a copy. Tiny storages are not recorded (their copy costs nothing). Weak, so recording
 * keeps nothing alive.
 */
let madeInPass: WeakSet<Storage> | null = null;

/** Start recording into `made` (null: stop); returns what was recorded into before, to restore. */
export function recordStorages(made: WeakSet<Storage> | null): WeakSet<Storage> | null {
  const previous = madeInPass;
  madeInPass = made;
  return previous;
}

/** A storage someone else may hold (a custom op's returned gradient): never adopted. */
export function disownStorage(data: Storage): void {
  madeInPass?.delete(data);
}

/** The largest storage taken from a slab, bytes, and how many storages of its class a slab holds. */
const SLAB_MAX = 2048;
const PER_SLAB = 16;
/** Storages of up to this many bytes share 1 KB slabs (a scalar is 8). */
const TINY = 64;

class Slab<A extends Storage> {
  private buffer: ArrayBuffer | null = null;
  private used = 0; // bytes handed out from `buffer`

  constructor(
    private readonly View: { new (b: ArrayBuffer, offset: number, length: number): A; BYTES_PER_ELEMENT: number },
    private readonly bytes: number,
  ) {}

  take(size: number): A {
    const need = size * this.View.BYTES_PER_ELEMENT;
    if (this.buffer === null || this.used + need > this.bytes) {
      this.buffer = new ArrayBuffer(this.bytes);
      this.used = 0;
    }
    const view = new this.View(this.buffer, this.used, size);
    this.used += need;
    return view;
  }
}

/** Per dtype, the slabs of each class: tiny (≤ TINY bytes), then 128, 256, …, SLAB_MAX bytes. */
const slabs = {
  float64: slabClasses(Float64Array),
  float32: slabClasses(Float32Array),
  int32: slabClasses(Int32Array),
};

function slabClasses<A extends Storage>(View: {
  new (b: ArrayBuffer, offset: number, length: number): A;
  BYTES_PER_ELEMENT: number;
}): Slab<A>[] {
  const classes = [new Slab(View, 1024)];
  for (let size = 2 * TINY; size <= SLAB_MAX; size *= 2) classes.push(new Slab(View, PER_SLAB * size));
  return classes;
}

function slabFor(dtype: Dtype, bytes: number): Slab<Storage> {
  const k = bytes <= TINY ? 0 : Math.ceil(Math.log2(bytes / TINY));
  return slabs[dtype][k] as Slab<Storage>;
}

/**
 * Visit the rows (last axis) of `shape` in row-major order with two strided operands: `visit(p, q)`
 * gets the offsets of the row's first element in operand P and Q, whose strides along each axis
 * are `sp` and `sq`. The caller walks the row itself with the last-axis strides, so the callback
 * runs once per row, not once per element.
 */
function forEachRow(
  shape: Shape,
  sp: readonly number[],
  sq: readonly number[],
  visit: (p: number, q: number) => void,
): void {
  const nd = shape.length;
  if (nd <= 1) {
    visit(0, 0);
    return;
  }
  if (sizeOf(shape) === 0) return;
  const outer = nd - 1;
  const index = new Array<number>(outer).fill(0);
  let p = 0;
  let q = 0;
  for (;;) {
    visit(p, q);
    // Odometer: advance the last outer axis, carrying into the ones before it.
    let d = outer - 1;
    for (; d >= 0; d--) {
      const i = (index[d] as number) + 1;
      if (i < (shape[d] as number)) {
        index[d] = i;
        p += sp[d] as number;
        q += sq[d] as number;
        break;
      }
      index[d] = 0;
      p -= (sp[d] as number) * ((shape[d] as number) - 1);
      q -= (sq[d] as number) * ((shape[d] as number) - 1);
    }
    if (d < 0) return;
  }
}

// The hottest rules get loops of their own: calling the rule's function for every element costs a
// call through a site that sees every rule, several times the arithmetic itself. The loops compute
// exactly what rules.ts says (the property tests compare them with the rules).

/** out[i] = f(x[i]); `op` names a rule with a loop of its own. */
export function mapUnary(f: (x: number) => number, x: Storage, out: Storage, op?: string): void {
  const n = x.length;
  switch (op) {
    case "relu":
      if (!(x instanceof Int32Array) && !(out instanceof Int32Array) && reluWasm(x, out)) return; // SIMD, long float arrays
      for (let i = 0; i < n; i++) {
        const v = x[i] as number;
        out[i] = v > 0 || Number.isNaN(v) ? v : 0; // NaN stays NaN, −0 gives +0
      }
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-(x[i] as number)));
      return;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i] as number);
      return;
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i] as number);
      return;
    default:
      if (op !== undefined && mapMath(op, f, x, out)) return; // the math rules' own loops
      for (let i = 0; i < n; i++) out[i] = f(x[i] as number);
  }
}

/** out[i] = df(x[i], y[i])·g[i]: an elementwise backward step in one loop (no graph). */
export function unaryGrad(
  df: (x: number, y: number) => number,
  x: Storage,
  y: Storage,
  g: Storage,
  out: Storage,
  op?: string,
): void {
  const n = x.length;
  switch (op) {
    case "relu": // [¬(x ≤ 0)]·g, selected rather than multiplied (g passes at NaN)
      if (
        !(g instanceof Int32Array) &&
        !(x instanceof Int32Array) &&
        !(out instanceof Int32Array) &&
        reluGradWasm(x, g, out)
      )
        return; // SIMD, long float arrays
      for (let i = 0; i < n; i++) out[i] = (x[i] as number) <= 0 ? 0 : (g[i] as number);
      return;
    case "sigmoid": // y(1 − y)·g
      for (let i = 0; i < n; i++) {
        const v = y[i] as number;
        out[i] = v * (1 - v) * (g[i] as number);
      }
      return;
    case "tanh": // (1 − y²)·g
      for (let i = 0; i < n; i++) {
        const v = y[i] as number;
        out[i] = (1 - v * v) * (g[i] as number);
      }
      return;
    default:
      if (op !== undefined && gradMath(op, df, x, y, g, out)) return; // the math rules' own loops
      for (let i = 0; i < n; i++) out[i] = df(x[i] as number, y[i] as number) * (g[i] as number);
  }
}

type RowLoop = (
  out: Storage,
  o: number,
  a: Storage,
  ia: number,
  sa: number,
  b: Storage,
  ib: number,
  sb: number,
  n: number,
) => void;

// One row of a broadcast binary op: out[o + j] = a[ia + j·sa] ∘ b[ib + j·sb], j < n.
// Each op's loop is written out: a loop shared by the ops through a function argument is not
// inlined (V8 shares its call feedback among them). Contiguous rows get a loop without strides.
const rowLoops: Record<string, RowLoop> = {
  add: (out, o, a, ia, sa, b, ib, sb, n) => {
    if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[o + j] = (a[ia + j] as number) + (b[ib + j] as number);
    else for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) + (b[ib + j * sb] as number);
  },
  sub: (out, o, a, ia, sa, b, ib, sb, n) => {
    if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[o + j] = (a[ia + j] as number) - (b[ib + j] as number);
    else for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) - (b[ib + j * sb] as number);
  },
  mul: (out, o, a, ia, sa, b, ib, sb, n) => {
    if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[o + j] = (a[ia + j] as number) * (b[ib + j] as number);
    else for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) * (b[ib + j * sb] as number);
  },
  div: (out, o, a, ia, sa, b, ib, sb, n) => {
    if (sa === 1 && sb === 1) for (let j = 0; j < n; j++) out[o + j] = (a[ia + j] as number) / (b[ib + j] as number);
    else for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) / (b[ib + j * sb] as number);
  },
};

/**
 * d ← d / c in place, with c rounded to d's dtype first (as a number operand of `div` is): the
 * SIMD kernels for long arrays, the loop otherwise, with the same bits.
 */
export function divideInPlace(d: FloatArray, c: number): void {
  const divisor = d instanceof Float64Array ? Float64Array.of(c) : Float32Array.of(c);
  if (binaryWasm("div", d, divisor, d)) return;
  const v = divisor[0] as number;
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) / v;
}

/**
 * Whether an operand of shape `shape`, broadcast to `outShape`, is one row repeated: its axes,
 * leading 1s aside, are the last axes of outShape.
 */
function repeatsAsRows(shape: Shape, outShape: Shape): boolean {
  let lead = 0;
  while (lead < shape.length && shape[lead] === 1) lead++;
  const tail = shape.length - lead;
  if (tail > outShape.length) return false;
  for (let j = 0; j < tail; j++) if (shape[lead + j] !== outShape[outShape.length - tail + j]) return false;
  return true;
}

/** out = f(a, b) with a and b broadcast to outShape; `op` names a rule with a loop of its own. */
export function mapBinary(
  f: (a: number, b: number) => number,
  a: Storage,
  aShape: Shape,
  b: Storage,
  bShape: Shape,
  outShape: Shape,
  out: Storage,
  op?: string,
): void {
  const long = op !== undefined && out.length >= WASM_MIN_ELEMENTS;
  if (long && !(out instanceof Int32Array) && !(a instanceof Int32Array) && !(b instanceof Int32Array)) {
    // long operands of one layout, a number, or a row repeated over the rows (a bias): the SIMD
    // kernels, with the operands swapped only where ∘ commutes
    if (binaryWasm(op, a, b, out, repeatsAsRows(bShape, outShape))) return;
    const commutes = op === "add" || op === "mul";
    if (commutes && a.length < out.length && binaryWasm(op, b, a, out, repeatsAsRows(aShape, outShape))) return;
  }
  const row: RowLoop =
    (op === undefined ? undefined : rowLoops[op]) ??
    ((out, o, a, ia, sa, b, ib, sb, n) => {
      for (let j = 0; j < n; j++) out[o + j] = f(a[ia + j * sa] as number, b[ib + j * sb] as number);
    });
  forEachBroadcastRow(aShape, bShape, outShape, (o, ia, la, ib, lb, n) => row(out, o, a, ia, la, b, ib, lb, n));
}

/**
 * The rows of `outShape` with two operands read through broadcast strides: `visit` gets the
 * row's output offset, each operand's offset and stride along the row, and the row's length.
 */
function forEachBroadcastRow(
  aShape: Shape,
  bShape: Shape,
  outShape: Shape,
  visit: (o: number, ia: number, la: number, ib: number, lb: number, n: number) => void,
): void {
  const size = sizeOf(outShape);
  const na = sizeOf(aShape);
  const nb = sizeOf(bShape);
  if ((na === size || na === 1) && (nb === size || nb === 1)) {
    // No broadcasting beyond scalars: the whole output is one row (the common case, and every 0-d op).
    visit(0, 0, na === size ? 1 : 0, 0, nb === size ? 1 : 0, size);
    return;
  }
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const n = outShape.length === 0 ? 1 : (outShape[outShape.length - 1] as number);
  const la = outShape.length === 0 ? 0 : (sa[sa.length - 1] as number);
  const lb = outShape.length === 0 ? 0 : (sb[sb.length - 1] as number);
  let o = 0;
  forEachRow(outShape, sa, sb, (ia, ib) => {
    visit(o, ia, la, ib, lb, n);
    o += n;
  });
}

/**
 * The two partial-derivative products of a broadcast binary op, in the output's shape:
 * ga[i] = ∂y/∂a·g[i] and gb[i] = ∂y/∂b·g[i] (either may be null when not wanted).
 */
export function binaryGrad(
  rule: BinaryRule,
  a: Storage,
  aShape: Shape,
  b: Storage,
  bShape: Shape,
  y: Storage,
  g: Storage,
  outShape: Shape,
  ga: Storage | null,
  gb: Storage | null,
): void {
  forEachBroadcastRow(aShape, bShape, outShape, (o, ia, la, ib, lb, n) => {
    for (let j = 0; j < n; j++) {
      const av = a[ia + j * la] as number;
      const bv = b[ib + j * lb] as number;
      const k = o + j;
      const yv = y[k] as number;
      const gv = g[k] as number;
      if (ga !== null) ga[k] = rule.da(av, bv, yv) * gv;
      if (gb !== null) gb[k] = rule.db(av, bv, yv) * gv;
    }
  });
}

/** Materialise x (of `shape`) broadcast to `outShape`. */
export function expand(x: Storage, shape: Shape, outShape: Shape, out: Storage): void {
  // Repeated along leading axes only (a bias over a batch, a weight per example): whole copies of x.
  let first = 0; // x's leading axes of size 1 are broadcast too
  while (first < shape.length && shape[first] === 1) first++;
  const lead = outShape.length - shape.length;
  let only = x.length > 0;
  for (let d = first; only && d < shape.length; d++) only = shape[d] === outShape[lead + d];
  if (only) {
    for (let o = 0; o < out.length; o += x.length) out.set(x, o);
    return;
  }
  stridedCopy(x, 0, broadcastStrides(shape, outShape), outShape, out);
}

/**
 * out, row-major over `outShape`, reads x at base + Σ strides[d]·index[d]: the one strided copy
 * behind expand (zero strides), permute (permuted strides) and window (stepped strides).
 */
function stridedCopy(x: Storage, base: number, strides: readonly number[], outShape: Shape, out: Storage): void {
  const n = outShape.length === 0 ? 1 : (outShape[outShape.length - 1] as number);
  const last = outShape.length === 0 ? 0 : (strides[strides.length - 1] as number);
  let o = 0;
  forEachRow(outShape, strides, strides, (ix) => {
    for (let j = 0; j < n; j++) out[o++] = x[base + ix + j * last] as number;
  });
}

export type ReduceKind = "sum" | "max" | "min";

/**
 * Reduce x (of `shape`) over `axes` into `out` (of the keepdims shape). For max/min, `arg` (if
 * given) receives, for each output element, the flat index in x of the first extreme element.
 */
export function reduce(
  kind: ReduceKind,
  x: Storage,
  shape: Shape,
  axes: readonly number[],
  out: Storage,
  arg?: Int32Array,
): void {
  // Strides of the output seen from the input's index space: 0 along reduced axes, so every
  // element of a reduced fibre lands on the same output element.
  const keep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const so = stridesOf(keep).map((s, i) => (axes.includes(i) ? 0 : s));
  const sx = stridesOf(shape);
  const n = shape.length === 0 ? 1 : (shape[shape.length - 1] as number);
  const lo = shape.length === 0 ? 0 : (so[so.length - 1] as number);
  if (kind === "sum") {
    out.fill(0);
    const lead = axes.every((a, i) => a === i); // summing leading axes (a bias gradient): rows of n
    if (lead && axes.length > 0 && out.length > 0) {
      if (!(x instanceof Int32Array) && !(out instanceof Int32Array) && sumRowsWasm(x, out)) return;
      const cols = out.length;
      for (let r = 0; r < x.length; r += cols) {
        for (let j = 0; j < cols; j++) out[j] = (out[j] as number) + (x[r + j] as number);
      }
      return;
    }
    forEachRow(shape, sx, so, (ix, io) => {
      for (let j = 0; j < n; j++) out[io + j * lo] = (out[io + j * lo] as number) + (x[ix + j] as number);
    });
    return;
  }
  const better = kind === "max" ? (v: number, best: number) => v > best : (v: number, best: number) => v < best;
  out.fill(Number.NaN);
  const seen = new Uint8Array(out.length);
  forEachRow(shape, sx, so, (ix, io) => {
    for (let j = 0; j < n; j++) {
      const v = x[ix + j] as number;
      const k = io + j * lo;
      // NaN propagates, as in NumPy: once an output is NaN nothing replaces it.
      if (seen[k] === 0 || (!Number.isNaN(out[k] as number) && (better(v, out[k] as number) || Number.isNaN(v)))) {
        seen[k] = 1;
        out[k] = v;
        if (arg !== undefined) arg[k] = ix + j;
      }
    }
  });
}

/** out = x with its axes permuted: out axis i is x axis perm[i]. */
export function permute(x: Storage, shape: Shape, perm: readonly number[], out: Storage): void {
  const sx = stridesOf(shape);
  stridedCopy(
    x,
    0,
    perm.map((p) => sx[p] as number),
    perm.map((p) => shape[p] as number),
    out,
  );
}

/**
 * A gather by one index map per axis: picked[i₀, i₁, …] = full[m₀[i₀], m₁[i₁], …], or `fill`
 * where a map gives −1; a null map is the identity. Padding, flipping, rolling, tiling and
 * repeating are all such maps. With `scatterAdd`, the adjoint: full[m₀[i₀], …] += picked[i₀, …]
 * (full zeroed by the caller; positions mapped to −1 dropped).
 */
export function remap(
  full: Storage,
  shape: Shape,
  maps: readonly (Int32Array | null)[],
  outShape: Shape,
  picked: Storage,
  fill = 0,
  scatterAdd = false,
): void {
  const nd = shape.length;
  if (nd === 0) {
    if (scatterAdd) full[0] = (full[0] as number) + (picked[0] as number);
    else picked[0] = full[0] as number;
    return;
  }
  if (sizeOf(outShape) === 0) return;
  const sx = stridesOf(shape);
  const last = nd - 1;
  const n = outShape[last] as number;
  const row = maps[last] ?? null;
  const index = new Array<number>(last).fill(0); // odometer over the outer axes of outShape
  let o = 0;
  for (;;) {
    // the row's offset in full, or −1 when an outer index falls in the fill
    let base = 0;
    for (let d = 0; d < last; d++) {
      const m = maps[d] ?? null;
      const p = m === null ? (index[d] as number) : (m[index[d] as number] as number);
      if (p < 0) {
        base = -1;
        break;
      }
      base += p * (sx[d] as number);
    }
    if (base < 0) {
      if (!scatterAdd) picked.fill(fill, o, o + n);
    } else if (row === null) {
      if (scatterAdd)
        for (let j = 0; j < n; j++) full[base + j] = (full[base + j] as number) + (picked[o + j] as number);
      else picked.set(full.subarray(base, base + n), o);
    } else if (scatterAdd) {
      for (let j = 0; j < n; j++) {
        const p = row[j] as number;
        if (p >= 0) full[base + p] = (full[base + p] as number) + (picked[o + j] as number);
      }
    } else {
      for (let j = 0; j < n; j++) {
        const p = row[j] as number;
        picked[o + j] = p < 0 ? fill : (full[base + p] as number);
      }
    }
    o += n;
    let d = last - 1;
    for (; d >= 0; d--) {
      const i = (index[d] as number) + 1;
      if (i < (outShape[d] as number)) {
        index[d] = i;
        break;
      }
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

/**
 * The diagonal of x over two axes a < b of equal length n: out has x's other axes in order, then
 * the diagonal (n elements), read with the stride of both axes at once. With `scatter`, the
 * opposite: write `out` onto that diagonal of `x` (zeroed by the caller).
 */
export function diagonal(x: Storage, shape: Shape, a: number, b: number, out: Storage, scatter = false): void {
  const sx = stridesOf(shape);
  const keep = shape.map((_, d) => d).filter((d) => d !== a && d !== b);
  const outShape = [...keep.map((d) => shape[d] as number), shape[a] as number];
  const strides = [...keep.map((d) => sx[d] as number), (sx[a] as number) + (sx[b] as number)];
  if (!scatter) {
    stridedCopy(x, 0, strides, outShape, out);
    return;
  }
  const n = outShape[outShape.length - 1] as number;
  const step = strides[strides.length - 1] as number;
  let o = 0;
  forEachRow(outShape, strides, strides, (ix) => {
    for (let j = 0; j < n; j++) x[ix + j * step] = out[o++] as number;
  });
}

/**
 * The lower (or upper) triangle of every matrix of x (the last two axes, r × c): out[…, i, j] =
 * x[…, i, j] where j − i ≤ k (upper: j − i ≥ k), else 0 (out zeroed by the caller).
 */
export function triangle(x: Storage, shape: Shape, k: number, upper: boolean, out: Storage): void {
  const r = shape[shape.length - 2] as number;
  const c = shape[shape.length - 1] as number;
  const matrices = r * c === 0 ? 0 : x.length / (r * c);
  for (let m = 0; m < matrices; m++) {
    for (let i = 0; i < r; i++) {
      const rowStart = (m * r + i) * c;
      // the kept columns of row i form one run: [0, i + k] (lower) or [i + k, c) (upper)
      const lo = upper ? Math.min(Math.max(i + k, 0), c) : 0;
      const hi = upper ? c : Math.min(Math.max(i + k + 1, 0), c);
      if (hi > lo) out.set(x.subarray(rowStart + lo, rowStart + hi), rowStart + lo);
    }
  }
}

/**
 * A strided window of x: along each axis, elements start[d], start[d] + step[d], … (outShape[d]
 * of them). With `scatter`, the opposite: write `x` (of outShape) into that window of `out`.
 */
export function window(
  x: Storage,
  shape: Shape,
  start: readonly number[],
  step: readonly number[],
  outShape: Shape,
  out: Storage,
  scatter = false,
): void {
  const sx = stridesOf(shape);
  const sw = sx.map((s, d) => s * (step[d] as number));
  const base = start.reduce((acc, s, d) => acc + s * (sx[d] as number), 0);
  // A block of whole rows (step 1 on the first axis, everything of the others) is one copy.
  const whole =
    step[0] === 1 && shape.every((d, i) => i === 0 || (start[i] === 0 && step[i] === 1 && outShape[i] === d));
  if (whole && shape.length > 0) {
    const len = sizeOf(outShape);
    if (scatter) out.set(x.subarray(0, len), base);
    else out.set(x.subarray(base, base + len));
    return;
  }
  if (!scatter) {
    stridedCopy(x, base, sw, outShape, out);
    return;
  }
  const n = outShape.length === 0 ? 1 : (outShape[outShape.length - 1] as number);
  const lw = outShape.length === 0 ? 0 : (sw[sw.length - 1] as number);
  let o = 0;
  forEachRow(outShape, sw, sw, (iw) => {
    for (let j = 0; j < n; j++) out[base + iw + j * lw] = x[o++] as number;
  });
}

/**
 * Gather along `axis` of `full` (of `shape`): picked[…, i, …] = full[…, index[i], …]. With
 * `scatterAdd`, the adjoint: full[…, index[i], …] += picked[…, i, …] (full zeroed by the caller).
 */
export function gather(
  full: Storage,
  shape: Shape,
  axis: number,
  index: Int32Array,
  picked: Storage,
  scatterAdd = false,
): void {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const len = shape[axis] as number;
  const m = index.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const src = (o * len + (index[i] as number)) * inner;
      const dst = (o * m + i) * inner;
      if (scatterAdd)
        for (let j = 0; j < inner; j++) full[src + j] = (full[src + j] as number) + (picked[dst + j] as number);
      else picked.set(full.subarray(src, src + inner), dst); // a whole slice (a batch row) at once
    }
  }
}

/** Concatenate arrays along `axis`; shapes agree except along that axis. */
export function concat(parts: readonly { data: Storage; shape: Shape }[], axis: number, out: Storage): void {
  const first = parts[0];
  if (first === undefined) return;
  const outer = sizeOf(first.shape.slice(0, axis));
  let offset = 0;
  const total = parts.reduce((acc, p) => acc + sizeOf(p.shape.slice(axis)), 0);
  for (const p of parts) {
    const chunk = sizeOf(p.shape.slice(axis));
    for (let o = 0; o < outer; o++) out.set(p.data.subarray(o * chunk, (o + 1) * chunk), o * total + offset);
    offset += chunk;
  }
}

/**
 * Along `axis`, by an index array of the same rank (NumPy's take_along_axis, PyTorch's gather):
 * values[p] = x[p with its `axis` coordinate replaced by index[p]], for every position p of
 * `indexShape`. With `add`, the adjoint (PyTorch's scatter_add): x[that position] += values[p].
 */
export function alongAxis(
  x: Storage,
  xShape: Shape,
  axis: number,
  index: Int32Array,
  indexShape: Shape,
  values: Storage,
  add = false,
): void {
  const sx = stridesOf(xShape);
  const sa = sx[axis] as number;
  const nd = indexShape.length;
  const coord = new Array<number>(nd).fill(0);
  let base = 0; // Σ coord[d]·sx[d] over the axes other than `axis`
  for (let k = 0; k < index.length; k++) {
    const at = base + (index[k] as number) * sa;
    if (add) x[at] = (x[at] as number) + (values[k] as number);
    else values[k] = x[at] as number;
    // Odometer over indexShape, keeping `base` in step.
    for (let d = nd - 1; d >= 0; d--) {
      const step = d === axis ? 0 : (sx[d] as number);
      coord[d] = (coord[d] as number) + 1;
      base += step;
      if ((coord[d] as number) < (indexShape[d] as number)) break;
      base -= step * (indexShape[d] as number);
      coord[d] = 0;
    }
  }
}

/**
 * The running sum or product along `axis`: out[…, i, …] = x[…, 0, …] ∘ … ∘ x[…, i, …], or from
 * the end (x[…, i, …] ∘ … ∘ x[…, n − 1, …]) when `reverse`.
 */
export function cumulate(
  kind: "sum" | "prod",
  x: Storage,
  shape: Shape,
  axis: number,
  reverse: boolean,
  out: Storage,
): void {
  forEachFibre(shape, axis, (base, n, inner) => {
    let acc = kind === "sum" ? 0 : 1;
    for (let t = 0; t < n; t++) {
      const at = base + (reverse ? n - 1 - t : t) * inner;
      acc = kind === "sum" ? acc + (x[at] as number) : acc * (x[at] as number);
      out[at] = acc;
    }
  });
}

/**
 * cumprod's backward step in two passes, exact with zeros (no division): gx_k = E_k·S_k, where
 * E_k = Π_{j < k} x_j is the product before k and S_k = Σ_{i ≥ k} g_i·Π_{k < j ≤ i} x_j, computed
 * from the end by Horner's rule as S_k = g_k + x_{k+1}·S_{k+1}.
 */
export function cumprodGrad(x: Storage, g: Storage, shape: Shape, axis: number, out: Storage): void {
  forEachFibre(shape, axis, (base, n, inner) => {
    let before = 1;
    for (let t = 0, at = base; t < n; t++, at += inner) {
      out[at] = before; // E_t
      before *= x[at] as number;
    }
    let s = 0;
    for (let t = n - 1, at = base + t * inner; t >= 0; t--, at -= inner) {
      s = t === n - 1 ? (g[at] as number) : (g[at] as number) + (x[at + inner] as number) * s;
      out[at] = (out[at] as number) * s;
    }
  });
}

/** log(eᵃ + eᵇ) without overflow: max + log(1 + e^−|a − b|) (−∞ is the identity, NaN propagates). */
function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const m = Math.max(a, b);
  if (m === Number.POSITIVE_INFINITY) return m;
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** The running log-sum-exp along `axis`: out[…, i, …] = log Σ_{j ≤ i} exp x[…, j, …], one logAddExp a step. */
export function logcumsumexp(x: Storage, shape: Shape, axis: number, out: Storage): void {
  forEachFibre(shape, axis, (base, n, inner) => {
    let acc = Number.NEGATIVE_INFINITY;
    for (let t = 0, at = base; t < n; t++, at += inner) {
      acc = logAddExp(acc, x[at] as number);
      out[at] = acc;
    }
  });
}

/**
 * logcumsumexp's backward step in one pass: gx_k = Σ_{i ≥ k} g_i·exp(x_k − y_i), computed from the
 * end as exp(x_k − y_k)·s_k with s_k = g_k + exp(y_k − y_{k+1})·s_{k+1}. y never decreases along
 * the axis, so every exponent is ≤ 0: nothing overflows.
 */
export function logcumsumexpGrad(x: Storage, y: Storage, g: Storage, shape: Shape, axis: number, out: Storage): void {
  forEachFibre(shape, axis, (base, n, inner) => {
    let s = 0;
    let next = 0; // y_{k+1}
    for (let t = n - 1, at = base + t * inner; t >= 0; t--, at -= inner) {
      const yk = y[at] as number;
      s = t === n - 1 ? (g[at] as number) : (g[at] as number) + Math.exp(yk - next) * s;
      out[at] = Math.exp((x[at] as number) - yk) * s;
      next = yk;
    }
  });
}

/**
 * The stable sorting permutation along `axis`: out[…, r, …] is the position of the r-th smallest
 * (largest, when `descending`) element of its fibre. Equal elements keep their order, and NaN
 * counts as larger than every number (as PyTorch's stable sort does).
 */
export function argsort(x: Storage, shape: Shape, axis: number, descending: boolean, out: Int32Array): void {
  const n = shape[axis] as number;
  const fibre = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  // a before b when a is smaller (larger); 0 for equal keeps the order (Array.prototype.sort is stable)
  const ascending = (a: number, b: number) => {
    const u = fibre[a] as number;
    const v = fibre[b] as number;
    if (Number.isNaN(u)) return Number.isNaN(v) ? 0 : 1;
    if (Number.isNaN(v)) return -1;
    return u < v ? -1 : u > v ? 1 : 0;
  };
  const compare = descending ? (a: number, b: number) => ascending(b, a) : ascending;
  forEachFibre(shape, axis, (base, _n, inner) => {
    for (let t = 0; t < n; t++) {
      fibre[t] = x[base + t * inner] as number;
      order[t] = t;
    }
    order.sort(compare);
    for (let t = 0; t < n; t++) out[base + t * inner] = order[t] as number;
  });
}

/**
 * Visit every fibre of `shape` along `axis` (the elements that differ only in their index on that
 * axis): `visit(base, n, step)` gets the offset of its first element, its length, and the distance
 * between consecutive elements.
 */
function forEachFibre(shape: Shape, axis: number, visit: (base: number, n: number, step: number) => void): void {
  const n = shape[axis] as number;
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) visit(o * n * inner + j, n, inner);
}

/**
 * The most bytes one storage may take: 16 GiB. NOTE: V8 (Node 20) caps a typed array at 2³²
 * elements, and an allocation of 32 GiB already fails; past that, asking is certainly a mistake.
 */
export const MAX_BYTES = 2 ** 34;

/**
 * Refuse, before allocating, a result of `shape` larger than MAX_BYTES: a ChainruleError naming
 * the op, the shape and the bytes asked for, instead of a RangeError from inside the engine.
 */
export function checkAllocation(op: string, shape: Shape, dtype: Dtype): void {
  const bytes = sizeOf(shape) * (dtype === "float64" ? 8 : 4);
  if (bytes <= MAX_BYTES) return;
  throw new ChainruleError(
    op,
    `a ${dtype} result of shape ${formatShape(shape)} needs ${bytes} bytes (${formatBytes(bytes)}), over the limit of ${formatBytes(MAX_BYTES)} per tensor`,
  );
}

/** 8000000000000 → "8 TB", in powers of 1000 with at most three significant digits. */
function formatBytes(bytes: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
  let u = 0;
  let v = bytes;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))} ${units[u]}`;
}
