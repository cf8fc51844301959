import { noGrad, Random, tensor } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { quadraticCost } from "./losses.js";
import { MLP } from "./mlp.js";
import { formatHealth, GradientMonitor } from "./monitor.js";

describe("GradientMonitor", () => {
  const x = tensor([
    [0.5, -1],
    [2, 0.25],
  ]);
  const y = tensor([
    [1, 0],
    [0, 1],
  ]);

  test("averages weight-gradient norms over recorded steps and counts saturated sigmoid units", () => {
    const net = new MLP([2, 3, 2], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(0) });
    const monitor = new GradientMonitor(net);
    const norms: number[][] = [];
    for (let step = 0; step < 2; step++) {
      net.zeroGrad();
      quadraticCost(net.forward(x), y).backward();
      norms.push(net.layers.map((l) => Math.hypot(...(l.weight.grad?.data ?? []))));
      monitor.record();
    }
    const health = monitor.report(x);
    expect(health.map((h) => h.name)).toEqual(["layers.0", "layers.1"]);
    health.forEach((h, i) => {
      expect(h.gradNorm).toBeCloseTo(((norms[0]?.[i] as number) + (norms[1]?.[i] as number)) / 2, 14);
      expect(h.saturated).toBe(0); // small weights: every unit is in the sigmoid's linear range
    });
    expect(formatHealth(health)).toMatch(
      /layers\.0 2→3 +mean ‖∂C\/∂W‖ \d\.\d\de[-+]\d+ +saturated \(σ' < 0\.01\) +0\.0%/,
    );
    expect(monitor.report(x)[0]?.gradNorm).toBe(0); // a report starts a new period
  });

  test("large weights saturate the units, and the monitor says so", () => {
    const net = new MLP([2, 3, 2], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(0) });
    noGrad(() => {
      for (const layer of net.layers) layer.weight.fill_(50);
    });
    const health = new GradientMonitor(net).report(x);
    expect(health[0]?.saturated).toBe(1);
  });

  test("non-sigmoid layers report no saturation; bad input is refused", () => {
    const net = new MLP([2, 3, 2], { random: new Random(0) });
    expect(new GradientMonitor(net).report(x)[0]?.saturated).toBeNull();
    expect(() => new GradientMonitor(net, { threshold: 0.5 })).toThrow(
      /GradientMonitor: threshold must be in \(0, 0.25\]/,
    );
  });
});
