// Trains a small MLP for many steps with the built package and prints heap sizes after forced
// collections: a graph, cache or registry that grows with the number of steps shows up as growth.
// Run by robustness.test.ts as: node --expose-gc leak-check.mjs <steps>
import { noGrad, Random, randn, tensor } from "../dist/index.js";

const steps = Number(process.argv[2] ?? 10000);
const r = new Random(0);
const x = randn([16, 8], r);
const y = randn([16, 2], r);
const W1 = randn([8, 16], r, { std: 0.3, requiresGrad: true });
const b1 = tensor(new Float64Array(16), { shape: [16], requiresGrad: true });
const W2 = randn([16, 2], r, { std: 0.3, requiresGrad: true });
const params = [W1, b1, W2];
const heap = [];
for (let step = 1; step <= steps; step++) {
  const loss = x.matmul(W1).add(b1).tanh().matmul(W2).sub(y).pow(2).mean();
  for (const p of params) p.zeroGrad();
  loss.backward();
  noGrad(() => {
    for (const p of params) p.addInPlace(p.grad, -0.01);
  });
  if (step === steps / 10 || step === steps) {
    globalThis.gc();
    globalThis.gc();
    heap.push(process.memoryUsage().heapUsed);
  }
}
console.log(JSON.stringify({ early: heap[0], late: heap[1] }));
