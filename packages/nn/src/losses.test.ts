/**
 * @file Tests for losses.ts: hand-computed values and gradients for every reduction (the mse
 * constants table), the seed's quadratic cost on its worked instance, gradients against finite
 * differences (fast-check), stability at extreme inputs, and errors. Imports losses.ts, data.ts,
 * @chainrule/autograd and its testing kit.
 */

import { ChainruleError, type Tensor, tensor } from "@chainrule/autograd";
import { checkGradients, domains, shapeArb, tensorArb } from "@chainrule/autograd/testing";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { oneHot } from "./data.js";
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, mseLoss, quadraticCost } from "./losses.js";

const values = (t: Tensor) => Array.from(t.data);
/** ∂loss/∂x for a fresh leaf copy of x. */
function gradOf(x: Tensor, loss: (x: Tensor) => Tensor): number[] {
  const leaf = x.clone().requireGrad();
  loss(leaf).backward();
  return values(leaf.grad!);
}
/** Elementwise agreement to about 1e-14 (the last bits depend on the order of operations). */
function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i]!, 14);
  });
}

describe("mseLoss: every reduction's constant", () => {
  // e = ŷ − y = 1…6 over N = 6 elements in m = 2 examples; Σe² = 91.
  const pred = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const target = tensor([
    [0, 0, 0],
    [0, 0, 0],
  ]);
  const e = [1, 2, 3, 4, 5, 6];

  test("values", () => {
    expect(mseLoss(pred, target).item()).toBe(91 / 6); // PyTorch's default
    expect(mseLoss(pred, target, { reduction: "sum" }).item()).toBe(91);
    expect(mseLoss(pred, target, { reduction: "batchmean" }).item()).toBe(91 / 2);
    expect(values(mseLoss(pred, target, { reduction: "none" }))).toEqual(e.map((v) => v * v));
    expect(mseLoss(pred, target, { half: true }).item()).toBe(91 / 12);
    expect(mseLoss(pred, target, { half: true, reduction: "sum" }).item()).toBe(91 / 2);
    expect(quadraticCost(pred, target).item()).toBe(91 / 4); // (1/m) Σ ½‖e‖²
  });

  test("gradients: 2e/N, 2e, 2e/m, and e/m for the quadratic cost", () => {
    expectClose(
      gradOf(pred, (x) => mseLoss(x, target)),
      e.map((v) => (2 * v) / 6),
    );
    expectClose(
      gradOf(pred, (x) => mseLoss(x, target, { reduction: "sum" })),
      e.map((v) => 2 * v),
    );
    expectClose(
      gradOf(pred, (x) => mseLoss(x, target, { reduction: "batchmean" })),
      e.map((v) => v),
    );
    expectClose(
      gradOf(pred, (x) => quadraticCost(x, target)),
      e.map((v) => v / 2),
    );
    expectClose(
      gradOf(pred, (x) => mseLoss(x, target, { half: true })),
      e.map((v) => v / 6),
    );
    // and with respect to the target: the negative
    expectClose(
      gradOf(target, (y) => quadraticCost(pred, y)),
      e.map((v) => -v / 2),
    );
  });

  test("the seed's worked instance: C = ½(y − a²)² = 0.16707240280612830", () => {
    const sigma = (z: number) => 1 / (1 + Math.exp(-z));
    const a2 = sigma(-1.3 * sigma(0.8 * 0.5 - 0.2) + 0.4);
    const C = mseLoss(tensor([a2]), tensor([1]), { half: true, reduction: "sum" }).item();
    expect(Math.abs(C - 0.1670724028061283)).toBeLessThan(1e-15);
    expect(quadraticCost(tensor([[a2]]), tensor([[1]])).item()).toBe(C);
  });

  test("gradients agree with central differences for random shapes", () => {
    const pair = shapeArb({ minRank: 1 }).chain((s) => fc.tuple(tensorArb(s), tensorArb(s)));
    checkGradients((a: Tensor, b: Tensor) => mseLoss(a, b), pair, { numRuns: 25 });
    checkGradients((a: Tensor, b: Tensor) => quadraticCost(a, b), pair, { numRuns: 25 });
    checkGradients((a: Tensor, b: Tensor) => mseLoss(a, b, { reduction: "none", half: true }), pair, { numRuns: 25 });
  });

  test("errors", () => {
    expect(() => mseLoss(pred, tensor([1, 2, 3]))).toThrow(
      new ChainruleError("mseLoss", "prediction has shape [2, 3] but target has shape [3]; they must match"),
    );
    expect(() => mseLoss(pred, target, { reduction: "avg" as never })).toThrow(
      /mseLoss: reduction must be "mean", "sum", "batchmean", "none", got the string "avg"/,
    );
    expect(() => mseLoss([1, 2] as never, target)).toThrow(/mseLoss: prediction must be a Tensor, got an array/);
    expect(() => quadraticCost(tensor([]).reshape([0, 2]), tensor([]).reshape([0, 2]))).toThrow(
      /batchmean needs at least one example/,
    );
  });
});

describe("crossEntropy", () => {
  const logits = tensor([
    [1, 2, 3],
    [0.5, -1, 0],
  ]);
  const labels = [2, 0];
  /** −log softmax(z)[y], by hand. */
  const nll = (z: number[], y: number) => Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[y]!;
  const expected = [nll([1, 2, 3], 2), nll([0.5, -1, 0], 0)];

  test("class labels, one-hot rows and a label tensor give the same losses", () => {
    const none = crossEntropy(logits, labels, { reduction: "none" });
    expect(none.shape).toEqual([2]);
    values(none).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i]!, 14);
    });
    expect(crossEntropy(logits, labels).item()).toBeCloseTo((expected[0]! + expected[1]!) / 2, 14);
    expect(crossEntropy(logits, labels, { reduction: "sum" }).item()).toBeCloseTo(expected[0]! + expected[1]!, 14);
    expect(crossEntropy(logits, oneHot(labels, 3)).item()).toBeCloseTo(crossEntropy(logits, labels).item(), 15);
    expect(crossEntropy(logits, tensor(labels)).item()).toBe(crossEntropy(logits, labels).item());
    expect(crossEntropy(logits, Int32Array.from(labels)).item()).toBe(crossEntropy(logits, labels).item());
    expect(crossEntropy(logits, tensor(labels, { dtype: "int32" })).item()).toBe(crossEntropy(logits, labels).item());
    expect(crossEntropy(tensor([1, 2, 3]), 2).item()).toBeCloseTo(expected[0]!, 14);
  });

  test("∂ℓ/∂z = (softmax(z) − onehot(y)) / n", () => {
    const g = gradOf(logits, (z) => crossEntropy(z, labels));
    const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((s, w) => s + Math.exp(w), 0));
    const want = [
      ...softmax([1, 2, 3]).map((p, c) => (p - (c === 2 ? 1 : 0)) / 2),
      ...softmax([0.5, -1, 0]).map((p, c) => (p - (c === 0 ? 1 : 0)) / 2),
    ];
    g.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 14);
    });
  });

  test("stable for huge logits; leading axes are examples", () => {
    expect(crossEntropy(tensor([[1000, 0, -1000]]), [0]).item()).toBe(0);
    expect(crossEntropy(tensor([[1000, 0, -1000]]), [2]).item()).toBe(2000);
    const z = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], { shape: [2, 2, 3] });
    expect(crossEntropy(z, tensor([0, 1, 2, 0], { shape: [2, 2] }), { reduction: "none" }).shape).toEqual([2, 2]);
  });

  test("gradients agree with central differences, for labels and for probabilities", () => {
    const input = fc
      .record({ n: fc.integer({ min: 1, max: 4 }), c: fc.integer({ min: 1, max: 4 }) })
      .chain(({ n, c }) =>
        fc.tuple(tensorArb([n, c]), fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n })),
      );
    fc.assert(
      fc.property(input, ([z, y]) => {
        checkGradients((t: Tensor) => crossEntropy(t, y), fc.constant([z] as [Tensor]), { numRuns: 1 });
      }),
      { numRuns: 20 },
    );
    const probs = shapeArb({ minRank: 2, maxRank: 2 }).chain((s) =>
      fc.tuple(
        tensorArb(s),
        tensorArb(s, { domain: domains.positive }).map((t) => t.div(t.sum(-1, true))),
      ),
    );
    checkGradients((z: Tensor, t: Tensor) => crossEntropy(z, t), probs, { numRuns: 25 });
  });

  test("errors name the labels and shapes", () => {
    expect(() => crossEntropy(logits, [3, 0])).toThrow(
      new ChainruleError("crossEntropy", "label 3 at position 0 is not a class index in [0, 3)"),
    );
    expect(() => crossEntropy(logits, [1.5, 0])).toThrow(/label 1.5 at position 0/);
    expect(() => crossEntropy(logits, [1])).toThrow(/1 labels given for 2 examples \(logits of shape \[2, 3\]\)/);
    expect(() => crossEntropy(logits, tensor([1, 2, 0]))).toThrow(
      /target of shape \[3\] fits neither class labels of shape \[2\] nor probabilities of shape \[2, 3\]/,
    );
    expect(() => crossEntropy(logits, tensor([[1, 0]]))).toThrow(
      /logits has shape \[2, 3\] but probability targets has shape \[1, 2\]/,
    );
    expect(() => crossEntropy(tensor(1), [0])).toThrow(/logits must have a class axis/);
    expect(() => crossEntropy(logits, "a" as never)).toThrow(
      /target must be a Tensor, a number array or an Int32Array/,
    );
  });
});

/**
 * PyTorch's F.cross_entropy with weight, ignore_index and label_smoothing, written out with loops
 * from its definition (aten's cross_entropy_loss_label_smoothing and nll_loss): the oracle.
 */
function crossEntropyRef(
  z: number[][],
  y: number[],
  o: { weight?: number[]; ignoreIndex?: number; labelSmoothing?: number; reduction?: "mean" | "sum" | "none" },
): number | number[] {
  const { ignoreIndex = -100, labelSmoothing: e = 0, reduction = "mean" } = o;
  const C = z[0]!.length;
  const w = o.weight ?? new Array<number>(C).fill(1);
  const losses: number[] = [];
  let denominator = 0;
  z.forEach((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    if (y[i] === ignoreIndex) {
      losses.push(0);
      return;
    }
    const nll = -w[y[i]!]! * logp[y[i]!]!;
    const smooth = -logp.reduce((s, v, c) => s + w[c]! * v, 0);
    losses.push((1 - e) * nll + (e / C) * smooth);
    denominator += w[y[i]!]!;
  });
  if (reduction === "none") return losses;
  const total = losses.reduce((a, b) => a + b, 0);
  return reduction === "sum" ? total : total / denominator;
}

describe("crossEntropy: weight, ignoreIndex, labelSmoothing (PyTorch's semantics)", () => {
  test("uniform logits give log C whatever the smoothing; the default ignoreIndex is −100", () => {
    const z = tensor([[0, 0, 0]]);
    for (const labelSmoothing of [0, 0.1, 0.5, 1]) {
      expect(crossEntropy(z, [1], { labelSmoothing }).item()).toBeCloseTo(Math.log(3), 14);
    }
    const logits = tensor([
      [1, 2, 3],
      [3, 0, -1],
    ]);
    expect(crossEntropy(logits, [2, -100]).item()).toBeCloseTo(crossEntropy(tensor([[1, 2, 3]]), [2]).item(), 15);
    expect(values(crossEntropy(logits, [2, -100], { reduction: "none" }))[1]).toBe(0);
  });

  test("the weighted mean divides by the weights of the targets not ignored", () => {
    const logits = tensor([
      [1, 2, 3],
      [3, 0, -1],
      [0.5, 0.5, 2],
    ]);
    const each = values(crossEntropy(logits, [0, 1, 2], { reduction: "none" }));
    const weighted = crossEntropy(logits, [0, 1, 2], { weight: [1, 3, 0.5], ignoreIndex: 2 });
    expect(weighted.item()).toBeCloseTo((1 * each[0]! + 3 * each[1]!) / 4, 14);
  });

  test("random cases against the reference (values, and gradients against finite differences)", () => {
    const input = fc
      .record({ n: fc.integer({ min: 1, max: 5 }), c: fc.integer({ min: 1, max: 4 }) })
      .chain(({ n, c }) =>
        fc.record({
          z: tensorArb([n, c]),
          y: fc.array(fc.integer({ min: -1, max: c - 1 }), { minLength: n, maxLength: n }),
          weight: fc.option(fc.array(fc.double({ min: 0.1, max: 3, noNaN: true }), { minLength: c, maxLength: c }), {
            nil: undefined,
          }),
          labelSmoothing: fc.constantFrom(0, 0.1, 0.37, 1),
          reduction: fc.constantFrom("mean" as const, "sum" as const, "none" as const),
        }),
      )
      .filter(({ y, reduction }) => reduction !== "mean" || y.some((v) => v !== -1));
    fc.assert(
      fc.property(input, ({ z, y, weight, labelSmoothing, reduction }) => {
        const options = { ignoreIndex: -1, labelSmoothing, reduction, ...(weight ? { weight } : {}) };
        const got = crossEntropy(z, y, options);
        const want = crossEntropyRef(z.toArray() as number[][], y, options);
        const wantList = typeof want === "number" ? [want] : want;
        values(got).forEach((v, i) => {
          expect(Math.abs(v - wantList[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(wantList[i]!)));
        });
        checkGradients((t: Tensor) => crossEntropy(t, y, options), fc.constant([z] as [Tensor]), { numRuns: 1 });
      }),
      { numRuns: 60 },
    );
  });

  test("probability targets: smoothing mixes with 1/C, weights scale classes, the mean is over examples", () => {
    const z = tensor([
      [1, 2, 3],
      [3, 0, -1],
    ]);
    const t = tensor([
      [0, 0.25, 0.75],
      [1, 0, 0],
    ]);
    const w = tensor([2, 1, 0.5]);
    const logp = z.logSoftmax(-1).toArray() as number[][];
    const tt = t.toArray() as number[][];
    const e = 0.2;
    const per = logp.map((row, i) => -row.reduce((s, v, c) => s + w.data[c]! * ((1 - e) * tt[i]![c]! + e / 3) * v, 0));
    expect(crossEntropy(z, t, { weight: w, labelSmoothing: e }).item()).toBeCloseTo((per[0]! + per[1]!) / 2, 14);
    expectClose(values(crossEntropy(z, t, { weight: w, labelSmoothing: e, reduction: "none" })), per);
    checkGradients(
      (a: Tensor, b: Tensor) => crossEntropy(a, b, { weight: w, labelSmoothing: e }),
      fc.constant([z, t] as [Tensor, Tensor]),
      { numRuns: 1 },
    );
  });

  test("float32 logits with float64 weights stay float32", () => {
    const z = tensor([[1, 2]], { dtype: "float32" });
    expect(crossEntropy(z, [1], { weight: tensor([1, 2]) }).dtype).toBe("float32");
  });

  test("errors", () => {
    const z = tensor([
      [1, 2, 3],
      [3, 0, -1],
    ]);
    expect(() => crossEntropy(z, [0, 1], { weight: [1, 2] })).toThrow(
      "crossEntropy: weight of shape [2] must have one entry per class: expected [3] for logits of shape [2, 3]",
    );
    expect(() => crossEntropy(z, [0, 1], { weight: "x" as never })).toThrow(
      /weight must be a Tensor or a number array/,
    );
    expect(() => crossEntropy(z, [0, 1], { labelSmoothing: 1.5 })).toThrow(
      /labelSmoothing must be a number in \[0, 1\]/,
    );
    expect(() => crossEntropy(z, [0, 1], { ignoreIndex: 0.5 })).toThrow(/ignoreIndex must be an integer/);
    expect(() => crossEntropy(z, [-100, -100])).toThrow(
      /the mean over 0 examples is undefined \(every target is ignored\)/,
    );
    expect(crossEntropy(z, [-100, -100], { reduction: "sum" }).item()).toBe(0);
    expect(() => crossEntropy(z, [0, 1], { weight: [0, 0, 1] })).toThrow(
      /the weights of the targets not ignored sum to 0/,
    );
    expect(() => crossEntropy(z, z.softmax(-1), { ignoreIndex: 1 })).toThrow(
      /ignoreIndex 1 cannot be used with probability targets/,
    );
    expect(() => crossEntropy(z, [-1, 0])).toThrow(/label -1 at position 0 is not a class index in \[0, 3\)/);
  });
});

describe("binary cross-entropy", () => {
  test("from probabilities: −(y log p + (1 − y) log(1 − p)), mean over elements", () => {
    const p = tensor([0.8, 0.3]);
    const y = tensor([1, 0]);
    expect(values(binaryCrossEntropy(p, y, { reduction: "none" }))).toEqual([-Math.log(0.8), -Math.log(1 - 0.3)]);
    expect(binaryCrossEntropy(p, y).item()).toBeCloseTo((-Math.log(0.8) - Math.log(0.7)) / 2, 15);
    const g = gradOf(p, (q) => binaryCrossEntropy(q, y, { reduction: "sum" }));
    expect(g[0]).toBeCloseTo((0.8 - 1) / (0.8 * 0.2), 12);
    expect(g[1]).toBeCloseTo((0.3 - 0) / (0.3 * 0.7), 12);
  });

  test("p = 0 or 1 gives a loss of at most 100 per element and no NaN gradient (PyTorch's clamp)", () => {
    const p = tensor([0, 1, 0, 1]);
    const y = tensor([1, 0, 0, 1]);
    const losses = values(binaryCrossEntropy(p, y, { reduction: "none" }));
    expect(losses[0]).toBeCloseTo(100, 12);
    expect(losses[1]).toBeCloseTo(100, 12);
    expectClose(losses.slice(2), [0, 0]);
    expect(gradOf(p, (q) => binaryCrossEntropy(q, y)).every(Number.isFinite)).toBe(true);
  });

  test("with logits: log(1 + eᶻ) − yz, gradient σ(z) − y exactly, also at z = 0", () => {
    const z = tensor([0, 2, -3, 1000, -1000]);
    const y = tensor([1, 0, 0.5, 1, 0]);
    const sigma = (v: number) => 1 / (1 + Math.exp(-v));
    const want = [0, 2, -3, 1000, -1000].map((v, i) => {
      const t = [1, 0, 0.5, 1, 0][i]!;
      return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))) - t * v;
    });
    values(binaryCrossEntropyWithLogits(z, y, { reduction: "none" })).forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 13);
    });
    const g = gradOf(z, (t) => binaryCrossEntropyWithLogits(t, y, { reduction: "sum" }));
    expect(g[0]).toBe(-0.5);
    g.forEach((v, i) => {
      expect(v).toBeCloseTo(sigma([0, 2, -3, 1000, -1000][i]!) - [1, 0, 0.5, 1, 0][i]!, 15);
    });
    // the same as binaryCrossEntropy after a sigmoid, where that one is accurate
    const zs = tensor([-2, -0.1, 0.3, 4]);
    const ys = tensor([0, 1, 1, 0.2]);
    expect(binaryCrossEntropyWithLogits(zs, ys).item()).toBeCloseTo(binaryCrossEntropy(zs.sigmoid(), ys).item(), 13);
  });

  test("gradients agree with central differences", () => {
    const pair = (domain: { min: number; max: number }) =>
      shapeArb({ minRank: 1 }).chain((s) =>
        fc.tuple(tensorArb(s, { domain }), tensorArb(s, { domain: { min: 0, max: 1 } })),
      );
    checkGradients((p: Tensor, y: Tensor) => binaryCrossEntropy(p, y), pair({ min: 0.05, max: 0.95 }), { numRuns: 25 });
    checkGradients((z: Tensor, y: Tensor) => binaryCrossEntropyWithLogits(z, y), pair({ min: -4, max: 4 }), {
      numRuns: 25,
    });
  });

  test("errors", () => {
    expect(() => binaryCrossEntropy(tensor([1.5]), tensor([1]))).toThrow(
      /binaryCrossEntropy: probabilities must lie in \[0, 1\]; element 0 is 1.5 \(pass logits to binaryCrossEntropyWithLogits\)/,
    );
    expect(() => binaryCrossEntropy(tensor([0.5]), tensor([1, 0]))).toThrow(
      /probabilities has shape \[1\] but target has shape \[2\]/,
    );
    expect(() => binaryCrossEntropyWithLogits(tensor([0.5]), tensor([[1]]))).toThrow(
      /binaryCrossEntropyWithLogits: logits has shape \[1\] but target has shape \[1, 1\]/,
    );
  });
});
