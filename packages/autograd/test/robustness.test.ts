/**
 * Robustness: anomaly detection, graph lifetime and memory, in-place safety, empty tensors,
 * extreme values, dtype mixing, and a fuzz test of random (often invalid) operation sequences.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ChainruleError, concat, detectAnomaly, noGrad, stack, Tensor, tensor, where, zeros } from "../src/index.js";

describe("anomaly detection", () => {
  test("the first op whose output is not finite is named, with shapes and the creation site", () => {
    const x = tensor([1, -2, 3], { requiresGrad: true });
    expect(() => detectAnomaly(() => x.mul(2).log())).toThrow(
      /log: anomaly: the output contains NaN at flat index 1 \(inputs of shape \[3\]\); created at .*robustness\.test\.ts/,
    );
    // outside the mode nothing is checked
    expect(x.mul(2).log().data[1]).toBeNaN();
  });

  test("the first backward rule producing a non-finite gradient is named", () => {
    const x = tensor([0, 4], { requiresGrad: true });
    const run = () =>
      detectAnomaly(() => {
        const y = x.sqrt().sum(); // ∂√x/∂x = 1/(2√x) is ∞ at 0
        y.backward();
      });
    expect(run).toThrow(
      /sqrt: anomaly: the derivative rule produced Infinity in the gradient for input 0 \(inputs of shape \[2\]\); the node was created at .*robustness\.test\.ts/,
    );
  });
});

describe("graph lifetime and memory", () => {
  test("backward releases the graph unless retainGraph", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = w.mul(w).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(w.grad?.toArray()).toEqual([4, 8]);
    expect(() => y.backward()).toThrow(
      /backward: the graph through 'sum' was already used by a backward pass, which released what it saved/,
    );
  });

  test("10,000 training steps keep the heap flat", () => {
    const dir = fileURLToPath(new URL(".", import.meta.url));
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    if (!existsSync(dist)) throw new Error("build the package first (pnpm build): the leak check runs the built code");
    const out = execFileSync(process.execPath, ["--expose-gc", `${dir}leak-check.mjs`, "10000"], { encoding: "utf8" });
    const { early, late } = JSON.parse(out) as { early: number; late: number };
    // A leak of even one small tensor per step would add > 1 MB over 9,000 steps.
    expect(late - early).toBeLessThan(1_000_000);
  });
});

describe("in-place safety", () => {
  test("a tensor saved for a backward rule and then changed in place makes backward refuse", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const x = tensor([3, 4]);
    const y = w.mul(x).sum(); // mul saves x for ∂y/∂w = x
    x.fill_(0);
    expect(x.version).toBe(1);
    expect(() => y.backward()).toThrow(
      /backward: 'mul' saved its input of shape \[2\] for its derivative, but it was modified in place by fill_ after 'mul' used it/,
    );
  });

  test("changing a parameter in place while its graph waits is refused too", () => {
    const w = tensor([0.5, 1], { requiresGrad: true });
    const y = w.exp().sum(); // exp's rule reads only its own output (dy/dx = y), not w
    const z = w.mul(w).sum();
    noGrad(() => w.addInPlace(tensor([1, 1])));
    expect(() => z.backward()).toThrow(/'mul' saved its input of shape \[2\] .* modified in place by addInPlace/);
    y.backward(); // exp's rule reads only its own output, which was not changed
  });

  test("ops that read no values, and parameters updated between steps, are fine", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = w.add(1).sum();
    noGrad(() => w.addInPlace(tensor([5, 5])));
    y.backward();
    expect(w.grad?.toArray()).toEqual([1, 1]);
    for (let step = 0; step < 3; step++) {
      w.zeroGrad();
      const loss = w.mul(w).sum();
      loss.backward();
      noGrad(() => w.addInPlace(w.grad as Tensor, -0.1));
    }
    expect(w.version).toBe(4);
  });
});

describe("empty tensors", () => {
  const e = zeros([2, 0], { requiresGrad: true });
  test("work through elementwise, shape, matmul and reductions where NumPy defines a result", () => {
    expect(e.exp().add(1).mul(e).shape).toEqual([2, 0]);
    expect(e.sum().item()).toBe(0);
    expect(e.sum(1).toArray()).toEqual([0, 0]);
    expect(e.sum(0).shape).toEqual([0]);
    expect(e.T.shape).toEqual([0, 2]);
    expect(e.reshape([0, 5]).shape).toEqual([0, 5]);
    expect(
      zeros([2, 0])
        .matmul(zeros([0, 3]))
        .toArray(),
    ).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(e.logsumexp(1).toArray()).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(e.softmax(1).shape).toEqual([2, 0]);
    expect(e.max(0).shape).toEqual([0]);
    expect(concat([e, e], 1).shape).toEqual([2, 0]);
    expect(stack([e, e]).shape).toEqual([2, 2, 0]);
    expect(e.slice([0, 1]).shape).toEqual([1, 0]);
    e.exp().sum().backward();
    expect(e.grad?.shape).toEqual([2, 0]);
  });
  test("give a clear error where NumPy does not", () => {
    expect(() => e.max(1)).toThrow(
      /max: cannot reduce axis 1 of size 0 in shape \[2, 0\]: max of nothing is undefined/,
    );
    expect(() => e.mean(1)).toThrow(/mean: cannot average over an empty axis of shape \[2, 0\]/);
    expect(() => zeros([0]).argmax()).toThrow(/argmax: cannot take the argmax of an empty tensor/);
  });
});

describe("extreme values stay finite where the math is finite", () => {
  const big = tensor([-1000, -30, 0, 30, 1000], { requiresGrad: true });
  test("sigmoid and tanh, with gradients", () => {
    const s = big.sigmoid();
    expect(Array.from(s.data)).toEqual([0, 1 / (1 + Math.exp(30)), 0.5, 1 / (1 + Math.exp(-30)), 1]);
    s.add(big.tanh()).sum().backward();
    for (const g of big.grad?.data ?? []) expect(Number.isFinite(g)).toBe(true);
  });
  test("softmax, logSoftmax, logsumexp in float32 too", () => {
    const x = tensor([[1e4, -1e4, 0]], { dtype: "float32", requiresGrad: true });
    expect(Array.from(x.softmax().data)).toEqual([1, 0, 0]);
    expect(Array.from(x.logSoftmax().data)).toEqual([0, -2e4, -1e4]);
    expect(x.logsumexp().item()).toBe(1e4);
    x.logSoftmax().sum().backward();
    for (const g of x.grad?.data ?? []) expect(Number.isFinite(g)).toBe(true);
  });
});

describe("mixing dtypes: one rule, promote to float64", () => {
  const a = tensor([1, 2], { dtype: "float32" });
  const b = tensor([3, 4]);
  test.each([
    ["add", () => a.add(b)],
    ["mul", () => b.mul(a)],
    ["maximum", () => a.maximum(b)],
    ["matmul", () => a.matmul(b)],
    ["where", () => where(a.gt(1), a, b)],
    ["concat", () => concat([a, b])],
    ["compare", () => a.lt(b)],
  ])("%s", (_name, f) => {
    expect(f().dtype).toBe("float64");
  });
  test("numbers take the tensor's dtype", () => {
    expect(a.mul(2).dtype).toBe("float32");
    expect(a.add(a).dtype).toBe("float32");
  });
});

describe("fuzz: random operation sequences", () => {
  type Op = { name: string; args: unknown[] };
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constant(Number.NaN),
    fc.constant("2"),
    fc.constant({}),
    fc.constant([1, 2]),
    fc.integer({ min: -5, max: 5 }),
    fc.double({ min: -3, max: 3, noNaN: true }),
    fc.array(fc.integer({ min: -4, max: 6 }), { maxLength: 4 }),
  );
  const opArb: fc.Arbitrary<Op> = fc.record({
    name: fc.constantFrom(
      "add",
      "sub",
      "mul",
      "div",
      "pow",
      "maximum",
      "minimum",
      "neg",
      "exp",
      "log",
      "sqrt",
      "abs",
      "tanh",
      "sigmoid",
      "relu",
      "clamp",
      "sum",
      "mean",
      "max",
      "min",
      "argmax",
      "logsumexp",
      "softmax",
      "logSoftmax",
      "matmul",
      "reshape",
      "permute",
      "transpose",
      "expand",
      "squeeze",
      "unsqueeze",
      "flatten",
      "slice",
      "take",
      "gt",
      "astype",
    ),
    args: fc.array(fc.oneof(junk, fc.constant("$other")), { maxLength: 3 }),
  });
  const shapeArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 });

  test("every call returns a well-formed tensor or throws a ChainruleError; inputs are never corrupted", () => {
    fc.assert(
      fc.property(shapeArb, shapeArb, fc.array(opArb, { minLength: 1, maxLength: 8 }), (s1, s2, ops) => {
        const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
        let x = tensor(
          Array.from({ length: size(s1) }, (_, i) => (i % 5) - 1.5),
          { shape: s1, requiresGrad: true },
        );
        const other = tensor(
          Array.from({ length: size(s2) }, (_, i) => 0.5 + i),
          { shape: s2 },
        );
        const leaf = x;
        for (const op of ops) {
          const args = op.args.map((a) => (a === "$other" ? other : a));
          const before = Array.from(x.data);
          const otherBefore = Array.from(other.data);
          let result: unknown;
          try {
            result = (x as unknown as Record<string, (...a: unknown[]) => unknown>)[op.name]?.(...args);
          } catch (e) {
            if (!(e instanceof ChainruleError))
              throw new Error(`${op.name}(${JSON.stringify(args)}) on [${x.shape}] threw ${String(e)}`);
            continue;
          } finally {
            expect(Array.from(x.data)).toEqual(before);
            expect(Array.from(other.data)).toEqual(otherBefore);
          }
          expect(result).toBeInstanceOf(Tensor);
          const t = result as Tensor;
          expect(t.data.length).toBe(size([...t.shape]));
          expect(t.shape.every((d) => Number.isInteger(d) && d >= 0)).toBe(true);
          x = t;
        }
        if (x.requiresGrad) {
          try {
            x.sum().backward();
          } catch (e) {
            if (!(e instanceof ChainruleError)) throw e;
          }
          if (leaf.grad !== null) expect(leaf.grad.shape).toEqual(leaf.shape);
        }
      }),
      { numRuns: 500 },
    );
  });
});
