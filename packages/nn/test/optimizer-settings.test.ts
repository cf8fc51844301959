/**
 * Optimizer settings are checked where they enter and where they are used: `lr` when it is set,
 * every hyperparameter at the start of `step()` (before anything changes), loaded state before it
 * is adopted. And the two ways out of a NaN gradient: clipGradNorm's errorIfNonfinite, and the
 * optimizers' skipNonfinite.
 */
import { ChainruleError, Random, type Tensor, tensor } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { Adam, AdamW, clipGradNorm, MLP, mseLoss, type Optimizer, SGD } from "../src/index.js";

const makers: Array<[string, (p: Tensor[]) => Optimizer]> = [
  ["SGD", (p) => new SGD(p, { lr: 0.1, momentum: 0.9 })],
  ["Adam", (p) => new Adam(p, { lr: 0.01 })],
  ["AdamW", (p) => new AdamW(p, { lr: 0.01 })],
];

/** A small ReLU network, its optimizer, and one training step's gradients. */
function setup(make: (p: Tensor[]) => Optimizer) {
  const model = new MLP([3, 4, 2], { random: new Random(0), activation: "relu" });
  const opt = make(model.parameters());
  const x = tensor([
    [1, -2, 0.5],
    [0.3, 0.1, -1],
  ]);
  const y = tensor([
    [1, 0],
    [0, 1],
  ]);
  const backward = () => {
    opt.zeroGrad();
    mseLoss(model.forward(x), y).backward();
  };
  const weights = () => model.parameters().map((p) => Array.from(p.data));
  // The step counts and buffers (not the hyperparameters, which the tests change on purpose).
  const state = () =>
    opt.stateDict().state.map((e) => [e.step, Object.entries(e.buffers).map(([k, t]) => [k, Array.from(t.data)])]);
  return { model, opt, backward, weights, state };
}

describe.each(makers)("%s", (_name, make) => {
  test.each([Number.NaN, Number.POSITIVE_INFINITY, -1, "0.1"])("opt.lr = %s is refused when set", (bad) => {
    const { opt } = setup(make);
    expect(() => {
      opt.lr = bad as number;
    }).toThrow(ChainruleError);
    expect(() => {
      opt.lr = bad as number;
    }).toThrow(/lr must be a finite number ≥ 0, got /);
    expect(opt.lr).not.toBe(bad);
    opt.lr = 0.5; // a good value is taken
    expect(opt.lr).toBe(0.5);
  });

  test("any other hyperparameter set to a bad value makes step() throw before anything changes", () => {
    const { opt, backward, weights, state } = setup(make);
    backward();
    opt.step();
    backward();
    const fields =
      opt instanceof SGD ? ["momentum", "dampening", "weightDecay"] : ["beta1", "beta2", "eps", "weightDecay"];
    for (const field of fields) {
      // dampening may be any finite number (as in PyTorch), so −1 is not bad for it
      const bads =
        field === "dampening"
          ? [Number.NaN, Number.POSITIVE_INFINITY, "0.1"]
          : [Number.NaN, -1, Number.POSITIVE_INFINITY, "0.1"];
      for (const bad of bads) {
        const o = opt as unknown as Record<string, unknown>;
        const good = o[field];
        const [w, s] = [weights(), state()];
        o[field] = bad;
        expect(() => opt.step(), `${field} = ${String(bad)}`).toThrow(ChainruleError);
        expect(() => opt.step()).toThrow(
          new RegExp(`^${opt.type}\\.step: .*${field === "beta1" || field === "beta2" ? "betas" : field}`),
        );
        expect(weights()).toEqual(w);
        expect(state()).toEqual(s);
        o[field] = good;
      }
    }
    opt.step(); // restored: steps again
  });

  test("skipNonfinite skips a step with a NaN or infinite gradient, changes nothing, and counts it", () => {
    const { model, opt, backward, weights, state } = setup(make);
    opt.skipNonfinite = true;
    backward();
    opt.step();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      backward();
      ((model.parameters()[1] as Tensor).grad as Tensor).data[0] = bad;
      const [w, s] = [weights(), state()];
      opt.step();
      expect(weights()).toEqual(w);
      expect(state()).toEqual(s);
    }
    expect(opt.skippedSteps).toBe(2);
    backward();
    const w = weights();
    opt.step();
    expect(weights()).not.toEqual(w);
    expect(opt.skippedSteps).toBe(2);
  });

  test("without skipNonfinite a NaN gradient reaches the weights, as in PyTorch", () => {
    const { model, opt, backward } = setup(make);
    backward();
    ((model.parameters()[0] as Tensor).grad as Tensor).data[0] = Number.NaN;
    opt.step();
    expect(model.parameters()[0]?.data[0]).toBeNaN();
    expect(opt.skippedSteps).toBe(0);
  });
});

test("skipNonfinite is an option of every optimizer, and must be a boolean", () => {
  const p = [tensor([1, 2], { requiresGrad: true })];
  expect(new SGD(p, { lr: 0.1, skipNonfinite: true }).skipNonfinite).toBe(true);
  expect(new Adam(p, { skipNonfinite: true }).skipNonfinite).toBe(true);
  expect(new AdamW(p).skipNonfinite).toBe(false);
  expect(() => new Adam(p, { skipNonfinite: "yes" as never })).toThrow(
    /^Adam: skipNonfinite must be true or false, got the string "yes"$/,
  );
  const opt = new SGD(p, { lr: 0.1 });
  (opt as unknown as Record<string, unknown>).skipNonfinite = 1;
  expect(() => opt.step()).toThrow(/^SGD\.step: skipNonfinite must be true or false, got number 1$/);
});

describe("loaded optimizer state is checked before it is adopted", () => {
  test("a negative second moment in Adam's state is refused, and the next step stays finite", () => {
    const { opt, backward, weights } = setup((p) => new Adam(p, { lr: 0.01 }));
    backward();
    opt.step();
    const bad = opt.stateDict();
    ((bad.state[0] as { buffers: Record<string, Tensor> }).buffers.expAvgSq as Tensor).data[2] = -1;
    expect(() => opt.loadStateDict(bad)).toThrow(
      /parameter 0: buffer "expAvgSq": element 2 is -1, but a second moment is ≥ 0/,
    );
    backward();
    opt.step();
    expect(weights().flat().every(Number.isFinite)).toBe(true);
  });

  test("a NaN or infinite buffer is refused", () => {
    for (const make of [(p: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9 }), (p: Tensor[]) => new Adam(p)]) {
      const { opt, backward, state } = setup(make);
      backward();
      opt.step();
      const before = state();
      const bad = opt.stateDict();
      const [name, t] = Object.entries(bad.state[1]?.buffers ?? {})[0] as [string, Tensor];
      t.data[0] = Number.NaN;
      expect(() => opt.loadStateDict(bad)).toThrow(new RegExp(`parameter 1: buffer "${name}": element 0 is NaN`));
      t.data[0] = Number.NEGATIVE_INFINITY;
      expect(() => opt.loadStateDict(bad)).toThrow(/element 0 is -Infinity/);
      expect(state()).toEqual(before);
    }
  });
});

describe("clipGradNorm with errorIfNonfinite", () => {
  test("a NaN gradient throws, naming the parameter, and changes no gradient", () => {
    const { model, backward } = setup((p) => new SGD(p, { lr: 0.1 }));
    backward();
    const params = model.parameters();
    ((params[2] as Tensor).grad as Tensor).data[1] = Number.NaN;
    const grads = () => params.map((p) => Array.from((p.grad as Tensor).data));
    const before = grads();
    expect(() => clipGradNorm(params, 1e-3, { errorIfNonfinite: true })).toThrow(
      /^clipGradNorm: the total norm of order 2 of the gradients is NaN \(parameter 2 .*has a non-finite gradient\), so it cannot be clipped; no gradient was changed/,
    );
    expect(() => clipGradNorm(params, 1e-3, { normType: Number.POSITIVE_INFINITY, errorIfNonfinite: true })).toThrow(
      /norm of order Infinity of the gradients is NaN/,
    );
    expect(grads()).toEqual(before);
    ((params[2] as Tensor).grad as Tensor).data[1] = Number.POSITIVE_INFINITY;
    expect(() => clipGradNorm(params, 1e-3, { errorIfNonfinite: true })).toThrow(/is Infinity/);
  });

  test("by default, and with a number as the third argument, it behaves as before", () => {
    const { model, backward } = setup((p) => new SGD(p, { lr: 0.1 }));
    backward();
    const params = model.parameters();
    const norm = clipGradNorm(params, 1e6, { normType: 1 });
    expect(clipGradNorm(params, 1e6, 1)).toBe(norm);
    ((params[0] as Tensor).grad as Tensor).data[0] = Number.NaN;
    expect(clipGradNorm(params, 1)).toBeNaN();
    expect(() => clipGradNorm(params, 1, { errorIfNonfinite: "yes" as never })).toThrow(
      /clipGradNorm: errorIfNonfinite must be true or false/,
    );
  });
});

test("a ReLU network whose weights became NaN has a NaN loss, not a finite one", () => {
  const model = new MLP([2, 3, 1], { random: new Random(0), activation: "relu" });
  const w = model.parameters()[0] as Tensor;
  w.data.fill(Number.NaN);
  const loss = mseLoss(model.forward(tensor([[1, 2]])), tensor([[1]]));
  expect(loss.item()).toBeNaN();
});
