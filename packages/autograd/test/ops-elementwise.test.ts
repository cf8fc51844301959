/**
 * The elementwise math family (sin … logSigmoid, the step functions): values against independent
 * references, PyTorch's conventions (thresholds, halves, zero gradients), both engines agreeing,
 * empty tensors, and bad input. First and second derivatives against finite differences run for
 * every op of test/op-cases.ts in tensor-gradients.test.ts; fused against composed rules in
 * agreement.test.ts; jvp and vmap in transforms.test.ts.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  ChainruleError,
  erf,
  grad,
  hvp,
  jvp,
  roundHalfEven,
  type Tensor,
  tensor,
  type UnaryOp,
  unary,
  Value,
  vmap,
} from "../src/index.js";
import { checkGradients, shapeArb, tensorArb } from "../src/testing/index.js";
import { unaryCases } from "./op-cases.js";

/** |a − b| in units of b's last place, at least 1 ulp wide (so 0 compares with tiny values). */
function ulps(a: number, b: number): number {
  const ulp = Math.max(Number.MIN_VALUE, Math.abs(b) * Number.EPSILON);
  return Math.abs(a - b) / ulp;
}

describe("erf", () => {
  // erf(x) correctly rounded to float64, from its Maclaurin series 2/√π·Σ (−1)ⁿx^(2n+1)/(n!(2n+1))
  // summed in 100-digit decimal arithmetic (Python's decimal module); Python's math.erf (the C
  // library's) agrees with every one to ≤ 1 ulp. The points cover each interval of the rational
  // approximations and their boundaries (0.84375, 1.25, 1/0.35 ≈ 2.857, 6).
  const reference: [number, number][] = [
    [1e-300, 1.1283791670955126e-300],
    [1e-10, 1.1283791670955126e-10],
    [3.7e-9, 4.1750029182533965e-9],
    [1e-5, 1.1283791670579e-5],
    [0.001, 0.0011283787909692365],
    [0.1, 0.1124629160182849],
    [0.3, 0.3286267594591274],
    [0.5, 0.5204998778130465],
    [0.84, 0.7651427114549945],
    [0.84375, 0.7672256612323416],
    [0.9, 0.7969082124228322],
    [1, 0.8427007929497149],
    [1.2, 0.9103139782296353],
    [1.25, 0.9229001282564583],
    [1.5, 0.9661051464753108],
    [2, 0.9953222650189527],
    [2.5, 0.999593047982555],
    [2.857, 0.9999466417399131],
    [2.86, 0.9999475988269556],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [4, 0.9999999845827421],
    [4.5, 0.9999999998033839],
    [5, 0.9999999999984626],
    [5.5, 0.9999999999999927],
    [5.9, 0.9999999999999999],
    [6, 1],
    [7, 1],
  ];

  test.each(reference)("erf(%s) within 1 ulp of the reference, and odd", (x, want) => {
    expect(ulps(erf(x), want)).toBeLessThanOrEqual(1);
    expect(erf(-x)).toBe(-erf(x));
  });

  test("limits, zero and NaN", () => {
    expect(erf(0)).toBe(0);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(erf(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(erf(Number.NaN)).toBeNaN();
  });

  test("its derivative (2/√π)·e^(−x²) agrees with central differences of erf itself", () => {
    fc.assert(
      fc.property(fc.double({ min: -5, max: 5, noNaN: true }), (x) => {
        const h = 1e-5;
        const numeric = (erf(x + h) - erf(x - h)) / (2 * h);
        return Math.abs(unary.erf.df(x) - numeric) <= 1e-9;
      }),
    );
  });

  test("the tensor op applies it elementwise", () => {
    const xs = reference.map(([x]) => x);
    expect(Array.from(tensor(xs).erf().data)).toEqual(xs.map(erf));
  });
});

describe("values and PyTorch's conventions", () => {
  const values = (t: Tensor) => Array.from(t.data);

  test("round: halves go to the even neighbour, as torch.round", () => {
    const x = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.4, -2.6, 1e20];
    const want = [0, 2, 2, -0, -2, -2, 0, 2, -3, 1e20];
    expect(values(tensor(x).round())).toEqual(want);
    expect(x.map(roundHalfEven)).toEqual(want);
    expect(Object.is(roundHalfEven(-0.5), -0)).toBe(true);
  });

  test("floor, ceil, sign", () => {
    expect(values(tensor([-1.5, -0.2, 0, 0.2, 1.5]).floor())).toEqual([-2, -1, 0, 0, 1]);
    expect(values(tensor([-1.5, -0.2, 0, 0.2, 1.5]).ceil())).toEqual([-1, -0, 0, 1, 2]);
    expect(values(tensor([-1.5, -0, 0, 0.2]).sign())).toEqual([-1, -0, 0, 1]);
  });

  test("gelu, exact and tanh form", () => {
    // x·½(1 + erf(x/√2)) with the 100-digit erf above; the tanh form from its formula in Python floats
    const exact: [number, number][] = [
      [-3, -0.0040496940948902835],
      [-1, -0.15865525393145705],
      [-0.5, -0.15426876936299344],
      [0, 0],
      [0.5, 0.34573123063700656],
      [1, 0.8413447460685429],
      [3, 2.99595030590511],
    ];
    // NOTE: PyTorch's form ½x(1 + erf(x/√2)), used here too, cancels in 1 + erf for x < 0: a few
    // digits go at x = −3, hence 1e-13 rather than a few ulps.
    const y = tensor(exact.map(([x]) => x)).gelu();
    exact.forEach(([, want], i) => {
      expect(Math.abs((y.data[i] as number) - want)).toBeLessThanOrEqual(1e-13 * Math.abs(want));
    });
    const tanhForm: [number, number][] = [
      [-3, -0.0036373920817729943],
      [-1, -0.15880800939172324],
      [0.5, 0.34571400982514394],
      [1, 0.8411919906082768],
      [3, 2.996362607918227],
    ];
    const yt = tensor(tanhForm.map(([x]) => x)).gelu({ approximate: "tanh" });
    tanhForm.forEach(([, want], i) => {
      expect(Math.abs((yt.data[i] as number) - want)).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(want));
    });
  });

  test("gelu's gradient reads Φ(x) off the output, also at 0, subnormal x and far out", () => {
    const xs = [0, -0, 5e-324, -2.5e-323, 1e-310, 1e-200, -1e-5, 0.7, -3, -40, 40];
    const g = grad((t: Tensor) => t.gelu().sum())(tensor(xs));
    xs.forEach((x, i) => {
      const direct = 0.5 * (1 + erf(x * Math.SQRT1_2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
      expect(Math.abs((g.data[i] as number) - direct)).toBeLessThanOrEqual(1e-15);
    });
  });

  test("softplus switches to x above the threshold 20, and is exact far below", () => {
    // log1p(exp(x)) in Python floats, and x above 20
    const cases: [number, number][] = [
      [-800, 0],
      [-20, 2.061153620314381e-9],
      [-1, 0.31326168751822286],
      [0, Math.LN2],
      [1, 1.3132616875182228],
      [20, 20.000000002061153],
      [20.5, 20.5],
      [800, 800],
    ];
    const y = tensor(cases.map(([x]) => x)).softplus();
    cases.forEach(([, want], i) => {
      expect(ulps(y.data[i] as number, want)).toBeLessThanOrEqual(2);
    });
    const g = grad((x: Tensor) => x.softplus().sum())(tensor([-800, 0, 20, 20.5, 800]));
    expect(Array.from(g.data)).toEqual([0, 0.5, 1 / (1 + Math.exp(-20)), 1, 1]);
  });

  test("logSigmoid stays finite and exact for large |x|", () => {
    // min(x, 0) − log1p(exp(−|x|)) in Python floats
    const cases: [number, number][] = [
      [-800, -800],
      [-30, -30.000000000000092],
      [-1, -1.3132616875182228],
      [0, -Math.LN2],
      [1, -0.31326168751822286],
      [30, -9.357622968839737e-14],
      [800, -0],
    ];
    const x = tensor(
      cases.map(([v]) => v),
      { requiresGrad: true },
    );
    const y = x.logSigmoid();
    cases.forEach(([, want], i) => {
      expect(ulps(y.data[i] as number, want)).toBeLessThanOrEqual(2);
    });
    y.sum().backward();
    const g = Array.from(x.grad?.data ?? []);
    expect(g[0]).toBe(1); // σ(800) = 1
    expect(g[6]).toBe(0); // σ(−800) = 0
    expect(g.every(Number.isFinite)).toBe(true);
  });

  test("expm1 and log1p keep the digits near 0 that eˣ − 1 and ln(1 + x) lose", () => {
    // Python's math.expm1(1e-10), math.log1p(1e-10), math.log1p(-1e-12)
    expect(tensor([1e-10]).expm1().item()).toBe(1.00000000005e-10);
    expect(tensor([1e-10]).log1p().item()).toBe(9.999999999500001e-11);
    expect(tensor([-1e-12]).log1p().item()).toBe(-1.0000000000005e-12);
    expect(Math.exp(1e-10) - 1).not.toBe(1.00000000005e-10); // the naive form is off
  });

  test("elu, silu and identities of the trigonometric and hyperbolic ops", () => {
    expect(values(tensor([-1, 0, 2]).elu())).toEqual([Math.expm1(-1), 0, 2]);
    expect(values(tensor([-2, 0, 2]).silu())).toEqual([-2 / (1 + Math.exp(2)), 0, 2 / (1 + Math.exp(-2))]);
    const x = tensor([-2.5, -0.7, 0.3, 1.1]);
    const one = x.sin().square().add(x.cos().square());
    one.data.forEach((v) => {
      expect(v).toBeCloseTo(1, 15);
    });
    x.cosh()
      .square()
      .sub(x.sinh().square())
      .data.forEach((v) => {
        expect(v).toBeCloseTo(1, 13);
      });
    x.asinh()
      .sinh()
      .data.forEach((v, i) => {
        expect(v).toBeCloseTo(x.data[i] as number, 14);
      });
    x.atan()
      .tan()
      .data.forEach((v, i) => {
        expect(v).toBeCloseTo(x.data[i] as number, 14);
      });
    expect(values(tensor([4, 0.25]).rsqrt())).toEqual([0.5, 2]);
    expect(values(tensor([4, -0.5]).reciprocal())).toEqual([0.25, -2]);
  });
});

describe("the step functions have gradient 0, as in PyTorch", () => {
  const steps = ["floor", "ceil", "round", "sign"] as const;

  test.each(steps)("%s: a zero gradient (not none), a zero tangent, and vmap", (name) => {
    const x = tensor([-1.7, -0.5, 0.2, 2.5], { requiresGrad: true });
    const y = x[name]();
    expect(y.requiresGrad).toBe(true);
    y.mul(x).sum().backward(); // d/dx Σ step(x)·x = step(x)
    expect(Array.from(x.grad?.data ?? [])).toEqual(Array.from(y.data));
    const { tangent } = jvp((t: Tensor) => t[name](), [x.detach()], [tensor([1, 1, 1, 1])]);
    expect(Array.from(tangent.data)).toEqual([0, 0, 0, 0]);
    const batched = vmap((t: Tensor) => t[name]())(
      tensor([
        [-1.7, 0.5],
        [2.5, -0.2],
      ]),
    );
    expect(Array.from(batched.data)).toEqual(
      Array.from(
        tensor([
          [-1.7, 0.5],
          [2.5, -0.2],
        ])[name]().data,
      ),
    );
  });
});

describe("Value twins share the rule table", () => {
  const names = unaryCases
    .map(([name]) => name)
    .filter(
      (name): name is UnaryOp =>
        name in unary && !["neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu"].includes(name),
    );

  test.each(names)("%s: the same value and gradient as a 0-d Tensor", (name) => {
    const domain = unaryCases.find(([n]) => n === name)?.[2] ?? { min: -1, max: 1 };
    fc.assert(
      fc.property(tensorArb([], { domain }), (t) => {
        const x = t.item();
        const v = new Value(x);
        const out = (v[name as keyof Value] as () => Value).call(v);
        out.backward();
        const tx = tensor(x, { requiresGrad: true });
        const ty = (tx[name as keyof Tensor] as () => Tensor).call(tx);
        ty.backward();
        expect(out.data).toBe(ty.item());
        expect(v.grad === tx.grad?.item()).toBe(true); // === : a leaf's += turns −0 into 0
      }),
      { numRuns: 20 },
    );
  });

  test("gelu's tanh form on Value, and its bad option", () => {
    const v = new Value(0.7);
    const y = v.gelu({ approximate: "tanh" });
    y.backward();
    const t = tensor(0.7, { requiresGrad: true });
    const ty = t.gelu({ approximate: "tanh" });
    ty.backward();
    expect(y.data).toBe(ty.item());
    expect(v.grad).toBe(t.grad?.item());
    expect(() => v.gelu({ approximate: "erf" as "none" })).toThrow(ChainruleError);
  });
});

describe("shapes", () => {
  const ops = unaryCases.filter(([name]) => !name.startsWith("pow"));

  test("every op maps empty tensors (size-0 axes) to empty tensors, with empty gradients", () => {
    fc.assert(
      fc.property(shapeArb({ minRank: 1, minDim: 0 }), fc.constantFrom(...ops), (shape, [, f]) => {
        if (!shape.includes(0)) shape[0] = 0;
        const x = tensor([], { shape, requiresGrad: true });
        const y = f(x);
        expect(y.shape).toEqual(shape);
        y.sum().backward();
        expect(x.grad?.shape).toEqual(shape);
      }),
      { numRuns: 40 },
    );
  });

  test("float32 tensors stay float32, values rounded from the float64 result", () => {
    const x = tensor([0.3, -1.2, 2.5], { dtype: "float32" });
    for (const [, f] of ops) {
      const y = f(x.abs().add(0.5));
      expect(y.dtype).toBe("float32");
    }
    const y = x.gelu();
    y.data.forEach((v, i) => {
      expect(v).toBe(Math.fround(unary.gelu.f(x.data[i] as number)));
    });
  });

  test("gelu tanh: first and second derivatives with broadcasting into a product", () => {
    checkGradients(
      (a: Tensor, b: Tensor) => a.gelu({ approximate: "tanh" }).mul(b.silu()),
      shapeArb().chain((s) => fc.tuple(tensorArb(s), tensorArb(s.slice(1)))),
      { gradgrad: true, numRuns: 20 },
    );
  });
});

describe("Hessian-vector products (forward over reverse)", () => {
  const smooth = unaryCases.filter(([name]) => !["floor", "ceil", "round", "sign", "abs", "relu"].includes(name));

  test.each(smooth)("%s: hvp of Σ f(x)·w against central differences of the gradient", (_name, f, domain) => {
    fc.assert(
      fc.property(
        shapeArb({ minRank: 1 }).chain((s) => fc.tuple(tensorArb(s, { domain }), tensorArb(s))),
        ([x, v]) => {
          const w = tensor(
            Array.from({ length: x.size }, (_, i) => 1 + 0.1 * i),
            { shape: x.shape },
          );
          const loss = (t: Tensor) => f(t).mul(w).sum();
          const got = hvp(loss, x, v);
          const h = 1e-6;
          const plus = grad(loss)(x.add(v.mul(h)));
          const minus = grad(loss)(x.sub(v.mul(h)));
          const numeric = plus.sub(minus).div(2 * h);
          numeric.data.forEach((want, i) => {
            const d = Math.abs((got.data[i] as number) - want);
            expect(d).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
          });
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe("bad input", () => {
  test("gelu's approximate must be none or tanh", () => {
    expect(() => tensor([1]).gelu({ approximate: "fast" as "tanh" })).toThrow(
      /gelu.*approximate must be "none" or "tanh", got "fast"/,
    );
  });
});
