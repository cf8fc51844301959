/**
 * @file The CNN example: the demo's LeNet-style convolutional network (cnn-demo.ts) trained on the
 * MNIST digits, from the textbook's sigmoid network to convolutions. `--quick` trains two epochs on
 * 1,000 digits and tests on 500, for the tests; the full run (15 epochs on 8,000, tested on the
 * 2,000 held out) is what the README reports. `--out` names the SVG chart. Imports cnn-demo.ts.
 */

import { CNN_DEFAULTS, runCnn } from "../cnn-demo.js";
import type { ProgressStream } from "../ui/progress.js";
import type { Example } from "./types.js";

/** The quick run's sizes: small enough for CI, large enough that learning shows. */
export const QUICK = { epochs: 2, trainRows: 1000, testRows: 500, batchSize: 32 } as const;

export const example: Example = {
  name: "cnn",
  summary: "a LeNet-style CNN (conv, relu, max-pool ×2, then two linear layers) on MNIST with Adam: ≥ 98% held out",
  async run(options) {
    // The progress bar writes plain lines through `print` (one at the start and one at the end of an epoch).
    const stream = {
      write(chunk: string) {
        for (const line of String(chunk).split("\n")) if (line.trim() !== "") options.print(line.trimEnd());
        return true;
      },
      isTTY: false,
    } as unknown as ProgressStream;
    const result = await runCnn(
      {
        ...CNN_DEFAULTS,
        ...(options.quick === true ? QUICK : {}),
        seed: options.seed ?? CNN_DEFAULTS.seed,
        chart: options.out ?? null,
      },
      { print: options.print, stream },
    );
    return {
      testAccuracy: result.testAccuracy,
      firstLoss: result.firstLoss,
      lastLoss: result.lastLoss,
      trainSeconds: result.trainSeconds,
      epochs: result.epochs.length,
    };
  },
};
