/**
 * int32 index tensors and the ops that take or give them: gather, scatterAdd, indexSelect, take
 * with batched indices, sort, topk, and the running reductions cumsum, cumprod, logcumsumexp.
 * Values against hand-computed results, gradients against finite differences (first and second
 * order, random shapes with size-1 and size-0 axes and negative axes), and every error.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  ChainruleError,
  cumprod,
  cumsum,
  gather,
  grad,
  indexSelect,
  jvp,
  logcumsumexp,
  noGrad,
  scatterAdd,
  sort,
  stack,
  type Tensor,
  tensor,
  topk,
  vmap,
  where,
  zeros,
} from "../src/index.js";
import { checkGradients, tensorArb } from "../src/testing/index.js";

const int = (values: Parameters<typeof tensor>[0]) => tensor(values, { dtype: "int32" });
const sq = (t: Tensor) => t.mul(t); // makes linear ops' second derivatives non-zero

/** Expect a ChainruleError of `op` whose message matches `message`. */
function refuses(f: () => unknown, op: string, message: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ChainruleError);
  expect((caught as ChainruleError).op).toBe(op);
  expect((caught as ChainruleError).message).toMatch(message);
}

describe("int32 tensors", () => {
  test("are backed by an Int32Array and keep integer values", () => {
    const t = int([
      [1, -2],
      [3, 4],
    ]);
    expect(t.dtype).toBe("int32");
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(t.toArray()).toEqual([
      [1, -2],
      [3, 4],
    ]);
    expect(tensor([1.7, -1.7]).astype("int32").toArray()).toEqual([1, -1]); // truncated toward zero
    expect(int([2.5, -2.5]).toArray()).toEqual([2, -2]);
    refuses(() => int([1, Number.NaN]), "tensor", /element 1 is NaN, which an int32 tensor cannot hold/);
    refuses(() => int([2 ** 31]), "tensor", /element 0 is 2147483648/);
  });

  test("promote as PyTorch does, with float64 as the default float dtype", () => {
    const a = int([1, 2, 3]);
    const b = int([2, 2, 2]);
    for (const t of [a.add(b), a.sub(b), a.mul(b), a.neg(), a.abs(), a.relu(), a.maximum(b), a.minimum(b)])
      expect(t.dtype).toBe("int32");
    for (const t of [a.gt(b), a.eq(2), a.sum(), a.max(), a.min(0), a.add(2), a.mul(-3), a.cumsum(0), a.sign()])
      expect(t.dtype).toBe("int32");
    expect(a.mul(b).toArray()).toEqual([2, 4, 6]);
    for (const t of [a.div(b), a.exp(), a.sqrt(), a.mean(), a.softmax(), a.pow(2), a.add(0.5), a.logsumexp()])
      expect(t.dtype).toBe("float64");
    expect(a.div(b).toArray()).toEqual([0.5, 1, 1.5]); // true division
    expect(
      int([2 ** 30, 2 ** 30, 2 ** 30])
        .mean()
        .item(),
    ).toBe(2 ** 30); // summed in float64: no wrap-around
    expect(a.add(0.5).toArray()).toEqual([1.5, 2.5, 3.5]);
    expect(a.add(tensor([0.5], { dtype: "float32" })).dtype).toBe("float32");
    expect(a.add(tensor([0.5])).dtype).toBe("float64");
    expect(
      int([[1, 2]])
        .matmul(int([[3], [4]]))
        .toArray(),
    ).toEqual([[11]]);
    expect(int([[1, 2]]).matmul(int([[3], [4]])).dtype).toBe("float64");
  });

  test("never require grad", () => {
    refuses(() => int([1]).requireGrad(), "requireGrad", /int32 tensor cannot require grad/);
    refuses(() => tensor([1], { dtype: "int32", requiresGrad: true }), "tensor", /cannot require grad/);
    const w = tensor([1.5, 2.5], { requiresGrad: true });
    refuses(() => w.astype("int32"), "astype", /requires grad.*no gradient flows through int32; detach\(\) first/);
    expect(noGrad(() => w.astype("int32")).toArray()).toEqual([1, 2]);
    expect(w.detach().astype("int32").requiresGrad).toBe(false);
    refuses(() => jvp((x) => x.mul(2), [int([1])], [int([1])]), "jvp", /int32 input cannot carry a tangent/);
    refuses(() => jvp((x) => x.astype("int32"), [tensor([1.5])], [tensor([1])]), "astype", /carries a jvp tangent/);
  });

  test("mixed with floats, the gradient reaches the float operand only", () => {
    const labels = int([0, 2, 1]);
    const w = tensor([0.5, -1, 2], { requiresGrad: true });
    w.mul(labels).add(labels).sum().backward();
    expect(w.grad?.toArray()).toEqual([0, 2, 1]);
    expect(labels.grad).toBeNull();
    // an int32 result is a constant, even when an input that requires grad went into it
    expect(where(w, int([1, 2, 3]), int([4, 5, 6])).requiresGrad).toBe(false);
    expect(where(w, int([1, 2, 3]), int([4, 5, 6])).dtype).toBe("int32");
  });

  test("a transposed view of an int32 tensor is int32 and serves as an index", () => {
    const idx = int([
      [1, 1],
      [0, 0],
    ]).T; // [[1, 0], [1, 0]]
    expect(idx.dtype).toBe("int32");
    refuses(() => idx.requireGrad(), "requireGrad", /int32 tensor cannot require grad/);
    expect(
      tensor([
        [5, 6],
        [7, 8],
      ])
        .gather(1, idx)
        .toArray(),
    ).toEqual([
      [6, 5],
      [8, 7],
    ]);
  });

  test("argmax and argmin give int32 positions", () => {
    const x = tensor([
      [1, 5, 5],
      [7, 0, 2],
    ]);
    expect(x.argmax(1).dtype).toBe("int32");
    expect(x.argmax(1).toArray()).toEqual([1, 0]);
    expect(x.argmin().toArray()).toBe(4);
  });

  test("take and index accept int32 tensors and number arrays alike", () => {
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(x.index(int([2, 0])).toArray()).toEqual(x.index([2, 0]).toArray());
    expect(x.take(int([-1]), 1).toArray()).toEqual([[2], [4], [6]]);
  });
});

describe("take with batched indices under vmap", () => {
  test("equals a loop, with gradients, and checks every index", () => {
    const xs = tensor([
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      [
        [7, 8, 9],
        [10, 11, 12],
      ],
    ]);
    const idx = int([
      [2, -3],
      [1, 1],
    ]);
    const f = (x: Tensor, i: Tensor) => x.take(i, 1);
    const batched = vmap(f)(xs, idx);
    const looped = [0, 1].map((b) => f(xs.index([b]).squeeze(0), idx.index([b]).squeeze(0)).toArray());
    expect(batched.toArray()).toEqual(looped);
    // and unmapped x: every example reads the same tensor by its own indices
    const x0 = xs.index([0]).squeeze(0);
    expect(vmap(f, { inAxes: [null, 0] })(x0, idx).toArray()).toEqual([
      f(x0, int([2, -3])).toArray(),
      f(x0, int([1, 1])).toArray(),
    ]);
    const gx = vmap(grad((x: Tensor, i: Tensor) => sq(x.take(i, 1)).sum()))(xs, idx);
    expect(gx.toArray()).toEqual([
      [
        [2, 0, 6],
        [8, 0, 12],
      ],
      [
        [0, 32, 0],
        [0, 44, 0],
      ],
    ]);
    refuses(() => vmap(f)(xs, int([[3], [0]])), "take", /index 3 .* out of range for axis 0 of size 3/);
    // indexSelect: the same, with PyTorch's range [0, n) checked per example
    const select = (x: Tensor, i: Tensor) => x.indexSelect(-1, i);
    const pos = int([
      [2, 0],
      [1, 1],
    ]);
    expect(vmap(select)(xs, pos).toArray()).toEqual(
      [0, 1].map((b) => select(xs.index([b]).squeeze(0), pos.index([b]).squeeze(0)).toArray()),
    );
    refuses(() => vmap(select)(xs, int([[0], [-1]])), "indexSelect", /index -1 .* out of bounds for axis 1 of size 3/);
  });
});

/** An x, an axis (negative or not) and an index of x's rank, no larger outside the axis, in range. */
const gatherCase = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.boolean())
  .chain(([shape, pick, negative]) => {
    const axis = pick % shape.length;
    const n = shape[axis] as number;
    const indexShape = fc.tuple(
      ...shape.map((d, k) => fc.integer({ min: 0, max: k === axis ? (n === 0 ? 0 : 3) : d })),
    );
    return indexShape.chain((ishape) => {
      const count = ishape.reduce((a, b) => a * b, 1);
      return fc
        .tuple(
          tensorArb(shape),
          fc.array(fc.integer({ min: 0, max: Math.max(n - 1, 0) }), { minLength: count, maxLength: count }),
          tensorArb(ishape),
        )
        .map(([x, values, src]) => ({
          x,
          axis: negative ? axis - shape.length : axis,
          index: tensor(values, { shape: ishape, dtype: "int32" }),
          src,
        }));
    });
  });

describe("gather, scatterAdd, indexSelect", () => {
  test("PyTorch's documented examples", () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(
      t
        .gather(1, [
          [0, 0],
          [1, 0],
        ])
        .toArray(),
    ).toEqual([
      [1, 1],
      [4, 3],
    ]);
    const src = tensor([
      [1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ]);
    expect(
      zeros([3, 5])
        .scatterAdd(0, int([[0, 1, 2, 0, 0]]), src)
        .toArray(),
    ).toEqual([
      [1, 0, 0, 1, 1],
      [0, 1, 0, 0, 0],
      [0, 0, 1, 0, 0],
    ]);
    expect(
      zeros([3, 5])
        .scatterAdd(
          0,
          [
            [0, 1, 2, 0, 0],
            [0, 1, 2, 2, 2],
          ],
          src,
        )
        .toArray(),
    ).toEqual([
      [2, 0, 0, 1, 1],
      [0, 2, 0, 0, 0],
      [0, 0, 2, 1, 1],
    ]);
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(x.indexSelect(1, [2, 0, 2]).toArray()).toEqual([
      [3, 1, 3],
      [6, 4, 6],
    ]);
    expect(indexSelect(x, 0, int(1)).toArray()).toEqual([[4, 5, 6]]);
    expect(gather(tensor(7), 0, int(0)).toArray()).toBe(7);
  });

  test("gradients: gather's scatter-adds (repeats add up), scatterAdd's gathers", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.gather(0, [2, 2, 0])
      .mul(tensor([1, 10, 100]))
      .sum()
      .backward();
    expect(x.grad?.toArray()).toEqual([100, 0, 11]);
    const base = tensor([0, 0], { requiresGrad: true });
    const src = tensor([1, 2, 3], { requiresGrad: true });
    base
      .scatterAdd(0, [1, 1, 0], src)
      .mul(tensor([5, 7]))
      .sum()
      .backward();
    expect(base.grad?.toArray()).toEqual([5, 7]);
    expect(src.grad?.toArray()).toEqual([7, 7, 5]);
  });

  test("gather agrees with finite differences at first and second order", () => {
    checkGradients((x) => sq(x.gather(0, int([0]))), fc.constant([tensor([2])]), { gradgrad: true, numRuns: 1 });
    fc.assert(
      fc.property(gatherCase, ({ x, axis, index }) => {
        checkGradients((t) => sq(t.gather(axis, index)), fc.constant([x]), { gradgrad: true, numRuns: 1 });
      }),
      { numRuns: 40 },
    );
  });

  test("scatterAdd agrees with finite differences at first and second order", () => {
    fc.assert(
      fc.property(gatherCase, ({ x, axis, index, src }) => {
        checkGradients((t, s) => sq(t.scatterAdd(axis, index, s)), fc.constant([x, src]), {
          gradgrad: true,
          numRuns: 1,
        });
      }),
      { numRuns: 40 },
    );
  });

  test("only the part of src that index covers is added, and gets a gradient", () => {
    const src = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    const y = scatterAdd(zeros([2, 2]), 1, [[1, 0]], src);
    expect(y.toArray()).toEqual([
      [2, 1],
      [0, 0],
    ]);
    y.sum().backward();
    expect(src.grad?.toArray()).toEqual([
      [1, 1, 0],
      [0, 0, 0],
    ]);
  });

  test("indexSelect agrees with finite differences at first and second order", () => {
    fc.assert(
      fc.property(gatherCase, ({ x, axis, index }) => {
        const picks = index.reshape([-1]);
        checkGradients((t) => sq(t.indexSelect(axis, picks)), fc.constant([x]), { gradgrad: true, numRuns: 1 });
      }),
      { numRuns: 30 },
    );
  });

  test("under vmap, batched indices and batched inputs pair example by example", () => {
    fc.assert(
      fc.property(gatherCase, ({ x, axis, index, src }) => {
        const xs = [x, x.mul(2), x.add(1)];
        const srcs = [src, src.neg(), src.mul(3)];
        const indices = [index, index, index].map((i, k) => (k === 1 ? i.mul(0) : i)); // one differs
        const g = vmap((t: Tensor, i: Tensor) => t.gather(axis, i))(stack(xs), stack(indices));
        const s = vmap((t: Tensor, i: Tensor, u: Tensor) => t.scatterAdd(axis, i, u))(
          stack(xs),
          stack(indices),
          stack(srcs),
        );
        xs.forEach((xk, k) => {
          expect(g.index([k]).squeeze(0).toArray()).toEqual(xk.gather(axis, indices[k] as Tensor).toArray());
          expect(s.index([k]).squeeze(0).toArray()).toEqual(
            xk.scatterAdd(axis, indices[k] as Tensor, srcs[k] as Tensor).toArray(),
          );
        });
      }),
      { numRuns: 30 },
    );
  });

  test("bad input is refused before any work, naming the op and the argument", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    refuses(() => x.gather(2, [[0]]), "gather", /axis 2 is out of range for a tensor of rank 2/);
    refuses(() => x.gather(1, [[0.5]]), "gather", /index must hold integers, got 0.5/);
    refuses(() => x.gather(1, [[3]]), "gather", /index 3 .* out of bounds for axis 1 of size 3/);
    refuses(() => x.gather(1, [[-1]]), "gather", /index -1 .* out of bounds/);
    refuses(() => x.gather(1, [0]), "gather", /index of shape \[1\] must have the same rank as x of shape \[2, 3\]/);
    refuses(() => x.gather(1, [[0], [0], [0]]), "gather", /larger than x of shape \[2, 3\] along axis 0/);
    refuses(() => x.gather(1, tensor([[0]])), "gather", /int32 tensor or an array of integers, got a float64 tensor/);
    refuses(() => x.gather(1, "0" as never), "gather", /index must be an int32 tensor or an array of integers/);
    refuses(() => x.scatterAdd(0, [[0, 1]], tensor([[1]])), "scatterAdd", /no larger than src of shape \[1, 1\]/);
    refuses(() => x.scatterAdd(0, [[2]], tensor([[1]])), "scatterAdd", /index 2 .* out of bounds for axis 0 of size 2/);
    refuses(() => x.scatterAdd(0, [[0]], 1 as never), "scatterAdd", /src must be a Tensor/);
    refuses(() => x.indexSelect(0, [[0]]), "indexSelect", /index must be 1-d or 0-d/);
    refuses(() => x.indexSelect(1, [-1]), "indexSelect", /index -1 .* out of bounds/);
    refuses(() => x.indexSelect(-3, [0]), "indexSelect", /axis -3 is out of range/);
  });
});

/** A tensor of rank ≥ 1 (sizes 0…3) and an axis of it, negative or not. */
const axisCase = (values: fc.Arbitrary<number>) =>
  fc
    .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.boolean())
    .chain(([shape, pick, negative]) => {
      const axis = pick % shape.length;
      const n = shape.reduce((a, b) => a * b, 1);
      return fc
        .array(values, { minLength: n, maxLength: n })
        .map((v) => ({ x: tensor(v, { shape }), axis: negative ? axis - shape.length : axis }));
    });

const reals = fc.double({ min: -2, max: 2, noNaN: true });
/** Reals with exact zeros among them (cumprod's hard case). */
const withZeros = fc.oneof(reals, fc.constant(0));

describe("cumsum, cumprod, logcumsumexp", () => {
  test("values by hand", () => {
    expect(tensor([1, 2, 3]).cumsum(0).toArray()).toEqual([1, 3, 6]);
    expect(
      cumsum(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        -2,
      ).toArray(),
    ).toEqual([
      [1, 2],
      [4, 6],
    ]);
    expect(tensor([1, 2, 3, 4]).cumprod(0).toArray()).toEqual([1, 2, 6, 24]);
    expect(cumprod(tensor(5), -1).toArray()).toBe(5);
    expect(cumsum(tensor([]), 0).shape).toEqual([0]);
    const l = logcumsumexp(tensor([0, 0, Math.log(2)]), 0).toArray() as number[];
    expect(l[0]).toBeCloseTo(0, 14);
    expect(l[1]).toBeCloseTo(Math.log(2), 14);
    expect(l[2]).toBeCloseTo(Math.log(4), 14);
  });

  test("logcumsumexp is stable where the running sum of exponentials is not", () => {
    const y = tensor([-1000, 0, 1000, 1000]).logcumsumexp(0).toArray() as number[];
    expect(y[0]).toBe(-1000);
    expect(y[1]).toBeCloseTo(0, 12);
    expect(y[2]).toBeCloseTo(1000, 9);
    expect(y[3]).toBeCloseTo(1000 + Math.log(2), 9);
    expect(tensor([Number.NEGATIVE_INFINITY, 1]).logcumsumexp(0).toArray()).toEqual([Number.NEGATIVE_INFINITY, 1]);
    const x = tensor([-1000, 0], { requiresGrad: true });
    x.logcumsumexp(0).sum().backward();
    expect(x.grad?.toArray()).toEqual([1, 1]); // ∂y_0/∂x_0 = 1, ∂y_1/∂x_1 = e⁰/(e⁻¹⁰⁰⁰ + e⁰) = 1
  });

  test("cumprod's gradient is exact where x has zeros", () => {
    const x = tensor([2, 0, 3], { requiresGrad: true });
    x.cumprod(0).sum().backward(); // y = [2, 0, 0]
    expect(x.grad?.toArray()).toEqual([1, 8, 0]); // [1 + x1 + x1·x2, x0 + x0·x2, x0·x1]
    const z = tensor([0, 0, 2], { requiresGrad: true });
    z.cumprod(0).sum().backward();
    expect(z.grad?.toArray()).toEqual([1, 0, 0]);
    // forward mode agrees: ẏ_i = Σ_{k ≤ i} ẋ_k Π_{j ≤ i, j ≠ k} x_j
    const { tangent } = jvp((t) => t.cumprod(0), [tensor([2, 0, 3])], [tensor([1, 1, 1])]);
    expect(tangent.toArray()).toEqual([1, 2, 6]);
  });

  test("each agrees with finite differences at first and second order", () => {
    checkGradients((x) => x, fc.constant([tensor([1])])); // the kit itself runs
    fc.assert(
      fc.property(axisCase(reals), axisCase(withZeros), ({ x, axis }, z) => {
        const opts = { gradgrad: true, numRuns: 1 };
        checkGradients((t) => sq(t.cumsum(axis)), fc.constant([x]), opts);
        checkGradients((t) => t.logcumsumexp(axis), fc.constant([x]), opts);
        checkGradients((t) => t.cumprod(z.axis), fc.constant([z.x]), opts);
      }),
      { numRuns: 40 },
    );
  });

  test.each([
    ["cumprod", (t: Tensor, axis: number) => t.cumprod(axis), withZeros],
    ["logcumsumexp", (t: Tensor, axis: number) => t.logcumsumexp(axis), fc.double({ min: -50, max: 50, noNaN: true })],
  ] as const)("%s: the fused backward loop equals the composed rule", (_name, op, values) => {
    fc.assert(
      fc.property(axisCase(values), ({ x, axis }) => {
        const weights = x.mul(0.7).tanh(); // a seed of both signs
        const plain = x.detach().requireGrad();
        op(plain, axis).mul(weights).sum().backward(); // the fused loop
        const recorded = x.detach().requireGrad();
        op(recorded, axis).mul(weights).sum().backward(undefined, { createGraph: true }); // the composed rule
        if (x.size === 0) return;
        expect(recorded.grad?.requiresGrad).toBe(true);
        const gap = (plain.grad as Tensor)
          .sub(recorded.grad as Tensor)
          .abs()
          .max()
          .item();
        expect(gap).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 60 },
    );
  });

  test("bad input", () => {
    refuses(() => tensor([1, 2]).cumsum(1), "cumsum", /axis 1 is out of range for a tensor of rank 1/);
    refuses(() => tensor([1, 2]).cumprod(0.5), "cumprod", /axis must be an integer, got 0.5/);
    refuses(() => tensor([1, 2]).logcumsumexp(undefined as never), "logcumsumexp", /axis must be an integer/);
  });
});

describe("sort, topk", () => {
  test("values and int32 indices; stable; NaN as the largest", () => {
    const s = tensor([3, 1, 2]).sort();
    expect(s.values.toArray()).toEqual([1, 2, 3]);
    expect(s.indices.toArray()).toEqual([1, 2, 0]);
    expect(s.indices.dtype).toBe("int32");
    expect(sort(tensor([2, 1, 2, 1])).indices.toArray()).toEqual([1, 3, 0, 2]);
    expect(sort(tensor([2, 1, 2, 1]), -1, true).indices.toArray()).toEqual([0, 2, 1, 3]);
    const n = tensor([Number.NaN, 1, Number.NaN, 0]);
    expect(n.sort().indices.toArray()).toEqual([3, 1, 0, 2]);
    expect(n.sort(0, true).indices.toArray()).toEqual([0, 2, 1, 3]);
    expect(n.topk(1).indices.toArray()).toEqual([0]);
    const m = tensor([
      [3, 9],
      [5, 1],
    ]);
    expect(m.sort(0).values.toArray()).toEqual([
      [3, 1],
      [5, 9],
    ]);
    const t = topk(tensor([1, 3, 2, 3]), 2);
    expect(t.values.toArray()).toEqual([3, 3]);
    expect(t.indices.toArray()).toEqual([1, 3]);
    expect(tensor([1, 3, 2]).topk(2, 0, false).values.toArray()).toEqual([1, 2]);
    expect(tensor([1, 3]).topk(0).values.shape).toEqual([0]);
    expect(tensor(4).sort().indices.toArray()).toBe(0);
  });

  test("the values are ordered and are x gathered at the indices (a stable permutation)", () => {
    fc.assert(
      fc.property(axisCase(fc.integer({ min: -3, max: 3 })), fc.boolean(), ({ x, axis }, descending) => {
        const { values, indices } = x.sort(axis, descending);
        expect(values.toArray()).toEqual(x.gather(axis, indices).toArray());
        const a = axis < 0 ? axis + x.ndim : axis;
        const n = x.shape[a] as number;
        if (n < 2 || x.size === 0) return;
        const first = values.slice(...x.shape.map((_, d) => (d === a ? ([0, n - 1] as const) : null)));
        const next = values.slice(...x.shape.map((_, d) => (d === a ? ([1, n] as const) : null)));
        const i0 = indices.slice(...x.shape.map((_, d) => (d === a ? ([0, n - 1] as const) : null)));
        const i1 = indices.slice(...x.shape.map((_, d) => (d === a ? ([1, n] as const) : null)));
        const ordered = descending ? first.ge(next) : first.le(next);
        expect(ordered.min().item()).toBe(1);
        // ties keep the input order
        expect(first.ne(next).add(i0.lt(i1)).min().item()).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 60 },
    );
  });

  test("gradients through the values agree with finite differences at first and second order", () => {
    const distinct = fc
      .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.boolean())
      .chain(([shape, pick, negative]) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const axis = pick % shape.length;
        return fc
          .shuffledSubarray(
            Array.from({ length: n }, (_, i) => i),
            { minLength: n, maxLength: n },
          )
          .map((perm) => ({
            x: tensor(
              perm.map((v) => 0.3 * v - 1),
              { shape },
            ),
            axis: negative ? axis - shape.length : axis,
          }));
      });
    fc.assert(
      fc.property(distinct, fc.nat(), ({ x, axis }, kPick) => {
        const opts = { gradgrad: true, numRuns: 1 };
        const a = axis < 0 ? axis + x.ndim : axis;
        const k = kPick % ((x.shape[a] as number) + 1);
        checkGradients((t) => sq(t.sort(axis, true).values), fc.constant([x]), opts);
        checkGradients((t) => sq(t.topk(k, axis).values), fc.constant([x]), opts);
      }),
      { numRuns: 40 },
    );
  });

  test("vmap sorts each example", () => {
    const xs = tensor([
      [3, 1, 2],
      [0, 5, -1],
    ]);
    const out = vmap((x: Tensor) => {
      const { values, indices } = x.topk(2);
      return values.add(indices.astype("float64").mul(10));
    })(xs);
    expect(out.toArray()).toEqual([
      [3, 22],
      [15, 0],
    ]);
  });

  test("bad input", () => {
    refuses(() => tensor([1, 2]).sort(1), "sort", /axis 1 is out of range for a tensor of rank 1/);
    refuses(() => tensor([1, 2]).sort(0, "yes" as never), "sort", /descending must be a boolean/);
    refuses(() => tensor([1, 2]).topk(3), "topk", /k must be an integer in 0…2 .* got 3/);
    refuses(() => tensor([1, 2]).topk(1.5), "topk", /k must be an integer/);
    refuses(() => tensor([1, 2]).topk(1, -2), "topk", /axis -2 is out of range/);
  });
});
