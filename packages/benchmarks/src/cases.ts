/**
 * @file Every case of the suite, in the order the table lists them, and how `--quick` and the
 * command line select among them. Imports case.ts, result.ts, workloads/ and peers/.
 */

import type { CaseSpec } from "./case.js";
import { pytorch } from "./peers/pytorch.js";
import { tfjs } from "./peers/tfjs.js";
import { tfjsW6 } from "./peers/tfjs-w6.js";
import type { Engine, WorkloadId } from "./result.js";
import { w1 } from "./workloads/w1.js";
import { w2 } from "./workloads/w2.js";
import { w3 } from "./workloads/w3.js";
import { w4 } from "./workloads/w4.js";
import { w5 } from "./workloads/w5.js";
import { w6 } from "./workloads/w6.js";
import { w7 } from "./workloads/w7.js";
import { w8 } from "./workloads/w8.js";

export const WORKLOADS: readonly WorkloadId[] = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"];

/** chainrule first, then its peers, workload by workload. */
export const CASES: readonly CaseSpec[] = WORKLOADS.flatMap((w) =>
  [...w1, ...w2, ...w3, ...w4, ...w5, ...w6, ...w7, ...w8, ...tfjs, ...tfjsW6, ...pytorch].filter(
    (c) => c.workload === w,
  ),
);

/** Cases too large for --quick: the 10⁶-op chains (the 10⁵ ones carry the same check). */
const NOT_QUICK = new Set([
  "W5/chainrule/Value/N=1e6",
  "W5/chainrule/Tensor0d/N=1e6",
  "W5/pytorch/N=1e6",
  "W4/chainrule/float32/fused", // needs its own process flags
]);

/**
 * The cases that run side by side with a PyTorch peer, in alternating rounds: chainrule's and
 * PyTorch's cases of one workload, dtype and (W5) chain length share a key.
 */
export function pairKey(c: CaseSpec): string | null {
  if (c.engine === "tfjs" || c.workload === "W1") return null;
  const n = c.workload === "W5" ? c.id.split("/").pop() : "";
  return `${c.workload}/${c.dtype}/${n}`;
}

export interface Selection {
  workloads: readonly WorkloadId[];
  engines: readonly Engine[];
  quick: boolean;
}

export function selectCases(selection: Selection): CaseSpec[] {
  return CASES.filter(
    (c) =>
      selection.workloads.includes(c.workload) &&
      selection.engines.includes(c.engine) &&
      !(selection.quick && NOT_QUICK.has(c.id)),
  );
}

export function caseById(id: string): CaseSpec {
  const found = CASES.find((c) => c.id === id);
  if (found === undefined)
    throw new Error(`unknown case ${JSON.stringify(id)}; known: ${CASES.map((c) => c.id).join(", ")}`);
  return found;
}
