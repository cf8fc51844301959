/**
 * @file Micro-benchmark of the gemm kernels on square matrices (workload W4 of the shared
 * benchmark notes): GFLOP/s of the forward product C = A·B (NN) and of the two backward products
 * dA = G·Bᵀ (NT) and dB = Aᵀ·G (TN), in float32 and float64, each counted as 2n³ FLOP. Protocol:
 * one warm-up call, reps = ⌈0.2 s / warm-up time⌉, then 5 samples of `reps` calls (3 when one
 * call takes over 0.5 s); prints the median [min–max] over the samples.
 *
 * Usage: node scripts/bench-gemm.mjs [--backend auto|js|wasm] [--sizes 64,256,512,1024]
 * It imports the built package (dist/), so run the package's build first.
 */

import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "auto" },
    sizes: { type: "string", default: "64,256,512,1024" },
  },
});
const { gemm, setGemmBackend, hasWasmGemm } = await import(new URL("../dist/kernels/matmul.js", import.meta.url).href);
setGemmBackend(values.backend);

const { Random } = await import(new URL("../dist/random.js", import.meta.url).href);

function uniformMatrix(Float, n, random) {
  const x = new Float(n * n);
  for (let i = 0; i < x.length; i++) x[i] = random.uniform(-1, 1);
  return x;
}

/** Seconds per call of `run`, one value per sample, following the W4 protocol. */
function samples(run) {
  let t = performance.now();
  run();
  const warmup = (performance.now() - t) / 1000;
  const reps = Math.max(1, Math.ceil(0.2 / warmup));
  const out = [];
  for (let s = 0; s < (warmup > 0.5 ? 3 : 5); s++) {
    t = performance.now();
    for (let r = 0; r < reps; r++) run();
    out.push((performance.now() - t) / 1000 / reps);
  }
  return out;
}

const fmt = (x) => x.toFixed(1).padStart(5);

console.log(
  `node ${process.version}, backend ${values.backend}, wasm SIMD ${hasWasmGemm() ? "yes" : "no"}, one thread`,
);
console.log("dtype      n  op  GFLOP/s median [min–max]");
for (const [dtype, Float] of [
  ["f32", Float32Array],
  ["f64", Float64Array],
]) {
  for (const n of values.sizes.split(",").map(Number)) {
    const random = new Random(n); // mulberry32, the workloads' generator
    const A = uniformMatrix(Float, n, random);
    const B = uniformMatrix(Float, n, random);
    const G = uniformMatrix(Float, n, random);
    const C = new Float(n * n);
    const products = {
      NN: () => gemm(false, false, n, n, n, A, 0, B, 0, C, 0), // C = A·B
      NT: () => gemm(false, true, n, n, n, G, 0, B, 0, C, 0), // dA = G·Bᵀ
      TN: () => gemm(true, false, n, n, n, A, 0, G, 0, C, 0), // dB = Aᵀ·G
    };
    for (const [op, run] of Object.entries(products)) {
      const gflops = samples(run)
        .map((s) => (2 * n ** 3) / s / 1e9)
        .sort((x, y) => x - y);
      const median = gflops[Math.floor(gflops.length / 2)];
      console.log(
        `${dtype}  ${String(n).padStart(5)}  ${op}  ${fmt(median)} [${fmt(gflops[0]).trim()}–${fmt(gflops.at(-1)).trim()}]`,
      );
    }
  }
}
