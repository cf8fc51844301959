/**
 * @file W6: one training step of the examples' LeNet-style CNN — conv 5×5 (1→6), ReLU, max-pool 2,
 * conv 5×5 (6→16), ReLU, max-pool 2, flatten, 256–120 ReLU, 120–10 — at batch 64 in float32:
 * forward, cross-entropy, backward and an Adam step (lr 0.001). Weights by PyTorch's default
 * initialisation from Random(6); step s trains on rows (s mod 125)·64 … + 63 of the training
 * digits in stored order. 5 untimed warm-up steps, then timed blocks of 20 steps (the metric is
 * seconds per step). Checks: the loss of step 0 against the same network in float64, and that
 * the loss falls (steps 100–119 against step 0). Also the convolutions alone, forward and
 * backward, in GFLOP/s beside W4's square matmul (n = 512, forward+backward) measured in the same
 * process: how much of the matrix kernel's rate the im2col lowering keeps (with a 64→64 3×3 layer of
 * a deeper network beside the model's two, whose few channels make them memory-bound). Imports
 * @chainrule/autograd, @chainrule/nn, mnist.ts, w4.ts, case.ts, stats.ts, result.ts.
 */

import { conv2d, fromStorage, mm, noGrad, Random, randn, type Tensor, type TensorDtype } from "@chainrule/autograd";
import { Adam, Conv2d, crossEntropy, Flatten, Linear, MaxPool2d, ReLU, Sequential } from "@chainrule/nn";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput, Check, Metric } from "../result.js";
import { seconds } from "../stats.js";
import { type MnistArrays, mnistArrays } from "./mnist.js";
import { gemmProtocol } from "./w4.js";

export const W6_BATCH = 64;
/** Batches per pass over the 8000 training rows. */
export const W6_BATCHES = 125;
export const W6_LR = 0.001;

/** Warm-up steps, steps per timed block, timed blocks; the loss check needs 120 steps. */
export function w6Schedule(options: RunOptions): { warmup: number; block: number; blocks: number } {
  if (options.quick) return { warmup: 1, block: 2, blocks: 1 };
  // At least 120 steps in all, for the loss check.
  const blocks = Math.max(6, sampleCount(options, 6, 1));
  return { warmup: 5, block: 20, blocks };
}

/** The examples' CNN (cnn-demo.ts's `lenet` with its default sizes), weights drawn from Random(6). */
export function w6Model(dtype: TensorDtype = "float32"): Sequential {
  const random = new Random(6);
  return new Sequential(
    new Conv2d(1, 6, 5, { random, dtype }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(6, 16, 5, { random, dtype }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(256, 120, { random, dtype }),
    new ReLU(),
    new Linear(120, 10, { random, dtype }),
  );
}

/** The rows of step s: [(s mod 125)·64, + 64). */
export function w6BatchStart(s: number): number {
  return (s % W6_BATCHES) * W6_BATCH;
}

/** Step s's images [64, 1, 28, 28] and labels. */
function batchOf(data: MnistArrays, s: number, dtype: TensorDtype): { x: Tensor; labels: Int32Array } {
  const start = w6BatchStart(s);
  const pixels = data.trainX.subarray(start * 784, (start + W6_BATCH) * 784);
  const x = fromStorage(dtype === "float32" ? Float32Array.from(pixels) : Float64Array.from(pixels), [
    W6_BATCH,
    1,
    28,
    28,
  ]);
  return { x, labels: data.trainLabels.subarray(start, start + W6_BATCH) };
}

/** The loss of step 0 (before any update) in float64: the reference for every engine's float32 run. */
export function w6InitialLoss(data: MnistArrays): number {
  const model = w6Model("float64");
  const { x, labels } = batchOf(data, 0, "float64");
  return noGrad(() => crossEntropy(model.forward(x), labels).item());
}

/** W6's checks from the losses of steps 0 and 100–119 (those a run has). */
export function w6Checks(losses: ReadonlyMap<number, number>, initial: number, quick: boolean): Check[] {
  const first = losses.get(0) as number;
  const rel = Math.abs(first - initial) / initial;
  const checks: Check[] = [
    { name: "loss of step 0 vs float64 (relative error)", measured: rel, expected: "≤ 1e-5", ok: rel <= 1e-5 },
  ];
  if (!quick) {
    let sum = 0;
    for (let s = 100; s < 120; s++) sum += losses.get(s) as number;
    const later = sum / 20;
    checks.push({
      name: "mean loss of steps 100–119 / loss of step 0",
      measured: later / first,
      expected: "< 0.5 (it trains)",
      ok: later / first < 0.5,
    });
  }
  return checks;
}

/** The timed loop shared with the TF.js peer: warm-up, then blocks of steps, `sync` ending each block. */
export function timeW6Blocks(
  step: (s: number) => void,
  schedule: { warmup: number; block: number; blocks: number },
  options: Pick<RunOptions, "log">,
  sync: () => void = () => {},
): number[] {
  const { warmup, block, blocks } = schedule;
  let s = 0;
  for (; s < warmup; s++) step(s);
  sync();
  const perStep: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const t0 = seconds();
    for (let i = 0; i < block; i++, s++) step(s);
    sync();
    perStep.push((seconds() - t0) / block);
    options.log(`  steps ${s - block}…${s - 1}: ${(perStep[b]! * 1000).toFixed(1)} ms/step`);
  }
  return perStep;
}

/**
 * The convolutions of the model alone, forward and backward (∂L/∂w, and ∂L/∂x for the second,
 * whose input is a hidden layer), at the shapes of a step; each by W4's protocol in GFLOP/s,
 * counting 2·N·O·oH·oW·(C/G)·kH·kW per product (forward, ∂L/∂w and ∂L/∂x each one).
 */
function convRates(options: RunOptions): Metric[] {
  const r = new Random(60);
  const fill = options.quick ? 0.01 : 0.2;
  const samples = options.quick ? 1 : null;
  const layer = (n: number, c: number, size: number, o: number, k: number, inputGrad: boolean, key: string): Metric => {
    const x = randn([n, c, size, size], r, { dtype: "float32", requiresGrad: inputGrad });
    const w = randn([o, c, k, k], r, { dtype: "float32", requiresGrad: true });
    const pad = k === 3 ? 1 : 0;
    const out = size + 2 * pad - k + 1;
    const g = randn([n, o, out, out], r, { dtype: "float32" });
    const products = inputGrad ? 3 : 2;
    const flop = products * 2 * n * o * out * out * c * k * k;
    const call = () => {
      x.grad = null;
      w.grad = null;
      conv2d(x, w, null, { padding: pad }).backward(g);
    };
    const rates = gemmProtocol(call, flop, samples, fill);
    options.log(`  ${key}: ${rates.map((v) => v.toFixed(1)).join(", ")} GFLOP/s`);
    return { key, unit: "GFLOP/s", per: key, samples: rates };
  };
  const n = 512;
  const A = randn([n, n], r, { dtype: "float32", requiresGrad: true });
  const B = randn([n, n], r, { dtype: "float32", requiresGrad: true });
  const G = randn([n, n], r, { dtype: "float32" });
  const matmul = () => {
    A.grad = null;
    B.grad = null;
    mm(A, B, false, false).backward(G);
  };
  return [
    layer(W6_BATCH, 1, 28, 6, 5, false, "conv1 1→6 forward+backward"),
    layer(W6_BATCH, 6, 12, 16, 5, true, "conv2 6→16 forward+backward"),
    // not in the model: a layer of a deeper CNN, where each packed element feeds 64 products
    layer(options.quick ? 2 : 16, 64, 32, 64, 3, true, "conv 64→64 3×3 forward+backward"),
    {
      key: "matmul n=512 forward+backward",
      unit: "GFLOP/s",
      per: "W4's C = A·B, dA, dB, n=512",
      samples: gemmProtocol(matmul, 6 * n ** 3, samples, fill),
    },
  ];
}

async function run(options: RunOptions): Promise<CaseOutput> {
  const data = mnistArrays();
  const model = w6Model();
  const opt = new Adam(model.parameters(), { lr: W6_LR });
  const losses = new Map<number, number>();
  const step = (s: number) => {
    const { x, labels } = batchOf(data, s, "float32");
    const loss = crossEntropy(model.forward(x), labels);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.set(s, loss.item());
  };
  const schedule = w6Schedule(options);
  const perStep = timeW6Blocks(step, schedule, options);
  const rates = convRates(options);
  const median = (m: Metric) => [...m.samples].sort((a, b) => a - b)[Math.floor(m.samples.length / 2)] as number;
  const matmulRate = median(rates[3] as Metric);
  return {
    metrics: [{ key: "step", unit: "s", per: "step (batch 64)", samples: perStep }, ...rates],
    checks: w6Checks(losses, w6InitialLoss(data), options.quick),
    details: {
      ...schedule,
      lossOfStep0: losses.get(0),
      lossOfStep119: losses.get(119),
      conv1ShareOfMatmulRate: Number((median(rates[0] as Metric) / matmulRate).toFixed(3)),
      conv2ShareOfMatmulRate: Number((median(rates[1] as Metric) / matmulRate).toFixed(3)),
      conv64ShareOfMatmulRate: Number((median(rates[2] as Metric) / matmulRate).toFixed(3)),
    },
    notes: options.quick ? ["--quick: 1 warm-up step and one block of 2"] : [],
  };
}

export const w6: CaseSpec[] = [
  { id: "W6/chainrule/float32", workload: "W6", engine: "chainrule", variant: "nn.Conv2d CNN", dtype: "float32", run },
];
