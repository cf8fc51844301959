/**
 * NaN propagates through every elementwise op, as in PyTorch and NumPy: in the rule table (which
 * `Value` uses too), the typed-array loops and the SIMD ReLU kernels. The gradients at NaN are
 * PyTorch's: relu and maximum/minimum pass g on (their masks test y ≤ 0, a < b, … which NaN fails),
 * clamp selects g only inside [min, max] (0 at NaN), leakyRelu gives α·g.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  type BinaryRule,
  binary,
  grad,
  jvp,
  type Tensor,
  type TensorDtype,
  tensor,
  type UnaryRule,
  unary,
  where,
} from "../src/index.js";

const relu: UnaryRule = unary.relu;
const rules: BinaryRule[] = [binary.maximum, binary.minimum];

const values = (t: Tensor) => Array.from(t.data);

/** The gradient of sum(f(x)) at x, by the fused loops and by the composed rules (createGraph). */
function gradients(f: (x: Tensor) => Tensor, xs: number[], dtype: TensorDtype = "float64") {
  const fused = tensor(xs, { requiresGrad: true, dtype });
  f(fused).sum().backward();
  const composed = tensor(xs, { requiresGrad: true, dtype });
  f(composed).sum().backward(undefined, { createGraph: true });
  return [values(fused.grad as Tensor), values(composed.grad as Tensor)];
}

describe("the rule table", () => {
  test("relu(NaN) is NaN with derivative 1, relu(−0) is +0", () => {
    expect(relu.f(Number.NaN)).toBeNaN();
    expect(relu.df(Number.NaN, Number.NaN)).toBe(1);
    expect(Object.is(relu.f(-0), 0)).toBe(true);
    expect(relu.df(0, 0)).toBe(0);
  });

  test("maximum and minimum give NaN for a NaN in either place, with both partials 1", () => {
    for (const rule of rules) {
      for (const [a, b] of [
        [1, Number.NaN],
        [Number.NaN, 2],
        [Number.NaN, Number.NaN],
      ] as const) {
        const y = rule.f(a, b);
        expect(y).toBeNaN();
        expect([rule.da(a, b, y), rule.db(a, b, y)]).toEqual([1, 1]);
      }
      expect([rule.da(3, 3, 3), rule.db(3, 3, 3)]).toEqual([0.5, 0.5]); // a tie splits g, as PyTorch does
    }
  });
});

describe("tensors", () => {
  test.each([5, 3000])("relu of %i elements (loop and SIMD kernel) keeps NaN and passes g at NaN", (n) => {
    for (const dtype of ["float64", "float32"] as const) {
      const xs = Array.from({ length: n }, (_, i) => [Number.NaN, -0, 0, -1, 2][i % 5] as number);
      const y = values(tensor(xs, { dtype }).relu());
      expect(y[0]).toBeNaN();
      expect(Object.is(y[1], 0)).toBe(true);
      expect(y.slice(2, 5)).toEqual([0, 0, 2]);
      for (const g of gradients((x) => x.relu(), xs, dtype)) expect(g.slice(0, 5)).toEqual([1, 0, 0, 0, 1]);
    }
  });

  test("a NaN gradient from above reaches the input through relu", () => {
    const x = tensor(
      Array.from({ length: 3000 }, () => Number.NaN),
      { requiresGrad: true },
    );
    const w = tensor(Number.NaN, { requiresGrad: true });
    x.mul(w).relu().sum().backward();
    expect(values(x.grad as Tensor).every(Number.isNaN)).toBe(true);
    expect(w.grad?.item()).toBeNaN();
  });

  test("maximum([1, NaN], [NaN, 2]) and minimum are [NaN, NaN], in either order, with g to both", () => {
    for (const op of ["maximum", "minimum"] as const) {
      for (const [p, q] of [
        [
          [1, Number.NaN],
          [Number.NaN, 2],
        ],
        [
          [Number.NaN, 2],
          [1, Number.NaN],
        ],
      ]) {
        for (const createGraph of [false, true]) {
          const a = tensor(p as number[], { requiresGrad: true });
          const b = tensor(q as number[], { requiresGrad: true });
          const y = a[op](b);
          expect(values(y).every(Number.isNaN)).toBe(true);
          y.sum().backward(undefined, { createGraph });
          expect(values(a.grad as Tensor)).toEqual([1, 1]);
          expect(values(b.grad as Tensor)).toEqual([1, 1]);
        }
      }
    }
    expect(values(tensor([1, Number.NaN]).maximum(0))[1]).toBeNaN(); // a number operand too
  });

  test("clamp([NaN], 0, 1) is NaN with gradient 0 (PyTorch's clamp_backward); g passes at the bounds", () => {
    expect(values(tensor([Number.NaN, -1, 0.5, 2]).clamp(0, 1))).toEqual([Number.NaN, 0, 0.5, 1]);
    for (const [min, max] of [
      [0, 1],
      [0, undefined],
      [undefined, 1],
    ] as const) {
      const out = values(tensor([Number.NaN]).clamp(min, max));
      expect(out[0]).toBeNaN();
      for (const g of gradients((x) => x.clamp(min, max), [Number.NaN, -1, 0, 0.5, 1, 2])) {
        const inside = [Number.NaN, -1, 0, 0.5, 1, 2].map((v) => ((min ?? v) <= v && v <= (max ?? v) ? 1 : 0));
        expect(g).toEqual(inside);
      }
    }
  });

  test("leakyRelu's composition (where) keeps NaN and gives α·g at NaN", () => {
    const leaky = (x: Tensor) => where(x.gt(0), x, x.mul(0.1));
    expect(values(leaky(tensor([Number.NaN])))[0]).toBeNaN();
    for (const g of gradients(leaky, [Number.NaN, 2, -2])) expect(g).toEqual([0.1, 1, 0.1]);
  });

  test("every elementwise op keeps NaN", () => {
    const x = tensor([Number.NaN, 1], { requiresGrad: true });
    const ops: Array<(x: Tensor) => Tensor> = [
      (x) => x.neg(),
      (x) => x.exp(),
      (x) => x.log(),
      (x) => x.sqrt(),
      (x) => x.abs(),
      (x) => x.tanh(),
      (x) => x.sigmoid(),
      (x) => x.relu(),
      (x) => x.pow(3),
      (x) => x.add(1),
      (x) => x.sub(1),
      (x) => x.mul(2),
      (x) => x.div(2),
      (x) => x.maximum(0),
      (x) => x.minimum(0),
      (x) => x.clamp(-1, 1),
    ];
    for (const f of ops) expect(values(f(x))[0]).toBeNaN();
  });

  test("a ReLU layer with NaN weights gives a NaN loss, not a finite one", () => {
    const w = tensor(
      [
        [Number.NaN, 1],
        [1, Number.NaN],
      ],
      { requiresGrad: true },
    );
    const x = tensor([[1, 2]]);
    const loss = x
      .matmul(w)
      .relu()
      .sub(tensor([[1, 1]]))
      .pow(2)
      .mean();
    expect(loss.item()).toBeNaN();
    loss.backward();
    expect(values(w.grad as Tensor).every(Number.isNaN)).toBe(true);
  });

  test("property: the relu loop, the SIMD kernel and the rule agree bit for bit, NaN and −0 included", () => {
    const special = fc.constantFrom(Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    const element = fc.oneof(special, fc.double());
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 40 }), fc.boolean(), (xs, f32) => {
        const dtype = f32 ? "float32" : "float64";
        const long = Array.from({ length: 2048 }, (_, i) => xs[i % xs.length] as number); // the SIMD kernel
        for (const input of [xs, long]) {
          const x = tensor(input, { dtype });
          const y = values(x.relu());
          const expected = Array.from(x.data, (v) => relu.f(v));
          if (!y.every((v, i) => Object.is(v, expected[i]))) return false;
          const g = tensor(
            input.map((_, i) => i - 3),
            { dtype },
          );
          const xg = tensor(input, { dtype, requiresGrad: true });
          xg.relu().backward(g);
          const dx = values(xg.grad as Tensor);
          const want = Array.from(x.data, (v, i) => (relu.df(v, relu.f(v)) === 0 ? 0 : (g.data[i] as number)));
          if (!dx.every((v, i) => Object.is(v, want[i]))) return false;
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });
});

describe("ties of maximum and minimum", () => {
  test("split the gradient in halves, as PyTorch: fused, recorded and forward-mode rules", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const b = tensor([2, 2, 2], { requiresGrad: true });
    a.maximum(b).sum().backward();
    expect(Array.from(a.grad?.data ?? [])).toEqual([0, 0.5, 1]);
    expect(Array.from(b.grad?.data ?? [])).toEqual([1, 0.5, 0]);
    const [ga, gb] = grad((x: Tensor, y: Tensor) => x.minimum(y).sum(), [0, 1])(tensor([1, 2, 3]), tensor([2, 2, 2]));
    expect(Array.from(ga?.data ?? [])).toEqual([1, 0.5, 0]);
    expect(Array.from(gb?.data ?? [])).toEqual([0, 0.5, 1]);
    const { tangent } = jvp((x: Tensor) => x.maximum(2), [tensor([1, 2, 3])], [tensor([1, 1, 1])]);
    expect(Array.from(tangent.data)).toEqual([0, 0.5, 1]);
  });
});
