import { loadMnist } from "@chainrule/datasets";
import { describe, expect, test } from "vitest";
import { DIGIT_MODELS, DigitTrainer, PIXELS, parseDigits } from "./digits-core.js";

function digits() {
  const { images, labels } = loadMnist();
  const bytes = new Uint8Array(images.length + labels.length);
  bytes.set(images);
  bytes.set(labels, images.length);
  return parseDigits(bytes);
}

describe("DigitTrainer", () => {
  test("one epoch on 8000 digits gives ≥ 85 % held-out accuracy; predictions sum to 1", async () => {
    const d = digits();
    const trainer = new DigitTrainer(DIGIT_MODELS[0]!, d, 8000);
    const seen: number[] = [];
    const last = await trainer.epoch((p) => {
      seen.push(p.examples);
    }, 2000);
    expect(seen).toEqual([2000, 4000, 6000, 8000]);
    expect(last.examples).toBe(8000);
    const acc = trainer.accuracy();
    console.log(
      `Node: one epoch of ${last.examples} digits at ${Math.round(last.examplesPerSecond)} examples/s, held-out accuracy ${(100 * acc).toFixed(1)} %`,
    );
    expect(acc).toBeGreaterThanOrEqual(0.85);
    const p = trainer.predict(Float32Array.from(d.images.subarray(8000 * PIXELS, 8001 * PIXELS), (v) => v / 255));
    expect(p.probabilities).toHaveLength(10);
    expect(p.probabilities.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
  });

  test("a subset smaller than a batch is refused", () => {
    expect(() => new DigitTrainer(DIGIT_MODELS[0]!, digits(), 5)).toThrow("training subset must hold 10 to 8000");
  });
});
