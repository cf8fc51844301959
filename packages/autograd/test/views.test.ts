/**
 * Transposes and permutations are views: nothing is copied until their values are read, a matrix
 * product reads a transposed view from its source with the kernel's transpose flag, and a view
 * shows its source's current values, as a PyTorch view does.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { mm, noGrad, Random, randn, type Tensor, tensor } from "../src/index.js";
import { checkGradients, tensorArb } from "../src/testing/index.js";

/** Count the reads of a view's values. */
function counted(t: Tensor): { reads: number } {
  const view = t.view;
  if (view === null) throw new Error("not a view");
  const seen = { reads: 0 };
  t.view = {
    ...view,
    read() {
      seen.reads++;
      return view.read();
    },
  };
  return seen;
}

describe("views", () => {
  test("x.matmul(W.T) copies nothing, forward or backward, and equals the product with the flag", () => {
    const r = new Random(1);
    const x = randn([10, 784], r);
    const W = randn([30, 784], r, { requiresGrad: true });
    const Wt = W.T;
    const seen = counted(Wt);
    const y = x.matmul(Wt);
    expect(Array.from(y.data)).toEqual(Array.from(noGrad(() => mm(x, W, false, true)).data));
    y.sum().backward();
    expect(seen.reads).toBe(0);
    const W2 = W.detach().requireGrad();
    mm(x, W2, false, true).sum().backward();
    expect(Array.from(W.grad?.data ?? [])).toEqual(Array.from(W2.grad?.data ?? []));
  });

  test("gradients through transposed operands, first and second order", () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
      .chain(([m, k, n]) => fc.tuple(tensorArb([k, m]), tensorArb([n, k])));
    checkGradients((a, b) => a.T.matmul(b.T).tanh(), arb, { gradgrad: true, numRuns: 30 });
  });

  test("a view shows its source's current values; writing into a view is refused", () => {
    const w = tensor([
      [1, 2],
      [3, 4],
    ]);
    const wt = w.T;
    expect(wt.toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    w.fill_(7);
    expect(wt.toArray()).toEqual([
      [7, 7],
      [7, 7],
    ]);
    expect(() => wt.fill_(0)).toThrow(/fill_: cannot change a view in place/);
    expect(wt.clone().fill_(0).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  test("backward refuses a product whose transposed operand's source changed in place since", () => {
    const w = tensor([
      [1, 2],
      [3, 4],
    ]);
    const x = tensor([[1, 1]], { requiresGrad: true });
    const y = x.matmul(w.T).sum();
    w.fill_(0);
    expect(() => y.backward()).toThrow(/modified in place by fill_/);
  });
});
