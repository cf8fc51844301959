/**
 * @file The fused matrix-product kernel (relaxed SIMD's f32x4/f64x2.relaxed_madd in the
 * micro-kernels). Node 20 offers relaxed SIMD only behind a flag, so the check runs in a child
 * process started with it (test/fused-gemm.mjs, on the built code): every entry within the error
 * bound of any summation order against a float64 triple loop, NaN and ∞ propagated, and two
 * threads giving one thread's bits.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

test("the fused kernel stays within the rounding bound of the triple loop, and threads keep its bits", () => {
  const script = fileURLToPath(new URL("./fused-gemm.mjs", import.meta.url));
  if (!existsSync(fileURLToPath(new URL("../dist/kernels/matmul.js", import.meta.url))))
    throw new Error("build the package first (pnpm build): the check runs the built code");
  // Node 22 ships relaxed SIMD; before it, V8 has it behind a flag
  const major = Number(process.versions.node.split(".")[0]);
  const flags = major < 22 ? ["--experimental-wasm-relaxed-simd"] : [];
  const out = execFileSync(process.execPath, [...flags, script], { encoding: "utf8", timeout: 60_000 });
  const r = JSON.parse(out) as {
    fused: boolean;
    worstRatio: number;
    differsFromPlain: number;
    entries: number;
    nanAndInfinity: boolean;
    threadsSameBits: boolean;
  };
  expect(r.fused).toBe(true);
  expect(r.entries).toBeGreaterThan(200_000);
  // every entry: |ĉ − c| ≤ (k + 1)·ε·Σ|a·b|
  expect(r.worstRatio).toBeLessThanOrEqual(1);
  expect(r.nanAndInfinity).toBe(true);
  expect(r.threadsSameBits).toBe(true);
});
