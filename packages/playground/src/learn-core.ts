/**
 * @file Training a small MLP on a 2-D data set, and what the "watch a network learn" view shows
 * of it: the loss, the decision boundary on a grid, and each layer's gradient health. No DOM:
 * the Web Worker (learn-worker.ts) runs it, and so can a test in Node. Imports the public APIs of
 * @chainrule/autograd and @chainrule/nn.
 */

import { ChainruleError, noGrad, Random, type Tensor, tensor } from "@chainrule/autograd";
import {
  type ActivationName,
  Adam,
  binaryCrossEntropyWithLogits,
  GradientMonitor,
  MLP,
  type Optimizer,
  SGD,
} from "@chainrule/nn";
import { DATASETS, type DatasetName, makeDataset } from "./datasets.js";

export const HIDDEN_ACTIVATIONS = ["sigmoid", "tanh", "relu"] as const;
export const OPTIMIZERS = ["sgd", "adam"] as const;

export interface LearnConfig {
  dataset: DatasetName;
  /** Units of each hidden layer, e.g. [8, 8]; [] for logistic regression. */
  hidden: number[];
  activation: (typeof HIDDEN_ACTIVATIONS)[number];
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number;
  /** Gaussian noise added to the points. */
  noise: number;
  seed: number;
}

/** What the page draws after each burst of steps. */
export interface Snapshot {
  step: number;
  loss: number;
  /** P(label 1) on a GRID×GRID lattice over [−1, 1]², row by row from the top (x₂ = 1). */
  grid: Float32Array;
  /** Per layer: mean |∂C/∂W| over the steps since the last snapshot, and the share of saturated sigmoid units. */
  health: { name: string; meanAbsGrad: number; saturated: number | null }[];
}

export const GRID = 40;

/**
 * Check a configuration typed into the page; returns the first problem in words, or null.
 * The page shows the message instead of starting a run that would stall or throw.
 */
export function configProblem(c: LearnConfig): string | null {
  if (!DATASETS.includes(c.dataset)) return `unknown data set "${c.dataset}"`;
  if (!(Number.isFinite(c.lr) && c.lr > 0)) return `the learning rate must be a number above 0, got ${c.lr}`;
  if (c.lr > 100) return `a learning rate of ${c.lr} would make the weights blow up: choose one ≤ 100`;
  if (c.hidden.length > 8) return `at most 8 hidden layers, got ${c.hidden.length}`;
  for (const [i, units] of c.hidden.entries()) {
    if (!(Number.isInteger(units) && units >= 1 && units <= 64)) {
      return `hidden layer ${i + 1} must have a whole number of units from 1 to 64, got ${units}`;
    }
  }
  if (!(Number.isFinite(c.noise) && c.noise >= 0 && c.noise <= 0.5))
    return `noise must be from 0 to 0.5, got ${c.noise}`;
  return null;
}

/** A model, its optimizer and its data: `steps(k)` trains k full-batch steps and reports. */
export class Learner {
  readonly model: MLP;
  private readonly optimizer: Optimizer;
  private readonly monitor: GradientMonitor;
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly gridX: Tensor;
  private step = 0;
  private loss = Number.NaN;
  private readonly absSums: number[];
  private absCount = 0;

  constructor(readonly config: LearnConfig) {
    const problem = configProblem(config);
    if (problem !== null) throw new ChainruleError("Learner", problem);
    const data = makeDataset(config.dataset, 200, config.noise, config.seed);
    this.x = tensor(data.x).reshape([-1, 2]);
    this.y = tensor(data.y).reshape([-1, 1]);
    // the output is a logit: the loss is cross-entropy on σ(z), computed stably from z
    this.model = new MLP([2, ...config.hidden, 1], {
      activation: config.activation as ActivationName,
      outputActivation: "identity",
      random: new Random(config.seed),
    });
    const params = this.model.parameters();
    this.optimizer =
      config.optimizer === "adam" ? new Adam(params, { lr: config.lr }) : new SGD(params, { lr: config.lr });
    this.monitor = new GradientMonitor(this.model);
    this.absSums = this.model.layers.map(() => 0);
    const lattice = new Float64Array(GRID * GRID * 2);
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        lattice[2 * (row * GRID + col)] = -1 + (2 * (col + 0.5)) / GRID;
        lattice[2 * (row * GRID + col) + 1] = 1 - (2 * (row + 0.5)) / GRID;
      }
    }
    this.gridX = tensor(lattice).reshape([-1, 2]);
  }

  /** Train `k` full-batch steps, then report the state. */
  steps(k: number): Snapshot {
    this.train(k);
    return this.snapshot();
  }

  /** Train `k` full-batch steps; returns the loss of the last. */
  train(k: number): number {
    for (let i = 0; i < k; i++) {
      this.optimizer.zeroGrad();
      const loss = binaryCrossEntropyWithLogits(this.model.forward(this.x), this.y);
      loss.backward();
      this.model.layers.forEach((layer, l) => {
        const g = layer.weight.grad as Tensor;
        let s = 0;
        for (let j = 0; j < g.size; j++) s += Math.abs(g.data[j] as number);
        this.absSums[l] = (this.absSums[l] as number) + s / g.size;
      });
      this.absCount++;
      this.optimizer.step();
      this.loss = loss.item();
      this.step++;
    }
    return this.loss;
  }

  /** The state now: loss, decision boundary, and gradient health since the last snapshot. */
  snapshot(): Snapshot {
    const grid = new Float32Array(GRID * GRID);
    noGrad(() => {
      const p = this.model.forward(this.gridX).sigmoid();
      for (let i = 0; i < grid.length; i++) grid[i] = p.data[i] as number;
    });
    // the hidden sigmoid layers' saturation on the training points (the output layer is a logit)
    const saturation = this.monitor.report(this.x);
    const health = this.model.layers.map((_, l) => ({
      name: l === this.model.layers.length - 1 ? "output" : `hidden ${l + 1}`,
      meanAbsGrad: this.absCount === 0 ? 0 : (this.absSums[l] as number) / this.absCount,
      saturated: l === this.model.layers.length - 1 ? null : (saturation[l]?.saturated ?? null),
    }));
    this.absSums.fill(0);
    this.absCount = 0;
    return { step: this.step, loss: this.loss, grid, health };
  }
}
