/**
 * @file Verifying gradients: gradcheck on a function a user wrote, then on a custom operation
 * whose derivative rule is deliberately wrong, showing the report that names the element, the
 * error, and the operation to blame.
 */

import { customOp, gradcheck, type Tensor, tensor } from "@chainrule/autograd";
import type { Example } from "./types.js";

/** softplus(x) = log(1 + eˣ), written stably as max(x, 0) + log(1 + e^(−|x|)). */
function softplus(x: Tensor): Tensor {
  return x.relu().add(x.abs().neg().exp().add(1).log());
}

// y = softplus(x)      correct rule: dy/dx = σ(x); the broken one forgets the chain rule's g
const brokenSoftplus = customOp({
  name: "softplus",
  formula: "∂softplus(x)/∂x = σ(x)",
  forward: (x) => softplus(x),
  backward: (_g, _out, x) => [x.sigmoid()], // wrong: should be g·σ(x)
});

export const example: Example = {
  name: "gradcheck",
  summary: "check a user function's gradient, then catch a deliberately broken custom derivative",
  async run({ print }) {
    const x = tensor(
      [
        [-2.5, 0.3, 1.7],
        [4, -0.1, 0.8],
      ],
      { label: "x" },
    );
    const w = tensor([0.5, -1.2, 2.0], { label: "w" });
    const f = (x: Tensor, w: Tensor) => softplus(x.mul(w)).sum(1).logsumexp();
    const good = gradcheck(f, [x, w]);
    print("1. A function written with built-in ops: f(x, w) = logsumexp(Σⱼ softplus(x ⊙ w))");
    print(good.toString());
    print("");
    const g = (x: Tensor, w: Tensor) =>
      brokenSoftplus(x.mul(w))
        .mul(tensor([1, 2, 3]))
        .sum();
    const bad = gradcheck(g, [x, w]);
    print("2. The same idea through a custom op whose backward forgets to multiply by g:");
    print(bad.toString());
    return { goodOk: good.ok, badOk: bad.ok, blamed: bad.blame?.op ?? null, worst: bad.worst };
  },
};
