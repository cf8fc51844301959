import { expect, test } from "vitest";
import { seedNetwork } from "../src/examples/seed-network.js";

test("seed-network reproduces the worked instance three ways", () => {
  const lines: string[] = [];
  const r = seedNetwork((l) => lines.push(l));
  expect(r.C).toBeCloseTo(0.1670724028061283, 15);
  for (const g of [r.autograd.w2, r.equations.A, r.finiteDifferences.w2]) {
    expect(Math.abs(g - -0.07752193803789256)).toBeLessThan(1e-9);
  }
  for (const g of [r.autograd.w1, r.equations.B, r.finiteDifferences.w1]) {
    expect(Math.abs(g - 0.02268353162862011)).toBeLessThan(1e-9);
  }
  expect(lines.join("\n")).toMatch(/∂C\/∂w² +-0\.0775219380378925/);
});
