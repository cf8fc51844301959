/**
 * @file Tests for optim.ts: SGD (plain, momentum, Nesterov, dampening, weight decay), Adam and
 * AdamW against steps computed by hand on the 2-parameter problem L(a, b) = (a − 3)² + 10b²;
 * state dicts that resume training bit for bit and refuse what does not fit; gradient clipping;
 * schedules; errors. Imports optim.ts, linear.ts, losses.ts and @chainrule/autograd.
 */

import { ChainruleError, Random, type Tensor, tensor } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { Linear } from "./linear.js";
import { mseLoss } from "./losses.js";
import { Adam, AdamW, CosineAnnealingLR, clipGradNorm, type Optimizer, SGD, StepLR } from "./optim.js";

/** a = 1, b = −2 and L = (a − 3)² + 10b², so ∂L/∂a = 2(a − 3), ∂L/∂b = 20b. */
function problem(): { a: Tensor; b: Tensor; loss: () => Tensor } {
  const a = tensor(1, { requiresGrad: true, label: "a" });
  const b = tensor(-2, { requiresGrad: true, label: "b" });
  return { a, b, loss: () => a.sub(3).pow(2).add(b.mul(b).mul(10)) };
}

/** Run `steps` optimizer steps and return [a, b] after each. */
function run(make: (params: Tensor[]) => Optimizer, steps: number): number[][] {
  const { a, b, loss } = problem();
  const opt = make([a, b]);
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
    out.push([a.item(), b.item()]);
  }
  return out;
}

/** An optimizer's state as plain numbers (Tensors hold more than their values). */
function summary(opt: Optimizer) {
  const { type, hyperparameters, state } = opt.stateDict();
  const buffers = state.map((s) => [
    s.step,
    Object.entries(s.buffers).map(([k, t]) => [k, t.shape, Array.from(t.data)]),
  ]);
  return { type, hyperparameters, buffers };
}

function expectSteps(actual: number[][], expected: number[][], digits = 14): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, i) => {
    row.forEach((v, j) => {
      expect(v, `step ${i + 1}, parameter ${j}`).toBeCloseTo(expected[i]![j]!, digits);
    });
  });
}

describe("SGD, by hand: ∂L/∂a = 2(a − 3), ∂L/∂b = 20b, from a = 1, b = −2", () => {
  test("plain: θ ← θ − η·g (η = 0.1)", () => {
    // step 1: g = (−4, −40) → (1.4, 2);  step 2: g = (−3.2, 40) → (1.72, −2)
    expectSteps(
      run((p) => new SGD(p, { lr: 0.1 }), 2),
      [
        [1.4, 2],
        [1.72, -2],
      ],
    );
  });

  test("momentum 0.9: b₁ = g, then b ← 0.9b + g", () => {
    // step 2: b_a = 0.9·(−4) − 3.2 = −6.8 → a = 1.4 + 0.68;  b_b = 0.9·(−40) + 40 = 4 → b = 2 − 0.4
    expectSteps(
      run((p) => new SGD(p, { lr: 0.1, momentum: 0.9 }), 2),
      [
        [1.4, 2],
        [2.08, 1.6],
      ],
    );
  });

  test("Nesterov: d = g + 0.9b", () => {
    // step 1: d = 1.9g → (1.76, 5.6);  step 2: g = (−2.48, 112), b = (−6.08, 76), d = (−7.952, 180.4)
    expectSteps(
      run((p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true }), 2),
      [
        [1.76, 5.6],
        [2.5552, -12.44],
      ],
    );
  });

  test("weight decay 0.5 and dampening 0.1: d = g + 0.5θ, b ← 0.9b + 0.9d (b₁ = d)", () => {
    // step 1: d = (−3.5, −41) → (1.35, 2.1);  step 2: d = (−2.625, 43.05), b = (−5.5125, 1.845)
    expectSteps(
      run((p) => new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.5 }), 2),
      [
        [1.35, 2.1],
        [1.90125, 1.9155],
      ],
    );
  });

  test("a parameter without a gradient is left alone and its step count does not move", () => {
    const { a, b, loss } = problem();
    const opt = new SGD([a, b], { lr: 0.1 });
    loss().backward();
    b.zeroGrad();
    opt.step();
    expect([a.item(), b.item()]).toEqual([1.4, -2]);
    expect(opt.stateDict().state.map((s) => s.step)).toEqual([1, 0]);
  });
});

/** Adam as the paper writes it, independently of optim.ts's arrangement: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). */
function textbookAdam(steps: number, options: { lr: number; wd: number; decoupled: boolean }): number[][] {
  const theta = [1, -2];
  const m = [0, 0];
  const v = [0, 0];
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    const g = [2 * (theta[0]! - 3), 20 * theta[1]!];
    for (let i = 0; i < 2; i++) {
      let d = g[i]!;
      if (options.decoupled) theta[i] = theta[i]! - options.lr * options.wd * theta[i]!;
      else d += options.wd * theta[i]!;
      m[i] = 0.9 * m[i]! + 0.1 * d;
      v[i] = 0.999 * v[i]! + 0.001 * d * d;
      const mHat = m[i]! / (1 - 0.9 ** t);
      const vHat = v[i]! / (1 - 0.999 ** t);
      theta[i] = theta[i]! - (options.lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
    out.push([...theta]);
  }
  return out;
}

describe("Adam and AdamW, by hand", () => {
  test("Adam's first step moves each parameter by about η against the sign of its gradient", () => {
    // m̂ = g and v̂ = g² after one step, so the step is η·g/(|g| + ε)
    expectSteps(
      run((p) => new Adam(p, { lr: 0.1 }), 1),
      [[1 + (0.1 * 4) / (4 + 1e-8), -2 + (0.1 * 40) / (40 + 1e-8)]],
      15,
    );
  });

  test("Adam's second step: m = (−0.74, …), v = (0.030424, …), with bias correction", () => {
    const steps = run((p) => new Adam(p, { lr: 0.1 }), 2);
    // a after step 2: m̂ = −0.74/0.19, v̂ = 0.030424/0.001999 (a ≈ 1.1 after step 1, g = −3.8)
    const a1 = 1 + (0.1 * 4) / (4 + 1e-8);
    const g = 2 * (a1 - 3);
    const m = 0.9 * 0.1 * -4 + 0.1 * g;
    const v = 0.999 * 0.001 * 16 + 0.001 * g * g;
    expect(m).toBeCloseTo(-0.74, 8);
    expect(v).toBeCloseTo(0.030424, 8);
    expect(steps[1]![0]).toBeCloseTo(a1 - (0.1 * (m / 0.19)) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8), 14);
    expectSteps(steps, textbookAdam(2, { lr: 0.1, wd: 0, decoupled: false }));
  });

  test("many steps agree with the textbook formulas; Adam's L2 decay and AdamW's decoupled decay differ", () => {
    expectSteps(
      run((p) => new Adam(p, { lr: 0.05 }), 20),
      textbookAdam(20, { lr: 0.05, wd: 0, decoupled: false }),
      12,
    );
    const l2 = run((p) => new Adam(p, { lr: 0.05, weightDecay: 0.1 }), 10);
    const decoupled = run((p) => new AdamW(p, { lr: 0.05, weightDecay: 0.1 }), 10);
    expectSteps(l2, textbookAdam(10, { lr: 0.05, wd: 0.1, decoupled: false }), 12);
    expectSteps(decoupled, textbookAdam(10, { lr: 0.05, wd: 0.1, decoupled: true }), 12);
    expect(l2[9]![0]).not.toBeCloseTo(decoupled[9]![0]!, 6);
  });

  test("AdamW's first step: θ(1 − ηλ) then the Adam step; its default λ is 0.01", () => {
    expectSteps(
      run((p) => new AdamW(p, { lr: 0.1, weightDecay: 0.1 }), 1),
      [[0.99 + (0.1 * 4) / (4 + 1e-8), -1.98 + (0.1 * 40) / (40 + 1e-8)]],
    );
    expect(new AdamW([tensor(1, { requiresGrad: true })]).weightDecay).toBe(0.01);
    expect(new Adam([tensor(1, { requiresGrad: true })]).weightDecay).toBe(0);
    expect(new AdamW([tensor(1, { requiresGrad: true })]).hyperparameters()).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
  });
});

describe("optimizer state", () => {
  /** A small regression: Linear(3, 2) on fixed data, `steps` steps of `opt`. */
  function setup(make: (params: Tensor[]) => Optimizer) {
    const layer = new Linear(3, 2, { random: new Random(1) });
    const opt = make(layer.parameters());
    const r = new Random(2);
    const x = tensor(
      Array.from({ length: 12 }, () => r.normal()),
      { shape: [4, 3] },
    );
    const y = tensor(
      Array.from({ length: 8 }, () => r.normal()),
      { shape: [4, 2] },
    );
    const train = (steps: number) => {
      for (let i = 0; i < steps; i++) {
        opt.zeroGrad();
        mseLoss(layer.forward(x), y).backward();
        opt.step();
      }
    };
    return { layer, opt, train };
  }
  const makers: Array<[string, (p: Tensor[]) => Optimizer]> = [
    ["SGD", (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true })],
    ["Adam", (p) => new Adam(p, { lr: 0.01 })],
    ["AdamW", (p) => new AdamW(p, { lr: 0.01 })],
  ];

  test.each(makers)(
    "%s: stop, restore into fresh objects, continue: bit-identical to never stopping",
    (_name, make) => {
      const straight = setup(make);
      straight.train(7);

      const first = setup(make);
      first.train(4);
      const weights = first.layer.stateDict();
      const state = first.opt.stateDict();
      first.train(1); // the snapshot must not see later steps
      const resumed = setup(make);
      resumed.layer.loadStateDict(weights);
      resumed.opt.loadStateDict(state);
      resumed.train(3);
      resumed.layer.parameters().forEach((p, i) => {
        expect(p.data).toEqual(straight.layer.parameters()[i]!.data);
      });
      expect(resumed.opt.stateDict().state.map((s) => s.step)).toEqual([7, 7]);
    },
  );

  test("loadStateDict restores the hyperparameters", () => {
    const a = new SGD([tensor(1, { requiresGrad: true })], { lr: 0.5, momentum: 0.3 });
    const b = new SGD([tensor(1, { requiresGrad: true })], { lr: 0.1 });
    b.loadStateDict(a.stateDict());
    expect(b.hyperparameters()).toEqual({ lr: 0.5, momentum: 0.3, dampening: 0, weightDecay: 0, nesterov: false });
  });

  test("a state that does not fit lists every problem and changes nothing", () => {
    const { opt, train } = setup((p) => new Adam(p, { lr: 0.01 }));
    train(2);
    const before = summary(opt);
    const bad = opt.stateDict();
    expect(() => opt.loadStateDict({ ...bad, type: "SGD" })).toThrow(
      /^Adam\.loadStateDict: it is the state of an SGD optimizer, not of Adam; nothing was loaded$/,
    );
    bad.hyperparameters = { ...bad.hyperparameters, lr: -1 };
    bad.state[0]!.step = -3;
    bad.state[0]!.buffers.expAvg = tensor([1, 2]);
    bad.state[1]!.buffers.velocity = tensor([1, 2]);
    bad.state[1]!.buffers.expAvgSq = bad.state[1]!.buffers.expAvgSq!.astype("float32");
    let error: unknown;
    try {
      opt.loadStateDict(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChainruleError);
    const message = (error as Error).message;
    expect(message).toContain("Adam.loadStateDict: 5 problem(s), nothing was loaded");
    expect(message).toContain("lr must be a number ≥ 0, got number -1");
    expect(message).toContain("parameter 0: step number -3 is not an integer ≥ 0");
    expect(message).toContain('parameter 0: buffer "expAvg" has shape [2], the parameter [2,3]');
    expect(message).toContain('parameter 1: unknown buffer "velocity" (Adam keeps expAvg, expAvgSq)');
    expect(message).toContain('parameter 1: buffer "expAvgSq" is float32, the parameter float64');
    expect(summary(opt)).toEqual(before);
    const good = opt.stateDict();
    expect(() => opt.loadStateDict({ ...good, state: good.state.slice(1) })).toThrow(
      /it holds state for 1 parameters, this optimizer has 2/,
    );
  });
});

describe("clipGradNorm", () => {
  test("scales all gradients together to the max norm and returns the norm before", () => {
    const a = tensor([3], { requiresGrad: true });
    const b = tensor([[4]], { requiresGrad: true });
    a.grad = tensor([3]);
    b.grad = tensor([[4]]);
    expect(clipGradNorm([a, b], 1)).toBe(5);
    expect(a.grad.item()).toBeCloseTo(0.6, 6);
    expect(b.grad.item()).toBeCloseTo(0.8, 6);
    // already within the bound: untouched
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 6);
    expect(a.grad.item()).toBeCloseTo(0.6, 6);
  });

  test("the ∞-norm and the 1-norm; parameters without gradients are skipped", () => {
    const a = tensor([0, 0], { requiresGrad: true });
    const b = tensor([0], { requiresGrad: true });
    a.grad = tensor([-6, 2]);
    expect(clipGradNorm([a, b], 3, Number.POSITIVE_INFINITY)).toBe(6);
    expect(Array.from(a.grad.data).map((v) => Number(v.toFixed(5)))).toEqual([-3, 1]);
    expect(clipGradNorm([a, b], 100, 1)).toBeCloseTo(4, 5);
  });

  test("errors", () => {
    expect(() => clipGradNorm([], -1)).toThrow(/clipGradNorm: maxNorm must be a number ≥ 0, got number -1/);
    expect(() => clipGradNorm([], 1, 0)).toThrow(/normType must be a number > 0/);
    expect(() => clipGradNorm([1 as never], 1)).toThrow(/params must hold Tensors/);
  });
});

describe("schedules", () => {
  const opt = () => new SGD([tensor(1, { requiresGrad: true })], { lr: 1 });

  test("StepLR: η₀·γ^⌊epoch/stepSize⌋", () => {
    const o = opt();
    const s = new StepLR(o, { stepSize: 2, gamma: 0.5 });
    expect([s.step(), s.step(), s.step(), s.step(), s.step()]).toEqual([1, 0.5, 0.5, 0.25, 0.25]);
    expect(o.lr).toBe(0.25);
  });

  test("CosineAnnealingLR: ηmin + (η₀ − ηmin)(1 + cos(πt/T))/2", () => {
    const s = new CosineAnnealingLR(opt(), { tMax: 4, etaMin: 0.1 });
    const lrs = [1, 2, 3, 4].map(() => s.step());
    const want = [1, 2, 3, 4].map((t) => 0.1 + (0.9 * (1 + Math.cos((Math.PI * t) / 4))) / 2);
    lrs.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 15);
    });
    expect(lrs[3]).toBeCloseTo(0.1, 15);
  });

  test("errors", () => {
    expect(() => new StepLR(opt(), { stepSize: 0 })).toThrow(
      /StepLR: stepSize must be a positive integer, got number 0/,
    );
    expect(() => new CosineAnnealingLR({} as never, { tMax: 2 })).toThrow(/CosineAnnealingLR: expected an Optimizer/);
  });
});

describe("errors name the optimizer, the argument and what was expected", () => {
  test("parameters", () => {
    const p = tensor(1, { requiresGrad: true, label: "w" });
    expect(() => new SGD([p.mul(2)], { lr: 1 })).toThrow(
      /SGD: parameter 0 must be a leaf tensor with requiresGrad; it is the output of 'mul'/,
    );
    expect(() => new SGD([tensor(1)], { lr: 1 })).toThrow(/it is a leaf without requiresGrad/);
    expect(() => new Adam([p, p])).toThrow(/Adam: parameter 1 appears more than once/);
    expect(() => new AdamW([])).toThrow(/AdamW: params is empty/);
    expect(() => new SGD(5 as never, { lr: 1 })).toThrow(/SGD: params must be an iterable of Tensors/);
  });

  test("hyperparameters", () => {
    const p = () => [tensor(1, { requiresGrad: true })];
    expect(() => new SGD(p(), {} as never)).toThrow(
      new ChainruleError("SGD", "lr must be a number ≥ 0, got undefined"),
    );
    expect(() => new SGD(p(), { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum > 0 and dampening 0/);
    expect(() => new SGD(p(), { lr: 0.1, momentum: -1 })).toThrow(/momentum must be a number ≥ 0/);
    expect(() => new Adam(p(), { betas: [0.9, 1] })).toThrow(
      /Adam: betas must be two numbers in \[0, 1\), got \[0.9,1\]/,
    );
    expect(() => new AdamW(p(), { eps: Number.NaN })).toThrow(/AdamW: eps must be a number ≥ 0/);
  });

  test("a gradient of the wrong shape", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.grad = tensor([1, 2, 3]);
    expect(() => new SGD([w], { lr: 1 }).step()).toThrow(
      /SGD.step: parameter 0 has shape \[2\] but its gradient has shape \[3\]/,
    );
  });
});

describe("optimizer updates and the version counter", () => {
  test("a step bumps each parameter's version; a graph built before the step refuses to run backward", () => {
    const w = tensor([1, -2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const loss = w.mul(w).sum();
    loss.backward(undefined, { retainGraph: true });
    const stale = w.mul(w).sum();
    opt.step();
    expect(w.version).toBe(1);
    expect(() => stale.backward()).toThrow(/'mul' saved its input of shape \[2\] .* modified in place by addInPlace/);
    opt.zeroGrad();
    w.mul(w).sum().backward(); // a new graph after the update is fine
    expect(w.grad?.toArray()).toEqual([1.6, -3.2]);
  });
});
