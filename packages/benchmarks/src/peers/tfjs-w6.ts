/**
 * @file W6 on TensorFlow.js 4.22.0 (wasm backend, float32, one thread): the same CNN with the same
 * initial weights (chainrule's, moved to TF's layouts: NHWC images, [kH, kW, in, out] filters,
 * [in, out] dense kernels), the same batches, tf.train.adam(0.001) on the same loss. The features
 * are flattened in chainrule's [C, H, W] order (a transpose before the reshape) so the dense
 * weights line up. The wasm backend cannot differentiate tf.conv2d (no Conv2DBackpropFilter kernel),
 * so the convolutions are im2col written in tf ops. Each timed block ends in `dataSync()`. Imports case.ts, result.ts, tfjs.ts
 * (the lazily loaded backend) and workloads/w6.ts, mnist.ts.
 */

import type * as TF from "@tensorflow/tfjs";
import type { CaseSpec, RunOptions } from "../case.js";
import type { CaseOutput } from "../result.js";
import { mnistArrays } from "../workloads/mnist.js";
import {
  timeW6Blocks,
  W6_BATCH,
  W6_LR,
  w6BatchStart,
  w6Checks,
  w6InitialLoss,
  w6Model,
  w6Schedule,
} from "../workloads/w6.js";
import { loadTf, tfEnvironment } from "./tfjs.js";

async function run(options: RunOptions): Promise<CaseOutput> {
  const tf = await loadTf();
  const data = mnistArrays();
  const [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b] = w6Model().parameters();
  // [out, in, kH, kW] → [kH, kW, in, out];  [out, in] → [in, out]
  const filter = (t: typeof c1w) =>
    tf.variable(
      tf
        .tensor4d(t!.toTypedArray() as Float32Array, t!.shape as [number, number, number, number])
        .transpose([2, 3, 1, 0]),
    );
  const dense = (t: typeof c1w) =>
    tf.variable(tf.tensor2d(t!.toTypedArray() as Float32Array, t!.shape as [number, number]).transpose());
  const vector = (t: typeof c1w) => tf.variable(tf.tensor1d(t!.toTypedArray() as Float32Array));
  const K1 = filter(c1w);
  const b1 = vector(c1b);
  const K2 = filter(c2w);
  const b2 = vector(c2b);
  const D1 = dense(f1w);
  const d1 = vector(f1b);
  const D2 = dense(f2w);
  const d2 = vector(f2b);
  const X = tf.tensor4d(data.trainX, [8000, 28, 28, 1]);
  const oneHot = tf.oneHot(tf.tensor1d(data.trainLabels, "int32"), 10).toFloat();
  // NOTE: the wasm backend registers no Conv2DBackpropFilter kernel, so tf.conv2d cannot be trained
  // there; the convolution is written as TF.js users then write it, im2col by hand: the 25 shifted
  // windows concatenated along the channels, then one tf.matMul with the filter as [25·C, O].
  const conv = (x: TF.Tensor4D, K: TF.Variable): TF.Tensor4D => {
    const [n, h, w, c] = x.shape;
    const [k, , , o] = K.shape as [number, number, number, number];
    const [oh, ow] = [h - k + 1, w - k + 1];
    const windows: TF.Tensor4D[] = [];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) windows.push(tf.slice(x, [0, i, j, 0], [n, oh, ow, c]));
    const cols = tf.concat(windows, 3).reshape([n * oh * ow, k * k * c]) as TF.Tensor2D;
    return tf.matMul(cols, K.reshape([k * k * c, o]) as TF.Tensor2D).reshape([n, oh, ow, o]);
  };
  const logits = (x: TF.Tensor4D) => {
    const h1 = tf.maxPool(tf.relu(conv(x, K1).add(b1)) as TF.Tensor4D, 2, 2, "valid");
    const h2 = tf.maxPool(tf.relu(conv(h1, K2).add(b2)) as TF.Tensor4D, 2, 2, "valid");
    const flat = h2.transpose([0, 3, 1, 2]).reshape([x.shape[0], 256]) as TF.Tensor2D; // chainrule's [C, H, W] order
    const h3 = tf.relu(tf.matMul(flat, D1 as TF.Tensor2D).add(d1));
    return tf.matMul(h3, D2 as TF.Tensor2D).add(d2);
  };
  const opt = tf.train.adam(W6_LR);
  const losses = new Map<number, number>();
  const step = (s: number) => {
    tf.tidy(() => {
      const start = w6BatchStart(s);
      const x = tf.slice(X, [start, 0, 0, 0], [W6_BATCH, 28, 28, 1]);
      const t = tf.slice(oneHot, [start, 0], [W6_BATCH, 10]);
      const keep = s === 0 || (s >= 100 && s < 120);
      const cost = opt.minimize(() => tf.logSoftmax(logits(x)).mul(t).sum(1).mean().neg() as TF.Scalar, keep);
      if (cost !== null) losses.set(s, cost.dataSync()[0]!);
    });
  };
  const schedule = w6Schedule(options);
  const perStep = timeW6Blocks(step, schedule, options, () => K1.dataSync());
  return {
    metrics: [{ key: "step", unit: "s", per: "step (batch 64)", samples: perStep }],
    checks: w6Checks(losses, w6InitialLoss(data), options.quick),
    details: {
      ...schedule,
      lossOfStep0: losses.get(0),
      lossOfStep119: losses.get(119),
      backend: await tfEnvironment(),
    },
    notes: [
      "convolutions as tf.slice windows + tf.concat + tf.matMul: the wasm backend has no Conv2DBackpropFilter",
      ...(options.quick ? ["--quick: 1 warm-up step and one block of 2"] : []),
    ],
  };
}

export const tfjsW6: CaseSpec[] = [
  {
    id: "W6/tfjs/float32",
    workload: "W6",
    engine: "tfjs",
    variant: "im2col by tf ops + tf.train.adam",
    dtype: "float32",
    run,
  },
];
