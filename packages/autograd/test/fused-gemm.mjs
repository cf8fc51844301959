/**
 * @file The fused (relaxed SIMD) matrix-product kernel against a float64 triple loop; prints what
 * it found as JSON. Run by fused.test.ts in a child process started with relaxed SIMD enabled
 * (Node 20: --experimental-wasm-relaxed-simd), on the built code (dist/).
 */

import { gemmWasm, hasFusedGemm, setGemmBackend, setGemmThreads } from "../dist/kernels/matmul.js";
import { Random } from "../dist/random.js";

const random = new Random(9);
const report = { fused: hasFusedGemm(), worstRatio: 0, differsFromPlain: 0, entries: 0, threadsSameBits: true };

/** op(A)·op(B) by the kernel chosen with `kind` ("wasm" or "wasm-fused"). */
function run(kind, F, transA, transB, m, n, k, a, b) {
  setGemmBackend(kind);
  const c = new F(m * n);
  gemmWasm(transA, transB, m, n, k, a, 0, b, 0, c, 0);
  return c;
}

const shapes = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 9, 33],
  [64, 64, 64],
  [37, 301, 600], // two cache blocks of k in float32, three in float64
  [401, 33, 200],
];
for (const F of [Float32Array, Float64Array]) {
  const eps = F === Float32Array ? 2 ** -23 : 2 ** -52;
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = F.from({ length: m * k }, () => random.uniform(-1, 1));
        const b = F.from({ length: k * n }, () => random.uniform(-1, 1));
        const fused = run("wasm-fused", F, transA, transB, m, n, k, a, b);
        const plain = run("wasm", F, transA, transB, m, n, k, a, b);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            let abs = 0;
            for (let p = 0; p < k; p++) {
              const x = a[transA ? p * m + i : i * k + p] * b[transB ? j * k + p : p * n + j];
              s += x;
              abs += Math.abs(x);
            }
            // any order of k roundings of sums (and none, or one, per product): |ĉ − c| ≤ (k + 1)·ε·Σ|a·b|
            const bound = (k + 1) * eps * abs + 1e-30;
            report.worstRatio = Math.max(report.worstRatio, Math.abs(fused[i * n + j] - s) / bound);
            if (!Object.is(fused[i * n + j], plain[i * n + j])) report.differsFromPlain++;
            report.entries++;
          }
        }
      }
    }
  }
}

// zeros are multiplied, not skipped: 0·∞ = NaN, and ∞ and NaN propagate
report.nanAndInfinity = [Float32Array, Float64Array].every((F) => {
  const a = new F(10).fill(1);
  const b = new F(18).fill(1);
  a[0] = 0;
  b[0] = Number.POSITIVE_INFINITY;
  b[3] = Number.NaN;
  const c = run("wasm-fused", F, false, false, 5, 9, 2, a, b);
  return Number.isNaN(c[0]) && Number.isNaN(c[3]) && c[1] === 1 && c[9] === Number.POSITIVE_INFINITY && c[10] === 2;
});

// on two threads the fused kernel gives one thread's bits
setGemmBackend("wasm-fused");
for (const F of [Float32Array, Float64Array]) {
  const [m, n, k] = [96, 300, 520];
  const a = F.from({ length: m * k }, () => random.uniform(-1, 1));
  const b = F.from({ length: k * n }, () => random.uniform(-1, 1));
  const one = run("wasm-fused", F, false, true, m, n, k, a, b);
  await setGemmThreads(2);
  const two = run("wasm-fused", F, false, true, m, n, k, a, b);
  await setGemmThreads(1);
  report.threadsSameBits &&= one.every((v, i) => Object.is(v, two[i]));
}
setGemmBackend("auto");
process.stdout.write(`${JSON.stringify(report)}\n`);
