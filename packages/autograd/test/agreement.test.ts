/**
 * Agreement properties: the two engines compute the same thing, the two speeds of backward
 * (fused loops, and rules composed of tensor ops) give the same gradients, and the matrix form of
 * the seed network reproduces the four backpropagation equations.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type Tensor, tensor, Value } from "../src/index.js";
import { broadcastPairArb, domains, shapeArb, tensorArb } from "../src/testing/index.js";
import { unaryCases } from "./op-cases.js";

/** The operations both front ends share, by the same method names. */
interface Scalarish<T> {
  add(o: T | number): T;
  sub(o: T | number): T;
  mul(o: T | number): T;
  div(o: T | number): T;
  pow(p: number): T;
  neg(): T;
  exp(): T;
  log(): T;
  tanh(): T;
  sigmoid(): T;
  relu(): T;
}

type Step = { op: string; arg: number; with: number };

/** Apply a random program of steps to three inputs, keeping every op in its domain by construction. */
function run<T extends Scalarish<T>>(xs: T[], program: Step[]): T {
  const vals = [...xs];
  for (const s of program) {
    const a = vals[s.with % vals.length] as T;
    const b = vals[(s.with + 1) % vals.length] as T;
    const positive = (v: T) => v.mul(v).add(0.5);
    let out: T;
    switch (s.op) {
      case "add":
        out = a.add(b);
        break;
      case "sub":
        out = a.sub(b.mul(s.arg));
        break;
      case "mul":
        out = a.mul(b.tanh());
        break;
      case "div":
        out = a.div(positive(b));
        break;
      case "pow":
        out = positive(a.tanh()).pow(s.arg);
        break;
      case "log":
        out = positive(a).log();
        break;
      case "exp":
        out = a.tanh().exp();
        break;
      case "neg":
        out = a.neg();
        break;
      case "tanh":
        out = a.tanh();
        break;
      case "sigmoid":
        out = a.sigmoid();
        break;
      default:
        out = a.add(s.arg).relu();
    }
    vals.push(out);
  }
  return vals[vals.length - 1] as T;
}

const programArb = fc.array(
  fc.record({
    op: fc.constantFrom("add", "sub", "mul", "div", "pow", "log", "exp", "neg", "tanh", "sigmoid", "relu"),
    arg: fc.double({ min: -1.5, max: 2, noNaN: true }),
    with: fc.nat(20),
  }),
  { minLength: 1, maxLength: 12 },
);

describe("Value and 0-d Tensor agree", () => {
  test("random scalar programs give the same value and gradients", () => {
    fc.assert(
      fc.property(
        programArb,
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (program, xs) => {
          const vs = xs.map((x) => new Value(x));
          const ts = xs.map((x) => tensor(x, { requiresGrad: true }));
          const v = run<Value>(vs, program);
          const t = run<Tensor>(ts, program);
          expect(t.item()).toBe(v.data);
          v.backward();
          if (!t.requiresGrad) return; // the program ignored every input
          t.backward();
          ts.forEach((ti, i) => {
            const g = ti.grad === null ? 0 : ti.grad.item();
            expect(Math.abs(g - (vs[i] as Value).grad)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(g)));
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("fused and composed derivative rules agree", () => {
  /** Gradients of sum(w·f(inputs)) by an ordinary backward (fused) and by a recorded one (composed). */
  function bothWays(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): [number[][], number[][]] {
    const grads = (createGraph: boolean) => {
      const xs = inputs.map((x) => x.detach().requireGrad());
      const y = f(...xs);
      const w = tensor(
        Array.from({ length: y.size }, (_, i) => 1 + 0.1 * i),
        { shape: y.shape },
      );
      y.mul(w).sum().backward(undefined, { createGraph });
      return xs.map((x) => Array.from(x.grad?.data ?? []));
    };
    return [grads(false), grads(true)];
  }

  test.each(unaryCases)("%s", (_name, f, domain) => {
    fc.assert(
      fc.property(
        shapeArb().chain((s) => tensorArb(s, { domain })),
        (x) => {
          const [fused, composed] = bothWays(f, [x]);
          fused.forEach((g, i) => {
            g.forEach((v, k) => {
              expect(v).toBeCloseTo(composed[i]?.[k] as number, 12);
            });
          });
        },
      ),
      { numRuns: 30 },
    );
  });

  const binaryCases: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ["mul", (a, b) => a.mul(b)],
    ["div", (a, b) => a.div(b)],
    ["pow", (a, b) => a.pow(b)],
    ["maximum", (a, b) => a.maximum(b.add(0.01))],
    ["minimum", (a, b) => a.minimum(b.add(0.01))],
  ];
  test.each(binaryCases)("%s", (_name, f) => {
    fc.assert(
      fc.property(
        broadcastPairArb().chain(([sa, sb]) =>
          fc.tuple(tensorArb(sa, { domain: domains.positive }), tensorArb(sb, { domain: domains.positive })),
        ),
        ([a, b]) => {
          const [fused, composed] = bothWays(f, [a, b]);
          fused.forEach((g, i) => {
            g.forEach((v, k) => {
              expect(v).toBeCloseTo(composed[i]?.[k] as number, 10);
            });
          });
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("the seed network in matrix form", () => {
  test("autograd reproduces δᴸ, δˡ, ∂C/∂bˡ = δˡ and ∂C/∂Wˡ = δˡ(aˡ⁻¹)ᵀ", () => {
    // A 3–4–2 network, one example as a column vector, sigmoid layers, C = ½‖y − a²‖².
    const a0 = tensor([[0.5], [-0.3], [0.8]]);
    const y = tensor([[1], [0]]);
    const W1 = tensor(
      [
        [0.2, -0.4, 0.1],
        [0.7, 0.3, -0.5],
        [-0.6, 0.9, 0.2],
        [0.05, -0.1, 0.4],
      ],
      { requiresGrad: true },
    );
    const b1 = tensor([[0.1], [-0.2], [0.05], [0.3]], { requiresGrad: true });
    const W2 = tensor(
      [
        [0.5, -0.3, 0.8, -0.1],
        [-0.7, 0.2, 0.4, 0.6],
      ],
      { requiresGrad: true },
    );
    const b2 = tensor([[-0.1], [0.2]], { requiresGrad: true });

    const z1 = W1.matmul(a0).add(b1);
    const a1 = z1.sigmoid();
    const z2 = W2.matmul(a1).add(b2);
    const a2 = z2.sigmoid();
    const C = y.sub(a2).pow(2).sum().mul(0.5);
    C.backward();

    // The four equations, by hand with the same tensors (no graph needed).
    const sp = (a: Tensor) => a.detach().mul(a.detach().neg().add(1)); // σ'(z) = a(1 − a)
    const delta2 = a2.detach().sub(y).mul(sp(a2)); // δ² = (a² − y) ⊙ σ'(z²)
    const delta1 = W2.detach().T.matmul(delta2).mul(sp(a1)); // δ¹ = (W²)ᵀδ² ⊙ σ'(z¹)
    const close = (a: Tensor | null, b: Tensor) => {
      const x = a?.data ?? [];
      b.data.forEach((v, i) => {
        expect(Math.abs((x[i] as number) - v)).toBeLessThan(1e-15);
      });
    };
    close(b2.grad, delta2);
    close(b1.grad, delta1);
    close(W2.grad, delta2.matmul(a1.detach().T));
    close(W1.grad, delta1.matmul(a0.T));
  });
});
