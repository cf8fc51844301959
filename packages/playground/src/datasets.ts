/**
 * @file The 2-D data sets of the "watch a network learn" view, in the spirit of TensorFlow
 * Playground: points (x₁, x₂) in [−1, 1]², each labelled 0 or 1. Drawn from a seeded `Random`,
 * so a data set is the same on every load. Imports the public API of @chainrule/autograd.
 */

import { Random } from "@chainrule/autograd";

export const DATASETS = ["xor", "circles", "moons", "spirals"] as const;
export type DatasetName = (typeof DATASETS)[number];

export interface Points {
  /** [n·2] coordinates, row-major. */
  x: Float64Array;
  /** [n] labels, 0 or 1. */
  y: Float64Array;
}

/** `n` points of the named data set with Gaussian noise of standard deviation `noise`. */
export function makeDataset(name: DatasetName, n = 200, noise = 0.05, seed = 1): Points {
  const r = new Random(seed);
  const x = new Float64Array(2 * n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [p, q, label] = point(name, i, n, r);
    x[2 * i] = p + r.normal(0, noise);
    x[2 * i + 1] = q + r.normal(0, noise);
    y[i] = label;
  }
  return { x, y };
}

function point(name: DatasetName, i: number, n: number, r: Random): [number, number, number] {
  switch (name) {
    case "xor": {
      // quadrants, kept 0.1 away from the axes so the classes have a margin: label = [x₁·x₂ > 0]
      const side = () => (r.uniform() < 0.5 ? -1 : 1) * r.uniform(0.1, 0.9);
      const p = side();
      const q = side();
      return [p, q, p * q > 0 ? 1 : 0];
    }
    case "circles": {
      // a disc of radius 0.4 inside a ring from 0.6 to 0.9
      const inner = i % 2 === 0;
      const radius = inner ? r.uniform(0, 0.4) : r.uniform(0.6, 0.9);
      const angle = r.uniform(0, 2 * Math.PI);
      return [radius * Math.cos(angle), radius * Math.sin(angle), inner ? 1 : 0];
    }
    case "moons": {
      // two interleaved half circles, scaled into the square
      const upper = i % 2 === 0;
      const t = r.uniform(0, Math.PI);
      const [p, q] = upper ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
      return [(p - 0.5) * 0.6, (q - 0.25) * 0.9, upper ? 1 : 0];
    }
    case "spirals": {
      // two arms of an Archimedean spiral, half a turn apart
      const arm = i % 2;
      const t = (Math.floor(i / 2) / (n / 2)) * 1.75 * Math.PI + 0.3;
      const radius = (t / (1.75 * Math.PI + 0.3)) * 0.9;
      const angle = t + arm * Math.PI;
      return [radius * Math.cos(angle), radius * Math.sin(angle), arm];
    }
  }
}
