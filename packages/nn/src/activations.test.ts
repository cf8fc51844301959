/**
 * @file Tests for activations.ts: values by hand, gradients against finite differences
 * (fast-check, away from kinks), the function and module forms agreeing, and errors. Imports
 * activations.ts, @chainrule/autograd and its testing kit.
 */

import { ChainruleError, type Tensor, tensor } from "@chainrule/autograd";
import { checkGradients, domains, shapeArb, tensorArb } from "@chainrule/autograd/testing";
import { describe, expect, test } from "vitest";
import {
  activationFunction,
  Identity,
  identity,
  LeakyReLU,
  leakyRelu,
  ReLU,
  relu,
  Sigmoid,
  Softmax,
  sigmoid,
  softmax,
  Tanh,
  tanh,
} from "./activations.js";

const x = tensor([-2, -0.5, 0, 0.5, 2]);
const values = (t: Tensor) => Array.from(t.data);

describe("values", () => {
  test("sigmoid, tanh, relu, identity", () => {
    expect(values(sigmoid(x))).toEqual([-2, -0.5, 0, 0.5, 2].map((v) => 1 / (1 + Math.exp(-v))));
    expect(values(tanh(x))).toEqual([-2, -0.5, 0, 0.5, 2].map(Math.tanh));
    expect(values(relu(x))).toEqual([0, 0, 0, 0.5, 2]);
    expect(identity(x)).toBe(x);
  });

  test("leakyRelu: x for x > 0, αx otherwise, for any slope (even α > 1)", () => {
    expect(values(leakyRelu(x))).toEqual([-0.02, -0.005, 0, 0.5, 2]);
    expect(values(leakyRelu(x, 0.2))).toEqual([-0.4, -0.1, 0, 0.5, 2]);
    expect(values(leakyRelu(x, 3))).toEqual([-6, -1.5, 0, 0.5, 2]);
  });

  test("softmax rows sum to 1 and it is stable for large inputs", () => {
    const s = softmax(
      tensor([
        [1, 2, 3],
        [1000, 1000, 1000],
      ]),
    );
    expect(values(s.sum(-1))[0]).toBeCloseTo(1, 15);
    expect(values(s).slice(3)).toEqual([1 / 3, 1 / 3, 1 / 3].map((v) => expect.closeTo(v, 13)));
    expect(values(softmax(tensor([[1, 2]]), 0))).toEqual([1, 1]);
  });

  test("the derivative of leakyRelu at the kink is α, of relu 0", () => {
    const z = tensor([0], { requiresGrad: true });
    leakyRelu(z, 0.1).sum().backward();
    expect(values(z.grad!)).toEqual([0.1]);
    z.zeroGrad();
    relu(z).sum().backward();
    expect(values(z.grad!)).toEqual([0]);
  });

  test("NaN stays NaN through every activation; at NaN relu passes g, leakyRelu gives α·g (as PyTorch)", () => {
    const nan = () => tensor([Number.NaN], { requiresGrad: true });
    for (const f of [relu, (t: Tensor) => leakyRelu(t, 0.1), sigmoid, tanh, identity]) {
      expect(values(f(nan()))[0]).toBeNaN();
    }
    for (const [f, slope] of [
      [relu, 1],
      [(t: Tensor) => leakyRelu(t, 0.1), 0.1],
    ] as const) {
      const z = nan();
      f(z).sum().backward();
      expect(values(z.grad!)).toEqual([slope]);
    }
  });
});

describe("gradients agree with central differences", () => {
  const smooth = { sigmoid, tanh, softmax: (t: Tensor) => softmax(t), identity: (t: Tensor) => t.mul(1) };
  for (const [name, f] of Object.entries(smooth)) {
    test(name, () => {
      checkGradients(
        f,
        shapeArb({ minRank: 1 }).chain((s) => tensorArb(s).map((t) => [t] as [Tensor])),
        {
          numRuns: 30,
        },
      );
    });
  }
  for (const [name, f] of Object.entries({ relu, leakyRelu: (t: Tensor) => leakyRelu(t, 0.3) })) {
    test(`${name} (away from 0)`, () => {
      checkGradients(
        f,
        shapeArb().chain((s) => tensorArb(s, { domain: domains.awayFromZero }).map((t) => [t] as [Tensor])),
        { numRuns: 30 },
      );
    });
  }
});

describe("modules", () => {
  test("each module computes its function and has no parameters", () => {
    const y = tensor([
      [0.3, -1],
      [2, 0],
    ]);
    const pairs: Array<[{ forward(t: Tensor): Tensor; parameters(): Tensor[] }, (t: Tensor) => Tensor]> = [
      [new Sigmoid(), sigmoid],
      [new Tanh(), tanh],
      [new ReLU(), relu],
      [new LeakyReLU(0.2), (t) => leakyRelu(t, 0.2)],
      [new Softmax(0), (t) => softmax(t, 0)],
      [new Identity(), identity],
    ];
    for (const [module, f] of pairs) {
      expect(values(module.forward(y))).toEqual(values(f(y)));
      expect(module.parameters()).toEqual([]);
    }
    expect(new LeakyReLU(0.2).config()).toEqual({ type: "LeakyReLU", negativeSlope: 0.2 });
    expect(new Sigmoid().config()).toEqual({ type: "Sigmoid" });
  });

  test("errors", () => {
    expect(() => new LeakyReLU(Number.NaN)).toThrow(/LeakyReLU: negativeSlope must be a finite number, got NaN/);
    expect(() => leakyRelu(x, "a" as never)).toThrow(ChainruleError);
    expect(() => new Softmax(0.5)).toThrow(/Softmax: axis must be an integer/);
    expect(() => activationFunction("swish" as never)).toThrow(
      /activation: unknown activation the string "swish"; expected one of "sigmoid"/,
    );
  });
});
