/**
 * @file One thread against setGemmThreads(2) on square products C = A·Bᵀ (a backward-pass shape),
 * side by side: rounds alternate between the two settings in one process, each round timing a
 * sample of reps that fill about --seconds (default 1), so that both see the same machine. Each
 * round first warms up for a tenth of that: a new pool's worker compiles its code and wakes, and
 * what counts is the steady state of a training run, not the start of a pool (with 0.2 s rounds
 * and one warm-up call, two threads beside a busy loop measured 0.5–0.8× at n ≤ 512; with these
 * settings 1.0–1.15×, the same code). Prints, per size and dtype, GFLOP/s median [min–max] for
 * each and the per-round speed-up of two threads. With
 * --busy, a CPU-bound process (a busy loop) runs beside it for the whole measurement: the case
 * of a second core that is doing something else.
 *
 * Usage: node scripts/bench-threads.mjs [--sizes 128,256,512,1024] [--rounds 7] [--seconds 1] [--busy] [--dtypes f32,f64]
 * It imports the built package (dist/), so run the package's build first.
 */

import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "128,256,512,1024" },
    rounds: { type: "string", default: "7" },
    seconds: { type: "string", default: "1" },
    dtypes: { type: "string", default: "f32" },
    busy: { type: "boolean", default: false },
  },
});
const { gemm, setGemmThreads } = await import(new URL("../dist/kernels/matmul.js", import.meta.url).href);
const { Random } = await import(new URL("../dist/random.js", import.meta.url).href);

const busy = values.busy ? spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }) : null;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs, digits) =>
  `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;

console.log(
  `node ${process.version}, ${values.rounds} alternating rounds per size, C = A·Bᵀ${busy ? ", beside a busy loop" : ""}`,
);
console.log("dtype     n  1 thread GFLOP/s      2 threads GFLOP/s     speed-up per round");
for (const dtype of values.dtypes.split(",")) {
  const Float = dtype === "f64" ? Float64Array : Float32Array;
  for (const n of values.sizes.split(",").map(Number)) {
    const random = new Random(n);
    const A = Float.from({ length: n * n }, () => random.uniform(-1, 1));
    const B = Float.from({ length: n * n }, () => random.uniform(-1, 1));
    const C = new Float(n * n);
    const call = () => gemm(false, true, n, n, n, A, 0, B, 0, C, 0);
    const t = performance.now();
    call();
    const reps = Math.max(1, Math.ceil((1000 * Number(values.seconds)) / (performance.now() - t)));
    const gflops = { 1: [], 2: [] };
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const threads of r % 2 === 0 ? [1, 2] : [2, 1]) {
        await setGemmThreads(threads);
        // warm up for a tenth of the round: the worker compiles its code and wakes
        const warm = performance.now();
        while (performance.now() - warm < 100 * Number(values.seconds)) call();
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) call();
        gflops[threads].push((2 * n ** 3 * reps) / ((performance.now() - t0) / 1000) / 1e9);
      }
    }
    const speedups = gflops[2].map((g, i) => g / gflops[1][i]);
    console.log(
      `${dtype}  ${String(n).padStart(5)}  ${range(gflops[1], 1).padEnd(20)}  ${range(gflops[2], 1).padEnd(20)}  ${range(speedups, 2)}`,
    );
  }
}
await setGemmThreads(1);
busy?.kill();
