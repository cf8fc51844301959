/**
 * @file Two moons, the micrograd demo, twice: first with the scalar engine (nn's `ScalarMLP`
 * 2–16–16–1 over `Value`s, one graph node per multiplication), then the same network as Tensors
 * (nn's `MLP`, one node per layer operation), from the same initial weights. Both follow workload
 * W1 of the benchmarks: the SVM max-margin loss relu(1 − yᵢ·scoreᵢ) averaged over the 100 points,
 * plus 1e-4·Σp², and SGD with lr 1.0 − 0.9·k/100 at step k. The two runs compute the same
 * numbers, so their losses agree to rounding; what differs is the time per step. The decision
 * boundary is drawn as characters in the terminal and, with `out`, as an SVG. Imports the public
 * APIs of @chainrule/autograd and @chainrule/nn, data/moons.ts and ui/chart.ts.
 */

import { writeFileSync } from "node:fs";
import { noGrad, Random, type Tensor, tensor, topoSort, Value } from "@chainrule/autograd";
import { MLP, ScalarMLP, SGD, symmetricUniform_, zeros_ } from "@chainrule/nn";
import { loadMoons, type Moons } from "../data/moons.js";
import { escapeXml } from "../ui/chart.js";
import type { Example } from "./types.js";

/** Size of the terminal picture of the decision boundary, in characters. */
export const ASCII_COLS = 64;
export const ASCII_ROWS = 24;

/** The L2 penalty of W1 (and of the micrograd demo). */
const ALPHA = 1e-4;

/** W1's learning-rate schedule: 1.0 at step 0, falling by 0.009 per step. */
const learningRate = (k: number) => 1.0 - (0.9 * k) / 100;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The fraction of points whose score has the sign of their label. */
function accuracyOf(scores: ArrayLike<number>, y: readonly number[]): number {
  let correct = 0;
  y.forEach((label, i) => {
    if (scores[i]! > 0 === label > 0) correct++;
  });
  return correct / y.length;
}

export interface RunRecord {
  /** Total loss at each step, before that step's update. */
  losses: number[];
  /** Training accuracy at each step, before that step's update. */
  accuracies: number[];
  /** Wall-clock milliseconds of each step: forward, zero grads, backward, update. */
  stepMs: number[];
}

/**
 * W1's loss on the scalar engine, exactly in the workload's op order: every input a leaf Value,
 * the data loss summed from 0 and multiplied by 1/n, the penalty summed from 0 over the parameters.
 */
export function scalarLoss(
  model: ScalarMLP,
  data: Moons,
  params: Value[] = model.parameters(),
): { total: Value; scores: number[] } {
  const scores: number[] = [];
  let dataLoss = new Value(0);
  data.X.forEach((xi, i) => {
    const score = model.forward(xi.map((v) => new Value(v)))[0]!;
    scores.push(score.data);
    dataLoss = dataLoss.add(score.mul(-data.y[i]!).add(1).relu()); // relu(1 + (−yᵢ)·scoreᵢ)
  });
  let reg = new Value(0);
  for (const p of params) reg = reg.add(p.mul(p));
  return { total: dataLoss.mul(1.0 / data.X.length).add(reg.mul(ALPHA)), scores };
}

/** The points as tensors: X [n, 2] and −y [n, 1]. */
function tensorData(data: Moons): { X: Tensor; minusY: Tensor } {
  return { X: tensor(data.X), minusY: tensor(data.y.map((v) => [-v])) };
}

/** The same loss with Tensors: scores [n, 1] from one forward pass of the whole batch. */
export function tensorLoss(
  model: MLP,
  data: Moons,
  { X, minusY } = tensorData(data),
): { total: Tensor; scores: Tensor } {
  const scores = model.forward(X);
  const dataLoss = scores
    .mul(minusY)
    .add(1)
    .relu()
    .sum()
    .mul(1.0 / data.X.length);
  let reg: Tensor = tensor(0);
  for (const p of model.parameters()) reg = reg.add(p.mul(p).sum());
  return { total: dataLoss.add(reg.mul(ALPHA)), scores };
}

type OnStep = (k: number, record: RunRecord) => void;

/** W1 on the scalar engine: forward (building the graph), zero grads, backward, update by hand. */
export function trainScalar(model: ScalarMLP, data: Moons, steps: number, onStep?: OnStep): RunRecord {
  const record: RunRecord = { losses: [], accuracies: [], stepMs: [] };
  const params = model.parameters();
  for (let k = 0; k < steps; k++) {
    const start = performance.now();
    const { total, scores } = scalarLoss(model, data, params);
    for (const p of params) p.grad = 0;
    total.backward();
    const lr = learningRate(k);
    for (const p of params) p.data -= lr * p.grad;
    record.stepMs.push(performance.now() - start);
    record.losses.push(total.data);
    record.accuracies.push(accuracyOf(scores, data.y));
    onStep?.(k, record);
  }
  return record;
}

/** W1 on the tensor engine, with nn's SGD (whose update is the same p ← p − lr·∂L/∂p). */
export function trainTensor(model: MLP, data: Moons, steps: number, onStep?: OnStep): RunRecord {
  const record: RunRecord = { losses: [], accuracies: [], stepMs: [] };
  const opt = new SGD(model.parameters(), { lr: learningRate(0) });
  const points = tensorData(data);
  for (let k = 0; k < steps; k++) {
    const start = performance.now();
    const { total, scores } = tensorLoss(model, data, points);
    opt.zeroGrad();
    total.backward();
    opt.lr = learningRate(k);
    opt.step();
    record.stepMs.push(performance.now() - start);
    record.losses.push(total.item());
    record.accuracies.push(accuracyOf(scores.data, data.y));
    onStep?.(k, record);
  }
  return record;
}

/** micrograd's initialisation for a tensor layer: every weight 2u − 1, row-major; biases 0. */
function microgradInit(weight: Tensor, bias: Tensor | null, random: Random): void {
  symmetricUniform_(weight, random, 1);
  if (bias !== null) zeros_(bias);
}

/** A rectangle of the plane: the data's extent with a margin. */
export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function boxAround(data: Moons, margin: number): Box {
  const xs = data.X.map((p) => p[0]!);
  const ys = data.X.map((p) => p[1]!);
  return {
    x0: Math.min(...xs) - margin,
    x1: Math.max(...xs) + margin,
    y0: Math.min(...ys) - margin,
    y1: Math.max(...ys) + margin,
  };
}

/** The centre of every cell of a cols × rows grid over the box, row by row from the top. */
function gridCentres(box: Box, cols: number, rows: number): number[][] {
  const points: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const y = box.y1 - ((r + 0.5) * (box.y1 - box.y0)) / rows;
    for (let c = 0; c < cols; c++) points.push([box.x0 + ((c + 0.5) * (box.x1 - box.x0)) / cols, y]);
  }
  return points;
}

/** The cell [row, col] a point falls in. */
function cellOf(point: number[], box: Box, cols: number, rows: number): [number, number] {
  const c = Math.floor(((point[0]! - box.x0) / (box.x1 - box.x0)) * cols);
  const r = Math.floor(((box.y1 - point[1]!) / (box.y1 - box.y0)) * rows);
  return [Math.min(Math.max(r, 0), rows - 1), Math.min(Math.max(c, 0), cols - 1)];
}

/**
 * The plane as characters: `-` where the score is negative (class −1), `+` where it is not, with
 * the data drawn over it as `O` (label −1) and `X` (label +1), `*` where both share a cell.
 * Returns `rows` strings of `cols` characters.
 */
export function asciiBoundary(scores: ArrayLike<number>, data: Moons, box: Box, cols: number, rows: number): string[] {
  const grid: string[][] = Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => (scores[r * cols + c]! < 0 ? "-" : "+")),
  );
  const marked = new Map<string, string>();
  data.X.forEach((point, i) => {
    const [r, c] = cellOf(point, box, cols, rows);
    const mark = data.y[i]! > 0 ? "X" : "O";
    const key = `${r},${c}`;
    const previous = marked.get(key);
    marked.set(key, previous === undefined || previous === mark ? mark : "*");
    grid[r]![c] = marked.get(key)!;
  });
  return grid.map((row) => row.join(""));
}

/**
 * The decision regions as an SVG: each grid row drawn as runs of same-class cells (a few rects per
 * row rather than one per cell), the points as circles over them.
 */
export function svgBoundary(scores: ArrayLike<number>, data: Moons, box: Box, cols: number, title: string): string {
  const rows = Math.round((cols * (box.y1 - box.y0)) / (box.x1 - box.x0));
  const cell = 4; // pixels per grid cell
  const [width, height, top] = [cols * cell, rows * cell, 40];
  const px = (x: number) => (((x - box.x0) / (box.x1 - box.x0)) * width).toFixed(1);
  const py = (y: number) => (top + ((box.y1 - y) / (box.y1 - box.y0)) * height).toFixed(1);
  const region = { neg: "#cfe0f1", pos: "#f6d0cf" };
  const point = { neg: "#1f77b4", pos: "#d62728" };
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + height + 40}" ` +
      'font-family="Helvetica, Arial, sans-serif" font-size="12">',
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${top + height + 40}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    '<g shape-rendering="crispEdges">',
  ];
  for (let r = 0; r < rows; r++) {
    let start = 0;
    for (let c = 1; c <= cols; c++) {
      const sign = (i: number) => scores[r * cols + i]! >= 0;
      if (c < cols && sign(c) === sign(start)) continue;
      const fill = sign(start) ? region.pos : region.neg;
      out.push(
        `<rect x="${start * cell}" y="${top + r * cell}" width="${(c - start) * cell}" height="${cell}" fill="${fill}"/>`,
      );
      start = c;
    }
  }
  out.push("</g>", '<g stroke="white" stroke-width="1">');
  data.X.forEach((p, i) => {
    const fill = data.y[i]! > 0 ? point.pos : point.neg;
    out.push(`<circle cx="${px(p[0]!)}" cy="${py(p[1]!)}" r="4.5" fill="${fill}"/>`);
  });
  out.push("</g>");
  const range = `x from ${box.x0.toFixed(2)} to ${box.x1.toFixed(2)}, y from ${box.y0.toFixed(2)} to ${box.y1.toFixed(2)}`;
  const legend = "blue: label −1 and where the score is < 0;  red: label +1 and where it is ≥ 0";
  out.push(
    `<text x="6" y="${top + height + 16}" fill="#333">${escapeXml(range)}</text>`,
    `<text x="6" y="${top + height + 32}" fill="#333">${escapeXml(legend)}</text>`,
    "</svg>",
  );
  return `${out.join("\n")}\n`;
}

export interface MoonsOptions {
  seed?: number;
  steps?: number;
  every?: number;
  out?: string;
}

export interface MoonsResult {
  scalar: RunRecord & { accuracy: number; msPerStep: number; graphNodes: number };
  tensor: RunRecord & { accuracy: number; msPerStep: number; graphNodes: number };
  /** Scalar median step time over the tensor one. */
  speedup: number;
  /** Largest |scalar loss − tensor loss| over the steps. */
  maxLossDifference: number;
  /** Cells of the terminal picture where the two trained models give different signs. */
  disagreements: number;
  picture: string[];
}

export function moons(print: (line: string) => void, options: MoonsOptions = {}): MoonsResult {
  const { seed = 11, steps = 100, every = 10 } = options;
  const data = loadMoons();
  // Both models draw their weights from a fresh stream with the same seed, in the same order
  // (layer, neuron, input), so they start from identical weights.
  const scalarModel = new ScalarMLP([2, 16, 16, 1], { random: new Random(seed) });
  const tensorModel = new MLP([2, 16, 16, 1], { random: new Random(seed), init: microgradInit });

  print(`Two moons: ${data.X.length} points, labels ±1; MLP 2–16–16–1 (relu, linear output), seed ${seed}`);
  print(`loss: mean of relu(1 − yᵢ·scoreᵢ) + ${ALPHA}·Σp²; SGD, lr 1.0 − 0.9·k/100 at step k; ${steps} steps`);
  print("");
  const progress: OnStep = (k, record) => {
    if (k % every !== 0 && k !== steps - 1) return;
    const loss = record.losses[k]!.toFixed(6);
    const accuracy = record.accuracies[k]!.toFixed(2);
    print(`  step ${String(k).padStart(3)}  loss ${loss}  accuracy ${accuracy}  ${record.stepMs[k]!.toFixed(2)} ms`);
  };

  // Graph sizes, counted once outside the timed steps: every node reachable from the loss.
  const scalarNodes = topoSort(scalarLoss(scalarModel, data).total).length;
  const tensorNodes = topoSort(tensorLoss(tensorModel, data).total).length;

  print(`1. Scalar engine: ScalarMLP, ${scalarModel.parameters().length} Values as parameters`);
  print(`   one step's graph has ${scalarNodes.toLocaleString("en-US")} nodes (a Value per +, ·, relu, input…;`);
  print("   micrograd's has 65,818, where a number operand such as the 1 in 1 − y·score is a node too)");
  const scalarRecord = trainScalar(scalarModel, data, steps, progress);
  print("");
  print(
    `2. Tensor engine: MLP, ${tensorModel.numParameters()} parameters in ${tensorModel.parameters().length} tensors`,
  );
  print(`   one step's graph has ${tensorNodes} nodes (a Tensor per matmul, add, relu, …)`);
  const tensorRecord = trainTensor(tensorModel, data, steps, progress);
  print("");

  // The trained models, scored once more after the last update.
  const scalarFinal = scalarLoss(scalarModel, data).scores;
  const tensorFinal = noGrad(() => tensorModel.forward(tensor(data.X))).data;
  const scalarAccuracy = accuracyOf(scalarFinal, data.y);
  const tensorAccuracy = accuracyOf(tensorFinal, data.y);
  let maxLossDifference = 0;
  scalarRecord.losses.forEach((l, k) => {
    maxLossDifference = Math.max(maxLossDifference, Math.abs(l - tensorRecord.losses[k]!));
  });
  const scalarMs = median(scalarRecord.stepMs);
  const tensorMs = median(tensorRecord.stepMs);
  const range = (ms: number[]) => `[${Math.min(...ms).toFixed(2)}–${Math.max(...ms).toFixed(2)}]`;
  print("Both engines, side by side");
  print(`  final training accuracy   scalar ${scalarAccuracy.toFixed(2)}   tensor ${tensorAccuracy.toFixed(2)}`);
  print(`  largest loss difference over the ${steps} steps: ${maxLossDifference.toExponential(1)} (rounding only)`);
  print(`  ms per step (median [min–max])  scalar ${scalarMs.toFixed(2)} ${range(scalarRecord.stepMs)}`);
  print(`                                  tensor ${tensorMs.toFixed(3)} ${range(tensorRecord.stepMs)}`);
  print(`  speed-up of the tensor engine: ${(scalarMs / tensorMs).toFixed(1)}×`);
  print("");

  // The scalar model draws the terminal picture; the tensor model scores the same cells, to count
  // where the two trained models would decide differently.
  const box = boxAround(data, 0.3);
  const centres = gridCentres(box, ASCII_COLS, ASCII_ROWS);
  const scalarGrid = centres.map((p) => scalarModel.forward(p)[0]!.data);
  const tensorGrid = noGrad(() => tensorModel.forward(tensor(centres))).data;
  const disagreements = scalarGrid.filter((s, i) => s < 0 !== tensorGrid[i]! < 0).length;
  const picture = asciiBoundary(scalarGrid, data, box, ASCII_COLS, ASCII_ROWS);
  print("Decision boundary of the scalar model: '-' scored < 0 (class −1), '+' scored ≥ 0 (class +1);");
  print("points O (label −1) and X (label +1), * where both share a cell");
  const border = `  +${"-".repeat(ASCII_COLS)}+`;
  print(border);
  for (const line of picture) print(`  |${line}|`);
  print(border);
  print(
    `  x from ${box.x0.toFixed(2)} to ${box.x1.toFixed(2)}, y from ${box.y0.toFixed(2)} to ${box.y1.toFixed(2)}; ` +
      `the tensor model decides differently in ${disagreements} of ${centres.length} cells`,
  );

  if (options.out !== undefined) {
    const cols = 160;
    const rows = Math.round((cols * (box.y1 - box.y0)) / (box.x1 - box.x0));
    const scores = noGrad(() => tensorModel.forward(tensor(gridCentres(box, cols, rows)))).data;
    const title = `Two moons: MLP 2–16–16–1 after ${steps} steps, accuracy ${tensorAccuracy.toFixed(2)}`;
    writeFileSync(options.out, svgBoundary(scores, data, box, cols, title));
    print(`wrote ${options.out} (the tensor model's regions on a ${cols} × ${rows} grid)`);
  }

  return {
    scalar: { ...scalarRecord, accuracy: scalarAccuracy, msPerStep: scalarMs, graphNodes: scalarNodes },
    tensor: { ...tensorRecord, accuracy: tensorAccuracy, msPerStep: tensorMs, graphNodes: tensorNodes },
    speedup: scalarMs / tensorMs,
    maxLossDifference,
    disagreements,
    picture,
  };
}

export const example: Example = {
  name: "moons",
  summary: "two moons, the micrograd demo, on Values and on Tensors: speed-up and decision boundary",
  async run({ print, quick = false, seed = 11, out }) {
    const r = moons(print, {
      seed,
      ...(quick ? { steps: 20, every: 5 } : { steps: 100, every: 10 }),
      ...(out === undefined ? {} : { out }),
    });
    return {
      scalarAccuracy: r.scalar.accuracy,
      tensorAccuracy: r.tensor.accuracy,
      scalarLoss0: r.scalar.losses[0],
      scalarMsPerStep: r.scalar.msPerStep,
      tensorMsPerStep: r.tensor.msPerStep,
      speedup: r.speedup,
      maxLossDifference: r.maxLossDifference,
      disagreements: r.disagreements,
      pictureRows: r.picture.length,
      pictureCols: r.picture[0]?.length ?? 0,
    };
  },
};
