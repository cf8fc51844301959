/**
 * @file The same workloads on TensorFlow.js 4.22.0 with its WebAssembly backend (float32, one
 * thread), the peer measured in the same run. Gradients come from tf's own autodiff
 * (`optimizer.minimize`, `tf.grads`, `tf.grad`); every timed region ends in `dataSync()` so
 * nothing is left pending. W1 (a graph of 65,818 scalar ops per step) runs 3 steps, and W5 runs
 * N = 10⁵ only: one scalar op costs TF.js tens of microseconds. Imports case.ts, stats.ts,
 * result.ts, the workloads' shared helpers, and (lazily, so that chainrule-only runs never load
 * it) @tensorflow/tfjs with @tensorflow/tfjs-backend-wasm.
 */

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Random } from "@chainrule/autograd";
import { loadMoons } from "@chainrule/examples/data/moons";
import type * as TF from "@tensorflow/tfjs";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput, Check, Metric } from "../result.js";
import { collectGarbage, seconds } from "../stats.js";
import { mnistArrays, w2Epochs, w3Checks } from "../workloads/mnist.js";
import { W1_STEP0_LOSS, w1InitialLoss } from "../workloads/w1.js";
import { timeW3Blocks, W3_BATCH, w3BatchStart, w3InitialLoss, w3Schedule } from "../workloads/w3.js";
import { gemmMetrics, gemmSettings, productChecks, uniformMatrix, W4_SIZES } from "../workloads/w4.js";

type Tf = typeof TF;

let loading: Promise<Tf> | null = null;

/**
 * tfjs with the wasm backend selected. The .wasm binaries are read from the installed package
 * (a path, not a URL), so nothing is fetched over the network.
 */
export function loadTf(): Promise<Tf> {
  loading ??= (async () => {
    const tf = await import("@tensorflow/tfjs");
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const root = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json"));
    wasm.setWasmPaths(`${join(root, "dist")}/`);
    if (!(await tf.setBackend("wasm"))) throw new Error("TF.js could not initialise its wasm backend");
    await tf.ready();
    return tf;
  })();
  return loading;
}

/** What the backend runs with, for the report. */
export async function tfEnvironment(): Promise<Record<string, string | boolean>> {
  const tf = await loadTf();
  return {
    tfjs: tf.version.tfjs,
    tfjsBackend: tf.getBackend(),
    tfjsWasmSimd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    tfjsWasmThreads: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
  };
}

// ---- W1: micrograd's MLP, one tf scalar per Value ----

async function runW1(options: RunOptions): Promise<CaseOutput> {
  const tf = await loadTf();
  const moons = loadMoons();
  // --quick: the first 10 points and one step, checked against chainrule's float64 loss on them.
  const points = options.quick ? 10 : moons.X.length;
  const X = moons.X.slice(0, points);
  const y = moons.y.slice(0, points);
  const random = new Random(11);
  const sizes = [2, 16, 16, 1];
  const layers = sizes.slice(1).map((out, l) =>
    Array.from({ length: out }, () => ({
      w: Array.from({ length: sizes[l]! }, () => tf.variable(tf.scalar(2 * random.next() - 1))),
      b: tf.variable(tf.scalar(0)),
      relu: l + 2 < sizes.length,
    })),
  );
  const params = layers.flatMap((layer) => layer.flatMap((n) => [...n.w, n.b]));
  // micrograd's op order, as in workloads/w1.ts, one tf scalar per Value.
  const loss = (): TF.Scalar => {
    let dataSum = tf.scalar(0);
    for (let i = 0; i < X.length; i++) {
      let a: TF.Scalar[] = X[i]!.map((v) => tf.scalar(v));
      for (const layer of layers) {
        const inputs = a;
        a = layer.map((n) => {
          let act: TF.Scalar = n.b;
          n.w.forEach((w, k) => {
            act = act.add(w.mul(inputs[k]!));
          });
          return n.relu ? act.relu() : act;
        });
      }
      dataSum = dataSum.add(a[0]!.mul(-y[i]!).add(1).relu());
    }
    let regSum = tf.scalar(0);
    for (const p of params) regSum = regSum.add(p.mul(p));
    return dataSum.mul(1.0 / X.length).add(regSum.mul(1e-4));
  };
  const opt = tf.train.sgd(1.0);
  const steps = sampleCount(options, 3, 1);
  const stepS: number[] = [];
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    opt.setLearningRate(1.0 - (0.9 * k) / 100);
    const t0 = seconds();
    const cost = opt.minimize(loss, true)!;
    const value = cost.dataSync()[0]!;
    stepS.push(seconds() - t0);
    losses.push(value);
    cost.dispose();
    options.log(`  step ${k}: ${stepS[k]!.toFixed(2)} s, loss ${value}`);
  }
  const reference = options.quick ? w1InitialLoss(X, y) : W1_STEP0_LOSS;
  const rel = Math.abs(losses[0]! - reference) / reference;
  return {
    metrics: [{ key: "step", unit: "s", per: "step", samples: stepS }],
    checks: [
      {
        name: `loss at step 0 vs ${options.quick ? "chainrule's" : "micrograd's"} float64 loss (relative error, float32)`,
        measured: rel,
        expected: "≤ 1e-5",
        ok: rel <= 1e-5,
      },
    ],
    details: { steps, points, losses },
    notes: [`reduced: ${steps} steps (one tf scalar per micrograd Value costs seconds per step)`],
  };
}

/**
 * A weight drawn as W [out][in] row-major (the workloads' order), stored as the [in, out] kernel
 * that tf.layers.dense uses, so the forward product is x·K without a transpose flag: TF.js's wasm
 * matMul is many times slower with transposed operands (see W4's forward+backward), and a TF.js
 * user would write the layer this way. WORKLOADS.md allows an engine to store the transpose.
 */
function kernel(tf: Tf, w: Float32Array, out: number, inputs: number): TF.Variable<TF.Rank.R2> {
  const k = new Float32Array(w.length);
  for (let j = 0; j < out; j++) for (let i = 0; i < inputs; i++) k[i * out + j] = w[j * inputs + i]!;
  return tf.variable(tf.tensor2d(k, [inputs, out]));
}

// ---- W2: Nielsen's 784–30–10 network ----

async function runW2(options: RunOptions): Promise<CaseOutput> {
  const tf = await loadTf();
  const data = mnistArrays();
  const random = new Random(2);
  const draw = (n: number) => Float32Array.from({ length: n }, () => random.gaussian12());
  // Drawn in the workload's order: W1, b1, W2, b2 (each W as [out][in]).
  const K1 = kernel(tf, draw(30 * 784), 30, 784);
  const b1 = tf.variable(tf.tensor1d(draw(30)));
  const K2 = kernel(tf, draw(10 * 30), 10, 30);
  const b2 = tf.variable(tf.tensor1d(draw(10)));
  const X = tf.tensor2d(data.trainX, [8000, 784]);
  const Y = tf.tensor2d(data.trainY, [8000, 10]);
  const testX = tf.tensor2d(data.testX, [2000, 784]);
  const forward = (x: TF.Tensor2D) => tf.sigmoid(tf.matMul(tf.sigmoid(tf.matMul(x, K1).add(b1)), K2).add(b2));
  const opt = tf.train.sgd(3.0);
  const m = 10;
  return w2Epochs(
    options,
    data.testLabels,
    (order) =>
      tf.tidy(() => {
        const rows = tf.tensor1d(order, "int32");
        const x = tf.gather(X, rows) as TF.Tensor2D;
        const y = tf.gather(Y, rows);
        // C = (1/m) Σₓ ½‖a²(x) − y(x)‖²
        opt.minimize(
          () =>
            forward(x)
              .sub(y)
              .square()
              .sum()
              .mul(0.5 / m) as TF.Scalar,
        );
      }),
    () => tf.tidy(() => forward(testX)).dataSync(),
    () => K1.dataSync(), // the epoch's work done: TF.js runs lazily
  );
}

// ---- W3: 784–256–256–10 ReLU MLP, softmax cross-entropy ----

async function runW3(options: RunOptions): Promise<CaseOutput> {
  const tf = await loadTf();
  const data = mnistArrays();
  const random = new Random(3);
  // PyTorch-Linear-like: (2u − 1)/√fan_in in float64, then float32; W then b, layer by layer.
  const layer = (out: number, fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    const draw = (n: number) => Float32Array.from({ length: n }, () => (2 * random.next() - 1) * bound);
    return { K: kernel(tf, draw(out * fanIn), out, fanIn), b: tf.variable(tf.tensor1d(draw(out))) };
  };
  const l1 = layer(256, 784);
  const l2 = layer(256, 256);
  const l3 = layer(10, 256);
  const X = tf.tensor2d(data.trainX, [8000, 784]);
  const oneHot = tf.oneHot(tf.tensor1d(data.trainLabels, "int32"), 10).toFloat();
  const testX = tf.tensor2d(data.testX, [2000, 784]);
  const logits = (x: TF.Tensor2D) => {
    const h1 = tf.relu(tf.matMul(x, l1.K).add(l1.b));
    const h2 = tf.relu(tf.matMul(h1, l2.K).add(l2.b));
    return tf.matMul(h2, l3.K).add(l3.b);
  };
  const opt = tf.train.sgd(0.1);
  // --quick: 2 + 5 steps (100 TF.js steps take seconds), checked by the step-0 loss alone.
  const { warmup, block, blocks } = options.quick ? { warmup: 2, block: 5, blocks: 1 } : w3Schedule(options);
  const losses = new Map<number, number>();
  const step = (s: number) => {
    tf.tidy(() => {
      const start = w3BatchStart(s);
      const x = tf.slice(X, [start, 0], [W3_BATCH, 784]);
      const t = tf.slice(oneHot, [start, 0], [W3_BATCH, 10]);
      // mean over the batch of −log softmax(logits)[label]
      const keep = s === 0 || s === 119;
      const cost = opt.minimize(() => tf.logSoftmax(logits(x)).mul(t).sum(1).mean().neg() as TF.Scalar, keep);
      if (cost !== null) losses.set(s, cost.dataSync()[0]!);
    });
  };
  const { blockS, accuracy } = timeW3Blocks(step, { warmup, block, blocks }, options, {
    sync: () => l1.K.dataSync(), // TF.js is lazy: the block ends when its last update is done
    scores: () => tf.tidy(() => logits(testX)).dataSync(),
    testLabels: data.testLabels,
  });
  const initial = w3InitialLoss(data);
  const rel = Math.abs(losses.get(0)! - initial) / initial;
  const checks: Check[] = [
    { name: "loss of step 0 vs chainrule's (relative error)", measured: rel, expected: "≤ 1e-5", ok: rel <= 1e-5 },
  ];
  if (!options.quick) checks.push(...w3Checks(accuracy, losses.get(119)!));
  return {
    metrics: [{ key: "block", unit: "s", per: `${block} steps`, samples: blockS }],
    checks,
    details: { blocks, accuracyAfter120: accuracy, lossOf120thStep: losses.get(119) },
    notes: options.quick ? ["--quick: 2 warm-up steps and one block of 5"] : [],
  };
}

// ---- W4: square matmul, forward and forward+backward through tf.grads ----

async function runW4(options: RunOptions): Promise<CaseOutput> {
  const tf = await loadTf();
  const sizes = options.quick ? [64] : W4_SIZES;
  const { samples, fill } = gemmSettings(options);
  const random = new Random(4);
  const metrics: Metric[] = [];
  const checks: Check[] = [];
  const gradients = tf.grads((a: TF.Tensor, b: TF.Tensor) => tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D));
  for (const n of sizes) {
    const inputs = { a: uniformMatrix(n, random), b: uniformMatrix(n, random), g: uniformMatrix(n, random) };
    const A = tf.tensor2d(Float32Array.from(inputs.a), [n, n]);
    const B = tf.tensor2d(Float32Array.from(inputs.b), [n, n]);
    const G = tf.tensor2d(Float32Array.from(inputs.g), [n, n]);
    const forward = () => {
      const c = tf.matMul(A, B);
      c.dataSync();
      c.dispose();
    };
    const forwardBackward = () => {
      const [dA, dB] = gradients([A, B], G);
      dA!.dataSync();
      dB!.dataSync();
      dA!.dispose();
      dB!.dispose();
    };
    if (n <= 256) {
      const c = tf.matMul(A, B);
      const [dA, dB] = gradients([A, B], G);
      checks.push(...productChecks("float32", n, inputs, { c: c.dataSync(), dA: dA!.dataSync(), dB: dB!.dataSync() }));
      tf.dispose([c, dA!, dB!]);
    }
    metrics.push(...gemmMetrics(n, forward, forwardBackward, samples, fill, options));
    tf.dispose([A, B, G]);
  }
  return { metrics, checks, details: { sizes }, notes: [] };
}

// ---- W5: a chain of scalar ops through tf.grad ----

/** x0.grad by sequential float32 multiplication, as TF.js's backward computes it (≈ 1.00596 at N = 10⁵). */
export function float32ChainGrad(n: number): number {
  const c = Math.fround(1.0000001);
  let g = 1;
  for (let i = 0; i < n / 2; i++) g = Math.fround(g * c);
  return g;
}

function runW5(full: number) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    const tf = await loadTf();
    const n = options.quick ? 10_000 : full;
    const reps = sampleCount(options, 3, 1);
    const chain = tf.grad((x: TF.Tensor) => {
      let y = x;
      for (let i = 0; i < n / 2; i++) y = y.mul(1.0000001).add(0.0);
      return y;
    });
    const total: number[] = [];
    let grad = Number.NaN;
    for (let r = 0; r < reps; r++) {
      collectGarbage();
      const x0 = tf.scalar(1.0);
      const t0 = seconds();
      const g = chain(x0);
      grad = g.dataSync()[0]!;
      total.push(seconds() - t0);
      tf.dispose([x0, g]);
      options.log(`  rep ${r + 1}: ${total[r]!.toFixed(3)} s`);
    }
    const expected = float32ChainGrad(n);
    return {
      metrics: [{ key: "total", unit: "s", per: `${n.toExponential(0).replace("+", "")} ops`, samples: total }],
      checks: [
        {
          name: "x0.grad (float32)",
          measured: grad,
          expected: `${expected} (sequential float32 product)`,
          ok: Math.abs(grad - expected) <= 1e-6 * expected,
        },
      ],
      details: { n, reps },
      notes: ["tf.grad runs forward and backward in one call: only the total is timed"],
    };
  };
}

/** Adds the backend's facts (version, SIMD, threads) to a run's details, for the report. */
function withBackend(run: (options: RunOptions) => Promise<CaseOutput>) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    const output = await run(options);
    return { ...output, details: { ...output.details, backend: await tfEnvironment() } };
  };
}

function spec(
  workload: CaseSpec["workload"],
  id: string,
  variant: string,
  run: (o: RunOptions) => Promise<CaseOutput>,
) {
  return { id, workload, engine: "tfjs", variant, dtype: "float32", run: withBackend(run) } satisfies CaseSpec;
}

export const tfjs: CaseSpec[] = [
  spec("W1", "W1/tfjs/float32", "tf.scalar per Value", runW1),
  spec("W2", "W2/tfjs/float32", "tf ops + tf.train.sgd", runW2),
  spec("W3", "W3/tfjs/float32", "tf ops + tf.train.sgd", runW3),
  spec("W4", "W4/tfjs/float32", "tf.matMul + tf.grads", runW4),
  spec("W5", "W5/tfjs/scalar/N=1e5", "0-d tf tensors, N=1e5", runW5(100_000)),
];
