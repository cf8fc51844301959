/**
 * @file The convolutional network of the demo: a LeNet-style CNN — two blocks of 5×5 convolution,
 * ReLU and 2×2 max pooling, then two fully connected layers — trained with Adam on the
 * cross-entropy of its logits, on the same 8,000 MNIST digits as the textbook network (`pnpm
 * demo`), tested on the same 2,000 held out. The same progress bar, gradient health, charts,
 * confusion matrix and wrong digits as the demo. The initial weights come from the seed, the
 * batch order from a permutation per epoch from seed·1000 + epoch (as the demo's). Imports the
 * public APIs of @chainrule/autograd and @chainrule/nn and @chainrule/datasets, and ui/.
 *
 *   [N, 1, 28, 28] → conv 5×5 → [N, 6, 24, 24] → relu, maxpool 2 → [N, 6, 12, 12]
 *                  → conv 5×5 → [N, 16, 8, 8]  → relu, maxpool 2 → [N, 16, 4, 4]
 *                  → flatten → [N, 256] → linear → [N, 120] → relu → linear → [N, 10] logits
 */

import { type FloatDtype, fromStorage, noGrad, Random, type Tensor } from "@chainrule/autograd";
import { loadMnist, pixels } from "@chainrule/datasets";
import {
  Adam,
  Conv2d,
  CosineAnnealingLR,
  crossEntropy,
  Flatten,
  Linear,
  loadModel,
  loadSafetensors,
  MaxPool2d,
  type Module,
  ReLU,
  Sequential,
  saveModel,
} from "@chainrule/nn";
import { confusionMatrix } from "./ui/confusion.js";
import { createProgress, type ProgressStream, silentProgress } from "./ui/progress.js";
import { printTrainingReport } from "./ui/training-report.js";

export interface CnnOptions {
  epochs: number;
  batchSize: number;
  /** Adam's learning rate. */
  lr: number;
  /** Channels of the two convolutions. */
  channels: readonly [number, number];
  /** Units of the hidden fully connected layer. */
  hidden: number;
  seed: number;
  dtype: FloatDtype;
  /** Move each training image by up to this many pixels along each axis, at random (0: never). */
  shift: number;
  /** Train on the first this many digits of each epoch's shuffled order (at most 8,000). */
  trainRows: number;
  /** Test on the first this many held-out digits (at most 2,000). */
  testRows: number;
  /** Where the loss/accuracy chart goes as SVG (null: no file). */
  chart: string | null;
  /** Only the final result. */
  quiet: boolean;
  /** Write the trained model here (safetensors). */
  save?: string;
  /** Evaluate the model in this file instead of training. */
  load?: string;
}

export const CNN_DEFAULTS: CnnOptions = {
  epochs: 15,
  batchSize: 64,
  lr: 0.002,
  channels: [6, 16],
  hidden: 120,
  shift: 2,
  seed: 2,
  dtype: "float32",
  trainRows: 8000,
  testRows: 2000,
  chart: "mnist-cnn.svg",
  quiet: false,
};

/** The LeNet-style network, its weights drawn from `random` layer by layer (PyTorch's default initialisation). */
export function lenet(
  random: Random,
  channels: readonly [number, number] = [6, 16],
  hidden = 120,
  dtype: FloatDtype = "float32",
): Sequential {
  const [c1, c2] = channels;
  return new Sequential(
    new Conv2d(1, c1, 5, { random, dtype }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(c1, c2, 5, { random, dtype }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(c2 * 4 * 4, hidden, { random, dtype }),
    new ReLU(),
    new Linear(hidden, 10, { random, dtype }),
  );
}

/** How one layer with weights is doing: its mean ‖∂L/∂W‖ over the epoch, and the share of its ReLU outputs that are 0. */
export interface CnnLayerHealth {
  name: string;
  /** e.g. `1→6 5×5` or `256→120`. */
  shape: string;
  gradNorm: number;
  /** Share of the ReLU after the layer that outputs 0 on the probe batch (null: no ReLU follows). */
  inactive: number | null;
}

/**
 * The gradient health of every layer with weights: the mean Frobenius norm of ∂L/∂W over the
 * steps recorded, and, for the layers a ReLU follows, the share of units at 0 on a probe batch —
 * where relu'(z) = 0, so no gradient passes: ReLU's counterpart of a saturated sigmoid.
 */
export class CnnMonitor {
  private readonly layers: [string, Module][];
  private readonly sums: number[];
  private count = 0;

  constructor(private readonly net: Sequential) {
    this.layers = net.layers.flatMap((m, i) => ("weight" in m ? [[`layers.${i}`, m] as [string, Module]] : []));
    this.sums = this.layers.map(() => 0);
  }

  /** After backward(), before the optimizer step. */
  record(): void {
    this.layers.forEach(([, m], k) => {
      const g = (m as unknown as { weight: Tensor }).weight.grad;
      if (g === null) return;
      let s = 0;
      for (let i = 0; i < g.size; i++) s += (g.data[i] as number) ** 2;
      this.sums[k] = (this.sums[k] as number) + Math.sqrt(s);
    });
    this.count++;
  }

  /** The health since the last report, with inactive shares measured on `probe`; starts a new period. */
  report(probe: Tensor): CnnLayerHealth[] {
    const inactive = new Map<Module, number>();
    noGrad(() => {
      let a = probe;
      let previous: Module | null = null;
      for (const m of this.net.layers) {
        a = m.forward(a);
        if (m instanceof ReLU && previous !== null) {
          let zeros = 0;
          for (let i = 0; i < a.size; i++) if (a.data[i] === 0) zeros++;
          inactive.set(previous, a.size === 0 ? 0 : zeros / a.size);
        }
        if ("weight" in m) previous = m;
      }
    });
    const health = this.layers.map(([name, m], k) => ({
      name,
      shape:
        m instanceof Conv2d
          ? `${m.inChannels}→${m.outChannels} ${m.kernelSize.join("×")}`
          : `${(m as Linear).inFeatures}→${(m as Linear).outFeatures}`,
      gradNorm: this.count === 0 ? 0 : (this.sums[k] as number) / this.count,
      inactive: inactive.get(m) ?? null,
    }));
    this.sums.fill(0);
    this.count = 0;
    return health;
  }
}

/** One line per layer: `layers.0 1→6 5×5   mean ‖∂L/∂W‖ 1.23e-1  inactive (relu = 0)  45.1%`. */
export function formatCnnHealth(health: readonly CnnLayerHealth[]): string {
  return health
    .map((h) => {
      const dead = h.inactive === null ? "" : `  inactive (relu = 0) ${(100 * h.inactive).toFixed(1).padStart(5)}%`;
      return `${h.name.padEnd(9)} ${h.shape.padEnd(10)}  mean ‖∂L/∂W‖ ${h.gradNorm.toExponential(2)}${dead}`;
    })
    .join("\n");
}

export interface CnnEpoch {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  examplesPerSecond: number;
  health: CnnLayerHealth[];
}

export interface CnnResult {
  epochs: CnnEpoch[];
  testAccuracy: number;
  confusion: number[][];
  /** Training time alone (every epoch, with its evaluation), and the whole run. */
  trainSeconds: number;
  seconds: number;
  /** The mean training loss of the first and the last tenth of the steps. */
  firstLoss: number;
  lastLoss: number;
}

export interface CnnIO {
  print: (line: string) => void;
  stream: ProgressStream;
}

/** MNIST's pixel mean and standard deviation (over its 60,000 training images): inputs are standardised with them. */
export const PIXEL_MEAN = 0.1307;
export const PIXEL_STD = 0.3081;

/**
 * Images of the given rows as [n, 1, 28, 28], standardised ((x − mean)/std, so the first layer
 * sees inputs of mean ≈ 0 and variance ≈ 1). With `shift`, each image is first moved by up to
 * `shift` pixels along each axis (drawn from `random`, the uncovered border left blank): the
 * network then sees a slightly different digit every epoch, which is what a small training set
 * needs most.
 */
export function images(
  all: Uint8Array,
  rows: ArrayLike<number>,
  dtype: FloatDtype,
  shift = 0,
  random: Random | null = null,
): Tensor {
  const raw = pixels(all, rows, dtype);
  const out = dtype === "float32" ? new Float32Array(raw.length) : new Float64Array(raw.length);
  const n = rows.length;
  const background = -PIXEL_MEAN / PIXEL_STD;
  for (let e = 0; e < n; e++) {
    const dy = shift > 0 && random !== null ? Math.floor(random.next() * (2 * shift + 1)) - shift : 0;
    const dx = shift > 0 && random !== null ? Math.floor(random.next() * (2 * shift + 1)) - shift : 0;
    const base = e * 784;
    for (let y = 0; y < 28; y++) {
      const sy = y - dy;
      for (let x = 0; x < 28; x++) {
        const sx = x - dx;
        const inside = sy >= 0 && sy < 28 && sx >= 0 && sx < 28;
        out[base + y * 28 + x] = inside ? ((raw[base + sy * 28 + sx] as number) - PIXEL_MEAN) / PIXEL_STD : background;
      }
    }
  }
  return fromStorage(out, [n, 1, 28, 28]);
}

/** Loss and predictions on held-out rows, in chunks (a chunk's packed convolution input stays small). */
function evaluate(net: Sequential, all: Uint8Array, labels: Uint8Array, rows: Int32Array, dtype: FloatDtype) {
  return noGrad(() => {
    const predicted = new Float64Array(rows.length);
    let lossSum = 0;
    const chunk = 500;
    for (let s = 0; s < rows.length; s += chunk) {
      const part = rows.subarray(s, s + chunk);
      const logits = net.forward(images(all, part, dtype));
      lossSum += crossEntropy(
        logits,
        Array.from(part, (r) => labels[r] as number),
        { reduction: "sum" },
      ).item();
      predicted.set(logits.argmax(1).data, s);
    }
    let correct = 0;
    predicted.forEach((p, i) => {
      if (p === labels[rows[i] as number]) correct++;
    });
    return { loss: lossSum / rows.length, accuracy: correct / rows.length, predicted };
  });
}

/** Train the CNN and print everything the demo prints; returns the figures. */
export async function runCnn(options: CnnOptions, io: CnnIO): Promise<CnnResult> {
  const start = performance.now();
  const { print } = io;
  const m = loadMnist();
  const trainRows = Math.min(options.trainRows, m.train.end - m.train.start);
  const testRows = Int32Array.from(
    { length: Math.min(options.testRows, m.test.end - m.test.start) },
    (_, i) => m.test.start + i,
  );
  let net = lenet(new Random(options.seed), options.channels, options.hidden, options.dtype);
  if (options.load !== undefined) {
    // The file says which sizes it holds; build that network, then load it (checked).
    const { metadata } = await loadSafetensors(options.load);
    const channels = (metadata.channels ?? "").split(",").map(Number);
    const sizes: [number, number] =
      channels.length === 2 ? [channels[0] as number, channels[1] as number] : [...options.channels];
    const dtype = metadata.dtype === "float64" ? "float64" : "float32";
    net = lenet(new Random(0), sizes, Number(metadata.hidden ?? options.hidden), dtype);
    await loadModel(options.load, net);
  }
  const dtype: FloatDtype = net.parameters()[0]?.dtype === "float64" ? "float64" : "float32";
  const epochCount = options.load === undefined ? options.epochs : 0;
  const optimizer = new Adam(net.parameters(), { lr: options.lr });
  const schedule = new CosineAnnealingLR(optimizer, { tMax: Math.max(1, epochCount) }); // η falls to 0 over the run
  const monitor = new CnnMonitor(net);
  const probe = images(m.images, testRows.subarray(0, 500), dtype);
  const augment = new Random(1000 * options.seed + 999); // the shifts, one stream for the whole run
  if (!options.quiet && options.load !== undefined) {
    print(`Evaluating ${options.load}: a LeNet-style CNN`);
    for (const line of net.toString().split("\n")) print(`  ${line}`);
  } else if (!options.quiet) {
    print(`chainrule demo: a LeNet-style CNN on ${trainRows + testRows.length} real MNIST digits`);
    print(
      `  ${trainRows} to train on, ${testRows.length} held out · conv 5×5 ×${options.channels[0]}, relu, maxpool · conv 5×5 ×${options.channels[1]}, relu, maxpool · ${16 * options.channels[1]}–${options.hidden}–10 · cross-entropy · Adam, batch ${options.batchSize}, lr ${options.lr} cosine-annealed to 0 · shifts ≤ ${options.shift} px · ${options.dtype} · seed ${options.seed}`,
    );
    for (const line of net.toString().split("\n")) print(`  ${line}`);
  }
  const epochs: CnnEpoch[] = [];
  const stepLosses: number[] = [];
  let last: ReturnType<typeof evaluate> | null = null;
  const trainStart = performance.now();
  const steps = Math.ceil(trainRows / options.batchSize);
  for (let e = 0; e < epochCount; e++) {
    const order = new Random(1000 * options.seed + e).permutation(m.train.end - m.train.start).subarray(0, trainRows);
    const progress = options.quiet
      ? silentProgress()
      : createProgress({ total: trainRows, label: `epoch ${e + 1}/${options.epochs}`, stream: io.stream });
    let lossSum = 0;
    for (let k = 0; k < steps; k++) {
      const rows = order.subarray(k * options.batchSize, (k + 1) * options.batchSize);
      const x = images(m.images, rows, dtype, options.shift, augment);
      const loss = crossEntropy(
        net.forward(x),
        Array.from(rows, (r) => m.labels[r] as number),
      );
      optimizer.zeroGrad();
      loss.backward();
      monitor.record();
      optimizer.step();
      const value = loss.item();
      lossSum += value;
      stepLosses.push(value);
      if (k % 10 === 9 || k === steps - 1)
        progress.update(Math.min((k + 1) * options.batchSize, trainRows), lossSum / (k + 1));
    }
    schedule.step();
    const test = evaluate(net, m.images, m.labels, testRows, dtype);
    last = test;
    const stats = progress.stop(
      `test accuracy ${(100 * test.accuracy).toFixed(2)}% · test loss ${test.loss.toFixed(4)}`,
    );
    const health = monitor.report(probe);
    epochs.push({
      epoch: e + 1,
      trainLoss: lossSum / steps,
      testLoss: test.loss,
      testAccuracy: test.accuracy,
      seconds: stats.seconds,
      examplesPerSecond: stats.examplesPerSecond,
      health,
    });
    if (!options.quiet) for (const line of formatCnnHealth(health).split("\n")) print(`    ${line}`);
  }
  const trainSeconds = (performance.now() - trainStart) / 1000;
  const test = last ?? evaluate(net, m.images, m.labels, testRows, dtype); // the last epoch's, or a loaded model's
  if (options.save !== undefined) {
    const [c1, c2] = options.channels;
    await saveModel(options.save, net, {
      metadata: {
        channels: `${c1},${c2}`,
        hidden: String(options.hidden),
        dtype,
        epochs: String(options.epochs),
        seed: String(options.seed),
      },
    });
  }
  const actual = Array.from(testRows, (r) => m.labels[r] as number);
  const confusion = confusionMatrix(test.predicted, actual, 10);
  const tenth = Math.max(1, Math.floor(stepLosses.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const firstLoss = mean(stepLosses.slice(0, tenth));
  const lastLoss = mean(stepLosses.slice(-tenth));

  if (options.quiet) {
    print(
      `test accuracy ${(100 * test.accuracy).toFixed(2)}% (${testRows.length} held-out digits), test loss ${test.loss.toFixed(4)}${epochs.length > 0 ? `, trained in ${trainSeconds.toFixed(1)} s` : ""}`,
    );
  } else {
    printTrainingReport(
      {
        epochs,
        lossName: "cross-entropy",
        chartTitle: "LeNet-style CNN on MNIST",
        chart: options.chart,
        confusion,
        predicted: test.predicted,
        actual,
        rows: testRows,
        images: m.images,
      },
      print,
    );
  }
  const seconds = (performance.now() - start) / 1000;
  if (!options.quiet) {
    if (options.save !== undefined) print(`\nmodel saved to ${options.save}`);
    print(
      `\ndone in ${seconds.toFixed(1)} s (training ${trainSeconds.toFixed(1)} s): test accuracy ${(100 * test.accuracy).toFixed(2)}% on ${testRows.length} held-out digits`,
    );
  }
  return { epochs, testAccuracy: test.accuracy, confusion, trainSeconds, seconds, firstLoss, lastLoss };
}
