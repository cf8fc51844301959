/**
 * @file W5: a chain of N scalar operations, x ← x·1.0000001, x ← x + 0, from the leaf x0 = 1,
 * then backward from the end: the test of an iterative topological sort and of per-node cost.
 * Run with `Value` and with 0-d `Tensor`s, N = 10⁵ and 10⁶. Each rep builds a fresh graph; the
 * previous one is released (and collected) untimed. Imports @chainrule/autograd, case.ts,
 * stats.ts, result.ts.
 */

import { tensor, Value } from "@chainrule/autograd";
import { type CaseSpec, type RunOptions, sampleCount } from "../case.js";
import type { CaseOutput, Check } from "../result.js";
import { collectGarbage, seconds } from "../stats.js";

/** x0.grad by sequential multiplication in float64 (1.0000001 ** (N/2) differs in the last digits). */
export const W5_GRAD: Readonly<Record<number, number>> = { 100000: 1.0050125206110787, 1000000: 1.0512710937785663 };

/** One rep: build the chain, backward, read x0's gradient. */
export type ChainRep = (n: number) => { forwardS: number; backwardS: number; grad: number };

/** The W5 chain on any node type with mul/add by a number: x ← x·1.0000001, x ← x + 0, N/2 times each. */
function chain<N extends { mul(c: number): N; add(c: number): N; backward(): void }>(
  leaf: () => N,
  gradOf: (x0: N) => number,
): ChainRep {
  return (n) => {
    const t0 = seconds();
    const x0 = leaf();
    let x = x0;
    for (let i = 0; i < n / 2; i++) {
      x = x.mul(1.0000001);
      x = x.add(0.0);
    }
    const t1 = seconds();
    x.backward();
    const t2 = seconds();
    return { forwardS: t1 - t0, backwardS: t2 - t1, grad: gradOf(x0) };
  };
}

const valueChain = chain(
  () => new Value(1.0),
  (x0) => x0.grad,
);
const tensorChain = chain(
  () => tensor(1.0, { requiresGrad: true }),
  (x0) => x0.grad!.item(),
);

/** Time `reps` chains of n ops and check that x0.grad is exactly `expected`. */
export function runChain(rep: ChainRep, n: number, reps: number, expected: number, options: RunOptions): CaseOutput {
  const forward: number[] = [];
  const backward: number[] = [];
  const total: number[] = [];
  let grad = Number.NaN;
  for (let r = 0; r < reps; r++) {
    collectGarbage(); // the previous graph is garbage now: release it outside the timed region
    const result = rep(n);
    forward.push(result.forwardS);
    backward.push(result.backwardS);
    total.push(result.forwardS + result.backwardS);
    grad = result.grad;
    options.log(`  rep ${r + 1}: forward ${result.forwardS.toFixed(3)} s, backward ${result.backwardS.toFixed(3)} s`);
  }
  const check: Check = { name: "x0.grad", measured: grad, expected: String(expected), ok: grad === expected };
  return {
    metrics: [
      { key: "total", unit: "s", per: `${n.toExponential(0).replace("+", "")} ops`, samples: total },
      { key: "forward", unit: "s", per: "forward (graph build)", samples: forward },
      { key: "backward", unit: "s", per: "backward", samples: backward },
    ],
    checks: [check],
    details: { n, reps },
    notes: [],
  };
}

function spec(variant: "Value" | "0-d Tensor", rep: ChainRep, n: number): CaseSpec {
  return {
    id: `W5/chainrule/${variant === "Value" ? "Value" : "Tensor0d"}/N=${n.toExponential(0).replace("+", "")}`,
    workload: "W5",
    engine: "chainrule",
    variant: `${variant}, N=${n.toExponential(0).replace("+", "")}`,
    dtype: "float64",
    run: async (options) => runChain(rep, n, sampleCount(options, 3, 1), W5_GRAD[n]!, options),
  };
}

/** In quick mode only the N = 10⁵ cases run. */
export const w5: CaseSpec[] = [
  spec("Value", valueChain, 100_000),
  spec("Value", valueChain, 1_000_000),
  spec("0-d Tensor", tensorChain, 100_000),
  spec("0-d Tensor", tensorChain, 1_000_000),
];
