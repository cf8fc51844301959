/**
 * @file The issue's targets for chainrule and the peers' figures measured on this machine class
 * (2-core AMD Zen 4), which the table prints as reference columns. Imports result.ts.
 */

import type { CaseResult } from "./result.js";

export interface Target {
  /** "≤" for times, "≥" for GFLOP/s. */
  op: "≤" | "≥";
  value: number;
}

export type Peer = "micrograd" | "PyTorch" | "TF.js";

/** A peer's figure for one metric, in the metric's unit (seconds, or GFLOP/s). */
export interface PeerFigure {
  peer: Peer;
  value: number;
}

/** Peers as measured for the issue: CPython micrograd; PyTorch 1.13, OpenBLAS, one thread; TF.js wasm. */
export const PEER_DESCRIPTIONS: Record<Peer, string> = {
  micrograd: "micrograd on CPython",
  PyTorch: "PyTorch 1.13, OpenBLAS, one thread, as measured for the issue",
  "TF.js": "TensorFlow.js wasm backend, as measured for the issue",
};

const isN = (r: CaseResult, n: number) => r.details.n === n;

/** chainrule's target for this metric, or null. */
export function targetFor(r: CaseResult, key: string): Target | null {
  if (r.engine !== "chainrule") return null;
  switch (r.workload) {
    case "W1":
      return key === "step" ? { op: "≤", value: 0.015 } : null;
    case "W2":
      // the targets are for the nn package; the plain-Tensor variant is measured without one
      return key === "epoch" && r.variant === "nn.MLP" ? { op: "≤", value: r.dtype === "float32" ? 0.16 : 0.3 } : null;
    case "W3":
      return key === "block" ? { op: "≤", value: 0.6 } : null;
    case "W4":
      return /n=(512|1024)$/.test(key) ? { op: "≥", value: r.dtype === "float32" ? 40 : 15 } : null;
    case "W5":
      if (key !== "total" || !isN(r, 1_000_000)) return null;
      return { op: "≤", value: r.variant.startsWith("Value") ? 0.5 : 2 };
    case "W7":
      return null; // compared with exp and tanh in the same rows, and with TF.js in this run
    case "W8":
      return null; // the aims are ratios within the case: vmap vs the loop, jvp vs the forward pass
    case "W6":
      return null; // the target is relative: faster than TF.js measured in the same run (the ratio column)
  }
}

/** chainrule's peak-RSS target in MB for this case, or null. */
export function rssTargetFor(r: CaseResult): number | null {
  if (r.engine !== "chainrule") return null;
  if (r.workload === "W2" && r.variant === "nn.MLP") return 150;
  if (r.workload === "W5" && r.variant.startsWith("Value") && isN(r, 1_000_000)) return 250;
  return null;
}

/** The peers' reference figures for this metric. */
export function peersFor(r: CaseResult, key: string): PeerFigure[] {
  switch (r.workload) {
    case "W1":
      return key === "step" ? [{ peer: "micrograd", value: 1.55 }] : [];
    case "W2":
      return key === "epoch"
        ? [
            { peer: "PyTorch", value: 0.163 },
            { peer: "TF.js", value: 0.76 },
          ]
        : [];
    case "W3":
      return key === "block"
        ? [
            { peer: "PyTorch", value: 0.194 },
            { peer: "TF.js", value: 6.55 },
          ]
        : [];
    case "W4":
      if (r.dtype !== "float32") return [];
      if (key === "forward n=1024")
        return [
          { peer: "PyTorch", value: 100 },
          { peer: "TF.js", value: 31 },
        ];
      return key === "forward+backward n=1024" ? [{ peer: "TF.js", value: 1.1 }] : [];
    case "W5":
      return key === "total" && isN(r, 1_000_000) ? [{ peer: "PyTorch", value: 7.4 }] : [];
    case "W7":
    case "W6":
    case "W8":
      return [];
  }
}

/** Whether a measured value meets a target. */
export function meets(target: Target, value: number): boolean {
  return target.op === "≤" ? value <= target.value : value >= target.value;
}
