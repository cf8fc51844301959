/**
 * @file W2 with @chainrule/nn: Nielsen's 784–30–10 sigmoid network, gaussian12 weights from
 * mulberry32(2), quadratic cost, SGD with η = 3 on mini-batches of 10 in the order
 * permutation(8000, 2000 + epoch). This is the code a user of the library writes (MLP,
 * quadraticCost, SGD, batches), timed per epoch. Imports @chainrule/autograd, @chainrule/nn,
 * mnist.ts, case.ts, stats.ts, result.ts.
 */

import { fromStorage, noGrad, Random } from "@chainrule/autograd";
import { batches, MLP, quadraticCost, SGD } from "@chainrule/nn";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput, Dtype } from "../result.js";
import { accuracyOf, rssMB, seconds } from "../stats.js";
import { mnistArrays, w2AccuracyChecks } from "./mnist.js";

/** The epochs after which test accuracy is reported (1-based, as the workload counts them). */
export const W2_EVAL_EPOCHS = [1, 3, 10];

function runW2(dtype: Dtype) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    const data = mnistArrays(dtype);
    const X = fromStorage(data.trainX, [8000, 784]);
    const Y = fromStorage(data.trainY, [8000, 10]);
    const testX = fromStorage(data.testX, [2000, 784]);
    const model = new MLP([784, 30, 10], {
      activation: "sigmoid",
      outputActivation: "sigmoid",
      init: "gaussian12",
      random: new Random(2),
      dtype,
    });
    const opt = new SGD(model.parameters(), { lr: 3.0 });
    const epochs = sampleCount(options, 10, 1);

    const epochS: number[] = [];
    const rssAfterEpoch: number[] = [];
    const accuracy = new Map<number, number>();
    for (let e = 0; e < epochs; e++) {
      const t0 = seconds();
      for (const [x, y] of batches([X, Y], { batchSize: 10, random: new Random(2000 + e) })) {
        const C = quadraticCost(model.forward(x!), y!); // C = (1/m) Σₓ ½‖a²(x) − y(x)‖²
        opt.zeroGrad();
        C.backward();
        opt.step();
      }
      epochS.push(seconds() - t0);
      rssAfterEpoch.push(Math.round(rssMB()));
      if (W2_EVAL_EPOCHS.includes(e + 1) || e + 1 === epochs) {
        const scores = noGrad(() => model.forward(testX));
        accuracy.set(e + 1, accuracyOf(scores.data, data.testLabels, 10));
      }
      options.log(`  epoch ${e + 1}: ${epochS[e]!.toFixed(3)} s, rss ${rssAfterEpoch[e]} MB`);
    }
    return {
      metrics: [{ key: "epoch", unit: "s", per: "epoch", samples: epochS }],
      checks: w2AccuracyChecks(accuracy),
      details: { epochs, accuracy: Object.fromEntries(accuracy), rssAfterEpochMB: rssAfterEpoch },
      notes: [],
    };
  };
}

export const w2: CaseSpec[] = (["float64", "float32"] as const).map((dtype) => ({
  id: `W2/chainrule/${dtype}`,
  workload: "W2",
  engine: "chainrule",
  variant: "nn.MLP",
  dtype,
  run: runW2(dtype),
}));
