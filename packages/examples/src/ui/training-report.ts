/**
 * @file What the MNIST demos print once training is over: the test accuracy and the loss by epoch
 * as terminal charts (and as an SVG file), the confusion matrix, and the first digits the network
 * gets wrong. Shared by the sigmoid network's demo and the CNN's, which differ only in their loss
 * and their chart's title. Imports `pixels` from @chainrule/datasets and chart.ts, confusion.ts,
 * digit.ts.
 */

import { writeFileSync } from "node:fs";
import { pixels } from "@chainrule/datasets";
import { asciiChart, svgChart } from "./chart.js";
import { formatConfusion } from "./confusion.js";
import { asciiDigit, sideBySide } from "./digit.js";

/** One epoch's figures, as the charts draw them. */
export interface EpochFigures {
  trainLoss: number;
  testLoss: number;
  /** In [0, 1]. */
  testAccuracy: number;
}

export interface TrainingReport {
  /** Every epoch trained, in order; none (a loaded model) draws no charts and writes no file. */
  epochs: readonly EpochFigures[];
  /** The loss's name, e.g. "cross-entropy": the loss chart's title and the SVG's left axis. */
  lossName: string;
  /** The SVG chart's title. */
  chartTitle: string;
  /** Where the SVG chart goes (null: no file). */
  chart: string | null;
  /** confusionMatrix(predicted, actual): rows actual, columns predicted. */
  confusion: number[][];
  /** For each test digit i: the class predicted, the true class, and its row in `images`. */
  predicted: ArrayLike<number>;
  actual: ArrayLike<number>;
  rows: ArrayLike<number>;
  /** All the MNIST pixels (784 codes per row), where the wrong digits are drawn from. */
  images: Uint8Array;
}

/** How many wrong digits are drawn. */
const WRONG_SHOWN = 5;

/**
 * Prints the charts, the confusion matrix and the wrong digits line by line through `print`, and
 * writes the SVG chart to `report.chart`.
 *
 * ```ts
 * printTrainingReport({ epochs, lossName: "cross-entropy", chartTitle: "CNN on MNIST", chart: null,
 *   confusion, predicted, actual, rows, images }, console.log);
 * ```
 */
export function printTrainingReport(report: TrainingReport, print: (line: string) => void): void {
  const { epochs, predicted, actual } = report;
  if (epochs.length > 0) {
    print("");
    print(
      asciiChart([{ name: "test accuracy %", values: epochs.map((r) => 100 * r.testAccuracy) }], {
        title: "test accuracy (%) by epoch",
        height: 8,
      }),
    );
    print("");
    print(
      asciiChart(
        [
          { name: "train loss", values: epochs.map((r) => r.trainLoss) },
          { name: "test loss", values: epochs.map((r) => r.testLoss) },
        ],
        { title: `${report.lossName} by epoch`, height: 8 },
      ),
    );
    if (report.chart !== null) {
      const svg = svgChart(
        [
          { name: "train loss", values: epochs.map((r) => r.trainLoss) },
          { name: "test loss", values: epochs.map((r) => r.testLoss) },
          { name: "test accuracy", values: epochs.map((r) => r.testAccuracy), axis: "right" },
        ],
        { title: report.chartTitle, yLabel: report.lossName, yLabelRight: "test accuracy" },
      );
      writeFileSync(report.chart, svg);
      print(`\nchart written to ${report.chart}`);
    }
  }
  print("");
  print(formatConfusion(report.confusion));
  const wrong: number[] = [];
  for (let i = 0; i < predicted.length && wrong.length < WRONG_SHOWN; i++)
    if (predicted[i] !== actual[i]) wrong.push(i);
  if (wrong.length > 0) {
    print("");
    print("Some digits it gets wrong:");
    print(
      sideBySide(
        wrong.map((i) => asciiDigit(pixels(report.images, [report.rows[i] as number], "float64"), 28, { trim: true })),
        wrong.map((i) => `true ${actual[i]} / said ${predicted[i]}`),
      ),
    );
  }
}
