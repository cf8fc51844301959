/**
 * Every example runs in its quick mode, and what it prints and returns holds.
 */
import { describe, expect, test } from "vitest";
import { examples } from "../src/registry.js";

async function run(name: string) {
  const example = examples.find((e) => e.name === name);
  if (example === undefined) throw new Error(`no example ${name}`);
  const lines: string[] = [];
  const result = await example.run({ print: (l) => lines.push(l), quick: true, seed: 1 });
  return { text: lines.join("\n"), result };
}

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

  test("every example has a unique name and a summary", () => {
    const names = examples.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of examples) expect(e.summary.length).toBeGreaterThan(10);
  });
});
