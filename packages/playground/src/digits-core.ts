/**
 * @file MNIST in the page, without the DOM: the digits file, the models the view can train, one
 * epoch of mini-batch training with progress, held-out accuracy, and a prediction for a drawn
 * digit. The Web Worker (digits-worker.ts) runs it; so can a test in Node. Imports the public
 * APIs of @chainrule/autograd and @chainrule/nn.
 */

import { fromStorage, noGrad, Random, type Tensor } from "@chainrule/autograd";
import {
  Adam,
  Conv2d,
  crossEntropy,
  Flatten,
  Linear,
  MaxPool2d,
  MLP,
  type Module,
  type Optimizer,
  quadraticCost,
  ReLU,
  Sequential,
  SGD,
} from "@chainrule/nn";

export const PIXELS = 784;
export const N_DIGITS = 10_000;
/** The canonical split of the digits file: the first 8000 train, the last 2000 are held out. */
export const TRAIN = { start: 0, end: 8000 } as const;
export const TEST = { start: 8000, end: 10_000 } as const;

export interface Digits {
  /** [10000·784] pixel codes 0…255, row-major. */
  images: Uint8Array;
  /** [10000] labels 0…9. */
  labels: Uint8Array;
}

/** Split the bytes of mnist-digits.gz.bin (once unzipped) into images and labels. */
export function parseDigits(bytes: Uint8Array): Digits {
  if (bytes.length !== N_DIGITS * (PIXELS + 1)) {
    throw new Error(`the digits file has ${bytes.length} bytes, expected ${N_DIGITS * (PIXELS + 1)}`);
  }
  return { images: bytes.subarray(0, N_DIGITS * PIXELS), labels: bytes.subarray(N_DIGITS * PIXELS) };
}

/**
 * A model the view can train: the shape of one input, how to build it, its cost and optimizer,
 * how to read its ten outputs as probabilities, and the training subset the page proposes.
 * Another architecture is one more entry of DIGIT_MODELS.
 */
export interface DigitModel {
  id: string;
  title: string;
  /** One sentence for the page. */
  about: string;
  /** One sentence under the outputs: what they are and how they become probabilities. */
  outputsNote: string;
  /** The shape of one image as the model takes it: [784] (a vector) or [1, 28, 28] (one channel). */
  inputShape: readonly number[];
  batchSize: number;
  /** The training digits the page proposes for this model, so one epoch takes seconds. */
  defaultTrainSize: number;
  build(random: Random): Module;
  optimizer(model: Module): Optimizer;
  /** The cost of a batch: outputs [n, 10] against one-hot targets [n, 10]. */
  cost(out: Tensor, target: Tensor): Tensor;
  /** Ten non-negative numbers summing to 1, from one example's ten outputs. */
  probabilities(outputs: Float32Array): number[];
}

export const DIGIT_MODELS: DigitModel[] = [
  {
    id: "mlp-784-30-10",
    title: "784–30–10 sigmoid network",
    about:
      "The chapter's network: 784 inputs, 30 sigmoid units, 10 sigmoid outputs, the quadratic cost, SGD with η = 3 on mini-batches of 10, weights drawn with variance 1/fan-in (Xavier), which keeps the sigmoids out of saturation at the start.",
    outputsNote:
      "The outputs are ten sigmoids, each a separate yes/no answer; the probabilities are their shares of the sum.",
    inputShape: [PIXELS],
    batchSize: 10,
    defaultTrainSize: TRAIN.end,
    build: (random) =>
      new MLP([PIXELS, 30, 10], {
        activation: "sigmoid",
        outputActivation: "sigmoid",
        init: "xavierNormal",
        dtype: "float32",
        random,
      }),
    optimizer: (model) => new SGD(model.parameters(), { lr: 3 }),
    cost: quadraticCost,
    // sigmoid outputs are ten separate yes/no answers; shown as shares of their sum
    probabilities: (a) => {
      let sum = 0;
      for (const v of a) sum += v;
      return Array.from(a, (v) => (sum > 0 ? v / sum : 0.1));
    },
  },
  {
    // [n, 1, 28, 28] → conv 5×5 → [n, 6, 24, 24] → relu, maxpool 2 → [n, 6, 12, 12]
    //                → conv 5×5 → [n, 16, 8, 8]  → relu, maxpool 2 → [n, 16, 4, 4]
    //                → flatten → [n, 256] → linear → [n, 120] → relu → linear → [n, 10] logits
    id: "cnn-lenet",
    title: "LeNet-style convolutional network",
    about:
      "Two blocks of 5 × 5 convolution (6, then 16 channels), ReLU and 2 × 2 max pooling, then 256 → 120 → 10 fully connected: the images enter as [n, 1, 28, 28], so each filter slides over the digit and finds a stroke wherever it is. Cross-entropy of the ten logits, Adam with η = 0.003 on mini-batches of 16, PyTorch's default initialisation. An example costs about ten times as much to train as in the 784–30–10 network, so the page proposes 2,000 training digits (about 89 % held out after one epoch); all 8,000 reach about 95 %.",
    outputsNote:
      "The outputs are ten logits z; the probabilities are their softmax, e^z / Σ e^z, which the cross-entropy was trained on.",
    inputShape: [1, 28, 28],
    batchSize: 16,
    defaultTrainSize: 2000,
    build: (random) =>
      new Sequential(
        new Conv2d(1, 6, 5, { random, dtype: "float32" }),
        new ReLU(),
        new MaxPool2d(2),
        new Conv2d(6, 16, 5, { random, dtype: "float32" }),
        new ReLU(),
        new MaxPool2d(2),
        new Flatten(),
        new Linear(16 * 4 * 4, 120, { random, dtype: "float32" }),
        new ReLU(),
        new Linear(120, 10, { random, dtype: "float32" }),
      ),
    optimizer: (model) => new Adam(model.parameters(), { lr: 0.003 }),
    // one-hot targets are probability targets: −Σ y log softmax(z), the mean over the batch
    cost: (out, target) => crossEntropy(out, target),
    probabilities: softmax,
  },
];

/** softmax(z)ₖ = e^(zₖ − max z) / Σⱼ e^(zⱼ − max z): subtracting the largest logit keeps e^z finite. */
function softmax(z: Float32Array): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of z) max = Math.max(max, v);
  const e = Array.from(z, (v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/** The rows of `images` as a float32 batch [n, ...inputShape] with values in [0, 1], and one-hot targets [n, 10]. */
function batch(d: Digits, rows: ArrayLike<number>, inputShape: readonly number[]): [Tensor, Tensor] {
  const n = rows.length;
  const x = new Float32Array(n * PIXELS);
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number;
    const src = d.images.subarray(r * PIXELS, (r + 1) * PIXELS);
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = (src[p] as number) / 255;
    y[i * 10 + (d.labels[r] as number)] = 1;
  }
  return [fromStorage(x, [n, ...inputShape]), fromStorage(y, [n, 10])];
}

export interface Progress {
  examples: number;
  total: number;
  /** Training examples per second so far (the time of the steps only). */
  examplesPerSecond: number;
  cost: number;
}

/** A model being trained: epochs over the first `trainSize` training digits, shuffled by `seed`. */
export class DigitTrainer {
  readonly model: Module;
  private readonly optimizer: Optimizer;
  private readonly random: Random;

  constructor(
    readonly spec: DigitModel,
    private readonly digits: Digits,
    readonly trainSize: number = TRAIN.end,
    seed = 2,
  ) {
    if (!(Number.isInteger(trainSize) && trainSize >= spec.batchSize && trainSize <= TRAIN.end)) {
      throw new Error(`the training subset must hold ${spec.batchSize} to ${TRAIN.end} digits, got ${trainSize}`);
    }
    this.random = new Random(seed);
    this.model = spec.build(this.random);
    this.optimizer = spec.optimizer(this.model);
  }

  /**
   * One epoch in bursts: `onProgress` is called each time another `every` examples are done, and
   * after the last batch; it may await (the worker yields there so its messages get through).
   */
  async epoch(onProgress: (p: Progress) => void | Promise<void>, every = 1000): Promise<Progress> {
    const order = this.random.permutation(this.trainSize);
    const b = this.spec.batchSize;
    let seconds = 0;
    let cost = 0;
    let examples = 0;
    const report = (): Progress => ({
      examples,
      total: this.trainSize,
      examplesPerSecond: seconds > 0 ? examples / seconds : 0,
      cost,
    });
    // the last batch may be smaller (1000 digits in batches of 16: 62 of 16 and one of 8)
    for (let start = 0; start < this.trainSize; start += b) {
      const rows = order.subarray(start, Math.min(start + b, this.trainSize));
      const t0 = performance.now();
      const [x, y] = batch(this.digits, rows, this.spec.inputShape);
      this.optimizer.zeroGrad();
      const c = this.spec.cost(this.model.forward(x), y);
      c.backward();
      this.optimizer.step();
      seconds += (performance.now() - t0) / 1000;
      cost = c.item();
      examples += rows.length;
      // whenever a multiple of `every` is passed, and at the end
      const crossed = Math.floor(examples / every) > Math.floor((examples - rows.length) / every);
      if (crossed || examples === this.trainSize) await onProgress(report());
    }
    return report();
  }

  /** Share of the held-out digits whose largest output is the right label. */
  accuracy(rows: { start: number; end: number } = TEST): number {
    let right = 0;
    noGrad(() => {
      for (let start = rows.start; start < rows.end; start += 500) {
        const ids = Array.from({ length: Math.min(500, rows.end - start) }, (_, i) => start + i);
        const out = this.model.forward(batch(this.digits, ids, this.spec.inputShape)[0]);
        for (let i = 0; i < ids.length; i++) {
          let best = 0;
          for (let k = 1; k < 10; k++)
            if ((out.data[i * 10 + k] as number) > (out.data[i * 10 + best] as number)) best = k;
          if (best === this.digits.labels[ids[i] as number]) right++;
        }
      }
    });
    return right / (rows.end - rows.start);
  }

  /** The ten outputs and probabilities for one 28×28 image of values in [0, 1]. */
  predict(image: Float32Array): Prediction {
    return predict(this.spec, this.model, image);
  }
}

export interface Prediction {
  outputs: number[];
  probabilities: number[];
}

/** What `model` (of kind `spec`) answers for one 28×28 image of values in [0, 1]. */
export function predict(spec: DigitModel, model: Module, image: Float32Array): Prediction {
  if (image.length !== PIXELS) throw new Error(`an image has ${PIXELS} pixels, got ${image.length}`);
  return noGrad(() => {
    const out = model.forward(fromStorage(Float32Array.from(image), [1, ...spec.inputShape]));
    const outputs = Float32Array.from(out.data);
    return { outputs: Array.from(outputs), probabilities: spec.probabilities(outputs) };
  });
}
