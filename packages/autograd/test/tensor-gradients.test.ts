/**
 * Every differentiable Tensor operation against central finite differences (full Jacobians,
 * float64), first and second derivatives (gradgradcheck: finite differences of the gradient a
 * recorded backward pass computes), over random shapes: 0-d tensors, size-1 axes, broadcast
 * pairs, batched matmul shapes, random axes and keepdims. Written with the library's own kit.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { concat, gradcheck, stack, type Tensor, tensor, where } from "../src/index.js";
import {
  broadcastPairArb,
  checkGradients,
  type Domain,
  domains,
  matmulShapesArb,
  shapeArb,
  tensorArb,
} from "../src/testing/index.js";
import { unaryCases } from "./op-cases.js";

const one = (shape: fc.Arbitrary<number[]>, domain: Domain = domains.real) =>
  shape.chain((s) => tensorArb(s, { domain }).map((t): [Tensor] => [t]));

const two = (pair: fc.Arbitrary<[number[], number[]]>, da: Domain = domains.real, db: Domain = da) =>
  pair.chain(([sa, sb]) => fc.tuple(tensorArb(sa, { domain: da }), tensorArb(sb, { domain: db })));

/** A shape with random axes (possibly negative, as a number or a list) and keepdims. */
const withAxes = shapeArb({ minRank: 1, maxRank: 3 }).chain((shape) =>
  fc.record({
    x: tensorArb(shape),
    axis: fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: -shape.length, max: shape.length - 1 }),
      fc.subarray(
        shape.map((_, i) => i),
        { minLength: 1 },
      ),
    ),
    keepdims: fc.boolean(),
  }),
);

describe("unary operations", () => {
  const cases: [string, (x: Tensor) => Tensor, Domain][] = [
    ...unaryCases,
    ["pow 3", (x) => x.pow(3), domains.real],
    ["pow -1.5", (x) => x.pow(-1.5), domains.positive],
    ["clamp", (x) => x.clamp(-1, 1), { min: -3, max: 3, avoid: [-1, 1], margin: 0.05 }],
  ];
  test.each(cases)("%s", (_name, f, domain) => {
    checkGradients(f, one(shapeArb(), domain), { gradgrad: true });
  });
});

describe("binary operations with broadcasting", () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, Domain, Domain][] = [
    ["add", (a, b) => a.add(b), domains.real, domains.real],
    ["sub", (a, b) => a.sub(b), domains.real, domains.real],
    ["mul", (a, b) => a.mul(b), domains.real, domains.real],
    ["div", (a, b) => a.div(b), domains.real, { min: 0.5, max: 3 }],
    ["pow", (a, b) => a.pow(b), domains.positive, domains.real],
    // maximum/minimum: a in [−3, −0.1] ∪ … and b shifted so that ties cannot happen
    [
      "maximum",
      (a, b) => a.maximum(b.add(0.5)),
      { min: -3, max: 3, avoid: [0.5], margin: 0.1 },
      { min: -0.05, max: 0.05 },
    ],
    [
      "minimum",
      (a, b) => a.minimum(b.add(0.5)),
      { min: -3, max: 3, avoid: [0.5], margin: 0.1 },
      { min: -0.05, max: 0.05 },
    ],
  ];
  test.each(cases)("%s", (_name, f, da, db) => {
    checkGradients(f, two(broadcastPairArb(), da, db), { gradgrad: true });
  });

  test("a number on the right", () => {
    checkGradients((x) => x.mul(2.5).add(1).div(3).sub(0.25).pow(2), one(shapeArb()), { gradgrad: true });
  });
});

describe("reductions", () => {
  test("sum", () => {
    fc.assert(
      fc.property(withAxes, ({ x, axis, keepdims }) => {
        checkGradients((t) => t.sum(axis, keepdims), fc.constant([x] as [Tensor]), { numRuns: 1, gradgrad: true });
      }),
      { numRuns: 40 },
    );
  });
  test("mean", () => {
    fc.assert(
      fc.property(withAxes, ({ x, axis, keepdims }) => {
        checkGradients((t) => t.mean(axis, keepdims), fc.constant([x] as [Tensor]), { numRuns: 1, gradgrad: true });
      }),
      { numRuns: 40 },
    );
  });
  test("max and min (distinct values, so no ties)", () => {
    const distinct = shapeArb({ minRank: 1, maxRank: 3 }).chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return fc
        .record({
          perm: fc.shuffledSubarray(
            Array.from({ length: n }, (_, i) => i),
            { minLength: n, maxLength: n },
          ),
          axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
          keepdims: fc.boolean(),
        })
        .map(({ perm, axis, keepdims }) => ({
          x: tensor(
            perm.map((v) => v * 0.1),
            { shape },
          ),
          axis,
          keepdims,
        }));
    });
    fc.assert(
      fc.property(distinct, ({ x, axis, keepdims }) => {
        checkGradients((t) => t.max(axis, keepdims), fc.constant([x] as [Tensor]), { numRuns: 1, gradgrad: true });
        checkGradients((t) => t.min(axis, keepdims), fc.constant([x] as [Tensor]), { numRuns: 1, gradgrad: true });
      }),
      { numRuns: 40 },
    );
  });
  test("logsumexp, softmax, logSoftmax", () => {
    fc.assert(
      fc.property(withAxes, ({ x, axis, keepdims }) => {
        const single = typeof axis === "number" ? axis : -1;
        checkGradients((t) => t.logsumexp(axis, keepdims), fc.constant([x] as [Tensor]), {
          numRuns: 1,
          gradgrad: true,
        });
        checkGradients((t) => t.softmax(single), fc.constant([x] as [Tensor]), { numRuns: 1, gradgrad: true });
        checkGradients((t) => t.logSoftmax(single), fc.constant([x] as [Tensor]), { numRuns: 1, gradgrad: true });
      }),
      { numRuns: 30 },
    );
  });
});

describe("matmul", () => {
  test("every NumPy case, batched shapes broadcasting", () => {
    checkGradients((a, b) => a.matmul(b), two(matmulShapesArb()), { numRuns: 60, gradgrad: true });
  });
});

// Movement ops are linear, so their second derivatives vanish; squaring the result makes the
// second-order check run through the backward rule's own backward rule.
const sq = (t: Tensor) => t.mul(t);

describe("shape operations", () => {
  const anyShape = shapeArb({ minRank: 1, maxRank: 3 });
  const both = { gradgrad: true };
  test("reshape with -1, flatten, squeeze, unsqueeze", () => {
    checkGradients(
      (x) => sq(x.reshape([-1]).reshape([1, x.size, 1]).squeeze().unsqueeze(0).flatten()),
      one(anyShape),
      both,
    );
  });
  test("permute and transpose", () => {
    checkGradients((x) => sq(x.permute(x.shape.map((_, i) => x.ndim - 1 - i)).T), one(anyShape), both);
  });
  test("expand", () => {
    checkGradients(
      (x) =>
        sq(
          x
            .unsqueeze(0)
            .expand([2, ...x.shape])
            .mul(tensor([1, -2]).reshape([2, ...x.shape.map(() => 1)])),
        ),
      one(anyShape),
      both,
    );
  });
  test("slice with steps, negative positions and negative steps", () => {
    const arb = anyShape.chain((shape) =>
      fc.tuple(
        tensorArb(shape),
        fc.array(
          fc.option(
            fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 5 }), fc.constantFrom(1, 2, -1, -2)),
            { nil: null },
          ),
          { minLength: shape.length, maxLength: shape.length },
        ),
      ),
    );
    fc.assert(
      fc.property(arb, ([x, ranges]) => {
        checkGradients((t) => sq(t.slice(...ranges)), fc.constant([x] as [Tensor]), { numRuns: 1, ...both });
      }),
      { numRuns: 40 },
    );
  });
  test("take with repeated and negative indices", () => {
    const arb = anyShape.chain((shape) =>
      fc.record({
        x: tensorArb(shape),
        axis: fc.integer({ min: 0, max: shape.length - 1 }),
        picks: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ x, axis, picks }) => {
        const len = x.shape[axis] as number;
        const idx = picks.map((p, i) => (i % 2 === 0 ? p % len : (p % len) - len));
        checkGradients((t) => sq(t.take(idx, axis)), fc.constant([x] as [Tensor]), { numRuns: 1, ...both });
      }),
      { numRuns: 40 },
    );
  });
  test("concat and stack", () => {
    const arb = anyShape.chain((shape) =>
      fc.tuple(tensorArb(shape), tensorArb(shape), fc.integer({ min: 0, max: shape.length - 1 })),
    );
    fc.assert(
      fc.property(arb, ([a, b, axis]) => {
        const pair = fc.constant([a, b] as [Tensor, Tensor]);
        checkGradients((x, y) => sq(concat([x, y.mul(2), x], axis)), pair, { numRuns: 1, ...both });
        checkGradients((x, y) => sq(stack([x, y], axis)), pair, { numRuns: 1, ...both });
      }),
      { numRuns: 30 },
    );
  });
  test("where", () => {
    checkGradients(
      (a, b) => where(a.gt(0), a.mul(b), b.exp()),
      two(broadcastPairArb(), domains.awayFromZero, domains.real),
      both,
    );
  });
});

describe("dtype conversion and kinks", () => {
  test("astype: float32 inputs promoted to float64 (checked with float32 tolerances)", () => {
    checkGradients(
      (x) => x.astype("float64").mul(x.astype("float64")).astype("float32"),
      shapeArb().chain((s) => tensorArb(s, { dtype: "float32" }).map((t): [Tensor] => [t])),
      { gradgrad: true, numRuns: 20 },
    );
  });
  test("max with ties and relu at 0 pass as one-sided derivatives, and are listed as kinks", () => {
    const tie = gradcheck((x: Tensor) => x.max(), [tensor([1, 1, 0.5])]);
    expect(tie.ok).toBe(true);
    expect(tie.kinks.length).toBeGreaterThan(0);
    const relu = gradcheck((x: Tensor) => x.relu().sum(), [tensor([0, 1, -1])]);
    expect(relu.ok).toBe(true);
    expect(relu.kinks).toHaveLength(1);
  });
});
