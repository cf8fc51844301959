/**
 * @file The confusion matrix of a classifier and its text table: which digits the network mixes
 * up, with each class's recall and the overall accuracy. Imports `ChainruleError` from
 * @chainrule/autograd.
 */

import { ChainruleError } from "@chainrule/autograd";

/**
 * Counts C[a][p] = how many examples of actual class a were predicted as class p, so the
 * diagonal holds the correct answers. `predicted` and `actual` hold class indices 0…classes−1.
 *
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 1, 0], 2); // [[1, 1], [0, 1]]
 * ```
 */
export function confusionMatrix(predicted: ArrayLike<number>, actual: ArrayLike<number>, classes = 10): number[][] {
  if (predicted.length !== actual.length)
    throw new ChainruleError(
      "confusionMatrix",
      `${predicted.length} predictions for ${actual.length} labels; expected one per label`,
    );
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const check = (what: string, c: number, i: number) => {
    if (!Number.isInteger(c) || c < 0 || c >= classes)
      throw new ChainruleError("confusionMatrix", `${what} ${c} at index ${i} is not a class in [0, ${classes})`);
  };
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    check("label", a, i);
    check("prediction", p, i);
    const row = matrix[a]!;
    row[p] = row[p]! + 1;
  }
  return matrix;
}

/** Correct answers (the diagonal) over all examples; NaN when there are none. */
export function accuracyOf(matrix: number[][]): number {
  let correct = 0;
  let total = 0;
  matrix.forEach((row, a) => {
    row.forEach((count, p) => {
      total += count;
      if (a === p) correct += count;
    });
  });
  return total > 0 ? correct / total : Number.NaN;
}

/**
 * The matrix as an aligned table: a row per actual class, a column per predicted class, then the
 * row's recall (its diagonal count over its row total, "-" for a class with no examples), and a
 * last line with the overall accuracy. Fits 80 columns for 10 classes and up to 99,999 examples
 * per cell.
 *
 * ```text
 *        predicted
 * actual     0     1  recall
 *      0     1     1   50.0%
 *      1     0     1  100.0%
 * accuracy 66.67% (2 of 3)
 * ```
 */
export function formatConfusion(matrix: number[][], classNames?: string[]): string {
  const classes = matrix.length;
  if (matrix.some((row) => row.length !== classes))
    throw new ChainruleError("formatConfusion", `matrix must be square, ${classes} rows of ${classes}`);
  const names = classNames ?? matrix.map((_, i) => String(i));
  const width = Math.max(5, ...names.map((n) => n.length), ...matrix.flat().map((c) => String(c).length));
  const cell = (text: string) => text.padStart(width + 1);
  const head = "actual".padEnd(Math.max(6, ...names.map((n) => n.length)));

  const percent = (num: number, den: number, digits: number) =>
    den > 0 ? `${((100 * num) / den).toFixed(digits)}%` : "-";
  const lines = [`${" ".repeat(head.length + 1)}predicted`, `${head}${names.map(cell).join("")}  recall`];
  matrix.forEach((row, a) => {
    const total = row.reduce((s, c) => s + c, 0);
    const recall = percent(row[a]!, total, 1).padStart(7);
    lines.push(`${names[a]!.padStart(head.length)}${row.map((c) => cell(String(c))).join("")} ${recall}`);
  });
  const correct = matrix.reduce((s, row, a) => s + row[a]!, 0);
  const total = matrix.flat().reduce((s, c) => s + c, 0);
  lines.push(`accuracy ${percent(correct, total, 2)} (${correct} of ${total})`);
  return lines.join("\n");
}
