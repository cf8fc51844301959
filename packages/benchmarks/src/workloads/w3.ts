/**
 * @file W3 with @chainrule/nn: a 784–256–256–10 ReLU MLP in float32, PyTorch-Linear-like weights
 * from mulberry32(3), softmax cross-entropy, plain SGD (lr 0.1) on batches of 128 rows taken in
 * stored order. 20 untimed warm-up steps, then timed blocks of 100 steps; test accuracy after
 * step 120, outside the timing. Imports @chainrule/autograd, @chainrule/nn, mnist.ts, case.ts,
 * stats.ts, result.ts.
 */

import { fromStorage, noGrad, Random, setGemmThreads, type Tensor } from "@chainrule/autograd";
import { crossEntropy, MLP, SGD } from "@chainrule/nn";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput } from "../result.js";
import { accuracyOf, seconds } from "../stats.js";
import { type MnistArrays, mnistArrays, w3Checks } from "./mnist.js";

export const W3_BATCH = 128;
/** Batches per pass over the training rows: rows 7936…7999 are never used. */
export const W3_BATCHES = 62;

/** Warm-up steps, steps per timed block, timed blocks. Accuracy is taken when step 120 is done. */
export interface W3Schedule {
  warmup: number;
  block: number;
  blocks: number;
}

export function w3Schedule(options: RunOptions): W3Schedule {
  return { warmup: 20, block: 100, blocks: sampleCount(options, 3, 1) };
}

/** The W3 model as a user builds it with @chainrule/nn. */
export function w3Model(): MLP {
  return new MLP([784, 256, 256, 10], { activation: "relu", init: "pytorch", random: new Random(3), dtype: "float32" });
}

/** Rows of step s: [(s mod 62)·128, (s mod 62)·128 + 128). */
export function w3BatchStart(s: number): number {
  return (s % W3_BATCHES) * W3_BATCH;
}

/**
 * W3's timed region, shared by the engines: `warmup` untimed steps, then `blocks` timed blocks of
 * `block` steps (`sync` materialises lazy results inside the timing), and the test accuracy taken
 * right after step 120, outside the timing.
 */
export function timeW3Blocks(
  step: (s: number) => void,
  schedule: { warmup: number; block: number; blocks: number },
  options: Pick<RunOptions, "log">,
  test: { scores: () => ArrayLike<number>; testLabels: ArrayLike<number>; sync?: () => void },
): { blockS: number[]; accuracy: number } {
  const { warmup, block, blocks } = schedule;
  let s = 0;
  for (; s < warmup; s++) step(s);
  const blockS: number[] = [];
  let accuracy = Number.NaN;
  for (let b = 0; b < blocks; b++) {
    const t0 = seconds();
    for (let i = 0; i < block; i++, s++) step(s);
    test.sync?.();
    blockS.push(seconds() - t0);
    if (s === 120) accuracy = accuracyOf(test.scores(), test.testLabels, 10);
    options.log(`  steps ${s - block}…${s - 1}: ${blockS[b]!.toFixed(3)} s`);
  }
  return { blockS, accuracy };
}

function batchLoss(model: MLP, X: Tensor, data: MnistArrays, s: number): Tensor {
  const start = w3BatchStart(s);
  const x = X.slice([start, start + W3_BATCH]);
  return crossEntropy(model.forward(x), data.trainLabels.subarray(start, start + W3_BATCH));
}

/** chainrule's loss of step 0 (before any update): the cross-check for a shortened TF.js run. */
export function w3InitialLoss(data: MnistArrays): number {
  const model = w3Model();
  const X = fromStorage(data.trainX, [8000, 784]);
  return noGrad(() => batchLoss(model, X, data, 0)).data[0]!;
}

/** W3 with the matrix products on `threadCount` threads (bit for bit the same numbers). */
const runOn =
  (threadCount: number) =>
  async (options: RunOptions): Promise<CaseOutput> => {
    const data = mnistArrays();
    const X = fromStorage(data.trainX, [8000, 784]);
    const testX = fromStorage(data.testX, [2000, 784]);
    const model = w3Model();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const { warmup, block, blocks } = w3Schedule(options);

    const losses: number[] = [];
    const step = (s: number) => {
      const loss = batchLoss(model, X, data, s);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.data[0]!);
    };

    // The products of a step (128×784·784×256 and its gradients, …) are big enough to share with a
    // second core: each thread computes a band of the result, bit for bit as one thread would.
    const threads = await setGemmThreads(threadCount);
    let timed: ReturnType<typeof timeW3Blocks>;
    try {
      timed = timeW3Blocks(step, { warmup, block, blocks }, options, {
        scores: () => noGrad(() => model.forward(testX)).data,
        testLabels: data.testLabels,
      });
    } finally {
      await setGemmThreads(1); // the cases after this one run on one thread
    }
    const { blockS, accuracy } = timed;
    return {
      metrics: [{ key: "block", unit: "s", per: "100 steps", samples: blockS }],
      checks: w3Checks(accuracy, losses[119]!),
      details: { blocks, gemmThreads: threads, accuracyAfter120: accuracy, lossOf120thStep: losses[119] },
      notes: [],
    };
  };

export const w3: CaseSpec[] = [
  {
    id: "W3/chainrule/float32",
    workload: "W3",
    engine: "chainrule",
    variant: "nn.MLP",
    dtype: "float32",
    run: runOn(1),
  },
  {
    id: "W3/chainrule/float32/2-threads",
    workload: "W3",
    engine: "chainrule",
    variant: "nn.MLP, 2 threads",
    dtype: "float32",
    run: runOn(2),
  },
];
