/**
 * @file The suite's own test: `--quick` runs every case at reduced size, in this process, and
 * the results must have the reported structure and pass their reference checks. No timing is
 * asserted. Also the command line, the child-process measurement, and the rule that a failed
 * check hides the time.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { CaseSpec } from "../src/case.js";
import { CASES, selectCases } from "../src/cases.js";
import type { SuiteResult } from "../src/result.js";
import { parseArgs } from "../src/run.js";
import { mergeRounds, runMeasured, runSuite, schedule, toResult } from "../src/suite.js";
import { allPassed, COLUMNS, renderReport, tableRows } from "../src/table.js";

describe("--quick, every case in process", () => {
  let suite: SuiteResult;
  beforeAll(async () => {
    suite = await runSuite({
      workloads: ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"],
      engines: ["chainrule", "tfjs"],
      quick: true,
      samples: null,
      isolate: false,
      log: () => {},
    });
  }, 120_000);

  test("runs the quick selection: both engines on every workload", () => {
    const ids = suite.cases.map((c) => c.id);
    expect(ids).toEqual(
      selectCases({
        workloads: ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"],
        engines: ["chainrule", "tfjs"],
        quick: true,
      }).map((c) => c.id),
    );
    for (const w of ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]) {
      expect(ids.some((id) => id.startsWith(`${w}/chainrule`))).toBe(true);
      if (w !== "W8") expect(ids.some((id) => id.startsWith(`${w}/tfjs`))).toBe(true); // W8: chainrule's transforms only
    }
  });

  test("every case passes its reference checks and reports a summary for every metric", () => {
    for (const r of suite.cases) {
      expect(r.error, r.id).toBeNull();
      expect(r.checks.length, r.id).toBeGreaterThan(0);
      for (const c of r.checks) expect(c.ok, `${r.id}: ${c.name} = ${c.measured}, expected ${c.expected}`).toBe(true);
      expect(r.metrics.length, r.id).toBeGreaterThan(0);
      for (const m of r.metrics) {
        expect(m.samples.length, `${r.id} ${m.key}`).toBeGreaterThan(0);
        expect(m.summary?.n, `${r.id} ${m.key}`).toBe(m.samples.length);
        expect(m.summary!.min).toBeLessThanOrEqual(m.summary!.median);
        expect(m.summary!.median).toBeLessThanOrEqual(m.summary!.max);
      }
      expect(r.peakRssMB).toBeGreaterThan(0);
    }
    expect(allPassed(suite)).toBe(true);
  });

  test("the W1 step-0 loss is micrograd's, bit for bit, even in quick mode", () => {
    const w1 = suite.cases.find((c) => c.id === "W1/chainrule/float64")!;
    expect(w1.details.lossFirst).toBe(1.334372004083486);
  });

  test("the table has one row per reported metric, every row with all columns", () => {
    const rows = tableRows(suite);
    const reported = suite.cases.reduce(
      (n, r) => n + r.metrics.filter((m) => m.key !== "forward" && m.key !== "backward").length,
      0,
    );
    expect(rows).toHaveLength(reported);
    for (const row of rows) {
      expect(row).toHaveLength(COLUMNS.length);
      expect(row[COLUMNS.indexOf("check")]).toBe("ok");
    }
    const report = renderReport(suite);
    expect(report).toContain(`| ${COLUMNS.join(" | ")} |`);
    expect(report).toContain("--quick");
  });

  test("the JSON round-trips", () => {
    const copy = JSON.parse(JSON.stringify(suite)) as SuiteResult;
    expect(copy.cases.map((c) => c.id)).toEqual(suite.cases.map((c) => c.id));
    expect(copy.environment.node).toBe(process.version);
  });
});

test("a failed reference check hides the time and the table says FAILED", () => {
  const spec = CASES.find((c) => c.id === "W2/chainrule/float64") as CaseSpec;
  const output = {
    metrics: [{ key: "epoch", unit: "s" as const, per: "epoch", samples: [0.2, 0.3, 0.25] }],
    checks: [{ name: "test accuracy after epoch 1", measured: 0.7, expected: "0.7245", ok: false }],
    details: {},
    notes: [],
  };
  const failed = toResult(spec, output, null, 1);
  expect(failed.metrics[0]!.summary).toBeNull();
  const suite: SuiteResult = { startedAt: "", quick: false, environment: {}, cases: [failed] };
  const [row] = tableRows(suite);
  expect(row![COLUMNS.indexOf("median [min–max]")]).toBe("FAILED");
  expect(row![COLUMNS.indexOf("check")]).toContain("measured 0.7, expected 0.7245");
  expect(allPassed(suite)).toBe(false);

  const passed = toResult(spec, { ...output, checks: [{ ...output.checks[0]!, ok: true }] }, null, 1);
  expect(passed.metrics[0]!.summary).toEqual({ median: 0.25, min: 0.2, max: 0.3, n: 3 });
});

test("the command line", () => {
  expect(parseArgs(["W2"])).toMatchObject({
    workloads: ["W2"],
    engines: ["chainrule", "tfjs", "pytorch"],
    quick: false,
    rounds: 3,
  });
  expect(parseArgs(["--engine", "pytorch", "--rounds", "5"])).toMatchObject({ engines: ["pytorch"], rounds: 5 });
  expect(() => parseArgs(["--rounds", "0"])).toThrow(/positive integer/);
  expect(() => parseArgs(["--engine", "numpy"])).toThrow(/chainrule, tfjs or pytorch/);
  expect(parseArgs(["--quick", "w5", "--json", "out.json", "--samples", "4", "--engine", "tfjs"])).toMatchObject({
    workloads: ["W5"],
    engines: ["tfjs"],
    quick: true,
    json: "out.json",
    samples: 4,
    isolate: true,
  });
  expect(parseArgs([]).workloads).toEqual(["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]);
  expect(() => parseArgs(["W9"])).toThrow(/unknown argument/);
  expect(() => parseArgs(["--samples", "0"])).toThrow(/positive integer/);
});

test("a child process's peak RSS is measured, and a crash is reported", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-bench-test-"));
  try {
    const script = join(dir, "child.mjs");
    // Holds ~64 MB so the peak is visibly above a bare node.
    writeFileSync(script, "const b = Buffer.alloc(64 * 2 ** 20, 1); console.log(b[0]);\n");
    const ok = await runMeasured([script], false);
    expect(ok.code).toBe(0);
    if (existsSync("/usr/bin/time")) expect(ok.maxRssKB! / 1024).toBeGreaterThan(64);
    writeFileSync(script, "throw new RangeError('boom');\n");
    const crashed = await runMeasured([script], false);
    expect(crashed.code).not.toBe(0);
    expect(crashed.outputTail).toContain("RangeError: boom");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's table covers every case of a full run", () => {
  const readme = new URL("../README.md", import.meta.url);
  if (!existsSync(readme)) return;
  const text = readFileSync(readme, "utf8");
  for (const c of selectCases({
    workloads: ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"],
    engines: ["chainrule", "tfjs", "pytorch"],
    quick: false,
  })) {
    expect(text, c.id).toContain(`${c.engine} (${c.variant})`);
  }
});

test("without a python3 that imports torch, the suite says so and runs the rest", async () => {
  const saved = process.env.CHAINRULE_BENCH_PYTHON;
  process.env.CHAINRULE_BENCH_PYTHON = "/nonexistent/python3";
  try {
    const suite = await runSuite({
      workloads: ["W5"],
      engines: ["chainrule", "pytorch"],
      quick: true,
      samples: null,
      isolate: false,
      log: () => {},
    });
    expect(suite.environment.pytorch).toMatch(/^not run: no python3 that can import torch/);
    expect(suite.cases.map((c) => c.id)).toEqual(["W5/chainrule/Value/N=1e5", "W5/chainrule/Tensor0d/N=1e5"]);
    expect(allPassed(suite)).toBe(true);
  } finally {
    if (saved === undefined) delete process.env.CHAINRULE_BENCH_PYTHON;
    else process.env.CHAINRULE_BENCH_PYTHON = saved;
  }
});

test("cases with a PyTorch peer run in alternating rounds; the rounds pool their samples", () => {
  const cases = selectCases({ workloads: ["W3", "W5"], engines: ["chainrule", "tfjs", "pytorch"], quick: true });
  const order = schedule(cases, 2).map(({ spec, round }) => `${round}:${spec.id}`);
  expect(order).toEqual([
    "0:W3/chainrule/float32",
    "0:W3/chainrule/float32/2-threads",
    "0:W3/pytorch/float32",
    "1:W3/pytorch/float32",
    "1:W3/chainrule/float32/2-threads",
    "1:W3/chainrule/float32",
    "0:W3/tfjs/float32",
    "0:W5/chainrule/Value/N=1e5",
    "0:W5/chainrule/Tensor0d/N=1e5",
    "0:W5/pytorch/N=1e5",
    "1:W5/pytorch/N=1e5",
    "1:W5/chainrule/Tensor0d/N=1e5",
    "1:W5/chainrule/Value/N=1e5",
    "0:W5/tfjs/scalar/N=1e5",
  ]);
  // without PyTorch cases, every case runs once
  expect(
    schedule(
      cases.filter((c) => c.engine !== "pytorch"),
      3,
    ).every((r) => r.round === 0),
  ).toBe(true);

  const spec = CASES.find((c) => c.id === "W2/chainrule/float64") as CaseSpec;
  const round = (samples: number[], ok: boolean, rss: number) => {
    const r = toResult(
      spec,
      {
        metrics: [{ key: "epoch", unit: "s", per: "epoch", samples }],
        checks: [{ name: "test accuracy after epoch 1", measured: 0.7245, expected: "0.7245", ok }],
        details: {},
        notes: [],
      },
      null,
      1,
    );
    r.peakRssMB = rss;
    return r;
  };
  const merged = mergeRounds([round([0.3, 0.1], true, 100), round([0.2], true, 120)]);
  expect(merged.metrics[0]!.samples).toEqual([0.3, 0.1, 0.2]);
  expect(merged.metrics[0]!.summary).toEqual({ median: 0.2, min: 0.1, max: 0.3, n: 3 });
  expect(merged.peakRssMB).toBe(120);
  expect(merged.details.roundMedians).toEqual({ epoch: [0.2, 0.2] });
  // one failed round fails the case, and hides the time
  const failed = mergeRounds([round([0.3], false, 100), round([0.2], true, 100)]);
  expect(failed.checks[0]!.ok).toBe(false);
  expect(failed.metrics[0]!.summary).toBeNull();
});
