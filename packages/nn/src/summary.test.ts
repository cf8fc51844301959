/**
 * @file Tests for summary.ts: the output shape of every module from one pass, parameter counts
 * per module and in total (trainable: parameters; non-trainable: buffers), the table, and that
 * the model is left exactly as it was (modes, running statistics, methods).
 */

import { Random, tensor } from "@chainrule/autograd";
import { describe, expect, test, vi } from "vitest";
import { ReLU } from "./activations.js";
import { Dropout } from "./dropout.js";
import { Embedding } from "./embedding.js";
import { Linear } from "./linear.js";
import { Module, Sequential } from "./module.js";
import { BatchNorm1d, LayerNorm } from "./norm.js";
import { summary } from "./summary.js";

const net = () => {
  const random = new Random(0);
  return new Sequential(
    new Linear(784, 30, { random }),
    new BatchNorm1d(30),
    new ReLU(),
    new Dropout(0.2, { random }),
    new Linear(30, 10, { random }),
  );
};

describe("summary", () => {
  test("each layer's output shape and parameters, totals, trainable and not", () => {
    const model = net();
    const s = summary(model, [2, 784], { print: false });
    expect(s.rows.map((r) => [r.path, r.type, r.depth, r.outputShape, r.params, r.buffers])).toEqual([
      ["", "Sequential", 0, [2, 10], 0, 0],
      ["layers.0", "Linear", 1, [2, 30], 784 * 30 + 30, 0],
      ["layers.1", "BatchNorm1d", 1, [2, 30], 60, 61],
      ["layers.2", "ReLU", 1, [2, 30], 0, 0],
      ["layers.3", "Dropout", 1, [2, 30], 0, 0],
      ["layers.4", "Linear", 1, [2, 10], 310, 0],
    ]);
    expect(s.trainableParams).toBe(model.numParameters());
    expect(s.nonTrainableParams).toBe(61);
    expect(s.totalParams).toBe(model.numParameters() + 61);
    const text = s.toString();
    expect(text).toMatch(/^Layer \(type\) +Output shape +Params\n═+\n/);
    expect(text).toContain("  layers.0 (Linear)        [2, 30]        23,550");
    expect(text).toContain("  layers.1 (BatchNorm1d)   [2, 30]        60 (+61 buffers)");
    expect(text).toContain(`Total params: ${(model.numParameters() + 61).toLocaleString("en-US")}`);
    expect(text).toContain("Trainable params: 23,920");
    expect(text).toContain("Non-trainable params: 61 (buffers)");
  });

  test("prints by default, and leaves the model as it was", () => {
    const model = net();
    const bn = model.layers[1] as BatchNorm1d;
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      summary(model, [1, 784]); // a batch of 1 would be refused by batch norm in training mode
      expect(log).toHaveBeenCalledTimes(1);
    } finally {
      log.mockRestore();
    }
    expect(model.training && model.layers.every((m) => m.training)).toBe(true);
    expect(bn.numBatchesTracked?.item()).toBe(0);
    expect(Array.from(bn.runningMean?.data ?? [])).toEqual(new Array(30).fill(0));
    expect(model.layers.some((m) => Object.hasOwn(m, "forward"))).toBe(false);
    model.eval();
    summary(model, [1, 784], { print: false });
    expect(model.training).toBe(false);
  });

  test("custom models: nested modules indented, parameters to the module that holds them; ids as input", () => {
    class TextModel extends Module {
      readonly embed = new Embedding(50, 8, { random: new Random(1) });
      readonly block = new Sequential(new LayerNorm(8), new Linear(8, 4, { random: new Random(2) }));
      readonly unused = new Linear(2, 2, { random: new Random(3) });
      forward(ids: never): ReturnType<Module["forward"]> {
        return this.block.forward(this.embed.forward(ids));
      }
    }
    const s = summary(new TextModel(), tensor([[1, 2, 3]]), { print: false });
    expect(s.rows.map((r) => [r.path, r.depth, r.outputShape, r.params])).toEqual([
      ["", 0, [1, 3, 4], 0],
      ["embed", 1, [1, 3, 8], 400],
      ["block", 1, [1, 3, 4], 0],
      ["block.layers.0", 2, [1, 3, 8], 16],
      ["block.layers.1", 2, [1, 3, 4], 36],
      ["unused", 1, null, 6],
    ]);
    expect(s.toString()).toMatch(/unused \(Linear\) +-- +6/);
  });

  test("errors", () => {
    expect(() => summary({} as never, [1])).toThrow(/summary: expected a Module/);
    expect(() => summary(net(), [1.5] as never, { print: false })).toThrow(/input must be a shape/);
    expect(() => summary(net(), [1, 3], { print: false })).toThrow(/Linear: input of shape \[1, 3\] must end in 784/);
  });
});
