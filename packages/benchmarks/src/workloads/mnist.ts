/**
 * @file The MNIST arrays and the reference accuracies that W2 and W3 share, for every engine:
 * train and test pixels in the requested dtype (k/255 in float64, then cast), labels, one-hot
 * targets, and W2's loop of epochs. Imports @chainrule/datasets and @chainrule/autograd (Random),
 * case.ts, stats.ts, result.ts.
 *
 * The examples' loader parses 21 MB of JSON, which leaves ~70 MB of resident memory behind in
 * the process. So that a workload's peak RSS is about training, not parsing, the runner writes
 * the derived byte files of WORKLOADS.md (mnist10k_images.u8, mnist10k_labels.u8) once, and each
 * case reads those 7.8 MB, checking their SHA-256 against the workload file's every time.
 */

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Random } from "@chainrule/autograd";
import { loadMnist, oneHotLabels, pixels } from "@chainrule/datasets";
import { type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput, Check } from "../result.js";
import { accuracyOf, rssMB, seconds } from "../stats.js";

/** SHA-256 of the derived arrays, from WORKLOADS.md §0. */
export const MNIST_SHA256 = {
  images: "fac430b6e7dd1f8181bf02b0d3b447875294b3a780fe5d4a6af50172f6405836",
  labels: "98c23508f5c6f018c5df282d6becfa38bdf6ea6cdae8f4e14ca2fd5c80053f56",
} as const;

/** packages/benchmarks/.bench-results/data/ (git-ignored), from src/workloads/ and dist/workloads/ alike. */
const CACHE_DIR = fileURLToPath(new URL("../../.bench-results/data/", import.meta.url));
const IMAGES_FILE = `${CACHE_DIR}mnist10k_images.u8`;
const LABELS_FILE = `${CACHE_DIR}mnist10k_labels.u8`;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Refuse data that is not the workloads' canonical bytes. */
function verify(images: Uint8Array, labels: Uint8Array, where: string): void {
  if (sha256(images) !== MNIST_SHA256.images || sha256(labels) !== MNIST_SHA256.labels) {
    throw new Error(`MNIST arrays from ${where} do not have the SHA-256 of WORKLOADS.md`);
  }
}

/** The directory of the derived byte files (for peers in other languages). */
export function mnistCacheDir(): string {
  return CACHE_DIR;
}

/** Write the derived byte files if they are missing (the runner calls this once, before the cases). */
export function prepareMnistCache(): void {
  if (existsSync(IMAGES_FILE) && existsSync(LABELS_FILE)) return;
  const { images, labels } = loadMnist();
  verify(images, labels, "the examples' loader");
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(IMAGES_FILE, images);
  writeFileSync(LABELS_FILE, labels);
}

/** The canonical codes and labels: from the byte files when present, else from the loader. */
export function canonicalMnist(): { images: Uint8Array; labels: Uint8Array } {
  if (existsSync(IMAGES_FILE) && existsSync(LABELS_FILE)) {
    const images = new Uint8Array(readFileSync(IMAGES_FILE));
    const labels = new Uint8Array(readFileSync(LABELS_FILE));
    verify(images, labels, CACHE_DIR);
    return { images, labels };
  }
  const { images, labels } = loadMnist();
  verify(images, labels, "the examples' loader");
  return { images, labels };
}

const TRAIN = { start: 0, end: 8000 };
const TEST = { start: 8000, end: 10000 };

export interface MnistArrays {
  trainX: Float32Array;
  trainY: Float32Array;
  trainLabels: Int32Array;
  testX: Float32Array;
  testLabels: Int32Array;
}

/** Pixels and targets as flat row-major float32 arrays: [8000·784], [8000·10], [2000·784]. */
export function mnistArrays(): MnistArrays {
  const { images, labels } = canonicalMnist();
  return {
    trainX: pixels(images, TRAIN, "float32"),
    trainY: oneHotLabels(labels, TRAIN, "float32"),
    trainLabels: Int32Array.from(labels.subarray(TRAIN.start, TRAIN.end)),
    testX: pixels(images, TEST, "float32"),
    testLabels: Int32Array.from(labels.subarray(TEST.start, TEST.end)),
  };
}

/**
 * W2's reference test accuracies after epochs 1, 3 and 10. Epoch 1 is exact in every peer
 * (0.7245, float32 included). Later epochs drift with the order in which sums are rounded: the
 * float64 peers give 0.872 and 0.915–0.916, a textbook loop with sequential sums gives 0.872 and
 * 0.917, float32 peers lie within ±0.01. So epochs 3 and 10 are checked to ±0.01, which still
 * catches a run that trains differently. Only the epochs a run reaches are checked.
 */
export function w2AccuracyChecks(accuracy: ReadonlyMap<number, number>): Check[] {
  const checks: Check[] = [];
  const add = (epoch: number, lo: number, hi: number, expected: string) => {
    const a = accuracy.get(epoch);
    if (a === undefined) return;
    // Accuracies are multiples of 1/2000; half a step of slack absorbs the decimal bounds' rounding.
    const ok = a >= lo - 0.00025 && a <= hi + 0.00025;
    checks.push({ name: `test accuracy after epoch ${epoch}`, measured: a, expected, ok });
  };
  add(1, 0.7245, 0.7245, "0.7245 (1449/2000)");
  add(3, 0.862, 0.882, "0.872 ± 0.01");
  add(10, 0.905, 0.926, "0.915–0.916 ± 0.01");
  return checks;
}

/** The epochs after which W2 reports test accuracy (1-based, as the workload counts them). */
export const W2_EVAL_EPOCHS = [1, 3, 10];

/** Whether W2 scores the test set after epoch index e of `epochs` (the listed epochs, and the last). */
export function w2EvaluatesAfter(e: number, epochs: number): boolean {
  return W2_EVAL_EPOCHS.includes(e + 1) || e + 1 === epochs;
}

/**
 * W2's epochs, the same for every harness: epoch e trains on the 800 mini-batches of 10 rows of
 * permutation(8000, 2000 + e), in order, one `step(rows)` each, and `settle()` (a lazy engine
 * waits for its results there) inside the timed region; then, untimed, the RSS and, after the
 * epochs the workload scores, the test accuracy of `scores()` ([2000, 10], row-major).
 */
export function w2Epochs(
  options: RunOptions,
  testLabels: ArrayLike<number>,
  step: (rows: Int32Array) => void,
  scores: () => ArrayLike<number>,
  settle: () => void = () => {},
): CaseOutput {
  const epochs = sampleCount(options, 10, 1);
  const epochS: number[] = [];
  const rssAfterEpoch: number[] = [];
  const accuracy = new Map<number, number>();
  for (let e = 0; e < epochs; e++) {
    const t0 = seconds();
    const order = new Random(2000 + e).permutation(8000); // train rows are 0…7999
    for (let k = 0; k < 800; k++) step(order.subarray(10 * k, 10 * k + 10));
    settle();
    epochS.push(seconds() - t0);
    rssAfterEpoch.push(Math.round(rssMB()));
    if (w2EvaluatesAfter(e, epochs)) accuracy.set(e + 1, accuracyOf(scores(), testLabels, 10));
    options.log(`  epoch ${e + 1}: ${epochS[e]!.toFixed(3)} s, rss ${rssAfterEpoch[e]} MB`);
  }
  return w2Output(epochS, rssAfterEpoch, accuracy);
}

/** A W2 case's result, from its epoch times, RSS after each epoch and test accuracies. */
export function w2Output(epochS: number[], rssAfterEpoch: number[], accuracy: ReadonlyMap<number, number>): CaseOutput {
  return {
    metrics: [{ key: "epoch", unit: "s", per: "epoch", samples: epochS }],
    checks: w2AccuracyChecks(accuracy),
    details: { epochs: epochS.length, accuracy: Object.fromEntries(accuracy), rssAfterEpochMB: rssAfterEpoch },
    notes: [],
  };
}

/** W3's references: test accuracy 0.839 after 120 steps for every peer; the loss of the 120th step ≈ 0.46624. */
export function w3Checks(accuracy: number, loss120: number): Check[] {
  return [
    {
      name: "test accuracy after 120 steps",
      measured: accuracy,
      expected: "0.839 (1678/2000)",
      ok: Math.abs(accuracy - 0.839) < 0.00025,
    },
    {
      name: "loss of the 120th step's batch",
      measured: loss120,
      expected: "0.46624 ± 1e-4",
      ok: Math.abs(loss120 - 0.46624) <= 1e-4,
    },
  ];
}
