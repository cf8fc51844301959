/**
 * Regression tests for bugs found in review: each failed before its fix.
 */
import { describe, expect, test } from "vitest";
import {
  chainFor,
  customOp,
  detectAnomaly,
  formatChain,
  formatTrace,
  grad,
  gradcheck,
  noGrad,
  setGemmThreads,
  type Tensor,
  tensor,
  toDot,
  traceBackward,
  Value,
  vjp,
  where,
  zeros,
} from "../src/index.js";

describe("gradients never share storage", () => {
  test("after a createGraph pass, leaves hold their own gradient, and the seed is left alone", () => {
    const x = tensor(1, { requiresGrad: true });
    const y = tensor(2, { requiresGrad: true });
    x.add(y).backward(undefined, { createGraph: true });
    expect(x.grad).not.toBe(y.grad);
    x.add(y).backward();
    expect([x.grad?.item(), y.grad?.item()]).toEqual([2, 2]);

    const w = tensor([1, 2], { requiresGrad: true });
    const seed = tensor([1, 1]);
    w.add(0).backward(seed, { createGraph: true });
    w.add(0).backward(tensor([5, 5]));
    expect(seed.toArray()).toEqual([1, 1]);
    expect(w.grad?.toArray()).toEqual([6, 6]);
  });

  test("a reshaped input and another leaf do not share a gradient buffer", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = tensor([[0], [0]], { requiresGrad: true });
    x.reshape([2, 1]).add(y).sum().backward(undefined, { createGraph: true });
    x.reshape([2, 1]).add(y).sum().backward();
    expect(x.grad?.toArray()).toEqual([2, 2]);
    expect(y.grad?.toArray()).toEqual([[2], [2]]);
  });
});

describe("powers with exponent 0 have derivative 0, also at 0", () => {
  test("tensor, scalar engine, and higher derivatives", () => {
    const x = tensor([0, 2], { requiresGrad: true });
    x.pow(0).sum().backward();
    expect(x.grad?.toArray()).toEqual([0, 0]);
    const v = new Value(0);
    v.pow(0).backward();
    expect(v.grad).toBe(0);
    expect(grad((x: Tensor) => grad((y: Tensor) => y.pow(1).sum())(x).sum())(tensor([0, 1])).toArray()).toEqual([0, 0]);
    const third = grad((a: Tensor) => grad((b: Tensor) => grad((c: Tensor) => c.pow(2).sum())(b).sum())(a).sum());
    expect(third(tensor([0, 3])).toArray()).toEqual([0, 0]);
    const b = tensor([0, 1], { requiresGrad: true });
    tensor([0, 2]).pow(b).sum().backward();
    expect(Number.isNaN(b.grad?.data[0] as number)).toBe(false);
  });
});

test("grad gives each slot its own partial when one tensor fills two slots", () => {
  const f = (a: Tensor, b: Tensor) => a.mul(b).add(a);
  const x = tensor(3, { requiresGrad: true });
  const [ga, gb] = grad(f, [0, 1])(x, x) as Tensor[];
  expect([ga?.item(), gb?.item()]).toEqual([4, 3]);
  const [ha, hb] = grad(f, [0, 1])(tensor(3), tensor(3)) as Tensor[];
  expect([ha?.item(), hb?.item()]).toEqual([4, 3]);
});

test("blame names the wrong op when its input is used twice (x·x)", () => {
  const bad = customOp({ name: "bad", forward: (x) => x.mul(2), backward: (g) => [g.mul(3)] });
  const report = gradcheck((x: Tensor) => bad(x.mul(x)), [tensor([0.5, 1.5])]);
  expect(report.ok).toBe(false);
  expect(report.blame?.op).toBe("bad");
});

describe("dtypes", () => {
  test("a float64 seed still gives a float32 leaf a float32 gradient", () => {
    const x = tensor([1, 2], { dtype: "float32", requiresGrad: true });
    x.backward(tensor([1, 1]));
    expect(x.grad?.dtype).toBe("float32");
  });
  test("a number branch of where takes the other branch's dtype", () => {
    const c = tensor([1, 0]);
    const x32 = tensor([1, 2], { dtype: "float32" });
    expect(where(c, 0, x32).dtype).toBe("float32");
    expect(where(c, x32, 0).dtype).toBe("float32");
  });
});

describe("in-place checks without false alarms; empty argmax", () => {
  test("where, max and min read no values in backward", () => {
    const w = tensor([1, 5, 3], { requiresGrad: true });
    const b = tensor([0, 0, 0]);
    const y = where(tensor([1, 0, 1]), w, b).sum();
    const m = w.max();
    b.fill_(7);
    y.backward();
    noGrad(() => w.addInPlace(tensor([1, 1, 1])));
    m.backward();
    expect(w.grad?.toArray()).toEqual([1, 1, 1]);
  });
  test("argmax over a non-empty axis of an empty tensor", () => {
    expect(zeros([0, 3]).argmax(1).shape).toEqual([0]);
    expect(() => zeros([0, 3]).argmax()).toThrow(/argmax: cannot take the argmax of an empty tensor/);
  });
});

test("a backward pass that fails midway changes no .grad and releases nothing", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const v = tensor([5, 6], { requiresGrad: true });
  const x = tensor([3, 4]);
  // The walk reaches v (and releases the sums) before it reaches mul, whose saved x has changed.
  const loss = w.mul(x).sum().add(v.exp().sum());
  x.fill_(0);
  expect(() => loss.backward()).toThrow(/'mul' saved its input/);
  expect(v.grad).toBeNull();
  expect(w.grad).toBeNull();
  x.fill_(1);
  expect(() => loss.backward()).toThrow(/'mul' saved its input/); // still refused, not "already used"
});

test("function transforms return results that share no storage with each other or the cotangent", () => {
  const [gx, gy] = grad((x: Tensor, y: Tensor) => x.add(y).sum(), [0, 1])(tensor([1, 2]), tensor([3, 4])) as Tensor[];
  expect(gx?.data).not.toBe(gy?.data);
  const v = tensor([1, 1]);
  const [g] = vjp((x: Tensor) => x.add(1), tensor([5, 6])).pullback(v);
  expect(g?.data).not.toBe(v.data);
  expect(g?.toArray()).toEqual([1, 1]);
});

test("creation sites read 'created at <frame>', without a doubled 'at'", () => {
  const x = tensor([-1], { requiresGrad: true });
  expect(() => detectAnomaly(() => x.log())).toThrow(/created at (?!at )\S/);
});

describe("pictures and traces", () => {
  test("a chain cut short by maxPaths says it is a partial sum", () => {
    const x = new Value(3, "x");
    let s = x;
    for (let i = 0; i < 3; i++) s = s.add(s);
    const chain = chainFor(traceBackward(s), x, { maxPaths: 4 });
    const text = formatChain(chain);
    expect(text).toMatch(/sum over the first 4 paths only = 4/);
    expect(text).not.toMatch(/∂\S+\/∂x = 4$/m);
    expect(x.grad).toBe(8);
  });
  test("a trace's gradients have the dtype backward stores", () => {
    const a = tensor([1], { dtype: "float32", requiresGrad: true });
    const b = tensor([[0.1], [0.2]], { requiresGrad: true });
    const trace = traceBackward(a.mul(b).sum());
    const g = trace.gradients.get(a) as Tensor;
    expect(g.dtype).toBe("float32");
    expect(Array.from(g.data)).toEqual(Array.from(a.grad?.data ?? []));
  });
  test("unlabelled Value leaves are inputs: the trace lists their gradients", () => {
    const p = new Value(2);
    const q = new Value(-1.5);
    const text = formatTrace(traceBackward(p.mul(q).tanh()));
    expect(text).toMatch(/Gradients that reached the leaves/);
  });
  test("control characters in labels do not blank a picture's box", () => {
    const dot = toDot(new Value(2, "ctrl\u0001x").mul(3));
    expect(dot).toContain("ctrl\uFFFDx");
  });
});

describe("messages that name what was wrong", () => {
  test("a batched matmul with mismatched batch axes names both full shapes", () => {
    expect(() => zeros([4, 2, 3]).matmul(zeros([2, 3, 5]))).toThrow(
      /^matmul: shapes \[4, 2, 3\] and \[2, 3, 5\]: their batch axes \[4\] and \[2\] \(all but the last two\) cannot be broadcast together$/,
    );
  });

  test("argmax with a list of axes says it takes one axis", () => {
    const x = zeros([2, 3]);
    expect(() => x.argmax([0, 1] as never)).toThrow(/^argmax: takes one axis \(an integer\), got the list \[0, 1\]$/);
    expect(() => x.argmax("1" as never)).toThrow(/^argmax: axis must be an integer, got the string "1"$/);
    expect(() => x.softmax(5)).toThrow(/softmax: axis 5 is out of range for a tensor of rank 2/);
  });

  test("setGemmThreads with a string says it is a string", async () => {
    await expect(setGemmThreads("2" as never)).rejects.toThrow(
      /^setGemmThreads: count must be an integer from 1 to 64, got the string "2"$/,
    );
  });
});
