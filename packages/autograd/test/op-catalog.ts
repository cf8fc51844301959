/**
 * Every registered operation, exercised: a case per op (or per family of ops sharing a registry
 * entry) with inputs drawn where its derivatives exist. The transforms test runs each through
 * jvp, vmap and batched pullbacks, and fails when a registered op has no case here.
 */
import fc from "fast-check";
import {
  adaptiveAvgPool2d,
  avgPool2d,
  concat,
  conv1d,
  conv2d,
  convTranspose2d,
  maxPool2d,
  stack,
  type Tensor,
  tensor,
  where,
} from "../src/index.js";
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

/** One tensor of rank ≥ 1 with distinct values (no ties for max/min). */
const distinct = shapeArb({ minRank: 1, maxRank: 3 }).chain((shape) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc
    .shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    )
    .map((perm) => [
      tensor(
        perm.map((v) => 0.1 * v - 0.3),
        { shape },
      ),
    ]);
});

/** A tensor of the given shape with distinct values (no ties for max pooling). */
function distinctOf(shape: number[]): fc.Arbitrary<Tensor[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc
    .shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    )
    .map((perm) => [
      tensor(
        perm.map((v) => 0.1 * v - 1.05),
        { shape },
      ),
    ]);
}

const ranked = one(shapeArb({ minRank: 1, maxRank: 3 }));
const sq = (t: Tensor) => t.mul(t); // makes linear ops' second derivatives non-zero

export const catalog: CatalogCase[] = [
  ...unaryCases.map(([name, f, domain]) => ({
    name,
    ops: name.startsWith("pow") ? ["pow"] : ["unary"],
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
    ops: ["compare", "sign"],
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
    ops: ["take", "scatterAdd"],
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
  { name: "matmul", ops: ["matmul"], f: (a, b) => (a as Tensor).matmul(b as Tensor), inputs: two(matmulShapesArb()) },
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
    inputs: distinctOf([1, 2, 3, 4]),
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
