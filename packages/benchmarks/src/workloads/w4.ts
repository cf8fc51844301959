/**
 * @file W4: square matrix products through the Tensor engine. Forward C = A·B (2n³ FLOP), and
 * forward+backward, C = A·B then dA = G·Bᵀ, dB = Aᵀ·G through autograd (6n³ FLOP), at
 * n = 64, 256, 512, 1024 in float32 and float64. The timing protocol (warm-up, reps filling
 * 0.2 s, 5 samples or 3 for slow calls) is shared with the TF.js peer. Imports
 * @chainrule/autograd, case.ts, stats.ts, result.ts.
 */

import { fromStorage, Random } from "@chainrule/autograd";
import type { CaseSpec, RunOptions } from "../case.js";
import type { CaseOutput, Check, Dtype, Metric } from "../result.js";
import { measureSimdPeak, type SimdPeak } from "../simd-peak.js";
import { seconds, summarize } from "../stats.js";

export const W4_SIZES = [64, 256, 512, 1024];

/**
 * WORKLOADS.md's protocol: one warm-up call; reps = ⌈0.2 s / warm-up time⌉; then 5 samples of
 * `reps` calls (3 when one call takes more than 0.5 s). Returns GFLOP/s per sample. `fill`
 * replaces the 0.2 s only in --quick runs, whose numbers are not comparable anyway.
 */
export function gemmProtocol(call: () => void, flop: number, samples: number | null, fill = 0.2): number[] {
  const w0 = seconds();
  call();
  const warm = seconds() - w0;
  const reps = Math.max(1, Math.ceil(fill / warm));
  const count = samples ?? (warm > 0.5 ? 3 : 5);
  const out: number[] = [];
  for (let s = 0; s < count; s++) {
    const t0 = seconds();
    for (let r = 0; r < reps; r++) call();
    const perCall = (seconds() - t0) / reps;
    out.push(flop / perCall / 1e9);
  }
  return out;
}

/** n×n entries uniform(−1, 1) from a seeded stream: content does not matter, denormals would. */
/** W4's two figures at size n: C = A·B (2n³ FLOP) and C, dA, dB (6n³ FLOP), by gemmProtocol. */
export function gemmMetrics(
  n: number,
  forward: () => void,
  forwardBackward: () => void,
  samples: number | null,
  fill: number,
  options: Pick<RunOptions, "log">,
): Metric[] {
  const forwardMetric: Metric = {
    key: `forward n=${n}`,
    unit: "GFLOP/s",
    per: `C = A·B, n=${n}`,
    samples: gemmProtocol(forward, 2 * n ** 3, samples, fill),
  };
  options.log(`  n=${n} forward done`);
  const both: Metric = {
    key: `forward+backward n=${n}`,
    unit: "GFLOP/s",
    per: `C = A·B, dA, dB, n=${n}`,
    samples: gemmProtocol(forwardBackward, 6 * n ** 3, samples, fill),
  };
  options.log(`  n=${n} forward+backward done`);
  return [forwardMetric, both];
}

export function uniformMatrix(n: number, random: Random): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < m.length; i++) m[i] = random.uniform(-1, 1);
  return m;
}

/** C = op(A)·op(B) by the textbook triple loop in float64: the oracle for the checks. */
export function naiveProduct(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  n: number,
  transA: boolean,
  transB: boolean,
): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[transA ? k * n + i : i * n + k]! * b[transB ? j * n + k : k * n + j]!;
      c[i * n + j] = s;
    }
  return c;
}

/** max |got − want| / max |want|: one number for "the product is right" at this precision. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return err / scale;
}

/** Samples and the 0.2 s fill of the protocol: defaults, --samples, or tiny for --quick. */
export function gemmSettings(options: RunOptions): { samples: number | null; fill: number } {
  if (options.quick) return { samples: 3, fill: 0.01 };
  return { samples: options.samples === null ? null : Math.max(3, options.samples), fill: 0.2 };
}

/** The tolerance of a checked product: float32 accumulates ~√n·2⁻²⁴ relative error, float64 far less. */
export function productTolerance(dtype: Dtype): number {
  return dtype === "float32" ? 1e-4 : 1e-12;
}

/** Checks of C, dA = G·Bᵀ and dB = Aᵀ·G at one size against the triple loop. */
export function productChecks(
  dtype: Dtype,
  n: number,
  inputs: { a: Float64Array; b: Float64Array; g: Float64Array },
  results: { c: ArrayLike<number>; dA: ArrayLike<number>; dB: ArrayLike<number> },
): Check[] {
  const round = (m: Float64Array) => (dtype === "float32" ? Float64Array.from(Float32Array.from(m)) : m);
  const a = round(inputs.a);
  const b = round(inputs.b);
  const g = round(inputs.g);
  const tol = productTolerance(dtype);
  const cases: Array<[string, ArrayLike<number>, Float64Array]> = [
    ["C = A·B", results.c, naiveProduct(a, b, n, false, false)],
    ["dA = G·Bᵀ", results.dA, naiveProduct(g, b, n, false, true)],
    ["dB = Aᵀ·G", results.dB, naiveProduct(a, g, n, true, false)],
  ];
  return cases.map(([what, got, want]) => {
    const e = relativeError(got, want);
    return {
      name: `${what} at n=${n} vs a float64 triple loop (relative error)`,
      measured: e,
      expected: `≤ ${tol}`,
      ok: e <= tol,
    };
  });
}

/**
 * The SIMD peak of this machine (simd-peak.ts), measured before and after the products: the
 * larger of the two (a busy host only ever lowers it), for the form the kernel uses here — fused
 * where the engine has relaxed SIMD (the library then uses its fused kernel), else multiply + add.
 */
function peakOf(before: SimdPeak, after: SimdPeak, dtype: Dtype): { form: string; gflops: number } {
  const fused = before[dtype].fused !== null;
  const pick = (p: SimdPeak) => (fused ? (p[dtype].fused as number) : p[dtype].mulAdd);
  return {
    form: fused ? "fused multiply-add (relaxed SIMD)" : "multiply + add",
    gflops: Math.max(pick(before), pick(after)),
  };
}

function runW4(dtype: Dtype, fusedCase = false) {
  return async (options: RunOptions): Promise<CaseOutput> => {
    const peakBefore = await measureSimdPeak();
    const sizes = options.quick ? [64] : W4_SIZES;
    const { samples, fill } = gemmSettings(options);
    const random = new Random(4);
    const metrics: Metric[] = [];
    const checks: Check[] = [];
    const cast = (m: Float64Array) => (dtype === "float32" ? Float32Array.from(m) : m.slice());
    for (const n of sizes) {
      const inputs = { a: uniformMatrix(n, random), b: uniformMatrix(n, random), g: uniformMatrix(n, random) };
      const A = fromStorage(cast(inputs.a), [n, n]);
      const B = fromStorage(cast(inputs.b), [n, n]);
      const G = fromStorage(cast(inputs.g), [n, n]);
      const Ag = fromStorage(A.data, [n, n], { requiresGrad: true });
      const Bg = fromStorage(B.data, [n, n], { requiresGrad: true });
      const forward = () => A.matmul(B);
      const forwardBackward = () => {
        Ag.zeroGrad();
        Bg.zeroGrad();
        Ag.matmul(Bg).backward(G);
      };
      if (n <= 256) {
        forwardBackward();
        checks.push(...productChecks(dtype, n, inputs, { c: forward().data, dA: Ag.grad!.data, dB: Bg.grad!.data }));
      }
      metrics.push(...gemmMetrics(n, forward, forwardBackward, samples, fill, options));
    }
    const peak = peakOf(peakBefore, await measureSimdPeak(), dtype);
    // each figure as a share of the 128-bit SIMD peak of the form the kernel uses
    const shareOfPeak = Object.fromEntries(
      metrics.map((m) => [m.key, Number((summarize(m.samples).median / peak.gflops).toFixed(3))]),
    );
    return {
      metrics,
      checks,
      details: {
        sizes,
        kernel: peakBefore[dtype].fused !== null ? "fused (relaxed SIMD)" : "multiply + add (SIMD)",
        simdPeakGflops: Number(peak.gflops.toFixed(1)),
        simdPeakForm: peak.form,
        shareOfPeak,
      },
      // e.g. --in-process: this process was started without relaxed SIMD
      notes:
        fusedCase && peakBefore[dtype].fused === null
          ? ["relaxed SIMD is not enabled in this process: the plain SIMD kernel was measured"]
          : [],
    };
  };
}

export const w4: CaseSpec[] = [
  ...(["float32", "float64"] as const).map(
    (dtype): CaseSpec => ({
      id: `W4/chainrule/${dtype}`,
      workload: "W4",
      engine: "chainrule",
      variant: "Tensor.matmul",
      dtype,
      run: runW4(dtype),
    }),
  ),
  {
    // the fused kernel, in a process where the engine has relaxed SIMD (Node 22 ships it; Node 20
    // has it behind a V8 flag)
    id: "W4/chainrule/float32/fused",
    workload: "W4",
    engine: "chainrule",
    variant: "Tensor.matmul, relaxed SIMD",
    dtype: "float32",
    run: runW4("float32", true),
    nodeFlags: Number(process.versions.node.split(".")[0]) < 22 ? ["--experimental-wasm-relaxed-simd"] : [],
  },
];
