/**
 * @file Tests for the normalization, dropout and embedding layers (norm.ts, dropout.ts,
 * embedding.ts): PyTorch's initializations, parameter and buffer names and reprs, running
 * statistics in training and evaluation, train()/eval() through containers, state dicts and
 * model files with buffers (a PyTorch-style file with an int64 counter included), gradients
 * against finite differences, and errors.
 */

import {
  batchNorm,
  ChainruleError,
  gradcheck,
  gradgradcheck,
  layerNorm,
  noGrad,
  Random,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "@chainrule/autograd";
import { gradcheckModule, shapeArb, tensorArb } from "@chainrule/autograd/testing";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Dropout } from "./dropout.js";
import { Embedding } from "./embedding.js";
import { normal_ } from "./init.js";
import { Linear } from "./linear.js";
import { type Module, Sequential } from "./module.js";
import { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm } from "./norm.js";
import { encodeSafetensors } from "./safetensors.js";
import { decodeModel, encodeModel } from "./serialization.js";

const values = (t: Tensor | null | undefined) => Array.from(t?.data ?? []);

describe("BatchNorm1d and BatchNorm2d", () => {
  test("PyTorch's initialization, names and repr", () => {
    const bn = new BatchNorm1d(3);
    expect(bn.namedState().map(([n]) => n)).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(["weight", "bias"]);
    expect(values(bn.weight)).toEqual([1, 1, 1]);
    expect(values(bn.bias)).toEqual([0, 0, 0]);
    expect(values(bn.runningMean)).toEqual([0, 0, 0]);
    expect(values(bn.runningVar)).toEqual([1, 1, 1]);
    expect(bn.numBatchesTracked?.shape).toEqual([]);
    expect(bn.toString()).toBe("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
    expect(new BatchNorm2d(8, { momentum: null, affine: false, eps: 0.001 }).toString()).toBe(
      "BatchNorm2d(8, eps=0.001, momentum=None, affine=False, track_running_stats=True)",
    );
    expect(new BatchNorm1d(2, { affine: false, trackRunningStats: false }).namedState()).toEqual([]);
  });

  test("training: the batch's statistics, running ones updated, the batch counted; eval: the running ones", () => {
    const r = new Random(1);
    const bn = new BatchNorm1d(3, { momentum: 0.3 });
    const x = randn([5, 3], r);
    const rm = zeros([3]);
    const rv = tensor([1, 1, 1]);
    const y = bn.forward(x);
    expect(values(y)).toEqual(values(batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.3 })));
    expect(values(bn.runningMean)).toEqual(values(rm));
    expect(values(bn.runningVar)).toEqual(values(rv));
    expect(bn.numBatchesTracked?.item()).toBe(1);
    bn.eval();
    const x2 = randn([2, 3], r);
    expect(values(bn.forward(x2))).toEqual(values(batchNorm(x2, rm, rv)));
    expect(bn.numBatchesTracked?.item()).toBe(1); // evaluation changes nothing
    expect(values(bn.runningMean)).toEqual(values(rm));
  });

  test("momentum null: a cumulative average of the batch statistics", () => {
    const bn = new BatchNorm1d(1, { momentum: null });
    bn.forward(tensor([[1], [3]])); // mean 2
    bn.forward(tensor([[5], [7]])); // mean 6
    expect(bn.runningMean?.item()).toBeCloseTo(4, 15);
    expect(bn.runningVar?.item()).toBeCloseTo(2, 15); // unbiased variances 2 and 2
    expect(bn.numBatchesTracked?.item()).toBe(2);
  });

  test("without running statistics the batch's are used in evaluation too", () => {
    const bn = new BatchNorm2d(2, { trackRunningStats: false }).eval();
    const x = randn([2, 2, 3, 3], new Random(2));
    expect(values(bn.forward(x))).toEqual(values(batchNorm(x, null, null, bn.weight, bn.bias, { training: true })));
  });

  test("train() and eval() reach layers inside containers", () => {
    const random = new Random(0);
    const net = new Sequential(new Linear(2, 3, { random }), new BatchNorm1d(3), new Dropout(0.5, { random }));
    net.eval();
    expect(net.layers.every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.layers.every((m) => m.training)).toBe(true);
  });

  test("gradients through the layer in training mode (first and second order)", () => {
    const bn = new BatchNorm2d(2, { eps: 0.01 });
    const x = randn([2, 2, 2, 3], new Random(3));
    const w = bn.weight as Tensor;
    const b = bn.bias as Tensor;
    noGrad(() => w.copy_(tensor([1.5, -0.7])));
    expect(gradcheck((xx) => bn.forward(xx).mul(tensor([[[[1]], [[2]]]])), [x]).ok).toBe(true);
    expect(gradgradcheck((xx) => bn.forward(xx).pow(2), [x]).ok).toBe(true);
    expect(
      gradcheck((xx, ww, bb) => batchNorm(xx, null, null, ww, bb, { training: true, eps: 0.01 }), [x, w, b]).ok,
    ).toBe(true);
  });

  test("errors name the layer, the shape and what was expected; a refused batch changes nothing", () => {
    const bn = new BatchNorm1d(3);
    expect(() => bn.forward(zeros([2, 3, 4, 5]))).toThrow(
      "BatchNorm1d: expected a 2-d or 3-d input [N, C] or [N, C, L], got x of shape [2, 3, 4, 5]",
    );
    expect(() => new BatchNorm2d(3).forward(zeros([2, 3, 4]))).toThrow(
      "BatchNorm2d: expected a 4-d input [N, C, H, W], got x of shape [2, 3, 4]",
    );
    expect(() => bn.forward(zeros([2, 4]))).toThrow(
      "BatchNorm1d: x of shape [2, 4] has 4 channels (axis 1); expected 3 (numFeatures)",
    );
    expect(() => bn.forward(tensor([[1, 2, 3]]))).toThrow(/expected more than 1 value per channel when training/);
    expect(bn.numBatchesTracked?.item()).toBe(0);
    expect(values(bn.runningMean)).toEqual([0, 0, 0]);
    expect(() => new BatchNorm1d(0)).toThrow(/numFeatures must be a positive integer/);
    expect(() => new BatchNorm1d(2, { momentum: Number.NaN })).toThrow(/momentum must be a finite number or null/);
    expect(() => new BatchNorm1d(2, { eps: -1 })).toThrow(ChainruleError);
  });
});

describe("LayerNorm and GroupNorm", () => {
  test("LayerNorm: weight 1, bias 0, the functional form, repr", () => {
    const ln = new LayerNorm([3, 4]);
    expect(ln.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight", [3, 4]],
      ["bias", [3, 4]],
    ]);
    const x = randn([2, 3, 4], new Random(4));
    expect(values(ln.forward(x))).toEqual(values(layerNorm(x, [3, 4], ln.weight, ln.bias)));
    expect(ln.toString()).toBe("LayerNorm((3, 4), eps=1e-05, elementwise_affine=True)");
    expect(new LayerNorm(10).toString()).toBe("LayerNorm((10,), eps=1e-05, elementwise_affine=True)");
    expect(new LayerNorm(4, { bias: false }).namedParameters().map(([n]) => n)).toEqual(["weight"]);
    expect(new LayerNorm(4, { elementwiseAffine: false }).namedParameters()).toEqual([]);
    expect(() => ln.forward(zeros([2, 4, 3]))).toThrow(/layerNorm: normalizedShape \[3, 4\] does not match/);
  });

  test("LayerNorm gradients (first and second order) through its parameters", () => {
    const ln = new LayerNorm(3, { eps: 0.01 });
    const x = randn([2, 3], new Random(5));
    expect(
      gradcheck((xx, w, b) => layerNorm(xx, [3], w, b, { eps: 0.01 }), [x, ln.weight as Tensor, ln.bias as Tensor]).ok,
    ).toBe(true);
    expect(gradgradcheck((xx) => ln.forward(xx).pow(2), [x]).ok).toBe(true);
  });

  test("GroupNorm: parameters per channel, repr, errors", () => {
    const gn = new GroupNorm(2, 6);
    expect(gn.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight", [6]],
      ["bias", [6]],
    ]);
    expect(gn.toString()).toBe("GroupNorm(2, 6, eps=1e-05, affine=True)");
    expect(gn.forward(randn([2, 6, 3], new Random(6))).shape).toEqual([2, 6, 3]);
    expect(() => new GroupNorm(4, 6)).toThrow(
      "GroupNorm: numChannels 6 cannot be split into 4 groups; expected numChannels divisible by numGroups",
    );
    expect(() => gn.forward(zeros([2, 4, 3]))).toThrow(
      "GroupNorm: x of shape [2, 4, 3] has 4 channels (axis 1); expected 6 (numChannels)",
    );
    expect(() => gn.forward(zeros([6]))).toThrow(/groupNorm: x of shape \[6\] has rank 1/);
  });
});

describe("Dropout and Embedding", () => {
  test("Dropout: a seeded mask in training, the identity in evaluation", () => {
    const x = randn([4, 5], new Random(0));
    const a = new Dropout(0.5, { random: new Random(9) });
    const b = new Dropout(0.5, { random: new Random(9) });
    const ya = a.forward(x);
    expect(values(ya)).toEqual(values(b.forward(x)));
    expect(values(a.forward(x))).not.toEqual(values(ya)); // the generator moves on: a new mask
    expect(a.eval().forward(x)).toBe(x);
    expect(a.toString()).toBe("Dropout(p=0.5, inplace=False)");
    expect(a.namedParameters()).toEqual([]);
    expect(() => new Dropout(1, { random: new Random(0) })).toThrow(
      "Dropout: p must be a probability in [0, 1), got number 1",
    );
    expect(() => new Dropout(0.5)).toThrow(/options.random must be a seeded generator/);
    expect(new Dropout(0).forward(x)).toBe(x);
  });

  test("Embedding: N(0, 1) from the seed, lookups, gradient into the rows used, repr", () => {
    const emb = new Embedding(5, 3, { random: new Random(7) });
    const expected = normal_(zeros([5, 3]), new Random(7));
    expect(values(emb.weight)).toEqual(values(expected));
    expect(emb.toString()).toBe("Embedding(5, 3)");
    expect(emb.namedParameters().map(([n]) => n)).toEqual(["weight"]);
    const y = emb.forward([
      [4, 0],
      [4, 4],
    ]);
    expect(y.shape).toEqual([2, 2, 3]);
    y.sum().backward();
    expect(emb.weight.grad?.toArray()).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
      [3, 3, 3],
    ]);
    expect(() => emb.forward([5])).toThrow(/embedding: id 5 at position 0 of ids of shape \[1\] is out of range/);
    expect(() => new Embedding(5, 3, {} as never)).toThrow(/options.random must be a seeded generator/);
  });
});

describe("every layer's gradients against finite differences, random shapes", () => {
  // NOTE: eps 1e-2 keeps third derivatives small where a random group is nearly constant.
  const withRandomParameters = <M extends { namedParameters(): Array<[string, Tensor]> }>(m: M, seed: number): M => {
    const r = new Random(seed);
    noGrad(() => {
      for (const [, p] of m.namedParameters()) p.copy_(randn(p.shape, r));
    });
    return m;
  };
  type Case = [string, fc.Arbitrary<{ layer: Module; x: Tensor }>];
  const dim = fc.integer({ min: 1, max: 3 });
  const cases: Case[] = [
    [
      "BatchNorm1d",
      fc
        .tuple(fc.integer({ min: 2, max: 3 }), dim, fc.boolean(), fc.integer({ min: 1, max: 3 }))
        .chain(([n, c, seq, l]) =>
          tensorArb(seq ? [n, c, l] : [n, c]).map((x) => ({
            layer: withRandomParameters(new BatchNorm1d(c, { eps: 0.01 }), n + c),
            x,
          })),
        ),
    ],
    [
      "BatchNorm2d",
      fc.tuple(dim, dim, dim, fc.integer({ min: 2, max: 3 })).chain(([n, c, h, w]) =>
        tensorArb([n, c, h, w]).map((x) => ({
          layer: withRandomParameters(new BatchNorm2d(c, { eps: 0.01 }), c + h),
          x,
        })),
      ),
    ],
    [
      "LayerNorm",
      shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }).chain((shape) =>
        fc.integer({ min: 1, max: shape.length }).chain((k) =>
          tensorArb(shape).map((x) => ({
            layer: withRandomParameters(new LayerNorm(shape.slice(shape.length - k), { eps: 0.01 }), k),
            x,
          })),
        ),
      ),
    ],
    [
      "GroupNorm",
      fc.tuple(dim, dim, dim, shapeArb({ maxRank: 2, maxDim: 3 })).chain(([n, groups, per, rest]) =>
        tensorArb([n, groups * per, ...rest]).map((x) => ({
          layer: withRandomParameters(new GroupNorm(groups, groups * per, { eps: 0.01 }), groups + per),
          x,
        })),
      ),
    ],
  ];
  test.each(cases)("%s: input (first and second order) and parameters, training and evaluation", (_name, arb) => {
    fc.assert(
      fc.property(arb, ({ layer, x }) => {
        for (const mode of [true, false]) {
          layer.train(mode);
          const weights = randn(x.shape, new Random(x.size)); // a fixed linear functional of the output
          const first = gradcheck((xx) => layer.forward(xx).mul(weights), [x]);
          expect(first.ok, first.toString()).toBe(true);
          const second = gradgradcheck((xx) => layer.forward(xx).mul(weights), [x]);
          expect(second.ok, second.toString()).toBe(true);
          const params = gradcheckModule(layer, () => layer.forward(x).mul(weights).sum());
          expect(params.ok, params.toString()).toBe(true);
        }
      }),
      { numRuns: 15 },
    );
  });

  test("Embedding: the table's gradient, random ids with repeats", () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 6 }), dim)
      .chain(([rows, d]) =>
        fc.tuple(fc.constant([rows, d]), fc.array(fc.integer({ min: 0, max: rows - 1 }), { maxLength: 7 })),
      );
    fc.assert(
      fc.property(arb, ([[rows, d], ids]) => {
        const emb = new Embedding(rows as number, d as number, { random: new Random(ids.length) });
        const weights = randn([ids.length, d as number], new Random(1));
        const report = gradcheckModule(emb, () => emb.forward(ids).mul(weights).pow(2).sum());
        expect(report.ok, report.toString()).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  test("Dropout: the gradient is the mask the forward pass used", () => {
    const drop = new Dropout(0.3, { random: new Random(4) });
    const x = randn([7, 5], new Random(5)).requireGrad();
    const y = drop.forward(x);
    y.sum().backward();
    const mask = Array.from(y.data).map((v, i) => v / (x.data[i] as number));
    Array.from(x.grad?.data ?? []).forEach((g, i) => {
      expect(g).toBeCloseTo(mask[i] as number, 12);
    });
    expect(new Set(mask.map((m) => Math.round(m * 1e9) / 1e9))).toEqual(new Set([0, Math.round(1e9 / 0.7) / 1e9]));
  });
});

describe("state dicts and model files carry the buffers", () => {
  const model = () => {
    const random = new Random(0);
    return new Sequential(new Linear(2, 3, { random }), new BatchNorm1d(3), new Linear(3, 1, { random }));
  };

  test("stateDict and loadStateDict move running statistics between models", () => {
    const a = model();
    a.forward(randn([4, 2], new Random(1)));
    const b = model();
    b.loadStateDict(a.stateDict());
    for (const name of ["layers.1.running_mean", "layers.1.running_var", "layers.1.num_batches_tracked"]) {
      expect(values(b.stateDict().get(name))).toEqual(values(a.stateDict().get(name)));
    }
    const partial = a.stateDict();
    partial.delete("layers.1.running_var");
    expect(() => b.loadStateDict(partial)).toThrow(/missing "layers.1.running_var"/);
  });

  test("a model file round trip keeps the buffers", () => {
    const a = model();
    a.forward(randn([4, 2], new Random(1)));
    a.forward(randn([4, 2], new Random(2)));
    const b = model();
    decodeModel(encodeModel(a), b);
    expect(values((b.layers[1] as BatchNorm1d).runningMean)).toEqual(values((a.layers[1] as BatchNorm1d).runningMean));
    expect((b.layers[1] as BatchNorm1d).numBatchesTracked?.item()).toBe(2);
  });

  test("a file as PyTorch writes it (float32, int64 num_batches_tracked) loads", () => {
    const bn = new BatchNorm1d(2, { dtype: "float32" });
    const f32 = (v: number[]) => ({ dtype: "float32" as const, shape: [2], data: new Float32Array(v) });
    // encode with a float64 placeholder for the counter, then turn it into I64 as torch writes it
    const bytes = encodeSafetensors({
      weight: f32([1, 2]),
      bias: f32([0.5, 0]),
      running_mean: f32([0.25, -1]),
      running_var: f32([2, 3]),
      num_batches_tracked: { dtype: "float64", shape: [], data: new Float64Array([0]) },
    });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    const edited = header.replace('"num_batches_tracked":{"dtype":"F64"', '"num_batches_tracked":{"dtype":"I64"');
    expect(edited).not.toBe(header);
    const out = bytes.slice();
    out.set(new TextEncoder().encode(edited), 8);
    const info = JSON.parse(header).num_batches_tracked.data_offsets[0] as number;
    new DataView(out.buffer).setBigInt64(8 + headerLength + info, 7n, true);
    decodeModel(out, bn);
    expect(values(bn.runningVar)).toEqual([2, 3]);
    expect(bn.numBatchesTracked?.item()).toBe(7);
  });
});

describe("bad arguments of every kind give a ChainruleError naming the layer", () => {
  const bad: [string, () => unknown][] = [
    ["BatchNorm1d", () => new BatchNorm1d(2, null as never)],
    ["BatchNorm1d", () => new BatchNorm1d(2, { dtype: "int8" as never })],
    ["BatchNorm1d", () => new BatchNorm1d(2).forward([1, 2] as never)],
    ["BatchNorm2d", () => new BatchNorm2d(1.5)],
    ["LayerNorm", () => new LayerNorm([0])],
    ["LayerNorm", () => new LayerNorm(3, { eps: Number.POSITIVE_INFINITY })],
    ["LayerNorm", () => new LayerNorm(3).forward("x" as never)],
    ["GroupNorm", () => new GroupNorm(0, 4)],
    ["GroupNorm", () => new GroupNorm(2, 4, { dtype: "float16" as never })],
    ["Dropout", () => new Dropout(-0.5, { random: new Random(0) })],
    ["Dropout", () => new Dropout(0.5, { random: new Random(0) }).forward(null as never)],
    ["Embedding", () => new Embedding(0, 3, { random: new Random(0) })],
    ["Embedding", () => new Embedding(3, 2, { random: new Random(0), dtype: "int32" as never })],
    ["embedding", () => new Embedding(3, 2, { random: new Random(0) }).forward([[0], [1, 2]] as never)],
  ];
  test.each(bad)("%s", (op, call) => {
    expect(call).toThrow(ChainruleError);
    expect(call).toThrow(new RegExp(`^${op}: `));
  });
});
