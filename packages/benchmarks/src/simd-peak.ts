/**
 * @file The WebAssembly 128-bit SIMD peak of this machine: a register-only loop of multiply-adds
 * (no memory traffic), the ceiling of any wasm matrix-product kernel here. Two forms: a product
 * then a sum (f32x4.mul + f32x4.add, what plain SIMD offers), and the fused multiply-add of
 * relaxed SIMD (f32x4.relaxed_madd), where the engine has it. W4 reports its GFLOP/s as a share of
 * the form its kernel uses. Imports wabt (assembles the probe), stats.ts.
 */

import wabtInit from "wabt";

import { seconds, summarize } from "./stats.js";

// the WebAssembly JS API (not in the ES2022 typings of this build)
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

/**
 * One probe function: 8 independent accumulators (as the kernel's 8), each step multiplying a
 * broadcast value x by one of two vectors and adding into every accumulator; x moves by ±d between
 * steps so that the engine cannot hoist the products out of the loop. 2 steps per iteration.
 */
function probe(type: "f32x4" | "f64x2", fused: boolean): string {
  const scalar = type === "f32x4" ? "f32" : "f64";
  const step = [0, 1, 2, 3, 4, 5, 6, 7]
    .map((i) =>
      fused
        ? `(local.set $c${i} (${type}.relaxed_madd (local.get $x) (local.get $b${i % 2}) (local.get $c${i})))`
        : `(local.set $c${i} (${type}.add (local.get $c${i}) (${type}.mul (local.get $x) (local.get $b${i % 2}))))`,
    )
    .join("\n");
  const sum = (a: string, b: string) => `(${type}.add ${a} ${b})`;
  const c = (i: number) => `(local.get $c${i})`;
  return `(func (export "${type}") (param $n i32) (result ${scalar})
    (local $x v128) (local $d v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $x (${type}.splat (${scalar}.const 1)))
    (local.set $d (${type}.splat (${scalar}.const 1e-7)))
    (local.set $b0 (${type}.splat (${scalar}.const 0.5)))
    (local.set $b1 (${type}.splat (${scalar}.const 0.25)))
    (loop $l
      ${step}
      (local.set $x (${type}.add (local.get $x) (local.get $d)))
      ${step}
      (local.set $x (${type}.sub (local.get $x) (local.get $d)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (${type}.extract_lane 0 ${sum(sum(sum(c(0), c(1)), sum(c(2), c(3))), sum(sum(c(4), c(5)), sum(c(6), c(7))))}))`;
}

/** Peak GFLOP/s (median [min–max] of 7 samples of ~50 ms) per dtype and form; fused ones null without relaxed SIMD. */
export interface SimdPeak {
  float32: { mulAdd: number; fused: number | null };
  float64: { mulAdd: number; fused: number | null };
  samples: Record<string, number[]>;
}

export async function measureSimdPeak(): Promise<SimdPeak> {
  const wabt = await wabtInit();
  const assemble = (fused: boolean): Uint8Array => {
    const text = `(module ${probe("f32x4", fused)} ${probe("f64x2", fused)})`;
    const parsed = wabt.parseWat("probe.wat", text, { simd: true, relaxed_simd: fused });
    try {
      parsed.resolveNames();
      parsed.validate();
      return parsed.toBinary({}).buffer;
    } finally {
      parsed.destroy();
    }
  };
  const samples: Record<string, number[]> = {};
  const peaks: Record<string, number | null> = {};
  for (const fused of [false, true]) {
    const bytes = assemble(fused);
    for (const [type, lanes, dtype] of [
      ["f32x4", 4, "float32"],
      ["f64x2", 2, "float64"],
    ] as const) {
      const key = `${dtype} ${fused ? "fused" : "mulAdd"}`;
      if (!WebAssembly.validate(bytes)) {
        peaks[key] = null; // no relaxed SIMD in this engine
        continue;
      }
      const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports[type] as (n: number) => number;
      // flops per iteration: 2 steps × 8 accumulators × lanes × (multiply + add)
      const flop = 2 * 8 * lanes * 2;
      const t0 = seconds();
      run(1e6);
      const n = Math.max(1e5, Math.round(1e6 * (0.05 / Math.max(seconds() - t0, 1e-6))));
      samples[key] = [];
      for (let s = 0; s < 7; s++) {
        const t = seconds();
        run(n);
        samples[key].push((n * flop) / (seconds() - t) / 1e9);
      }
      peaks[key] = summarize(samples[key]).median;
    }
  }
  return {
    float32: { mulAdd: peaks["float32 mulAdd"] as number, fused: peaks["float32 fused"] ?? null },
    float64: { mulAdd: peaks["float64 mulAdd"] as number, fused: peaks["float64 fused"] ?? null },
    samples,
  };
}
