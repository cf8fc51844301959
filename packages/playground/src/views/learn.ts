/**
 * @file View 2, watch a network learn: a 2-D data set, a network chosen in the page, training in
 * a Web Worker (learn-worker.ts) so the page stays responsive; the decision boundary as a heat
 * map, the loss curve, and each layer's gradient health. Imports learn-core.ts and datasets.ts
 * (the worker imports the library).
 */

import { DATASETS, type DatasetName, makeDataset } from "../datasets.js";
import { configProblem, GRID, HIDDEN_ACTIVATIONS, type LearnConfig, OPTIMIZERS, type Snapshot } from "../learn-core.js";
import { el, field, num, showMessage } from "../ui.js";

const PRESETS: Record<string, Partial<LearnConfig> & { layers: string }> = {
  "ReLU, 2 × 8, Adam": { layers: "8, 8", activation: "relu", optimizer: "adam", lr: 0.03 },
  "tanh, 2 × 8, Adam": { layers: "8, 8", activation: "tanh", optimizer: "adam", lr: 0.03 },
  "deep sigmoid, 6 × 8, SGD": { layers: "8, 8, 8, 8, 8, 8", activation: "sigmoid", optimizer: "sgd", lr: 0.5 },
  "deep ReLU, 6 × 8, SGD": { layers: "8, 8, 8, 8, 8, 8", activation: "relu", optimizer: "sgd", lr: 0.1 },
};

function select(id: string, options: readonly string[], value: string): HTMLSelectElement {
  const s = el("select", { id });
  for (const o of options) s.append(el("option", { value: o }, o));
  s.value = value;
  return s;
}

/** "8, 8" → [8, 8]; anything unreadable becomes NaN so configProblem names it. */
function parseLayers(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  return trimmed.split(/[\s,]+/).map((t) => (/^-?\d+(\.\d+)?$/.test(t) ? Number(t) : Number.NaN));
}

export function mountLearn(root: HTMLElement): void {
  const dataset = select("learn-dataset", DATASETS, "xor");
  const layers = el("input", { id: "learn-layers", value: "8, 8", size: "14" });
  const activation = select("learn-activation", HIDDEN_ACTIVATIONS, "tanh");
  const optimizer = select("learn-optimizer", OPTIMIZERS, "adam");
  const lr = el("input", { id: "learn-lr", value: "0.03", size: "6" });
  const noise = el("input", { id: "learn-noise", type: "range", min: "0", max: "0.3", step: "0.01", value: "0" });
  const preset = select("learn-preset", ["—", ...Object.keys(PRESETS)], "—");
  const start = el("button", { id: "learn-start" }, "Train");
  const pause = el("button", { id: "learn-pause", disabled: "" }, "Pause");
  const message = el("div", { class: "error", id: "learn-error", hidden: "" });
  const status = el(
    "div",
    { class: "status", id: "learn-status" },
    "Choose a data set and a network, then press Train.",
  );
  const heat = el("canvas", { id: "learn-heatmap", width: "320", height: "320" });
  const lossChart = el("canvas", { id: "learn-loss-chart", width: "420", height: "180" });
  const health = el("table", { id: "learn-health", class: "health" });

  root.append(
    el("h2", {}, "Watch a network learn"),
    el(
      "p",
      { class: "about" },
      "Points of two classes in the plane; the network learns P(orange | x₁, x₂). The background is its current answer on a grid: the decision boundary. " +
        "The table shows each layer's gradient health: the mean |∂C/∂W| of its weights, and the share of its sigmoid units that are saturated (σ'(z) < 0.01). " +
        "Every sigmoid layer multiplies the gradient by σ'(z) ≤ ¼ on its way down, so in a deep sigmoid network the first layers get almost nothing and learning stalls; ReLU passes a gradient of 1 through every active unit. " +
        "Try the presets “deep sigmoid” and “deep ReLU” on the circles. Training runs in a Web Worker, so this page stays responsive.",
    ),
    el(
      "div",
      { class: "controls form" },
      field("Preset", preset),
      field("Data", dataset),
      field("Noise", noise),
      field("Hidden layers (units each)", layers),
      field("Activation", activation),
      field("Optimizer", optimizer),
      field("Learning rate", lr),
      start,
      pause,
    ),
    message,
    status,
    el(
      "div",
      { class: "columns" },
      el("figure", {}, heat, el("figcaption", {}, "decision boundary (blue: class 0, orange: class 1)")),
      el(
        "div",
        {},
        el("figure", {}, lossChart, el("figcaption", {}, "loss (cross-entropy, log scale) over the steps")),
        health,
      ),
    ),
  );

  preset.addEventListener("change", () => {
    const p = PRESETS[preset.value];
    if (p === undefined) return;
    layers.value = p.layers;
    activation.value = p.activation as string;
    optimizer.value = p.optimizer as string;
    lr.value = String(p.lr);
  });

  let worker: Worker | null = null;
  let losses: { step: number; loss: number }[] = [];
  let config: LearnConfig | null = null;
  let running = false;

  const readConfig = (): LearnConfig => ({
    dataset: dataset.value as DatasetName,
    hidden: parseLayers(layers.value),
    activation: activation.value as LearnConfig["activation"],
    optimizer: optimizer.value as LearnConfig["optimizer"],
    lr: lr.value.trim() === "" ? Number.NaN : Number(lr.value),
    noise: Number(noise.value),
    seed: 1,
  });

  const setRunning = (on: boolean) => {
    running = on;
    pause.disabled = !on && config === null;
    pause.textContent = on ? "Pause" : "Resume";
  };

  start.addEventListener("click", () => {
    const next = readConfig();
    const problem = configProblem(next);
    showMessage(message, problem);
    if (problem !== null) return;
    config = next;
    losses = [];
    if (worker === null) {
      worker = new Worker(new URL("../learn-worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (event) => {
        const data = event.data as
          | { type: "snapshot"; snapshot: Snapshot; losses: number[]; burst: number }
          | { type: "error"; message: string };
        if (data.type === "error") {
          showMessage(message, data.message);
          setRunning(false);
          return;
        }
        const { step } = data.snapshot;
        for (const [i, loss] of data.losses.entries()) {
          losses.push({ step: step - (data.losses.length - 1 - i) * data.burst, loss });
        }
        draw(data.snapshot);
        worker?.postMessage({ type: "drawn" });
      };
      worker.onerror = (event) => {
        showMessage(message, `the training worker failed: ${event.message}`);
        setRunning(false);
      };
    }
    worker.postMessage({ type: "start", config });
    setRunning(true);
  });
  pause.addEventListener("click", () => {
    if (worker === null) return;
    worker.postMessage({ type: running ? "pause" : "resume" });
    setRunning(!running);
  });

  function draw(s: Snapshot): void {
    if (config === null) return;
    status.textContent = s.step === 0 ? "starting…" : `step ${s.step}   loss ${num(s.loss, 4)}`;
    status.dataset.step = String(s.step);
    status.dataset.loss = String(s.loss);
    drawHeatmap(heat, s.grid, config);
    drawLoss(lossChart, losses);
    health.replaceChildren(
      el(
        "tr",
        {},
        el("th", {}, "layer"),
        el("th", {}, "mean |∂C/∂W|"),
        el("th", {}, ""),
        el("th", {}, "saturated sigmoid units"),
      ),
      ...s.health.map((h) =>
        el(
          "tr",
          {},
          el("td", {}, h.name),
          el("td", {}, num(h.meanAbsGrad, 3)),
          el("td", {}, bar(h.meanAbsGrad)),
          el("td", {}, h.saturated === null ? "—" : `${Math.round(100 * h.saturated)} %`),
        ),
      ),
    );
  }
}

/** A bar whose length is log₁₀ of the gradient, from 10⁻⁸ (empty) to 1 (full). */
function bar(x: number): HTMLElement {
  const share = x > 0 ? Math.min(1, Math.max(0, (Math.log10(x) + 8) / 8)) : 0;
  return el("div", { class: "bar" }, el("div", { style: `width: ${(100 * share).toFixed(1)}%` }));
}

const BLUE = [33, 113, 181];
const ORANGE = [230, 130, 30];

let cached: { key: string; points: ReturnType<typeof makeDataset> } | null = null;
/** The data set's points, made once per configuration rather than once per frame. */
function points(c: LearnConfig) {
  const key = `${c.dataset} ${c.noise} ${c.seed}`;
  if (cached?.key !== key) cached = { key, points: makeDataset(c.dataset, 200, c.noise, c.seed) };
  return cached.points;
}

function drawHeatmap(canvas: HTMLCanvasElement, grid: Float32Array, config: LearnConfig): void {
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  const cell = canvas.width / GRID;
  for (let row = 0; row < GRID; row++) {
    for (let col = 0; col < GRID; col++) {
      const p = grid[row * GRID + col] as number;
      const mix = (i: number) => Math.round(255 + ((p > 0.5 ? ORANGE : BLUE)[i]! - 255) * Math.abs(2 * p - 1) * 0.6);
      ctx.fillStyle = `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
      ctx.fillRect(col * cell, row * cell, cell + 0.5, cell + 0.5);
    }
  }
  const { x, y } = points(config);
  for (let i = 0; i < y.length; i++) {
    const px = ((x[2 * i]! + 1) / 2) * canvas.width;
    const py = ((1 - x[2 * i + 1]!) / 2) * canvas.height;
    ctx.beginPath();
    ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = y[i] === 1 ? `rgb(${ORANGE.join(",")})` : `rgb(${BLUE.join(",")})`;
    ctx.fill();
    ctx.strokeStyle = "white";
    ctx.stroke();
  }
}

function drawLoss(canvas: HTMLCanvasElement, losses: { step: number; loss: number }[]): void {
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = "#ccd";
  ctx.strokeRect(40.5, 0.5, width - 41, height - 21);
  if (losses.length === 0) return;
  const last = losses[losses.length - 1]!.step;
  const lo = -4; // log₁₀ 10⁻⁴
  const hi = 0.5;
  const X = (step: number) => 41 + ((width - 42) * step) / Math.max(last, 1);
  const Y = (loss: number) => {
    const l = Math.min(hi, Math.max(lo, Math.log10(Math.max(loss, 1e-12))));
    return 1 + ((hi - l) / (hi - lo)) * (height - 23);
  };
  ctx.fillStyle = "#667";
  ctx.font = "11px sans-serif";
  for (const e of [0, -1, -2, -3, -4]) ctx.fillText(`1e${e}`, 4, Y(10 ** e) + 4);
  ctx.fillText(`step ${last}`, width - 60, height - 5);
  ctx.strokeStyle = "#d35400";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(X(losses[0]!.step), Y(losses[0]!.loss));
  for (const p of losses) ctx.lineTo(X(p.step), Y(p.loss));
  ctx.stroke();
  ctx.lineWidth = 1;
}
