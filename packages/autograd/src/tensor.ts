/**
 * @file The n-d front end: the `Tensor` class, creation functions, the gradient mode, and the
 * backward pass over tensor graphs. Operations live in ops/ (each forward beside its derivative
 * rule); the methods here only call them. Imports graph.ts, shape.ts, ndarray.ts, errors.ts,
 * random.ts and ops/.
 *
 * Derivative rules are written with Tensor operations. An ordinary `backward()` runs them
 * without recording (as under `noGrad`), so it builds no graph; `backward({ createGraph: true })`
 * records them, and the gradients it leaves can be differentiated again.
 */

import { ChainruleError } from "./errors.js";
import { type GraphNode, topoSort } from "./graph.js";
import { allocate, type Dtype, disownStorage, type FloatArray, recordStorages } from "./ndarray.js";
import * as elementwise from "./ops/elementwise.js";
import * as linalg from "./ops/matmul.js";
import * as movement from "./ops/movement.js";
import * as reduction from "./ops/reduce.js";
import { defaultRandom, type Random } from "./random.js";
import { checkShape, formatShape, type Shape, sameShape, sizeOf } from "./shape.js";

export type { Dtype, FloatArray };

/** Given g = ∂L/∂out (and out itself), ∂L/∂parent for each parent; null where a parent needs none. */
export type BackwardFn = (g: Tensor, out: Tensor) => readonly (Tensor | null)[];

/**
 * The values an op's derivative rule reads, declared by the op beside its rule: its inputs and
 * output ("all", the safe default), only its output (y = eˣ: dy/dx = y), or none (rules that move
 * or sum g only). Backward refuses a rule whose saved values were changed in place since.
 */
export type Saves = "all" | "output" | "none";

/** Whether operations record a graph: switched off by `noGrad` and inside an ordinary backward. */
let gradEnabled = true;

/** Run `fn` without recording: results have no graph and need no gradient. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Run `fn` with recording switched on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Whether operations record a graph now: false inside `noGrad`, true otherwise. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

// Stands in for a backward rule whose saved tensors were released after a backward pass.
const RELEASED: BackwardFn = () => [];

/** Options of `Tensor.backward`. */
export interface BackwardOptions {
  /** Keep the saved tensors so that backward can run through this graph again. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so that the gradients can be differentiated again (implies retainGraph). */
  createGraph?: boolean;
  /** Called after each node's rule runs, with ∂L/∂node and what it sent to each parent (traces use it). */
  onStep?: (step: TensorStep) => void;
}

/** One step of a backward pass: a node, ∂L/∂node, and ∂L/∂parent as sent to each parent (null: none). */
export interface TensorStep {
  /** The node whose rule just ran. */
  node: Tensor;
  /** ∂L/∂node: the gradient that reached it. */
  grad: Tensor;
  /** What the rule sent to each parent (null for a parent that needs no gradient). */
  parentGrads: readonly (Tensor | null)[];
}

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

/** An n-dimensional array of float64 or float32 numbers, and a node of a computation graph. */
export class Tensor implements GraphNode<Tensor> {
  /**
   * The storage: dense, row-major. This is the live buffer (no copy), shared with reshaped
   * views; treat it as read-only and use `toTypedArray()` for a copy you may change.
   */
  readonly data: FloatArray;
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

  constructor(
    data: FloatArray,
    shape: readonly number[],
    requiresGrad = false,
    op = "leaf",
    parents: readonly Tensor[] = [],
    backwardFn: BackwardFn | null = null,
  ) {
    if (data.length !== sizeOf(shape)) {
      throw new ChainruleError(
        op === "leaf" ? "tensor" : op,
        `data has ${data.length} elements but shape ${formatShape(shape)} needs ${sizeOf(shape)}`,
      );
    }
    this.data = data;
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
    this.epoch = inPlaceEpoch;
  }

  parent(i: number): Tensor | undefined {
    return this.parents[i];
  }
  /** float64 or float32: the type of `data`. */
  get dtype(): Dtype {
    return this.data instanceof Float64Array ? "float64" : "float32";
  }
  /** The number of elements: the product of the shape. */
  get size(): number {
    return this.data.length;
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
    return modifiedAt.get(this.data)?.version ?? 0;
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
  toTypedArray(): FloatArray {
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
  /** max(a, b) elementwise, broadcast; a tie sends the whole gradient to a. */
  maximum(other: TensorLike): Tensor {
    return elementwise.maximum(this, other);
  }
  /** min(a, b) elementwise, broadcast; a tie sends the whole gradient to a. */
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
  /** Limit every element to [min, max] (either bound may be omitted). */
  clamp(min?: number, max?: number): Tensor {
    return elementwise.clamp(this, min, max);
  }
  /** −1, 0 or 1 by the sign of each element (no gradient). */
  sign(): Tensor {
    return elementwise.sign(this);
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
  update_(op: string, update: (data: FloatArray) => void): this {
    checkInPlace(op, this);
    update(this.data);
    markModified(this.data, op);
    return this;
  }

  /** A copy with its own storage, and no graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  toString(): string {
    const values = this.size <= 20 ? JSON.stringify(this.toArray()) : `${this.size} elements`;
    const flags = this.requiresGrad ? ", requiresGrad" : "";
    const name = this.label === "" ? "" : `${this.label}: `;
    return `Tensor(${name}${values}, shape=${formatShape(this.shape)}, dtype=${this.dtype}${flags})`;
  }
}

// ---- in-place safety ----
//
// Every in-place change bumps a global epoch and records, for the storage it changed, that epoch
// and the op. A node made before the change whose rule reads that storage would compute its
// gradient from the new values: backward refuses instead. A node carries one number (its epoch),
// so the check costs nothing until something is changed in place.

let inPlaceEpoch = 0;
const modifiedAt = new WeakMap<FloatArray, { epoch: number; version: number; op: string }>();

function markModified(data: FloatArray, op: string): void {
  inPlaceEpoch++;
  modifiedAt.set(data, { epoch: inPlaceEpoch, version: (modifiedAt.get(data)?.version ?? 0) + 1, op });
}

/** Refuse to run a rule whose saved tensors were changed in place after the node was made. */
function checkSavedTensors(node: Tensor): void {
  if (node.epoch === inPlaceEpoch || node.saves === "none") return;
  const saved = node.saves === "output" ? [node] : [...node.parents, node];
  for (const t of saved) {
    const m = modifiedAt.get(t.data);
    if (m !== undefined && m.epoch > node.epoch) {
      const which =
        t === node
          ? "its output"
          : `its input of shape ${formatShape(t.shape)}${t.label === "" ? "" : ` (${t.label})`}`;
      const where = provenanceOf(node)?.createdAt;
      throw new ChainruleError(
        "backward",
        `'${node.op}' saved ${which} for its derivative, but it was modified in place by ${m.op} after '${node.op}' used it, so the gradient would use the new values${where ? `; '${node.op}' was created at ${where}` : ""}. Update a clone, or recompute the forward pass after the change.`,
      );
    }
  }
}

function checkInPlace(op: string, t: Tensor): void {
  if (!t.isLeaf) {
    throw new ChainruleError(
      op,
      `cannot change the output of '${t.op}' in place: it is part of a graph whose backward pass may need its values`,
    );
  }
  if (gradEnabled && t.requiresGrad) {
    // As in PyTorch: an update to a parameter must not itself be recorded.
    throw new ChainruleError(
      op,
      "cannot change a leaf that requires grad in place while recording; wrap the update in noGrad(() => …)",
    );
  }
}

/**
 * A rule written outside the library (a `backwardFn` given to the constructor, or customOp's) may
 * keep the tensors it receives or returns, so their storages are never adopted by a leaf (see
 * accumulate): the wrapper disowns them.
 */
export function userRule(rule: BackwardFn): BackwardFn {
  return (g, out) => {
    disownStorage(g.data);
    const grads = rule(g, out);
    for (const gi of grads) if (gi !== null && gi !== undefined) disownStorage(gi.data);
    return grads;
  };
}

/**
 * Make an op's result. When recording and some input requires grad, the result joins the graph
 * with `backwardFn` as its rule; otherwise it is a plain tensor with no graph. `replay` recomputes
 * the op from its parents' current values; it is kept only while provenance is recorded.
 */
export function fromOp(
  op: string,
  data: FloatArray,
  shape: readonly number[],
  parents: readonly Tensor[],
  backwardFn: BackwardFn,
  replay?: () => Tensor,
  saves: Saves = "all",
): Tensor {
  if (anomalyMode) checkForward(op, data, parents);
  if (gradEnabled) {
    for (const p of parents) {
      if (p.requiresGrad) {
        const node = new Tensor(data, shape, true, op, parents);
        node.backwardFn = backwardFn;
        node.saves = saves;
        if (recordingProvenance) provenance.set(node, { replay: replay ?? null, createdAt: creationSite() });
        return node;
      }
    }
  }
  return new Tensor(data, shape);
}

// ---- anomaly detection ----

let anomalyMode = false;

/**
 * Run `fn` with anomaly detection: the first operation whose output, or whose derivative rule's
 * result, contains NaN or ±Infinity throws, naming the op, its input shapes and where it was
 * created. Creation sites are captured only in this mode, so ordinary runs pay nothing.
 */
export function detectAnomaly<T>(fn: () => T): T {
  const previous = anomalyMode;
  anomalyMode = true;
  try {
    return withProvenance(fn);
  } finally {
    anomalyMode = previous;
  }
}

/** Switch anomaly detection (and creation-site recording) on or off for everything that follows. */
export function setAnomalyDetection(enabled: boolean): void {
  anomalyMode = enabled;
  recordingProvenance = enabled;
}

function firstNonFinite(data: FloatArray): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) return i;
  return -1;
}

function checkForward(op: string, data: FloatArray, parents: readonly Tensor[]): void {
  const i = firstNonFinite(data);
  if (i < 0) return;
  const shapes = parents.map((p) => formatShape(p.shape)).join(", ");
  throw new ChainruleError(
    op,
    `anomaly: the output contains ${data[i]} at flat index ${i} (inputs of shape ${shapes}); created at ${creationSite()}`,
  );
}

function checkGradients(node: Tensor, grads: readonly (Tensor | null)[]): void {
  grads.forEach((g, k) => {
    if (g === null || g === undefined) return;
    const i = firstNonFinite(g.data);
    if (i < 0) return;
    const shapes = node.parents.map((p) => formatShape(p.shape)).join(", ");
    const where = provenanceOf(node)?.createdAt ?? "unknown (made outside detectAnomaly)";
    throw new ChainruleError(
      node.op,
      `anomaly: the derivative rule produced ${g.data[i]} in the gradient for input ${k} (inputs of shape ${shapes}); the node was created at ${where}`,
    );
  });
}

/** What a node remembers about its making, recorded only on request (blame, anomaly detection). */
export interface Provenance {
  /** Recompute the node from its parents' current values (null for ops that cannot). */
  replay: (() => Tensor) | null;
  /** The stack at the node's creation, outside the library's own frames. */
  createdAt: string;
}

// Off by default, so ordinary runs pay nothing: no stacks captured, no closures kept.
let recordingProvenance = false;
const provenance = new WeakMap<Tensor, Provenance>();

/** Run `fn` recording, for every graph node it makes, how to replay it and where it was created. */
export function withProvenance<T>(fn: () => T): T {
  const previous = recordingProvenance;
  recordingProvenance = true;
  try {
    return fn();
  } finally {
    recordingProvenance = previous;
  }
}

export function provenanceOf(t: Tensor): Provenance | undefined {
  return provenance.get(t);
}

// Frames inside the library's own sources or build (not its tests) are skipped.
const LIBRARY_FRAME = /[\\/](packages[\\/]autograd|@chainrule[\\/]autograd)[\\/](src|dist)[\\/](?![^\n]*\.test\.)/;

/** The first frames of the current stack that lie outside this package: where the user made the node. */
function creationSite(): string {
  const frames = (new Error().stack ?? "")
    .split("\n")
    .slice(1)
    .map((l) => l.trim().replace(/^at /, "")); // "fn (file:line:col)": the message says "created at"
  const outside = frames.filter((f) => !LIBRARY_FRAME.test(f));
  return (outside.length > 0 ? outside : frames).slice(0, 3).join("\n");
}

/** Turn a number operand into a 0-d tensor of `like`'s dtype; check everything else is a Tensor. */
export function toTensor(op: string, x: unknown, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") {
    const data = allocate(like.dtype, 1);
    data[0] = x;
    return new Tensor(data, []);
  }
  throw new ChainruleError(op, `operand must be a Tensor or a number, got ${describe(x)}`);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array (wrap it with tensor(...))";
  if (typeof x === "object") return x.constructor?.name ?? "object";
  return typeof x;
}

// ---- the backward pass ----

/**
 * The engine. Walks the graph behind `root` in reverse topological order, calling each node's
 * rule once with the sum of the gradients it received. With `inputs` given, returns their
 * gradients and writes no `.grad` anywhere (the functional form); otherwise accumulates into the
 * `.grad` of leaves that require grad (and of `retainGrad()` tensors).
 */
export function runBackward(
  root: Tensor,
  seed: Tensor | number | undefined,
  options: BackwardOptions,
  inputs: readonly Tensor[] | null,
): (Tensor | null)[] {
  const createGraph = options.createGraph === true;
  const retainGraph = options.retainGraph === true || createGraph;
  if (!(root instanceof Tensor)) throw new ChainruleError("backward", `expected a Tensor, got ${describe(root)}`);
  if (!root.requiresGrad) {
    throw new ChainruleError(
      "backward",
      "this tensor does not require grad: no input of its graph has requiresGrad, or it was computed under noGrad",
    );
  }
  let g0: Tensor;
  if (seed === undefined) {
    if (root.size !== 1) {
      throw new ChainruleError(
        "backward",
        `an output of shape ${formatShape(root.shape)} needs an explicit seed of that shape (∂L/∂output); only one-element outputs default to 1`,
      );
    }
    g0 = full(root.shape, 1, { dtype: root.dtype });
  } else {
    g0 = typeof seed === "number" ? full(root.shape, seed, { dtype: root.dtype }) : toTensor("backward", seed, root);
    if (!sameShape(g0.shape, root.shape)) {
      throw new ChainruleError(
        "backward",
        `seed shape ${formatShape(g0.shape)} does not match the output shape ${formatShape(root.shape)}`,
      );
    }
    if (g0.dtype !== root.dtype) g0 = g0.astype(root.dtype); // gradients take their tensor's dtype
  }

  const wanted = inputs === null ? null : new Set(inputs);
  const found = new Map<Tensor, Tensor>();
  const order = topoSort(root, (t) => t.requiresGrad);
  const pending = new Map<Tensor, Tensor>([[root, g0]]);
  // Nothing visible changes until the whole pass has succeeded: gradients for .grad and the nodes
  // to release are collected, then applied at the end, so a pass that throws (a released graph,
  // an in-place change, an anomaly) leaves every .grad and the graph as they were.
  const arrived: [Tensor, Tensor][] = [];
  const ran: Tensor[] = [];

  // A plain pass records the storages it makes, so that a leaf can keep the gradient it receives
  // when the pass made its storage and no other gradient holds it (see accumulate).
  const made = !createGraph && inputs === null && options.onStep === undefined ? new WeakSet<FloatArray>() : null;
  const recording = recordStorages(made);
  try {
    withGradMode(createGraph, () => runRules(order, pending, wanted, found, arrived, ran, options));
  } finally {
    recordStorages(recording);
  }
  withGradMode(createGraph, () => {
    const holders = new Map<FloatArray, number>();
    for (const [, g] of arrived) holders.set(g.data, (holders.get(g.data) ?? 0) + 1);
    for (const [node, g] of arrived) {
      accumulate(node, g, createGraph, made?.has(g.data) === true && holders.get(g.data) === 1);
    }
  });
  if (!retainGraph) for (const node of ran) node.backwardFn = RELEASED;
  return inputs === null ? [] : inputs.map((t) => found.get(t) ?? null);
}

/** The pass itself: each node's rule once, in reverse topological order, with the sum of what it received. */
function runRules(
  order: readonly Tensor[],
  pending: Map<Tensor, Tensor>,
  wanted: Set<Tensor> | null,
  found: Map<Tensor, Tensor>,
  arrived: [Tensor, Tensor][],
  ran: Tensor[],
  options: BackwardOptions,
): void {
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i] as Tensor;
    const g = pending.get(node);
    if (g === undefined) continue;
    pending.delete(node);
    if (wanted !== null) {
      if (wanted.has(node)) found.set(node, g);
    } else if (node.isLeaf || node.retainsGrad) {
      arrived.push([node, g]);
    }
    const rule = node.backwardFn;
    if (rule === null) continue;
    if (rule === RELEASED) {
      throw new ChainruleError(
        "backward",
        `the graph through '${node.op}' was already used by a backward pass, which released what it saved; pass { retainGraph: true } to the first backward to run through it again`,
      );
    }
    checkSavedTensors(node);
    const grads = rule(g, node);
    if (anomalyMode) checkGradients(node, grads);
    if (options.onStep !== undefined) {
      options.onStep({
        node,
        grad: g,
        parentGrads: node.parents.map((p, k) => (p.requiresGrad ? (grads[k] ?? null) : null)),
      });
    }
    node.parents.forEach((parent, k) => {
      const gp = grads[k];
      if (!parent.requiresGrad || gp === null || gp === undefined) return;
      const shaped = sumToShape(node.op, gp, parent);
      const previous = pending.get(parent);
      pending.set(parent, previous === undefined ? shaped : previous.add(shaped));
    });
    ran.push(node);
  }
}

/**
 * Add g into t.grad: in place when no graph is being recorded, as a recorded add otherwise.
 * `own`: the pass made g's storage and no other gradient holds it, so t may keep g itself.
 */
function accumulate(t: Tensor, g: Tensor, createGraph: boolean, own: boolean): void {
  if (t.grad === null) {
    // Otherwise a copy: the same gradient may reach several leaves, a plain tensor may be the
    // caller's seed, and optimizers scale gradients in place.
    t.grad = own || (createGraph && !(g.isLeaf && !g.requiresGrad)) ? g : g.clone();
  } else if (!createGraph && t.grad.isLeaf && !t.grad.requiresGrad) {
    const acc = t.grad.data;
    const src = g.data;
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (src[i] as number);
    markModified(acc, "gradient accumulation");
  } else {
    t.grad = t.grad.add(g);
  }
}

/**
 * A rule returns ∂L/∂parent in the output's (broadcast) shape; sum the broadcast copies back to
 * the parent's own shape, and cast to its dtype. Made of Tensor ops, so it is recorded when the
 * backward pass is.
 */
export function sumToShape(op: string, g: Tensor, parent: Tensor): Tensor {
  let out = g;
  if (!sameShape(g.shape, parent.shape)) {
    const extra = g.ndim - parent.ndim;
    const axes: number[] = [];
    let ok = extra >= 0;
    for (let d = 0; ok && d < g.ndim; d++) {
      if (d < extra) axes.push(d);
      else if (parent.shape[d - extra] === 1 && g.shape[d] !== 1) axes.push(d);
      else if (parent.shape[d - extra] !== g.shape[d]) ok = false;
    }
    if (!ok) {
      throw new ChainruleError(
        op,
        `the derivative rule returned a gradient of shape ${formatShape(g.shape)} for an input of shape ${formatShape(parent.shape)}`,
      );
    }
    out = g.sum(axes, true).reshape(parent.shape);
  }
  return out.dtype === parent.dtype ? out : out.astype(parent.dtype);
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

function leaf(data: FloatArray, shape: number[], options: TensorOptions): Tensor {
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
  if (dtype !== "float64" && dtype !== "float32") {
    throw new ChainruleError(op, `dtype must be "float64" or "float32", got ${JSON.stringify(dtype)}`);
  }
  return dtype;
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
  const s = checkShape("full", shape);
  const data = allocate(checkDtype("full", options.dtype ?? "float64"), sizeOf(s));
  if (value !== 0) data.fill(value);
  return leaf(data, s, options);
}

/** A tensor of `shape` filled with 0: `zeros([2, 3])`. */
export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of `shape` filled with 1: `ones([2, 3])`. */
export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
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
  const data = allocate(checkDtype("arange", options.dtype ?? "float64"), n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return leaf(data, [n], options);
}

/** `num` evenly spaced values from start to stop, both included. */
export function linspace(start: number, stop: number, num: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(num) || num < 0)
    throw new ChainruleError("linspace", `num must be a non-negative integer, got ${num}`);
  const data = allocate(checkDtype("linspace", options.dtype ?? "float64"), num);
  for (let i = 0; i < num; i++) data[i] = num === 1 ? start : start + ((stop - start) * i) / (num - 1);
  return leaf(data, [num], options);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const t = zeros(checkShape("eye", [n, m]), options);
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
  const t = zeros(checkShape(op, shape), options);
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
export function fromStorage(
  data: FloatArray,
  shape: Shape,
  options: Omit<TensorOptions, "shape" | "dtype"> = {},
): Tensor {
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
