/**
 * @file Gradient checking: compare the gradients autograd computes with central finite
 * differences, and say which element disagrees and by how much. Works on anything that can be
 * presented as a `Subject` (values in, values out, analytic Jacobian); value.ts and tensor.ts
 * each provide one. Imports errors.ts, graph.ts, value.ts.
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

import { ChainruleError } from "./errors.js";
import { topoSort } from "./graph.js";
import { noGrad, runBackward, Tensor, zeros } from "./tensor.js";
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
  /** Present when the one-sided differences disagree (a kink): left and right slopes. */
  kink?: { left: number; right: number };
}

export interface GradcheckReport {
  ok: boolean;
  dtype: Dtype;
  eps: number;
  atol: number;
  rtol: number;
  /** Number of Jacobian elements compared. */
  checked: number;
  /** Number of elements outside tolerance. */
  failures: number;
  maxAbsError: number;
  maxRelError: number;
  /** The element with the largest error relative to its tolerance (null if nothing was checked). */
  worst: GradcheckElement | null;
  /** Elements that sit on a kink and were accepted as one-sided derivatives. */
  kinks: GradcheckElement[];
  warnings: string[];
  /** A readable summary: verdict, worst element, warnings. */
  toString(): string;
}

/** One input as gradcheck sees it: a flat list of numbers it can read and overwrite. */
export interface SubjectInput {
  name: string;
  shape: readonly number[];
  size: number;
  get(k: number): number;
  set(k: number, v: number): void;
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
}

export const DEFAULT_TOLERANCES: Record<Dtype, { eps: number; atol: number; rtol: number }> = {
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

/** The core comparison, for any Subject. */
export function checkSubject(subject: Subject, options: GradcheckOptions = {}): GradcheckReport {
  const defaults = DEFAULT_TOLERANCES[subject.dtype];
  const eps = options.eps ?? defaults.eps;
  const atol = options.atol ?? defaults.atol;
  const rtol = options.rtol ?? defaults.rtol;
  for (const [name, v] of [
    ["eps", eps],
    ["atol", atol],
    ["rtol", rtol],
  ] as const) {
    if (!(v >= 0) || !Number.isFinite(v) || (name === "eps" && v === 0)) {
      throw new ChainruleError(
        "gradcheck",
        `option ${name} must be a finite number${name === "eps" ? " > 0" : " ≥ 0"}, got ${v}`,
      );
    }
  }
  const base = Float64Array.from(subject.evaluate());
  const m = base.length;
  const analytic = subject.analyticJacobian();
  const outStrides = stridesOf(subject.outputShape);

  let checked = 0;
  let failures = 0;
  let maxAbsError = 0;
  let maxRelError = 0;
  let worst: GradcheckElement | null = null;
  let worstScore = -1;
  const kinks: GradcheckElement[] = [];

  subject.inputs.forEach((input, i) => {
    const J = analytic[i] as Float64Array;
    const inStrides = stridesOf(input.shape);
    for (let k = 0; k < input.size; k++) {
      const x = input.get(k);
      input.set(k, x + eps);
      const plus = Float64Array.from(subject.evaluate());
      input.set(k, x - eps);
      const minus = Float64Array.from(subject.evaluate());
      input.set(k, x);
      for (let j = 0; j < m; j++) {
        const a = J[j * input.size + k] as number;
        const fp = plus[j] as number;
        const fm = minus[j] as number;
        const f0 = base[j] as number;
        const numeric = (fp - fm) / (2 * eps);
        const tol = (ref: number) => atol + rtol * Math.abs(ref);
        let err = Math.abs(a - numeric);
        let ref = numeric;
        let kink: { left: number; right: number } | undefined;
        const left = (f0 - fm) / eps;
        const right = (fp - f0) / eps;
        if (err > tol(numeric) && Math.abs(left - right) > tol(Math.max(Math.abs(left), Math.abs(right)))) {
          // Not differentiable here: any one-sided derivative is a valid answer.
          kink = { left, right };
          const eL = Math.abs(a - left);
          const eR = Math.abs(a - right);
          if (eL <= tol(left) || eR <= tol(right)) {
            err = Math.min(eL, eR);
            ref = eL <= eR ? left : right;
          }
        }
        const rel = err / Math.max(Math.abs(ref), Number.MIN_VALUE);
        const ok = err <= tol(ref) && Number.isFinite(a);
        const element: GradcheckElement = {
          input: i,
          inputName: input.name,
          index: unravel(k, inStrides),
          outIndex: unravel(j, outStrides),
          analytic: a,
          numeric,
          absError: Number.isFinite(a) ? err : Number.POSITIVE_INFINITY,
          relError: Number.isFinite(a) ? rel : Number.POSITIVE_INFINITY,
          ...(kink === undefined ? {} : { kink }),
        };
        checked++;
        if (!ok) failures++;
        else if (kink !== undefined) kinks.push(element);
        maxAbsError = Math.max(maxAbsError, element.absError);
        if (Math.abs(ref) > atol) maxRelError = Math.max(maxRelError, element.relError);
        const score = element.absError / tol(ref);
        if (score > worstScore) {
          worstScore = score;
          worst = element;
        }
      }
    }
  });

  const warnings: string[] = [];
  if (subject.dtype === "float32") {
    warnings.push(
      "checked in float32: finite differences keep only about 3 significant digits here; float64 is the reliable setting",
    );
  }
  if (kinks.length > 0) {
    warnings.push(
      `${kinks.length} element(s) sit on a kink (the one-sided slopes differ); their analytic value was accepted as a one-sided derivative`,
    );
  }
  const report: GradcheckReport = {
    ok: failures === 0,
    dtype: subject.dtype,
    eps,
    atol,
    rtol,
    checked,
    failures,
    maxAbsError,
    maxRelError,
    worst,
    kinks,
    warnings,
    toString: () => formatReport(report),
  };
  return report;
}

function formatReport(r: GradcheckReport): string {
  const head = r.ok ? "gradcheck passed" : "gradcheck FAILED";
  const lines = [
    `${head} (${r.dtype}, eps=${r.eps}, atol=${r.atol}, rtol=${r.rtol}): ${r.failures} of ${r.checked} element(s) outside tolerance; max |error| ${fmt(r.maxAbsError)}, max relative error ${fmt(r.maxRelError)}`,
  ];
  const w = r.worst;
  if (w !== null) {
    const out = w.outIndex.length === 0 ? "" : ` of output [${w.outIndex.join(", ")}]`;
    const at = w.index.length === 0 ? "" : ` element [${w.index.join(", ")}]`;
    lines.push(
      `  worst: ∂out${out}/∂${w.inputName}${at}: analytic ${fmt(w.analytic)}, numeric ${fmt(w.numeric)}, |error| ${fmt(w.absError)}, relative ${fmt(w.relError)}`,
    );
  }
  for (const warning of r.warnings) lines.push(`  note: ${warning}`);
  return lines.join("\n");
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(6) : String(x);
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] as number;
  }
  return strides;
}

function unravel(flat: number, strides: number[]): number[] {
  return strides.map((s) => {
    const i = Math.floor(flat / s);
    flat -= i * s;
    return i;
  });
}

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
    analyticJacobian() {
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
    },
  };
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
      if (!out.requiresGrad) return J; // f does not depend on its inputs: a zero Jacobian
      for (let j = 0; j < m; j++) {
        const seed = zeros(out.shape, { dtype: out.dtype });
        seed.data[j] = 1;
        const grads = runBackward(out, seed, { retainGraph: true }, leaves);
        grads.forEach((g, i) => {
          if (g === null) return;
          const n = (inputs[i] as Tensor).size;
          (J[i] as Float64Array).set(g.data, j * n);
        });
      }
      return J;
    },
  };
}
