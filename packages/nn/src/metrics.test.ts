/**
 * @file Tests for metrics.ts: accuracy, the confusion matrix and precision/recall/F1 on a worked
 * example, against counting by definition on random labels (property), binary scores with a
 * threshold, one-hot targets, zero denominators, and errors. Imports metrics.ts, data.ts and
 * @chainrule/autograd.
 */

import { ChainruleError, tensor } from "@chainrule/autograd";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { oneHot } from "./data.js";
import { accuracy, confusionMatrix, precisionRecallF1 } from "./metrics.js";

// Row-wise argmax: predicted classes [0, 1, 2, 2, 1, 0]; true classes [0, 1, 1, 2, 1, 2].
const scores = tensor([
  [0.7, 0.2, 0.1],
  [0.1, 0.8, 0.1],
  [0.2, 0.3, 0.5],
  [0.0, 0.1, 0.9],
  [0.3, 0.6, 0.1],
  [0.5, 0.2, 0.3],
]);
const truth = [0, 1, 1, 2, 1, 2];

describe("metrics on a worked example", () => {
  test("confusion matrix: rows are the truth, columns the prediction", () => {
    expect(confusionMatrix(scores, truth)).toEqual([
      [1, 0, 0],
      [0, 2, 1],
      [1, 0, 1],
    ]);
    // one-hot targets read by argmax; numClasses widens the matrix
    expect(confusionMatrix(scores, oneHot(truth, 3))).toEqual(confusionMatrix(scores, truth));
    expect(confusionMatrix(scores, truth, { numClasses: 4 })[3]).toEqual([0, 0, 0, 0]);
  });

  test("precision, recall, F1 and support per class, and their macro means", () => {
    const r = precisionRecallF1(scores, truth);
    expect(r.precision).toEqual([0.5, 1, 0.5]);
    expect(r.recall).toEqual([1, 2 / 3, 0.5]);
    expect(r.f1[0]).toBeCloseTo(2 / 3, 15);
    expect(r.f1[1]).toBeCloseTo(0.8, 15);
    expect(r.f1[2]).toBeCloseTo(0.5, 15);
    expect(r.support).toEqual([1, 3, 2]);
    expect(r.macro.precision).toBeCloseTo(2 / 3, 15);
    expect(r.macro.recall).toBeCloseTo((1 + 2 / 3 + 0.5) / 3, 15);
    expect(accuracy(scores, truth)).toBe(4 / 6);
  });

  test("a class never predicted and never present scores 0, not NaN", () => {
    const r = precisionRecallF1(scores, truth, { numClasses: 4 });
    expect([r.precision[3], r.recall[3], r.f1[3], r.support[3]]).toEqual([0, 0, 0, 0]);
  });

  test("one score per example: the threshold decides class 1", () => {
    const p = tensor([0.9, 0.4, 0.6, 0.2]);
    expect(confusionMatrix(p, [1, 1, 0, 0])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(confusionMatrix(tensor([2, -1, 0.5, -3]), [1, 1, 0, 0], { threshold: 0 })).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(precisionRecallF1(p, tensor([1, 1, 0, 0])).recall).toEqual([0.5, 0.5]);
  });
});

describe("metrics agree with counting by definition (property)", () => {
  test("random predicted and true labels", () => {
    const labels = fc
      .integer({ min: 1, max: 30 })
      .chain((n) =>
        fc.tuple(
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
        ),
      );
    fc.assert(
      fc.property(labels, ([pred, actual]) => {
        const n = pred.length;
        const m = confusionMatrix(oneHot(pred, 4), actual, { numClasses: 4 });
        const r = precisionRecallF1(oneHot(pred, 4), actual, { numClasses: 4 });
        let diagonal = 0;
        for (let k = 0; k < 4; k++) {
          const tp = pred.filter((p, i) => p === k && actual[i] === k).length;
          const predictedK = pred.filter((p) => p === k).length;
          const actualK = actual.filter((a) => a === k).length;
          expect(m[k]![k]).toBe(tp);
          expect(r.precision[k]).toBe(predictedK === 0 ? 0 : tp / predictedK);
          expect(r.recall[k]).toBe(actualK === 0 ? 0 : tp / actualK);
          expect(r.support[k]).toBe(actualK);
          diagonal += tp;
        }
        expect(m.flat().reduce((s, x) => s + x, 0)).toBe(n);
        expect(accuracy(oneHot(pred, 4), actual)).toBe(diagonal / n);
      }),
    );
  });
});

describe("errors", () => {
  test("bad predictions, targets, class counts and options are named", () => {
    expect(() => confusionMatrix(tensor(1), [1])).toThrow(/confusionMatrix: predictions must be a Tensor of shape/);
    expect(() => confusionMatrix(scores, [0, 1])).toThrow(/confusionMatrix: 2 targets for 6 predictions/);
    expect(() => confusionMatrix(scores, truth, { numClasses: 2 })).toThrow(
      /confusionMatrix: prediction 2 at position 2 is not a class index in \[0, 2\)/,
    );
    expect(() => confusionMatrix(scores, [0, 1, 1, 2, 1, -1])).toThrow(/target -1 at position 5/);
    expect(() => confusionMatrix(scores, truth, { numClasses: 0 })).toThrow(/numClasses must be a positive integer/);
    expect(() => precisionRecallF1(scores, truth, null as never)).toThrow(ChainruleError);
    expect(() => accuracy(tensor([0.5]), [1], { threshold: Number.NaN })).toThrow(
      /accuracy: threshold must be a number/,
    );
  });
});
