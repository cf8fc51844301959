/**
 * Forward mode, vmap, Jacobians and Hessians: every registered op through jvp (against finite
 * differences), vmap (against a loop) and batched pullbacks; Jacobians three ways; Hessians
 * symmetric and equal to finite differences of the gradient; per-example gradients equal to a loop;
 * the transforms composed with each other; and their errors.
 */
import { describe, expect, test, vi } from "vitest";
import {
  ChainruleError,
  customOp,
  grad,
  hessian,
  hvp,
  jacfwd,
  jacrev,
  jvp,
  Random,
  randn,
  stack,
  type Tensor,
  tensor,
  vjp,
  vmap,
} from "../src/index.js";
import { opRegistry } from "../src/ops/registry.js";
import { checkTransforms } from "../src/testing/index.js";
import { catalog } from "./op-catalog.js";

const close = (a: Tensor, b: Tensor, tol = 1e-9) => {
  expect(a.shape).toEqual(b.shape);
  a.data.forEach((v, i) => {
    expect(Math.abs(v - (b.data[i] as number))).toBeLessThan(tol * (1 + Math.abs(b.data[i] as number)));
  });
};

describe("every op: jvp against finite differences, vmap against a loop, batched pullbacks", () => {
  test.each(catalog.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    checkTransforms(c.f, c.inputs, {
      numRuns: 15,
      forward: c.differentiable !== false,
      batchedPullback: c.differentiable !== false,
      ...c.tolerance,
    });
  });

  test("the registry: every op has a batching rule and a catalog case", () => {
    const covered = new Set(catalog.flatMap((c) => c.ops));
    const missing = [...opRegistry.keys()].filter((name) => !covered.has(name));
    expect(missing).toEqual([]);
    const unbatched = [...opRegistry].filter(([, op]) => !op.batched).map(([name]) => name);
    expect(unbatched).toEqual([]);
  });
});

/** The Jacobian by central finite differences: [...out shape, ...x shape]. */
function numericJacobian(f: (x: Tensor) => Tensor, x: Tensor, eps = 1e-6): Tensor {
  const cols: Tensor[] = [];
  for (let j = 0; j < x.size; j++) {
    const e = new Float64Array(x.size);
    e[j] = eps;
    const d = tensor(e, { shape: x.shape });
    cols.push(
      f(x.add(d))
        .sub(f(x.sub(d)))
        .div(2 * eps),
    );
  }
  const out = stack(cols, -1);
  return out.reshape([...out.shape.slice(0, -1), ...x.shape]);
}

describe("Jacobians and Hessians", () => {
  const r = new Random(7);
  const W = randn([3, 4], r);
  const f = (x: Tensor) => W.matmul(x.tanh()).sigmoid().mul(x.sum()); // R^4 → R^3
  const x = randn([4], r);

  test("jacfwd == jacrev == finite differences, shape [...out, ...in]", () => {
    const jr = jacrev(f)(x) as Tensor;
    const jf = jacfwd(f)(x) as Tensor;
    expect(jr.shape).toEqual([3, 4]);
    close(jr, jf, 1e-12);
    close(jr, numericJacobian(f, x), 1e-6);
  });

  test("several inputs of any shape", () => {
    const g = (a: Tensor, b: Tensor) => a.matmul(b).exp();
    const a = randn([2, 3], r);
    const b = randn([3, 2], r);
    const [ja, jb] = jacrev(g, [0, 1])(a, b) as Tensor[];
    const [fa, fb] = jacfwd(g, [0, 1])(a, b) as Tensor[];
    expect(ja?.shape).toEqual([2, 2, 2, 3]);
    expect(jb?.shape).toEqual([2, 2, 3, 2]);
    close(ja as Tensor, fa as Tensor, 1e-12);
    close(jb as Tensor, fb as Tensor, 1e-12);
    close(
      ja as Tensor,
      numericJacobian((t) => g(t, b), a),
      1e-6,
    );
  });

  test("hessian is symmetric and equals finite differences of the gradient; hvp is H·v", () => {
    const loss = (x: Tensor) => f(x).pow(2).sum();
    const H = hessian(loss)(x);
    expect(H.shape).toEqual([4, 4]);
    close(H, H.T, 1e-12);
    close(H, numericJacobian(grad(loss), x), 1e-5);
    const v = randn([4], r);
    close(hvp(loss, x, v), H.matmul(v), 1e-10);
  });
});

describe("per-example gradients", () => {
  test("vmap(grad) of an MLP equals a loop of single-example gradients", () => {
    const r = new Random(3);
    const W1 = randn([5, 4], r);
    const b1 = randn([5], r);
    const W2 = randn([2, 5], r);
    const X = randn([6, 4], r);
    const Y = randn([6, 2], r);
    const loss = (w1: Tensor, c1: Tensor, w2: Tensor, x: Tensor, y: Tensor) =>
      w2.matmul(w1.matmul(x).add(c1).sigmoid()).sub(y).pow(2).sum();
    const perExample = vmap((x: Tensor, y: Tensor) => grad(loss, [0, 1, 2])(W1, b1, W2, x, y), { inAxes: 0 })(
      X,
      Y,
    ) as unknown as Tensor[];
    for (let i = 0; i < 6; i++) {
      const xi = X.slice([i, i + 1]).reshape([4]);
      const yi = Y.slice([i, i + 1]).reshape([2]);
      const gi = grad(loss, [0, 1, 2])(W1, b1, W2, xi, yi);
      gi.forEach((g, k) => {
        const pe = perExample[k] as Tensor;
        close(pe.slice([i, i + 1]).reshape(g.shape as number[]), g, 1e-12);
      });
    }
  });
});

describe("the transforms compose", () => {
  const x = tensor([0.3, -0.8, 1.5]);
  test("jvp of jvp gives second derivatives; grad of jvp; jvp of grad", () => {
    const cube = (y: Tensor) => y.pow(3).sum();
    const d2 = jvp((y) => jvp(cube, [y], [tensor([1, 0, 0])]).tangent, [x], [tensor([1, 0, 0])]).tangent;
    expect(d2.item()).toBeCloseTo(6 * 0.3, 12);
    const g = grad((y: Tensor) => jvp((z) => z.exp().sum(), [y], [tensor([1, 1, 1])]).tangent)(x);
    close(g, x.exp(), 1e-12);
    close(jvp(grad(cube), [x], [tensor([1, 1, 1])]).tangent, x.mul(6), 1e-12);
  });
  test("vmap of vmap, vmap of jvp, jvp of vmap, grad of vmap", () => {
    const M = tensor([
      [1, 2],
      [3, 4],
    ]);
    close(vmap(vmap((a: Tensor) => a.mul(a)))(M), M.mul(M));
    const tangents = vmap((v: Tensor) => jvp((y) => y.tanh(), [x], [v]).tangent)(stack([x, x.mul(2)]));
    const slope = x.tanh().pow(2).neg().add(1);
    close(tangents, stack([slope.mul(x), slope.mul(x).mul(2)]), 1e-12);
    close(jvp((y) => vmap((r: Tensor) => r.exp())(y), [M], [M]).tangent, M.exp().mul(M), 1e-12);
    close(grad((y: Tensor) => vmap((r: Tensor) => r.pow(2).sum())(y).sum())(M), M.mul(2), 1e-12);
  });
  test("a batched pullback equals a pullback per cotangent (what jacrev maps)", () => {
    const { pullback } = vjp(
      (y) =>
        y
          .reshape([3, 1])
          .matmul(y.reshape([1, 3]))
          .tanh(),
      x,
    );
    const V = randn([2, 3, 3], new Random(1));
    const batched = vmap((v: Tensor) => pullback(v)[0] as Tensor)(V);
    close(batched.slice([1, 2]).reshape([3]), pullback(V.slice([1, 2]).reshape([3, 3]))[0] as Tensor, 1e-12);
  });
});

describe("bad input", () => {
  test("each transform names itself and what it expected", () => {
    const x = tensor([1, 2, 3]);
    expect(() => jvp((y) => y, [x], [tensor([1, 2])])).toThrow(/jvp: tangent 0 has shape \[2\]/);
    expect(() => jvp((() => 3) as unknown as (y: Tensor) => Tensor, [x], [x])).toThrow(/jvp: f must return a Tensor/);
    expect(() => vmap((y: Tensor) => y, { inAxes: 1 })(x)).toThrow(/vmap: inAxes\[0\] = 1 is out of range/);
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b))(x, tensor([1, 2]))).toThrow(
      /vmap: mapped axes have different sizes/,
    );
    expect(() => vmap((() => 1) as unknown as (y: Tensor) => Tensor)(x)).toThrow(ChainruleError);
    expect(() => vmap((y: Tensor) => tensor([y.item()]))(x)).toThrow(/values of a batched tensor/);
    expect(() => vmap((y: Tensor) => y, { inAxes: null })(x)).toThrow(/at least one mapped argument/);
    expect(() => jacrev((y: Tensor) => y, 2)(x)).toThrow(/jacrev: argnums entry 2 is out of range/);
    expect(() => hessian((y: Tensor) => y)(x)).toThrow(/hessian: f must return a one-element tensor/);
  });
  test("an op without a batching rule loops over the examples, with one warning naming it", () => {
    const sin = customOp({
      name: "mysin",
      forward: (x) => tensor(Array.from(x.data, Math.sin), { shape: x.shape }),
      backward: (g, _out, x) => [g.mul(tensor(Array.from(x.data, Math.cos), { shape: x.shape }))],
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const X = tensor([
      [0.1, 0.2],
      [0.3, 0.4],
    ]);
    close(vmap((r: Tensor) => sin(r).mul(2))(X), sin(X).mul(2), 1e-15);
    vmap((r: Tensor) => sin(r))(X);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/'mysin' has no batching rule/);
    warn.mockRestore();
    expect(() => jvp((y) => sin(y), [X], [X])).toThrow(/mysin: has no forward-mode rule/);
  });
});
