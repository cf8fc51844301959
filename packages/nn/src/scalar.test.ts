/**
 * @file Tests for scalar.ts: a neuron's output by hand, names and labels of every weight,
 * gradients against finite differences, micrograd's init and summation order reproduced on the
 * W1 benchmark (its step-0 loss bit for bit), and errors. Imports scalar.ts, @chainrule/autograd
 * and the W1 data file of the examples package.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ChainruleError, gradcheck, Random, Value } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { Layer, Neuron, ScalarMLP } from "./scalar.js";

describe("Neuron and Layer", () => {
  test("a = act(b + Σ wₖxₖ), weights drawn 2u − 1 in order, bias 0 (micrograd's init)", () => {
    const n = new Neuron(3, { random: new Random(4), activation: "tanh" });
    const r = new Random(4);
    expect(n.w.map((w) => w.data)).toEqual([0, 1, 2].map(() => 2 * r.next() - 1));
    expect(n.b.data).toBe(0);
    const x = [0.5, -1, 2];
    const z = n.w[0]!.data * 0.5 + n.w[1]!.data * -1 + n.w[2]!.data * 2;
    expect(n.forward(x).data).toBeCloseTo(Math.tanh(z), 15);
    expect(n.namedParameters().map(([name]) => name)).toEqual(["w.0", "w.1", "w.2", "b"]);
  });

  test("every activation, and inputs given as Values receive gradients", () => {
    const x = [new Value(0.3, "x0"), new Value(-0.7, "x1")];
    for (const activation of ["relu", "tanh", "sigmoid", "identity"] as const) {
      const n = new Neuron(2, { random: new Random(1), activation, init: "gaussian12" });
      const z = n.b.data + n.w[0]!.data * 0.3 + n.w[1]!.data * -0.7;
      const want = { relu: Math.max(0, z), tanh: Math.tanh(z), sigmoid: 1 / (1 + Math.exp(-z)), identity: z }[
        activation
      ];
      expect(n.forward(x).data).toBeCloseTo(want, 15);
    }
    const n = new Neuron(2, { random: new Random(1), activation: "identity" });
    n.forward(x).backward();
    expect(x[0]!.grad).toBe(n.w[0]!.data); // ∂a/∂x₀ = w₀
  });

  test("a layer is neurons reading the same inputs", () => {
    const layer = new Layer(2, 3, { random: new Random(0) });
    expect(layer.forward([1, 2])).toHaveLength(3);
    expect(layer.parameters()).toHaveLength(9);
    expect(layer.namedParameters()[3]![0]).toBe("neurons.1.w.0");
  });
});

describe("ScalarMLP", () => {
  test("names and labels: layers.i.neurons.j.w.k and .b, in micrograd's parameter order", () => {
    const model = new ScalarMLP([2, 3, 1], { random: new Random(0) });
    const names = model.namedParameters().map(([n]) => n);
    expect(names.slice(0, 4)).toEqual([
      "layers.0.neurons.0.w.0",
      "layers.0.neurons.0.w.1",
      "layers.0.neurons.0.b",
      "layers.0.neurons.1.w.0",
    ]);
    expect(names.at(-1)).toBe("layers.1.neurons.0.b");
    expect(model.parameters()).toHaveLength(3 * 3 + 4);
    expect(model.parameters().map((v) => v.label)).toEqual(names);
  });

  test("gradients of every weight agree with central differences", () => {
    const model = new ScalarMLP([3, 4, 2], { random: new Random(3), activation: "tanh", init: "gaussian12" });
    const x = [0.2, -0.4, 0.9];
    const report = gradcheck(() => {
      const [a, b] = model.forward(x);
      return a!.mul(b!).add(a!.pow(2));
    }, model.parameters());
    expect(report.ok, report.toString()).toBe(true);
  });

  test("zeroGrad sets every gradient to 0", () => {
    const model = new ScalarMLP([2, 2, 1], { random: new Random(0), activation: "tanh" });
    model.forward([1, 1])[0]!.backward();
    expect(model.parameters().some((p) => p.grad !== 0)).toBe(true);
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === 0)).toBe(true);
  });

  test("W1: micrograd's MLP(2, [16, 16, 1]) from mulberry32(11) gives the reference loss 1.334372004083486 at step 0", () => {
    const path = fileURLToPath(new URL("../../examples/data/moons100.json", import.meta.url));
    const data: { X: number[][]; y: number[] } = JSON.parse(readFileSync(path, "utf8"));
    const model = new ScalarMLP([2, 16, 16, 1], { random: new Random(11) });
    expect(model.parameters()).toHaveLength(337);
    const losses: number[] = [];
    for (let k = 0; k < 3; k++) {
      // The op order of the workload: relu(1 + (−yᵢ)·scoreᵢ), summed from 0, times 1/100; L2 1e-4.
      let dataLoss = new Value(0);
      data.X.forEach((xi, i) => {
        const score = model.forward(xi.map((v) => new Value(v)))[0]!;
        dataLoss = dataLoss.add(score.mul(-data.y[i]!).add(1).relu());
      });
      let reg = new Value(0);
      for (const p of model.parameters()) reg = reg.add(p.mul(p));
      const total = dataLoss.mul(1.0 / 100).add(reg.mul(1e-4));
      losses.push(total.data);
      model.zeroGrad();
      total.backward();
      const lr = 1.0 - (0.9 * k) / 100;
      for (const p of model.parameters()) p.data -= lr * p.grad;
    }
    expect(losses[0]).toBe(1.334372004083486);
    expect(Math.abs(losses[1]! - 0.49185856446594) / 0.49).toBeLessThan(1e-9);
    expect(Math.abs(losses[2]! - 0.40212197419278) / 0.4).toBeLessThan(1e-9);
  });

  test("errors", () => {
    expect(() => new ScalarMLP([2], { random: new Random(0) })).toThrow(/ScalarMLP: sizes must list at least two/);
    expect(() => new ScalarMLP([2, 1], { random: {} } as never)).toThrow(
      /ScalarMLP: options.random must be a seeded generator/,
    );
    expect(() => new ScalarMLP([2, 1], { random: new Random(0), activation: "gelu" as never })).toThrow(
      /activation must be "relu", "tanh", "sigmoid", "identity", got "gelu"/,
    );
    expect(() => new Neuron(0, { random: new Random(0) })).toThrow(
      /Neuron: the number of inputs must be a positive integer/,
    );
    expect(() => new Neuron(2, { random: new Random(0) }).forward([1])).toThrow(
      new ChainruleError("Neuron", "expected 2 inputs, got 1"),
    );
    expect(() => new Neuron(2, { random: new Random(0), init: "he" as never })).toThrow(/unknown init "he"/);
  });
});
