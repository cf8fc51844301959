/**
 * @file Tests for init.ts: every initializer against the same draws made by hand from the same
 * seed, the scales of Xavier and He, fans, gains, float32 rounding, and errors. Imports init.ts
 * and @chainrule/autograd.
 */

import { ChainruleError, Random, tensor, zeros } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import {
  calculateGain,
  constant_,
  fans,
  gaussian12_,
  heNormal_,
  heUniform_,
  normal_,
  symmetricUniform_,
  uniform_,
  xavierNormal_,
  xavierUniform_,
  zeros_,
} from "./init.js";

const draws = (seed: number, n: number, f: (r: Random) => number) => {
  const r = new Random(seed);
  return Array.from({ length: n }, () => f(r));
};

describe("each initializer is its formula over the seeded stream, row-major", () => {
  test("uniform_, symmetricUniform_, normal_, gaussian12_, constant_, zeros_", () => {
    expect(Array.from(uniform_(zeros([2, 3]), new Random(1), -2, 3).data)).toEqual(
      draws(1, 6, (r) => r.uniform(-2, 3)),
    );
    expect(Array.from(symmetricUniform_(zeros([4]), new Random(1), 0.5).data)).toEqual(
      draws(1, 4, (r) => (2 * r.next() - 1) * 0.5),
    );
    expect(Array.from(normal_(zeros([5]), new Random(1), 1, 2).data)).toEqual(draws(1, 5, (r) => r.normal(1, 2)));
    expect(Array.from(gaussian12_(zeros([3]), new Random(2)).data)).toEqual([
      0.12810107809491456, -0.6713707325980067, -1.2016136860474944,
    ]);
    expect(Array.from(constant_(zeros([2]), 7).data)).toEqual([7, 7]);
    expect(Array.from(zeros_(tensor([1, 2])).data)).toEqual([0, 0]);
  });

  test("xavier and he use the fans of [out, in, …kernel]", () => {
    const w = zeros([20, 10]);
    expect(Array.from(xavierUniform_(w, new Random(3)).data)).toEqual(
      draws(3, 200, (r) => (2 * r.next() - 1) * Math.sqrt(6 / 30)),
    );
    expect(Array.from(xavierNormal_(w, new Random(3), 2).data)).toEqual(
      draws(3, 200, (r) => r.normal(0, 2 * Math.sqrt(2 / 30))),
    );
    expect(Array.from(heUniform_(w, new Random(3)).data)).toEqual(
      draws(3, 200, (r) => (2 * r.next() - 1) * (Math.SQRT2 * Math.sqrt(3 / 10))),
    );
    expect(Array.from(heNormal_(w, new Random(3)).data)).toEqual(
      draws(3, 200, (r) => r.normal(0, Math.SQRT2 / Math.sqrt(10))),
    );
    expect(fans([8, 4])).toEqual({ fanIn: 4, fanOut: 8 });
    expect(fans([8, 4, 3, 3])).toEqual({ fanIn: 36, fanOut: 72 });
  });

  test("a parameter (requiresGrad) can be re-initialised: the fill runs without recording", () => {
    const p = zeros([3, 2], { requiresGrad: true });
    xavierUniform_(p, new Random(0));
    expect(p.isLeaf && p.requiresGrad).toBe(true);
    expect(Array.from(p.data).every((v) => v !== 0)).toBe(true);
  });

  test("float32 tensors get the float64 draws rounded to nearest (Math.fround)", () => {
    const t = gaussian12_(zeros([4], { dtype: "float32" }), new Random(2));
    expect(Array.from(t.data)).toEqual(draws(2, 4, (r) => Math.fround(r.gaussian12())));
  });

  test("gains", () => {
    expect(calculateGain("linear")).toBe(1);
    expect(calculateGain("sigmoid")).toBe(1);
    expect(calculateGain("tanh")).toBe(5 / 3);
    expect(calculateGain("relu")).toBe(Math.SQRT2);
    expect(calculateGain("leakyRelu", 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
  });
});

describe("errors", () => {
  test("bad tensors, generators, shapes and numbers are named", () => {
    expect(() => xavierUniform_(zeros([3]), new Random(0))).toThrow(
      new ChainruleError(
        "xavierUniform_",
        "needs a weight of at least 2 dimensions [out, in, …] to know its fans, got shape [3]",
      ),
    );
    expect(() => heNormal_(zeros([0, 3]), new Random(0))).toThrow(/heNormal_: cannot scale a weight of shape \[0, 3\]/);
    expect(() => uniform_(zeros([2]), 5 as never)).toThrow(/uniform_: needs a seeded generator/);
    expect(() => uniform_(zeros([2]), new Random(0), 2, 1)).toThrow(/low 2 must not exceed high 1/);
    expect(() => normal_(zeros([2]), new Random(0), 0, Number.NaN)).toThrow(/normal_: std must be a finite number/);
    expect(() => gaussian12_([1, 2] as never, new Random(0))).toThrow(
      /gaussian12_: the first argument must be a Tensor/,
    );
    expect(() => fans([3])).toThrow(/fans: fan-in and fan-out need a weight of at least 2 dimensions/);
    expect(() => calculateGain("selu" as never)).toThrow(/calculateGain: nonlinearity must be/);
  });
});
