/**
 * @file Gradient health of an MLP, layer by layer: how large the weight gradients are, and what
 * share of the sigmoid units are saturated. With sigmoid layers and the quadratic cost, every
 * gradient carries factors σ'(z) = σ(z)(1 − σ(z)) ≤ ¼; a unit whose σ'(z) is near 0 passes almost
 * nothing back, so a network with many saturated units learns slowly — this makes that visible.
 * Imports mlp.ts, activations.ts and the public API of @chainrule/autograd.
 */

import { ChainruleError, noGrad, type Tensor } from "@chainrule/autograd";
import { activationFunction } from "./activations.js";
import type { MLP } from "./mlp.js";
import { optionsObject } from "./module.js";

/** One layer's gradient health, as `GradientMonitor.report()` gives it. */
export interface LayerHealth {
  /** The layer's name, e.g. `layers.0`, and its sizes. */
  name: string;
  /** Its input size. */
  inFeatures: number;
  /** Its output size. */
  outFeatures: number;
  /** Mean ‖∂C/∂W‖ (Frobenius norm) over the steps recorded since the last report. */
  gradNorm: number;
  /** Share of the layer's sigmoid outputs with σ'(z) < threshold on the probe batch (null for other activations). */
  saturated: number | null;
  /** The σ'(z) below which a unit counts as saturated. */
  threshold: number;
}

/** Options of `GradientMonitor`. */
export interface GradientMonitorOptions {
  /** σ'(z) below this counts as saturated (default 0.01; σ' is at most 0.25, at z = 0). */
  threshold?: number;
}

/**
 * Watches an MLP's layers while it trains: the mean gradient norm of each weight matrix over the
 * steps recorded, and the share of saturated sigmoid units (σ'(z) below a threshold) on a probe
 * batch, which is why a sigmoid network learns slowly when it does. `formatHealth` prints a report.
 */
export class GradientMonitor {
  private readonly model: MLP;
  private readonly threshold: number;
  private readonly sums: number[];
  private readonly counts: number[];

  constructor(model: MLP, options: GradientMonitorOptions = {}) {
    options = optionsObject("GradientMonitor", options);
    if (!Array.isArray((model as Partial<MLP> | undefined)?.layers)) {
      throw new ChainruleError("GradientMonitor", "needs an MLP (a model with `layers`)");
    }
    const threshold = options.threshold ?? 0.01;
    if (!(threshold > 0 && threshold <= 0.25)) {
      throw new ChainruleError("GradientMonitor", `threshold must be in (0, 0.25], got ${threshold}`);
    }
    this.model = model;
    this.threshold = threshold;
    this.sums = model.layers.map(() => 0);
    this.counts = model.layers.map(() => 0);
  }

  /** Call after `backward()` and before the optimizer step: adds each layer's ‖∂C/∂W‖. */
  record(): void {
    this.model.layers.forEach((layer, i) => {
      const g = layer.weight.grad;
      if (g === null) return;
      let s = 0;
      for (let k = 0; k < g.size; k++) s += (g.data[k] as number) ** 2;
      this.sums[i] = (this.sums[i] as number) + Math.sqrt(s);
      this.counts[i] = (this.counts[i] as number) + 1; // per layer: a layer without a gradient does not count
    });
  }

  /**
   * The health of every layer: the mean gradient norm since the last report, and the share of
   * saturated sigmoid units when the model reads `probe` (a batch of inputs). Starts a new period.
   */
  report(probe: Tensor): LayerHealth[] {
    const m = this.model;
    const health: LayerHealth[] = [];
    noGrad(() => {
      let a = probe;
      m.layers.forEach((layer, i) => {
        const last = i === m.layers.length - 1;
        const name = last ? m.outputActivation : m.activation;
        a = activationFunction(name, "GradientMonitor")(layer.forward(a));
        let saturated: number | null = null;
        if (name === "sigmoid") {
          let count = 0;
          for (let k = 0; k < a.size; k++) {
            const y = a.data[k] as number;
            if (y * (1 - y) < this.threshold) count++; // σ'(z) = y(1 − y)
          }
          saturated = a.size === 0 ? 0 : count / a.size;
        }
        health.push({
          name: `layers.${i}`,
          inFeatures: layer.inFeatures,
          outFeatures: layer.outFeatures,
          gradNorm: this.counts[i] === 0 ? 0 : (this.sums[i] as number) / (this.counts[i] as number),
          saturated,
          threshold: this.threshold,
        });
      });
    });
    this.sums.fill(0);
    this.counts.fill(0);
    return health;
  }
}

/** One line per layer: `layers.0 784→30  ‖∂C/∂W‖ 0.0123  saturated 12.3%`. */
export function formatHealth(health: readonly LayerHealth[]): string {
  return health
    .map((h) => {
      const sat =
        h.saturated === null ? "" : `  saturated (σ' < ${h.threshold}) ${(100 * h.saturated).toFixed(1).padStart(5)}%`;
      return `${h.name} ${`${h.inFeatures}→${h.outFeatures}`.padEnd(7)}  mean ‖∂C/∂W‖ ${h.gradNorm.toExponential(2)}${sat}`;
    })
    .join("\n");
}
