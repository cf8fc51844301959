/**
 * @file Packing for convolutions: im2col lays out every receptive field of an image batch as a
 * column of a matrix, so that a convolution becomes one matrix product (the SIMD `gemm`), and
 * col2im is its adjoint, adding columns back onto the image. Also the window loops of pooling.
 * Everything is 2-D (a 1-D convolution is a 2-D one of height 1). Imports ndarray.ts (types only).
 *
 * For one group of channels of x [N, C, H, W], the packed matrix has a row per (channel c, tap
 * kh, tap kw) and a column per (example n, output row oh, output column ow):
 *
 *   cols[(c·kH + kh)·kW + kw, (n·oH + oh)·oW + ow] = x[n, c, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw]
 *
 * (0 where the index falls in the padding). Then y[n, o] = Σ_r w[o, r]·cols[r, n·L + l], i.e.
 * Y = W·cols with W viewed as [out, C·kH·kW].
 */

import type { FloatArray } from "../ndarray.js";

/** Where the windows of a 2-D convolution or pooling fall, per spatial axis [height, width]. */
export interface Geometry {
  /** The input's spatial size. */
  readonly inSize: readonly [number, number];
  /** The kernel's size (taps per axis). */
  readonly kernel: readonly [number, number];
  /** The output's spatial size. */
  readonly outSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** Zero (or −∞) padding before the first element; padding after is implied by outSize. */
  readonly padBefore: readonly [number, number];
}

/**
 * Pack channels [c0, c0 + count) of x [N, C, H, W] into cols [count·kH·kW, N·oH·oW] (row-major),
 * overwriting every element of cols. With `adjoint` (col2im), the opposite: add every entry of
 * cols onto the element of x it was copied from (entries from padding are dropped).
 */
export function im2col(
  x: FloatArray,
  n: number,
  channels: number,
  c0: number,
  count: number,
  g: Geometry,
  cols: FloatArray,
  adjoint = false,
): void {
  const [h, w] = g.inSize;
  const [kh, kw] = g.kernel;
  const [oh, ow] = g.outSize;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const [ph, pw] = g.padBefore;
  const plane = h * w;
  const l = oh * ow;
  const width = n * l; // the length of one row of cols
  for (let c = 0; c < count; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((c * kh + i) * kw + j) * width;
        // The output columns whose input column lies inside the image: [lo, hi).
        const off = j * dw - pw;
        const lo = Math.min(ow, Math.max(0, Math.ceil(-off / sw)));
        const hi = Math.max(lo, Math.min(ow, Math.floor((w - 1 - off) / sw) + 1));
        for (let e = 0; e < n; e++) {
          const image = (e * channels + c0 + c) * plane;
          for (let r = 0; r < oh; r++) {
            const at = row + e * l + r * ow; // this output row's entries in cols
            const y = r * sh - ph + i * dh;
            const inside = y >= 0 && y < h;
            const base = image + y * w + off;
            if (adjoint) {
              if (!inside) continue;
              for (let q = lo; q < hi; q++) x[base + q * sw] = (x[base + q * sw] as number) + (cols[at + q] as number);
            } else if (!inside) {
              cols.fill(0, at, at + ow);
            } else {
              // (the fills only where the row reaches into the padding: a call costs more than a
              // short row's copy)
              if (lo > 0) cols.fill(0, at, at + lo);
              if (sw === 1) {
                for (let q = lo; q < hi; q++) cols[at + q] = x[base + q] as number;
              } else {
                for (let q = lo; q < hi; q++) cols[at + q] = x[base + q * sw] as number;
              }
              if (hi < ow) cols.fill(0, at + hi, at + ow);
            }
          }
        }
      }
    }
  }
}

/**
 * Max pooling over planes of x [planes, H, W]: out[p, o] = the largest element of the window of
 * o, and arg[p·L + o] its index within the plane (the first maximum in row-major order; a NaN
 * wins, as in PyTorch). Padding counts as −∞: it is never chosen.
 */
export function maxPool(x: FloatArray, planes: number, g: Geometry, out: FloatArray, arg: Int32Array): void {
  const [h, w] = g.inSize;
  const [kh, kw] = g.kernel;
  const [oh, ow] = g.outSize;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const [ph, pw] = g.padBefore;
  const plane = h * w;
  const l = oh * ow;
  if (kh === 2 && kw === 2 && ph === 0 && pw === 0 && dh === 1 && dw === 1) {
    maxPool2x2(x, planes, plane, w, oh, ow, sh, sw, out, arg);
    return;
  }
  for (let p = 0; p < planes; p++) {
    const base = p * plane;
    for (let r = 0; r < oh; r++) {
      // The window of (r, c) starts at (r·sh − ph, c·sw − pw); its taps inside the image only.
      let y0 = r * sh - ph;
      const y1 = Math.min(y0 + dh * (kh - 1) + 1, h);
      while (y0 < 0) y0 += dh;
      for (let c = 0; c < ow; c++) {
        let x0 = c * sw - pw;
        const x1 = Math.min(x0 + dw * (kw - 1) + 1, w);
        while (x0 < 0) x0 += dw;
        let best = Number.NEGATIVE_INFINITY;
        let at = y0 * w + x0;
        for (let y = y0; y < y1; y += dh) {
          for (let xx = x0; xx < x1; xx += dw) {
            const v = x[base + y * w + xx] as number;
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = y * w + xx;
            }
          }
        }
        const o = p * l + r * ow + c;
        out[o] = best;
        arg[o] = y0 < y1 && x0 < x1 ? at : -1; // a window wholly in the padding picks nothing
      }
    }
  }
}

/** The common case of maxPool, 2×2 windows without padding or dilation: the same choices, fewer branches. */
function maxPool2x2(
  x: FloatArray,
  planes: number,
  plane: number,
  w: number,
  oh: number,
  ow: number,
  sh: number,
  sw: number,
  out: FloatArray,
  arg: Int32Array,
): void {
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * plane;
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++, o++) {
        // the four taps in row-major order; a later one wins only if strictly larger (or NaN)
        const at = r * sh * w + c * sw;
        let k = at;
        let best = x[base + at] as number;
        let v = x[base + at + 1] as number;
        if (v > best || Number.isNaN(v)) {
          best = v;
          k = at + 1;
        }
        v = x[base + at + w] as number;
        if (v > best || Number.isNaN(v)) {
          best = v;
          k = at + w;
        }
        v = x[base + at + w + 1] as number;
        if (v > best || Number.isNaN(v)) {
          best = v;
          k = at + w + 1;
        }
        out[o] = best;
        arg[o] = k;
      }
    }
  }
}

/**
 * Gather (or, with `scatter`, its adjoint: add) along recorded positions: for plane p of `big`
 * [planes, plane] and output element o of `small` [planes, L], small[p, o] = big[p, arg[(p mod P)·L + o]]
 * where P = arg.length / L. The modulus lets a batch of planes share one example's positions; a
 * position of −1 (a window with no element) reads 0 and receives nothing.
 */
export function gatherPlanes(
  big: FloatArray,
  plane: number,
  small: FloatArray,
  l: number,
  arg: Int32Array,
  scatter: boolean,
): void {
  const planes = l === 0 ? 0 : small.length / l;
  const known = l === 0 ? 0 : arg.length / l;
  for (let p = 0; p < planes; p++) {
    const a = (p % known) * l;
    const b = p * plane;
    const s = p * l;
    if (scatter) {
      for (let o = 0; o < l; o++) {
        const at = arg[a + o] as number;
        if (at >= 0) big[b + at] = (big[b + at] as number) + (small[s + o] as number);
      }
    } else {
      for (let o = 0; o < l; o++) {
        const at = arg[a + o] as number;
        small[s + o] = at >= 0 ? (big[b + at] as number) : 0;
      }
    }
  }
}

/** One axis of an averaging window table: output i averages input [start[i], end[i]). */
export interface AxisWindows {
  readonly start: Int32Array;
  readonly end: Int32Array;
}

/**
 * Window sums over planes of x [planes, H, W], each divided by divisor[o]: out[p, o] =
 * Σ_window x / divisor[o], with windows given per axis (clipped to the image by the caller).
 * With `adjoint`, the transpose: x[p, window of o] += out[p, o] / divisor[o] (x zeroed by the caller).
 */
export function windowMean(
  x: FloatArray,
  planes: number,
  inSize: readonly [number, number],
  rows: AxisWindows,
  cols: AxisWindows,
  divisor: Float64Array,
  out: FloatArray,
  adjoint: boolean,
): void {
  const [h, w] = inSize;
  const oh = rows.start.length;
  const ow = cols.start.length;
  const plane = h * w;
  const l = oh * ow;
  for (let p = 0; p < planes; p++) {
    const base = p * plane;
    for (let r = 0; r < oh; r++) {
      const y0 = rows.start[r] as number;
      const y1 = rows.end[r] as number;
      for (let c = 0; c < ow; c++) {
        const x0 = cols.start[c] as number;
        const x1 = cols.end[c] as number;
        const o = r * ow + c;
        const d = divisor[o] as number;
        if (adjoint) {
          const v = (out[p * l + o] as number) / d;
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) x[base + y * w + xx] = (x[base + y * w + xx] as number) + v;
          }
        } else {
          let s = 0;
          for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) s += x[base + y * w + xx] as number;
          out[p * l + o] = s / d;
        }
      }
    }
  }
}
