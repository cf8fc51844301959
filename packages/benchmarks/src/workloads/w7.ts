/**
 * @file W7: elementwise math on 10⁶ elements — sin, gelu (exact, with erf) and softplus, beside
 * exp and tanh as the baselines the issue names — forward (y = f(x)) and forward + backward
 * (x.grad = f′(x)·g for a fixed cotangent g), for chainrule in float64 and float32 and for TF.js
 * (wasm, float32) in the same run. x and g are drawn uniform in [−3, 3) from a seeded stream. Each
 * op gets one warm-up call, then one sample per call. Every case first checks its values and
 * gradients at 1,000 spread-out elements against float64 formulas written out here. Imports
 * @chainrule/autograd, case.ts, stats.ts, result.ts and the TF.js peer's loader (which loads TF.js
 * only when called).
 */

import { erf, fromStorage, Random, type Tensor } from "@chainrule/autograd";
import type * as TF from "@tensorflow/tfjs";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import { loadTf, tfEnvironment } from "../peers/tfjs.js";
import type { CaseOutput, Check, Dtype, Metric } from "../result.js";
import { timeCalls } from "../stats.js";

export const W7_OPS = ["exp", "tanh", "sin", "gelu", "softplus"] as const;
type Op = (typeof W7_OPS)[number];

/** f and f′ in float64, written out independently of the library's rule table: the checks' oracle. */
const REFERENCE: Record<Op, { f: (x: number) => number; df: (x: number) => number }> = {
  exp: { f: Math.exp, df: Math.exp },
  tanh: { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 },
  sin: { f: Math.sin, df: Math.cos },
  gelu: {
    f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    df: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
  },
  softplus: { f: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))), df: (x) => 1 / (1 + Math.exp(-x)) },
};

/** x and the cotangent g, uniform in [−3, 3) from seed 6. */
export function w7Inputs(n: number): { x: Float64Array; g: Float64Array } {
  const random = new Random(6);
  const draw = () => Float64Array.from({ length: n }, () => random.uniform(-3, 3));
  return { x: draw(), g: draw() };
}

/** The largest relative error of y and x.grad against the reference at 1,000 spread-out elements. */
function checkOp(op: Op, dtype: Dtype, x: Float64Array, g: Float64Array, y: ArrayLike<number>, gx: ArrayLike<number>) {
  const round = dtype === "float32" ? Math.fround : (v: number) => v;
  const step = Math.max(1, Math.floor(x.length / 1000));
  let worst = 0;
  for (let i = 0; i < x.length; i += step) {
    const xi = round(x[i]!);
    const want = [REFERENCE[op].f(xi), REFERENCE[op].df(xi) * round(g[i]!)];
    [y[i]!, gx[i]!].forEach((got, k) => {
      worst = Math.max(worst, Math.abs(got - want[k]!) / (1e-3 + Math.abs(want[k]!)));
    });
  }
  // float32: rounding the input and y (1 − y² for tanh cancels), and TF.js's own sin and erf
  const tolerance = dtype === "float32" ? 1e-4 : 1e-12;
  return {
    name: `${op}: y and x.grad at 1000 elements vs float64 formulas (relative error)`,
    measured: worst,
    expected: `≤ ${tolerance}`,
    ok: worst <= tolerance,
  } satisfies Check;
}

/** The two metrics of one op, keyed alike for every engine so that the table pairs them. */
function opMetrics(op: Op, n: number, forward: number[], both: number[]): Metric[] {
  const size = n.toExponential(0).replace("+", "");
  return [
    { key: `${op} forward`, unit: "s", per: `${op}, ${size} elements, forward`, samples: forward },
    { key: `${op} forward+backward`, unit: "s", per: `${op}, ${size} elements, forward + backward`, samples: both },
  ];
}

function sizeOf(options: RunOptions): number {
  return options.quick ? 10_000 : 1_000_000;
}

function runChainrule(dtype: Dtype) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    const n = sizeOf(options);
    const count = sampleCount(options, 7, 2);
    const { x, g } = w7Inputs(n);
    const cast = (a: Float64Array) => (dtype === "float32" ? Float32Array.from(a) : a.slice());
    const X = fromStorage(cast(x), [n]);
    const G = fromStorage(cast(g), [n]);
    const Xg = fromStorage(X.data, [n], { requiresGrad: true });
    const apply: Record<Op, (t: Tensor) => Tensor> = {
      exp: (t) => t.exp(),
      tanh: (t) => t.tanh(),
      sin: (t) => t.sin(),
      gelu: (t) => t.gelu(),
      softplus: (t) => t.softplus(),
    };
    const metrics: Metric[] = [];
    const checks: Check[] = [];
    for (const op of W7_OPS) {
      const f = apply[op];
      const backward = () => {
        Xg.zeroGrad();
        f(Xg).backward(G);
      };
      backward();
      checks.push(checkOp(op, dtype, x, g, f(X).data, Xg.grad!.data));
      metrics.push(
        ...opMetrics(
          op,
          n,
          timeCalls(() => f(X), count),
          timeCalls(backward, count),
        ),
      );
      options.log(`  ${op} done`);
    }
    return { metrics, checks, details: { n, samples: count }, notes: [] };
  };
}

async function runTfjs(options: RunOptions): Promise<CaseOutput> {
  const tf = await loadTf();
  const n = sizeOf(options);
  const count = sampleCount(options, 7, 2);
  const { x, g } = w7Inputs(n);
  const X = tf.tensor1d(Float32Array.from(x));
  const G = tf.tensor1d(Float32Array.from(g));
  // TF.js has no gelu op: x·½(1 + erf(x/√2)) from tf.erf, whose gradient tf.grad knows.
  const apply: Record<Op, (t: TF.Tensor) => TF.Tensor> = {
    exp: (t) => tf.exp(t),
    tanh: (t) => tf.tanh(t),
    sin: (t) => tf.sin(t),
    gelu: (t) => t.mul(0.5).mul(tf.erf(t.mul(Math.SQRT1_2)).add(1)),
    softplus: (t) => tf.softplus(t),
  };
  const metrics: Metric[] = [];
  const checks: Check[] = [];
  for (const op of W7_OPS) {
    const f = apply[op];
    const dfdx = tf.grad(f);
    // every timed region ends in dataSync(): nothing is left pending
    const forward = () => {
      const y = tf.tidy(() => f(X));
      const values = y.dataSync();
      y.dispose();
      return values;
    };
    const backward = () => {
      const gx = tf.tidy(() => dfdx(X, G));
      const values = gx.dataSync();
      gx.dispose();
      return values;
    };
    checks.push(checkOp(op, "float32", x, g, forward(), backward()));
    metrics.push(...opMetrics(op, n, timeCalls(forward, count), timeCalls(backward, count)));
    options.log(`  ${op} done`);
  }
  tf.dispose([X, G]);
  return {
    metrics,
    checks,
    details: { n, samples: count, backend: await tfEnvironment() },
    notes: ["gelu is composed from tf.erf (TF.js has no gelu op)"],
  };
}

export const w7: CaseSpec[] = [
  ...(["float64", "float32"] as const).map(
    (dtype): CaseSpec => ({
      id: `W7/chainrule/${dtype}`,
      workload: "W7",
      engine: "chainrule",
      variant: "Tensor elementwise",
      dtype,
      run: runChainrule(dtype),
    }),
  ),
  {
    id: "W7/tfjs/float32",
    workload: "W7",
    engine: "tfjs",
    variant: "tf elementwise ops",
    dtype: "float32",
    run: runTfjs,
  },
];
