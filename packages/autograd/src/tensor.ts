/**
 * @file The n-d front end: the `Tensor` class and the creation functions. Operations live in
 * ops/ (each forward beside its derivative rules); the methods here only call them. The backward
 * pass, the gradient mode and the in-place checks live in engine.ts. Imports engine.ts,
 * graph.ts (types), shape.ts, ndarray.ts, errors.ts, random.ts and ops/.
 */

import {
  type BackwardFn,
  type BackwardOptions,
  checkInPlace,
  describe,
  inPlaceEpoch,
  markModified,
  runBackward,
  type Saves,
  userRule,
  versionOf,
} from "./engine.js";
import { ChainruleError } from "./errors.js";
import type { GraphNode } from "./graph.js";
import {
  allocate,
  checkAllocation,
  type Dtype,
  divideInPlace,
  dtypeOf,
  type FloatArray,
  type FloatDtype,
  type Storage,
} from "./ndarray.js";
import * as cumulative from "./ops/cumulative.js";
import * as elementwise from "./ops/elementwise.js";
import * as indexing from "./ops/indexing.js";
import * as linalg from "./ops/matmul.js";
import * as movement from "./ops/movement.js";
import * as rearrange from "./ops/rearrange.js";
import * as reduction from "./ops/reduce.js";
import * as sorting from "./ops/sort.js";
import { defaultRandom, type Random } from "./random.js";
import { checkShape, formatShape, type Shape, sameShape, sizeOf } from "./shape.js";

export type { Dtype, FloatArray, FloatDtype, Storage };

/** A number, or nested arrays of numbers, or a typed array: what `tensor()` accepts. */
export type NestedArray = number | readonly NestedArray[];
/** A Tensor, or a plain number that takes the tensor's dtype and broadcasts like a 0-d tensor. */
export type TensorLike = Tensor | number;

/** Options of `tensor()`. */
export interface TensorOptions {
  /** Reshape the values to this shape (its size must match). */
  shape?: readonly number[];
  /** float64 (default) or float32. */
  dtype?: Dtype;
  /** Whether backward computes a gradient for this tensor (default false). */
  requiresGrad?: boolean;
  /** A name shown in pictures, traces and errors. */
  label?: string;
}

/**
 * Inside `vmap`, a tensor of the mapped function stands for a whole batch of tensors: its `shape`
 * is one example's, and `inner` holds the batch, with the batch axis first. See transforms/vmap.ts.
 */
export interface Batched {
  /** The vmap level this tensor is batched at. */
  readonly level: number;
  /** The values of every example: shape [batch size, ...this tensor's shape]. */
  readonly inner: Tensor;
}

/**
 * Values a tensor shows without holding them yet: a transpose or permutation of `source`, read
 * from it when first needed. Matrix products read a transposed view straight from its source with
 * the kernel's transpose flag, so `x.matmul(W.T)` copies nothing. Like a PyTorch view, it shows
 * the source's current values (later in-place changes of the source included).
 */
export interface View {
  readonly source: Tensor;
  /** Axis i of the view is axis perm[i] of the source. */
  readonly perm: readonly number[];
  /** The values, laid out row-major (recomputed when the source has changed in place). */
  read(): Storage;
}

// The storage field of a view, which holds none of its own.
const NO_STORAGE = new Float64Array(0);

/**
 * An n-dimensional array of float64, float32 or int32 numbers, and a node of a computation graph.
 * int32 tensors hold indices and labels: they never require grad.
 */
export class Tensor implements GraphNode<Tensor> {
  private storage: Storage;
  /** Set when the values are another tensor's, seen through a permutation (see `View`). */
  view: View | null;
  /** The size along each axis; [] for a 0-d tensor (a scalar). */
  readonly shape: readonly number[];
  /** Whether gradients flow to this tensor (leaves: whether `.grad` is filled by backward). */
  requiresGrad: boolean;
  /** ∂L/∂this after `L.backward()`, for leaves that require grad (and `retainGrad()` tensors). */
  grad: Tensor | null;
  /** The tensors this one was computed from (empty for leaves and for results that need no gradient). */
  readonly parents: readonly Tensor[];
  /** The operation that made this tensor, or `"leaf"`. */
  readonly op: string;
  /** A name for pictures, traces and error messages. */
  label: string;
  /** The derivative rule of the op that made this tensor (null for leaves). */
  backwardFn: BackwardFn | null;
  /** Scratch mark for graph.ts's topological sort. */
  mark: number;
  /** Keep `.grad` on this non-leaf tensor too (see `retainGrad`). */
  retainsGrad: boolean;
  /** Which values the derivative rule reads (checked against in-place changes): see `Saves`. */
  saves: Saves;
  /** The in-place epoch when this tensor was made: storages changed in place after it are stale for its rule. */
  readonly epoch: number;
  /** Tangents by forward-mode level while a `jvp` runs (engine.ts); null when there are none. */
  tangents: Map<number, Tensor> | null;
  /** Set on the batched tensors a `vmap` hands to its function; null for every other tensor. */
  batch: Batched | null;

  /** `data` is the storage (row-major, not copied), or a `View` of another tensor's values. */
  constructor(
    data: Storage | View,
    shape: readonly number[],
    requiresGrad = false,
    op = "leaf",
    parents: readonly Tensor[] = [],
    backwardFn: BackwardFn | null = null,
  ) {
    const view = ArrayBuffer.isView(data) ? null : data;
    const length = view === null ? (data as FloatArray).length : view.source.size;
    if (length !== sizeOf(shape)) {
      throw new ChainruleError(
        op === "leaf" ? "tensor" : op,
        `data has ${length} elements but shape ${formatShape(shape)} needs ${sizeOf(shape)}`,
      );
    }
    if (requiresGrad && (view === null ? data instanceof Int32Array : view.source.dtype === "int32"))
      throw noGradForInt32(op === "leaf" ? "tensor" : op);
    this.storage = view === null ? (data as Storage) : NO_STORAGE;
    this.shape = shape;
    this.requiresGrad = requiresGrad;
    this.grad = null;
    this.parents = parents;
    this.op = op;
    this.label = "";
    // A rule given here is user code, which may keep what it receives or returns: see userRule.
    // (The library's own ops make their nodes through fromOp, which sets the rule afterwards.)
    this.backwardFn = backwardFn === null ? null : userRule(backwardFn);
    this.mark = 0;
    this.retainsGrad = false;
    this.saves = "all";
    this.epoch = inPlaceEpoch();
    this.tangents = null;
    this.batch = null;
    this.view = view;
  }

  /**
   * The storage: dense, row-major. This is the live buffer (no copy), shared with reshaped
   * views; treat it as read-only and use `toTypedArray()` for a copy you may change.
   */
  get data(): Storage {
    if (this.batch !== null) {
      throw new ChainruleError(
        "vmap",
        `the values of a batched tensor (shape ${formatShape(this.shape)} per example) cannot be read inside the mapped function; return it from the function instead`,
      );
    }
    return this.view === null ? this.storage : this.view.read();
  }

  parent(i: number): Tensor | undefined {
    return this.parents[i];
  }
  /** float64 or float32: the type of `data`. */
  get dtype(): Dtype {
    return this.view !== null ? this.view.source.dtype : dtypeOf(this.storage);
  }
  /** The number of elements: the product of the shape. */
  get size(): number {
    return this.batch === null && this.view === null ? this.storage.length : sizeOf(this.shape);
  }
  /** The number of axes: `shape.length`. */
  get ndim(): number {
    return this.shape.length;
  }
  /** True for tensors not made by a recorded operation. */
  get isLeaf(): boolean {
    return this.backwardFn === null;
  }
  /** How many times this tensor's storage has been changed in place (shared with views of it). */
  get version(): number {
    return versionOf(storageOf(this));
  }

  // ---- reading out ----

  /** The single element of a one-element tensor, as a number. */
  item(): number {
    if (this.size !== 1)
      throw new ChainruleError("item", `needs a tensor with one element, got shape ${formatShape(this.shape)}`);
    return this.data[0] as number;
  }
  /** The elements as nested arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.ndim) return this.data[offset] as number;
      const n = this.shape[axis] as number;
      const stride = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: n }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }
  /** A copy of the storage. */
  toTypedArray(): Storage {
    return this.data.slice();
  }

  // ---- graph ----

  /** Keep `.grad` on this intermediate tensor during backward (leaves always keep theirs). */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }
  /** The same values, cut from the graph: no parents, no gradient. Shares the storage. */
  detach(): Tensor {
    if (this.batch !== null) return batchedTensor(this.batch.inner.detach(), this.batch.level);
    return new Tensor(this.data, this.shape);
  }
  /** Set `requiresGrad` (on a leaf) and return this tensor, for chaining. */
  requireGrad(flag = true): this {
    if (!this.isLeaf) {
      throw new ChainruleError(
        "requireGrad",
        `only leaf tensors can change requiresGrad; this one was made by '${this.op}' (use detach() first)`,
      );
    }
    if (flag && this.dtype === "int32") throw noGradForInt32("requireGrad");
    this.requiresGrad = flag;
    return this;
  }
  /** Drop the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /**
   * Reverse mode from this tensor. A one-element output is seeded with 1 (∂L/∂L); any other needs
   * an explicit `seed` of its shape (a vector–Jacobian product). Gradients accumulate (`+=`) into
   * `.grad` of every tensor with `requiresGrad` that it depends on, until zeroed.
   */
  backward(seed?: Tensor | number, options: BackwardOptions = {}): void {
    if (this.batch !== null) {
      throw new ChainruleError(
        "backward",
        "backward() cannot run inside vmap (it would sum the examples' gradients into .grad); use grad or vjp inside the mapped function",
      );
    }
    runBackward(this, seed, options, null);
  }

  // ---- elementwise (ops/elementwise.ts) ----

  /** a + b elementwise, broadcast. */
  add(other: TensorLike): Tensor {
    return elementwise.add(this, other);
  }
  /** a − b elementwise, broadcast. */
  sub(other: TensorLike): Tensor {
    return elementwise.sub(this, other);
  }
  /** a · b elementwise, broadcast (not the matrix product: see `matmul`). */
  mul(other: TensorLike): Tensor {
    return elementwise.mul(this, other);
  }
  /** a / b elementwise, broadcast. */
  div(other: TensorLike): Tensor {
    return elementwise.div(this, other);
  }
  /** Elementwise power: a number exponent, or a tensor exponent (broadcast). */
  pow(exponent: TensorLike): Tensor {
    return elementwise.pow(this, exponent);
  }
  /** max(a, b) elementwise, broadcast; a tie splits the gradient in halves, as PyTorch does. */
  maximum(other: TensorLike): Tensor {
    return elementwise.maximum(this, other);
  }
  /** min(a, b) elementwise, broadcast; a tie splits the gradient in halves, as PyTorch does. */
  minimum(other: TensorLike): Tensor {
    return elementwise.minimum(this, other);
  }
  /** −x elementwise. */
  neg(): Tensor {
    return elementwise.unaryOp("neg", this);
  }
  /** eˣ elementwise. */
  exp(): Tensor {
    return elementwise.unaryOp("exp", this);
  }
  /** The natural logarithm ln x elementwise. */
  log(): Tensor {
    return elementwise.unaryOp("log", this);
  }
  /** √x elementwise. */
  sqrt(): Tensor {
    return elementwise.unaryOp("sqrt", this);
  }
  /** |x| elementwise (gradient 0 at x = 0). */
  abs(): Tensor {
    return elementwise.unaryOp("abs", this);
  }
  /** tanh x elementwise. */
  tanh(): Tensor {
    return elementwise.unaryOp("tanh", this);
  }
  /** σ(x) = 1/(1 + e⁻ˣ) elementwise. */
  sigmoid(): Tensor {
    return elementwise.unaryOp("sigmoid", this);
  }
  /** max(0, x) elementwise (gradient 0 at x = 0). */
  relu(): Tensor {
    return elementwise.unaryOp("relu", this);
  }
  /** sin x, elementwise (radians). */
  sin(): Tensor {
    return elementwise.unaryOp("sin", this);
  }
  /** cos x, elementwise (radians). */
  cos(): Tensor {
    return elementwise.unaryOp("cos", this);
  }
  /** tan x, elementwise (radians). */
  tan(): Tensor {
    return elementwise.unaryOp("tan", this);
  }
  /** arctan x, elementwise, in (−π/2, π/2). */
  atan(): Tensor {
    return elementwise.unaryOp("atan", this);
  }
  /** sinh x, elementwise. */
  sinh(): Tensor {
    return elementwise.unaryOp("sinh", this);
  }
  /** cosh x, elementwise. */
  cosh(): Tensor {
    return elementwise.unaryOp("cosh", this);
  }
  /** arsinh x = ln(x + √(x² + 1)), elementwise. */
  asinh(): Tensor {
    return elementwise.unaryOp("asinh", this);
  }
  /** ln(1 + x), accurate for x near 0. */
  log1p(): Tensor {
    return elementwise.unaryOp("log1p", this);
  }
  /** eˣ − 1, accurate for x near 0. */
  expm1(): Tensor {
    return elementwise.unaryOp("expm1", this);
  }
  /** The error function erf x = (2/√π)∫₀ˣ e^(−t²) dt, to about 1 ulp. */
  erf(): Tensor {
    return elementwise.unaryOp("erf", this);
  }
  /** x², elementwise. */
  square(): Tensor {
    return elementwise.unaryOp("square", this);
  }
  /** 1/x, elementwise. */
  reciprocal(): Tensor {
    return elementwise.unaryOp("reciprocal", this);
  }
  /** 1/√x, elementwise. */
  rsqrt(): Tensor {
    return elementwise.unaryOp("rsqrt", this);
  }
  /** ln(1 + eˣ), and x itself above 20 (PyTorch's β = 1, threshold = 20). */
  softplus(): Tensor {
    return elementwise.unaryOp("softplus", this);
  }
  /** x·σ(x) (also called swish). */
  silu(): Tensor {
    return elementwise.unaryOp("silu", this);
  }
  /**
   * x·Φ(x) with Φ the standard normal CDF, computed with erf; `{ approximate: "tanh" }` gives
   * ½x(1 + tanh(√(2/π)(x + 0.044715x³))) instead, as PyTorch's options.
   */
  gelu(options: { approximate?: elementwise.GeluApproximate } = {}): Tensor {
    return elementwise.gelu(this, options.approximate ?? "none");
  }
  /** x for x > 0, eˣ − 1 otherwise (α = 1). */
  elu(): Tensor {
    return elementwise.unaryOp("elu", this);
  }
  /** ln σ(x) = −softplus(−x), stable for any |x|. */
  logSigmoid(): Tensor {
    return elementwise.unaryOp("logSigmoid", this);
  }
  /** ⌊x⌋, elementwise; its gradient is 0. */
  floor(): Tensor {
    return elementwise.unaryOp("floor", this);
  }
  /** ⌈x⌉, elementwise; its gradient is 0. */
  ceil(): Tensor {
    return elementwise.unaryOp("ceil", this);
  }
  /** The nearest integer, halves to even (2.5 → 2, 3.5 → 4), as PyTorch; its gradient is 0. */
  round(): Tensor {
    return elementwise.unaryOp("round", this);
  }
  /** Limit every element to [min, max] (either bound may be omitted). */
  clamp(min?: number, max?: number): Tensor {
    return elementwise.clamp(this, min, max);
  }
  /** −1, 0 or 1 by the sign of each element; its gradient is 0. */
  sign(): Tensor {
    return elementwise.unaryOp("sign", this);
  }
  /** 1 where a = b, else 0 (broadcast; no gradient). */
  eq(other: TensorLike): Tensor {
    return elementwise.compare("eq", this, other);
  }
  /** 1 where a ≠ b, else 0 (broadcast; no gradient). */
  ne(other: TensorLike): Tensor {
    return elementwise.compare("ne", this, other);
  }
  /** 1 where a > b, else 0 (broadcast; no gradient). */
  gt(other: TensorLike): Tensor {
    return elementwise.compare("gt", this, other);
  }
  /** 1 where a ≥ b, else 0 (broadcast; no gradient). */
  ge(other: TensorLike): Tensor {
    return elementwise.compare("ge", this, other);
  }
  /** 1 where a < b, else 0 (broadcast; no gradient). */
  lt(other: TensorLike): Tensor {
    return elementwise.compare("lt", this, other);
  }
  /** 1 where a ≤ b, else 0 (broadcast; no gradient). */
  le(other: TensorLike): Tensor {
    return elementwise.compare("le", this, other);
  }
  /** The same values in another dtype (differentiable; the gradient is cast back). */
  astype(dtype: Dtype): Tensor {
    return elementwise.astype(this, dtype);
  }

  // ---- reductions (ops/reduce.ts) ----

  /** The sum over `axis` (one or several; all axes when left out), keeping them as size 1 with `keepdims`. */
  sum(axis?: number | readonly number[], keepdims = false): Tensor {
    return reduction.sum(this, axis, keepdims);
  }
  /** The mean over `axis` (one or several; all axes when left out), keeping them as size 1 with `keepdims`. */
  mean(axis?: number | readonly number[], keepdims = false): Tensor {
    return reduction.mean(this, axis, keepdims);
  }
  /** Largest element along `axis`; the gradient goes to the first largest element. */
  max(axis?: number | readonly number[], keepdims = false): Tensor {
    return reduction.extreme("max", this, axis, keepdims);
  }
  /** Smallest element along `axis`; the gradient goes to the first smallest element. */
  min(axis?: number | readonly number[], keepdims = false): Tensor {
    return reduction.extreme("min", this, axis, keepdims);
  }
  /** Index of the first largest element along `axis` (or of the flattened tensor); no gradient. */
  argmax(axis?: number, keepdims = false): Tensor {
    return reduction.argExtreme("max", this, axis, keepdims);
  }
  /** Index of the first smallest element along `axis` (or of the flattened tensor); no gradient. */
  argmin(axis?: number, keepdims = false): Tensor {
    return reduction.argExtreme("min", this, axis, keepdims);
  }
  /** Running sum along `axis`: y_i = x_0 + … + x_i. `tensor([1, 2, 3]).cumsum(0)` is [1, 3, 6]. */
  cumsum(axis: number): Tensor {
    return cumulative.cumsum(this, axis);
  }
  /** Running product along `axis`: y_i = x_0·…·x_i (exact gradients also where x has zeros). */
  cumprod(axis: number): Tensor {
    return cumulative.cumprod(this, axis);
  }
  /** log Σ_{j ≤ i} exp(x_j) along `axis`, computed stably. */
  logcumsumexp(axis: number): Tensor {
    return cumulative.logcumsumexp(this, axis);
  }
  /**
   * Sort along `axis` (default the last), stably: `{ values, indices }` with int32 indices; NaN
   * sorts as the largest value. The gradient flows through the values to where they came from.
   */
  sort(axis = -1, descending = false): sorting.Sorted {
    return sorting.sort(this, axis, descending);
  }
  /** The k largest values along `axis` (default the last), largest first: `{ values, indices }`. */
  topk(k: number, axis = -1, largest = true): sorting.Sorted {
    return sorting.topk(this, k, axis, largest);
  }
  /** log Σ exp(x) along `axis`, computed stably as m + log Σ exp(x − m) with m the maximum. */
  logsumexp(axis?: number | readonly number[], keepdims = false): Tensor {
    return reduction.logsumexp(this, axis, keepdims);
  }
  /** exp(x) / Σ exp(x) along `axis` (default the last). */
  softmax(axis = -1): Tensor {
    return reduction.softmax(this, axis);
  }
  /** x − logsumexp(x) along `axis` (default the last). */
  logSoftmax(axis = -1): Tensor {
    return reduction.logSoftmax(this, axis);
  }
  /** Product of the elements along `axis` (default all); the gradient is exact also where elements are 0. */
  prod(axis?: number | readonly number[], keepdims = false): Tensor {
    return reduction.prod(this, axis, keepdims);
  }
  /**
   * Variance along `axis` (default all): Σ(x − x̄)²/(n − correction), correction 1 by default as
   * PyTorch (0: the population variance). The second argument is keepdims, or the options.
   * `x.var(-1, { correction: 0, keepdims: true })`.
   */
  var(axis?: number | readonly number[], options: boolean | reduction.VarianceOptions = {}): Tensor {
    return reduction.variance("var", this, axis, typeof options === "boolean" ? { keepdims: options } : options);
  }
  /** Standard deviation √var along `axis`, with var's options; its gradient is 0 where it is 0. */
  std(axis?: number | readonly number[], options: boolean | reduction.VarianceOptions = {}): Tensor {
    return reduction.std(this, axis, typeof options === "boolean" ? { keepdims: options } : options);
  }
  /** The p-norm along `axis` (default all) for p = 1, 2 (the default) or Infinity. */
  norm(p = 2, axis?: number | readonly number[], keepdims = false): Tensor {
    return reduction.norm(this, p, axis, keepdims);
  }

  // ---- matrix product (ops/matmul.ts) ----

  /** Matrix product with NumPy semantics: 2-D, batched (leading axes broadcast), and 1-D vector cases. */
  matmul(other: Tensor): Tensor {
    return linalg.matmul(this, other);
  }

  // ---- shape (ops/movement.ts) ----

  /** The same elements in a new shape (one dimension may be −1: inferred). Shares the storage. */
  reshape(shape: readonly number[]): Tensor {
    return movement.reshape(this, shape);
  }
  /** Axes reordered: output axis i is input axis `axes[i]`. */
  permute(axes: readonly number[]): Tensor {
    return movement.permute(this, axes);
  }
  /** `permute(axes)`, or with no argument, swap the last two axes. */
  transpose(axes?: readonly number[]): Tensor {
    return movement.transpose(this, axes);
  }
  /** The last two axes swapped (a 0-d or 1-d tensor is returned as it is). */
  get T(): Tensor {
    return movement.transpose(this);
  }
  /** Broadcast to a larger shape (NumPy's broadcast_to). */
  expand(shape: readonly number[]): Tensor {
    return movement.expand(this, shape);
  }
  /** This tensor broadcast to `shape` (NumPy's rules); the gradient sums the copies back. */
  broadcastTo(shape: readonly number[]): Tensor {
    return movement.expand(this, shape);
  }
  /** Remove axes of size 1 (all of them, or the given ones). */
  squeeze(axis?: number | readonly number[]): Tensor {
    return movement.squeeze(this, axis);
  }
  /** Insert an axis of size 1 at `axis`. */
  unsqueeze(axis: number): Tensor {
    return movement.unsqueeze(this, axis);
  }
  /** Merge axes startAxis…endAxis into one (default: all, giving a 1-d tensor). */
  flatten(startAxis = 0, endAxis = -1): Tensor {
    return movement.flatten(this, startAxis, endAxis);
  }
  /**
   * Padded along every axis by `widths[d] = [before, after]` (listed from the first axis, unlike
   * torch's F.pad): `mode` "constant" (fill with `value`, default 0), "reflect" (mirror, widths
   * below the axis length) or "replicate" (repeat the edge). `x.pad([[0, 0], [1, 2]], { mode: "reflect" })`.
   */
  pad(widths: readonly (readonly [number, number])[], options: rearrange.PadOptions = {}): Tensor {
    return rearrange.pad(this, widths, options);
  }
  /** Pieces along `axis` (torch.split): of the given sizes, or, given a number, of that many elements each (the last may be shorter). */
  split(sizeOrSizes: number | readonly number[], axis = 0): Tensor[] {
    return rearrange.split(this, sizeOrSizes, axis);
  }
  /** `chunks` pieces of ⌈n / chunks⌉ along `axis` (torch.chunk; there may be fewer). */
  chunk(chunks: number, axis = 0): Tensor[] {
    return rearrange.chunk(this, chunks, axis);
  }
  /** Repeated `reps[d]` times along each axis (torch.tile; a short `reps` is padded with leading 1s). */
  tile(reps: number | readonly number[]): Tensor {
    return rearrange.tile(this, reps);
  }
  /** Each element repeated `repeats` (or `repeats[j]`) times along `axis`; without an axis, of the flattened tensor (torch.repeat_interleave). */
  repeatInterleave(repeats: number | readonly number[] | Tensor, axis?: number): Tensor {
    return rearrange.repeatInterleave(this, repeats, axis);
  }
  /** Reversed along the given axes (torch.flip). */
  flip(axes: number | readonly number[]): Tensor {
    return rearrange.flip(this, axes);
  }
  /** Rolled cyclically: y[i] = x[i − shift] along `axis` (lists allowed); without an axis, the flattened tensor (torch.roll). */
  roll(shifts: number | readonly number[], axis?: number | readonly number[]): Tensor {
    return rearrange.roll(this, shifts, axis);
  }
  /** The lower triangle of the last two axes (j − i ≤ k kept, the rest 0; torch.tril). */
  tril(k = 0): Tensor {
    return rearrange.tril(this, k);
  }
  /** The upper triangle of the last two axes (j − i ≥ k kept, the rest 0; torch.triu). */
  triu(k = 0): Tensor {
    return rearrange.triu(this, k);
  }
  /**
   * A strided window, one `[start, end, step]` (or null for the whole axis) per leading axis,
   * with Python's rules: negative positions count from the end, ends are clamped, `step` may be
   * negative. `x.slice([1, 3], null, [0, null, 2])`.
   */
  slice(...ranges: (movement.SliceRange | null)[]): Tensor {
    return movement.slice(this, ranges);
  }
  /** Gather along `axis` (default 0: rows) by an index array; negative indices count from the end. */
  take(indices: movement.IndexLike, axis = 0): Tensor {
    return movement.take(this, indices, axis);
  }
  /** Alias of `take` along axis 0: `x.index([2, 0])` is rows 2 and 0. */
  index(indices: movement.IndexLike): Tensor {
    return movement.take(this, indices, 0);
  }
  /**
   * PyTorch's gather: y[i][j][k] = x[i][index[i][j][k]][k] for axis 1; `index` (int32 tensor or
   * nested integer arrays) has this tensor's rank, and y its shape.
   */
  gather(axis: number, index: indexing.IndexTensorLike): Tensor {
    return indexing.gather(this, axis, index);
  }
  /** PyTorch's scatter_add: a copy with src[i][j][k] added at [i][index[i][j][k]][k] for axis 1. */
  scatterAdd(axis: number, index: indexing.IndexTensorLike, src: Tensor): Tensor {
    return indexing.scatterAdd(this, axis, index, src);
  }
  /** PyTorch's index_select: the slices at `index` (1-d, each in [0, n)) along `axis`. */
  indexSelect(axis: number, index: indexing.IndexTensorLike): Tensor {
    return indexing.indexSelect(this, axis, index);
  }

  // ---- in-place updates (for optimizers; not recorded) ----

  /** Set every element to `value`, in place. */
  fill_(value: number): this {
    return this.update_("fill_", (d) => d.fill(value));
  }
  /** this += alpha·other, in place (other broadcasts to this tensor's shape). */
  addInPlace(other: TensorLike, alpha = 1): this {
    return this.update_("addInPlace", () => elementwise.addInPlace(this, other, alpha));
  }
  /** this *= factor, in place. */
  mulInPlace(factor: number): this {
    return this.update_("mulInPlace", (d) => {
      for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) * factor;
    });
  }
  /**
   * this /= divisor, in place, for a float tensor: the divisor is taken in the tensor's dtype, as
   * `div` takes a number, so the quotients are those of `div`.
   */
  divInPlace(divisor: number): this {
    if (this.dtype === "int32") {
      throw new ChainruleError("divInPlace", "an int32 tensor cannot hold the quotients; use div, which gives float64");
    }
    return this.update_("divInPlace", (d) => divideInPlace(d as FloatArray, divisor));
  }
  /** Overwrite the values with those of another tensor of the same shape, in place. */
  copy_(source: Tensor): this {
    return this.update_("copy_", (d) => {
      if (!sameShape(source.shape, this.shape)) {
        throw new ChainruleError(
          "copy_",
          `source shape ${formatShape(source.shape)} does not match ${formatShape(this.shape)}`,
        );
      }
      d.set(source.data);
    });
  }

  /**
   * Change the storage in place with `update` (for fused loops such as optimizers' updates), with
   * the same checks and version bump as every in-place method; `op` names the change in errors.
   */
  update_(op: string, update: (data: Storage) => void): this {
    checkInPlace(op, this);
    update(this.data);
    markModified(this.data, op);
    return this;
  }

  /** A copy with its own storage, and no graph. */
  clone(): Tensor {
    if (this.batch !== null) return batchedTensor(this.batch.inner.clone(), this.batch.level);
    return new Tensor(this.data.slice(), this.shape);
  }

  toString(): string {
    if (this.batch !== null)
      return `Tensor(batched inside vmap, shape=${formatShape(this.shape)}, dtype=${this.dtype})`;
    const values = this.size <= 20 ? JSON.stringify(this.toArray()) : `${this.size} elements`;
    const flags = this.requiresGrad ? ", requiresGrad" : "";
    const name = this.label === "" ? "" : `${this.label}: `;
    return `Tensor(${name}${values}, shape=${formatShape(this.shape)}, dtype=${this.dtype}${flags})`;
  }
}

/**
 * Turn a view into a tensor with storage of its own, holding the values it shows now (gradcheck's
 * blame does this to the nodes it perturbs: a view would read its source, not the perturbation).
 */
export function ownValues(t: Tensor): void {
  if (t.view === null) return;
  const values = t.view.read();
  (t as unknown as { storage: Storage }).storage = values;
  t.view = null;
}

/** The storage a tensor's values live in: its own, or, for a view, its source's. */
export function storageOf(t: Tensor): Storage {
  let x = t;
  while (x.view !== null) x = x.view.source;
  return x.data;
}

/**
 * The batched tensor of a vmap level whose examples are `inner`'s slices along axis 0 (transforms/vmap.ts
 * makes and reads them). It is a view: no values are copied.
 */
export function batchedTensor(inner: Tensor, level: number): Tensor {
  const t = new Tensor(allocate(inner.dtype, 0), [0], inner.requiresGrad);
  (t as { shape: readonly number[] }).shape = inner.shape.slice(1); // one example's shape
  t.batch = { level, inner };
  return t;
}

// ---- creation ----

/**
 * A tensor from nested arrays, a number, or a typed array (with `shape`; a typed array's storage
 * is copied). `tensor([[1, 2], [3, 4]], { requiresGrad: true })`.
 */
export function tensor(values: NestedArray | ArrayLike<number>, options: TensorOptions = {}): Tensor {
  const dtype = checkDtype("tensor", options.dtype ?? "float64");
  let shape: number[];
  let flat: ArrayLike<number>;
  if (ArrayBuffer.isView(values)) {
    if (values instanceof DataView || values instanceof BigInt64Array || values instanceof BigUint64Array) {
      throw new ChainruleError(
        "tensor",
        `a ${values.constructor.name} cannot hold tensor values; pass a numeric typed array`,
      );
    }
    flat = values as unknown as ArrayLike<number>;
    shape = options.shape === undefined ? [flat.length] : checkShape("tensor", options.shape);
  } else {
    const parsed = flatten(values as NestedArray);
    flat = parsed.flat;
    shape = options.shape === undefined ? parsed.shape : checkShape("tensor", options.shape);
  }
  if (flat.length !== sizeOf(shape)) {
    throw new ChainruleError(
      "tensor",
      `${flat.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`,
    );
  }
  if (dtype === "int32") checkInt32Values(flat);
  const data = allocate(dtype, flat.length);
  if (ArrayBuffer.isView(flat)) {
    data.set(flat); // a numeric typed array: every element is a number, copy in one go
  } else {
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v !== "number") throw new ChainruleError("tensor", `element ${i} is ${describe(v)}, not a number`);
      data[i] = v;
    }
  }
  return leaf(data, shape, options);
}

/** Values an int32 tensor can hold once truncated toward zero (as PyTorch converts): finite, in range. */
function checkInt32Values(values: ArrayLike<unknown>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number" && !(v > -(2 ** 31) - 1 && v < 2 ** 31)) {
      throw new ChainruleError("tensor", `element ${i} is ${v}, which an int32 tensor cannot hold`);
    }
  }
}

function leaf(data: Storage, shape: number[], options: TensorOptions): Tensor {
  const t = new Tensor(data, shape, options.requiresGrad === true);
  if (options.label !== undefined) t.label = options.label;
  return t;
}

/** Nested arrays → flat values and shape, refusing ragged nesting. */
function flatten(values: NestedArray): { flat: number[]; shape: number[] } {
  if (typeof values === "number") return { flat: [values], shape: [] };
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const flat: number[] = [];
  const path: number[] = []; // the index being walked, for error messages only
  const walk = (v: unknown, axis: number): void => {
    if (axis === shape.length) {
      if (Array.isArray(v))
        throw new ChainruleError(
          "tensor",
          `ragged nested array: element [${path.join(", ")}] is an array but its siblings are numbers`,
        );
      flat.push(v as number);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) {
      const got = Array.isArray(v) ? `length ${v.length}` : "a number";
      throw new ChainruleError(
        "tensor",
        `ragged nested array: at [${path.join(", ")}] expected an array of length ${shape[axis]}, got ${got}`,
      );
    }
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      walk(v[i], axis + 1);
      path.pop();
    }
  };
  walk(values, 0);
  return { flat, shape };
}

export function checkDtype(op: string, dtype: unknown): Dtype {
  if (dtype !== "float64" && dtype !== "float32" && dtype !== "int32") {
    throw new ChainruleError(op, `dtype must be "float64", "float32" or "int32", got ${JSON.stringify(dtype)}`);
  }
  return dtype;
}

/** The error for asking a gradient of an int32 tensor: indices and labels are constants. */
export function noGradForInt32(op: string): ChainruleError {
  return new ChainruleError(
    op,
    "an int32 tensor cannot require grad (no gradient flows through integers); use a float dtype",
  );
}

/** Options of the creation functions (`zeros`, `full`, `arange`, `randn`, …). */
export interface CreateOptions {
  /** float64 (default) or float32. */
  dtype?: Dtype;
  /** Whether backward computes a gradient for the new tensor (default false). */
  requiresGrad?: boolean;
  /** A name shown in pictures, traces and errors. */
  label?: string;
}

/** A tensor of `shape` with every element `value`. */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  return filled("full", shape, value, options);
}

/** A tensor of `shape` filled with 0: `zeros([2, 3])`. */
export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled("zeros", shape, 0, options);
}

/** A tensor of `shape` filled with 1: `ones([2, 3])`. */
export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled("ones", shape, 1, options);
}

/** full, zeros and ones, with errors under the name the caller used. */
function filled(op: string, shape: readonly number[], value: number, options: CreateOptions): Tensor {
  const s = checkShape(op, shape);
  const dtype = checkDtype(op, options.dtype ?? "float64");
  checkAllocation(op, s, dtype);
  const data = allocate(dtype, sizeOf(s));
  if (value !== 0) data.fill(value);
  return leaf(data, s, options);
}

/** Zeros with the shape and dtype of `t` (options may change the dtype). */
export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...options });
}

/** Ones with the shape and dtype of `t` (options may change the dtype). */
export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...options });
}

/** start, start + step, … below `stop` (NumPy's arange). `arange(5)` is 0…4. */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(step) || step === 0) {
    throw new ChainruleError(
      "arange",
      `start, stop and step must be finite and step non-zero, got ${lo}, ${hi}, ${step}`,
    );
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const dtype = checkDtype("arange", options.dtype ?? "float64");
  checkAllocation("arange", [n], dtype);
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return leaf(data, [n], options);
}

/** `num` evenly spaced values from start to stop, both included. */
export function linspace(start: number, stop: number, num: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(num) || num < 0)
    throw new ChainruleError("linspace", `num must be a non-negative integer, got ${num}`);
  const dtype = checkDtype("linspace", options.dtype ?? "float64");
  checkAllocation("linspace", [num], dtype);
  const data = allocate(dtype, num);
  for (let i = 0; i < num; i++) data[i] = num === 1 ? start : start + ((stop - start) * i) / (num - 1);
  return leaf(data, [num], options);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkAllocation("eye", checkShape("eye", [n, m]), checkDtype("eye", options.dtype ?? "float64"));
  const t = zeros([n, m], options);
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return t;
}

function randomFill(
  op: string,
  shape: readonly number[],
  random: Random,
  options: CreateOptions,
  draw: (random: Random) => number,
): Tensor {
  if (typeof (random as Partial<Random> | undefined)?.next !== "function") {
    throw new ChainruleError(
      op,
      "random must be a seeded generator (new Random(seed)) or left out for the default one",
    );
  }
  checkAllocation(op, checkShape(op, shape), checkDtype(op, options.dtype ?? "float64"));
  const t = zeros(shape, options);
  for (let i = 0; i < t.size; i++) t.data[i] = draw(random);
  return t;
}

// The generator may be left out: rand(shape), rand(shape, options) and rand(shape, random, options).
function randomArgs<O extends object>(random: Random | O | undefined, options: O | undefined): [Random, O] {
  if (random === undefined) return [defaultRandom(), options ?? ({} as O)];
  const isOptions =
    typeof random === "object" && random !== null && typeof (random as Partial<Random>).next !== "function";
  if (isOptions && options === undefined) return [defaultRandom(), random as O];
  return [random as Random, options ?? ({} as O)]; // randomFill checks it
}

/** Options of `rand`: creation options and the interval [low, high). */
export interface RandOptions extends CreateOptions {
  /** The lower end, included (default 0). */
  low?: number;
  /** The upper end, excluded (default 1). */
  high?: number;
}

/** Options of `randn`: creation options, the mean and the standard deviation. */
export interface RandnOptions extends CreateOptions {
  /** The mean (default 0). */
  mean?: number;
  /** The standard deviation (default 1). */
  std?: number;
}

/**
 * Uniform in [low, high) from `random`, or from the default generator (see `manualSeed`).
 *
 * @example
 * rand([2, 3], new Random(0)); // explicit generator
 * rand([2, 3], { low: -1, high: 1 }); // the default generator
 */
export function rand(shape: readonly number[], random?: Random, options?: RandOptions): Tensor;
export function rand(shape: readonly number[], options?: RandOptions): Tensor;
export function rand(shape: readonly number[], random?: Random | RandOptions, options?: RandOptions): Tensor {
  const [r, { low = 0, high = 1, ...rest }] = randomArgs(random, options);
  return randomFill("rand", shape, r, rest, (g) => g.uniform(low, high));
}

/**
 * Normal with the given mean and std (default standard) from `random`, or from the default
 * generator (see `manualSeed`).
 *
 * @example
 * randn([8, 3], new Random(42), { requiresGrad: true });
 * randn([8, 3]); // the default generator
 */
export function randn(shape: readonly number[], random?: Random, options?: RandnOptions): Tensor;
export function randn(shape: readonly number[], options?: RandnOptions): Tensor;
export function randn(shape: readonly number[], random?: Random | RandnOptions, options?: RandnOptions): Tensor {
  const [r, { mean = 0, std = 1, ...rest }] = randomArgs(random, options);
  return randomFill("randn", shape, r, rest, (g) => g.normal(mean, std));
}

/** Zero-copy wrap of existing storage (the caller gives up the buffer). */
export function fromStorage(data: Storage, shape: Shape, options: Omit<TensorOptions, "shape" | "dtype"> = {}): Tensor {
  return leaf(data, checkShape("fromStorage", shape), options);
}

/** out = cond ? a : b elementwise, all three broadcast together; cond is nonzero for true. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return elementwise.where(cond, a, b);
}

/** Join tensors along an existing axis. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  return movement.concat(tensors, axis);
}

/** Join tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  return movement.stack(tensors, axis);
}
