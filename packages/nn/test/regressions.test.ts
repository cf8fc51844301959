/**
 * Regression tests for bugs found in review: each failed before its fix.
 */
import { ChainruleError, Random, type Tensor, tensor } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import {
  Adam,
  binaryCrossEntropy,
  clipGradNorm,
  decodeSafetensors,
  encodeSafetensors,
  GradientMonitor,
  Linear,
  MLP,
  mseLoss,
  SGD,
  sigmoid,
} from "../src/index.js";

test("clipGradNorm clips when the parameters come from a one-shot iterable", () => {
  const m = new MLP([3, 4, 2], { random: new Random(0) });
  mseLoss(m.forward(tensor([[100, -100, 50]])), tensor([[0, 0]])).backward();
  const norm = clipGradNorm(new Map(m.namedParameters()).values(), 1);
  expect(norm).toBeGreaterThan(1);
  let after = 0;
  for (const p of m.parameters()) for (const v of p.grad?.data ?? []) after += v * v;
  expect(Math.sqrt(after)).toBeCloseTo(1, 5);
  expect(() => clipGradNorm(null as never, 1)).toThrow(/clipGradNorm: params must be an iterable of Tensors/);
});

describe("optimizer state loads all or nothing", () => {
  const params = () => [tensor([1, 2], { requiresGrad: true }), tensor([3], { requiresGrad: true })];
  test("missing buffers objects are reported, and nothing changes", () => {
    const opt = new SGD(params(), { lr: 0.1, momentum: 0.9 });
    const bad = {
      type: "SGD",
      hyperparameters: { lr: 0.5, momentum: 0.5, dampening: 0, weightDecay: 0, nesterov: false },
      state: [{ step: 3 }, { step: 4, buffers: null }],
    };
    expect(() => opt.loadStateDict(bad as never)).toThrow(ChainruleError);
    expect(opt.hyperparameters()).toMatchObject({ lr: 0.1, momentum: 0.9 });
  });
  test("missing hyperparameters and missing moment buffers are refused", () => {
    const opt = new Adam(params(), { lr: 0.1 });
    const state = opt.stateDict();
    const noLr = { ...state, hyperparameters: { ...state.hyperparameters } };
    delete (noLr.hyperparameters as Record<string, unknown>).lr;
    expect(() => opt.loadStateDict(noLr)).toThrow(/hyperparameters "lr" are missing/);
    const halfAdam = {
      ...state,
      state: [
        { step: 100, buffers: { expAvg: tensor([0, 0]) } },
        { step: 0, buffers: {} },
      ],
    };
    expect(() => opt.loadStateDict(halfAdam as never)).toThrow(/buffer "expAvgSq" is missing after 100 step/);
    expect(opt.hyperparameters().lr).toBe(0.1);
  });
});

describe("binaryCrossEntropy at p = 0 and 1", () => {
  test.each(["float64", "float32"] as const)("%s: loss 100 per element, finite gradients as PyTorch's", (dtype) => {
    const p = tensor([0, 1, 1e-40, 0.25], { dtype, requiresGrad: true });
    const y = tensor([1, 0, 1, 1], { dtype });
    const loss = binaryCrossEntropy(p, y, { reduction: "none" });
    expect(Array.from(loss.data.slice(0, 2))).toEqual([100, 100]);
    loss.sum().backward();
    const g = Array.from(p.grad?.data ?? []);
    for (const v of g) expect(Number.isFinite(v)).toBe(true);
    expect((g[0] as number) / -1e12).toBeCloseTo(1, 6); // (p − y)/max(p(1 − p), 1e-12)
    expect((g[1] as number) / 1e12).toBeCloseTo(1, 6);
    expect(g[3]).toBeCloseTo(-0.75 / (0.25 * 0.75), 5);
  });
});

describe("bad arguments give ChainruleErrors, not TypeErrors", () => {
  test.each([
    ["mseLoss", () => mseLoss(tensor([1]), tensor([1]), null as never)],
    ["Linear", () => new Linear(2, 2, null as never)],
    ["MLP", () => new MLP([2, 2], null as never)],
    ["sigmoid", () => sigmoid("x" as never)],
    ["encodeSafetensors", () => encodeSafetensors(null as never)],
    ["encodeSafetensors", () => encodeSafetensors({ a: null } as never)],
    ["decodeSafetensors", () => decodeSafetensors([1, 2, 3] as never)],
    ["GradientMonitor", () => new GradientMonitor(new MLP([2, 2], { random: new Random(0) }), null as never)],
  ])("%s", (_name, f) => {
    expect(f).toThrow(ChainruleError);
  });
});

test("the gradient monitor averages each layer over the steps it had a gradient", () => {
  const m = new MLP([2, 3, 1], { activation: "sigmoid", random: new Random(0) });
  const monitor = new GradientMonitor(m, { threshold: 0.05 });
  const x = tensor([[1, 2]]);
  mseLoss(m.forward(x), tensor([[1]])).backward();
  monitor.record();
  for (const p of m.parameters()) p.zeroGrad();
  (m.layers[1] as Linear).weight.grad = null;
  (m.layers[0] as Linear).weight.grad = (m.layers[0] as Linear).weight.mul(0).add(1).detach() as Tensor;
  monitor.record();
  const [first, second] = monitor.report(x);
  expect(first?.gradNorm).toBeGreaterThan(0);
  expect(second?.threshold).toBe(0.05);
  expect(second?.gradNorm).toBeGreaterThan(0); // one step counted, not diluted by the step without a gradient
});
