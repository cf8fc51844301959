/**
 * @file Tests for serialization.ts: save → load gives identical predictions; the file's layout
 * (names, dtypes, shapes, __metadata__) as another reader sees it; the fixture from an independent
 * writer; and every way a load can fail — truncated, corrupted, wrong names, shapes, dtypes,
 * config or version, hostile header keys — leaving the model untouched; saves interrupted
 * mid-write leaving the previous checkpoint whole; optimizer files resuming training exactly.
 * Imports serialization.ts, safetensors.ts, the layers, optim.ts and @chainrule/autograd.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChainruleError, Random, type Tensor, tensor, zeros } from "@chainrule/autograd";
import { afterAll, describe, expect, test } from "vitest";
import { Linear } from "./linear.js";
import { mseLoss } from "./losses.js";
import { MLP } from "./mlp.js";
import { Module, parameter } from "./module.js";
import { Adam, type Optimizer, SGD } from "./optim.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsFileSystem } from "./safetensors.js";
import {
  decodeModel,
  decodeOptimizer,
  encodeModel,
  encodeOptimizer,
  FORMAT_VERSION,
  loadModel,
  loadOptimizer,
  saveModel,
  saveOptimizer,
} from "./serialization.js";

const scratch = mkdtempSync(join(tmpdir(), "chainrule-nn-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const freshDir = () => mkdtempSync(join(scratch, `t${count++}-`));

const net = (seed: number) =>
  new MLP([2, 3, 1], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(seed) });
const x = tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
]);
const weights = (m: Module) => m.parameters().map((p) => Array.from(p.data));
/** An optimizer's state as plain numbers. */
const summary = (opt: Optimizer) => {
  const { type, hyperparameters, state } = opt.stateDict();
  const buffers = state.map((s) => [
    s.step,
    Object.entries(s.buffers).map(([k, t]) => [k, t.shape, Array.from(t.data)]),
  ]);
  return { type, hyperparameters, buffers };
};

/** Run f, expect a ChainruleError, return its message. */
async function failure(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (error) {
    expect(error).toBeInstanceOf(ChainruleError);
    return (error as Error).message;
  }
  throw new Error("expected a ChainruleError");
}

describe("save → load", () => {
  test("a loaded model predicts bit for bit what the saved one did", async () => {
    const path = join(freshDir(), "model.safetensors");
    const a = net(1);
    await saveModel(path, a, { metadata: { epochs: "12" } });
    const b = net(2);
    expect(weights(b)).not.toEqual(weights(a));
    const info = await loadModel(path, b);
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
    expect(info.config).toEqual(a.config());
    expect(info.metadata.epochs).toBe("12");
    // the same through bytes, with float32 parameters too
    const c = new MLP([2, 3, 1], { random: new Random(3), dtype: "float32" });
    const d = new MLP([2, 3, 1], { random: new Random(4), dtype: "float32" });
    decodeModel(encodeModel(c), d);
    expect(weights(d)).toEqual(weights(c));
  });

  test("the file as any safetensors reader sees it: dotted names, [out, in] shapes, dtypes, __metadata__", () => {
    const model = new MLP([4, 3, 2], { random: new Random(0), activation: "tanh" });
    const file = decodeSafetensors(encodeModel(model));
    expect([...file.tensors].map(([name, t]) => [name, t.dtype, t.shape])).toEqual([
      ["layers.0.bias", "float64", [3]],
      ["layers.0.weight", "float64", [3, 4]],
      ["layers.1.bias", "float64", [2]],
      ["layers.1.weight", "float64", [2, 3]],
    ]);
    expect(Array.from(file.tensors.get("layers.1.weight")!.data)).toEqual(Array.from(model.layers[1]!.weight.data));
    expect(file.metadata.format).toBe("pt");
    expect(file.metadata["chainrule.format_version"]).toBe(FORMAT_VERSION);
    expect(JSON.parse(file.metadata["chainrule.config"]!)).toEqual({
      type: "MLP",
      sizes: [4, 3, 2],
      activation: "tanh",
      outputActivation: "identity",
      bias: true,
      dtype: "float64",
    });
    expect(file.metadata["chainrule.crc32"]).toMatch(/^[0-9a-f]{8}$/);
  });

  test("the CRC-32 is zlib's over the data section", () => {
    const model = new (class extends Module {
      readonly w = parameter(tensor([1]));
      forward(t: Tensor) {
        return t;
      }
    })();
    const file = decodeSafetensors(encodeModel(model));
    // the data section is 1.0 as little-endian F64; zlib.crc32(struct.pack("<d", 1.0)) == 0xc7f813e9
    expect(file.metadata["chainrule.crc32"]).toBe("c7f813e9");
  });

  test("a file from an independent writer (the fixture) loads into a module of its shape", async () => {
    const path = fileURLToPath(new URL("../test/fixtures/small-mlp.safetensors", import.meta.url));
    const expected: Record<string, { data: number[] }> = JSON.parse(
      readFileSync(fileURLToPath(new URL("../test/fixtures/small-mlp.expected.json", import.meta.url)), "utf8"),
    );
    class Small extends Module {
      readonly layers = [
        new Linear(2, 3, { random: new Random(0) }),
        new Linear(3, 1, { random: new Random(0), bias: false, dtype: "float32" }),
      ];
      readonly scale = parameter(tensor(1));
      forward(t: Tensor): Tensor {
        return t;
      }
    }
    const small = new Small();
    // make layers.0.bias float32, as in the fixture
    Object.assign(small.layers[0]!, { bias: parameter(zeros([3], { dtype: "float32" })) });
    const { metadata, config } = await loadModel(path, small);
    expect(config).toBeUndefined();
    expect(metadata.note).toBe("fixture for reader tests");
    for (const [name, p] of small.namedParameters()) expect(Array.from(p.data)).toEqual(expected[name]!.data);

    // into a model of another shape: every problem at once, nothing changed
    const other = net(5);
    const before = weights(other);
    const message = await failure(() => loadModel(path, other));
    expect(message).toContain("loadModel: 4 problems, nothing was loaded");
    expect(message).toContain('"layers.0.bias" has dtype float32 but the model\'s is float64');
    expect(message).toContain('"layers.1.weight" has dtype float32 but the model\'s is float64');
    expect(message).toContain('missing "layers.1.bias"');
    expect(message).toContain('unexpected "scale"');
    expect(weights(other)).toEqual(before);
  });
});

describe("a load that fails leaves the model untouched", () => {
  const saved = net(1);
  const bytes = encodeModel(saved);

  test("every truncation of the file", async () => {
    const model = net(2);
    const before = weights(model);
    for (let n = 0; n < bytes.length; n += 7) {
      const message = await failure(() => decodeModel(bytes.subarray(0, n), model));
      expect(message).toMatch(/^decodeModel: /);
    }
    const path = join(freshDir(), "cut.safetensors");
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    expect(await failure(() => loadModel(path, model))).toMatch(new RegExp(`^loadModel: ${path}: .*truncated`));
    expect(weights(model)).toEqual(before);
  });

  test("a flipped bit in the weights fails the checksum; in the header, the format checks", async () => {
    const model = net(2);
    const before = weights(model);
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 2]! ^= 0x10;
    expect(await failure(() => decodeModel(corrupt, model))).toMatch(
      /decodeModel: the data section's CRC-32 is [0-9a-f]{8} but the file says [0-9a-f]{8}: the weights are corrupted/,
    );
    const header = bytes.slice();
    header[9] = 0x7b; // a second "{" where the first key's quote was
    await failure(() => decodeModel(header, model));
    expect(weights(model)).toEqual(before);
  });

  test("wrong shapes, a different config, an unknown format version", async () => {
    const model = new MLP([2, 4, 1], { activation: "sigmoid", outputActivation: "sigmoid", random: new Random(0) });
    const before = weights(model);
    const message = await failure(() => decodeModel(bytes, model));
    expect(message).toContain('"layers.0.weight" has shape [3, 2] but the model\'s is [4, 2]');
    expect(message).toContain('"layers.1.weight" has shape [1, 3] but the model\'s is [1, 4]');
    expect(message).toContain("the file's model is");
    expect(weights(model)).toEqual(before);

    const relu = new MLP([2, 3, 1], { random: new Random(0) });
    expect(await failure(() => decodeModel(bytes, relu))).toContain(
      '1 problem, nothing was loaded:\n  - the file\'s model is {"type":"MLP","sizes":[2,3,1],"activation":"sigmoid"',
    );
    decodeModel(bytes, relu, { checkConfig: false }); // same shapes: allowed when asked
    expect(weights(relu)).toEqual(weights(saved));

    const file = decodeSafetensors(bytes);
    const future = encodeSafetensors(file.tensors, { ...file.metadata, "chainrule.format_version": "2" });
    expect(await failure(() => decodeModel(future, net(3)))).toContain(
      'the file has format version "2"; this library reads version 1',
    );
  });

  test("header keys like __proto__ and constructor are names, never object properties", async () => {
    const f64 = (v: number) => ({ dtype: "float64" as const, shape: [], data: new Float64Array([v]) });
    const hostile = encodeSafetensors(
      new Map([
        ["__proto__", f64(1)],
        ["constructor", f64(2)],
      ]),
      {
        __proto__: "x",
        toString: "y",
        "chainrule.config": '{"__proto__":{"polluted":true},"type":"MLP"}',
      },
    );
    const model = net(4);
    const before = weights(model);
    const message = await failure(() => decodeModel(hostile, model, { checkConfig: false }));
    expect(message).toContain('unexpected "__proto__"');
    expect(message).toContain('unexpected "constructor"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.toString).toBe(Object.prototype.toString);
    expect(weights(model)).toEqual(before);
  });

  test("reserved metadata keys and non-modules are refused when saving", async () => {
    expect(await failure(() => encodeModel(net(1), { metadata: { format: "tf" } }))).toBe(
      'encodeModel: metadata key "format" is reserved for the file\'s own use',
    );
    expect(await failure(() => saveModel(join(freshDir(), "m"), {} as Module))).toMatch(/saveModel: expected a Module/);
  });
});

describe("an interrupted save leaves the previous checkpoint whole", () => {
  /** node:fs/promises, except that writing stops halfway through and then fails, as a crash would. */
  function crashingFs(options: { cleanupFails: boolean }): SafetensorsFileSystem {
    return {
      async open(path, flags) {
        const handle = await fsp.open(path, flags);
        return {
          async writeFile(data) {
            await handle.writeFile(data.subarray(0, data.length >> 1));
            throw new Error("simulated crash mid-write");
          },
          sync: () => handle.sync(),
          close: () => handle.close(),
        };
      },
      rename: (from, to) => fsp.rename(from, to),
      rm: options.cleanupFails ? () => Promise.reject(new Error("the process is gone")) : (p, o) => fsp.rm(p, o),
    };
  }

  for (const cleanupFails of [false, true]) {
    test(
      cleanupFails ? "even when the half-written temporary file is left behind" : "and removes its temporary file",
      async () => {
        const dir = freshDir();
        const path = join(dir, "model.safetensors");
        const first = net(1);
        await saveModel(path, first);
        const previous = readFileSync(path);

        const second = net(2);
        await expect(saveModel(path, second, { fs: crashingFs({ cleanupFails }) })).rejects.toThrow(
          "simulated crash mid-write",
        );
        expect(readFileSync(path).equals(previous)).toBe(true);
        expect(readdirSync(dir)).toHaveLength(cleanupFails ? 2 : 1);

        const restored = net(3);
        await loadModel(path, restored);
        expect(weights(restored)).toEqual(weights(first));
        // and the next save succeeds over it
        await saveModel(path, second);
        await loadModel(path, restored);
        expect(weights(restored)).toEqual(weights(second));
      },
    );
  }
});

describe("optimizer files", () => {
  function trainer(seed: number) {
    const model = net(seed);
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    const y = tensor([[0], [1], [1], [0]]);
    const train = (steps: number) => {
      for (let i = 0; i < steps; i++) {
        opt.zeroGrad();
        mseLoss(model.forward(x), y).backward();
        opt.step();
      }
    };
    return { model, opt, train };
  }

  test("model + optimizer checkpoint: resuming gives bit-identical training", async () => {
    const dir = freshDir();
    const straight = trainer(1);
    straight.train(6);

    const first = trainer(1);
    first.train(3);
    await saveModel(join(dir, "model.safetensors"), first.model);
    await saveOptimizer(join(dir, "optimizer.safetensors"), first.opt);
    const resumed = trainer(9);
    await loadModel(join(dir, "model.safetensors"), resumed.model);
    await loadOptimizer(join(dir, "optimizer.safetensors"), resumed.opt);
    resumed.train(3);
    expect(weights(resumed.model)).toEqual(weights(straight.model));

    const file = decodeSafetensors(readFileSync(join(dir, "optimizer.safetensors")));
    expect([...file.tensors.keys()]).toContain("state.0.expAvg");
    expect(JSON.parse(file.metadata["chainrule.optimizer"]!)).toEqual({
      type: "Adam",
      hyperparameters: { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
      steps: [3, 3, 3, 3],
    });
  });

  test("a mismatched or corrupt optimizer file is refused and changes nothing", async () => {
    const { opt, train } = trainer(1);
    train(2);
    const before = summary(opt);
    const bytes = encodeOptimizer(opt);
    const sgd = new SGD(net(1).parameters(), { lr: 0.1, momentum: 0.9 });
    expect(await failure(() => decodeOptimizer(bytes, sgd))).toContain(
      "it is the state of an Adam optimizer, not of SGD; nothing was loaded",
    );
    expect(await failure(() => decodeOptimizer(encodeModel(net(1)), opt))).toContain(
      'the metadata has no "chainrule.optimizer": not an optimizer file',
    );
    const smaller = new Adam(new MLP([2, 2, 1], { random: new Random(0) }).parameters());
    expect(await failure(() => decodeOptimizer(bytes, smaller))).toContain("has shape [3,2], the parameter [2,2]");
    expect(await failure(() => decodeOptimizer(bytes.subarray(0, 100), opt))).toMatch(/^decodeOptimizer: /);
    expect(summary(opt)).toEqual(before);
  });
});
