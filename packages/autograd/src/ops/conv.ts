/**
 * @file Convolutions (PyTorch's layouts: x [N, C, H, W], weight [out, in/groups, kH, kW]), each
 * forward beside its derivative rule. Three primitives, all bilinear, close under differentiation:
 *
 *   y = conv(x, w)            y[n,o,q] = Σ_{c,k} w[o,c,k]·x[n,c,q·s + k·d − p]
 *   x̄ = convTranspose(ȳ, w)   the adjoint of conv in x: ȳ's entries added back where they were read
 *   w̄ = convWeight(x, ȳ)      the adjoint of conv in w: w̄[o,c,k] = Σ_{n,q} ȳ[n,o,q]·x[n,c,q·s + k·d − p]
 *
 * and ⟨ȳ, conv(x, w)⟩ = ⟨convTranspose(ȳ, w), x⟩ = ⟨convWeight(x, ȳ), w⟩ gives every rule:
 *
 *   y = conv(x, w)            ∂L/∂x = convTranspose(g, w),   ∂L/∂w = convWeight(x, g)
 *   z = convTranspose(ȳ, w)   ∂L/∂ȳ = conv(g, w),             ∂L/∂w = convWeight(g, ȳ)
 *   v = convWeight(x, ȳ)      ∂L/∂x = convTranspose(ȳ, g),    ∂L/∂ȳ = conv(x, g)
 *
 * (as PyTorch's convolution_backward), so gradients of gradients come for free; being bilinear,
 * each one's tangent is f(ẋ, w) + f(x, ẇ). The arithmetic is one matrix product per group on
 * the im2col packing (kernels/im2col.ts), done by the SIMD `gemm`; a plain backward pass reuses
 * the forward pass's packing for ∂L/∂w. A 1-D convolution is a 2-D one of height 1.
 * Imports engine.ts, tensor.ts, kernels/im2col.ts, kernels/matmul.ts, ndarray.ts, shape.ts,
 * errors.ts, transforms/vmap.ts, ops/elementwise.ts.
 */

import { composing, fromOp, isGradEnabled, sumTangents } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { type Geometry, im2col } from "../kernels/im2col.js";
import { gemm } from "../kernels/matmul.js";
import { allocate, type FloatArray, type FloatDtype } from "../ndarray.js";
import { formatShape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { type Batch, batchable } from "../transforms/vmap.js";
import { floatDtype, promote } from "./elementwise.js";

// ---- the three primitives (4-D operands, checked by the public functions below) ----

/** The storage of t in `dtype` (a float32 operand beside a float64 one is widened). */
function storageIn(t: Tensor, dtype: FloatDtype): FloatArray {
  if (t.dtype === dtype) return t.data as FloatArray;
  return dtype === "float32" ? Float32Array.from(t.data) : Float64Array.from(t.data);
}

/** The sizes of one convolution: N examples, C and O channels in G groups, R = (C/G)·kH·kW rows of the packing, L output positions. */
function sizes(n: number, c: number, o: number, groups: number, g: Geometry) {
  const cg = c / groups;
  const og = o / groups;
  const rows = cg * g.kernel[0] * g.kernel[1];
  const l = g.outSize[0] * g.outSize[1];
  return { n, c, o, cg, og, rows, l, width: n * l };
}

type Sizes = ReturnType<typeof sizes>;

/** ȳ [N, O, L] → group k's channels as one matrix [O/G, N·L] (the layout W·cols produces). */
function groupRows(y: FloatArray, s: Sizes, k: number, out: FloatArray): void {
  for (let o = 0; o < s.og; o++) {
    for (let e = 0; e < s.n; e++) {
      const src = (e * s.o + k * s.og + o) * s.l;
      out.set(y.subarray(src, src + s.l), o * s.width + e * s.l);
    }
  }
}

/** The inverse move: a group's [O/G, N·L] into y [N, O, L]. */
function ungroupRows(m: FloatArray, s: Sizes, k: number, y: FloatArray): void {
  for (let o = 0; o < s.og; o++) {
    for (let e = 0; e < s.n; e++) {
      const dst = (e * s.o + k * s.og + o) * s.l;
      y.set(m.subarray(o * s.width + e * s.l, o * s.width + (e + 1) * s.l), dst);
    }
  }
}

/** Every group's im2col packing of x, one after another: [G, R, N·L]. */
function packAll(x: FloatArray, s: Sizes, groups: number, g: Geometry, dtype: FloatDtype): FloatArray {
  const block = s.rows * s.width;
  const cols = allocate(dtype, groups * block);
  for (let k = 0; k < groups; k++) im2col(x, s.n, s.c, k * s.cg, s.cg, g, cols.subarray(k * block, (k + 1) * block));
  return cols;
}

/** ∂L/∂w from the packing of x and ȳ: per group, W̄ = Ȳ·colsᵀ ([O/G, N·L]·[N·L, R]). */
function weightFromCols(cols: FloatArray, y: FloatArray, s: Sizes, groups: number, dtype: FloatDtype): FloatArray {
  const out = allocate(dtype, s.o * s.rows);
  const ym = allocate(dtype, s.og * s.width);
  for (let k = 0; k < groups; k++) {
    groupRows(y, s, k, ym);
    gemm(false, true, s.og, s.rows, s.width, ym, 0, cols, k * s.rows * s.width, out, k * s.og * s.rows);
  }
  return out;
}

/**
 * y = conv(x, w): x [N, C, H, W], w [O, C/G, kH, kW] → y [N, O, oH, oW]; per group Y = W·cols.
 *   ∂L/∂x = convTranspose(g, w)   ∂L/∂w = convWeight(x, g)   ẏ = conv(ẋ, w) + conv(x, ẇ)
 */
export const conv = batchable(
  "conv",
  (x: Tensor, w: Tensor, geometry: Geometry, groups: number): Tensor => {
    const dtype = floatDtype(promote(x.dtype, w.dtype));
    const s = sizes(x.shape[0] as number, x.shape[1] as number, w.shape[0] as number, groups, geometry);
    const cols = packAll(storageIn(x, dtype), s, groups, geometry, dtype);
    const wd = storageIn(w, dtype);
    const out = allocate(dtype, s.n * s.o * s.l);
    const ym = allocate(dtype, s.og * s.width);
    for (let k = 0; k < groups; k++) {
      gemm(false, false, s.og, s.width, s.rows, wd, k * s.og * s.rows, cols, k * s.rows * s.width, ym, 0);
      ungroupRows(ym, s, k, out);
    }
    // The packing is kept for ∂L/∂w only when a backward pass may ask for it.
    const kept = isGradEnabled() && w.requiresGrad ? cols : null;
    const shape = [s.n, s.o, ...geometry.outSize];
    return fromOp("conv", out, shape, [x, w], {
      vjp: (g) => [
        x.requiresGrad ? convTranspose(g, w, geometry, groups) : null,
        !w.requiresGrad
          ? null
          : kept !== null && !composing() && g.dtype === dtype
            ? new Tensor(weightFromCols(kept, g.data as FloatArray, s, groups, dtype), w.shape) // fused: reuse the packing
            : convWeight(x, g, geometry, groups),
      ],
      jvp: ([dx, dw]) => sumTangents(dx && conv(dx, w, geometry, groups), dw && conv(x, dw, geometry, groups)),
      replay: () => conv(x, w, geometry, groups),
    });
  },
  (batch, x, w, geometry, groups): Tensor =>
    batch.has(w)
      ? batchedWeights(batch, x, w, groups, (a, v, G) => conv(a, v, geometry, G))
      : foldBatch(batch, x, (a) => conv(a, w, geometry, groups)),
);

/**
 * z = convTranspose(ȳ, w): ȳ [N, O, oH, oW], w [O, C/G, kH, kW] → z [N, C, H, W] (H, W: the
 * geometry's input size); per group cols = Wᵀ·Ȳ, then col2im adds each column back.
 *   ∂L/∂ȳ = conv(g, w)   ∂L/∂w = convWeight(g, ȳ)   ż = convTranspose(ȳ̇, w) + convTranspose(ȳ, ẇ)
 */
export const convTranspose = batchable(
  "convTranspose",
  (y: Tensor, w: Tensor, geometry: Geometry, groups: number): Tensor => {
    const dtype = floatDtype(promote(y.dtype, w.dtype));
    const c = (w.shape[1] as number) * groups;
    const s = sizes(y.shape[0] as number, c, y.shape[1] as number, groups, geometry);
    const yd = storageIn(y, dtype);
    const wd = storageIn(w, dtype);
    const out = allocate(dtype, s.n * c * geometry.inSize[0] * geometry.inSize[1]);
    const ym = allocate(dtype, s.og * s.width);
    const cols = allocate(dtype, s.rows * s.width);
    for (let k = 0; k < groups; k++) {
      groupRows(yd, s, k, ym);
      gemm(true, false, s.rows, s.width, s.og, wd, k * s.og * s.rows, ym, 0, cols, 0);
      im2col(out, s.n, c, k * s.cg, s.cg, geometry, cols, true); // col2im: the columns added back
    }
    return fromOp("convTranspose", out, [s.n, c, ...geometry.inSize], [y, w], {
      vjp: (g) => [
        y.requiresGrad ? conv(g, w, geometry, groups) : null,
        w.requiresGrad ? convWeight(g, y, geometry, groups) : null,
      ],
      jvp: ([dy, dw]) =>
        sumTangents(dy && convTranspose(dy, w, geometry, groups), dw && convTranspose(y, dw, geometry, groups)),
      replay: () => convTranspose(y, w, geometry, groups),
    });
  },
  (batch, y, w, geometry, groups): Tensor =>
    batch.has(w)
      ? batchedWeights(batch, y, w, groups, (a, v, G) => convTranspose(a, v, geometry, G))
      : foldBatch(batch, y, (a) => convTranspose(a, w, geometry, groups)),
);

/**
 * v = convWeight(x, ȳ): x [N, C, H, W], ȳ [N, O, oH, oW] → v [O, C/G, kH, kW]; per group
 * V = Ȳ·colsᵀ, a product over all examples and positions.
 *   ∂L/∂x = convTranspose(ȳ, g)   ∂L/∂ȳ = conv(x, g)   v̇ = convWeight(ẋ, ȳ) + convWeight(x, ȳ̇)
 */
export const convWeight = batchable(
  "convWeight",
  (x: Tensor, y: Tensor, geometry: Geometry, groups: number): Tensor => {
    const dtype = floatDtype(promote(x.dtype, y.dtype));
    const s = sizes(x.shape[0] as number, x.shape[1] as number, y.shape[1] as number, groups, geometry);
    const cols = packAll(storageIn(x, dtype), s, groups, geometry, dtype);
    const out = weightFromCols(cols, storageIn(y, dtype), s, groups, dtype);
    return fromOp("convWeight", out, [s.o, s.cg, ...geometry.kernel], [x, y], {
      vjp: (g) => [
        x.requiresGrad ? convTranspose(y, g, geometry, groups) : null,
        y.requiresGrad ? conv(x, g, geometry, groups) : null,
      ],
      jvp: ([dx, dy]) =>
        sumTangents(dx && convWeight(dx, y, geometry, groups), dy && convWeight(x, dy, geometry, groups)),
      replay: () => convWeight(x, y, geometry, groups),
    });
  },
  // The examples' copies side by side as groups of channels: one convWeight for the whole batch.
  (batch, x, y, geometry, groups): Tensor => {
    const b = batch.size;
    const v = convWeight(sideBySide(batch.full(x)), sideBySide(batch.full(y)), geometry, b * groups);
    return batch.wrap(v.reshape([b, (v.shape[0] as number) / b, ...v.shape.slice(1)]));
  },
);

// ---- batching ----

/** A batch of inputs [B, N, …] with the same weight: fold B into N, run once, unfold. */
function foldBatch(batch: Batch, x: Tensor, f: (x: Tensor) => Tensor): Tensor {
  const inner = batch.inner(x);
  const [b, n, ...rest] = inner.shape as number[];
  const out = f(inner.reshape([(b as number) * (n as number), ...rest]));
  return batch.wrap(out.reshape([b as number, n as number, ...out.shape.slice(1)]));
}

/** [B, N, C, H, W] → [N, B·C, H, W]: the examples' copies side by side as channels. */
function sideBySide(t: Tensor): Tensor {
  const [b, n, c, h, w] = t.shape as number[];
  return t.permute([1, 0, 2, 3, 4]).reshape([n as number, (b as number) * (c as number), h as number, w as number]);
}

/**
 * A batch of weights [B, O, C/G, …] (and inputs [B, N, C, …], batched or not): example b's
 * channels become groups b·G … b·G + G − 1 of one convolution with B·G groups, whose output
 * channels [N, B·O′, …] are unfolded back to [B, N, O′, …].
 */
function batchedWeights(
  batch: Batch,
  x: Tensor,
  w: Tensor,
  groups: number,
  f: (x: Tensor, w: Tensor, groups: number) => Tensor,
): Tensor {
  const b = batch.size;
  const wi = batch.full(w);
  const out = f(sideBySide(batch.full(x)), wi.reshape([-1, ...wi.shape.slice(2)]), b * groups);
  const [n, bc, h, ww] = out.shape as number[];
  return batch.wrap(
    out.reshape([n as number, b, (bc as number) / b, h as number, ww as number]).permute([1, 0, 2, 3, 4]),
  );
}

// ---- the public functions: arguments checked, PyTorch's conventions ----

/** A size given for every spatial axis at once (a number) or per axis (an array). */
export type SizeArg = number | readonly number[];

/** Options of `conv1d` and `conv2d`. */
export interface ConvOptions {
  /** Step between windows (default 1). */
  stride?: SizeArg;
  /** Zeros added on both sides of each spatial axis (default 0); "same" keeps the size (stride 1 only), "valid" adds none. */
  padding?: SizeArg | "same" | "valid";
  /** Spacing between the kernel's taps (default 1). */
  dilation?: SizeArg;
  /** Split the channels into this many independent groups (default 1). */
  groups?: number;
}

/** Options of `convTranspose2d`. */
export interface ConvTransposeOptions {
  /** Step between the windows of the convolution this one transposes (default 1). */
  stride?: SizeArg;
  /** The padding of that convolution: the output is cropped by this much on each side (default 0). */
  padding?: SizeArg;
  /** Extra rows and columns added to one side of the output, to pick among the sizes a stride maps to one (default 0). */
  outputPadding?: SizeArg;
  /** Spacing between the kernel's taps (default 1). */
  dilation?: SizeArg;
  /** Split the channels into this many independent groups (default 1). */
  groups?: number;
}

/** A per-axis size from a number or an array of `rank` entries, each an integer ≥ min. */
export function perAxis(op: string, name: string, v: unknown, rank: number, min: number): number[] {
  const values = typeof v === "number" ? new Array<number>(rank).fill(v) : v;
  if (!Array.isArray(values) || values.length !== rank || !values.every((e) => Number.isInteger(e) && e >= min)) {
    const what = min === 0 ? "non-negative" : "positive";
    throw new ChainruleError(
      op,
      `${name} must be a ${what} integer or an array of ${rank} ${what} integers, got ${JSON.stringify(v)}`,
    );
  }
  return values as number[];
}

/** t, checked to be a Tensor (the message names the op and the argument). */
export function checkTensor(op: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor))
    throw new ChainruleError(op, `${name} must be a Tensor, got ${t === null ? "null" : typeof t}`);
  return t;
}

/**
 * The checks every convolution and pool makes of its input (a Tensor already) and options: an
 * options object, and rank spatial + 2 ([N, C, …]) or spatial + 1 (one example, [C, …]).
 */
export function checkInput(op: string, x: Tensor, options: unknown, spatial: number): void {
  if (typeof options !== "object" || options === null) throw new ChainruleError(op, "options must be an object");
  if (x.ndim !== spatial + 1 && x.ndim !== spatial + 2) {
    const layout = spatial === 1 ? "[N, C, W] or [C, W]" : "[N, C, H, W] or [C, H, W]";
    throw new ChainruleError(
      op,
      `input must have rank ${spatial + 2} or ${spatial + 1} (${layout}), got shape ${formatShape(x.shape)}`,
    );
  }
}

/** Groups as a positive integer that divides both channel counts. */
function checkGroups(op: string, groups: unknown, inChannels: number, outChannels: number, what: string): number {
  if (typeof groups !== "number" || !Number.isInteger(groups) || groups < 1) {
    throw new ChainruleError(op, `groups must be a positive integer, got ${JSON.stringify(groups)}`);
  }
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ChainruleError(
      op,
      `groups = ${groups} must divide both the input channels (${inChannels}) and the output channels (${outChannels}) ${what}`,
    );
  }
  return groups;
}

/** The bias added to each output channel: null, or a tensor of shape [channels]. */
function addBias(op: string, y: Tensor, b: Tensor | null | undefined, channels: number): Tensor {
  if (b === null || b === undefined) return y;
  checkTensor(op, "bias", b);
  if (b.ndim !== 1 || b.shape[0] !== channels) {
    throw new ChainruleError(
      op,
      `bias must have shape [${channels}] (one per output channel), got ${formatShape(b.shape)}`,
    );
  }
  // On y viewed as [N, out, positions]: the broadcast (and its gradient's sum) runs along whole rows.
  const [n, , ...positions] = y.shape as number[];
  return y
    .reshape([n as number, channels, positions.reduce((a, d) => a * d, 1)])
    .add(b.reshape([channels, 1]))
    .reshape(y.shape as number[]);
}

/**
 * The shared front of conv1d and conv2d (`spatial` = 1 or 2 axes): checks, then one 2-D `conv`
 * (a 1-D input is seen as height 1). An unbatched input [C, …] is treated as a batch of one.
 */
function convolve(
  op: string,
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  options: ConvOptions,
  spatial: number,
): Tensor {
  checkTensor(op, "input", x);
  checkTensor(op, "weight", w);
  checkInput(op, x, options, spatial);
  if (w.ndim !== spatial + 2) {
    const layout = spatial === 1 ? "[out, in/groups, kW]" : "[out, in/groups, kH, kW]";
    throw new ChainruleError(op, `weight must have rank ${spatial + 2} (${layout}), got shape ${formatShape(w.shape)}`);
  }
  const unbatched = x.ndim === spatial + 1;
  const xb = unbatched ? x.unsqueeze(0) : x;
  const c = xb.shape[1] as number;
  const o = w.shape[0] as number;
  const groups = checkGroups(
    op,
    options.groups ?? 1,
    c,
    o,
    `(input ${formatShape(x.shape)}, weight ${formatShape(w.shape)})`,
  );
  if ((w.shape[1] as number) * groups !== c) {
    throw new ChainruleError(
      op,
      `weight ${formatShape(w.shape)} expects ${(w.shape[1] as number) * groups} input channels (${w.shape[1]} per group × ${groups} groups), but the input ${formatShape(x.shape)} has ${c}`,
    );
  }
  const inSize = xb.shape.slice(2) as number[];
  const kernel = w.shape.slice(2) as number[];
  const stride = perAxis(op, "stride", options.stride ?? 1, spatial, 1);
  const dilation = perAxis(op, "dilation", options.dilation ?? 1, spatial, 1);
  const padding = options.padding ?? 0;
  let padBefore: number[];
  let padAfter: number[];
  if (padding === "same") {
    if (stride.some((s) => s !== 1)) {
      throw new ChainruleError(op, `padding "same" needs stride 1, got stride ${JSON.stringify(options.stride)}`);
    }
    // NOTE: as PyTorch, an odd total goes to the right (bottom): before = ⌊total/2⌋.
    const total = kernel.map((k, i) => (dilation[i] as number) * (k - 1));
    padBefore = total.map((t) => Math.floor(t / 2));
    padAfter = total.map((t, i) => t - (padBefore[i] as number));
  } else if (padding === "valid") {
    padBefore = new Array<number>(spatial).fill(0);
    padAfter = padBefore;
  } else {
    padBefore = perAxis(op, "padding", padding, spatial, 0);
    padAfter = padBefore;
  }
  const outSize = inSize.map((n, i) => {
    const reach = (dilation[i] as number) * ((kernel[i] as number) - 1) + 1;
    const padded = n + (padBefore[i] as number) + (padAfter[i] as number);
    if (reach > padded) {
      throw new ChainruleError(
        op,
        `the kernel (size ${kernel[i]}, dilation ${dilation[i]}: ${reach} wide) is larger than the padded input (${n} + ${(padBefore[i] as number) + (padAfter[i] as number)} padding = ${padded}) along spatial axis ${i}; input ${formatShape(x.shape)}, weight ${formatShape(w.shape)}`,
      );
    }
    return Math.floor((padded - reach) / (stride[i] as number)) + 1;
  });
  // 1-D as 2-D of height 1.
  const two = <T>(v: T[], one: T): [T, T] => (spatial === 1 ? [one, v[0] as T] : [v[0] as T, v[1] as T]);
  const geometry: Geometry = {
    inSize: two(inSize, 1),
    kernel: two(kernel, 1),
    outSize: two(outSize, 1),
    stride: two(stride, 1),
    dilation: two(dilation, 1),
    padBefore: two(padBefore, 0),
  };
  const as4d = (t: Tensor) => (spatial === 1 ? t.unsqueeze(2) : t);
  let y = conv(as4d(xb), as4d(w), geometry, groups);
  if (spatial === 1) y = y.squeeze(2);
  y = addBias(op, y, b, o);
  return unbatched ? y.squeeze(0) : y;
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch): x [N, C, H, W] (or [C, H, W]), weight
 * [O, C/groups, kH, kW], bias [O] → [N, O, oH, oW] with oH = ⌊(H + 2p − d(kH − 1) − 1)/s⌋ + 1.
 *
 * ```ts
 * const x = randn([8, 1, 28, 28], r);
 * const w = randn([6, 1, 5, 5], r, { requiresGrad: true });
 * conv2d(x, w, null, { padding: 2 }).shape; // [8, 6, 28, 28]
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvOptions = {}): Tensor {
  return convolve("conv2d", x, weight, bias, options, 2);
}

/**
 * 1-D convolution: x [N, C, W] (or [C, W]), weight [O, C/groups, kW], bias [O] → [N, O, oW].
 *
 * ```ts
 * conv1d(randn([4, 3, 50], r), randn([8, 3, 5], r), null, { stride: 2 }).shape; // [4, 8, 23]
 * ```
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvOptions = {}): Tensor {
  return convolve("conv1d", x, weight, bias, options, 1);
}

/**
 * 2-D transposed convolution (the gradient of conv2d with respect to its input, as a layer):
 * x [N, Cin, H, W] (or [Cin, H, W]), weight [Cin, Cout/groups, kH, kW], bias [Cout] →
 * [N, Cout, oH, oW] with oH = (H − 1)·s − 2p + d(kH − 1) + outputPadding + 1.
 *
 * ```ts
 * convTranspose2d(randn([1, 16, 7, 7], r), randn([16, 8, 4, 4], r), null, { stride: 2, padding: 1 }).shape; // [1, 8, 14, 14]
 * ```
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: ConvTransposeOptions = {},
): Tensor {
  const op = "convTranspose2d";
  checkTensor(op, "input", x);
  checkTensor(op, "weight", weight);
  checkInput(op, x, options, 2);
  if (weight.ndim !== 4) {
    throw new ChainruleError(
      op,
      `weight must have rank 4 ([in, out/groups, kH, kW]), got shape ${formatShape(weight.shape)}`,
    );
  }
  const unbatched = x.ndim === 3;
  const xb = unbatched ? x.unsqueeze(0) : x;
  const cin = xb.shape[1] as number;
  if (weight.shape[0] !== cin) {
    throw new ChainruleError(
      op,
      `weight ${formatShape(weight.shape)} expects ${weight.shape[0]} input channels, but the input ${formatShape(x.shape)} has ${cin}`,
    );
  }
  const groups = options.groups ?? 1;
  const cout = (weight.shape[1] as number) * (Number.isInteger(groups) ? groups : 1);
  checkGroups(op, groups, cin, cout, `(input ${formatShape(x.shape)}, weight ${formatShape(weight.shape)})`);
  const stride = perAxis(op, "stride", options.stride ?? 1, 2, 1);
  const padding = perAxis(op, "padding", options.padding ?? 0, 2, 0);
  const dilation = perAxis(op, "dilation", options.dilation ?? 1, 2, 1);
  const outputPadding = perAxis(op, "outputPadding", options.outputPadding ?? 0, 2, 0);
  const inSize = xb.shape.slice(2) as number[];
  const kernel = weight.shape.slice(2) as number[];
  const outSize = inSize.map((n, i) => {
    const s = stride[i] as number;
    const d = dilation[i] as number;
    const extra = outputPadding[i] as number;
    if (extra >= s && extra >= d) {
      throw new ChainruleError(
        op,
        `outputPadding ${extra} must be smaller than the stride (${s}) or the dilation (${d}) along spatial axis ${i}`,
      );
    }
    const size = (n - 1) * s - 2 * (padding[i] as number) + d * ((kernel[i] as number) - 1) + extra + 1;
    if (size < 1) {
      throw new ChainruleError(
        op,
        `the output would have size ${size} along spatial axis ${i} (input ${formatShape(x.shape)}, weight ${formatShape(weight.shape)}, stride ${s}, padding ${padding[i]}): the padding crops more than there is`,
      );
    }
    return size;
  });
  // The convolution this one transposes reads an image of outSize and writes one of inSize.
  const geometry: Geometry = {
    inSize: outSize as [number, number],
    kernel: kernel as [number, number],
    outSize: inSize as [number, number],
    stride: stride as [number, number],
    dilation: dilation as [number, number],
    padBefore: padding as [number, number],
  };
  let y = convTranspose(xb, weight, geometry, groups);
  y = addBias(op, y, bias, cout);
  return unbatched ? y.squeeze(0) : y;
}
