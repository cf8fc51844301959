/**
 * Without a `random`, layers and initialisers draw from the default generator: manualSeed makes
 * such runs repeat bit for bit, and gives exactly what an explicit `new Random(seed)` gives.
 */

import { manualSeed, Random, zeros } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { normal_, uniform_, xavierUniform_ } from "./init.js";
import { Linear } from "./linear.js";
import { MLP } from "./mlp.js";
import type { Module } from "./module.js";
import { ScalarMLP } from "./scalar.js";

const weights = (m: Module) => m.parameters().map((p) => Array.from(p.data));

describe("the default generator", () => {
  test("new MLP(sizes) needs no options, and manualSeed makes it repeat bit for bit", () => {
    manualSeed(7);
    const a = new MLP([2, 4, 1]);
    const b = new MLP([2, 4, 1]); // the stream went on: other weights
    manualSeed(7);
    const c = new MLP([2, 4, 1]);
    expect(weights(c)).toEqual(weights(a));
    expect(weights(b)).not.toEqual(weights(a));
    expect(weights(new MLP([2, 4, 1], { random: new Random(7) }))).toEqual(weights(a));
    expect(a.forward(zeros([3, 2])).shape).toEqual([3, 1]);
  });

  test("Linear and the initialisers use it when no generator is given", () => {
    manualSeed(11);
    const layer = new Linear(3, 2, { init: "xavierUniform" });
    const explicit = new Linear(3, 2, { init: "xavierUniform", random: new Random(11) });
    expect(weights(layer)).toEqual(weights(explicit));

    manualSeed(5);
    const t = uniform_(zeros([4]), undefined, -1, 1);
    const u = normal_(zeros([4]));
    const v = xavierUniform_(zeros([2, 3]));
    const r = new Random(5);
    expect(Array.from(t.data)).toEqual(Array.from(uniform_(zeros([4]), r, -1, 1).data));
    expect(Array.from(u.data)).toEqual(Array.from(normal_(zeros([4]), r).data));
    expect(Array.from(v.data)).toEqual(Array.from(xavierUniform_(zeros([2, 3]), r).data));
  });

  test("ScalarMLP draws from it too", () => {
    manualSeed(3);
    const a = new ScalarMLP([2, 3, 1]);
    const explicit = new ScalarMLP([2, 3, 1], { random: new Random(3) });
    expect(a.parameters().map((p) => p.data)).toEqual(explicit.parameters().map((p) => p.data));
  });
});
