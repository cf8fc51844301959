/**
 * Every example runs in its quick mode, and what it prints and returns holds.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import { ASCII_COLS, ASCII_ROWS } from "../src/examples/moons.js";
import { examples } from "../src/registry.js";
import { runExample } from "./run-example.js";

const run = (name: string) => runExample(name, { seed: 1 });

describe("examples", () => {
  test("seed-network: scalar and matrix forms agree with the equations", async () => {
    const { text, result } = await run("seed-network");
    expect(text).toMatch(/∂C\/∂w² +-0\.0775219380378925/);
    expect(text).toMatch(/The matrix form/);
    expect(result.maxDifference).toBeLessThan(1e-15);
  });

  test("gradcheck: passes the good function, blames the broken custom op", async () => {
    const { text, result } = await run("gradcheck");
    expect(result.goodOk).toBe(true);
    expect(result.badOk).toBe(false);
    expect(result.blamed).toBe("softplus");
    expect(text).toMatch(/gradcheck passed/);
    expect(text).toMatch(/gradcheck FAILED .* outside tolerance/);
    expect(text).toMatch(/worst: ∂out\/∂\w+ element \[\d/);
    expect(text).toMatch(/blame: the derivative rule of 'softplus'/);
  });

  test("jacobians: three ways agree, (A) and (B) are the gradient's entries, H is symmetric", async () => {
    const { text, result } = await run("jacobians");
    const [fwd, fd] = result.jacobianGaps as number[];
    expect(fwd).toBeLessThan(1e-15);
    expect(fd).toBeLessThan(1e-9);
    const gradient = result.gradient as number[];
    expect(gradient[2]).toBeCloseTo(-0.07752193803789256, 14); // (A)
    expect(gradient[0]).toBeCloseTo(0.02268353162862011, 14); // (B)
    const [revRev, hfd, asym] = result.hessianGaps as number[];
    expect(revRev).toBeLessThan(1e-15);
    expect(hfd).toBeLessThan(1e-8);
    expect(asym).toBeLessThan(1e-15);
    const H = result.hessian as number[][];
    expect(result.hv).toEqual(H.map((row) => row[0]));
    expect((result.perExample as number[][])[2]).toEqual(gradient);
    expect((result.jacobian as number[][])[0]?.slice(2)).toEqual([0, 0]);
    expect(text).toMatch(/forward over reverse \(hessian\)/);
  });

  test("every example has a unique name and a summary", () => {
    const names = examples.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of examples) expect(e.summary.length).toBeGreaterThan(10);
  });
});

// ------------------------------------------------------------------------------------------------
// xor, regression, moons: each runs in quick mode; the tests read what it prints and returns.

const runWith = runExample;

test("xor: the quick run learns XOR and prints a four-row decision table", async () => {
  const { text, result } = await run("xor");
  expect(text).toMatch(/XOR with an MLP 2–4–1 \(sigmoid, sigmoid\), mseLoss, SGD lr 5, 600 steps, seed 1/);
  expect(text).toMatch(/ step +0 {2}loss 0\.\d{6}/);
  expect(result.finalLoss).toBeLessThan(0.01);
  expect(result.stepBelow001).toBeGreaterThan(0); // it had to learn
  const rows = text.split("\n").filter((l) => /^ {3}[01] {3}[01] \| {4}[01] {3}\| \d\.\d{6} \| {3}[01]$/.test(l));
  expect(rows).toHaveLength(4);
  const outputs = result.outputs as number[];
  expect(outputs).toHaveLength(4);
  expect(outputs.map((o) => (o >= 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  // The table prints the returned outputs, class for class.
  rows.forEach((row, i) => {
    expect(row).toContain(outputs[i]!.toFixed(6));
    expect(row.endsWith(String([0, 1, 1, 0][i]))).toBe(true);
  });
  // The same seed reproduces the run bit for bit.
  expect((await run("xor")).result.outputs).toEqual(outputs);
});

test("regression: the quick fit gets near the noise level, charts it, and writes an SVG", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-regression-"));
  try {
    const out = join(dir, "fit.svg");
    const { text, result } = await runWith("regression", { seed: 1, out });
    expect(result.finalLoss).toBeLessThan(0.05); // sin x alone has variance 0.5 over the period
    expect(result.finalLoss).toBeGreaterThan(0.005); // and noise of variance 0.01 cannot be fitted away
    expect(result.trueError).toBeLessThan(0.01);
    expect(text).toMatch(/MLP 1–32–32–1 \(tanh\), 1153 parameters, Adam lr 0\.005, full batch, 200 steps/);
    expect(text).toMatch(/ step +199 {2}loss 0\.0\d{5}/);
    expect(text).toContain("data and fit over x from −π to π");
    expect(text).toMatch(/── data -?\d\.\d+ +── fit -?\d\.\d+/); // the chart's legend
    expect(text.split("\n").filter((l) => /^ *-?\d\.\d+ [┤┼]/.test(l)).length).toBe(15); // 14 rows + 1
    expect(text).toContain(`wrote ${out}`);
    const svg = readFileSync(out, "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("moons: both engines train the W1 model alike, the boundary is drawn in characters and SVG", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-moons-"));
  try {
    const out = join(dir, "moons.svg");
    const { lines, text, result } = await runWith("moons", { out }); // the default seed, 11: W1's
    expect(result.scalarLoss0).toBe(1.334372004083486); // W1's reference loss at step 0, bit for bit
    expect(result.scalarAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(result.tensorAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(result.maxLossDifference).toBeLessThan(1e-12);
    expect(result.disagreements).toBeLessThanOrEqual(5);
    expect(text).toContain("one step's graph has 65,616 nodes");
    expect(text).toMatch(/ step +19 {2}loss 0\.\d{6} {2}accuracy \d\.\d\d/);
    expect(text).toMatch(/speed-up of the tensor engine: \d+(\.\d)?×/);
    // The picture: a frame around ASCII_ROWS lines of ASCII_COLS characters.
    expect([result.pictureRows, result.pictureCols]).toEqual([ASCII_ROWS, ASCII_COLS]);
    const picture = lines.filter((l) => /^ {2}\|[-+OX*]+\|$/.test(l));
    expect(picture).toHaveLength(ASCII_ROWS);
    for (const l of picture) expect(l.length).toBe(ASCII_COLS + 4);
    const drawn = picture.join("");
    expect(drawn).toMatch(/-/);
    expect(drawn).toMatch(/\+/);
    expect((drawn.match(/[OX*]/g) ?? []).length).toBeGreaterThan(50); // 100 points, some sharing a cell
    const svg = readFileSync(out, "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(100);
    expect(svg).toContain("score is &lt; 0"); // text is escaped
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
