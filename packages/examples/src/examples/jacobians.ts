/**
 * @file The chapter's two-layer network seen by the function transforms: the Jacobian of its
 * activations and the Hessian of its cost with respect to the four parameters, each three ways
 * (reverse mode, forward mode, finite differences), and per-example gradients with vmap.
 */

import { grad, hessian, jacfwd, jacrev, jvp, stack, type Tensor, tensor, vmap } from "@chainrule/autograd";
import type { Example } from "./types.js";

// The worked instance of the chapter: x = 0.5, θ = (w¹, b¹, w², b²) = (0.8, −0.2, −1.3, 0.4), y = 1.
const X = 0.5;
const Y = 1;
const THETA = [0.8, -0.2, -1.3, 0.4];

/** The activations (a¹, a²) of the network as a function of θ = [w¹, b¹, w², b²]. */
function activations(theta: Tensor, x: Tensor | number = X): Tensor {
  const [w1, b1, w2, b2] = [0, 1, 2, 3].map((i) => theta.slice([i, i + 1]).reshape([])) as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  const a1 = w1.mul(x).add(b1).sigmoid();
  const a2 = w2.mul(a1).add(b2).sigmoid();
  return stack([a1, a2]);
}

/** C(θ) = ½(a² − y)²: the chapter's quadratic cost. */
function cost(theta: Tensor, x: Tensor | number = X, y: Tensor | number = Y): Tensor {
  const a2 = activations(theta, x).slice([1, 2]).reshape([]);
  return a2.sub(y).pow(2).mul(0.5);
}

/** ∂f/∂θ by central differences, column by column: [...f's shape, 4]. */
function finiteDifferences(f: (theta: Tensor) => Tensor, theta: Tensor, eps = 1e-5): Tensor {
  const cols = [0, 1, 2, 3].map((j) => {
    const e = tensor(THETA.map((_, i) => (i === j ? eps : 0)));
    return f(theta.add(e))
      .sub(f(theta.sub(e)))
      .div(2 * eps);
  });
  const out = f(theta);
  return tensor(
    Array.from({ length: out.size }, (_, r) => cols.map((c) => c.data[r] as number)),
    { shape: [...out.shape, 4] },
  );
}

function maxGap(a: Tensor, b: Tensor): number {
  return a.sub(b).abs().max().item();
}

function rows(t: Tensor, print: (line: string) => void, indent = "    "): void {
  const values = t.toArray() as number[] | number[][];
  for (const row of values) {
    const r = Array.isArray(row) ? row : [row];
    print(indent + r.map((v) => (v >= 0 ? " " : "") + v.toFixed(6)).join("  "));
  }
}

export const example: Example = {
  name: "jacobians",
  summary: "the chapter's network: its Jacobian and Hessian three ways, and per-example gradients with vmap",
  async run({ print }) {
    const theta = tensor(THETA);
    print("θ = (w¹, b¹, w², b²) = (0.8, −0.2, −1.3, 0.4), x = 0.5, y = 1");
    print("");
    print("1. The Jacobian of the activations (a¹, a²) with respect to θ: 2 outputs × 4 inputs");
    const jRev = jacrev((t) => activations(t))(theta) as Tensor;
    const jFwd = jacfwd((t) => activations(t))(theta) as Tensor;
    const jFd = finiteDifferences((t) => activations(t), theta);
    rows(jRev, print);
    print(`   reverse mode (jacrev): 2 backward passes, one per output, batched in one by vmap`);
    print(`   forward mode (jacfwd): 4 forward passes, one per input, batched in one by vmap`);
    print(
      `   largest difference: reverse vs forward ${maxGap(jRev, jFwd).toExponential(1)}, vs finite differences ${maxGap(jRev, jFd).toExponential(1)}`,
    );
    print("   a¹ does not depend on w² or b²: its row ends in two zeros.");
    print("");
    print("2. The gradient of the cost (equations (A) and (B) are its entries for w² and w¹)");
    const g = grad((t) => cost(t))(theta);
    rows(g.reshape([1, 4]), print);
    print("");
    print("3. The Hessian of the cost, 4 × 4");
    const hFwdRev = hessian((t) => cost(t))(theta);
    const hRevRev = jacrev((t) => grad((u) => cost(u))(t))(theta) as Tensor;
    const hFd = finiteDifferences((t) => grad((u) => cost(u))(t), theta);
    rows(hFwdRev, print);
    const asymmetry = maxGap(hFwdRev, hFwdRev.T);
    print(
      `   forward over reverse (hessian) vs reverse over reverse ${maxGap(hFwdRev, hRevRev).toExponential(1)}, vs finite differences of the gradient ${maxGap(hFwdRev, hFd).toExponential(1)}; symmetric to ${asymmetry.toExponential(1)}`,
    );
    const v = tensor([1, 0, 0, 0]);
    const hv = jvp(
      grad((t: Tensor) => cost(t)),
      [theta],
      [v],
    ).tangent;
    print(`   H·e_w¹ without forming H (jvp of grad): [${Array.from(hv.data, (x) => x.toFixed(6)).join(", ")}]`);
    print("");
    print("4. Per-example gradients: vmap(grad) over five inputs at once");
    const xs = tensor([0.1, 0.3, 0.5, 0.7, 0.9]);
    const perExample = vmap((x: Tensor) => grad((t: Tensor) => cost(t, x))(theta))(xs);
    rows(perExample, print);
    print("   the row for x = 0.5 is the gradient of part 2.");
    return {
      jacobian: jRev.toArray(),
      jacobianGaps: [maxGap(jRev, jFwd), maxGap(jRev, jFd)],
      gradient: g.toArray(),
      hessian: hFwdRev.toArray(),
      hessianGaps: [maxGap(hFwdRev, hRevRev), maxGap(hFwdRev, hFd), asymmetry],
      hv: Array.from(hv.data),
      perExample: perExample.toArray(),
    };
  },
};
