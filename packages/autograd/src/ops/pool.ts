/**
 * @file Pooling over the last two axes of x [N, C, H, W] (or [C, H, W]), each forward beside its
 * derivative rule. Max pooling picks one element per window, so its rule sends g back to the
 * element picked (a gather and its adjoint, a scatter-add, at the positions the forward pass
 * recorded); average pooling and adaptive average pooling are linear maps, y = A·x, whose rule is
 * the transposed map Aᵀ·g (spreading each g over its window). Each pair is the other's
 * derivative, so second derivatives come for free. On a vmap batch every op works plane by plane,
 * so the batch is just more planes. Imports engine.ts, tensor.ts, kernels/im2col.ts, ndarray.ts,
 * shape.ts, errors.ts, transforms/vmap.ts, ops/conv.ts.
 */

import { fromOp } from "../engine.js";
import { ChainruleError } from "../errors.js";
import {
  type AxisWindows,
  type Geometry,
  gatherPlanes,
  maxPool as maxPoolKernel,
  windowMean,
} from "../kernels/im2col.js";
import { allocate, type FloatArray } from "../ndarray.js";
import { formatShape, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { checkInput, checkTensor, perAxis, type SizeArg } from "./conv.js";

type Pair = readonly [number, number];

/** The spatial size of x (its last two axes) and the shape with those replaced by `size`. */
function spatial(x: Tensor, size: Pair): { h: number; w: number; shape: number[] } {
  const [h, w] = x.shape.slice(-2) as [number, number];
  return { h, w, shape: [...x.shape.slice(0, -2), ...size] };
}

// ---- max pooling ----

/**
 * y = the largest element of each window      ∂L/∂x = g added at the position of each window's
 * first maximum (PyTorch's choice at ties), 0 elsewhere      ẏ = ẋ at those positions
 */
export const maxPool = batchable(
  "maxPool",
  (x: Tensor, geometry: Geometry): Tensor => {
    const { h, w, shape } = spatial(x, geometry.outSize);
    const planes = h * w === 0 ? 0 : x.size / (h * w);
    const out = allocate(x.dtype, sizeOf(shape));
    const arg = new Int32Array(out.length);
    maxPoolKernel(x.data as FloatArray, planes, geometry, out as FloatArray, arg);
    return fromOp("maxPool", out, shape, [x], {
      vjp: (g) => [scatterPlanes(g, arg, [h, w])],
      jvp: ([dx]) => gatherAt(dx as Tensor, arg, geometry.outSize),
      replay: () => maxPool(x, geometry),
      saves: "none",
    });
  },
  (batch, x, geometry): Tensor => batch.wrap(maxPool(batch.inner(x), geometry)),
);

/** y[p, o] = h[p, arg[o]] plane by plane (p: every leading index)      ∂L/∂h = g scatter-added back */
const gatherAt = batchable(
  "maxPoolGather",
  (h: Tensor, arg: Int32Array, outSize: Pair): Tensor => {
    const { h: ih, w: iw, shape } = spatial(h, outSize);
    const out = allocate(h.dtype, sizeOf(shape));
    gatherPlanes(h.data as FloatArray, ih * iw, out as FloatArray, outSize[0] * outSize[1], arg, false);
    return fromOp("maxPoolGather", out, shape, [h], {
      vjp: (g) => [scatterPlanes(g, arg, [ih, iw])],
      jvp: ([dh]) => gatherAt(dh as Tensor, arg, outSize),
      replay: () => gatherAt(h, arg, outSize),
      saves: "none",
    });
  },
  (batch, h, arg, outSize): Tensor => batch.wrap(gatherAt(batch.inner(h), arg, outSize)),
);

/** y = zeros with g[p, o] added at [p, arg[o]]      ∂L/∂g = that position of ∂L/∂y (a gather) */
const scatterPlanes = batchable(
  "maxPoolScatter",
  (g: Tensor, arg: Int32Array, inSize: Pair): Tensor => {
    const [oh, ow] = g.shape.slice(-2) as [number, number];
    const { shape } = spatial(g, inSize);
    const out = allocate(g.dtype, sizeOf(shape));
    gatherPlanes(out as FloatArray, inSize[0] * inSize[1], g.data as FloatArray, oh * ow, arg, true);
    return fromOp("maxPoolScatter", out, shape, [g], {
      vjp: (k) => [gatherAt(k, arg, [oh, ow])],
      jvp: ([dg]) => scatterPlanes(dg as Tensor, arg, inSize),
      replay: () => scatterPlanes(g, arg, inSize),
      saves: "none",
    });
  },
  (batch, g, arg, inSize): Tensor => batch.wrap(scatterPlanes(batch.inner(g), arg, inSize)),
);

// ---- average pooling: a linear map and its transpose ----

/** The windows of an averaging pool: per output row and column, its input range, and each output's divisor. */
export interface Windows {
  readonly inSize: Pair;
  readonly rows: AxisWindows;
  readonly cols: AxisWindows;
  /** divisor[oh·oW + ow]: what the window's sum is divided by. */
  readonly divisor: Float64Array;
}

const outSizeOf = (win: Windows): Pair => [win.rows.start.length, win.cols.start.length];

/** y[o] = Σ_{window of o} x / divisor[o]      ∂L/∂x = Aᵀg: each g[o]/divisor[o] spread over its window      ẏ = A·ẋ */
export const meanPool = batchable(
  "meanPool",
  (x: Tensor, win: Windows): Tensor => {
    const { h, w, shape } = spatial(x, outSizeOf(win));
    const planes = h * w === 0 ? 0 : x.size / (h * w);
    const out = allocate(x.dtype, sizeOf(shape));
    windowMean(x.data as FloatArray, planes, win.inSize, win.rows, win.cols, win.divisor, out as FloatArray, false);
    return fromOp("meanPool", out, shape, [x], {
      vjp: (g) => [meanPoolTranspose(g, win)],
      jvp: ([dx]) => meanPool(dx as Tensor, win),
      replay: () => meanPool(x, win),
      saves: "none",
    });
  },
  (batch, x, win): Tensor => batch.wrap(meanPool(batch.inner(x), win)),
);

/** z = Aᵀ·g: each g[o]/divisor[o] added over the window of o      ∂L/∂g = A·h (the pool itself) */
const meanPoolTranspose = batchable(
  "meanPoolTranspose",
  (g: Tensor, win: Windows): Tensor => {
    const { shape } = spatial(g, win.inSize);
    const [oh, ow] = outSizeOf(win);
    const planes = oh * ow === 0 ? 0 : g.size / (oh * ow);
    const out = allocate(g.dtype, sizeOf(shape));
    windowMean(out as FloatArray, planes, win.inSize, win.rows, win.cols, win.divisor, g.data as FloatArray, true);
    return fromOp("meanPoolTranspose", out, shape, [g], {
      vjp: (h) => [meanPool(h, win)],
      jvp: ([dg]) => meanPoolTranspose(dg as Tensor, win),
      replay: () => meanPoolTranspose(g, win),
      saves: "none",
    });
  },
  (batch, g, win): Tensor => batch.wrap(meanPoolTranspose(batch.inner(g), win)),
);

// ---- the public functions ----

/** Options of `maxPool2d`. */
export interface MaxPoolOptions {
  /** Step between windows (default: the kernel size). */
  stride?: SizeArg;
  /** −∞ added on both sides of each spatial axis, at most half the kernel (default 0). */
  padding?: SizeArg;
  /** Spacing between the window's taps (default 1). */
  dilation?: SizeArg;
}

/** Options of `avgPool2d`. */
export interface AvgPoolOptions {
  /** Step between windows (default: the kernel size). */
  stride?: SizeArg;
  /** Zeros added on both sides of each spatial axis, at most half the kernel (default 0). */
  padding?: SizeArg;
  /** Whether padded zeros count in the average's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead (default: the window's size). */
  divisorOverride?: number;
}

/** The common checks of the pools: a 3-D or 4-D input, an options object. */
function poolInput(op: string, x: Tensor, options: unknown): void {
  checkTensor(op, "input", x);
  checkInput(op, x, options, 2);
}

/** Kernel, stride, padding and dilation of a pool, checked, with its output size (floor mode). */
function poolGeometry(
  op: string,
  x: Tensor,
  kernelSize: SizeArg,
  stride: SizeArg | undefined,
  padding: SizeArg | undefined,
  dilation: SizeArg | undefined,
): Geometry {
  const kernel = perAxis(op, "kernelSize", kernelSize, 2, 1);
  const s = perAxis(op, "stride", stride ?? kernel, 2, 1);
  const p = perAxis(op, "padding", padding ?? 0, 2, 0);
  const d = perAxis(op, "dilation", dilation ?? 1, 2, 1);
  const inSize = x.shape.slice(-2) as number[];
  const outSize = inSize.map((n, i) => {
    const k = kernel[i] as number;
    if ((p[i] as number) > Math.floor(k / 2)) {
      throw new ChainruleError(op, `padding ${p[i]} must be at most half the kernel size ${k} along spatial axis ${i}`);
    }
    const reach = (d[i] as number) * (k - 1) + 1;
    const padded = n + 2 * (p[i] as number);
    if (reach > padded) {
      throw new ChainruleError(
        op,
        `the window (size ${k}, dilation ${d[i]}: ${reach} wide) is larger than the padded input (${n} + ${2 * (p[i] as number)} padding = ${padded}) along spatial axis ${i}; input ${formatShape(x.shape)}`,
      );
    }
    return Math.floor((padded - reach) / (s[i] as number)) + 1;
  });
  return {
    inSize: inSize as [number, number],
    kernel: kernel as [number, number],
    outSize: outSize as [number, number],
    stride: s as [number, number],
    dilation: d as [number, number],
    padBefore: p as [number, number],
  };
}

/**
 * 2-D max pooling: x [N, C, H, W] (or [C, H, W]) → [N, C, oH, oW], each output the largest
 * element of its window (padding counts as −∞); oH = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.
 *
 * ```ts
 * maxPool2d(randn([8, 6, 24, 24], r), 2).shape; // [8, 6, 12, 12]
 * ```
 */
export function maxPool2d(x: Tensor, kernelSize: SizeArg, options: MaxPoolOptions = {}): Tensor {
  const op = "maxPool2d";
  poolInput(op, x, options);
  return maxPool(x, poolGeometry(op, x, kernelSize, options.stride, options.padding, options.dilation));
}

/** Window ranges along one axis, clipped to the input, and their unclipped sizes. */
function axisWindows(
  starts: number[],
  ends: number[],
  n: number,
): { win: AxisWindows; full: number[]; clippedSize: number[] } {
  const start = new Int32Array(starts.map((s) => Math.max(s, 0)));
  const end = new Int32Array(ends.map((e) => Math.min(e, n)));
  return {
    win: { start, end },
    full: starts.map((s, i) => (ends[i] as number) - s),
    clippedSize: [...start].map((s, i) => (end[i] as number) - s),
  };
}

/**
 * 2-D average pooling: x [N, C, H, W] (or [C, H, W]) → [N, C, oH, oW], each output the mean of
 * its window. With `countIncludePad` (the default, as PyTorch) padded zeros count in the divisor.
 *
 * ```ts
 * avgPool2d(randn([1, 3, 8, 8], r), 3, { stride: 2, padding: 1 }).shape; // [1, 3, 4, 4]
 * ```
 */
export function avgPool2d(x: Tensor, kernelSize: SizeArg, options: AvgPoolOptions = {}): Tensor {
  const op = "avgPool2d";
  poolInput(op, x, options);
  const g = poolGeometry(op, x, kernelSize, options.stride, options.padding, 1);
  const countIncludePad = options.countIncludePad ?? true;
  if (typeof countIncludePad !== "boolean") {
    throw new ChainruleError(op, `countIncludePad must be a boolean, got ${JSON.stringify(countIncludePad)}`);
  }
  const override = options.divisorOverride;
  if (override !== undefined && !(Number.isInteger(override) && override > 0)) {
    throw new ChainruleError(op, `divisorOverride must be a positive integer, got ${JSON.stringify(override)}`);
  }
  // A window starts at o·s − p and ends k later, but no further than the padded edge n + p.
  const axis = (i: 0 | 1) => {
    const n = g.inSize[i];
    const starts = Array.from({ length: g.outSize[i] }, (_, o) => o * g.stride[i] - g.padBefore[i]);
    const ends = starts.map((s) => Math.min(s + g.kernel[i], n + g.padBefore[i]));
    return axisWindows(starts, ends, n);
  };
  const rows = axis(0);
  const cols = axis(1);
  const divisor = new Float64Array(g.outSize[0] * g.outSize[1]);
  for (let r = 0; r < g.outSize[0]; r++) {
    for (let c = 0; c < g.outSize[1]; c++) {
      divisor[r * g.outSize[1] + c] =
        override ??
        (countIncludePad
          ? (rows.full[r] as number) * (cols.full[c] as number)
          : (rows.clippedSize[r] as number) * (cols.clippedSize[c] as number));
    }
  }
  return meanPool(x, { inSize: g.inSize, rows: rows.win, cols: cols.win, divisor });
}

/**
 * 2-D adaptive average pooling: x [N, C, H, W] (or [C, H, W]) → [N, C, oH, oW] for any output
 * size; output i along an axis of n averages inputs ⌊i·n/out⌋ … ⌈(i + 1)·n/out⌉ − 1, as PyTorch.
 * `outputSize` is a number, or [oH, oW] where null keeps that axis's size.
 *
 * ```ts
 * adaptiveAvgPool2d(randn([2, 16, 5, 7], r), 1).shape; // [2, 16, 1, 1]
 * ```
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const op = "adaptiveAvgPool2d";
  poolInput(op, x, {});
  const inSize = x.shape.slice(-2) as [number, number];
  const given = typeof outputSize === "number" ? [outputSize, outputSize] : outputSize;
  const size = Array.isArray(given) && given.length === 2 ? given.map((v, i) => (v === null ? inSize[i] : v)) : null;
  if (size === null || !size.every((v) => Number.isInteger(v) && (v as number) >= 1)) {
    throw new ChainruleError(
      op,
      `outputSize must be a positive integer or an array of 2 (positive integers or null), got ${JSON.stringify(outputSize)}`,
    );
  }
  if (inSize[0] === 0 || inSize[1] === 0) {
    throw new ChainruleError(
      op,
      `input ${formatShape(x.shape)} has an empty spatial axis: there is nothing to average`,
    );
  }
  const axis = (i: 0 | 1) => {
    const n = inSize[i];
    const out = size[i] as number;
    const starts = Array.from({ length: out }, (_, o) => Math.floor((o * n) / out));
    const ends = Array.from({ length: out }, (_, o) => Math.ceil(((o + 1) * n) / out));
    return axisWindows(starts, ends, n);
  };
  const rows = axis(0);
  const cols = axis(1);
  const divisor = new Float64Array(rows.full.length * cols.full.length);
  rows.full.forEach((rh, r) => {
    cols.full.forEach((cw, c) => {
      divisor[r * cols.full.length + c] = rh * cw;
    });
  });
  return meanPool(x, { inSize, rows: rows.win, cols: cols.win, divisor });
}
