/**
 * @file Traces of backward passes: every product a node passes down is (gradient from above) ×
 * (local derivative); what reaches each leaf adds up to the gradient autograd stores; the chain
 * for the chapter's weights is equations (A) and (B), factor by factor; the text reads like the
 * derivation and can stop after any step.
 */

import { describe, expect, test } from "vitest";
import {
  ChainruleError,
  chainFor,
  customOp,
  formatChain,
  formatTrace,
  gradientsAfter,
  noGrad,
  Random,
  randn,
  type Tensor,
  tensor,
  toDot,
  traceBackward,
  Value,
  zeros,
} from "../src/index.js";
import { seed } from "./seed-network.js";

const closeTo = (actual: number, expected: number, rel = 1e-15) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));

const sigmaPrime = (a: number) => a * (1 - a);

describe("traceBackward on Values", () => {
  test("one step per op node, output first, in the order backward visits them", () => {
    const { C, a2, z2, a1, z1 } = seed();
    const trace = traceBackward(C);
    expect(trace.totalSteps).toBe(9);
    expect(trace.steps).toHaveLength(9);
    expect(trace.steps.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(trace.steps[0]?.node).toBe(C);
    expect(trace.steps[0]?.upstream).toBe(1);
    const order = trace.steps.map((s) => s.node);
    for (const later of [a2, z2, a1, z1]) expect(order.indexOf(later)).toBeGreaterThan(0);
    expect(order.indexOf(a2)).toBeLessThan(order.indexOf(z2));
    expect(order.indexOf(z2)).toBeLessThan(order.indexOf(a1));
    expect(order.indexOf(a1)).toBeLessThan(order.indexOf(z1));
    const a2Step = trace.steps.find((s) => s.node === a2);
    expect(a2Step?.expression).toBe("σ(z2)");
    expect(a2Step?.parents[0]?.symbol).toBe("σ'(z2)");
    expect(a2Step?.parents[0]?.formula).toBe("∂σ(x)/∂x = σ(x)(1 − σ(x))");
    expect(trace.steps.find((s) => s.node === z2)?.expression).toBe("w2·a1 + b2");
  });

  test("every product passed down is upstream × local, and what reaches a leaf is its .grad", () => {
    const nodes = seed();
    const trace = traceBackward(nodes.C);
    const received = new Map<Value | Tensor, number>();
    for (const step of trace.steps) {
      // Each node's upstream is the sum of what its consumers sent it before its turn.
      if (step.index > 1) closeTo(step.upstream as number, received.get(step.node) as number);
      for (const edge of step.parents) {
        expect(edge.sent).toBe((step.upstream as number) * (edge.local as number));
        received.set(edge.parent, (received.get(edge.parent) ?? 0) + (edge.sent as number));
      }
    }
    for (const leaf of [nodes.a0, nodes.w1, nodes.b1, nodes.w2, nodes.b2]) {
      closeTo(received.get(leaf) as number, leaf.grad);
      closeTo(trace.gradients.get(leaf) as number, leaf.grad);
    }
    closeTo(nodes.w2.grad, -0.07752193803789256, 1e-12);
    closeTo(nodes.w1.grad, 0.02268353162862011, 1e-12);
  });

  test("the local derivatives are the chapter's: σ'(z) = a(1 − a), ∂z/∂w = a, ∂C/∂a2 = a2 − y", () => {
    const { C, a2, a1, w2, z2 } = seed();
    const trace = traceBackward(C);
    const step = (n: Value) => trace.steps.find((s) => s.node === n);
    expect(step(a2)?.parents[0]?.local).toBe(sigmaPrime(a2.data));
    expect(step(a1)?.parents[0]?.local).toBe(sigmaPrime(a1.data));
    const mul = z2.parents[0] as Value;
    const toW2 = step(mul)?.parents.find((e) => e.parent === w2);
    expect(toW2?.local).toBe(a1.data);
    expect(toW2?.symbol).toBe("a1");
    expect(step(a2)?.upstream).toBe(a2.data - 1);
  });

  test("chainFor(w2) is equation (A); chainFor(w1) adds the factors of (B)", () => {
    const { C, a0, a1, a2, w1, w2 } = seed();
    const trace = traceBackward(C);
    const A = chainFor(trace, w2);
    expect(A.paths).toHaveLength(1);
    const pathA = A.paths[0];
    expect(pathA?.nodes).toEqual(["C", "(a2 − 1)²", "a2 − 1", "a2", "z2", "w2·a1", "w2"]);
    expect(pathA?.factors.map((f) => `∂${f.of}/∂${f.wrt}`)).toEqual(["∂z2/∂w2", "∂a2/∂z2", "∂C/∂a2"]);
    expect(pathA?.factors.map((f) => f.symbol)).toEqual(["a1", "σ'(z2)", "a2 − 1"]);
    expect(pathA?.factors.map((f) => f.value)).toEqual([a1.data, sigmaPrime(a2.data), a2.data - 1]);
    closeTo(A.gradient, -0.07752193803789256);
    closeTo(A.gradient, w2.grad);

    const B = chainFor(trace, w1);
    expect(B.paths).toHaveLength(1);
    const factors = B.paths[0]?.factors ?? [];
    expect(factors.map((f) => f.symbol)).toEqual(["a0", "σ'(z1)", "w2", "σ'(z2)", "a2 − 1"]);
    expect(factors[0]?.value).toBe(a0.data);
    expect(factors[2]?.value).toBe(w2.data);
    closeTo(
      factors.reduce((p, f) => p * f.value, 1),
      0.02268353162862011,
    );
    closeTo(B.gradient, w1.grad);

    const unmerged = chainFor(trace, w2, { merge: "none" });
    expect(unmerged.paths[0]?.factors.map((f) => f.symbol)).toEqual(["a1", "1", "σ'(z2)", "1", "2·(a2 − 1)", "0.5"]);
    closeTo(unmerged.gradient, w2.grad);
  });

  test("formatChain reads like the derivation", () => {
    const { C, w1, w2 } = seed();
    const trace = traceBackward(C);
    const A = chainFor(trace, w2);
    const text = formatChain(A);
    expect(text).toBe(
      [
        "∂C/∂w2 = ∂z2/∂w2 · ∂a2/∂z2 · ∂C/∂a2",
        "       = a1 · σ'(z2) · (a2 − 1)",
        "       = 0.5498 · 0.2439 · (-0.5781)",
        "       = -0.07752",
      ].join("\n"),
    );
    const B = formatChain(chainFor(trace, w1), { after: A });
    expect(B).toContain("∂C/∂w1 = ∂z1/∂w1 · ∂a1/∂z1 · ∂z2/∂a1 · ∂a2/∂z2 · ∂C/∂a2");
    expect(B).toContain("= a0 · σ'(z1) · w2 · σ'(z2) · (a2 − 1)");
    expect(B).toContain("= 0.02268");
    expect(B).toContain("shared with ∂C/∂w2: ∂a2/∂z2 · ∂C/∂a2 = ∂C/∂z2 = -0.141");
    expect(B).toContain("new factors: ∂z1/∂w1 · ∂a1/∂z1 · ∂z2/∂a1 = a0 · σ'(z1) · w2");
  });

  test("formatTrace prints each step with its numbers, and upTo stops after step k", () => {
    const { C } = seed();
    const trace = traceBackward(C);
    const text = formatTrace(trace);
    expect(text).toContain("Backward pass from C: 9 steps");
    expect(text).toMatch(/step 4 {2}a2 = σ\(z2\) {4}∂C\/∂a2 = -0\.5781\n/);
    expect(text).toContain(
      "∂a2/∂z2 = σ'(z2) = 0.2439   →  ∂C/∂z2 = -0.5781 × 0.2439 = -0.141   [∂σ(x)/∂x = σ(x)(1 − σ(x))]",
    );
    expect(text).toContain("∂(w2·a1)/∂w2 = a1 = 0.5498");
    expect(text).toContain("→  ∂C/∂w2 = -0.141 × 0.5498 = -0.07752");
    expect(text).toContain("  ∂C/∂w1 = 0.02268");
    const three = formatTrace(trace, { upTo: 3 });
    expect(three).toContain("step 3 ");
    expect(three).not.toContain("step 4");
    expect(three).toContain("(showing 3)");
    expect(three.trimEnd().endsWith("… 6 more steps")).toBe(true);
    expect(three.split("\n").length).toBeLessThan(text.split("\n").length);
  });

  test("maxSteps records only the first k steps; the backward pass still completes", () => {
    const { C, w1 } = seed();
    const trace = traceBackward(C, { maxSteps: 2 });
    expect(trace.steps).toHaveLength(2);
    expect(trace.totalSteps).toBe(9);
    closeTo(w1.grad, 0.02268353162862011, 1e-12);
    expect(formatTrace(trace)).toContain("… 7 more steps");
    expect(() => chainFor(trace, w1)).toThrow(ChainruleError);
    expect(() => traceBackward(C, { maxSteps: -1 })).toThrow(ChainruleError);
  });

  test("gradientsAfter(k) pictures backprop in progress", () => {
    const { C, a2, z2, w1, w2 } = seed();
    const trace = traceBackward(C);
    const known = gradientsAfter(trace, 4);
    expect(known.get(z2)).toBe(trace.steps[3]?.parents[0]?.sent);
    expect(known.has(w2)).toBe(false);
    const dot = toDot(C, { gradients: known, highlight: [a2] });
    const withGrad = dot.split("\n").filter((l) => l.includes("grad "));
    expect(withGrad).toHaveLength(5); // C, (a2 − 1)², a2 − 1, a2, z2
    expect(withGrad.find((l) => l.includes("<b>z2</b>"))).toContain("grad -0.141");
    const all = gradientsAfter(trace, trace.steps.length);
    expect(all.get(w1)).toBe(trace.gradients.get(w1));
  });

  test("a node used twice receives two contributions (+=), and its chain has two paths", () => {
    const x = new Value(3, "x");
    const y = x.mul(x).add(x);
    y.label = "y";
    const trace = traceBackward(y);
    closeTo(trace.gradients.get(x) as number, x.grad);
    expect(x.grad).toBe(7); // 2x + 1
    expect(formatTrace(trace)).toContain("∂y/∂x +=");
    const chain = chainFor(trace, x);
    expect(chain.paths).toHaveLength(3);
    expect(chain.gradient).toBe(7);
    expect(formatChain(chain)).toContain("∂y/∂x: the sum over 3 paths from y");
    expect(() => chainFor(trace, new Value(1))).toThrow(/not part of the traced graph/);
  });

  test("unlabelled nodes are named by their expressions, long ones t1, t2, …", () => {
    const a = new Value(2);
    const b = new Value(3, "b");
    const out = a.mul(b).tanh().exp().log().neg().abs().sqrt();
    const trace = traceBackward(out, { maxNameLength: 12 });
    expect(trace.rootName).toBe("L");
    expect(trace.names.get(a.mul(b))).toBeUndefined(); // a new node, not in this graph
    const names = [...trace.names.values()];
    expect(names).toContain("2·b");
    expect(names).toContain("tanh(2·b)");
    expect(names.some((n) => /^t\d+$/.test(n))).toBe(true);
  });
});

describe("traceBackward on Tensors", () => {
  function net() {
    const rng = new Random(11);
    const x = tensor(
      [
        [0.5, -1],
        [1, 2],
        [0.1, 0.3],
      ],
      { label: "x" },
    );
    const y = tensor([[1], [0], [1]], { label: "y" });
    const W1 = randn([3, 2], rng, { requiresGrad: true, label: "W1" });
    const b1 = zeros([3], { requiresGrad: true, label: "b1" });
    const W2 = randn([1, 3], rng, { requiresGrad: true, label: "W2" });
    const b2 = tensor([0.1], { requiresGrad: true, label: "b2" });
    const loss = x.matmul(W1.T).add(b1).tanh().matmul(W2.T).add(b2).sigmoid().sub(y).pow(2).mean();
    loss.label = "L";
    return { x, y, W1, b1, W2, b2, loss };
  }

  const maxDiff = (a: Tensor, b: Tensor) => {
    expect(a.shape).toEqual(b.shape);
    let m = 0;
    for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs((a.data[i] as number) - (b.data[i] as number)));
    return m;
  };

  test("the products reaching each leaf sum to its .grad", () => {
    const { W1, b1, W2, b2, x, loss } = net();
    const trace = traceBackward(loss);
    for (const p of [W1, b1, W2, b2]) {
      const got = trace.gradients.get(p) as Tensor;
      expect(maxDiff(got, p.grad as Tensor)).toBeLessThanOrEqual(1e-15);
    }
    expect(trace.gradients.has(x)).toBe(false); // x needs no gradient
    // Sum the edges by hand too: the broadcast bias received [3×3] → summed to [3].
    const toB1 = trace.steps.flatMap((s) => s.parents.filter((e) => e.parent === b1));
    expect(toB1).toHaveLength(1);
    expect((toB1[0]?.sent as Tensor | undefined)?.shape).toEqual([3]);
    expect(toB1[0]?.symbol).toBe("g, summed over the broadcast axes");
  });

  test("elementwise steps record their local derivatives: sent = Σ(upstream ⊙ local)", () => {
    const { loss } = net();
    const trace = traceBackward(loss);
    let checked = 0;
    for (const step of trace.steps) {
      for (const edge of step.parents) {
        if (edge.local === null || edge.sent === null || typeof edge.local === "number") continue;
        const local = edge.local as Tensor;
        const product = noGrad(() => (step.upstream as Tensor).mul(local));
        const reduced =
          product.size === (edge.sent as Tensor).size
            ? product.reshape((edge.sent as Tensor).shape)
            : noGrad(() => product.sum(0));
        expect(maxDiff(reduced, edge.sent as Tensor)).toBeLessThanOrEqual(1e-15);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6); // mean's div, pow, sub, sigmoid, add ×2, tanh
  });

  test("matmul steps name their rule; the text shows shapes and the products", () => {
    const { loss } = net();
    const trace = traceBackward(loss);
    const mm = trace.steps.filter((s) => s.op === "matmul");
    expect(mm).toHaveLength(2);
    expect(mm[0]?.parents.map((e) => e.formula)).toEqual(["C = A·B: ∂L/∂A = G·Bᵀ", "C = A·B: ∂L/∂B = Aᵀ·G"]);
    expect(mm[0]?.parents.map((e) => e.symbol)).toEqual(["g·W2", "tanh(x·W1ᵀ + b1)ᵀ·g"]);
    const text = formatTrace(trace);
    expect(text).toContain("x needs no gradient");
    expect(text).toContain("step 3  (σ(t1) − y)²  [3×1]");
    expect(text).toContain("step 1  L = Σ((σ(t1) − y)²)/3    ∂L/∂L = 1");
    expect(text).toContain("→  ∂L/∂(Σ((σ(t1) − y)²)) = 0.3333·g = 0.3333");
    expect(text).toContain("→  ∂L/∂W1 = gᵀ = [[");
    expect(text).toContain("Gradients that reached the leaves");
  });

  test("a custom op appears with its name and formula", () => {
    const wave = customOp({
      name: "wave",
      formula: "∂wave(x)/∂x = cos(x)",
      forward: (x) => tensor(Array.from(x.data, Math.sin), { shape: x.shape }),
      backward: (g, _out, x) => [g.mul(tensor(Array.from(x.data, Math.cos), { shape: x.shape }))],
    });
    const x = tensor([0.3, 1.2], { requiresGrad: true, label: "x" });
    const y = wave(x).sum();
    const trace = traceBackward(y);
    const step = trace.steps.find((s) => s.op === "wave");
    expect(step?.expression).toBe("wave(x)");
    expect(step?.parents[0]?.formula).toBe("∂wave(x)/∂x = cos(x)");
    expect(step?.parents[0]?.symbol).toBe("the rule of wave applied to g");
    expect(maxDiff(trace.gradients.get(x) as Tensor, x.grad as Tensor)).toBe(0);
    expect(toDot(y)).toContain("<i>wave</i>");
  });

  test("a non-scalar output traces with a seed; chainFor refuses tensor traces", () => {
    const w = tensor([1, 2, 3], { requiresGrad: true, label: "w" });
    const y = w.mul(w);
    const trace = traceBackward(y, { seed: tensor([1, 1, 1]) });
    expect(trace.steps).toHaveLength(1);
    expect(maxDiff(trace.gradients.get(w) as Tensor, w.grad as Tensor)).toBe(0);
    expect((w.grad as Tensor).toArray()).toEqual([2, 4, 6]);
    expect(formatTrace(trace)).toContain("∂L/∂w +=");
    expect(() => chainFor(trace, new Value(1) as Value)).toThrow(/Value graph/);
  });
});
