/**
 * @file W6 in its quick form, in this process, for both engines: the cases run, pass their
 * checks (the step-0 loss of each against the float64 network) and report every metric. No
 * timing is asserted.
 */

import { describe, expect, test } from "vitest";
import { runSuite } from "../src/suite.js";

describe("W6 --quick", () => {
  test("chainrule and TF.js train the CNN, with the same step-0 loss as float64, and report their rates", async () => {
    const suite = await runSuite({
      workloads: ["W6"],
      engines: ["chainrule", "tfjs"],
      quick: true,
      samples: null,
      isolate: false,
      log: () => {},
    });
    expect(suite.cases.map((c) => c.id)).toEqual(["W6/chainrule/float32", "W6/tfjs/float32"]);
    for (const r of suite.cases) {
      expect(r.error, r.id).toBeNull();
      for (const c of r.checks) expect(c.ok, `${r.id}: ${c.name} = ${c.measured}`).toBe(true);
      for (const m of r.metrics) expect(m.summary?.median, `${r.id} ${m.key}`).toBeGreaterThan(0);
    }
    const keys = suite.cases[0]!.metrics.map((m) => m.key);
    expect(keys).toEqual([
      "step",
      "conv1 1→6 forward+backward",
      "conv2 6→16 forward+backward",
      "conv 64→64 3×3 forward+backward",
      "matmul n=512 forward+backward",
    ]);
  }, 120_000);
});
