/**
 * @file W1 on the scalar engine: micrograd's demo MLP(2, [16, 16, 1]) on the 100 moons, built
 * from `Value`s with micrograd's exact op order, trained by full-batch SGD with the max-margin
 * loss. The op order is what makes the step-0 loss bit-identical to micrograd's. Imports the
 * public API of @chainrule/autograd, the examples' moons loader, case.ts, stats.ts, result.ts.
 */

import { Random, topoSort, Value } from "@chainrule/autograd";
import { loadMoons } from "@chainrule/examples/data/moons";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput, Check } from "../result.js";
import { seconds, summarize } from "../stats.js";

/** micrograd's loss at step 0 (float64; bit-exact with this op order). */
export const W1_STEP0_LOSS = 1.334372004083486;
/** micrograd's losses at steps 1…4, to 14 significant digits (its set-ordered backward varies in the last bits). */
export const W1_LOSSES_1_TO_4 = [0.49185856446594, 0.40212197419278, 0.41705860722796, 0.73206000097134];
/** Distinct Values in micrograd's graph of one step. */
export const MICROGRAD_NODES = 65_818;

interface Neuron {
  w: Value[];
  b: Value;
  relu: boolean;
}

/** Layers of neurons; weights w = 2u − 1 layer by layer, neuron by neuron, input by input; biases 0. */
function buildModel(sizes: readonly number[], random: Random): Neuron[][] {
  const layers: Neuron[][] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const relu = l + 2 < sizes.length; // micrograd: nonlin on every layer but the last
    const layer: Neuron[] = [];
    for (let j = 0; j < sizes[l + 1]!; j++) {
      const w = Array.from({ length: sizes[l]! }, () => new Value(2 * random.next() - 1));
      layer.push({ w, b: new Value(0), relu });
    }
    layers.push(layer);
  }
  return layers;
}

/** In micrograd's parameter order: layer, neuron, weights then bias. */
function parametersOf(layers: Neuron[][]): Value[] {
  return layers.flatMap((layer) => layer.flatMap((n) => [...n.w, n.b]));
}

function forward(layers: Neuron[][], x: Value[]): Value {
  let a = x;
  for (const layer of layers) {
    a = layer.map((n) => {
      // act = b + w0·x0 + w1·x1 + …, summed left to right from b, as micrograd's sum(…, self.b)
      let act = n.b;
      for (let k = 0; k < n.w.length; k++) act = act.add(n.w[k]!.mul(a[k]!));
      return n.relu ? act.relu() : act;
    });
  }
  return a[0]!;
}

/** The demo's SVM max-margin loss plus L2, in micrograd's op order; also the accuracy. */
function lossOf(layers: Neuron[][], params: Value[], X: number[][], y: number[]): { total: Value; accuracy: number } {
  // Python's sum() starts from the integer 0, which micrograd wraps as a constant Value.
  let dataSum = new Value(0);
  let correct = 0;
  for (let i = 0; i < X.length; i++) {
    const inputs = X[i]!.map((v) => new Value(v));
    const score = forward(layers, inputs);
    // relu(1 + (−yᵢ)·scoreᵢ); IEEE + and × commute, so only the grouping has to match micrograd's.
    dataSum = dataSum.add(score.mul(-y[i]!).add(1).relu());
    if (y[i]! > 0 === score.data > 0) correct++;
  }
  const dataLoss = dataSum.mul(1.0 / X.length); // a multiplication by 0.01, not a division
  let regSum = new Value(0);
  for (const p of params) regSum = regSum.add(p.mul(p));
  const total = dataLoss.add(regSum.mul(1e-4));
  return { total, accuracy: correct / X.length };
}

/** chainrule's float64 loss before any update on the given points (micrograd's step-0 loss on all 100). */
export function w1InitialLoss(X: number[][], y: number[]): number {
  const layers = buildModel([2, 16, 16, 1], new Random(11));
  return lossOf(layers, parametersOf(layers), X, y).total.data;
}

/**
 * One timed training step. Its graph lives only inside this function: a loop variable holding
 * the previous step's loss would keep that whole graph (65,616 nodes) alive through the next
 * forward pass, and the garbage collector would copy it again at every young-generation sweep.
 */
function trainStep(layers: Neuron[][], params: Value[], X: number[][], y: number[], k: number) {
  const t0 = seconds();
  const { total, accuracy } = lossOf(layers, params, X, y);
  const t1 = seconds();
  for (const p of params) p.grad = 0;
  total.backward();
  const t2 = seconds();
  const lr = 1.0 - (0.9 * k) / 100;
  for (const p of params) p.data -= lr * p.grad;
  const t3 = seconds();
  return { step: t3 - t0, forward: t1 - t0, backward: t2 - t1, loss: total.data, accuracy };
}

async function run(options: RunOptions): Promise<CaseOutput> {
  const { X, y } = loadMoons();
  const layers = buildModel([2, 16, 16, 1], new Random(11));
  const params = parametersOf(layers);
  const steps = sampleCount(options, 30, 3);

  const step: number[] = [];
  const forwardS: number[] = [];
  const backwardS: number[] = [];
  const losses: number[] = [];
  let accuracy = 0;
  for (let k = 0; k < steps; k++) {
    const r = trainStep(layers, params, X, y, k);
    step.push(r.step);
    forwardS.push(r.forward);
    backwardS.push(r.backward);
    losses.push(r.loss);
    accuracy = r.accuracy;
  }
  // Count this engine's nodes on one more graph, outside the timed steps. An engine that folds
  // constants into their ops has fewer nodes than micrograd; the workload asks for both rates.
  const nodes = topoSort(lossOf(layers, params, X, y).total).length;
  const median = summarize(step).median;

  const checks: Check[] = [
    {
      name: "loss at step 0",
      measured: losses[0]!,
      expected: String(W1_STEP0_LOSS),
      ok: losses[0] === W1_STEP0_LOSS,
    },
  ];
  const compared = Math.min(4, losses.length - 1);
  if (compared > 0) {
    const worst = Math.max(
      ...W1_LOSSES_1_TO_4.slice(0, compared).map((ref, i) => Math.abs(losses[i + 1]! - ref) / ref),
    );
    checks.push({
      name: `losses at steps 1–${compared} vs micrograd (worst relative error)`,
      measured: worst,
      expected: "≤ 1e-9",
      ok: worst <= 1e-9,
    });
  }
  return {
    metrics: [
      { key: "step", unit: "s", per: "step", samples: step },
      { key: "forward", unit: "s", per: "forward", samples: forwardS },
      { key: "backward", unit: "s", per: "zero_grad + backward", samples: backwardS },
    ],
    checks,
    details: {
      steps,
      lossFirst: losses[0],
      lossLast: losses[losses.length - 1],
      accuracyAtLastStep: accuracy,
      nodes,
      nodesPerSecond: Math.round(nodes / median),
      microgradEquivalentNodesPerSecond: Math.round(MICROGRAD_NODES / median),
    },
    notes: [],
  };
}

export const w1: CaseSpec[] = [
  { id: "W1/chainrule/float64", workload: "W1", engine: "chainrule", variant: "Value", dtype: "float64", run },
];
