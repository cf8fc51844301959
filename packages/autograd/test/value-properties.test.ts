/**
 * Property tests of the scalar engine: every operation, and random expression trees built from
 * all of them, have autograd gradients that match central finite differences. Domains are kept
 * by construction: log, sqrt and pow only ever see (something)² + c with c > 0, exp sees a
 * bounded input, relu and abs a shifted one, and products go through tanh so magnitudes stay
 * where differences are accurate.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { gradcheck } from "../src/gradcheck.js";
import { type BinaryRule, binary, powRule, type UnaryOp, unary } from "../src/rules.js";
import { Value } from "../src/value.js";

// Where each rule is valid and smooth, for testing the rule table directly.
const domain: Record<UnaryOp, { min: number; max: number }> = {
  neg: { min: -10, max: 10 },
  exp: { min: -10, max: 10 },
  log: { min: 0.01, max: 100 },
  sqrt: { min: 0.01, max: 100 },
  abs: { min: 0.01, max: 10 },
  tanh: { min: -5, max: 5 },
  sigmoid: { min: -10, max: 10 },
  relu: { min: 0.01, max: 10 },
  sin: { min: -10, max: 10 },
  cos: { min: -10, max: 10 },
  tan: { min: -1.4, max: 1.4 },
  atan: { min: -10, max: 10 },
  sinh: { min: -5, max: 5 },
  cosh: { min: -5, max: 5 },
  asinh: { min: -10, max: 10 },
  log1p: { min: -0.9, max: 10 },
  expm1: { min: -10, max: 10 },
  erf: { min: -5, max: 5 },
  square: { min: -10, max: 10 },
  reciprocal: { min: 0.1, max: 10 },
  rsqrt: { min: 0.1, max: 10 },
  softplus: { min: -10, max: 19 }, // below the threshold 20, where y switches to x
  silu: { min: -10, max: 10 },
  gelu: { min: -5, max: 5 },
  elu: { min: -10, max: 10 }, // continuously differentiable at 0: both sides' slope is 1
  logSigmoid: { min: -30, max: 30 },
  // the step functions between their jumps
  floor: { min: 0.01, max: 0.99 },
  ceil: { min: 0.01, max: 0.99 },
  round: { min: 0.01, max: 0.49 },
  sign: { min: 0.01, max: 10 },
};

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * (1 + Math.abs(b));
const central = (f: (x: number) => number, x: number, h = 1e-6) => (f(x + h) - f(x - h)) / (2 * h);

describe("the rule table agrees with central differences", () => {
  test.each(Object.keys(unary) as UnaryOp[])("%s", (name) => {
    const { f, df } = unary[name];
    const { min, max } = domain[name];
    fc.assert(
      fc.property(fc.double({ min, max, noNaN: true }), fc.boolean(), (x, negate) => {
        const at = name === "abs" || name === "relu" || name === "sign" ? (negate ? -x : x) : x;
        return close(df(at, f(at)), central(f, at));
      }),
    );
  });

  test("pow by a constant", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.1, max: 5, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), (x, p) => {
        const r = powRule(p);
        return close(r.df(x, r.f(x)), central(r.f, x));
      }),
    );
  });

  test.each(Object.keys(binary) as (keyof typeof binary)[])("%s (both partials)", (name) => {
    const { f, da, db }: BinaryRule = binary[name];
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        (a, b) => {
          if ((name === "maximum" || name === "minimum") && Math.abs(a - b) < 1e-3) return true; // the tie is a kink
          const y = f(a, b);
          return (
            close(
              da(a, b, y),
              central((t) => f(t, b), a),
            ) &&
            close(
              db(a, b, y),
              central((t) => f(a, t), b),
            )
          );
        },
      ),
    );
  });
});

// A random expression over three variables, as a function from leaves to a root Value.
type Expr = (xs: Value[]) => Value;

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", maxDepth: 6, withCrossShrink: true },
    fc.integer({ min: 0, max: 2 }).map(
      (i): Expr =>
        (xs) =>
          xs[i] as Value,
    ),
    fc
      .tuple(
        fc.constantFrom("neg", "tanh", "sigmoid", "relu", "exp", "log", "sqrt", "abs", "pow"),
        tie("expr"),
        fc.double({ min: -1.5, max: 2, noNaN: true }),
      )
      .map(([op, e, p]): Expr => {
        const positive = (v: Value) => v.mul(v).add(0.5); // ≥ 0.5 by construction
        switch (op) {
          case "exp":
            return (xs) => e(xs).tanh().exp();
          case "log":
            return (xs) => positive(e(xs)).log();
          case "sqrt":
            return (xs) => positive(e(xs)).sqrt();
          case "pow":
            return (xs) => positive(e(xs).tanh()).pow(p);
          case "relu":
          case "abs":
            // Shifted by an odd constant, so the kink at 0 is not hit exactly by values such as
            // x − x or a leaf drawn as 0 (finite differences cannot see a derivative there).
            return (xs) => (op === "relu" ? e(xs).add(0.3183098861837907).relu() : e(xs).sub(0.2718281828).abs());
          default:
            return (xs) => {
              const v = e(xs) as unknown as Record<string, () => Value>;
              return v[op]!.call(v);
            };
        }
      }),
    fc.tuple(fc.constantFrom("add", "sub", "mul", "div"), tie("expr"), tie("expr")).map(([op, l, r]): Expr => {
      switch (op) {
        case "add":
          return (xs) => l(xs).add(r(xs));
        case "sub":
          return (xs) => l(xs).sub(r(xs));
        case "mul":
          return (xs) => l(xs).mul(r(xs).tanh());
        default:
          return (xs) => l(xs).div(r(xs).mul(r(xs)).add(1));
      }
    }),
  ),
})).expr;

describe("Value gradients match finite differences", () => {
  test("random expression trees of depth up to ~6", () => {
    fc.assert(
      fc.property(
        exprArb,
        fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (expr, xs) => {
          const leaves = xs.map((x, i) => new Value(x, `x${i}`));
          const report = gradcheck((...v) => expr(v), leaves);
          if (!report.ok) throw new Error(report.toString());
        },
      ),
      { numRuns: 300 },
    );
  });

  test("each binary operation with a number on either side", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("add", "sub", "mul", "div"),
        fc.double({ min: 0.2, max: 3, noNaN: true }),
        fc.double({ min: 0.2, max: 3, noNaN: true }),
        (op, a, c) => {
          const call = (v: Value) => (v as unknown as Record<string, (x: number) => Value>)[op]!.call(v, c);
          expect(gradcheck(call, [new Value(a)]).ok).toBe(true);
        },
      ),
    );
  });
});

describe("gradcheck reports what is wrong", () => {
  test("a wrong derivative is caught and the worst element is named", () => {
    // A node whose rule claims d/dx sin(x) = sin(x): wrong.
    const badSin = { name: "sin", formula: "wrong", f: Math.sin, df: (_x: number, y: number) => y };
    const f = (x: Value, y: Value) => new Value(Math.sin(x.data), "", x, null, badSin).mul(y);
    const report = gradcheck(f, [new Value(0.7, "x"), new Value(2, "y")]);
    expect(report.ok).toBe(false);
    expect(report.failures).toBe(1);
    expect(report.worst?.inputName).toBe("x");
    expect(report.worst?.analytic).toBeCloseTo(2 * Math.sin(0.7), 12);
    expect(report.worst?.numeric).toBeCloseTo(2 * Math.cos(0.7), 6);
    expect(report.toString()).toMatch(/gradcheck FAILED .*1 of 2/);
    expect(report.toString()).toMatch(/worst: ∂out\/∂x: analytic 1\.28844/);
  });

  test("relu at its kink is accepted as a one-sided derivative, and said so", () => {
    const report = gradcheck((x) => x.relu(), [new Value(0)]);
    expect(report.ok).toBe(true);
    expect(report.kinks).toHaveLength(1);
    expect(report.kinks[0]?.kink).toEqual({ left: 0, right: 1 });
    expect(report.toString()).toMatch(/kink/);
  });

  test("inputs and leaf gradients are left as they were", () => {
    const w = new Value(0.3);
    const x = new Value(2);
    w.grad = 5;
    const report = gradcheck((w) => w.mul(x).sigmoid(), [w]);
    expect(report.ok).toBe(true);
    expect(w.data).toBe(0.3);
    expect(w.grad).toBe(5);
    expect(x.grad).toBe(0);
  });

  test("bad options are refused", () => {
    expect(() => gradcheck((x) => x, [new Value(1)], { eps: 0 })).toThrow(
      /gradcheck: option eps must be a finite number > 0/,
    );
    expect(() => gradcheck((x) => x, [1 as unknown as Value])).toThrow(/gradcheck: input 0 must be a Value/);
  });
});
