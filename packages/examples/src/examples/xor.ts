/**
 * @file XOR, the smallest problem a network cannot solve without a hidden layer: no single line
 * separates {(0,1), (1,0)} from {(0,0), (1,1)}. An MLP 2–4–1 with sigmoid on both layers learns it
 * by full-batch SGD on the mean squared error (nn's `mseLoss`, PyTorch's `F.mse_loss`:
 * Σ(ŷ − y)²/4 over the four points), then prints its decision table. Imports the public APIs
 * of @chainrule/autograd and @chainrule/nn.
 */

import { Random, tensor } from "@chainrule/autograd";
import { MLP, mseLoss, SGD } from "@chainrule/nn";
import type { Example } from "./types.js";

/** The four inputs and their targets, x₁ XOR x₂. */
export const XOR_INPUTS = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
] as const;
export const XOR_TARGETS = [0, 1, 1, 0] as const;

export interface XorOptions {
  seed?: number;
  steps?: number;
  /** Learning rate of plain SGD; default 5. */
  lr?: number;
  /** Print the loss every this many steps (and at the last). */
  every?: number;
}

export interface XorResult {
  /** The loss at every step, before that step's update. */
  losses: number[];
  /** The loss of the trained network (after the last update). */
  finalLoss: number;
  /** The network's output for each of the four inputs, in table order. */
  outputs: number[];
  /** The first step whose loss was below 0.01, or −1. */
  stepBelow001: number;
}

/** Trains the 2–4–1 network on XOR; `print` receives the progress and the decision table. */
export function trainXor(print: (line: string) => void, options: XorOptions = {}): XorResult {
  const { seed = 0, steps = 1000, lr = 5, every = 100 } = options;
  const X = tensor(XOR_INPUTS.map((row) => [...row]));
  const Y = tensor(XOR_TARGETS.map((t) => [t]));
  // One seeded stream draws every initial weight, so a seed reproduces the run bit for bit.
  const model = new MLP([2, 4, 1], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(seed) });
  const opt = new SGD(model.parameters(), { lr });

  print(`XOR with an MLP 2–4–1 (sigmoid, sigmoid), mseLoss, SGD lr ${lr}, ${steps} steps, seed ${seed}`);
  const losses: number[] = [];
  let stepBelow001 = -1;
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    const loss = mseLoss(model.forward(X), Y);
    loss.backward();
    opt.step();
    const value = loss.item();
    losses.push(value);
    if (stepBelow001 < 0 && value < 0.01) stepBelow001 = step;
    if (step % every === 0 || step === steps - 1) print(`  step ${String(step).padStart(5)}  loss ${value.toFixed(6)}`);
  }

  const prediction = model.forward(X);
  const finalLoss = mseLoss(prediction, Y).item();
  const outputs = Array.from(prediction.data);
  print(`final loss ${finalLoss.toFixed(6)}; first below 0.01 at step ${stepBelow001}`);
  print("");
  print("  x₁  x₂ | target | output   | class");
  print("  -------+--------+----------+------");
  XOR_INPUTS.forEach(([x1, x2], i) => {
    const out = outputs[i]!;
    // The output is a probability-like number in (0, 1); the class is that number rounded.
    print(`   ${x1}   ${x2} |    ${XOR_TARGETS[i]}   | ${out.toFixed(6)} |   ${out >= 0.5 ? 1 : 0}`);
  });
  return { losses, finalLoss, outputs, stepBelow001 };
}

export const example: Example = {
  name: "xor",
  summary: "XOR with an MLP 2–4–1: sigmoid, mean squared error, SGD, and the decision table",
  async run({ print, quick = false, seed = 0 }) {
    // With lr 5 every seed from 0 to 11 reaches loss 0.01 by step 450, so the quick run of 600
    // steps still ends trained (a full run takes about 40 ms; quick is only shorter output).
    const result = trainXor(print, quick ? { seed, steps: 600, every: 100 } : { seed, steps: 2000, every: 200 });
    return { finalLoss: result.finalLoss, outputs: result.outputs, stepBelow001: result.stepBelow001 };
  },
};
