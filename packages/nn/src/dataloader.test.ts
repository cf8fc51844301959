/**
 * @file Tests for dataloader.ts: TensorDataset rows, DataLoader's batch sizes, stored and seeded
 * order (one permutation per pass, bit for bit with the same seed or manualSeed), dropLast, the
 * default and a custom collation, any Dataset, and errors. Imports dataloader.ts and
 * @chainrule/autograd.
 */

import { arange, ChainruleError, manualSeed, Random, type Tensor, tensor } from "@chainrule/autograd";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DataLoader, type Dataset, defaultCollate, TensorDataset } from "./dataloader.js";

const X = arange(14).reshape([7, 2]); // row i = [2i, 2i + 1]
const Y = arange(7);
const labelsOf = (batches: Tensor[][]) => batches.map(([, y]) => Array.from(y!.data));

describe("TensorDataset", () => {
  test("example i is the i-th row of every tensor", () => {
    const data = new TensorDataset(X, Y);
    expect(data.length).toBe(7);
    const [x, y] = data.get(3);
    expect(x!.toArray()).toEqual([6, 7]);
    expect(y!.shape).toEqual([]);
    expect(y!.item()).toBe(3);
    expect(() => data.get(7)).toThrow(/TensorDataset.get: index 7 is outside \[0, 7\)/);
    expect(() => new TensorDataset(X, arange(3))).toThrow(/tensor 1 has 3 rows but tensor 0 has 7/);
    expect(() => new TensorDataset()).toThrow(ChainruleError);
    expect(() => new TensorDataset(tensor(1))).toThrow(/argument 0 must be a Tensor with at least one axis/);
  });
});

describe("DataLoader", () => {
  test("stored order by default; the last batch is smaller unless dropLast; length counts batches", () => {
    const loader = new DataLoader(new TensorDataset(X, Y), { batchSize: 3 });
    expect(loader.length).toBe(3);
    const seen = [...loader];
    expect(labelsOf(seen)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(seen[0]![0]!.toArray()).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    const dropped = new DataLoader(new TensorDataset(X, Y), { batchSize: 3, dropLast: true });
    expect(dropped.length).toBe(2);
    expect(labelsOf([...dropped])).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect([...new DataLoader(new TensorDataset(Y))].map(([y]) => y!.shape)).toEqual(Array(7).fill([1]));
  });

  test("shuffle: each pass draws random.permutation(n) from the generator, rows kept together", () => {
    const loader = new DataLoader(new TensorDataset(X, Y), { batchSize: 3, shuffle: true, random: new Random(5) });
    const expected = new Random(5);
    for (let pass = 0; pass < 3; pass++) {
      const order = Array.from(expected.permutation(7));
      const seen = [...loader];
      expect(labelsOf(seen).flat()).toEqual(order);
      for (const [x, y] of seen) {
        expect(Array.from(x!.data)).toEqual(Array.from(y!.data).flatMap((i) => [2 * i, 2 * i + 1]));
      }
    }
  });

  test("without a generator, shuffling uses the default one: manualSeed repeats it bit for bit", () => {
    const epochs = () => {
      manualSeed(42);
      const loader = new DataLoader(new TensorDataset(X, Y), { batchSize: 2, shuffle: true });
      return [labelsOf([...loader]), labelsOf([...loader])];
    };
    const [a, b] = epochs();
    expect(epochs()).toEqual([a, b]);
    expect(a).not.toEqual(b); // a new order per pass
    const r = new Random(42);
    expect(a!.flat()).toEqual(Array.from(r.permutation(7)));
  });

  test("every example appears exactly once per pass, in batches of batchSize (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (n, size, shuffle, dropLast, seed) => {
          const loader = new DataLoader(new TensorDataset(arange(n)), {
            batchSize: size,
            shuffle,
            dropLast,
            random: new Random(seed),
          });
          const batches = [...loader].map(([y]) => Array.from(y!.data));
          expect(batches).toHaveLength(loader.length);
          const kept = dropLast ? n - (n % size) : n;
          expect(batches.flat()).toHaveLength(kept);
          expect(new Set(batches.flat()).size).toBe(kept);
          batches.forEach((b, i) => {
            if (i < batches.length - 1 || dropLast) expect(b).toHaveLength(size);
          });
        },
      ),
    );
  });

  test("the gathered batches of a TensorDataset equal the default collation of its examples", () => {
    const data = new TensorDataset(X, Y);
    const byRows = [...new DataLoader(data, { batchSize: 4, shuffle: true, random: new Random(1) })];
    const byItems = [
      ...new DataLoader(data, { batchSize: 4, shuffle: true, random: new Random(1), collate: defaultCollate }),
    ];
    expect(byItems.map((b) => b.map((t) => t.toArray()))).toEqual(byRows.map((b) => b.map((t) => t.toArray())));
  });

  test("a TensorDataset of k tensors gives batches typed as k-tuples of Tensors", () => {
    // Compile-time as much as run-time: under noUncheckedIndexedAccess, x and y are Tensors.
    for (const [x, y] of new DataLoader(new TensorDataset(X, Y), { batchSize: 7 })) {
      const rows: number = x.shape[0]!;
      expect([rows, y.size]).toEqual([7, 7]);
    }
    const [x0, y0] = new TensorDataset(X, Y).get(1);
    expect([x0.toArray(), y0.item()]).toEqual([[2, 3], 1]);
  });

  test("any Dataset, with a custom collation", () => {
    const words: Dataset<string> = { length: 5, get: (i) => ["a", "b", "c", "d", "e"][i]! };
    expect([...new DataLoader(words, { batchSize: 2 })]).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    const joined = new DataLoader(words, { batchSize: 2, collate: (xs) => xs.join("") });
    expect([...joined]).toEqual(["ab", "cd", "e"]);
    const tensors: Dataset<Tensor> = { length: 3, get: (i) => tensor([i, -i]) };
    const [first] = new DataLoader(tensors, { batchSize: 3 });
    expect(first!.toArray()).toEqual([
      [0, -0],
      [1, -1],
      [2, -2],
    ]);
  });

  test("errors name the loader and the argument", () => {
    const data = new TensorDataset(Y);
    expect(() => new DataLoader(data, { batchSize: 0 })).toThrow(/DataLoader: batchSize must be a positive integer/);
    expect(() => new DataLoader(data, { random: 3 as never })).toThrow(/DataLoader: random must be a Random/);
    expect(() => new DataLoader(data, { collate: "stack" as never })).toThrow(/DataLoader: collate must be a function/);
    expect(() => new DataLoader([1, 2] as never)).toThrow(/DataLoader: dataset must have an integer length and a get/);
    expect(() => new DataLoader(data, null as never)).toThrow(/DataLoader: options must be an object/);
  });
});
