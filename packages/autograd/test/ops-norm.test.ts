/**
 * Normalizations (layerNorm, batchNorm, groupNorm), dropout and embedding: values against plain
 * loops written from the definitions, gradients against finite differences at first and second
 * order over random shapes (odd sizes, size-1 axes), the transforms (jvp, vmap), and every error.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  batchNorm,
  ChainruleError,
  dropout,
  embedding,
  grad,
  groupNorm,
  layerNorm,
  ones,
  Random,
  randn,
  type Tensor,
  tensor,
  vmap,
  zeros,
} from "../src/index.js";
import { standardize, standardizeComposed } from "../src/ops/norm.js";
import { checkGradients, checkTransforms, shapeArb, tensorArb } from "../src/testing/index.js";

// NOTE: in the gradient properties eps is 1e-2: random draws may give a group of (nearly) equal
// values, where σ² ≈ 0 and the default ε = 1e-5 makes third derivatives ~ε^−2.5, too large for
// finite differences with h = 1e-6. The formulas are the same for any ε; values are checked at the
// default below.
const eps = 1e-2;

/** Reference standardization of `values` (one group): (v − μ)/√(σ² + ε), biased σ². */
function standardizeRef(values: number[], e = 1e-5): number[] {
  const mu = values.reduce((a, b) => a + b, 0) / values.length;
  const v = values.reduce((a, b) => a + (b - mu) ** 2, 0) / values.length;
  return values.map((x) => (x - mu) / Math.sqrt(v + e));
}

function close(actual: Tensor, expected: number[], tol = 1e-12): void {
  const a = Array.from(actual.data);
  expect(a.length).toBe(expected.length);
  a.forEach((x, i) => {
    expect(Math.abs(x - (expected[i] as number))).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i] as number)));
  });
}

/** [N, C, …] shapes: N·(spatial) ≥ 2 so that batch statistics exist. */
const nchwArb = fc
  .tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
    shapeArb({ minRank: 0, maxRank: 2, maxDim: 3 }),
  )
  .filter(([n, , rest]) => n * rest.reduce((a, b) => a * b, 1) >= 2)
  .map(([n, c, rest]) => [n, c, ...rest]);

describe("standardize: the fused primitive against its composed form", () => {
  /** A tensor of rank ≥ 1 and a non-empty set of its axes, possibly negative. */
  /**
   * A tensor of rank ≥ 1, a non-empty set of its axes (possibly negative), a cotangent, and a
   * weight and a bias that broadcast to it (a suffix of its shape with some sizes 1), or none.
   */
  const suffixArb = (shape: number[]) =>
    fc
      .tuple(
        fc.integer({ min: 0, max: shape.length }),
        fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      )
      .map(([drop, ones]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
  const withAxes = shapeArb({ minRank: 1, maxRank: 4, maxDim: 4 }).chain((shape) =>
    fc.record({
      x: tensorArb(shape),
      axes: fc
        .subarray(
          shape.map((_, i) => i),
          { minLength: 1 },
        )
        .chain((axes) => fc.tuple(...axes.map((a) => fc.constantFrom(a, a - shape.length)))),
      g: tensorArb(shape),
      w: fc.option(
        suffixArb(shape).chain((s) => tensorArb(s)),
        { nil: null },
      ),
      b: fc.option(
        suffixArb(shape).chain((s) => tensorArb(s)),
        { nil: null },
      ),
    }),
  );
  const agree = (a: Tensor | null, b: Tensor | null) => {
    expect(a === null).toBe(b === null);
    if (a === null || b === null) return;
    expect(a.shape).toEqual(b.shape);
    a.data.forEach((v, i) => {
      expect(Math.abs(v - (b.data[i] as number))).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(b.data[i] as number)));
    });
  };
  /** The composed form: x̂ in ops, then the affine step in ops. */
  const composedForm = (x: Tensor, axes: number[], w: Tensor | null, b: Tensor | null) => {
    let y = standardizeComposed(x, axes, eps).xhat;
    if (w !== null) y = y.mul(w);
    if (b !== null) y = y.add(b);
    return y;
  };

  test("values, and gradients by the fused loops (plain backward) and the composed rule (createGraph)", () => {
    fc.assert(
      fc.property(withAxes, ({ x, axes, g, w, b }) => {
        agree(standardize(x, axes, eps, w, b, null), composedForm(x, axes, w, b));
        /** ∂⟨g, f⟩ with respect to x, w and b (fresh leaves each time). */
        const grads = (f: (x: Tensor, w: Tensor | null, b: Tensor | null) => Tensor, createGraph: boolean) => {
          const [lx, lw, lb] = [x, w, b].map((t) => (t === null ? null : t.clone().requireGrad()));
          f(lx as Tensor, lw ?? null, lb ?? null).backward(g, { createGraph });
          return [lx, lw, lb].map((t) => (t === null || t === undefined ? null : t.grad));
        };
        const composed = grads((xx, ww, bb) => composedForm(xx, axes, ww, bb), false);
        for (const createGraph of [false, true]) {
          const fused = grads((xx, ww, bb) => standardize(xx, axes, eps, ww, bb, null), createGraph);
          fused.forEach((t, i) => {
            agree(t ?? null, composed[i] ?? null);
          });
        }
      }),
      { numRuns: 150 },
    );
  });

  test("gradients against finite differences, first and second order; jvp and vmap", () => {
    checkGradients(
      (x, w, b) => standardize(x, [0, -1], eps, w, b, null),
      shapeArb({ minRank: 2, maxRank: 3 }).chain((s) =>
        fc.tuple(tensorArb(s), tensorArb(s.slice(1)), tensorArb([s[s.length - 1] as number])),
      ),
      { numRuns: 30, gradgrad: true },
    );
    checkGradients(
      (x) => standardize(x, [1], eps, null, null, null),
      shapeArb({ minRank: 2, maxRank: 3 }).chain((s) => tensorArb(s).map((t): [Tensor] => [t])),
      { numRuns: 20, gradgrad: true },
    );
    checkTransforms(
      (x, w, b) => standardize(x as Tensor, [1], eps, w as Tensor, b as Tensor, null),
      fc.tuple(tensorArb([3, 4, 2]), tensorArb([4, 1]), tensorArb([2])),
    );
    checkTransforms((x) => standardize(x as Tensor, [0], eps, null, null, null), fc.tuple(tensorArb([3, 2])));
  });

  test("the moments it reports are μ and the biased σ²", () => {
    const moments: { mean?: Float64Array; variance?: Float64Array } = {};
    standardize(
      tensor([
        [1, 2],
        [3, 6],
      ]),
      [0],
      0,
      null,
      null,
      moments,
    );
    expect(Array.from(moments.mean ?? [])).toEqual([2, 4]);
    expect(Array.from(moments.variance ?? [])).toEqual([1, 4]);
  });
});

describe("layerNorm", () => {
  test("values: each row to mean 0, variance 1 (by the definition)", () => {
    const x = randn([3, 5], new Random(1));
    const y = layerNorm(x, [5]);
    const rows = x.toArray() as number[][];
    close(
      y,
      rows.flatMap((r) => standardizeRef(r)),
    );
  });

  test("values over two trailing axes, with weight and bias", () => {
    const r = new Random(2);
    const x = randn([2, 3, 4], r);
    const w = randn([3, 4], r);
    const b = randn([3, 4], r);
    const y = layerNorm(x, [3, 4], w, b);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) {
      const group = Array.from(x.data.slice(i * 12, (i + 1) * 12));
      standardizeRef(group).forEach((v, k) => {
        expected.push(v * (w.data[k] as number) + (b.data[k] as number));
      });
    }
    close(y, expected);
    expect(layerNorm(x, 4).shape).toEqual([2, 3, 4]); // a number is a one-axis shape
  });

  test("gradients, first and second order, random shapes", () => {
    const arb = shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 }).chain((shape) =>
      fc.integer({ min: 1, max: shape.length }).chain((k) => {
        const ns = shape.slice(shape.length - k);
        return fc.tuple(tensorArb(shape), tensorArb(ns), tensorArb(ns)).map(([x, w, b]) => ({ x, w, b, ns }));
      }),
    );
    fc.assert(
      fc.property(arb, ({ x, w, b, ns }) => {
        checkGradients((xx, ww, bb) => layerNorm(xx, ns, ww, bb, { eps }), fc.constant([x, w, b]), {
          numRuns: 1,
          gradgrad: true,
        });
        checkGradients((xx) => layerNorm(xx, ns, null, null, { eps }), fc.constant([x]), { numRuns: 1 });
      }),
      { numRuns: 25 },
    );
  });

  test("jvp and vmap", () => {
    checkTransforms(
      (x, w) => layerNorm(x as Tensor, [3], w as Tensor, null, { eps }),
      fc.tuple(tensorArb([2, 3]), tensorArb([3])),
    );
  });

  test("errors name the op, the shapes and what was expected", () => {
    const x = zeros([2, 5]);
    expect(() => layerNorm(x, [4])).toThrow(
      "layerNorm: normalizedShape [4] does not match the trailing dimensions of x of shape [2, 5]; expected x's shape to end in [4]",
    );
    expect(() => layerNorm(x, [2, 5, 1])).toThrow(/does not match the trailing dimensions/);
    expect(() => layerNorm(x, [])).toThrow(/normalizedShape must be a positive integer or a non-empty array/);
    expect(() => layerNorm(x, [5], ones([4]))).toThrow("layerNorm: weight has shape [4]; expected [5]");
    expect(() => layerNorm(x, [5], null, ones([2, 5]))).toThrow(/bias has shape \[2, 5\]; expected \[5\]/);
    expect(() => layerNorm(x, [5], null, null, { eps: -1 })).toThrow(/eps must be a finite number ≥ 0/);
    expect(() => layerNorm([1, 2] as unknown as Tensor, [2])).toThrow(ChainruleError);
  });
});

describe("batchNorm", () => {
  test("training: batch statistics per channel, running statistics updated as PyTorch does", () => {
    const r = new Random(3);
    const x = randn([4, 2, 3], r); // N = 4, C = 2, L = 3: 12 values per channel
    const w = tensor([1.5, -0.5]);
    const b = tensor([0.1, 0.2]);
    const rm = tensor([0.5, -1]);
    const rv = tensor([2, 0.5]);
    const y = batchNorm(x, rm, rv, w, b, { training: true, momentum: 0.2 });
    const expected = new Array<number>(24);
    for (let c = 0; c < 2; c++) {
      const at: number[] = [];
      for (let n = 0; n < 4; n++) for (let l = 0; l < 3; l++) at.push(n * 6 + c * 3 + l);
      const vals = at.map((i) => x.data[i] as number);
      standardizeRef(vals).forEach((v, k) => {
        expected[at[k] as number] = v * (w.data[c] as number) + (b.data[c] as number);
      });
      const mu = vals.reduce((s, v) => s + v, 0) / 12;
      const unbiased = vals.reduce((s, v) => s + (v - mu) ** 2, 0) / 11;
      const oldMean = c === 0 ? 0.5 : -1;
      const oldVar = c === 0 ? 2 : 0.5;
      expect(rm.data[c]).toBeCloseTo(0.8 * oldMean + 0.2 * mu, 14);
      expect(rv.data[c]).toBeCloseTo(0.8 * oldVar + 0.2 * unbiased, 14);
    }
    close(y, expected);
    expect(rm.version).toBe(1); // updated in place, once
  });

  test("evaluation: the running statistics normalize", () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    const y = batchNorm(x, tensor([1, 2]), tensor([4, 1]), tensor([2, 1]), tensor([0, 1]), { eps: 0 });
    expect(y.toArray()).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  test("the gradient flows through the batch statistics (training), first and second order", () => {
    const arb = nchwArb.chain((shape) =>
      fc.tuple(tensorArb(shape), tensorArb([shape[1] as number]), tensorArb([shape[1] as number])),
    );
    checkGradients((x, w, b) => batchNorm(x, null, null, w, b, { training: true, eps }), arb, {
      numRuns: 25,
      gradgrad: true,
    });
    // with running statistics being updated on every call (they do not enter the output)
    checkGradients(
      (x) => {
        const c = x.shape[1] as number;
        return batchNorm(x, zeros([c]), ones([c]), null, null, { training: true, eps });
      },
      nchwArb.chain((s) => tensorArb(s).map((t): [Tensor] => [t])),
      { numRuns: 15 },
    );
  });

  test("gradients in evaluation mode, first and second order", () => {
    const arb = nchwArb.chain((shape) => {
      const c = [shape[1] as number];
      return fc.tuple(tensorArb(shape), tensorArb(c), tensorArb(c, { domain: { min: 0.5, max: 2 } }), tensorArb(c));
    });
    checkGradients((x, m, v, w) => batchNorm(x, m, v, w, null, { eps }), arb, { numRuns: 20, gradgrad: true });
  });

  test("jvp and vmap (training without running statistics, and evaluation)", () => {
    checkTransforms(
      (x, w) => batchNorm(x as Tensor, null, null, w as Tensor, null, { training: true, eps }),
      fc.tuple(tensorArb([3, 2]), tensorArb([2])),
    );
    checkTransforms(
      (x) => batchNorm(x as Tensor, tensor([0.1, -0.2]), tensor([1.5, 0.7]), null, null),
      fc.tuple(tensorArb([3, 2, 2])),
    );
  });

  test("errors, and nothing is updated when one is thrown", () => {
    const rm = zeros([3]);
    const rv = ones([3]);
    expect(() => batchNorm(zeros([4]), rm, rv)).toThrow(
      "batchNorm: x of shape [4] has rank 1; expected at least 2 dimensions [N, C, …]",
    );
    expect(() => batchNorm(zeros([2, 4]), rm, rv)).toThrow(
      "batchNorm: runningMean has shape [3]; expected [4] (one per channel of x of shape [2, 4])",
    );
    expect(() => batchNorm(zeros([2, 3]), rm, rv, ones([2]))).toThrow(/weight has shape \[2\]; expected \[3\]/);
    expect(() => batchNorm(zeros([1, 3]), rm, rv, null, null, { training: true })).toThrow(
      "batchNorm: expected more than 1 value per channel when training, got x of shape [1, 3] (1 per channel)",
    );
    expect(() => batchNorm(zeros([2, 3]), null, null)).toThrow(/runningMean and runningVar are required/);
    expect(() => batchNorm(zeros([2, 3]), rm, null)).toThrow(/must be given together/);
    const grads = zeros([3]).requireGrad();
    expect(() => batchNorm(randn([2, 3], new Random(0)), grads, rv, null, null, { training: true })).toThrow(
      /runningMean is updated in place, so it must be a plain tensor/,
    );
    expect(() => batchNorm(zeros([2, 3]), rm, rv, null, null, { momentum: Number.NaN })).toThrow(/momentum/);
    expect(Array.from(rm.data)).toEqual([0, 0, 0]);
    expect(Array.from(rv.data)).toEqual([1, 1, 1]);
    expect(() =>
      vmap((x: Tensor) => batchNorm(x, rm, rv, null, null, { training: true }))(randn([2, 4, 3], new Random(0))),
    ).toThrow(/cannot update running statistics inside vmap/);
  });
});

describe("groupNorm", () => {
  test("values: each example's group of channels standardized apart", () => {
    const r = new Random(4);
    const x = randn([2, 4, 3], r);
    const w = randn([4], r);
    const b = randn([4], r);
    const y = groupNorm(x, 2, w, b);
    const expected = new Array<number>(24);
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < 2; g++) {
        const start = n * 12 + g * 6; // channels 2g, 2g + 1 are contiguous
        const vals = Array.from(x.data.slice(start, start + 6));
        standardizeRef(vals).forEach((v, k) => {
          const c = 2 * g + Math.floor(k / 3);
          expected[start + k] = v * (w.data[c] as number) + (b.data[c] as number);
        });
      }
    }
    close(y, expected);
  });

  test("one group is layer norm over [C, …]; C groups is instance norm", () => {
    const x = randn([2, 3, 4], new Random(5));
    close(groupNorm(x, 1), Array.from(layerNorm(x, [3, 4]).data));
    close(groupNorm(x, 3), Array.from(layerNorm(x, [4]).data));
  });

  test("gradients, first and second order, random shapes", () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }))
      .chain(([n, groups, per]) =>
        shapeArb({ minRank: 0, maxRank: 2, maxDim: 3 }).chain((rest) => {
          const c = groups * per;
          return fc
            .tuple(tensorArb([n, c, ...rest]), tensorArb([c]), tensorArb([c]))
            .map(([x, w, b]) => ({ x, w, b, groups }));
        }),
      );
    fc.assert(
      fc.property(arb, ({ x, w, b, groups }) => {
        checkGradients((xx, ww, bb) => groupNorm(xx, groups, ww, bb, { eps }), fc.constant([x, w, b]), {
          numRuns: 1,
          gradgrad: true,
        });
      }),
      { numRuns: 25 },
    );
  });

  test("jvp and vmap", () => {
    checkTransforms((x) => groupNorm(x as Tensor, 2, null, null, { eps }), fc.tuple(tensorArb([2, 4, 2])));
  });

  test("errors", () => {
    expect(() => groupNorm(zeros([2, 6, 4]), 4)).toThrow(
      "groupNorm: x of shape [2, 6, 4] has 6 channels, which cannot be split into 4 groups; expected a number of channels divisible by groups",
    );
    expect(() => groupNorm(zeros([6]), 2)).toThrow(/x of shape \[6\] has rank 1; expected at least 2 dimensions/);
    expect(() => groupNorm(zeros([2, 6]), 0)).toThrow(/groups must be a positive integer, got 0/);
    expect(() => groupNorm(zeros([2, 6]), 2, ones([3]))).toThrow(/weight has shape \[3\]; expected \[6\]/);
  });
});

describe("dropout", () => {
  test("same seed, same mask; zeros with probability p, the rest scaled by 1/(1 − p)", () => {
    const x = ones([100, 40]);
    const a = dropout(x, 0.3, { random: new Random(7) });
    const b = dropout(x, 0.3, { random: new Random(7) });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const values = new Set(a.data);
    expect([...values].sort()).toEqual([0, 1 / 0.7]);
    const zeroed = Array.from(a.data).filter((v) => v === 0).length / a.size;
    expect(Math.abs(zeroed - 0.3)).toBeLessThan(0.03); // 4000 draws: σ ≈ 0.007
    const c = dropout(x, 0.3, { random: new Random(8) });
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
  });

  test("the mask follows the generator's draws: zero where the draw is below p", () => {
    const r = new Random(11);
    const draws = Array.from({ length: 6 }, () => r.next());
    const y = dropout(tensor([1, 2, 3, 4, 5, 6]), 0.5, { random: new Random(11) });
    expect(Array.from(y.data)).toEqual(draws.map((u, i) => (u < 0.5 ? 0 : 2 * (i + 1))));
  });

  test("evaluation and p = 0 return x itself", () => {
    const x = randn([3, 4], new Random(0));
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    expect(dropout(x, 0, { random: new Random(0) })).toBe(x);
  });

  test("gradient: the same mask (first and second order)", () => {
    checkGradients(
      (x) => dropout(x.mul(x), 0.4, { random: new Random(3) }),
      shapeArb({ maxDim: 5 }).chain((s) => tensorArb(s).map((t): [Tensor] => [t])),
      { numRuns: 25, gradgrad: true },
    );
    const x = ones([8], { requiresGrad: true });
    const y = dropout(x, 0.5, { random: new Random(1) });
    y.sum().backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual(Array.from(y.data));
  });

  test("under vmap: one mask for one example's shape, shared by the batch", () => {
    const xs = ones([3, 5]);
    const ys = vmap((x: Tensor) => dropout(x, 0.5, { random: new Random(2) }))(xs);
    const single = dropout(ones([5]), 0.5, { random: new Random(2) });
    for (let i = 0; i < 3; i++) expect(Array.from(ys.data.slice(i * 5, i * 5 + 5))).toEqual(Array.from(single.data));
  });

  test("errors", () => {
    const x = zeros([2, 3]);
    expect(() => dropout(x, 1, { random: new Random(0) })).toThrow(
      "dropout: p must be a probability in [0, 1), got number 1 (for x of shape [2, 3])",
    );
    expect(() => dropout(x, -0.1)).toThrow(/p must be a probability in \[0, 1\)/);
    expect(() => dropout(x, Number.NaN)).toThrow(/p must be a probability/);
    expect(() => dropout(x, 0.5)).toThrow(/needs a seeded generator/);
  });
});

describe("embedding", () => {
  const W = () =>
    tensor(
      [
        [0, 1],
        [10, 11],
        [20, 21],
        [30, 31],
      ],
      { requiresGrad: true },
    );

  test("rows by id, for every form of ids", () => {
    const w = W();
    expect(embedding([2, 0], w).toArray()).toEqual([
      [20, 21],
      [0, 1],
    ]);
    expect(embedding([[3], [1]], w).shape).toEqual([2, 1, 2]);
    expect(embedding(new Int32Array([1, 1, 3]), w).toArray()).toEqual([
      [10, 11],
      [10, 11],
      [30, 31],
    ]);
    expect(embedding(tensor([[2, 3]]), w).toArray()).toEqual([
      [
        [20, 21],
        [30, 31],
      ],
    ]);
    expect(embedding(2, w).toArray()).toEqual([20, 21]);
    expect(embedding([], w).shape).toEqual([0, 2]);
  });

  test("the gradient accumulates into the rows used, repeated ids included", () => {
    const w = W();
    const g = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    embedding([1, 3, 1], w).mul(g).sum().backward();
    expect(w.grad?.toArray()).toEqual([
      [0, 0],
      [6, 8],
      [0, 0],
      [3, 4],
    ]);
  });

  test("gradients against finite differences (first and second order), random ids", () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }))
      .chain(([rows, dim]) =>
        fc.tuple(
          tensorArb([rows, dim]),
          fc.array(fc.integer({ min: 0, max: rows - 1 }), { minLength: 0, maxLength: 6 }),
        ),
      );
    fc.assert(
      fc.property(arb, ([w, ids]) => {
        checkGradients((ww) => embedding(ids, ww.mul(ww)), fc.constant([w] as [Tensor]), {
          numRuns: 1,
          gradgrad: true,
        });
      }),
      { numRuns: 30 },
    );
  });

  test("under vmap: mapped weights, and mapped ids", () => {
    const w = randn([4, 3], new Random(0));
    const ws = randn([2, 4, 3], new Random(1));
    const perWeight = vmap((m: Tensor) => embedding([3, 0], m))(ws);
    expect(perWeight.shape).toEqual([2, 2, 3]);
    expect(Array.from(perWeight.data.slice(6))).toEqual(
      Array.from(embedding([3, 0], ws.slice([1, 2]).reshape([4, 3])).data),
    );
    const ids = tensor([
      [1, 2],
      [3, 3],
    ]);
    const perIds = vmap((i: Tensor) => embedding(i, w), { inAxes: 0 })(ids);
    expect(Array.from(perIds.data)).toEqual(Array.from(embedding(ids, w).data));
    // per-example gradients of the rows through mapped ids
    const g = vmap((i: Tensor) => grad((m: Tensor) => embedding(i, m).sum())(w), { inAxes: 0 })(ids);
    expect(g.shape).toEqual([2, 4, 3]);
    expect(Array.from(g.data.slice(12, 24))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2]);
  });

  test("errors: ids out of range or not integers, a weight that is not a matrix", () => {
    const w = W();
    expect(() => embedding([1, 4], w)).toThrow(
      "embedding: id 4 at position 1 of ids of shape [2] is out of range; expected integers in [0, 4) for a weight of shape [4, 2]",
    );
    expect(() => embedding([-1], w)).toThrow(/id -1 at position 0 .* is out of range/);
    expect(() => embedding(tensor([0.5]), w)).toThrow(/id 0.5 at position 0 .* is not an integer/);
    expect(() => embedding([0], tensor([1, 2]))).toThrow(
      "embedding: weight must be a matrix [numEmbeddings, embeddingDim], got shape [2]",
    );
    expect(() => embedding([[0], [1, 2]] as unknown as number[], w)).toThrow(/embedding: ids: ragged nested array/);
    expect(() => embedding("1" as unknown as number, w)).toThrow(/ids must be a number array/);
    expect(() =>
      vmap((i: Tensor) => embedding(i, w))(
        tensor([
          [0, 1],
          [2, 9],
        ]),
      ),
    ).toThrow(/id 9 at position 3 .* is out of range/);
  });
});

describe("bad arguments of every kind give a ChainruleError naming the op", () => {
  const x = randn([2, 3, 4], new Random(0));
  const bad: [string, () => unknown][] = [
    ["layerNorm", () => layerNorm(x, [4], "w" as never)],
    ["layerNorm", () => layerNorm(x, "4" as never)],
    ["layerNorm", () => layerNorm(x, [4], null, null, "options" as never)],
    ["layerNorm", () => layerNorm(null as never, [4])],
    ["batchNorm", () => batchNorm(x, null, null, null, null, null as never)],
    ["batchNorm", () => batchNorm(x, [0, 0, 0] as never, ones([3]))],
    ["batchNorm", () => batchNorm(x, null, null, null, null, { training: true, eps: Number.NaN })],
    ["groupNorm", () => groupNorm(x, 1.5)],
    ["groupNorm", () => groupNorm(x, 3, null, tensor([1]))],
    ["groupNorm", () => groupNorm(zeros([2, 3, 0]), 3)],
    ["dropout", () => dropout(x, 0.5, null as never)],
    ["dropout", () => dropout(x, "0.5" as never)],
    ["dropout", () => dropout(x, 0.5, { random: {} as never })],
    ["dropout", () => dropout([1, 2] as never, 0.5)],
    ["embedding", () => embedding(undefined as never, ones([3, 2]))],
    ["embedding", () => embedding([1, "a"] as never, ones([3, 2]))],
    ["embedding", () => embedding([Number.NaN], ones([3, 2]))],
    ["embedding", () => embedding([0], null as never)],
  ];
  test.each(bad)("%s", (op, call) => {
    expect(call).toThrow(ChainruleError);
    expect(call).toThrow(new RegExp(`^${op}: `));
  });
});
