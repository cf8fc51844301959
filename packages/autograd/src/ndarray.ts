/**
 * @file The numeric loops: plain indexed loops over row-major typed arrays, no gradients, no
 * allocation inside inner loops. Broadcasting reads operands through zero strides instead of
 * copying them. Imports shape.ts, rules.ts (types only), and kernels/matmul.ts (the SIMD ReLU).
 */

import { reluGradWasm, reluWasm } from "./kernels/matmul.js";
import { gradMath, mapMath } from "./kernels/unary.js";
import type { BinaryRule } from "./rules.js";
import { broadcastStrides, type Shape, sizeOf, stridesOf } from "./shape.js";

export type Dtype = "float64" | "float32";
export type FloatArray = Float64Array | Float32Array;

/**
 * A zeroed storage of `size` elements. Tiny ones (up to SMALL elements) are views into shared
 * 1 KB slabs handed out once each: a typed array with a buffer of its own costs an ArrayBuffer
 * object and a separately allocated block, about 200 bytes for the 8 of a scalar, which is
 * most of the memory (and garbage-collection time) of a graph of 0-d tensors. A slab lives as long
 * as any view into it, so a kept scalar keeps at most 1 KB alive. Such a storage's `buffer` is
 * the slab: code that reads it must use `byteOffset` and `byteLength`, as for any typed array.
 */
export function allocate(dtype: Dtype, size: number): FloatArray {
  if (size <= SMALL) return dtype === "float64" ? slab64.take(size) : slab32.take(size);
  const out = dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
  madeInPass?.add(out);
  return out;
}

/**
 * The storages allocated while a backward pass records them (tensor.ts's `runBackward`): a
 * gradient whose storage the pass made, and that nothing else holds, can become a leaf's `.grad`
 * without a copy. Tiny storages are not recorded (their copy costs nothing). Weak, so recording
 * keeps nothing alive.
 */
let madeInPass: WeakSet<FloatArray> | null = null;

/** Start recording into `made` (null: stop); returns what was recorded into before, to restore. */
export function recordStorages(made: WeakSet<FloatArray> | null): WeakSet<FloatArray> | null {
  const previous = madeInPass;
  madeInPass = made;
  return previous;
}

/** A storage someone else may hold (a custom op's returned gradient): never adopted. */
export function disownStorage(data: FloatArray): void {
  madeInPass?.delete(data);
}

const SMALL = 8;
const SLAB_BYTES = 1024;

class Slab<A extends FloatArray> {
  private buffer: ArrayBuffer | null = null;
  private used = 0; // elements handed out from `buffer`

  constructor(
    private readonly View: { new (b: ArrayBuffer, offset: number, length: number): A; BYTES_PER_ELEMENT: number },
  ) {}

  take(size: number): A {
    const per = this.View.BYTES_PER_ELEMENT;
    if (this.buffer === null || (this.used + size) * per > SLAB_BYTES) {
      this.buffer = new ArrayBuffer(SLAB_BYTES);
      this.used = 0;
    }
    const view = new this.View(this.buffer, this.used * per, size);
    this.used += size;
    return view;
  }
}

const slab64 = new Slab(Float64Array);
const slab32 = new Slab(Float32Array);

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
export function mapUnary(f: (x: number) => number, x: FloatArray, out: FloatArray, op?: string): void {
  const n = x.length;
  switch (op) {
    case "relu":
      if (reluWasm(x, out)) return; // the SIMD kernel, for long arrays
      for (let i = 0; i < n; i++) {
        const v = x[i] as number;
        out[i] = v > 0 ? v : 0;
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
  x: FloatArray,
  y: FloatArray,
  g: FloatArray,
  out: FloatArray,
  op?: string,
): void {
  const n = x.length;
  switch (op) {
    case "relu": // [x > 0]·g
      if (reluGradWasm(x, g, out)) return; // the SIMD kernel, for long arrays
      for (let i = 0; i < n; i++) out[i] = (x[i] as number) > 0 ? (g[i] as number) : 0;
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
  out: FloatArray,
  o: number,
  a: FloatArray,
  ia: number,
  sa: number,
  b: FloatArray,
  ib: number,
  sb: number,
  n: number,
) => void;

// One row of a broadcast binary op: out[o + j] = a[ia + j·sa] ∘ b[ib + j·sb], j < n.
const rowLoops: Record<string, RowLoop> = {
  add: (out, o, a, ia, sa, b, ib, sb, n) => {
    for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) + (b[ib + j * sb] as number);
  },
  sub: (out, o, a, ia, sa, b, ib, sb, n) => {
    for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) - (b[ib + j * sb] as number);
  },
  mul: (out, o, a, ia, sa, b, ib, sb, n) => {
    for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) * (b[ib + j * sb] as number);
  },
  div: (out, o, a, ia, sa, b, ib, sb, n) => {
    for (let j = 0; j < n; j++) out[o + j] = (a[ia + j * sa] as number) / (b[ib + j * sb] as number);
  },
};

/** out = f(a, b) with a and b broadcast to outShape; `op` names a rule with a loop of its own. */
export function mapBinary(
  f: (a: number, b: number) => number,
  a: FloatArray,
  aShape: Shape,
  b: FloatArray,
  bShape: Shape,
  outShape: Shape,
  out: FloatArray,
  op?: string,
): void {
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
  a: FloatArray,
  aShape: Shape,
  b: FloatArray,
  bShape: Shape,
  y: FloatArray,
  g: FloatArray,
  outShape: Shape,
  ga: FloatArray | null,
  gb: FloatArray | null,
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
export function expand(x: FloatArray, shape: Shape, outShape: Shape, out: FloatArray): void {
  stridedCopy(x, 0, broadcastStrides(shape, outShape), outShape, out);
}

/**
 * out, row-major over `outShape`, reads x at base + Σ strides[d]·index[d]: the one strided copy
 * behind expand (zero strides), permute (permuted strides) and window (stepped strides).
 */
function stridedCopy(x: FloatArray, base: number, strides: readonly number[], outShape: Shape, out: FloatArray): void {
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
  x: FloatArray,
  shape: Shape,
  axes: readonly number[],
  out: FloatArray,
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
export function permute(x: FloatArray, shape: Shape, perm: readonly number[], out: FloatArray): void {
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
 * A strided window of x: along each axis, elements start[d], start[d] + step[d], … (outShape[d]
 * of them). With `scatter`, the opposite: write `x` (of outShape) into that window of `out`.
 */
export function window(
  x: FloatArray,
  shape: Shape,
  start: readonly number[],
  step: readonly number[],
  outShape: Shape,
  out: FloatArray,
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
  full: FloatArray,
  shape: Shape,
  axis: number,
  index: Int32Array,
  picked: FloatArray,
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
export function concat(parts: readonly { data: FloatArray; shape: Shape }[], axis: number, out: FloatArray): void {
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
