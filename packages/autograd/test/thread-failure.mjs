/**
 * @file A worker thread of setGemmThreads fails in the middle of a run; prints what happened as
 * JSON. Run by threads.test.ts in a child process, so that a product that hangs shows up as a
 * timeout instead of blocking the test runner. Runs the built code (dist/).
 *
 *   node thread-failure.mjs killed | stalled
 */

import { gemmPoolForTesting, gemmThreads, gemmWasm, reluWasm, setGemmThreads } from "../dist/kernels/matmul.js";
import { Random } from "../dist/random.js";

const scenario = process.argv[2];
const warnings = [];
process.on("warning", (w) => warnings.push(w.message));

const n = 512;
const random = new Random(5);
const a = Float32Array.from({ length: n * n }, () => random.uniform(-1, 1));
const b = Float32Array.from({ length: n * n }, () => random.uniform(-1, 1));
const product = () => {
  const c = new Float32Array(n * n);
  gemmWasm(false, true, n, n, n, a, 0, b, 0, c, 0);
  return c;
};
const same = (x, y) => x.every((v, i) => Object.is(v, y[i]));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const one = product(); // one thread
await setGemmThreads(2);
product(); // the worker is awake and spinning now
const report = { scenario, threadsBefore: gemmThreads() };
if (scenario === "killed") {
  // the thread ends, but its exit is not seen until the event loop runs: the pool still counts it
  gemmPoolForTesting.terminateWorker(1);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  report.threadsWhileUnseen = gemmThreads();
} else if (scenario === "stalled") {
  gemmPoolForTesting.stallWorker(1);
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
let t0 = performance.now();
report.sameBits = same(product(), one);
report.ms = Math.round(performance.now() - t0);
if (scenario === "stalled") {
  // still stalled: the next products and ReLU use memory above what the worker may still write
  report.sameBitsWhileStalled = same(product(), one);
  const x = Float32Array.from(a.subarray(0, 4096), (v) => v - 0.5);
  const y = new Float32Array(x.length);
  reluWasm(x, y);
  report.reluWhileStalled = y.every((v, i) => v === Math.max(x[i], 0));
  // released, it computes its old band late, while the next product runs
  gemmPoolForTesting.releaseWorker();
  report.sameBitsReleased = same(product(), one);
  report.threadsReleased = gemmThreads();
  // stalled again, and for longer than a second: the pool is retired at the next product
  gemmPoolForTesting.stallWorker(1);
  t0 = performance.now();
  product();
  report.msAgain = Math.round(performance.now() - t0);
  await sleep(1100);
} else {
  await sleep(100); // the exit event arrives
}
report.sameBitsAfter = same(product(), one);
await sleep(10); // warnings arrive
report.threadsAfter = gemmThreads();
report.warnings = warnings;
// a new pool starts after a retired one
report.restarted = await setGemmThreads(2);
report.sameBitsRestarted = same(product(), one);
await setGemmThreads(1);
process.stdout.write(`${JSON.stringify(report)}\n`);
