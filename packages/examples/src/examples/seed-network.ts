/**
 * @file The chapter's two-layer scalar network, a⁰ → a¹ → a² with sigmoid and quadratic cost
 * C = ½(y − a²)², built from `Value`s with the chapter's names (its "basis" is our bias).
 * ∂C/∂w² and ∂C/∂w¹ are computed three ways — backward(), equations (A) and (B) by hand, and
 * central finite differences — and printed side by side. Then the matrix form: a 2–3–2 network
 * of Tensors, where the four backpropagation equations (δᴸ, δˡ, ∂C/∂bˡ, ∂C/∂Wˡ) stand beside
 * what autograd stores.
 */

import { writeFileSync } from "node:fs";
import {
  chainFor,
  formatChain,
  formatTrace,
  renderSvg,
  type Tensor,
  tensor,
  traceBackward,
  Value,
} from "@chainrule/autograd";
import type { Example } from "./types.js";

/** The worked instance of the seed notes. */
export const worked = { x: 0.5, w1: 0.8, b1: -0.2, w2: -1.3, b2: 0.4, y: 1.0 };

const sigma = (z: number) => 1 / (1 + Math.exp(-z));
const sigmaPrime = (z: number) => sigma(z) * (1 - sigma(z)); // σ'(z) = σ(z)(1 − σ(z))

/** C as a plain function of the two weights, for finite differences. */
function cost(w1: number, w2: number): number {
  const a1 = sigma(w1 * worked.x + worked.b1);
  const a2 = sigma(w2 * a1 + worked.b2);
  return 0.5 * (worked.y - a2) ** 2;
}

export interface SeedNetworkResult {
  C: number;
  autograd: { w1: number; w2: number };
  equations: { A: number; B: number };
  finiteDifferences: { w1: number; w2: number };
}

/** Runs the scalar network and returns the three sets of gradients; `print` receives each line. */
/** The network as a labelled Value graph, so pictures and traces speak the chapter's names. */
export function buildSeedNetwork() {
  const a0 = new Value(worked.x, "a0");
  const y = new Value(worked.y, "y");
  const w1 = new Value(worked.w1, "w1");
  const b1 = new Value(worked.b1, "b1");
  const w2 = new Value(worked.w2, "w2");
  const b2 = new Value(worked.b2, "b2");
  const label = (v: Value, name: string) => {
    v.label = name;
    return v;
  };
  // Forward pass: z = w·a + b, a = σ(z), layer by layer; then C = ½(a² − y)².
  const z1 = label(w1.mul(a0).add(b1), "z1");
  const a1 = label(z1.sigmoid(), "a1");
  const z2 = label(w2.mul(a1).add(b2), "z2");
  const a2 = label(z2.sigmoid(), "a2");
  const C = label(a2.sub(y).pow(2).mul(0.5), "C");
  return { a0, y, w1, b1, w2, b2, z1, a1, z2, a2, C };
}

export function seedNetwork(print: (line: string) => void = console.log): SeedNetworkResult {
  const { x, y } = worked;
  const { a0, w1, w2, z1, a1, z2, a2, C } = buildSeedNetwork();
  C.backward();

  // Equations (A) and (B), evaluated by hand from the forward values.
  const A = a1.data * sigmaPrime(z2.data) * (a2.data - y);
  const B = a0.data * sigmaPrime(z1.data) * (a2.data - y) * sigmaPrime(z2.data) * w2.data;

  const h = 1e-6;
  const fdW2 = (cost(worked.w1, worked.w2 + h) - cost(worked.w1, worked.w2 - h)) / (2 * h);
  const fdW1 = (cost(worked.w1 + h, worked.w2) - cost(worked.w1 - h, worked.w2)) / (2 * h);

  const n = (v: number) => v.toFixed(17).padStart(21);
  print("The chapter's two-layer network: a⁰ → a¹ → a², sigmoid, C = ½(y − a²)²");
  print(`  x = a⁰ = ${x}, w¹ = ${worked.w1}, b¹ = ${worked.b1}, w² = ${worked.w2}, b² = ${worked.b2}, y = ${y}`);
  print("");
  print("Forward pass");
  print(`  z¹ = w¹·a⁰ + b¹ = ${n(z1.data)}    a¹ = σ(z¹) = ${n(a1.data)}`);
  print(`  z² = w²·a¹ + b² = ${n(z2.data)}    a² = σ(z²) = ${n(a2.data)}`);
  print(`  C  = ½(y − a²)² = ${n(C.data)}`);
  print("");
  print("Gradients               backward()        equation (A)/(B)    finite differences");
  print(`  ∂C/∂w² ${n(w2.grad)} ${n(A)} ${n(fdW2)}`);
  print(`  ∂C/∂w¹ ${n(w1.grad)} ${n(B)} ${n(fdW1)}`);
  print("");
  print("  (A)  ∂C/∂w² = a¹ · σ'(z²) · (a² − y)");
  print("  (B)  ∂C/∂w¹ = a⁰ · σ'(z¹) · (a² − y) · σ'(z²) · w²");

  return {
    C: C.data,
    autograd: { w1: w1.grad, w2: w2.grad },
    equations: { A, B },
    finiteDifferences: { w1: fdW1, w2: fdW2 },
  };
}

export interface MatrixFormResult {
  /** Largest |autograd − equation| over every entry of ∂C/∂W¹, ∂C/∂b¹, ∂C/∂W², ∂C/∂b². */
  maxDifference: number;
}

/**
 * The same network as matrices: one example as a column vector a⁰, W¹ [3×2], W² [2×3],
 * z^l = W^l a^(l−1) + b^l, a^l = σ(z^l), C = ½‖y − a²‖².
 */
export function matrixForm(print: (line: string) => void = console.log): MatrixFormResult {
  const a0 = tensor([[0.5], [-0.2]]);
  const y = tensor([[1], [0]]);
  const W1 = tensor(
    [
      [0.8, -0.4],
      [0.3, 0.9],
      [-0.5, 0.2],
    ],
    { requiresGrad: true, label: "W1" },
  );
  const b1 = tensor([[-0.2], [0.1], [0.05]], { requiresGrad: true, label: "b1" });
  const W2 = tensor(
    [
      [-1.3, 0.6, 0.7],
      [0.4, -0.8, 0.2],
    ],
    { requiresGrad: true, label: "W2" },
  );
  const b2 = tensor([[0.4], [-0.1]], { requiresGrad: true, label: "b2" });

  const z1 = W1.matmul(a0).add(b1);
  const a1 = z1.sigmoid();
  const z2 = W2.matmul(a1).add(b2);
  const a2 = z2.sigmoid();
  const C = y.sub(a2).pow(2).sum().mul(0.5);
  C.backward();

  // The four equations, by hand, from the forward values.
  const sigmaPrimeOf = (a: Tensor) => a.mul(a.neg().add(1)); // σ'(z) = a(1 − a)
  const delta2 = a2.detach().sub(y).mul(sigmaPrimeOf(a2.detach())); // δ² = (a² − y) ⊙ σ'(z²)
  const delta1 = W2.detach().T.matmul(delta2).mul(sigmaPrimeOf(a1.detach())); // δ¹ = (W²)ᵀδ² ⊙ σ'(z¹)
  const pairs: [string, Tensor | null, Tensor][] = [
    ["∂C/∂b²  = δ²", b2.grad, delta2],
    ["∂C/∂W²  = δ²(a¹)ᵀ", W2.grad, delta2.matmul(a1.detach().T)],
    ["∂C/∂b¹  = δ¹", b1.grad, delta1],
    ["∂C/∂W¹  = δ¹(a⁰)ᵀ", W1.grad, delta1.matmul(a0.T)],
  ];
  const row = (t: Tensor | null) =>
    t === null
      ? "—"
      : (t.toArray() as number[][]).map((r) => r.map((v) => v.toFixed(6).padStart(10)).join("")).join(" |");
  print("");
  print("The matrix form: a 2–3–2 sigmoid network, one example, C = ½‖y − a²‖²");
  print(`  C = ${C.item().toFixed(12)}`);
  print("  δ² = (a² − y) ⊙ σ'(z²)          δ¹ = ((W²)ᵀ δ²) ⊙ σ'(z¹)");
  let maxDifference = 0;
  for (const [name, auto, eq] of pairs) {
    print(`  ${name}`);
    print(`    backward() ${row(auto)}`);
    print(`    equations  ${row(eq)}`);
    auto?.data.forEach((v, i) => {
      maxDifference = Math.max(maxDifference, Math.abs(v - (eq.data[i] as number)));
    });
  }
  print(`  largest difference between autograd and the equations: ${maxDifference.toExponential(2)}`);
  return { maxDifference };
}

/**
 * The backward pass of the scalar network step by step (up to step `upTo`), then the chain of
 * local derivatives behind ∂C/∂w² — equation (A) — and the extra factors that give ∂C/∂w¹ — (B).
 */
export function traceSeedNetwork(print: (line: string) => void, upTo?: number) {
  const net = buildSeedNetwork();
  const trace = traceBackward(net.C);
  print("");
  print("The backward pass, one node at a time (pnpm example seed-network --step K stops after step K)");
  print(formatTrace(trace, upTo === undefined ? {} : { upTo }));
  const A = chainFor(trace, net.w2);
  const B = chainFor(trace, net.w1);
  print("");
  print("Equation (A): the chain of local derivatives from C down to w²");
  print(formatChain(A));
  print("");
  print("Equation (B): the same factors, then the extra ones that reach w¹");
  print(formatChain(B, { after: A }));
  return { net, trace, steps: trace.steps.length };
}

export const example: Example = {
  name: "seed-network",
  summary: "the chapter's two-layer network: autograd, equations (A)/(B), finite differences, the trace",
  async run({ print, out, step }) {
    const scalar = seedNetwork(print);
    const { net, steps } = traceSeedNetwork(print, step);
    if (out !== undefined) {
      writeFileSync(out, await renderSvg(net.C, { inputs: [net.a0, net.y], title: "C = ½(a² − y)²" }));
      print("");
      print(`graph of the network written to ${out}`);
    }
    const matrix = matrixForm(print);
    return { ...scalar, ...matrix, traceSteps: steps };
  },
};
