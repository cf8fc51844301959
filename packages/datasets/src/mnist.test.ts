/**
 * @file The MNIST arrays are the canonical bytes of WORKLOADS.md §0 (hashes, first labels, class
 * counts per split), and the helpers turn them into values k/255 and one-hot rows.
 */

import { createHash } from "node:crypto";
import { DataLoader } from "@chainrule/nn";
import { describe, expect, test } from "vitest";
import { classCounts, loadMnist, mnistDataset, N_IMAGES, oneHotLabels, PIXELS, pixels } from "./mnist.js";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("loadMnist", () => {
  const mnist = loadMnist();

  test("images and labels are the published bytes", () => {
    expect(mnist.images.length).toBe(N_IMAGES * PIXELS);
    expect(mnist.labels.length).toBe(N_IMAGES);
    expect(sha256(mnist.images)).toBe("fac430b6e7dd1f8181bf02b0d3b447875294b3a780fe5d4a6af50172f6405836");
    expect(sha256(mnist.labels)).toBe("98c23508f5c6f018c5df282d6becfa38bdf6ea6cdae8f4e14ca2fd5c80053f56");
  });

  test("first 20 labels", () => {
    expect(Array.from(mnist.labels.subarray(0, 20)).join(" ")).toBe("0 0 5 5 7 1 9 4 9 3 3 7 0 8 1 8 0 7 2 8");
  });

  test("class counts of the package and of each split", () => {
    expect(classCounts(mnist.labels, { start: 0, end: N_IMAGES })).toEqual([
      1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978,
    ]);
    expect(mnist.train).toEqual({ start: 0, end: 8000 });
    expect(mnist.test).toEqual({ start: 8000, end: 10000 });
    expect(classCounts(mnist.labels, mnist.train)).toEqual([795, 903, 798, 825, 806, 669, 790, 878, 755, 781]);
    expect(classCounts(mnist.labels, mnist.test)).toEqual([206, 224, 193, 207, 174, 194, 224, 192, 189, 197]);
  });

  test("is built once and cached", () => {
    expect(loadMnist()).toBe(mnist);
  });
});

describe("pixels", () => {
  const { images } = loadMnist();

  test("k/255 in float64, and the float32 cast of that", () => {
    const rows = [2, 0];
    const x64 = pixels(images, rows);
    const x32 = pixels(images, rows, "float32");
    expect(x64).toBeInstanceOf(Float64Array);
    expect(x32).toBeInstanceOf(Float32Array);
    expect(x64.length).toBe(2 * PIXELS);
    for (let i = 0; i < rows.length; i++) {
      for (let j = 0; j < PIXELS; j++) {
        const k = images[rows[i]! * PIXELS + j]!;
        expect(x64[i * PIXELS + j]).toBe(k / 255);
        expect(x32[i * PIXELS + j]).toBe(Math.fround(k / 255));
      }
    }
  });

  test("a range equals the list of its rows", () => {
    expect(pixels(images, { start: 8000, end: 8003 })).toEqual(pixels(images, [8000, 8001, 8002]));
  });

  test("rejects a row outside the images", () => {
    expect(() => pixels(images, [N_IMAGES])).toThrow(/pixels: row 10000/);
  });
});

describe("oneHotLabels", () => {
  test("a single 1 at the label", () => {
    const y = oneHotLabels([3, 0, 9], [0, 2], "float32");
    expect(y).toBeInstanceOf(Float32Array);
    expect(Array.from(y)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  test("fewer classes, and a label that does not fit", () => {
    expect(Array.from(oneHotLabels([1, 0], { start: 0, end: 2 }, "float64", 2))).toEqual([0, 1, 1, 0]);
    expect(() => oneHotLabels([4], [0], "float64", 3)).toThrow(/label 4/);
  });
});

describe("mnistDataset", () => {
  test("a split as pixels k/255 and one-hot targets, batched by a DataLoader", () => {
    const mnist = loadMnist();
    const test32 = mnistDataset("test", { dtype: "float32" });
    expect(test32.length).toBe(2000);
    const [x, y] = test32.get(5);
    expect(x!.dtype).toBe("float32");
    expect(Array.from(x!.data)).toEqual(Array.from(pixels(mnist.images, [8005], "float32")));
    expect(y!.argmax().item()).toBe(mnist.labels[8005]);
    const [first] = new DataLoader(mnistDataset("train"), { batchSize: 10 });
    expect(first!.map((t) => t.shape)).toEqual([
      [10, 784],
      [10, 10],
    ]);
    expect(Array.from(first![1]!.argmax(1).data)).toEqual(Array.from(mnist.labels.subarray(0, 10)));
    expect(() => mnistDataset("valid" as never)).toThrow(/mnistDataset: split must be "train" or "test"/);
    expect(() => mnistDataset("test", { dtype: "int8" as never })).toThrow(/mnistDataset: dtype must be/);
  });
});
