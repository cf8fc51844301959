/**
 * @file Pure shape arithmetic: sizes, strides, NumPy broadcasting, axis normalisation. No data,
 * no gradients. Imports errors.ts.
 */

import { ChainruleError } from "./errors.js";

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: how far apart in storage two neighbours along each axis are. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] as number;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Check that every dimension is a non-negative integer. */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape))
    throw new ChainruleError(op, `shape must be an array of non-negative integers, got ${String(shape)}`);
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new ChainruleError(op, `shape must be an array of non-negative integers, got [${shape.join(", ")}]`);
    }
  }
  return [...shape];
}

/**
 * NumPy broadcasting: align shapes at the right; each pair of dimensions must be equal or one of
 * them 1, and the result takes the larger.
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): readonly number[] {
  if (b.length === 0 || sameShape(a, b)) return a; // the common cases, without a new array
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ChainruleError(
        op,
        `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (axis ${i - n}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides for reading an array of `shape` as if broadcast to `outShape`: 0 along every axis where
 * it is broadcast, so one element serves the whole axis without copying.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const d = i - offset;
    return d < 0 || shape[d] === 1 ? 0 : (own[d] as number);
  });
}

/** One axis, negative counting from the end, checked against the rank. */
export function normalizeAxis(op: string, axis: number, ndim: number): number {
  if (Array.isArray(axis))
    throw new ChainruleError(op, `takes one axis (an integer), got the list ${formatShape(axis)}`);
  if (typeof axis !== "number" || !Number.isInteger(axis))
    throw new ChainruleError(op, `axis must be an integer, got ${describeValue(axis)}`);
  if (axis < -ndim || axis >= ndim) {
    const range = ndim === 0 ? "none (the tensor is 0-d)" : `${-ndim}…${ndim - 1}`;
    throw new ChainruleError(op, `axis ${axis} is out of range for a tensor of rank ${ndim} (valid: ${range})`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Axes as a sorted list without repeats; `undefined` means all axes. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, ndim: number): number[] {
  if (axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list))
    throw new ChainruleError(op, `axis must be a number or an array of numbers, got ${String(axis)}`);
  const axes = list.map((a) => normalizeAxis(op, a, ndim));
  const sorted = [...new Set(axes)].sort((x, y) => x - y);
  if (sorted.length !== axes.length) throw new ChainruleError(op, `axis [${list.join(", ")}] repeats an axis`);
  return sorted;
}

/** The shape after reducing `axes`: those dimensions become 1 (keepdims) or disappear. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** A value as an error message shows it: strings quoted and said to be strings. */
function describeValue(x: unknown): string {
  return typeof x === "string" ? `the string ${JSON.stringify(x)}` : String(x);
}
