/**
 * @file Gradient checking: compare the gradients autograd computes with central finite
 * differences, say which element disagrees and by how much, and — when a whole function fails —
 * which operation's derivative rule is to blame. Works on anything presented as a `Subject`
 * (values in, values out, analytic Jacobian); the Value and Tensor engines each get one here.
 * Imports errors.ts, graph.ts, random.ts, rules.ts, shape.ts, tensor.ts, value.ts.
 *
 * Finite differences are an approximation, so the check has limits a user should know:
 * - Round-off: (f(x+h) − f(x−h))/2h loses about half the digits of the dtype. In float64 with
 *   h = 1e-6 the estimate is good to ~1e-9 relative; in float32 only to ~1e-3, so float32 checks
 *   use looser tolerances and the report says that float64 is the reliable setting.
 * - Kinks: at a point where f is not differentiable (relu or abs at 0, max with ties) the central
 *   difference averages the two one-sided slopes and matches neither. The checker also forms the
 *   one-sided differences; where they disagree it accepts an analytic value equal to either one
 *   and lists the element under `kinks` instead of reporting a false failure.
 */

import { noGrad, provenanceOf, runBackward, sumToShape, withGradMode, withProvenance } from "./engine.js";
import { ChainruleError } from "./errors.js";
import { jvp, vjp } from "./functional.js";
import { topoSort } from "./graph.js";
import { Random } from "./random.js";
import type { BinaryRule, UnaryRule } from "./rules.js";
import { formatShape, stridesOf } from "./shape.js";
import { concat, ownValues, Tensor, tensor, zeros } from "./tensor.js";
import { Value } from "./value.js";

export type Dtype = "float64" | "float32";

export interface GradcheckOptions {
  /** Finite-difference step h. Default 1e-6 (float64) or 1e-3 (float32). */
  eps?: number;
  /** Absolute tolerance. Default 1e-5 (float64) or 1e-2 (float32). */
  atol?: number;
  /** Relative tolerance: an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|. Default 1e-3 (float64) or 1e-2 (float32). */
  rtol?: number;
  /** Names of the inputs, for the report (default: their labels, else `input 0`, `input 1`, …). */
  names?: string[];
  /**
   * "full" (default) compares every element of the Jacobian. "fast" compares one random
   * projection vᵀJu (one backward pass, two evaluations: cheap for large inputs), and on a failure
   * runs the full check to name the element. "forward" compares every element too, with the
   * Jacobian computed by forward mode (`jvp`, one pass per input element) instead of reverse mode.
   */
  mode?: "full" | "fast" | "forward";
  /** On a failure, re-check every operation's own derivative rule and name the first wrong one (default true). */
  blame?: boolean;
  /** Seed of the random projections (fast mode, blame). */
  seed?: number;
}

/** One compared element of the Jacobian: ∂output[outIndex]/∂input[index]. */
export interface GradcheckElement {
  /** Which input (position in the inputs list), and its name. */
  input: number;
  inputName: string;
  /** Multi-index of the element within that input ([] for a scalar). */
  index: number[];
  /** Multi-index of the output element ([] for a scalar output). */
  outIndex: number[];
  analytic: number;
  numeric: number;
  absError: number;
  relError: number;
  /**
   * Present when f is not differentiable there (a kink: relu or abs at 0): the one-sided slopes,
   * which differ, and stay apart when the step is doubled (a steep curve's would not).
   */
  kink?: { left: number; right: number };
}

/** The operation whose own derivative rule disagrees with finite differences at the values it saw. */
export interface Blame {
  op: string;
  label: string;
  inputShapes: number[][];
  outputShape: number[];
  /** Where the node was created (stack frames outside the library), when known. */
  createdAt: string | null;
  /** vᵀ·(∂node/∂parents)·u by the rule, and by finite differences of the node alone. */
  analytic: number;
  numeric: number;
}

export interface GradcheckReport {
  ok: boolean;
  dtype: Dtype;
  mode: "full" | "fast" | "forward";
  eps: number;
  atol: number;
  rtol: number;
  /** Number of Jacobian elements compared (1 for a fast check that passed). */
  checked: number;
  /** Number of elements outside tolerance. */
  failures: number;
  maxAbsError: number;
  maxRelError: number;
  /** The element with the largest error relative to its tolerance (null if nothing was checked). */
  worst: GradcheckElement | null;
  /** Elements that sit on a kink and were accepted as one-sided derivatives. */
  kinks: GradcheckElement[];
  /** Fast mode: the projection vᵀJu by autograd and by finite differences. */
  projection?: { analytic: number; numeric: number };
  /** On failure: the first operation whose derivative rule is wrong (absent if every rule checks out). */
  blame?: Blame;
  warnings: string[];
  /** A readable summary: verdict, worst element, blame, warnings. */
  toString(): string;
}

/** One input as gradcheck sees it: a flat list of numbers it can read and overwrite. */
export interface SubjectInput {
  name: string;
  shape: readonly number[];
  size: number;
  get(k: number): number;
  set(k: number, v: number): void;
  /** Multi-index of element k, when the elements are a sample of a larger tensor. */
  indexOf?(k: number): number[];
}

/** What gradcheck needs from a kind of graph. */
export interface Subject {
  dtype: Dtype;
  inputs: SubjectInput[];
  outputShape: readonly number[];
  /** The output's elements at the inputs' current values (row-major). */
  evaluate(): ArrayLike<number>;
  /** J[i] is input i's Jacobian block, row-major [output element][input element]. */
  analyticJacobian(): Float64Array[];
  /** vᵀJ for each input: one backward pass seeded with v. */
  analyticVjp(v: Float64Array): Float64Array[];
  /** The same blocks as `analyticJacobian`, by forward mode (absent where there is none: Values). */
  forwardJacobian?(): Float64Array[];
  /** Re-check each operation's own rule; the first that disagrees (or null). */
  blame?(tolerance: Tolerance): Blame | null;
}

export interface Tolerance {
  eps: number;
  atol: number;
  rtol: number;
}

export const DEFAULT_TOLERANCES: Record<Dtype, Tolerance> = {
  float64: { eps: 1e-6, atol: 1e-5, rtol: 1e-3 },
  float32: { eps: 1e-3, atol: 1e-2, rtol: 1e-2 },
};

/**
 * Check the gradient of `f` at `inputs` against central finite differences.
 *
 * ```ts
 * const report = gradcheck((a, b) => a.mul(b).tanh(), [new Value(0.3), new Value(-1.2)]);
 * if (!report.ok) console.log(report.toString());
 * ```
 * For tensors, `f` may return any shape: every element of the Jacobian is compared (one backward
 * pass per output element), and the check runs in float32 if any input is float32.
 * Inputs are restored and no `.grad` is changed.
 */
export function gradcheck(
  f: (...inputs: Value[]) => Value,
  inputs: Value[],
  options?: GradcheckOptions,
): GradcheckReport;
export function gradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options?: GradcheckOptions,
): GradcheckReport;
export function gradcheck(
  f: ((...inputs: Value[]) => Value) | ((...inputs: Tensor[]) => Tensor),
  inputs: Value[] | Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new ChainruleError("gradcheck", "inputs must be a non-empty array of Values or Tensors");
  }
  const subject =
    inputs[0] instanceof Tensor
      ? tensorSubject(f as (...inputs: Tensor[]) => Tensor, inputs as Tensor[], options.names)
      : valueSubject(f as (...inputs: Value[]) => Value, inputs as Value[], options.names);
  return checkSubject(subject, options);
}

/**
 * Second derivatives: checks, by finite differences, the gradient of vᵀf(inputs) — itself computed
 * by a recorded backward pass — for a fixed random v. This is what makes `createGraph` trustworthy.
 * With `mode: "forward"` the gradient's derivatives come from forward mode over the backward pass
 * (jvp∘vjp, as `hessian` computes them).
 */
export function gradgradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((t) => t instanceof Tensor)) {
    throw new ChainruleError(
      "gradgradcheck",
      "inputs must be a non-empty array of Tensors (the Value engine is first-order)",
    );
  }
  const out = noGrad(() => f(...inputs));
  if (!(out instanceof Tensor)) throw new ChainruleError("gradgradcheck", `f must return a Tensor, got ${typeof out}`);
  const random = new Random(options.seed ?? 0);
  const v = tensor(
    Array.from({ length: out.size }, () => random.uniform(0.5, 1.5)),
    { shape: out.shape, dtype: out.dtype },
  );
  // G(x) = ∂(vᵀf)/∂x for every input, flattened and joined: a function gradcheck can differentiate,
  // by reverse mode (a recorded backward pass) or, with mode "forward", by forward mode over it.
  const G = (...xs: Tensor[]): Tensor =>
    withGradMode(true, () =>
      concat(
        vjp(f, ...xs)
          .pullback(v)
          .map((g) => g.reshape([-1])),
      ),
    );
  return checkSubject(tensorSubject(G, inputs, options.names), options);
}

/** The core comparison, for any Subject. */
export function checkSubject(subject: Subject, options: GradcheckOptions = {}): GradcheckReport {
  const defaults = DEFAULT_TOLERANCES[subject.dtype];
  const tol: Tolerance = {
    eps: options.eps ?? defaults.eps,
    atol: options.atol ?? defaults.atol,
    rtol: options.rtol ?? defaults.rtol,
  };
  for (const [name, v] of Object.entries(tol)) {
    if (!(v >= 0) || !Number.isFinite(v) || (name === "eps" && v === 0)) {
      throw new ChainruleError(
        "gradcheck",
        `option ${name} must be a finite number${name === "eps" ? " > 0" : " ≥ 0"}, got ${v}`,
      );
    }
  }
  let report: GradcheckReport;
  if (options.mode === "fast") {
    report = fastCheck(subject, tol, options.seed ?? 0);
    if (!report.ok) {
      const full = fullCheck(subject, tol);
      report = {
        ...full,
        mode: "fast",
        projection: report.projection as { analytic: number; numeric: number },
        ok: false,
      };
    }
  } else if (options.mode === "forward") {
    if (subject.forwardJacobian === undefined) {
      throw new ChainruleError("gradcheck", 'mode "forward" needs tensors (the Value engine is reverse mode only)');
    }
    report = { ...fullCheck(subject, tol, subject.forwardJacobian()), mode: "forward" };
  } else {
    report = fullCheck(subject, tol);
  }
  if (!report.ok && options.blame !== false && subject.blame !== undefined) {
    const blame = subject.blame(tol);
    if (blame !== null) report.blame = blame;
  }
  if (subject.dtype === "float32") {
    report.warnings.push(
      "checked in float32: finite differences keep only about 3 significant digits here; float64 is the reliable setting",
    );
  }
  if (report.kinks.length > 0) {
    report.warnings.push(
      `${report.kinks.length} element(s) sit on a kink (the one-sided slopes differ); their analytic value was accepted as a one-sided derivative`,
    );
  }
  const r = report;
  r.toString = () => formatReport(r);
  return r;
}

/** Compare an analytic value with central and one-sided differences; kinks accept either side. */
function compare(a: number, fp: number, f0: number, fm: number, t: Tolerance) {
  const within = (err: number, ref: number) => err <= t.atol + t.rtol * Math.abs(ref);
  const numeric = (fp - fm) / (2 * t.eps);
  let err = Math.abs(a - numeric);
  let ref = numeric;
  let kink: { left: number; right: number } | undefined;
  const left = (f0 - fm) / t.eps;
  const right = (fp - f0) / t.eps;
  if (!within(err, numeric) && !within(Math.abs(left - right), Math.max(Math.abs(left), Math.abs(right)))) {
    kink = { left, right }; // not differentiable here: any one-sided derivative is a valid answer
    const eL = Math.abs(a - left);
    const eR = Math.abs(a - right);
    if (within(eL, left) || within(eR, right)) {
      err = Math.min(eL, eR);
      ref = eL <= eR ? left : right;
    }
  }
  const ok = Number.isFinite(a) && within(err, ref);
  // One-sided slopes that disagree while the central difference agrees: a kink where the rule took
  // the midpoint (abs at 0), or merely a steep curve; fullCheck tells them apart.
  const suspect = kink === undefined && !within(Math.abs(left - right), Math.max(Math.abs(left), Math.abs(right)));
  return { numeric, err: Number.isFinite(a) ? err : Number.POSITIVE_INFINITY, ref, kink, ok, suspect, left, right };
}

function emptyReport(subject: Subject, t: Tolerance, mode: "full" | "fast"): GradcheckReport {
  return {
    ok: true,
    dtype: subject.dtype,
    mode,
    ...t,
    checked: 0,
    failures: 0,
    maxAbsError: 0,
    maxRelError: 0,
    worst: null,
    kinks: [],
    warnings: [],
    toString: () => "",
  };
}

function fullCheck(subject: Subject, t: Tolerance, jacobian?: Float64Array[]): GradcheckReport {
  const r = emptyReport(subject, t, "full");
  const base = Float64Array.from(subject.evaluate());
  const m = base.length;
  const analytic = jacobian ?? subject.analyticJacobian();
  const outStrides = stridesOf(subject.outputShape);
  let worstScore = -1;
  subject.inputs.forEach((input, i) => {
    const J = analytic[i] as Float64Array;
    const inStrides = stridesOf(input.shape);
    for (let k = 0; k < input.size; k++) {
      const x = input.get(k);
      let plus: Float64Array;
      let minus: Float64Array;
      try {
        input.set(k, x + t.eps);
        plus = Float64Array.from(subject.evaluate());
        input.set(k, x - t.eps);
        minus = Float64Array.from(subject.evaluate());
      } finally {
        input.set(k, x); // restored also when f throws at a nudged point
      }
      // f at x ± 2h, evaluated only if some output suggests a kink at this element
      let wide: { plus: Float64Array; minus: Float64Array } | null = null;
      const widen = () => {
        if (wide === null) {
          try {
            input.set(k, x + 2 * t.eps);
            const p2 = Float64Array.from(subject.evaluate());
            input.set(k, x - 2 * t.eps);
            wide = { plus: p2, minus: Float64Array.from(subject.evaluate()) };
          } finally {
            input.set(k, x);
          }
        }
        return wide;
      };
      for (let j = 0; j < m; j++) {
        const a = J[j * input.size + k] as number;
        const c = compare(a, plus[j] as number, base[j] as number, minus[j] as number, t);
        if (c.suspect) {
          // A kink's jump between the one-sided slopes stays when the step doubles; a curve's doubles.
          const w = widen();
          const jump = c.right - c.left;
          const jump2 = ((w.plus[j] as number) - 2 * (base[j] as number) + (w.minus[j] as number)) / (2 * t.eps);
          if (Math.abs(jump2 - jump) <= 0.25 * Math.abs(jump)) c.kink = { left: c.left, right: c.right };
        }
        const element: GradcheckElement = {
          input: i,
          inputName: input.name,
          index: input.indexOf ? input.indexOf(k) : unravel(k, inStrides),
          outIndex: unravel(j, outStrides),
          analytic: a,
          numeric: c.numeric,
          absError: c.err,
          relError: c.err / Math.max(Math.abs(c.ref), Number.MIN_VALUE),
          ...(c.kink === undefined ? {} : { kink: c.kink }),
        };
        r.checked++;
        if (!c.ok) r.failures++;
        else if (c.kink !== undefined) r.kinks.push(element);
        r.maxAbsError = Math.max(r.maxAbsError, element.absError);
        if (Math.abs(c.ref) > t.atol) r.maxRelError = Math.max(r.maxRelError, element.relError);
        const score = element.absError / (t.atol + t.rtol * Math.abs(c.ref));
        if (score > worstScore) {
          worstScore = score;
          r.worst = element;
        }
      }
    }
  });
  r.ok = r.failures === 0;
  return r;
}

/**
 * (p(x + εu), p(x − εu)) for a projected output p: `shift(s)` moves the inputs to x + s·ε·u, and
 * they are back at x afterwards, also when an evaluation throws.
 */
function alongDirection(shift: (s: number) => void, projected: () => number): { fp: number; fm: number } {
  try {
    shift(1);
    const fp = projected();
    shift(-1);
    return { fp, fm: projected() };
  } finally {
    shift(0);
  }
}

/** vᵀJu by one backward pass against (vᵀf(x + εu) − vᵀf(x − εu))/2ε by two evaluations. */
function fastCheck(subject: Subject, t: Tolerance, seed: number): GradcheckReport {
  const r = emptyReport(subject, t, "fast");
  const random = new Random(seed);
  const base = Float64Array.from(subject.evaluate());
  const v = Float64Array.from(base, () => random.uniform(-1, 1));
  const us = subject.inputs.map((input) => Float64Array.from({ length: input.size }, () => random.uniform(-1, 1)));
  const vjps = subject.analyticVjp(v);
  let analytic = 0;
  vjps.forEach((g, i) => {
    const u = us[i] as Float64Array;
    for (let k = 0; k < g.length; k++) analytic += (g[k] as number) * (u[k] as number);
  });
  const originals = subject.inputs.map((input) => Float64Array.from({ length: input.size }, (_, k) => input.get(k)));
  const shift = (s: number) =>
    subject.inputs.forEach((input, i) => {
      const x0 = originals[i] as Float64Array;
      const u = us[i] as Float64Array;
      for (let k = 0; k < input.size; k++) input.set(k, (x0[k] as number) + s * t.eps * (u[k] as number));
    });
  const project = (out: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < v.length; j++) s += (v[j] as number) * (out[j] as number);
    return s;
  };
  const { fp, fm } = alongDirection(shift, () => project(subject.evaluate()));
  const c = compare(analytic, fp, project(base), fm, t);
  r.checked = 1;
  r.failures = c.ok ? 0 : 1;
  r.ok = c.ok;
  r.maxAbsError = c.err;
  r.maxRelError = c.err / Math.max(Math.abs(c.ref), Number.MIN_VALUE);
  r.projection = { analytic, numeric: c.numeric };
  return r;
}

function formatReport(r: GradcheckReport): string {
  const head = r.ok ? "gradcheck passed" : "gradcheck FAILED";
  const lines = [
    `${head} (${r.dtype}, ${r.mode}, eps=${r.eps}, atol=${r.atol}, rtol=${r.rtol}): ${r.failures} of ${r.checked} element(s) outside tolerance; max |error| ${fmt(r.maxAbsError)}, max relative error ${fmt(r.maxRelError)}`,
  ];
  if (r.projection !== undefined) {
    lines.push(`  projection vᵀJu: analytic ${fmt(r.projection.analytic)}, numeric ${fmt(r.projection.numeric)}`);
  }
  const w = r.worst;
  if (w !== null && (r.mode === "full" || !r.ok)) {
    const out = w.outIndex.length === 0 ? "" : ` of output [${w.outIndex.join(", ")}]`;
    const at = w.index.length === 0 ? "" : ` element [${w.index.join(", ")}]`;
    lines.push(
      `  worst: ∂out${out}/∂${w.inputName}${at}: analytic ${fmt(w.analytic)}, numeric ${fmt(w.numeric)}, |error| ${fmt(w.absError)}, relative ${fmt(w.relError)}`,
    );
  }
  if (r.blame !== undefined) lines.push(...blameLines(r.blame, "  "));
  for (const warning of r.warnings) lines.push(`  note: ${warning}`);
  return lines.join("\n");
}

/** The blame's lines of a report: the wrong rule, its shapes and values, and where it was made. */
function blameLines(b: Blame, indent: string): string[] {
  const name = b.label === "" ? `'${b.op}'` : `'${b.op}' (${b.label})`;
  const lines = [
    `${indent}blame: the derivative rule of ${name} disagrees with finite differences at the values it saw: inputs ${b.inputShapes.map((s) => formatShape(s)).join(", ")} → output ${formatShape(b.outputShape)}; vᵀJu by the rule ${fmt(b.analytic)}, numeric ${fmt(b.numeric)}`,
  ];
  if (b.createdAt !== null && b.createdAt !== "") {
    lines.push(`${indent}created at: ${b.createdAt.split("\n").join(`\n${indent}            `)}`);
  }
  return lines;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(6) : String(x);
}

function unravel(flat: number, strides: number[]): number[] {
  return strides.map((s) => {
    const i = Math.floor(flat / s);
    flat -= i * s;
    return i;
  });
}

// ---- the two engines as Subjects ----

/** The Value engine as a Subject: every input is a 0-d element, the output one number. */
function valueSubject(f: (...inputs: Value[]) => Value, inputs: Value[], names?: string[]): Subject {
  inputs.forEach((v, i) => {
    if (!(v instanceof Value)) throw new ChainruleError("gradcheck", `input ${i} must be a Value, got ${typeof v}`);
  });
  const run = (): Value => {
    const out = f(...inputs);
    if (!(out instanceof Value)) throw new ChainruleError("gradcheck", `f must return a Value, got ${typeof out}`);
    return out;
  };
  const gradient = (): Float64Array[] => {
    const out = run();
    // Leave every leaf's gradient as we found it: save, zero, backward, read, restore.
    const leaves = topoSort<Value>(out).filter((v) => v.rule === null);
    const saved = leaves.map((v) => v.grad);
    for (const v of leaves) v.grad = 0;
    for (const v of inputs) v.grad = 0;
    out.backward();
    const J = inputs.map((v) => Float64Array.of(v.grad));
    leaves.forEach((v, k) => {
      v.grad = saved[k] as number;
    });
    return J;
  };
  return {
    dtype: "float64",
    outputShape: [],
    inputs: inputs.map((v, i) => ({
      name: names?.[i] ?? (v.label !== "" ? v.label : `input ${i}`),
      shape: [],
      size: 1,
      get: () => v.data,
      set: (_k, x) => {
        v.data = x;
      },
    })),
    evaluate: () => [run().data],
    analyticJacobian: gradient,
    analyticVjp: (v) => gradient().map((g) => g.map((x) => x * (v[0] as number))),
    blame: (t) => blameValues(run(), t),
  };
}

/** Each Value node's rule against central differences of its own forward map, inputs first. */
function blameValues(root: Value, t: Tolerance): Blame | null {
  for (const node of topoSort<Value>(root)) {
    const rule = node.rule;
    if (rule === null) continue;
    // A number operand (node.constant) is held fixed: the node is then a function of its one parent.
    const k = node.constant;
    const xs = node.parents.map((p) => p.data);
    const fOf = (args: number[]) =>
      k !== null
        ? (rule as BinaryRule).f(args[0] as number, k)
        : args.length === 1
          ? (rule as UnaryRule).f(args[0] as number)
          : (rule as BinaryRule).f(args[0] as number, args[1] as number);
    for (let i = 0; i < xs.length; i++) {
      const local =
        k !== null
          ? (rule as BinaryRule).da(xs[0] as number, k, node.data)
          : xs.length === 1
            ? (rule as UnaryRule).df(xs[0] as number, node.data)
            : i === 0
              ? (rule as BinaryRule).da(xs[0] as number, xs[1] as number, node.data)
              : (rule as BinaryRule).db(xs[0] as number, xs[1] as number, node.data);
      const at = (d: number) => fOf(xs.map((x, k) => (k === i ? x + d : x)));
      const c = compare(local, at(t.eps), node.data, at(-t.eps), t);
      if (!c.ok) {
        return {
          op: rule.name,
          label: node.label,
          inputShapes: xs.map(() => []),
          outputShape: [],
          createdAt: null,
          analytic: local,
          numeric: c.numeric,
        };
      }
    }
  }
  return null;
}

/** The Tensor engine as a Subject: inputs of any shape, an output of any shape. */
function tensorSubject(f: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], names?: string[]): Subject {
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor))
      throw new ChainruleError("gradcheck", `input ${i} must be a Tensor like the first, got ${typeof t}`);
  });
  const check = (out: unknown): Tensor => {
    if (!(out instanceof Tensor)) throw new ChainruleError("gradcheck", `f must return a Tensor, got ${typeof out}`);
    return out;
  };
  // Gradients are taken with respect to fresh leaves sharing the inputs' storage, so perturbing an
  // input is seen by both, and nothing of the caller's graph or .grad is touched.
  const leaves = inputs.map((t) => {
    const leaf = t.detach().requireGrad();
    leaf.label = t.label;
    return leaf;
  });
  const first = check(noGrad(() => f(...inputs)));
  const vjp = (out: Tensor, seed: Tensor): Float64Array[] => {
    const grads = out.requiresGrad ? runBackward(out, seed, { retainGraph: true }, leaves) : leaves.map(() => null);
    return grads.map((g, i) => (g === null ? new Float64Array((inputs[i] as Tensor).size) : Float64Array.from(g.data)));
  };
  return {
    dtype: inputs.some((t) => t.dtype === "float32") || first.dtype === "float32" ? "float32" : "float64",
    outputShape: first.shape,
    inputs: inputs.map((t, i) => ({
      name: names?.[i] ?? (t.label !== "" ? t.label : `input ${i}`),
      shape: t.shape,
      size: t.size,
      get: (k) => t.data[k] as number,
      set: (k, v) => {
        t.data[k] = v;
      },
    })),
    evaluate: () => check(noGrad(() => f(...inputs))).data,
    analyticJacobian() {
      const out = check(f(...leaves));
      const m = out.size;
      const J = inputs.map((t) => new Float64Array(m * t.size));
      for (let j = 0; j < m; j++) {
        const seed = zeros(out.shape, { dtype: out.dtype });
        seed.data[j] = 1;
        vjp(out, seed).forEach((g, i) => {
          (J[i] as Float64Array).set(g, j * (inputs[i] as Tensor).size);
        });
      }
      return J;
    },
    analyticVjp(v) {
      const out = check(f(...leaves));
      return vjp(out, tensor(v, { shape: out.shape, dtype: out.dtype }));
    },
    forwardJacobian() {
      // column k of input i's block: the tangent of f along the k-th unit vector of that input
      const plain = inputs.map((t) => t.detach());
      const m = first.size;
      return plain.map((x, i) => {
        const J = new Float64Array(m * x.size);
        const only = (xi: Tensor) => f(...plain.map((u, q) => (q === i ? xi : u)));
        for (let k = 0; k < x.size; k++) {
          const e = zeros(x.shape, { dtype: x.dtype });
          e.data[k] = 1;
          const { tangent } = jvp(only, [x], [e]);
          for (let j = 0; j < m; j++) J[j * x.size + k] = tangent.data[j] as number;
        }
        return J;
      });
    },
    blame: (t) => blameTensors(check(withProvenance(() => f(...leaves))), t),
  };
}

/**
 * Each recorded node's rule against finite differences of the node alone, at the values it saw:
 * vᵀ(∂node/∂parents)u by the rule, and by replaying the node with its parents nudged along ±εu.
 * Inputs-first order, so the first disagreement is the earliest wrong rule.
 */
function blameTensors(root: Tensor, t: Tolerance): Blame | null {
  const random = new Random(1);
  for (const node of topoSort(root, (n) => n.requiresGrad)) {
    const replay = provenanceOf(node)?.replay;
    const rule = node.backwardFn;
    if (replay === null || replay === undefined || rule === null) continue;
    // Perturb each storage once: parents may repeat (x·x) or be views of one buffer (reshape).
    for (const p of node.parents) ownValues(p); // a view would read its source, not the perturbation
    const buffers = [...new Set(node.parents.filter((p) => p.requiresGrad).map((p) => p.data))];
    const v = tensor(
      Array.from({ length: node.size }, () => random.uniform(-1, 1)),
      { shape: node.shape, dtype: node.dtype },
    );
    const us = buffers.map((b) => Float64Array.from({ length: b.length }, () => random.uniform(-1, 1)));
    let analytic = 0;
    const grads = noGrad(() => rule(v, node));
    node.parents.forEach((p, k) => {
      const g = grads[k];
      const i = p.requiresGrad ? buffers.indexOf(p.data) : -1;
      if (i < 0 || g === null || g === undefined) return;
      const gp = noGrad(() => sumToShape(node.op, g, p));
      const u = us[i] as Float64Array;
      for (let e = 0; e < gp.size; e++) analytic += (gp.data[e] as number) * (u[e] as number);
    });
    const originals = buffers.map((b) => b.slice());
    const shift = (s: number) =>
      buffers.forEach((b, i) => {
        const x0 = originals[i] as ArrayLike<number>;
        const u = us[i] as Float64Array;
        for (let e = 0; e < b.length; e++) b[e] = (x0[e] as number) + s * t.eps * (u[e] as number);
      });
    const project = (out: Tensor) => {
      let s = 0;
      for (let e = 0; e < out.size; e++) s += (v.data[e] as number) * (out.data[e] as number);
      return s;
    };
    const { fp, fm } = alongDirection(shift, () => project(noGrad(replay)));
    const c = compare(analytic, fp, project(node), fm, t);
    if (!c.ok) {
      return {
        op: node.op,
        label: node.label,
        inputShapes: node.parents.map((p) => [...p.shape]),
        outputShape: [...node.shape],
        createdAt: provenanceOf(node)?.createdAt ?? null,
        analytic,
        numeric: c.numeric,
      };
    }
  }
  return null;
}

// ---- whole models ----

/** What gradcheckModule needs of a model: its parameters by name (nn's Module has this). */
export interface HasNamedParameters {
  namedParameters(): Iterable<readonly [string, Tensor]>;
}

export interface ModuleCheckOptions extends Omit<GradcheckOptions, "names" | "mode"> {
  /** Check at most this many elements of each parameter, chosen at random (default 32). */
  maxElements?: number;
}

export interface ModuleCheckReport {
  ok: boolean;
  /** One report per parameter tensor, in `namedParameters()` order. */
  parameters: { name: string; shape: number[]; report: GradcheckReport }[];
  toString(): string;
}

/**
 * Check the gradients of `loss()` with respect to every parameter of a model, one report per
 * parameter tensor, so a failure names the layer's weight or bias that is off. Large parameters
 * are sampled (`maxElements`), since each checked element costs two evaluations of the loss.
 *
 * ```ts
 * const r = gradcheckModule(model, () => mseLoss(model.forward(x), y));
 * ```
 */
export function gradcheckModule(
  model: HasNamedParameters,
  loss: () => Tensor,
  options: ModuleCheckOptions = {},
): ModuleCheckReport {
  if (typeof model?.namedParameters !== "function") {
    throw new ChainruleError("gradcheckModule", "model must have namedParameters() (an nn Module)");
  }
  const named = [...model.namedParameters()].map(([name, p]) => ({ name, p }));
  if (named.length === 0) throw new ChainruleError("gradcheckModule", "the model has no parameters");
  const random = new Random(options.seed ?? 0);
  const { maxElements = 32, ...rest } = options;
  const evaluate = () => {
    const out = noGrad(loss);
    if (!(out instanceof Tensor) || out.size !== 1)
      throw new ChainruleError("gradcheckModule", "loss() must return a one-element Tensor");
    return out.data;
  };
  const analytic = () => {
    const out = withGradMode(true, loss);
    const params = named.map(({ p }) => p);
    return out.requiresGrad ? runBackward(out, undefined, { retainGraph: true }, params) : params.map(() => null);
  };
  const grads = analytic();
  const parameters = named.map(({ name, p }, i) => {
    const strides = stridesOf(p.shape);
    const picks =
      p.size <= maxElements
        ? Array.from({ length: p.size }, (_, k) => k)
        : random
            .permutation(p.size)
            .slice(0, maxElements)
            .sort((a, b) => a - b);
    const g = grads[i];
    const subject: Subject = {
      dtype: p.dtype,
      outputShape: [],
      inputs: [
        {
          name,
          shape: [picks.length],
          size: picks.length,
          get: (k) => p.data[picks[k] as number] as number,
          set: (k, v) => {
            p.data[picks[k] as number] = v;
          },
          indexOf: (k) => unravel(picks[k] as number, strides),
        },
      ],
      evaluate,
      analyticJacobian: () => [
        Float64Array.from(picks, (k) => (g === null || g === undefined ? 0 : (g.data[k] as number))),
      ],
      analyticVjp: (v) => [
        Float64Array.from(picks, (k) => (g === null || g === undefined ? 0 : (g.data[k] as number)) * (v[0] as number)),
      ],
      // the first wrong rule between this parameter and the loss: the others are held constant
      blame: (t) => {
        const others = named.filter(({ p: q }) => q !== p && q.requiresGrad).map(({ p: q }) => q);
        for (const q of others) q.requiresGrad = false;
        try {
          const out = withGradMode(true, () => withProvenance(loss));
          return out.requiresGrad ? blameTensors(out, t) : null;
        } finally {
          for (const q of others) q.requiresGrad = true;
        }
      },
    };
    return { name, shape: [...p.shape], report: checkSubject(subject, rest) };
  });
  const report: ModuleCheckReport = {
    ok: parameters.every((x) => x.report.ok),
    parameters,
    toString: () =>
      [
        `gradcheckModule ${report.ok ? "passed" : "FAILED"}: ${parameters.filter((x) => !x.report.ok).length} of ${parameters.length} parameter tensor(s) off`,
        ...parameters.map(({ name, shape, report: r }) => {
          const worst =
            r.worst === null
              ? ""
              : `, worst element [${r.worst.index.join(", ")}]: analytic ${fmt(r.worst.analytic)}, numeric ${fmt(r.worst.numeric)}`;
          const line = `  ${r.ok ? "ok  " : "FAIL"} ${name} ${formatShape(shape)}: ${r.checked} element(s) checked, max |error| ${fmt(r.maxAbsError)}${worst}`;
          return r.blame === undefined ? line : `${line}\n${blameLines(r.blame, "      ").join("\n")}`;
        }),
      ].join("\n"),
  };
  return report;
}
