/**
 * @file Tests for data.ts: batches in stored and seeded order (W2's permutation), rows kept
 * together across tensors, the last batch, oneHot, accuracy for class and binary predictions,
 * and errors. Imports data.ts and @chainrule/autograd.
 */

import { arange, ChainruleError, Random, tensor } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { batches, oneHot } from "./data.js";
import { accuracy } from "./metrics.js";

describe("batches", () => {
  const X = arange(10).reshape([5, 2]); // row i = [2i, 2i + 1]
  const Y = arange(5);

  test("stored order without a generator; the last batch is smaller unless dropLast", () => {
    const got = [...batches([X, Y], { batchSize: 2 })].map(([x, y]) => [x!.toArray(), y!.toArray()]);
    expect(got).toEqual([
      [
        [
          [0, 1],
          [2, 3],
        ],
        [0, 1],
      ],
      [
        [
          [4, 5],
          [6, 7],
        ],
        [2, 3],
      ],
      [[[8, 9]], [4]],
    ]);
    expect([...batches([Y], { batchSize: 2, dropLast: true })]).toHaveLength(2);
  });

  test("seeded: rows in the order random.permutation(n), rows of X and Y kept together", () => {
    const order = Array.from(new Random(2000).permutation(5));
    const seen = [...batches([X, Y], { batchSize: 2, random: new Random(2000) })];
    expect(seen.flatMap(([, y]) => Array.from(y!.data))).toEqual(order);
    for (const [x, y] of seen) {
      expect(Array.from(x!.data)).toEqual(Array.from(y!.data).flatMap((i) => [2 * i, 2 * i + 1]));
    }
    // W2's documented permutation(10, 7)
    expect(Array.from(new Random(7).permutation(10))).toEqual([6, 5, 8, 1, 2, 3, 4, 7, 9, 0]);
    const w2 = [...batches([arange(10)], { batchSize: 10, random: new Random(7) })];
    expect(Array.from(w2[0]![0]!.data)).toEqual([6, 5, 8, 1, 2, 3, 4, 7, 9, 0]);
  });

  test("one shared generator gives a new order every epoch, reproducibly", () => {
    const epochs = (seed: number) => {
      const r = new Random(seed);
      return [0, 1].map(() => [...batches([Y], { batchSize: 5, random: r })].map(([y]) => Array.from(y!.data)));
    };
    expect(epochs(1)).toEqual(epochs(1));
    expect(epochs(1)[0]).not.toEqual(epochs(1)[1]);
  });

  test("errors", () => {
    expect(() => [...batches([X, arange(4)], { batchSize: 2 })]).toThrow(
      new ChainruleError("batches", "tensor 1 has 4 rows but tensor 0 has 5; every tensor needs the same number"),
    );
    expect(() => [...batches([X], { batchSize: 0 })]).toThrow(
      /batches: batchSize must be a positive integer, got number 0/,
    );
    expect(() => [...batches([], { batchSize: 1 })]).toThrow(/expected a non-empty array of Tensors/);
    expect(() => [...batches([tensor(1)], { batchSize: 1 })]).toThrow(
      /tensor 0 must be a Tensor with at least one axis/,
    );
    expect(() => [...batches([X], { batchSize: 1, random: {} as never })]).toThrow(/random must be a Random/);
  });
});

describe("oneHot and accuracy", () => {
  test("oneHot", () => {
    expect(oneHot([2, 0], 3).toArray()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(oneHot(tensor([1]), 2, { dtype: "float32" }).dtype).toBe("float32");
    expect(() => oneHot([3], 3)).toThrow(
      new ChainruleError("oneHot", "label 3 at position 0 is not a class index in [0, 3)"),
    );
    expect(() => oneHot([1], 0)).toThrow(/numClasses must be a positive integer/);
    expect(() => oneHot(tensor([[1]]), 2)).toThrow(/labels must be 1-d, got shape \[1, 1\]/);
  });

  test("accuracy: argmax per row (first wins ties) against labels or one-hot rows", () => {
    const scores = tensor([
      [0.1, 0.7, 0.2],
      [0.5, 0.5, 0],
      [0, 0, 1],
      [0.3, 0.3, 0.4],
    ]);
    expect(accuracy(scores, [1, 0, 2, 0])).toBe(0.75);
    expect(accuracy(scores, [1, 1, 2, 2])).toBe(0.75); // the tie in row 1 goes to class 0
    expect(accuracy(scores, oneHot([1, 0, 2, 2], 3))).toBe(1);
    expect(accuracy(scores, tensor([1, 0, 2, 0], { dtype: "int32" }))).toBe(0.75); // int32 labels
    expect(accuracy(scores, scores.argmax(1))).toBe(1); // argmax gives int32 labels
  });

  test("accuracy: one score per example, thresholded", () => {
    const p = tensor([[0.9], [0.2], [0.5], [0.49]]);
    expect(accuracy(p, [1, 0, 1, 0])).toBe(1);
    expect(accuracy(p, tensor([[1], [0], [0], [0]]))).toBe(0.75);
    expect(accuracy(tensor([2, -1]), [1, 0], { threshold: 0 })).toBe(1);
    expect(() => accuracy(p, [1])).toThrow(/accuracy: 1 targets for 4 predictions/);
    expect(() => accuracy(tensor(1), [1])).toThrow(/predictions must be a Tensor of shape \[n\] or \[n, C\]/);
  });
});
