/**
 * @file Tests for conv.ts and pool.ts: shapes, parameter names, PyTorch's initialisation bounds
 * and draw order, reprs, the layers against autograd's functions, gradients of whole layers
 * against finite differences, a small CNN in a Sequential, and errors.
 */

import {
  adaptiveAvgPool2d,
  avgPool2d,
  ChainruleError,
  conv2d,
  convTranspose2d,
  gradcheckModule,
  maxPool2d,
  Random,
  randn,
  type Tensor,
  zeros,
} from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { ReLU } from "./activations.js";
import { Conv1d, Conv2d, ConvTranspose2d } from "./conv.js";
import { symmetricUniform_ } from "./init.js";
import { Linear } from "./linear.js";
import { Sequential } from "./module.js";
import { AdaptiveAvgPool2d, AvgPool2d, Flatten, MaxPool2d } from "./pool.js";

describe("convolution layers", () => {
  test("parameter names, shapes and PyTorch's initialisation: U(±1/√fanIn), weight first, then bias", () => {
    const conv = new Conv2d(4, 6, [3, 2], { random: new Random(9), groups: 2 });
    expect(conv.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight", [6, 2, 3, 2]],
      ["bias", [6]],
    ]);
    const bound = 1 / Math.sqrt(2 * 3 * 2);
    const r = new Random(9);
    const w = symmetricUniform_(zeros([6, 2, 3, 2]), r, bound);
    const b = symmetricUniform_(zeros([6]), r, bound);
    expect([...conv.weight.data]).toEqual([...w.data]);
    expect([...(conv.bias as Tensor).data]).toEqual([...b.data]);
    for (const v of conv.weight.data) expect(Math.abs(v)).toBeLessThan(bound);
    // transposed: the weight is [in, out/groups, k…] and fanIn, as PyTorch computes it, is (out/groups)·k
    const up = new ConvTranspose2d(4, 6, 3, { random: new Random(1), groups: 2, bias: false });
    expect(up.weight.shape).toEqual([4, 3, 3, 3]);
    expect(up.bias).toBeNull();
    for (const v of up.weight.data) expect(Math.abs(v)).toBeLessThan(1 / Math.sqrt(27));
    expect(new Conv1d(3, 5, 4, { random: new Random(0), dtype: "float32" }).weight.dtype).toBe("float32");
  });

  test("forward equals autograd's functions", () => {
    const r = new Random(3);
    const x = randn([2, 4, 7, 6], r);
    const conv = new Conv2d(4, 6, 3, { random: new Random(0), stride: 2, padding: 1, dilation: [1, 2], groups: 2 });
    const want = conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1, dilation: [1, 2], groups: 2 });
    expect([...conv.forward(x).data]).toEqual([...want.data]);
    const up = new ConvTranspose2d(4, 2, 3, { random: new Random(0), stride: 2, padding: 1, outputPadding: 1 });
    const y = up.forward(x);
    expect(y.shape).toEqual([2, 2, 14, 12]);
    const wantUp = convTranspose2d(x, up.weight, up.bias, { stride: 2, padding: 1, outputPadding: 1 });
    expect([...y.data]).toEqual([...wantUp.data]);
    expect(new Conv1d(4, 3, 5, { random: new Random(0), padding: "same" }).forward(x.sum(2)).shape).toEqual([2, 3, 6]);
  });

  test("reprs as PyTorch prints them", () => {
    const random = new Random(0);
    expect(String(new Conv2d(1, 6, 5, { random }))).toBe("Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))");
    expect(String(new Conv1d(3, 4, 3, { random, padding: "same", bias: false }))).toBe(
      "Conv1d(3, 4, kernel_size=(3,), stride=(1,), padding=same, bias=False)",
    );
    expect(
      String(new Conv2d(4, 8, [3, 5], { random, stride: [2, 1], padding: [4, 2], dilation: [3, 1], groups: 2 })),
    ).toBe("Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1), groups=2)");
    expect(
      String(new ConvTranspose2d(16, 33, [3, 5], { random, stride: [2, 1], padding: [4, 2], outputPadding: 1 })),
    ).toBe("ConvTranspose2d(16, 33, kernel_size=(3, 5), stride=(2, 1), padding=(4, 2), output_padding=(1, 1))");
    expect(String(new MaxPool2d(2))).toBe("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    expect(String(new MaxPool2d([3, 2], { stride: 1 }))).toBe(
      "MaxPool2d(kernel_size=(3, 2), stride=1, padding=0, dilation=1, ceil_mode=False)",
    );
    expect(String(new AvgPool2d(3, { stride: 2, padding: 1 }))).toBe("AvgPool2d(kernel_size=3, stride=2, padding=1)");
    expect(String(new AdaptiveAvgPool2d([null, 7]))).toBe("AdaptiveAvgPool2d(output_size=(None, 7))");
    expect(String(new AdaptiveAvgPool2d(1))).toBe("AdaptiveAvgPool2d(output_size=1)");
    expect(String(new Flatten())).toBe("Flatten(start_dim=1, end_dim=-1)");
  });

  test("a small CNN in a Sequential: names, repr tree, gradients against finite differences", () => {
    const random = new Random(4);
    const net = new Sequential(
      new Conv2d(1, 2, 3, { random, padding: 1 }),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(2, 3, 2, { random }),
      new AvgPool2d(1),
      new AdaptiveAvgPool2d([2, 1]),
      new Flatten(),
      new Linear(6, 3, { random }),
    );
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      "layers.0.weight",
      "layers.0.bias",
      "layers.3.weight",
      "layers.3.bias",
      "layers.7.weight",
      "layers.7.bias",
    ]);
    expect(net.toString().split("\n")[1]).toBe(
      "  (layers.0) Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
    );
    const x = randn([2, 1, 6, 6], new Random(5));
    expect(net.forward(x).shape).toEqual([2, 3]);
    const report = gradcheckModule(net, () => net.forward(x).tanh().sum());
    expect(report.ok, report.toString()).toBe(true);
  });

  test("pool layers equal autograd's functions", () => {
    const x = randn([2, 3, 7, 6], new Random(8));
    expect([...new MaxPool2d(3, { stride: 2, padding: 1 }).forward(x).data]).toEqual([
      ...maxPool2d(x, 3, { stride: 2, padding: 1 }).data,
    ]);
    expect([...new AvgPool2d(2, { countIncludePad: false, padding: 1 }).forward(x).data]).toEqual([
      ...avgPool2d(x, 2, { countIncludePad: false, padding: 1 }).data,
    ]);
    expect([...new AdaptiveAvgPool2d([3, 2]).forward(x).data]).toEqual([...adaptiveAvgPool2d(x, [3, 2]).data]);
    expect(new Flatten(0, 1).forward(x).shape).toEqual([6, 7, 6]);
  });

  test("bad arguments throw ChainruleErrors naming the layer", () => {
    const random = new Random(0);
    expect(() => new Conv2d(3, 4, 3, { random, groups: 2 })).toThrow(/Conv2d: groups must be .*inChannels \(3\)/);
    expect(() => new Conv2d(0, 4, 3, { random })).toThrow(/Conv2d: inChannels must be a positive integer/);
    expect(() => new Conv2d(1, 4, [3], { random })).toThrow(/Conv2d: kernelSize must be/);
    expect(() => new Conv1d(1, 4, 3, {} as never)).toThrow(/Conv1d: options.random must be a seeded generator/);
    expect(() => new ConvTranspose2d(1, 4, 3, { random, padding: "same" } as never)).toThrow(ChainruleError);
    expect(() => new Flatten(0.5)).toThrow(/Flatten: startDim must be an integer/);
    const conv = new Conv2d(3, 4, 3, { random });
    expect(() => conv.forward(randn([1, 2, 5, 5], random))).toThrow(
      /conv2d: weight \[4, 3, 3, 3\] expects 3 input channels/,
    );
    expect(() => new MaxPool2d(2).forward(randn([5], random))).toThrow(/maxPool2d: input must have rank/);
  });
});
