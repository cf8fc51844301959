/**
 * @file Tests for linear.ts and mlp.ts: shapes for any leading axes, y = x·Wᵀ + b by hand,
 * gradients against finite differences (fast-check over shapes and values), the documented
 * initialisation bounds, W2's bit-exact gaussian12 draw order, and errors. Imports linear.ts,
 * mlp.ts, @chainrule/autograd and its testing kit.
 */

import { ChainruleError, gradcheck, mm, Random, type Tensor, tensor, zeros } from "@chainrule/autograd";
import { checkGradients, tensorArb } from "@chainrule/autograd/testing";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Linear } from "./linear.js";
import { MLP } from "./mlp.js";

describe("Linear", () => {
  test("y = x·Wᵀ + b, checked by hand, with W stored [out, in]", () => {
    const layer = new Linear(2, 3, { random: new Random(0) });
    expect(layer.weight.shape).toEqual([3, 2]);
    expect(layer.bias!.shape).toEqual([3]);
    layer.loadStateDict({
      weight: tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      bias: tensor([0.5, -0.5, 1]),
    });
    const y = layer.forward(tensor([[1, -1]]));
    expect(y.toArray()).toEqual([[1 - 2 + 0.5, 3 - 4 - 0.5, 5 - 6 + 1]]);
  });

  test("any leading shape: [in] → [out], [b, in] → [b, out], [a, b, in] → [a, b, out]", () => {
    const layer = new Linear(4, 3, { random: new Random(1) });
    const r = new Random(2);
    const x3 = zeros([2, 5, 4]).addInPlace(
      tensor(
        Array.from({ length: 40 }, () => r.normal()),
        { shape: [2, 5, 4] },
      ),
    );
    const y3 = layer.forward(x3);
    expect(y3.shape).toEqual([2, 5, 3]);
    // Row by row, the same as the 2-d product.
    const y2 = layer.forward(x3.reshape([10, 4]));
    expect(Array.from(y3.data)).toEqual(Array.from(y2.data));
    expect(layer.forward(x3.reshape([10, 4]).take([3]).reshape([4])).shape).toEqual([3]);
    expect(Array.from(layer.forward(x3.reshape([10, 4]).take([3]).reshape([4])).data)).toEqual(
      Array.from(y2.data.slice(9, 12)),
    );
  });

  test("without bias: y = x·Wᵀ", () => {
    const layer = new Linear(3, 2, { random: new Random(0), bias: false });
    expect(layer.bias).toBeNull();
    expect(layer.namedParameters().map(([n]) => n)).toEqual(["weight"]);
    const x = tensor([[1, 2, 3]]);
    expect(Array.from(layer.forward(x).data)).toEqual(Array.from(mm(x, layer.weight, false, true).data));
  });

  test("gradients of x, W and b agree with central differences for random shapes and values", () => {
    const shapes = fc.record({
      lead: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
      n: fc.integer({ min: 1, max: 4 }),
      m: fc.integer({ min: 1, max: 3 }),
    });
    checkGradients(
      (x: Tensor, w: Tensor, b: Tensor) => {
        const layer = new Linear(w.shape[1]!, w.shape[0]!, { random: new Random(0) });
        // Swap in the inputs as the layer's parameters, so gradcheck perturbs them.
        Object.assign(layer, { weight: w, bias: b });
        return layer.forward(x);
      },
      shapes.chain(({ lead, n, m }) => fc.tuple(tensorArb([...lead, n]), tensorArb([m, n]), tensorArb([m]))),
      { numRuns: 40 },
    );
  });

  test("gradients through a real layer's own parameters (float64), checked element by element", () => {
    const layer = new Linear(3, 2, { random: new Random(5) });
    const x = tensor([
      [0.1, -0.4, 2],
      [1.5, 0.3, -0.7],
    ]);
    const report = gradcheck(
      (w: Tensor, b: Tensor) => {
        Object.assign(layer, { weight: w, bias: b });
        return layer.forward(x).tanh().sum();
      },
      [layer.weight, layer.bias!],
    );
    expect(report.ok, report.toString()).toBe(true);
  });

  test("a float32 layer computes in float32", () => {
    const layer = new Linear(2, 2, { random: new Random(0), dtype: "float32" });
    expect(layer.weight.dtype).toBe("float32");
    expect(layer.forward(tensor([[1, 2]], { dtype: "float32" })).dtype).toBe("float32");
  });

  test("errors name the layer, the shapes and what was expected", () => {
    const layer = new Linear(3, 2, { random: new Random(0) });
    expect(() => layer.forward(tensor([[1, 2]]))).toThrow(
      new ChainruleError("Linear", "input of shape [1, 2] must end in 3 (in features), as [batch, 3] or [3]"),
    );
    expect(() => layer.forward(tensor(1))).toThrow(/Linear: input of shape \[\]/);
    expect(() => new Linear(0, 2, { random: new Random(0) })).toThrow(/inFeatures must be a positive integer, got 0/);
    expect(() => new Linear(2, 1.5, { random: new Random(0) })).toThrow(/outFeatures must be a positive integer/);
    expect(() => new Linear(2, 2, { random: 5 } as never)).toThrow(/options.random must be a seeded generator/);
    expect(() => new Linear(2, 2, null as never)).toThrow(/Linear: options must be an object/);
    expect(() => new Linear(2, 2, { random: new Random(0), init: "glorot" as never })).toThrow(/unknown init "glorot"/);
    expect(() => new Linear(2, 2, { random: new Random(0), dtype: "int8" as never })).toThrow(/dtype must be/);
  });
});

describe("Linear initialisation", () => {
  const within = (t: Tensor, bound: number) => Array.from(t.data).every((v) => v >= -bound && v < bound);

  test('default "pytorch": weight and bias in U(−1/√in, 1/√in), drawn (2u − 1)/√in, weight first', () => {
    const layer = new Linear(16, 8, { random: new Random(3) });
    expect(within(layer.weight, 1 / 4)).toBe(true);
    expect(within(layer.bias!, 1 / 4)).toBe(true);
    const r = new Random(3);
    const expected = Array.from({ length: 16 * 8 + 8 }, () => (2 * r.next() - 1) * (1 / Math.sqrt(16)));
    expect([...layer.weight.data, ...layer.bias!.data]).toEqual(expected);
  });

  test("xavier and he scale by the fans; their biases are 0", () => {
    for (const init of ["xavierUniform", "heUniform"] as const) {
      const layer = new Linear(50, 30, { random: new Random(4), init });
      const bound = init === "xavierUniform" ? Math.sqrt(6 / 80) : Math.sqrt(6 / 50);
      expect(within(layer.weight, bound)).toBe(true);
      expect(Math.max(...Array.from(layer.weight.data, Math.abs))).toBeGreaterThan(0.9 * bound);
      expect(Array.from(layer.bias!.data)).toEqual(new Array(30).fill(0));
    }
    const he = new Linear(400, 300, { random: new Random(4), init: "heNormal" });
    const values = Array.from(he.weight.data);
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 400), 2);
  });

  test("a function init fills the layer itself", () => {
    const layer = new Linear(2, 2, {
      random: new Random(0),
      init: (w, b) => {
        w.fill_(0.25);
        b?.fill_(-1);
      },
    });
    expect(Array.from(layer.weight.data)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(layer.bias!.data)).toEqual([-1, -1]);
  });

  test("the same seed gives bit-identical weights; another seed different ones", () => {
    const a = new MLP([5, 7, 3], { random: new Random(9) });
    const b = new MLP([5, 7, 3], { random: new Random(9) });
    const c = new MLP([5, 7, 3], { random: new Random(10) });
    a.parameters().forEach((p, i) => {
      expect(p.data).toEqual(b.parameters()[i]!.data);
    });
    expect(a.parameters()[0]!.data).not.toEqual(c.parameters()[0]!.data);
  });
});

describe("MLP", () => {
  test("W2 (Nielsen's network): W¹ row-major [out][in], b¹, W², b² are the gaussian12 stream of mulberry32(2)", () => {
    const net = new MLP([784, 30, 10], {
      activation: "sigmoid",
      outputActivation: "sigmoid",
      init: "gaussian12",
      random: new Random(2),
    });
    // The reference values of WORKLOADS.md: the first three gaussian12 draws of mulberry32(2).
    expect(Array.from(net.layers[0]!.weight.data.slice(0, 3))).toEqual([
      0.12810107809491456, -0.6713707325980067, -1.2016136860474944,
    ]);
    const r = new Random(2);
    const stream = Array.from({ length: 30 * 784 + 30 + 10 * 30 + 10 }, () => r.gaussian12());
    const drawn = net.parameters().flatMap((p) => Array.from(p.data));
    expect(drawn).toEqual(stream);
    expect(net.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["layers.0.weight", [30, 784]],
      ["layers.0.bias", [30]],
      ["layers.1.weight", [10, 30]],
      ["layers.1.bias", [10]],
    ]);
  });

  test("forward is a = σ(W²σ(W¹x + b¹) + b²) for sigmoid/sigmoid, row by row", () => {
    const net = new MLP([2, 3, 1], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(0) });
    const [W1, b1, W2, b2] = net.parameters().map((p) => Array.from(p.data)) as number[][];
    const sigma = (z: number) => 1 / (1 + Math.exp(-z));
    const x = [0.3, -0.8];
    const a1 = [0, 1, 2].map((j) => sigma(W1![2 * j]! * x[0]! + W1![2 * j + 1]! * x[1]! + b1![j]!));
    const a2 = sigma(a1.reduce((s, a, k) => s + W2![k]! * a, 0) + b2![0]!);
    expect(net.forward(tensor([x])).item()).toBeCloseTo(a2, 14);
  });

  test("defaults: relu hidden layers, identity output (logits)", () => {
    const net = new MLP([3, 4, 2], { random: new Random(0) });
    expect(net.config()).toEqual({
      type: "MLP",
      sizes: [3, 4, 2],
      activation: "relu",
      outputActivation: "identity",
      bias: true,
      dtype: "float64",
    });
    const x = tensor([[1, -2, 0.5]]);
    const manual = net.layers[1]!.forward(net.layers[0]!.forward(x).relu());
    expect(Array.from(net.forward(x).data)).toEqual(Array.from(manual.data));
  });

  test("gradients through every activation agree with finite differences", () => {
    for (const activation of ["sigmoid", "tanh", "relu", "leakyRelu", "identity"] as const) {
      const net = new MLP([3, 4, 2], { activation, outputActivation: "softmax", random: new Random(7) });
      const x = tensor([
        [0.3, -1.2, 0.8],
        [1.1, 0.4, -0.5],
      ]);
      const params = net.parameters();
      const report = gradcheck((...ps: Tensor[]) => {
        net.layers.forEach((layer, i) => {
          Object.assign(layer, { weight: ps[2 * i], bias: ps[2 * i + 1] });
        });
        return net.forward(x);
      }, params);
      expect(report.ok, `${activation}: ${report.toString()}`).toBe(true);
    }
  });

  test("errors", () => {
    expect(() => new MLP([3], { random: new Random(0) })).toThrow(
      /MLP: sizes must list at least two positive integers/,
    );
    expect(() => new MLP([3, 0, 1], { random: new Random(0) })).toThrow(/sizes/);
    expect(() => new MLP([3, 1], { random: new Random(0), activation: "gelu" as never })).toThrow(
      /MLP: activation must be one of "sigmoid", "tanh", "relu", "leakyRelu", "softmax", "identity", got "gelu"/,
    );
    expect(() => new MLP([3, 1], null as never)).toThrow(ChainruleError);
  });
});
