/**
 * @file Tests for module.ts: parameters found from fields in declaration order with dotted names,
 * shared parameters and cycles, labels, zeroGrad, train/eval, and loadStateDict's all-or-nothing
 * checks. Imports module.ts, linear.ts, activations.ts and @chainrule/autograd.
 */

import { ChainruleError, noGrad, Random, type Tensor, tensor, zeros } from "@chainrule/autograd";
import { describe, expect, test } from "vitest";
import { Sigmoid, Tanh } from "./activations.js";
import { Linear } from "./linear.js";
import { buffer, Module, parameter, Sequential } from "./module.js";

const random = () => new Random(0);

/** The fixture's model: two Linear layers in `layers` and a scalar parameter after them. */
class Scaled extends Module {
  readonly layers = [new Linear(2, 3, { random: random() }), new Linear(3, 1, { random: random(), bias: false })];
  readonly scale = parameter(tensor(1.5), "scale");
  readonly notAParameter = tensor([1, 2]); // no requiresGrad: a constant, not listed
  forward(x: Tensor): Tensor {
    return this.layers[1]!.forward(this.layers[0]!.forward(x).tanh()).mul(this.scale);
  }
}

function loadError(f: () => void): ChainruleError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ChainruleError);
    return error as ChainruleError;
  }
  throw new Error("expected a ChainruleError");
}

describe("parameters from fields", () => {
  test("names are dotted field paths in declaration order", () => {
    const m = new Scaled();
    expect(m.namedParameters().map(([name]) => name)).toEqual([
      "layers.0.weight",
      "layers.0.bias",
      "layers.1.weight",
      "scale",
    ]);
    expect(m.parameters()).toHaveLength(4);
    expect(m.numParameters()).toBe(6 + 3 + 3 + 1);
  });

  test("children and nested containers", () => {
    class Outer extends Module {
      readonly encoder = new Sequential(new Linear(2, 2, { random: random() }), new Tanh());
      readonly head = new Linear(2, 1, { random: random() });
      forward(x: Tensor): Tensor {
        return this.head.forward(this.encoder.forward(x));
      }
    }
    const m = new Outer().labelParameters();
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toEqual(["encoder.layers.0.weight", "encoder.layers.0.bias", "head.weight", "head.bias"]);
    expect(m.parameters().map((p) => p.label)).toEqual(names);
    expect(m.namedModules().map(([n, mod]) => [n, mod.constructor.name])).toEqual([
      ["", "Outer"],
      ["encoder", "Sequential"],
      ["encoder.layers.0", "Linear"],
      ["encoder.layers.1", "Tanh"],
      ["head", "Linear"],
    ]);
  });

  test("a shared parameter or module is listed once, and a cycle does not recurse forever", () => {
    const shared = new Linear(2, 2, { random: random() });
    class Tied extends Module {
      readonly a = shared;
      readonly b = shared;
      readonly w = shared.weight;
      parent: Module | null = null;
      forward(x: Tensor): Tensor {
        return this.b.forward(this.a.forward(x));
      }
    }
    const m = new Tied();
    m.parent = m;
    expect(m.namedParameters().map(([n]) => n)).toEqual(["a.weight", "a.bias"]);
  });

  test("a computed tensor held in a field is not a parameter", () => {
    class Caching extends Module {
      readonly w = parameter(tensor([1, 2]));
      last: Tensor | null = null;
      forward(x: Tensor): Tensor {
        this.last = x.mul(this.w);
        return this.last;
      }
    }
    const m = new Caching();
    m.forward(tensor([3, 4]));
    expect(m.namedParameters().map(([n]) => n)).toEqual(["w"]);
  });

  test("Sequential labels its parameters and refuses non-modules", () => {
    const s = new Sequential(
      new Linear(2, 3, { random: random() }),
      new Sigmoid(),
      new Linear(3, 1, { random: random() }),
    );
    expect(s.parameters().map((p) => p.label)).toEqual([
      "layers.0.weight",
      "layers.0.bias",
      "layers.2.weight",
      "layers.2.bias",
    ]);
    expect(s.forward(tensor([[1, 2]])).shape).toEqual([1, 1]);
    expect(() => new Sequential(new Tanh(), {} as Module)).toThrow(/Sequential: argument 1 must be a Module/);
  });

  test("parameter() refuses what is not a leaf tensor", () => {
    const x = tensor([1], { requiresGrad: true });
    expect(() => parameter(x.mul(2))).toThrow(ChainruleError);
    expect(() => parameter(3 as unknown as Tensor)).toThrow(/parameter: expected a Tensor/);
  });
});

describe("zeroGrad, train and eval", () => {
  test("zeroGrad drops every gradient", () => {
    const m = new Scaled();
    m.forward(tensor([[1, 2]]))
      .sum()
      .backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  test("train(false)/eval() reach every child; train() turns it back", () => {
    const m = new Sequential(new Linear(1, 1, { random: random() }), new Sequential(new Tanh()));
    m.eval();
    expect(m.namedModules().every(([, mod]) => !mod.training)).toBe(true);
    m.train();
    expect(m.namedModules().every(([, mod]) => mod.training)).toBe(true);
  });

  test("toString shows the tree with configs", () => {
    const s = new Sequential(new Linear(2, 3, { random: random() }), new Sigmoid());
    expect(s.toString()).toBe(
      'Sequential()\n  (layers.0) Linear(inFeatures=2, outFeatures=3, bias=true, dtype="float64")\n  (layers.1) Sigmoid()',
    );
  });
});

describe("stateDict and loadStateDict", () => {
  test("stateDict is a snapshot; loading it back restores the values in place", () => {
    const m = new Scaled();
    const before = m.parameters();
    const snapshot = m.stateDict();
    expect([...snapshot.keys()]).toEqual(m.namedParameters().map(([n]) => n));
    const x = tensor([[0.5, -1]]);
    const y0 = m.forward(x).item();
    // change every parameter, then restore
    const changed = new Map([...snapshot].map(([k, t]) => [k, t.add(1)]));
    m.loadStateDict(changed);
    expect(m.forward(x).item()).not.toBe(y0);
    m.loadStateDict(snapshot);
    expect(m.forward(x).item()).toBe(y0);
    // the same tensor objects: an optimizer holding them keeps working
    expect(m.parameters().every((p, i) => p === before[i])).toBe(true);
  });

  test("every mismatch is reported at once and nothing is loaded", () => {
    const m = new Scaled();
    const values = m.parameters().map((p) => p.toTypedArray());
    const bad = m.stateDict();
    bad.delete("layers.0.bias");
    bad.set("layers.0.weight", tensor([[1, 2, 3]])); // wrong shape
    bad.set("layers.1.weight", bad.get("layers.1.weight")!.astype("float32")); // wrong dtype
    bad.set("extra", tensor(0));
    bad.set("scale", 7 as unknown as Tensor);
    const error = loadError(() => m.loadStateDict(bad));
    expect(error.op).toBe("loadStateDict");
    expect(error.message).toContain("5 problems, nothing was loaded");
    expect(error.message).toContain('missing "layers.0.bias" (shape [3], float64)');
    expect(error.message).toContain('"layers.0.weight" has shape [1, 3] but the model\'s is [3, 2]');
    expect(error.message).toContain('"layers.1.weight" has dtype float32 but the model\'s is float64');
    expect(error.message).toContain('unexpected "extra"');
    expect(error.message).toContain('"scale" is number 7, not a Tensor');
    m.parameters().forEach((p, i) => {
      expect(p.toTypedArray()).toEqual(values[i]);
    });
  });

  test("strict: false allows missing and unexpected names but still checks shapes", () => {
    const m = new Scaled();
    m.loadStateDict({ scale: tensor(2), other: tensor(1) }, { strict: false });
    expect(m.scale.item()).toBe(2);
    expect(() => m.loadStateDict({ scale: tensor([2]) }, { strict: false })).toThrow(/has shape \[1\]/);
  });

  test("a plain object works, and __proto__ as a name is just an unexpected name", () => {
    const m = new Scaled();
    const state: Record<string, Tensor> = Object.fromEntries(m.stateDict());
    Object.defineProperty(state, "__proto__", { value: tensor(1), enumerable: true });
    expect(() => m.loadStateDict(state)).toThrow(/unexpected "__proto__"/);
    expect(() => m.loadStateDict(null as unknown as Map<string, Tensor>)).toThrow(/state must be a Map or an object/);
  });
});

describe("buffers", () => {
  class Counter extends Module {
    readonly scale = parameter(tensor(2), "scale");
    readonly callCount = buffer(zeros([]), "num_calls");
    readonly history = buffer(zeros([2]));
    readonly constant = tensor([1, 2]); // not marked: neither parameter nor buffer
    forward(x: Tensor): Tensor {
      noGrad(() => this.callCount.addInPlace(1));
      return x.mul(this.scale);
    }
  }

  test("found by field, named by their own name or the field's, saved and loaded with the parameters", () => {
    const net = new Sequential(new Counter(), new Counter());
    expect(net.namedBuffers().map(([n]) => n)).toEqual([
      "layers.0.num_calls",
      "layers.0.history",
      "layers.1.num_calls",
      "layers.1.history",
    ]);
    expect(net.namedParameters().map(([n]) => n)).toEqual(["layers.0.scale", "layers.1.scale"]);
    expect([...net.stateDict().keys()]).toEqual([
      "layers.0.scale",
      "layers.0.num_calls",
      "layers.0.history",
      "layers.1.scale",
      "layers.1.num_calls",
      "layers.1.history",
    ]);
    net.forward(tensor(1));
    const other = new Sequential(new Counter(), new Counter());
    other.loadStateDict(net.stateDict());
    expect(other.buffers().map((b) => b.toArray())).toEqual([1, [0, 0], 1, [0, 0]]);
    expect(() => other.loadStateDict({ ...Object.fromEntries(net.stateDict()), "layers.0.extra": zeros([1]) })).toThrow(
      /unexpected "layers.0.extra" \(the model has no parameter or buffer of that name\)/,
    );
  });

  test("buffer() refuses tensors that require grad and names with dots", () => {
    expect(() => buffer(zeros([1], { requiresGrad: true }))).toThrow(
      "buffer: a buffer holds state that is not trained: a leaf without requiresGrad",
    );
    expect(() => buffer(zeros([1]), "a.b")).toThrow(/name must be a non-empty string without dots/);
    expect(() => buffer([1] as never)).toThrow(/expected a Tensor/);
  });
});
