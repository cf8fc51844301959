/**
 * prod, var, std and norm: first and second derivatives against finite differences over random
 * shapes (size-1 and size-0 axes, negative axes, lists of axes, keepdims), values by hand,
 * PyTorch's gradients at zeros and ties, fused against composed rules, and bad input.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { arange, ChainruleError, grad, hessian, hvp, type Tensor, tensor } from "../src/index.js";
import { checkGradients, type Domain, shapeArb, tensorArb } from "../src/testing/index.js";

type Axis = number | number[] | undefined;

/** A tensor of a random shape, with random axes (negative too, one or a list, or all) and keepdims. */
function withAxes(options: { minDim?: number; domain?: Domain } = {}) {
  return shapeArb({ minRank: 1, maxRank: 3, minDim: options.minDim ?? 1 }).chain((shape) =>
    fc.record({
      x: tensorArb(shape, options.domain === undefined ? {} : { domain: options.domain }),
      axis: fc.oneof(
        fc.constant<Axis>(undefined),
        fc.integer({ min: -shape.length, max: shape.length - 1 }),
        fc.subarray(
          shape.map((_, i) => i),
          { minLength: 1 },
        ),
      ),
      keepdims: fc.boolean(),
    }),
  );
}

const values = (t: Tensor | null | undefined) => Array.from(t?.data ?? []);

describe("prod", () => {
  // magnitudes in [0.5, 1.5] keep products of up to 64 elements where differences are accurate
  const moderate: Domain = { min: -1.5, max: 1.5, avoid: [0], margin: 0.5 };

  test("first and second derivatives, random shapes and axes", () => {
    fc.assert(
      fc.property(withAxes({ domain: moderate }), ({ x, axis, keepdims }) => {
        checkGradients((t: Tensor) => t.prod(axis, keepdims), fc.constant([x] as [Tensor]), {
          gradgrad: true,
          numRuns: 1,
        });
      }),
      { numRuns: 40 },
    );
  });

  test("first and second derivatives with zeros among the elements (one or several per group)", () => {
    const withZeros = withAxes({ domain: moderate }).chain((c) =>
      fc.array(fc.boolean(), { minLength: c.x.size, maxLength: c.x.size }).map((mask) => ({
        ...c,
        x: tensor(
          values(c.x).map((v, i) => (mask[i] ? 0 : v)),
          { shape: c.x.shape },
        ),
      })),
    );
    fc.assert(
      fc.property(withZeros, ({ x, axis, keepdims }) => {
        checkGradients((t: Tensor) => t.prod(axis, keepdims), fc.constant([x] as [Tensor]), {
          gradgrad: true,
          numRuns: 1,
        });
      }),
      { numRuns: 40 },
    );
  });

  test("size-0 axes: the empty product is 1, and the gradient is empty", () => {
    fc.assert(
      fc.property(shapeArb({ minRank: 1, maxRank: 3, minDim: 0 }), fc.nat(), (shape, k) => {
        const axis = k % shape.length;
        shape[axis] = 0;
        const x = tensor([], { shape, requiresGrad: true });
        const y = x.prod(axis - shape.length, true);
        expect(values(y).every((v) => v === 1)).toBe(true);
        y.sum().backward();
        expect(x.grad?.shape).toEqual(shape);
      }),
    );
  });

  test("values and PyTorch's gradients at zeros", () => {
    const x = tensor([[1, 2, 3, 4]], { requiresGrad: true });
    const y = x.prod(-1);
    expect(values(y)).toEqual([24]);
    y.sum().backward();
    expect(values(x.grad)).toEqual([24, 12, 8, 6]);
    const g = (v: number[]) => values(grad((t: Tensor) => t.prod())(tensor(v)));
    expect(g([2, 0, 3])).toEqual([0, 6, 0]); // one zero: the others' product there, 0 elsewhere
    expect(g([2, 0, 0, 3])).toEqual([0, 0, 0, 0]); // two zeros: every partial product holds a 0
    // ∂²(x₀x₁x₂)/∂xᵢ∂xₖ = the third element: exact at the zero as well
    const h = hessian((t: Tensor) => t.prod())(tensor([2, 0, 3]));
    expect(values(h)).toEqual([0, 3, 0, 3, 0, 2, 0, 2, 0]);
    expect(values(hvp((t: Tensor) => t.prod(), tensor([2, 0, 3]), tensor([1, 1, 1])))).toEqual([3, 5, 2]);
  });

  test("the fused rule (plain backward) and the composed one (recorded) agree, with and without zeros", () => {
    fc.assert(
      fc.property(withAxes({ domain: moderate }), fc.integer({ min: 0, max: 8 }), ({ x, axis, keepdims }, zeroAt) => {
        const data = values(x);
        if (zeroAt < data.length) data[zeroAt] = 0;
        const both = [false, true].map((createGraph) => {
          const t = tensor(data, { shape: x.shape, requiresGrad: true });
          const y = t.prod(axis, keepdims);
          y.mul(arange(y.size).reshape(y.shape).add(1)).sum().backward(undefined, { createGraph });
          return values(t.grad);
        });
        both[0]?.forEach((v, i) => {
          expect(Math.abs(v - (both[1]?.[i] as number))).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(v)));
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe("Hessian-vector products (forward over reverse)", () => {
  const cases: [string, (t: Tensor) => Tensor, Domain][] = [
    ["prod", (t) => t.prod(-1).sum(), { min: -1.5, max: 1.5, avoid: [0], margin: 0.5 }],
    // the other elements away from 0: a product that underflows (a denormal factor) loses its
    // gradient y/xᵢ to 0, as PyTorch's does, while forward over reverse keeps it
    ["prod at a zero (x₁ = 0)", (t) => t.prod(), { min: -1.5, max: 1.5, avoid: [0], margin: 0.5 }],
    ["var", (t) => t.var(0).sum(), { min: -3, max: 3 }],
    ["std", (t) => t.add(arange(t.size).reshape(t.shape).mul(7)).std(-1, { correction: 0 }).sum(), { min: -3, max: 3 }],
    ["norm 2", (t) => t.norm(2, -1).sum(), { min: -3, max: 3, avoid: [0], margin: 0.1 }],
  ];
  test.each(cases)("%s: hvp against central differences of the gradient", (name, f, domain) => {
    fc.assert(
      fc.property(
        shapeArb({ minRank: 1, minDim: 2 }).chain((s) => fc.tuple(tensorArb(s, { domain }), tensorArb(s))),
        ([x0, v]) => {
          const x = name.includes("zero")
            ? tensor(
                values(x0).map((e, i) => (i === 1 ? 0 : e)),
                { shape: x0.shape },
              )
            : x0;
          const got = hvp(f, x, v);
          const h = 1e-6;
          const numeric = grad(f)(x.add(v.mul(h)))
            .sub(grad(f)(x.sub(v.mul(h))))
            .div(2 * h);
          numeric.data.forEach((want, i) => {
            expect(Math.abs((got.data[i] as number) - want)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
          });
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe("var and std", () => {
  /** x spread by a ramp: no reduced group is constant, where std has its kink. */
  const spread = (x: Tensor) => x.add(arange(x.size).reshape(x.shape).mul(7));

  test.each([0, 1, 0.5])("first and second derivatives, correction %s", (correction) => {
    fc.assert(
      fc.property(withAxes({ minDim: 2 }), ({ x, axis, keepdims }) => {
        checkGradients(
          (t: Tensor) =>
            spread(t).var(axis, { correction, keepdims }).add(spread(t).std(axis, { correction, keepdims })),
          fc.constant([x] as [Tensor]),
          { gradgrad: true, numRuns: 1 },
        );
      }),
      { numRuns: 30 },
    );
  });

  test("values by hand; the default correction is 1, as PyTorch", () => {
    const x = tensor([
      [1, 2, 3, 4],
      [2, 2, 2, 2],
    ]);
    expect(values(x.var(-1))).toEqual([5 / 3, 0]);
    expect(values(x.var(1, { correction: 0 }))).toEqual([1.25, 0]);
    expect(values(x.std(1, { correction: 0 }))).toEqual([Math.sqrt(1.25), 0]);
    expect(x.var(0, true).shape).toEqual([1, 4]);
    expect(x.var(undefined, { keepdims: true }).shape).toEqual([1, 1]);
    expect(x.var().item()).toBeCloseTo(0.7857142857142857, 15); // Σ(x − 2.25)² / 7 = 5.5/7
  });

  test("gradients: 2(x − x̄)/(n − c) for var; 0 for std where every element is equal", () => {
    const g = grad((t: Tensor) => t.var())(tensor([1, 2, 3, 6]));
    // x̄ = 3, x − x̄ = [−2, −1, 0, 3], n − 1 = 3
    values(g).forEach((v, i) => {
      expect(v).toBeCloseTo(([-4 / 3, -2 / 3, 0, 2] as number[])[i] as number, 15);
    });
    const gs = grad((t: Tensor) => t.std(0, { correction: 0 }))(tensor([5, 5, 5]));
    expect(values(gs)).toEqual([0, 0, 0]);
  });

  test("n ≤ correction divides by 0, and an empty axis gives NaN, as PyTorch", () => {
    expect(tensor([3]).var().item()).toBeNaN(); // 0/0
    expect(tensor([1, 2]).var(0, { correction: 2 }).item()).toBe(Number.POSITIVE_INFINITY);
    expect(
      tensor([], { shape: [0] })
        .var()
        .item(),
    ).toBeNaN();
    expect(tensor([], { shape: [2, 0] }).std(-1).shape).toEqual([2]);
  });

  test("bad correction or keepdims", () => {
    const x = tensor([1, 2, 3]);
    expect(() => x.var(0, { correction: -1 })).toThrow(/var.*correction must be a finite number ≥ 0, got -1/);
    expect(() => x.std(0, { correction: Number.NaN })).toThrow(/std.*correction/);
    expect(() => x.var(0, { correction: "1" as unknown as number })).toThrow(ChainruleError);
    expect(() => x.var(0, { keepdims: 1 as unknown as boolean })).toThrow(/var.*keepdims must be a boolean/);
    expect(() => x.var(3)).toThrow(ChainruleError);
  });
});

describe("norm", () => {
  test.each([1, 2])("p = %s: first and second derivatives, random shapes and axes", (p) => {
    fc.assert(
      fc.property(withAxes({ domain: { min: -3, max: 3, avoid: [0], margin: 0.1 } }), ({ x, axis, keepdims }) => {
        checkGradients((t: Tensor) => t.norm(p, axis, keepdims), fc.constant([x] as [Tensor]), {
          gradgrad: true,
          numRuns: 1,
        });
      }),
      { numRuns: 30 },
    );
  });

  test("p = ∞: first and second derivatives, off ties", () => {
    // distinct magnitudes: a random permutation of 0.25, 0.5, 0.75, … with random signs
    const distinct = shapeArb({ minRank: 1, maxRank: 3 }).chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return fc
        .tuple(
          fc.shuffledSubarray(
            Array.from({ length: n }, (_, i) => 0.25 * (i + 1)),
            { minLength: n, maxLength: n },
          ),
          fc.array(fc.boolean(), { minLength: n, maxLength: n }),
          fc.integer({ min: -shape.length, max: shape.length - 1 }),
          fc.boolean(),
        )
        .map(([v, signs, axis, keepdims]) => ({
          x: tensor(
            v.map((m, i) => (signs[i] ? -m : m)),
            { shape },
          ),
          axis,
          keepdims,
        }));
    });
    fc.assert(
      fc.property(distinct, ({ x, axis, keepdims }) => {
        checkGradients((t: Tensor) => t.norm(Number.POSITIVE_INFINITY, axis, keepdims), fc.constant([x] as [Tensor]), {
          gradgrad: true,
          numRuns: 1,
        });
      }),
      { numRuns: 30 },
    );
  });

  test("values and PyTorch's gradients at 0 and at ties", () => {
    const x = tensor([3, -4]);
    expect(x.norm().item()).toBe(5);
    expect(x.norm(1).item()).toBe(7);
    expect(x.norm(Number.POSITIVE_INFINITY).item()).toBe(4);
    values(grad((t: Tensor) => t.norm())(x)).forEach((v, i) => {
      expect(v).toBeCloseTo(([0.6, -0.8] as number[])[i] as number, 15);
    });
    // the 2-norm at the zero vector: gradient 0, not NaN
    expect(values(grad((t: Tensor) => t.norm())(tensor([0, 0, 0])))).toEqual([0, 0, 0]);
    values(
      grad((t: Tensor) => t.norm(2, -1).sum())(
        tensor([
          [0, 0],
          [3, 4],
        ]),
      ),
    ).forEach((v, i) => {
      expect(v).toBeCloseTo(([0, 0, 0.6, 0.8] as number[])[i] as number, 15);
    });
    // the 1-norm: sign(x), 0 at 0
    expect(values(grad((t: Tensor) => t.norm(1))(tensor([-2, 0, 5])))).toEqual([-1, 0, 1]);
    // the ∞-norm: ties share the gradient equally
    expect(values(grad((t: Tensor) => t.norm(Number.POSITIVE_INFINITY))(tensor([3, -3, 1])))).toEqual([0.5, -0.5, 0]);
    expect(x.norm(2, 0, true).shape).toEqual([1]);
  });

  test("size-0 axes: the 1- and 2-norms of nothing are 0; the ∞-norm refuses", () => {
    const e = tensor([], { shape: [2, 0], requiresGrad: true });
    expect(values(e.norm(2, -1))).toEqual([0, 0]);
    expect(values(e.norm(1, 1, true))).toEqual([0, 0]);
    e.norm(2, -1).sum().backward();
    expect(e.grad?.shape).toEqual([2, 0]);
    expect(() => e.norm(Number.POSITIVE_INFINITY, -1)).toThrow(/norm.*empty axis/);
  });

  test("p must be 1, 2 or Infinity", () => {
    const x = tensor([1, 2]);
    for (const p of [0, 3, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(() => x.norm(p)).toThrow(/norm.*p must be 1, 2 or Infinity/);
    }
    expect(() => x.norm("fro" as unknown as number)).toThrow(ChainruleError);
    expect(() => x.norm(2, 0, "yes" as unknown as boolean)).toThrow(/norm.*keepdims must be a boolean/);
  });
});
