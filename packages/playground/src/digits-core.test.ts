import { Random } from "@chainrule/autograd";
import { loadMnist } from "@chainrule/datasets";
import { decodeModel, encodeModel } from "@chainrule/nn";
import { describe, expect, test } from "vitest";
import { DIGIT_MODELS, type DigitModel, DigitTrainer, PIXELS, parseDigits, predict } from "./digits-core.js";

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

  test("the CNN: one epoch on 2000 digits gives ≥ 85 % held-out accuracy; its softmax sums to 1", async () => {
    const d = digits();
    const cnn = DIGIT_MODELS.find((m) => m.id === "cnn-lenet") as DigitModel;
    expect(cnn.inputShape).toEqual([1, 28, 28]);
    const trainer = new DigitTrainer(cnn, d, cnn.defaultTrainSize);
    const seen: number[] = [];
    const last = await trainer.epoch((p) => {
      seen.push(p.examples);
    }, 500);
    // batches of 16 pass each multiple of 500 at the next multiple of 16; the end is reported too
    expect(seen).toEqual([512, 1008, 1504, 2000]);
    expect(last.examples).toBe(2000);
    expect(Number.isFinite(last.cost)).toBe(true);
    const acc = trainer.accuracy();
    console.log(
      `Node: the CNN, one epoch of ${last.examples} digits in ${(last.examples / last.examplesPerSecond).toFixed(1)} s (${Math.round(last.examplesPerSecond)} examples/s), held-out accuracy ${(100 * acc).toFixed(1)} %`,
    );
    expect(acc).toBeGreaterThanOrEqual(0.85);
    const image = Float32Array.from(d.images.subarray(8000 * PIXELS, 8001 * PIXELS), (v) => v / 255);
    const p = trainer.predict(image);
    expect(p.outputs).toHaveLength(10);
    expect(p.probabilities).toHaveLength(10);
    expect(p.probabilities.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(p.probabilities.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    // the softmax of the logits: the largest logit is the most probable digit
    expect(p.probabilities.indexOf(Math.max(...p.probabilities))).toBe(p.outputs.indexOf(Math.max(...p.outputs)));
    expect(p.probabilities[1]! / p.probabilities[0]!).toBeCloseTo(Math.exp(p.outputs[1]! - p.outputs[0]!), 4);
    // "Download the model" and "load a model file", as the worker does them
    const copy = cnn.build(new Random(0));
    decodeModel(encodeModel(trainer.model, { metadata: { model: cnn.id } }), copy);
    expect(predict(cnn, copy, image).probabilities).toEqual(p.probabilities);
  });

  test("a subset smaller than a batch is refused", () => {
    expect(() => new DigitTrainer(DIGIT_MODELS[0]!, digits(), 5)).toThrow("training subset must hold 10 to 8000");
  });
});
