/**
 * The pictures and the trace of the seed network, as the examples show them.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, expect, test } from "vitest";
import { runExample } from "./run-example.js";

const dir = mkdtempSync(join(tmpdir(), "chainrule-graph-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runExample;

test("seed-network prints the trace, equations (A) and (B) as chains, and writes the graph", async () => {
  const out = join(dir, "seed.svg");
  const { text, result } = await run("seed-network", { out });
  expect(result.traceSteps).toBe(9);
  expect(text).toMatch(/step 4 +a2 = σ\(z2\) +∂C\/∂a2 = -0\.5781/);
  expect(text).toMatch(/∂C\/∂w2 = ∂z2\/∂w2 · ∂a2\/∂z2 · ∂C\/∂a2\n +=.*a1 · σ'\(z2\) · \(a2 − y\)/);
  expect(text).toMatch(/= -0\.07752/);
  expect(text).toMatch(/= 0\.02268/);
  const svg = readFileSync(out, "utf8");
  expect(XMLValidator.validate(svg)).toBe(true);
  for (const name of ["a0", "w1", "b1", "z1", "a1", "w2", "b2", "z2", "a2", "C"]) expect(svg).toContain(`>${name}<`);
});

test("seed-network --step 3 stops the walk-through after step 3", async () => {
  const { text } = await run("seed-network", { step: 3 });
  expect(text).toMatch(/step 3 /);
  expect(text).not.toMatch(/step 4 /);
  expect(text).toMatch(/6 more steps/);
});

test("graph without --out writes into a new temporary folder, not the working directory", async () => {
  const { result } = await run("graph", {});
  const file = result.file as string;
  expect(file.startsWith(tmpdir())).toBe(true);
  expect(dirname(result.mlpFile as string)).toBe(dirname(file));
  expect(XMLValidator.validate(readFileSync(file, "utf8"))).toBe(true);
  rmSync(dirname(file), { recursive: true, force: true });
});

test("graph writes both pictures as valid SVG, the 784–30–10 network in a handful of boxes", async () => {
  const out = join(dir, "g.svg");
  const { result } = await run("graph", { out });
  const seed = readFileSync(out, "utf8");
  const mlp = readFileSync(result.mlpFile as string, "utf8");
  expect(XMLValidator.validate(seed)).toBe(true);
  expect(XMLValidator.validate(mlp)).toBe(true);
  expect(seed.match(/<g id="n\d+" class="node/g)).toHaveLength(result.boxes as number);
  expect(result.mlpBoxes as number).toBeLessThan(15);
  expect(mlp.match(/<g id="[ng]\d+" class="node/g)).toHaveLength(result.mlpBoxes as number);
  expect(mlp).toContain("layers.0");
});
