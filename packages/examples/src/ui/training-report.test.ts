/**
 * @file The end-of-training report on a hand-made run: both charts titled by the loss, the SVG
 * file, the confusion table, and the first five wrong digits drawn from their own rows of the
 * images; a loaded model (no epochs) gets no charts and no file.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pixels } from "@chainrule/datasets";
import { afterAll, describe, expect, test } from "vitest";
import { confusionMatrix, formatConfusion } from "./confusion.js";
import { asciiDigit, sideBySide } from "./digit.js";
import { printTrainingReport, type TrainingReport } from "./training-report.js";

const dir = mkdtempSync(join(tmpdir(), "chainrule-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Ten 28 × 28 images: image r is an ink bar r + 1 pixels wide, so every row draws differently.
const images = new Uint8Array(10 * 784);
for (let r = 0; r < 10; r++)
  for (let y = 8; y < 20; y++) for (let x = 4; x <= 4 + r; x++) images[r * 784 + y * 28 + x] = 255;

// Eight test digits, stored in the images in reverse order; six are wrong (0, 2, 3, 4, 5, 7).
const actual = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const predicted = Int32Array.from([0, 2, 9, 9, 9, 9, 7, 0]);
const rows = Int32Array.from([9, 8, 7, 6, 5, 4, 3, 2]);

function run(overrides: Partial<TrainingReport>): string {
  const lines: string[] = [];
  printTrainingReport(
    {
      epochs: [
        { trainLoss: 0.9, testLoss: 0.7, testAccuracy: 0.6 },
        { trainLoss: 0.5, testLoss: 0.4, testAccuracy: 0.8 },
      ],
      lossName: "cross-entropy",
      chartTitle: "a test network",
      chart: null,
      confusion: confusionMatrix(predicted, actual, 10),
      predicted,
      actual,
      rows,
      images,
      ...overrides,
    },
    (line) => lines.push(line),
  );
  return lines.join("\n");
}

describe("printTrainingReport", () => {
  test("charts titled by the loss, and the SVG file when asked", () => {
    const chart = join(dir, "report.svg");
    const text = run({ chart });
    expect(text).toContain("test accuracy (%) by epoch");
    expect(text).toContain("cross-entropy by epoch");
    expect(text).toContain(`chart written to ${chart}`);
    const svg = readFileSync(chart, "utf8");
    expect(svg).toContain("a test network");
    expect(svg).toContain("cross-entropy");
    expect(text.indexOf("by epoch")).toBeLessThan(text.indexOf("predicted"));
  });

  test("the confusion table, then the first five wrong digits from their rows", () => {
    const text = run({});
    expect(text).not.toContain("chart written");
    expect(text).toContain(formatConfusion(confusionMatrix(predicted, actual, 10)));
    const wrong = [0, 2, 3, 4, 5]; // the sixth wrong one, 7, is left out
    const drawing = sideBySide(
      wrong.map((i) => asciiDigit(pixels(images, [rows[i]!], "float64"), 28, { trim: true })),
      wrong.map((i) => `true ${actual[i]} / said ${predicted[i]}`),
    );
    expect(text.endsWith(`Some digits it gets wrong:\n${drawing}`)).toBe(true);
    expect(text).toContain("true 1 / said 0");
    expect(text).not.toContain("true 8 / said 0");
  });

  test("no epochs (a loaded model): no charts and no file; all right: no wrong digits", () => {
    const chart = join(dir, "none.svg");
    const confusion = confusionMatrix(actual, actual, 10);
    const text = run({ epochs: [], chart, predicted: actual, confusion });
    expect(existsSync(chart)).toBe(false);
    expect(text).toBe(`\n${formatConfusion(confusion)}`); // a blank line, the table, nothing else
  });
});
