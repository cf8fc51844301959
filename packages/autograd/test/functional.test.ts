/**
 * Higher-order gradients, function transforms, custom operations, blame and the fast check.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  customOp,
  grad,
  gradcheck,
  gradcheckModule,
  gradgradcheck,
  jvp,
  type Tensor,
  tensor,
  Value,
  valueAndGrad,
  vjp,
  zeros,
} from "../src/index.js";
import { checkGradients, domains, shapeArb, tensorArb } from "../src/testing/index.js";

const sinOf = (x: Tensor) => tensor(Array.from(x.data, Math.sin), { shape: x.shape });
const cosOf = (x: Tensor) => tensor(Array.from(x.data, Math.cos), { shape: x.shape });

describe("higher-order gradients", () => {
  test("backward({ createGraph }) leaves gradients that can be differentiated again", () => {
    const x = tensor(1.5, { requiresGrad: true });
    const y = x.pow(3); // y = x³, dy/dx = 3x², d²y/dx² = 6x
    y.backward(undefined, { createGraph: true });
    const dy = x.grad as Tensor;
    expect(dy.item()).toBeCloseTo(3 * 1.5 ** 2, 12);
    expect(dy.requiresGrad).toBe(true);
    x.zeroGrad();
    dy.backward();
    expect(x.grad?.item()).toBeCloseTo(6 * 1.5, 12);
  });

  test("grad(grad(f)) is f'' for a scalar function of a scalar", () => {
    const f = (x: Tensor) => x.tanh().mul(x.exp()); // f = tanh(x)·eˣ
    const d2 = grad(grad(f));
    fc.assert(
      fc.property(fc.double({ min: -2, max: 2, noNaN: true }), (x0) => {
        const h = 1e-4;
        const fp = (x: number) => grad(f)(tensor(x)).item();
        const numeric = (fp(x0 + h) - fp(x0 - h)) / (2 * h);
        expect(d2(tensor(x0)).item()).toBeCloseTo(numeric, 6);
      }),
      { numRuns: 30 },
    );
  });

  test("a Hessian-vector product and a full Hessian in a line each", () => {
    // f(x) = Σ xᵢ³ + x₀x₁: H = diag(6x) + [[0, 1], [1, 0]] on the first two
    const f = (x: Tensor) =>
      x
        .pow(3)
        .sum()
        .add(
          x
            .take([0])
            .mul(x.take([1]))
            .sum(),
        );
    const x = tensor([1, 2, 3]);
    const v = tensor([1, 0, -1]);
    const hvp = grad((x: Tensor) => grad(f)(x).mul(v).sum())(x);
    expect(hvp.toArray()).toEqual([6, 1, -18]);
    const H = [0, 1, 2].map((i) => grad((x: Tensor) => grad(f)(x).take([i]).sum())(x).toArray());
    expect(H).toEqual([
      [6, 1, 0],
      [1, 12, 0],
      [0, 0, 18],
    ]);
  });

  test("gradgradcheck catches a rule whose derivative has the wrong second derivative", () => {
    // Correct first derivative (cos x), but computed on a detached copy: its own derivative is lost.
    const sin = customOp({ name: "sin", forward: sinOf, backward: (g, _out, x) => [g.mul(cosOf(x))] });
    const x = tensor([0.3, -1.1, 2]);
    expect(gradcheck(sin, [x]).ok).toBe(true);
    expect(gradgradcheck(sin, [x]).ok).toBe(false);
  });
});

describe("function transforms", () => {
  test("grad, valueAndGrad with argnums", () => {
    const f = (a: Tensor, b: Tensor) => a.mul(b).sum();
    const a = tensor([1, 2]);
    const b = tensor([3, 4]);
    expect(grad(f)(a, b).toArray()).toEqual([3, 4]);
    expect(grad(f, 1)(a, b).toArray()).toEqual([1, 2]);
    const [value, [ga, gb]] = valueAndGrad(f, [0, 1])(a, b) as [Tensor, Tensor[]];
    expect(value.item()).toBe(11);
    expect(ga?.toArray()).toEqual([3, 4]);
    expect(gb?.toArray()).toEqual([1, 2]);
    expect(grad((x: Tensor) => tensor(2).add(x.mul(0)).sum())(a).toArray()).toEqual([0, 0]);
  });

  test("they leave no .grad behind and do not disturb the caller's graph", () => {
    const w = tensor([0.5, -0.5], { requiresGrad: true });
    const h = w.mul(w); // the caller's graph, backward still to come
    const x = tensor([1, 2]);
    const g = grad((x: Tensor) => h.mul(x).sum())(x);
    expect(g.toArray()).toEqual([0.25, 0.25]);
    expect(w.grad).toBeNull();
    h.sum().backward();
    expect(w.grad?.toArray()).toEqual([1, -1]);
  });

  test("vjp and jvp agree with the Jacobian", () => {
    const f = (x: Tensor) =>
      x
        .matmul(
          tensor([
            [1, 2],
            [3, 4],
            [5, 6],
          ]),
        )
        .tanh(); // [2] ← [3]
    const x = tensor([0.1, -0.2, 0.3]);
    const { out, pullback } = vjp(f, x);
    expect(out.shape).toEqual([2]);
    const [vj] = pullback(tensor([1, 0]));
    const [vj2] = pullback(tensor([0, 1]));
    const J = [vj?.toArray() as number[], vj2?.toArray() as number[]]; // rows of J
    const t = tensor([1, 2, -1]);
    const { tangent } = jvp(f, [x], [t]);
    const expected = J.map((row) => row.reduce((s, v, i) => s + v * (t.data[i] as number), 0));
    (tangent.toArray() as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 12);
    });
  });

  test("bad arguments are refused", () => {
    expect(() => grad((x: Tensor) => x)(tensor([1, 2]))).toThrow(
      /grad: f must return a one-element tensor, got shape \[2\]/,
    );
    expect(() => grad((x: Tensor) => x.sum(), 2)(tensor([1]))).toThrow(
      /grad: argnums entry 2 is out of range for 1 argument/,
    );
    expect(() => jvp((x: Tensor) => x, [tensor([1, 2])], [tensor([1])])).toThrow(
      /jvp: tangent 0 has shape \[1\]; it must match its input's shape \[2\]/,
    );
  });
});

describe("custom operations", () => {
  const sin = customOp({
    name: "sin",
    formula: "∂sin(x)/∂x = cos(x)",
    forward: sinOf,
    // dy/dx = cos x, written with differentiable ops: cos x = sin(x + π/2)
    backward: (g, _out, x) => [g.mul(sinOp(x.add(Math.PI / 2)))],
  });
  function sinOp(x: Tensor): Tensor {
    return sin(x);
  }

  test("take part in backward, grad and second derivatives", () => {
    const x = tensor([0.2, 1.4], { requiresGrad: true });
    sin(x).sum().backward();
    expect(x.grad?.data[0]).toBeCloseTo(Math.cos(0.2), 15);
    expect(x.grad?.data[1]).toBeCloseTo(Math.cos(1.4), 15);
    expect(grad((x: Tensor) => grad((x: Tensor) => sin(x).sum())(x).sum())(tensor(0.7)).item()).toBeCloseTo(
      -Math.sin(0.7),
      12,
    );
    checkGradients(
      sin,
      shapeArb().chain((s) => tensorArb(s).map((t): [Tensor] => [t])),
      { gradgrad: true, numRuns: 20 },
    );
  });

  test("a wrong rule is caught, and the report names the custom op and where it was made", () => {
    const badSin = customOp({ name: "badSin", forward: sinOf, backward: (g, out) => [g.mul(out)] }); // claims sin' = sin
    const report = gradcheck((x: Tensor) => badSin(x.mul(2)).exp().sum(), [tensor([0.3, 0.9, -0.4])]);
    expect(report.ok).toBe(false);
    expect(report.blame?.op).toBe("badSin");
    expect(report.blame?.inputShapes).toEqual([[3]]);
    expect(report.blame?.createdAt).toMatch(/functional\.test\.ts/);
    expect(report.toString()).toMatch(/blame: the derivative rule of 'badSin' disagrees with finite differences/);
  });

  test("a rule returning the wrong number or shape of gradients is an error naming the op", () => {
    const wrong = customOp({ name: "twice", forward: (x) => x.mul(2), backward: () => [] });
    expect(() =>
      wrong(tensor([1], { requiresGrad: true }))
        .sum()
        .backward(),
    ).toThrow(/twice: backward must return an array of 1 gradient/);
    const badShape = customOp({ name: "shapey", forward: (x) => x.mul(2), backward: () => [zeros([5])] });
    expect(() =>
      badShape(tensor([1, 2], { requiresGrad: true }))
        .sum()
        .backward(),
    ).toThrow(/shapey: the derivative rule returned a gradient of shape \[5\] for an input of shape \[2\]/);
  });
});

describe("gradcheck modes", () => {
  test("the fast mode passes correct gradients and fails wrong ones, then names the element", () => {
    const f = (a: Tensor, b: Tensor) => a.matmul(b).sigmoid();
    const a = tensor([
      [0.1, 0.2, -0.3],
      [0.5, -0.4, 0.2],
    ]);
    const b = tensor([
      [1, -1],
      [0.5, 2],
      [-0.3, 0.7],
    ]);
    const ok = gradcheck(f, [a, b], { mode: "fast" });
    expect(ok.ok).toBe(true);
    expect(ok.checked).toBe(1);
    expect(ok.projection?.analytic).toBeCloseTo(ok.projection?.numeric as number, 8);
    const bad = customOp({ name: "halfGrad", forward: (x) => x.mul(1), backward: (g) => [g.mul(0.5)] });
    const r = gradcheck((x: Tensor) => bad(x).pow(2), [a], { mode: "fast" });
    expect(r.ok).toBe(false);
    expect(r.worst).not.toBeNull();
    expect(r.blame?.op).toBe("halfGrad");
  });

  test("the scalar engine's blame names the wrong rule", () => {
    const badSin = { name: "sin", formula: "wrong", f: Math.sin, df: (_x: number, y: number) => y };
    const report = gradcheck((x) => new Value(Math.sin(x.data), "s", x, null, badSin).mul(3), [new Value(0.5, "x")]);
    expect(report.blame?.op).toBe("sin");
    expect(report.blame?.label).toBe("s");
  });

  test("gradcheckModule reports per parameter tensor", () => {
    const W = tensor(
      [
        [0.1, -0.2],
        [0.3, 0.4],
      ],
      { requiresGrad: true },
    );
    const b = tensor([0.05, -0.05], { requiresGrad: true });
    const x = tensor([
      [1, 2],
      [3, -1],
    ]);
    const broken = customOp({ name: "brokenBias", forward: (t) => t.mul(1), backward: (g) => [g.mul(2)] });
    const model = {
      namedParameters: () =>
        [
          ["layer.weight", W],
          ["layer.bias", b],
        ] as const,
    };
    const good = gradcheckModule(model, () => x.matmul(W).add(b).tanh().sum());
    expect(good.ok).toBe(true);
    const bad = gradcheckModule(model, () => x.matmul(W).add(broken(b)).tanh().sum());
    expect(bad.ok).toBe(false);
    expect(bad.parameters.map((p) => p.report.ok)).toEqual([true, false]);
    expect(bad.toString()).toMatch(/FAIL layer\.bias \[2\]/);
  });

  test("property tests of user functions with the kit", () => {
    checkGradients(
      (x: Tensor, y: Tensor) => x.mul(y).logsumexp(),
      shapeArb({ minRank: 1 }).chain((s) => fc.tuple(tensorArb(s), tensorArb(s, { domain: domains.positive }))),
      { numRuns: 20 },
    );
  });
});
