/**
 * @file vmap: map a function over a batch axis by batching rules, not by a loop over the examples.
 *
 * Inside `vmap(f)`, f's arguments are *batched tensors*: each stands for a whole batch, showing one
 * example's shape, with the batch itself held in `inner` (batch axis first). Every op is wrapped
 * by `batchable`: when one of its arguments is batched at a live level, the op's batching rule
 * runs instead of its forward computation. A rule rewrites the op for the whole batch — usually
 * the same op on the inner tensors with every axis shifted one to the right (`Batch.axis`), since
 * broadcasting does the rest — and wraps the result. The inner tensors are ordinary tensors, so
 * gradients and tangents flow through the rewritten ops as through any others, and `vmap(grad(f))`
 * gives per-example gradients in one pass. Levels nest: an inner tensor may itself be batched at
 * an outer level, and the rule's ops then dispatch again.
 *
 * Imports engine.ts, tensor.ts, shape.ts, errors.ts and ops/registry.ts. The op modules import
 * this one while tensor.ts is still loading, so nothing here may use tensor.ts before it is called.
 */

import { type BatchLevel, batchLevels, withBatchLevel } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { opRegistry } from "../ops/registry.js";
import { normalizeAxes, normalizeAxis } from "../shape.js";
import { batchedTensor, concat, Tensor } from "../tensor.js";

/** What a batching rule works with: its level, and the moves between batched and inner tensors. */
export class Batch {
  constructor(readonly level: BatchLevel) {}

  /** The batch size. */
  get size(): number {
    return this.level.size;
  }
  /** Whether x is a tensor batched at this level. */
  has(x: unknown): boolean {
    return this.batchOf(x) !== null;
  }
  /** x's values with the batch axis first, [B, ...x.shape]; an unbatched x as it is (it broadcasts). */
  inner(x: Tensor): Tensor {
    return this.batchOf(x) ?? x;
  }
  /** Like `inner`, but an unbatched x is repeated along a new first axis of size B. */
  full(x: Tensor): Tensor {
    return this.batchOf(x) ?? x.unsqueeze(0).expand([this.size, ...x.shape]);
  }
  /** The inner tensor of x when x is batched at this level, else null. */
  private batchOf(x: unknown): Tensor | null {
    return x instanceof Tensor && x.batch !== null && x.batch.level === this.level.id ? x.batch.inner : null;
  }
  /**
   * For broadcasting against operands of rank `rank`: a batched x as [B, 1, …, 1, ...x.shape] with
   * `rank` axes after the batch axis; an unbatched x as it is (it broadcasts from the right).
   */
  lift(x: Tensor, rank: number): Tensor {
    const inner = this.batchOf(x);
    if (inner === null) return x;
    if (x.ndim === rank) return inner;
    return inner.reshape([this.size, ...new Array<number>(rank - x.ndim).fill(1), ...x.shape]);
  }
  /** An axis of one example (negative counts from the end) as an axis of the inner tensor. */
  axis(op: string, axis: number, ndim: number): number {
    return normalizeAxis(op, axis, ndim) + 1;
  }
  /** Axes of one example (undefined: all of them) as axes of the inner tensor. */
  axes(op: string, axis: number | readonly number[] | undefined, ndim: number): number[] {
    return normalizeAxes(op, axis, ndim).map((a) => a + 1);
  }
  /** The op run on each example in turn, the results stacked: for the cases a rule does not cover. */
  loop<A extends unknown[], R>(name: string, op: (...args: A) => R, args: A): R {
    return loopOverExamples(name, op, this, args);
  }
  /** A result computed for the whole batch (batch axis first) as a batched tensor of this level. */
  wrap(t: Tensor): Tensor {
    return batchedTensor(t, this.level.id);
  }
}

/** A batching rule: the op for a whole batch, given the same arguments as the op. */
export type BatchRule<A extends unknown[], R> = (batch: Batch, ...args: A) => R;

/**
 * Register an op and wrap it: outside vmap (or with no batched argument) it is `impl` itself;
 * with a batched argument, its batching `rule` runs (or, without one, a loop over the examples).
 */
export function batchable<A extends unknown[], R>(
  name: string,
  impl: (...args: A) => R,
  rule?: BatchRule<A, R>,
): (...args: A) => R {
  opRegistry.set(name, { batched: rule !== undefined });
  return dispatching(name, impl, rule);
}

/** A user-defined op (customOp) under vmap: no rule is known, so a batch runs example by example. */
export function loopingOp<A extends unknown[], R>(name: string, impl: (...args: A) => R): (...args: A) => R {
  return dispatching(name, impl, undefined);
}

function dispatching<A extends unknown[], R>(
  name: string,
  impl: (...args: A) => R,
  rule: BatchRule<A, R> | undefined,
): (...args: A) => R {
  const op = (...args: A): R => {
    if (batchLevels.length === 0) return impl(...args);
    const level = innermostLevel(name, args);
    if (level === null) return impl(...args);
    const batch = new Batch(level);
    return rule !== undefined ? rule(batch, ...args) : loopOverExamples(name, op, batch, args);
  };
  return op;
}

/** The innermost live level at which an argument (or an element of an array argument) is batched. */
function innermostLevel(op: string, args: readonly unknown[]): BatchLevel | null {
  let id = 0;
  const visit = (x: unknown) => {
    if (x instanceof Tensor && x.batch !== null && x.batch.level > id) id = x.batch.level;
  };
  for (const a of args) {
    if (Array.isArray(a)) a.forEach(visit);
    else visit(a);
  }
  if (id === 0) return null;
  const level = batchLevels.find((l) => l.id === id);
  if (level === undefined) {
    throw new ChainruleError(
      op,
      "got a batched tensor of a vmap that has finished; return it from the mapped function",
    );
  }
  return level;
}

const warned = new Set<string>();

/** The fallback for an op without a batching rule: run it on each example and stack the results. */
function loopOverExamples<A extends unknown[], R>(name: string, op: (...args: A) => R, batch: Batch, args: A): R {
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(`chainrule: vmap: '${name}' has no batching rule; looping over the ${batch.size} examples instead`);
  }
  const example = (x: unknown, i: number): unknown => {
    if (Array.isArray(x)) return x.map((e) => example(e, i));
    if (!batch.has(x)) return x;
    const t = x as Tensor;
    return batch
      .inner(t)
      .slice([i, i + 1])
      .reshape(t.shape as number[]);
  };
  const results = Array.from({ length: batch.size }, (_, i) => op(...(args.map((a) => example(a, i)) as A)));
  return stackResults(name, results, batch) as R;
}

/** Stack per-example results (tensors, or arrays or records of them) along a new batch axis. */
function stackResults(name: string, results: unknown[], batch: Batch): unknown {
  const first = results[0];
  if (first instanceof Tensor) {
    return batch.wrap(
      concat(
        results.map((r) => (r as Tensor).unsqueeze(0)),
        0,
      ),
    );
  }
  if (Array.isArray(first))
    return first.map((_, k) =>
      stackResults(
        name,
        results.map((r) => (r as unknown[])[k]),
        batch,
      ),
    );
  if (first !== null && typeof first === "object") {
    return Object.fromEntries(
      Object.keys(first).map((k) => [
        k,
        stackResults(
          name,
          results.map((r) => (r as Record<string, unknown>)[k]),
          batch,
        ),
      ]),
    );
  }
  throw new ChainruleError(name, `vmap can only stack tensor results, got ${typeof first}`);
}

// ---- the transform ----

/** How `vmap` maps: which axis of each argument, and where the batch axis goes in the results. */
export interface VmapOptions {
  /**
   * The mapped axis of every argument (a number), or one entry per argument; `null` marks an
   * argument that is not mapped (the same for every example). Negative axes count from the end.
   * Default 0.
   */
  inAxes?: number | null | readonly (number | null)[];
  /** Where the batch axis goes in the result (or in each result, for a function returning an array). Default 0. */
  outAxes?: number | readonly number[];
}

/**
 * Map `f` over a batch axis of its arguments, as if it ran on each example and the results were
 * stacked, but in one pass of batched operations. Composes with `grad`, `jvp`, `vjp` and itself:
 * `vmap(grad(loss), { inAxes: [null, 0, 0] })(w, xs, ys)` gives per-example gradients.
 *
 * ```ts
 * const rowNorms = vmap((r: Tensor) => r.mul(r).sum().sqrt());
 * rowNorms(tensor([[3, 4], [6, 8]])); // [5, 10]
 * ```
 */
export function vmap<R extends Tensor | readonly Tensor[]>(
  f: (...args: Tensor[]) => R,
  options: VmapOptions = {},
): (...args: Tensor[]) => R {
  if (typeof f !== "function") throw new ChainruleError("vmap", `f must be a function, got ${typeof f}`);
  const { inAxes = 0, outAxes = 0 } = options;
  return (...args: Tensor[]): R => {
    const axes = perArgument(inAxes, args.length);
    let size = -1;
    const moved = args.map((a, i) => {
      const ax = axes[i];
      if (ax === null || ax === undefined) return null;
      if (!(a instanceof Tensor)) {
        throw new ChainruleError(
          "vmap",
          `argument ${i} is mapped over axis ${ax}, so it must be a Tensor, got ${typeof a}`,
        );
      }
      if (!Number.isInteger(ax) || ax < -a.ndim || ax >= a.ndim) {
        throw new ChainruleError(
          "vmap",
          `inAxes[${i}] = ${ax} is out of range for argument ${i} of shape [${a.shape.join(", ")}] (rank ${a.ndim})`,
        );
      }
      const axis = ax < 0 ? ax + a.ndim : ax;
      const n = a.shape[axis] as number;
      if (size >= 0 && n !== size) {
        throw new ChainruleError(
          "vmap",
          `mapped axes have different sizes: ${size} and ${n} (argument ${i}, axis ${axis})`,
        );
      }
      size = n;
      return axis === 0 ? a : a.permute([axis, ...a.shape.map((_, d) => d).filter((d) => d !== axis)]);
    });
    if (size < 0)
      throw new ChainruleError("vmap", "needs at least one mapped argument (an inAxes entry that is not null)");
    return withBatchLevel(size, (level) => {
      const batch = new Batch(level);
      const out = f(...args.map((a, i) => (moved[i] === null ? a : batch.wrap(moved[i] as Tensor))));
      if (out instanceof Tensor) return unbatch(batch, out, firstOf(outAxes, 0)) as R;
      if (Array.isArray(out) && out.every((o) => o instanceof Tensor)) {
        return out.map((o: Tensor, k: number) => unbatch(batch, o, firstOf(outAxes, k))) as unknown as R;
      }
      throw new ChainruleError("vmap", `f must return a Tensor or an array of Tensors, got ${describeValue(out)}`);
    });
  };
}

function perArgument(inAxes: VmapOptions["inAxes"], n: number): (number | null)[] {
  if (inAxes === null || typeof inAxes === "number") return new Array<number | null>(n).fill(inAxes);
  if (!Array.isArray(inAxes) || inAxes.length !== n) {
    throw new ChainruleError(
      "vmap",
      `inAxes must be a number, null, or an array with one entry per argument (${n}), got ${JSON.stringify(inAxes)}`,
    );
  }
  return [...inAxes];
}

function firstOf(outAxes: number | readonly number[], k: number): number {
  const ax = typeof outAxes === "number" ? outAxes : outAxes[k];
  if (typeof ax !== "number" || !Number.isInteger(ax)) {
    throw new ChainruleError(
      "vmap",
      `outAxes must be an integer or one integer per result, got ${JSON.stringify(outAxes)}`,
    );
  }
  return ax;
}

/** A result of the mapped function as a plain tensor with the batch axis at `axis`. */
function unbatch(batch: Batch, out: Tensor, axis: number): Tensor {
  const full = batch.full(out); // a result that does not depend on the batch is repeated
  const a = axis < 0 ? axis + full.ndim : axis;
  if (a < 0 || a >= full.ndim) {
    throw new ChainruleError(
      "vmap",
      `outAxes ${axis} is out of range for a result of rank ${full.ndim} (with the batch axis)`,
    );
  }
  if (a === 0) return full;
  const perm = full.shape.map((_, d) => d).slice(1);
  perm.splice(a, 0, 0);
  return full.permute(perm);
}

function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array with non-Tensor elements";
  return typeof x === "object" ? (x.constructor?.name ?? "object") : typeof x;
}

// ---- batched tensors across levels (for grad, vjp and jvp inside vmap) ----

/** The vmap levels t is batched at, outermost wrapper first (innermost level first). */
export function levelsOf(t: Tensor): number[] {
  const levels: number[] = [];
  let x = t;
  while (x.batch !== null) {
    levels.push(x.batch.level);
    x = x.batch.inner;
  }
  return levels;
}

/** The plain tensor under every batch wrapper of t. */
export function coreOf(t: Tensor): Tensor {
  let x = t;
  while (x.batch !== null) x = x.batch.inner;
  return x;
}

/** Wrap a plain tensor in batch levels, given outermost wrapper first (as `levelsOf` lists them). */
export function rewrap(core: Tensor, levels: readonly number[]): Tensor {
  let x = core;
  for (let i = levels.length - 1; i >= 0; i--) x = batchedTensor(x, levels[i] as number);
  return x;
}

/**
 * t batched at every live vmap level in `levels` (ids of live levels, any order): where t is not
 * batched at one, it is repeated along that level's batch axis, so every example has its own copy
 * (a gradient or tangent per example, as JAX gives inside vmap).
 */
export function batchedAt(t: Tensor, levels: readonly number[]): Tensor {
  const live = batchLevels.filter((l) => levels.includes(l.id)); // innermost last
  const go = (x: Tensor, k: number): Tensor => {
    if (k < 0) return x;
    const level = live[k] as BatchLevel;
    if (x.batch !== null && x.batch.level === level.id) return batchedTensor(go(x.batch.inner, k - 1), level.id);
    const below = go(x, k - 1);
    return batchedTensor(below.unsqueeze(0).expand([level.size, ...below.shape]), level.id);
  };
  return go(t, live.length - 1);
}

/** The ids of the live vmap levels. */
export function liveBatchLevels(): number[] {
  return batchLevels.map((l) => l.id);
}
