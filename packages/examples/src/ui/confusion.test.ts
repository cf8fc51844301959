/**
 * @file A hand-counted confusion matrix and its table: rows are actual classes, columns predicted
 * ones, with recall per row and the overall accuracy.
 */

import { describe, expect, test } from "vitest";
import { accuracyOf, confusionMatrix, formatConfusion } from "./confusion.js";

// Six examples of three classes:        actual → predicted
//   0 → 0, 0 → 2, 1 → 1, 1 → 1, 2 → 1, 2 → 2
const actual = [0, 0, 1, 1, 2, 2];
const predicted = [0, 2, 1, 1, 1, 2];

describe("confusionMatrix", () => {
  test("row = actual class, column = predicted class", () => {
    expect(confusionMatrix(predicted, actual, 3)).toEqual([
      [1, 0, 1],
      [0, 2, 0],
      [0, 1, 1],
    ]);
  });

  test("accepts typed arrays, defaults to 10 classes", () => {
    const m = confusionMatrix(Uint8Array.from([9, 3]), Uint8Array.from([9, 8]));
    expect(m).toHaveLength(10);
    expect(m[9]![9]).toBe(1);
    expect(m[8]![3]).toBe(1);
    expect(m.flat().reduce((s, c) => s + c)).toBe(2);
  });

  test("rejects mismatched lengths and out-of-range classes", () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 predictions for 1 labels/);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/prediction 2 at index 1/);
    expect(() => confusionMatrix([0], [-1], 2)).toThrow(/label -1 at index 0/);
  });
});

describe("formatConfusion", () => {
  test("the hand example, cell by cell", () => {
    const m = confusionMatrix(predicted, actual, 3);
    expect(accuracyOf(m)).toBe(4 / 6);
    expect(formatConfusion(m)).toBe(
      [
        "       predicted",
        "actual     0     1     2  recall",
        "     0     1     0     1   50.0%",
        "     1     0     2     0  100.0%",
        "     2     0     1     1   50.0%",
        "accuracy 66.67% (4 of 6)",
      ].join("\n"),
    );
  });

  test("every row has the same width for 10 classes, and fits 80 columns", () => {
    const labels = Array.from({ length: 2000 }, (_, i) => i % 10);
    const guesses = labels.map((c, i) => (i % 7 === 0 ? (c + 3) % 10 : c));
    const lines = formatConfusion(confusionMatrix(guesses, labels)).split("\n");
    expect(lines).toHaveLength(2 + 10 + 1);
    const rows = lines.slice(1, 12);
    expect(new Set(rows.map((l) => l.length)).size).toBe(1);
    expect(rows[0]!.length).toBeLessThanOrEqual(80);
    expect(lines.at(-1)).toBe("accuracy 85.70% (1714 of 2000)");
  });

  test("a class without examples has no recall; names replace indices", () => {
    const text = formatConfusion(
      [
        [3, 1],
        [0, 0],
      ],
      ["cat", "dog"],
    );
    expect(text).toMatch(/^ {3}dog {5}0 {5}0 {7}-$/m);
    expect(text).toMatch(/^ {3}cat {5}3 {5}1 {3}75\.0%$/m);
  });
});
