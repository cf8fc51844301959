/**
 * @file The engine: the gradient mode, how an op's result joins the graph (`fromOp`), the
 * backward pass over tensor graphs, the in-place safety checks, anomaly detection, and the state
 * of the function transforms under way (forward-mode levels of `jvp`, batch levels of `vmap`).
 * Imports graph.ts, ndarray.ts, shape.ts, errors.ts and the Tensor class (tensor.ts).
 *
 * Derivative rules are written with Tensor operations. An ordinary `backward()` runs them
 * without recording (as under `noGrad`), so it builds no graph; `backward({ createGraph: true })`
 * records them, and the gradients it leaves can be differentiated again.
 */

import { ChainruleError } from "./errors.js";
import { topoSort } from "./graph.js";
import { allocate, disownStorage, recordStorages, type Storage } from "./ndarray.js";
import { formatShape, sameShape } from "./shape.js";
import { full, storageOf, Tensor, type View } from "./tensor.js";
/** Given g = ∂L/∂out (and out itself), ∂L/∂parent for each parent; null where a parent needs none. */
export type BackwardFn = (g: Tensor, out: Tensor) => readonly (Tensor | null)[];

/**
 * The forward-mode rule: given the inputs' tangents ẋᵢ (null where an input has none, i.e. a
 * zero tangent) and the output, the output's tangent ẏ = Σᵢ ∂y/∂xᵢ·ẋᵢ. Written with Tensor
 * operations, so tangents of tangents (nested `jvp`) come for free. A result smaller than the
 * output is broadcast to it by the engine, as `sumToShape` does for gradients.
 */
export type JvpFn = (tangents: readonly (Tensor | null)[], out: Tensor) => Tensor;

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

/**
 * Whether derivative rules must be written out in Tensor operations (the composed form) rather
 * than run as fused loops over raw arrays: when the pass is recorded, when tangents may ride on
 * the tensors (a `jvp` is under way), or when gradients may be batched tensors (a `vmap` is).
 */
export function composing(): boolean {
  return gradEnabled || forwardLevels.length > 0 || batchLevels.length > 0;
}

// ---- transform levels ----
//
// `jvp` and `vmap` open a level for the time their function runs. Levels nest (jvp of jvp, vmap of
// vmap) and their ids are never reused, so a tangent or a batched tensor kept from a finished call
// can never be mistaken for one of a live call.

let lastLevel = 0;

/** The forward-mode levels under way, innermost last: a tensor's tangent at level L is `tangents.get(L)`. */
export const forwardLevels: number[] = [];

/** A vmap level under way: its id and the size of its batch axis. */
export interface BatchLevel {
  readonly id: number;
  readonly size: number;
}

/** The vmap levels under way, innermost last. */
export const batchLevels: BatchLevel[] = [];

/** Run `fn` inside a new forward-mode level (a `jvp`), given its id. */
export function withForwardLevel<T>(fn: (level: number) => T): T {
  const level = ++lastLevel;
  forwardLevels.push(level);
  try {
    return fn(level);
  } finally {
    forwardLevels.splice(forwardLevels.indexOf(level), 1);
  }
}

/** Run `fn` inside a new vmap level of batch size `size`. */
export function withBatchLevel<T>(size: number, fn: (level: BatchLevel) => T): T {
  const level = { id: ++lastLevel, size };
  batchLevels.push(level);
  try {
    return fn(level);
  } finally {
    batchLevels.splice(batchLevels.indexOf(level), 1);
  }
}

/**
 * The tangent of an op with two inputs, Σ of the terms present (a null term is a zero tangent):
 * ẏ = ∂y/∂a·ȧ + ∂y/∂b·ḃ with either term missing. jvp rules call it with at least one term.
 */
export function sumTangents(a: Tensor | null | undefined, b: Tensor | null | undefined): Tensor {
  return a && b ? a.add(b) : ((a ?? b) as Tensor);
}

/** t's tangent at a forward-mode level, or null (a zero tangent). */
export function tangentOf(t: Tensor, level: number): Tensor | null {
  return t.tangents?.get(level) ?? null;
}

/** Give t a tangent at a forward-mode level. */
export function setTangent(t: Tensor, level: number, tangent: Tensor): void {
  if (t.tangents === null) t.tangents = new Map();
  t.tangents.set(level, tangent);
}

/**
 * The output's tangent at every live level where an input has one, by the op's jvp rule. While a
 * level's tangent is computed that level is set aside, so the rule sees the inputs' values only,
 * not their tangents at the same level (which would mix ε² terms into ε ones); tangents at the
 * other levels flow through the rule's operations and give the mixed terms of nested jvp.
 */
function attachTangents(op: string, out: Tensor, parents: readonly Tensor[], jvp: JvpFn | undefined): void {
  for (const level of [...forwardLevels]) {
    let any = false;
    const tangents = parents.map((p) => {
      const t = tangentOf(p, level);
      if (t !== null) any = true;
      return t;
    });
    if (!any) continue;
    if (jvp === undefined) {
      throw new ChainruleError(op, "has no forward-mode rule, so a jvp cannot pass through it");
    }
    const at = forwardLevels.indexOf(level);
    forwardLevels.splice(at, 1);
    let t: Tensor;
    try {
      t = jvp(tangents, out);
    } finally {
      forwardLevels.splice(at, 0, level);
    }
    if (!sameShape(t.shape, out.shape)) t = t.expand(out.shape as number[]);
    if (t.dtype !== out.dtype) t = t.astype(out.dtype);
    setTangent(out, level, t);
  }
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

// ---- in-place safety ----
//
// Every in-place change bumps a global epoch and records, for the storage it changed, that epoch
// and the op. A node made before the change whose rule reads that storage would compute its
// gradient from the new values: backward refuses instead. A node carries one number (its epoch),
// so the check costs nothing until something is changed in place.

let epoch = 0;
const modifiedAt = new WeakMap<Storage, { epoch: number; version: number; op: string }>();

/** The count of in-place changes so far: a node made now is stale for changes with a later epoch. */
export function inPlaceEpoch(): number {
  return epoch;
}

/** How many times a storage has been changed in place. */
export function versionOf(data: Storage): number {
  return modifiedAt.get(data)?.version ?? 0;
}

export function markModified(data: Storage, op: string): void {
  epoch++;
  modifiedAt.set(data, { epoch, version: versionOf(data) + 1, op });
}

/** Refuse to run a rule whose saved tensors were changed in place after the node was made. */
function checkSavedTensors(node: Tensor): void {
  if (node.epoch === epoch || node.saves === "none") return;
  const saved = node.saves === "output" ? [node] : [...node.parents, node];
  for (const t of saved) {
    const m = modifiedAt.get(storageOf(t));
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

export function checkInPlace(op: string, t: Tensor): void {
  if (t.view !== null) {
    throw new ChainruleError(
      op,
      `cannot change a ${t.op === "leaf" ? "view" : `view made by '${t.op}'`} in place: its values are another tensor's; clone() it first`,
    );
  }
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

/** An op's rules, given beside its forward computation. */
export interface OpRules {
  /** The reverse-mode rule: ∂L/∂inputs from g = ∂L/∂out. */
  vjp: BackwardFn;
  /** The forward-mode rule: ẏ from the inputs' tangents (ops that never carry tangents may omit it). */
  jvp?: JvpFn | undefined;
  /** Recompute the op from its parents' current values (kept only while provenance is recorded: blame). */
  replay?: (() => Tensor) | undefined;
  /** Which values the vjp reads, for the in-place checks (default "all"). */
  saves?: Saves;
}

/**
 * Make an op's result from its computed values. When recording and some input requires grad,
 * the result joins the graph with `rules.vjp` as its derivative rule; otherwise it is a plain
 * tensor with no graph. When a `jvp` is under way, the result gets its tangents by `rules.jvp`.
 */
export function fromOp(
  op: string,
  data: Storage | View,
  shape: readonly number[],
  parents: readonly Tensor[],
  rules: OpRules,
): Tensor {
  if (anomalyMode && ArrayBuffer.isView(data)) checkForward(op, data, parents); // a view makes no new values
  let out: Tensor | null = null;
  // An int32 result (an index, a label, a cast of a constant) is a constant: it joins no graph.
  const integer = ArrayBuffer.isView(data) ? data instanceof Int32Array : data.source.dtype === "int32";
  if (gradEnabled && !integer) {
    for (const p of parents) {
      if (p.requiresGrad) {
        out = new Tensor(data, shape, true, op, parents);
        out.backwardFn = rules.vjp;
        out.saves = rules.saves ?? "all";
        if (recordingProvenance) provenance.set(out, { replay: rules.replay ?? null, createdAt: creationSite() });
        break;
      }
    }
  }
  if (out === null) out = new Tensor(data, shape);
  if (forwardLevels.length > 0 && !integer) attachTangents(op, out, parents, rules.jvp);
  return out;
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

function firstNonFinite(data: Storage): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) return i;
  return -1;
}

function checkForward(op: string, data: Storage, parents: readonly Tensor[]): void {
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

// Frames inside the library's own sources or build (not its tests) are skipped, and so are frames
// of no file of the user's: the engine's internals, native frames (Array.forEach), and test
// runners or property-testing libraries under node_modules.
const LIBRARY_FRAME = /[\\/](packages[\\/]autograd|@chainrule[\\/]autograd)[\\/](src|dist)[\\/](?![^\n]*\.test\.)/;
const FOREIGN_FRAME = /\(<anonymous>\)|\(native\)|\bnode:|[\\/]node_modules[\\/](?!@chainrule)/;

/** The first frames of the current stack that lie in the user's code: where the user made the node. */
function creationSite(): string {
  const frames = (new Error().stack ?? "")
    .split("\n")
    .slice(1)
    .map((l) => l.trim().replace(/^at /, "")); // "fn (file:line:col)": the message says "created at"
  const outside = frames.filter((f) => !LIBRARY_FRAME.test(f) && !FOREIGN_FRAME.test(f));
  return (outside.length > 0 ? outside : frames.filter((f) => !LIBRARY_FRAME.test(f))).slice(0, 3).join("\n");
}

/** Turn a number operand into a 0-d tensor of `like`'s dtype; check everything else is a Tensor. */
export function toTensor(op: string, x: unknown, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") {
    // With an int32 tensor, an integer stays int32 and any other number makes the op float64.
    const data = allocate(like.dtype === "int32" && !Number.isInteger(x) ? "float64" : like.dtype, 1);
    data[0] = x;
    return new Tensor(data, []);
  }
  throw new ChainruleError(op, `operand must be a Tensor or a number, got ${describe(x)}`);
}

export function describe(x: unknown): string {
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
  const made = !createGraph && inputs === null && options.onStep === undefined ? new WeakSet<Storage>() : null;
  const recording = recordStorages(made);
  try {
    withGradMode(createGraph, () => runRules(order, pending, wanted, found, arrived, ran, options));
  } finally {
    recordStorages(recording);
  }
  withGradMode(createGraph, () => {
    const holders = new Map<Storage, number>();
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
