/**
 * @file W2 with @chainrule/nn: Nielsen's 784–30–10 sigmoid network, gaussian12 weights from
 * mulberry32(2), quadratic cost, SGD with η = 3 on mini-batches of 10 in the order
 * permutation(8000, 2000 + epoch). This is the code a user of the library writes (MLP,
 * quadraticCost, SGD), timed per epoch; and the same network written with plain Tensor operations
 * (x·Wᵀ + b, sigmoid, squared error, an update that makes new leaves), the code of a user who does
 * not use the nn package. Imports @chainrule/autograd, @chainrule/nn,
 * mnist.ts, case.ts, stats.ts, result.ts.
 */

import { fromStorage, noGrad, Random, type Tensor } from "@chainrule/autograd";
import { mnistBatch } from "@chainrule/datasets";
import { MLP, quadraticCost, SGD } from "@chainrule/nn";
import type { CaseSpec, RunOptions } from "../case.js";
import type { CaseOutput, Dtype } from "../result.js";
import { canonicalMnist, w2Epochs } from "./mnist.js";

function runW2(dtype: Dtype) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    // The training images stay as 1-byte pixel codes; each mini-batch is converted (k/255) as it
    // is gathered, so the float64 run does not hold a 50 MB float copy of the training set.
    const { images, labels } = canonicalMnist();
    const testLabels = Int32Array.from(labels.subarray(8000, 10000));
    const model = new MLP([784, 30, 10], {
      activation: "sigmoid",
      outputActivation: "sigmoid",
      init: "gaussian12",
      random: new Random(2),
      dtype,
    });
    const opt = new SGD(model.parameters(), { lr: 3.0 });
    return w2Epochs(
      options,
      testLabels,
      (rows) => {
        const [x, y] = mnistBatch(images, labels, rows, dtype);
        const C = quadraticCost(model.forward(x), y); // C = (1/m) Σₓ ½‖a²(x) − y(x)‖²
        opt.zeroGrad();
        C.backward();
        opt.step();
      },
      () => {
        // Scored 200 rows at a time, each gathered from the pixel codes like a training batch:
        // neither a float copy of the test set (13 MB in float64) nor the kernels' WebAssembly
        // memory, which never shrinks, grows for the rest of the run.
        const scores = new Float64Array(testLabels.length * 10);
        for (let r = 0; r < testLabels.length; r += 200) {
          const end = 8000 + Math.min(r + 200, testLabels.length);
          const [x] = mnistBatch(images, labels, { start: 8000 + r, end }, dtype);
          scores.set(noGrad(() => model.forward(x)).data, r * 10);
        }
        return scores;
      },
    );
  };
}

/**
 * W2 with plain Tensor operations: weights [out][in] drawn as WORKLOADS.md says (gaussian12 from
 * mulberry32(2): W1, b1, W2, b2), a = σ(x·Wᵀ + b), C = ½·Σ(a² − y)²/m, and SGD as a new leaf
 * θ − η·∂C/∂θ per parameter and step, as a first script would write it.
 */
function runW2Plain(dtype: Dtype) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    const { images, labels } = canonicalMnist();
    const testLabels = Int32Array.from(labels.subarray(8000, 10000));
    const random = new Random(2);
    const draw = (shape: number[]) => {
      const values = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.gaussian12());
      return fromStorage(dtype === "float32" ? Float32Array.from(values) : values, shape, { requiresGrad: true });
    };
    let [W1, b1, W2, b2] = [draw([30, 784]), draw([30]), draw([10, 30]), draw([10])] as [
      Tensor,
      Tensor,
      Tensor,
      Tensor,
    ];
    const forward = (x: Tensor) => x.matmul(W1.T).add(b1).sigmoid().matmul(W2.T).add(b2).sigmoid();
    const sgd = (p: Tensor) => noGrad(() => p.sub(p.grad!.mul(3.0))).requireGrad();
    return w2Epochs(
      options,
      testLabels,
      (rows) => {
        const [x, y] = mnistBatch(images, labels, rows, dtype);
        const C = forward(x)
          .sub(y)
          .pow(2)
          .sum()
          .mul(0.5 / 10); // C = (1/m) Σₓ ½‖a²(x) − y(x)‖²
        C.backward();
        [W1, b1, W2, b2] = [sgd(W1), sgd(b1), sgd(W2), sgd(b2)];
      },
      () => noGrad(() => forward(mnistBatch(images, labels, { start: 8000, end: 10000 }, dtype)[0])).data,
    );
  };
}

export const w2: CaseSpec[] = (["float64", "float32"] as const).flatMap((dtype): CaseSpec[] => [
  { id: `W2/chainrule/${dtype}`, workload: "W2", engine: "chainrule", variant: "nn.MLP", dtype, run: runW2(dtype) },
  {
    id: `W2/chainrule/${dtype}/plain`,
    workload: "W2",
    engine: "chainrule",
    variant: "plain Tensor ops",
    dtype,
    run: runW2Plain(dtype),
  },
]);
