/**
 * Every registered operation, exercised: a case per op (or per family of ops sharing a registry
 * entry) with inputs drawn where its derivatives exist. The transforms test runs each through
 * jvp, vmap and batched pullbacks, and fails when a registered op has no case here.
 */
import fc from "fast-check";
import {
  adaptiveAvgPool2d,
  arange,
  avgPool2d,
  concat,
  conv1d,
  conv2d,
  convTranspose2d,
  einsum,
  maxPool2d,
  stack,
  type Tensor,
  tensor,
  where,
} from "../src/index.js";
import { standardize } from "../src/ops/norm.js";
import { broadcastPairArb, type Domain, domains, matmulShapesArb, shapeArb, tensorArb } from "../src/testing/index.js";
import { unaryCases } from "./op-cases.js";

export interface CatalogCase {
  /** What the case is called in test names. */
  name: string;
  /** The registry names (ops/registry.ts) this case exercises. */
  ops: readonly string[];
  /** The function under test. */
  f: (...xs: Tensor[]) => Tensor;
  /** Its inputs. */
  inputs: fc.Arbitrary<Tensor[]>;
  /** False for ops without a derivative (comparisons, argmax): only vmap is checked. */
  differentiable?: boolean;
  /** The forward check's step and tolerances, where float64's defaults do not fit (float32 round trips). */
  tolerance?: { eps?: number; atol?: number; rtol?: number };
}

const one = (shape: fc.Arbitrary<number[]>, domain: Domain = domains.real): fc.Arbitrary<Tensor[]> =>
  shape.chain((s) => tensorArb(s, { domain }).map((t) => [t]));

const two = (pair: fc.Arbitrary<[number[], number[]]>, da: Domain = domains.real, db: Domain = da) =>
  pair.chain(([sa, sb]) => fc.tuple(tensorArb(sa, { domain: da }), tensorArb(sb, { domain: db })).map((t) => [...t]));

/** A tensor of the given shape with distinct values, 0.1 apart from `low` up (no ties for max, sort, pooling). */
function distinctOf(shape: number[], low = -0.3): fc.Arbitrary<Tensor[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc
    .shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    )
    .map((perm) => [
      tensor(
        perm.map((v) => 0.1 * v + low),
        { shape },
      ),
    ]);
}

/** One tensor of rank 1 to 3 with distinct values. */
const distinct = shapeArb({ minRank: 1, maxRank: 3 }).chain((shape) => distinctOf(shape));

const ranked = one(shapeArb({ minRank: 1, maxRank: 3 }));

/** An int32 index of `shape` for the last axis, with repeats: element j of a row picks (2j + 1) mod n. */
function indexFor(shape: readonly number[]): Tensor {
  const n = shape[shape.length - 1] as number;
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Array.from({ length: size }, (_, k) => (2 * (k % n) + 1) % n),
    { shape: [...shape], dtype: "int32" },
  );
}
const sq = (t: Tensor) => t.mul(t); // makes linear ops' second derivatives non-zero

export const catalog: CatalogCase[] = [
  ...unaryCases.map(([name, f, domain]) => ({
    name,
    ops: name.startsWith("pow") ? ["pow"] : name.startsWith("gelu") ? ["gelu", "unary"] : ["unary"],
    f,
    inputs: one(shapeArb(), domain),
  })),
  { name: "add", ops: ["binary"], f: (a, b) => (a as Tensor).add(b as Tensor), inputs: two(broadcastPairArb()) },
  { name: "sub", ops: ["binary"], f: (a, b) => (a as Tensor).sub(b as Tensor), inputs: two(broadcastPairArb()) },
  { name: "mul", ops: ["binary"], f: (a, b) => (a as Tensor).mul(b as Tensor), inputs: two(broadcastPairArb()) },
  {
    name: "div",
    ops: ["binary"],
    f: (a, b) => (a as Tensor).div(b as Tensor),
    inputs: two(broadcastPairArb(), domains.real, { min: 0.5, max: 3 }),
  },
  {
    name: "pow (tensor exponent)",
    ops: ["pow"],
    f: (a, b) => (a as Tensor).pow(b as Tensor),
    inputs: two(broadcastPairArb(), domains.positive, domains.real),
  },
  {
    name: "maximum, minimum",
    ops: ["binary"],
    f: (a, b) => (a as Tensor).maximum((b as Tensor).add(0.5)).minimum(1),
    inputs: two(broadcastPairArb(), { min: -3, max: 3, avoid: [0.5, 1], margin: 0.1 }, { min: -0.05, max: 0.05 }),
  },
  {
    name: "compare, sign",
    ops: ["compare", "unary"],
    f: (a, b) => (a as Tensor).gt(b as Tensor).add((a as Tensor).sign()),
    inputs: two(broadcastPairArb()),
    differentiable: false,
  },
  {
    name: "astype",
    ops: ["astype"],
    f: (x) =>
      (x as Tensor)
        .astype("float32")
        .astype("float64")
        .mul(x as Tensor),
    inputs: one(shapeArb()),
    tolerance: { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }, // the float32 round trip leaves ~1e-7 of noise
  },
  {
    name: "where",
    ops: ["where"],
    f: (a, b) => where((a as Tensor).gt(0), (a as Tensor).mul(b as Tensor), (b as Tensor).exp()),
    inputs: two(broadcastPairArb(), domains.awayFromZero, domains.real),
  },
  {
    name: "sum",
    ops: ["sum"],
    f: (x) =>
      sq(x as Tensor)
        .sum(-1)
        .sum(),
    inputs: ranked,
  },
  { name: "sum over axes, keepdims", ops: ["sum"], f: (x) => sq(x as Tensor).sum(0, true), inputs: ranked },
  {
    name: "max, min",
    ops: ["extreme"],
    f: (x) => (x as Tensor).max(-1).add((x as Tensor).min(0, true).sum()),
    inputs: distinct,
  },
  {
    name: "argmax, argmin",
    ops: ["argExtreme"],
    f: (x) => (x as Tensor).argmax(-1).add((x as Tensor).argmin()),
    inputs: distinct,
    differentiable: false,
  },
  {
    name: "logsumexp, softmax",
    ops: ["sum", "extreme"],
    f: (x) => (x as Tensor).softmax(-1).mul((x as Tensor).logsumexp()),
    inputs: ranked,
  },
  {
    name: "prod",
    ops: ["prod"],
    f: (x) => (x as Tensor).prod(-1).add((x as Tensor).prod(0, true).sum()),
    // away from 0: with a denormal factor the product underflows and y/xᵢ loses the gradient
    inputs: one(shapeArb({ minRank: 1, maxRank: 3 }), { min: -2, max: 2, avoid: [0], margin: 0.3 }),
  },
  {
    name: "prod with zeros",
    ops: ["prod"],
    f: (x) => (x as Tensor).mul(where((x as Tensor).gt(1), 0, 1)).prod(),
    // the zeros come from where; the other factors stay away from 0 (a denormal one underflows
    // the recorded rule's y/xᵢ, which the plain backward's products before and after avoid)
    inputs: one(shapeArb({ minRank: 1, maxRank: 3 }), { min: -2, max: 2, avoid: [0], margin: 0.3 }),
  },
  {
    name: "var, std",
    ops: ["sum"],
    // spread by a ramp: no group is constant (std's kink) for x in [−3, 3]
    f: (x) => {
      const y = (x as Tensor).add(
        arange((x as Tensor).size)
          .reshape((x as Tensor).shape)
          .mul(10),
      );
      return y.var(-1, { keepdims: true }).add(y.std(0, { correction: 0 }).sum());
    },
    inputs: one(shapeArb({ minRank: 1, maxRank: 3, minDim: 2 })),
  },
  {
    name: "norm 1, 2, ∞",
    ops: ["sum", "extreme"],
    // shifted off 0 (the kink of |x|) and off ties of |x| (k/10 − 0.267 = −(j/10 − 0.267) has no solution)
    f: (x) => {
      const y = (x as Tensor).add(0.033);
      return y
        .norm(2, -1)
        .add(y.norm(1))
        .add(y.norm(Number.POSITIVE_INFINITY, 0, true).sum());
    },
    inputs: distinct,
  },
  {
    name: "reshape, permute, transpose",
    ops: ["reshape", "permute"],
    f: (x) =>
      sq(
        (x as Tensor)
          .reshape([-1])
          .reshape((x as Tensor).shape as number[])
          .T.permute(((x as Tensor).shape as number[]).map((_, i) => i)),
      ),
    inputs: ranked,
  },
  {
    name: "expand, unsqueeze, squeeze",
    ops: ["expand", "reshape"],
    f: (x) =>
      sq(
        (x as Tensor)
          .unsqueeze(0)
          .expand([2, ...(x as Tensor).shape])
          .squeeze(),
      ),
    inputs: ranked,
  },
  {
    name: "slice (and its adjoint)",
    ops: ["slice", "sliceScatter"],
    f: (x) => sq((x as Tensor).slice([-1, null, -2])),
    inputs: ranked,
  },
  {
    name: "take (and its adjoint)",
    ops: ["take", "indexAdd"],
    f: (x) => sq((x as Tensor).take([0, -1, 0], -1)),
    inputs: ranked,
  },
  {
    name: "concat, stack",
    ops: ["concat"],
    f: (a, b) =>
      sq(concat([a as Tensor, (b as Tensor).mul(2)], -1))
        .sum(-1)
        .add(stack([a as Tensor, b as Tensor]).sum([0, -1])),
    inputs: shapeArb({ minRank: 1, maxRank: 3 }).chain((s) => fc.tuple(tensorArb(s), tensorArb(s)).map((t) => [...t])),
  },
  {
    name: "gather, scatterAdd (and take's batched indices)",
    ops: ["gather", "scatterAdd"],
    f: (x) => {
      const t = x as Tensor;
      const index = indexFor(t.shape);
      return sq(t.scatterAdd(-1, index, t.gather(-1, index).mul(2))).add(t.take(index.reshape([-1]), -1).sum());
    },
    inputs: ranked,
  },
  {
    name: "cumsum, cumprod, logcumsumexp",
    ops: ["cumsum", "cumprod", "logcumsumexp"],
    f: (x) =>
      sq((x as Tensor).cumsum(-1))
        .add((x as Tensor).cumprod(0))
        .add((x as Tensor).logcumsumexp(-1)),
    inputs: ranked,
  },
  {
    name: "sort, topk (values and indices)",
    ops: ["argsort", "gather"],
    f: (x) => {
      const t = x as Tensor;
      const sorted = t.sort(-1, true);
      return sq(sorted.values).add(sorted.indices.astype("float64")).sum(-1).add(t.topk(1, 0).values.sum());
    },
    inputs: distinct,
  },
  { name: "matmul", ops: ["matmul"], f: (a, b) => (a as Tensor).matmul(b as Tensor), inputs: two(matmulShapesArb()) },
  {
    name: "pad, flip, roll, tile, repeatInterleave (and their adjoint)",
    ops: ["remap", "remapAdd"],
    f: (x) => {
      const t = x as Tensor;
      const reflect = t.pad(
        t.shape.map((n) => [n - 1, Math.min(1, n - 1)] as [number, number]),
        { mode: "reflect" },
      );
      const moved = t
        .pad(
          t.shape.map(() => [1, 2] as [number, number]),
          { value: 3 },
        )
        .flip(-1)
        .roll([1, -2], [0, -1]);
      return sq(reflect)
        .sum()
        .add(sq(moved).sum())
        .add(sq(t.tile([2, 1]).repeatInterleave([2], -1)).sum());
    },
    inputs: ranked,
  },
  {
    name: "tril, triu",
    ops: ["triangle"],
    f: (x) => sq((x as Tensor).tril(1).add((x as Tensor).triu(-1))),
    inputs: one(shapeArb({ minRank: 2, maxRank: 3 })),
  },
  {
    name: "einsum: diagonals (and their adjoint), products",
    ops: ["diagonal", "diagonalEmbed", "matmul"],
    f: (a, b) => einsum("iij,jk->ik", sq(a as Tensor), b as Tensor),
    inputs: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([i, j, k]) => fc.tuple(tensorArb([i, i, j]), tensorArb([j, k])).map((t) => [...t])),
  },
  {
    name: "standardize (the normalizations' primitive)",
    ops: ["standardize"],
    f: (x, w) =>
      standardize(x as Tensor, [...new Set([0, (x as Tensor).ndim - 1])], 0.1, w as Tensor, (w as Tensor).mul(2), null)
        .mul(x as Tensor)
        .add(standardize(x as Tensor, [0], 0.1, null, null, null)),
    inputs: shapeArb({ minRank: 1, maxRank: 3 }).chain((s) =>
      fc.tuple(tensorArb(s), tensorArb(s.slice(-1))).map((t) => [...t]),
    ),
  },
  {
    // the product with x makes the weight gradient (convWeight) depend on the cotangent and on x
    name: "conv2d, conv1d (and their adjoints)",
    ops: ["conv", "convTranspose", "convWeight"],
    f: (x, w) => {
      const y = conv2d(x as Tensor, w as Tensor, null, { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2 });
      const z = conv1d((x as Tensor).sum(2), (w as Tensor).sum(2), null, { padding: "same", groups: 2 });
      return y.mul(y).sum([2, 3]).add(z.sum(-1));
    },
    inputs: fc.tuple(tensorArb([2, 4, 4, 5]), tensorArb([2, 2, 3, 2])).map((t) => [...t]),
  },
  {
    name: "convTranspose2d",
    ops: ["conv", "convTranspose", "convWeight"],
    f: (x, w) => sq(convTranspose2d(x as Tensor, w as Tensor, null, { stride: 2, padding: 1, outputPadding: 1 })),
    inputs: fc.tuple(tensorArb([1, 2, 2, 3]), tensorArb([2, 3, 3, 2])).map((t) => [...t]),
  },
  {
    name: "maxPool2d",
    ops: ["maxPool", "maxPoolGather", "maxPoolScatter"],
    f: (x) => sq(maxPool2d(x as Tensor, 2, { stride: 1, padding: 1 })),
    inputs: distinctOf([1, 2, 3, 4], -1.05),
  },
  {
    name: "avgPool2d, adaptiveAvgPool2d",
    ops: ["meanPool", "meanPoolTranspose"],
    f: (x) =>
      sq(avgPool2d(x as Tensor, 3, { stride: 2, padding: 1, countIncludePad: false })).add(
        sq(adaptiveAvgPool2d(x as Tensor, [2, 1])).sum(),
      ),
    inputs: one(fc.constant([2, 1, 4, 3])),
  },
];
