/**
 * @file W8: the function transforms on W2's 784–30–10 sigmoid network (gaussian12 weights from
 * seed 2, quadratic cost). Per-example gradients of a batch of 64 MNIST digits, by
 * `vmap(grad(loss))` against a loop of 64 `grad` calls (the issue's aim: the vmap 5× faster), and a
 * jvp of the network's forward pass on the batch against the forward pass alone (aim: ≤ 2×). The
 * checks: every per-example gradient of the vmap equals the loop's to 1e-12, and the jvp's tangent
 * equals a central finite difference. Imports @chainrule/autograd, @chainrule/datasets, case.ts,
 * stats.ts, result.ts, mnist.ts.
 */

import { grad, jvp, noGrad, Random, randn, type Tensor, vmap } from "@chainrule/autograd";
import { mnistBatch } from "@chainrule/datasets";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput, Check, Metric } from "../result.js";
import { timeCalls } from "../stats.js";
import { canonicalMnist } from "./mnist.js";

/** ½‖σ(W²σ(W¹x + b¹) + b²) − y‖² for one example x [784], y [10]. */
function loss(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, y: Tensor): Tensor {
  const a1 = w1.matmul(x).add(b1).sigmoid();
  return w2.matmul(a1).add(b2).sigmoid().sub(y).pow(2).sum().mul(0.5);
}

/** The network's output for a batch X [B, 784]: [B, 10]. */
function forward(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, X: Tensor): Tensor {
  return X.matmul(w1.T).add(b1).sigmoid().matmul(w2.T).add(b2).sigmoid();
}

async function run(options: RunOptions): Promise<CaseOutput> {
  const random = new Random(2);
  const w1 = randn([30, 784], random);
  const b1 = randn([30], random);
  const w2 = randn([10, 30], random);
  const b2 = randn([10], random);
  const m = canonicalMnist();
  const batch = options.quick ? 8 : 64;
  const [X, Y] = mnistBatch(m.images, m.labels, { start: 0, end: batch }, "float64");
  const count = sampleCount(options, 9, 2);
  const g = grad(loss, [0, 1, 2, 3]);
  const perExample = () => vmap((x: Tensor, y: Tensor) => g(w1, b1, w2, b2, x, y))(X, Y) as unknown as Tensor[];
  const row = (t: Tensor, i: number) => t.slice([i, i + 1]).reshape(t.shape.slice(1) as number[]);
  const loop = () => Array.from({ length: batch }, (_, i) => g(w1, b1, w2, b2, row(X, i), row(Y, i)));

  // check: the batched gradients are the loop's
  const batched = perExample();
  const looped = loop();
  let worst = 0;
  looped.forEach((grads, i) => {
    grads.forEach((gi, k) => {
      worst = Math.max(
        worst,
        row(batched[k] as Tensor, i)
          .sub(gi)
          .abs()
          .max()
          .item(),
      );
    });
  });
  // check: the jvp's tangent is a central difference of the forward pass
  const V = randn([batch, 784], new Random(3));
  const f = (x: Tensor) => forward(w1, b1, w2, b2, x);
  const { tangent } = jvp(f, [X], [V]);
  const h = 1e-6;
  const numeric = noGrad(() =>
    f(X.add(V.mul(h)))
      .sub(f(X.sub(V.mul(h))))
      .div(2 * h),
  );
  const jvpError = tangent.sub(numeric).abs().max().item();
  const checks: Check[] = [
    {
      name: "per-example gradients: vmap(grad) vs a loop of grad (largest difference)",
      measured: worst,
      expected: "≤ 1e-12",
      ok: worst <= 1e-12,
    },
    {
      name: "jvp of the forward pass vs a central difference (largest difference)",
      measured: jvpError,
      expected: "≤ 1e-6",
      ok: jvpError <= 1e-6,
    },
  ];
  const metrics: Metric[] = [
    {
      key: "vmap(grad)",
      unit: "s",
      per: `per-example gradients of ${batch}, vmap(grad)`,
      samples: timeCalls(perExample, count),
    },
    {
      key: "loop of grad",
      unit: "s",
      per: `per-example gradients of ${batch}, a loop of grad`,
      samples: timeCalls(loop, count),
    },
    {
      key: "forward",
      unit: "s",
      per: `forward pass of ${batch}`,
      samples: timeCalls(() => noGrad(() => f(X)), count * 5),
    },
    {
      key: "jvp",
      unit: "s",
      per: `jvp of the forward pass of ${batch}`,
      samples: timeCalls(() => jvp(f, [X], [V]), count * 5),
    },
  ];
  options.log("  transforms done");
  return { metrics, checks, details: { batch, samples: count }, notes: [] };
}

export const w8: CaseSpec[] = [
  {
    id: "W8/chainrule/float64",
    workload: "W8",
    engine: "chainrule",
    variant: "vmap, grad, jvp",
    dtype: "float64",
    run,
  },
];
