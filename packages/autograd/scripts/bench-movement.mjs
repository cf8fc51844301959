/**
 * @file Micro-benchmark of the rearranging ops (ops/rearrange.ts) and einsum on a large tensor:
 * each op, forward and forward + backward, beside the same result composed from older ops
 * (slices, concat, take, expand, matmul), so that the dedicated kernels' gain is measured rather
 * than assumed. Protocol as bench-gemm.mjs: one warm-up call, reps = ⌈0.2 s / warm-up time⌉, then
 * 5 samples; prints the median [min–max] milliseconds per call.
 *
 * Usage: node scripts/bench-movement.mjs [--shape 16,32,64,64] [--dtype float32|float64]
 * It imports the built package (dist/), so run the package's build first.
 */

import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    shape: { type: "string", default: "16,32,64,64" },
    dtype: { type: "string", default: "float32" },
  },
});
const { concat, einsum, Random, randn, zeros } = await import(new URL("../dist/index.js", import.meta.url).href);

const shape = values.shape.split(",").map(Number);
const dtype = values.dtype;
const random = new Random(1);
const x = randn(shape, random, { dtype });
const last = shape.length - 1;

/** Milliseconds per call of `run`, one value per sample. */
function samples(run) {
  let t = performance.now();
  run();
  const warmup = (performance.now() - t) / 1000;
  const reps = Math.max(1, Math.ceil(0.2 / warmup));
  const out = [];
  for (let s = 0; s < 5; s++) {
    t = performance.now();
    for (let r = 0; r < reps; r++) run();
    out.push((performance.now() - t) / reps);
  }
  return out.sort((a, b) => a - b);
}

const fmt = (ms) => ms.toFixed(2).padStart(8);

/** Forward alone, and forward + backward with a gradient seed of the output's shape. */
function row(name, f) {
  const forward = samples(() => f(x));
  const leaf = x.detach().requireGrad();
  const y0 = f(leaf);
  const seed = randn(y0.shape, random, { dtype });
  const backward = samples(() => {
    leaf.zeroGrad();
    f(leaf).backward(seed);
  });
  const s = (v) => `${fmt(v[2])} [${v[0].toFixed(2)}–${v[4].toFixed(2)}]`;
  console.log(`${name.padEnd(44)} ${s(forward)}   ${s(backward)}`);
}

const along = (t, a, r) => t.slice(...t.shape.map((_, d) => (d === a ? r : null)));
const zerosAlong = (t, a, n) =>
  zeros(
    t.shape.map((d, i) => (i === a ? n : d)),
    { dtype: t.dtype },
  );

console.log(`node ${process.version}, shape [${shape.join(", ")}], ${dtype}; ms per call, median [min–max]`);
console.log(`${"op".padEnd(44)} ${"forward".padStart(22)}   ${"forward + backward".padStart(22)}`);

row("mul by 2 (one pass over the data, for scale)", (t) => t.mul(2));
const widths = shape.map((_, d) => (d >= last - 1 ? [2, 2] : [0, 0]));
row("pad constant, last two axes", (t) => t.pad(widths));
row("  composed: concat with zeros, per axis", (t) => {
  let y = t;
  for (const a of [last - 1, last]) y = concat([zerosAlong(y, a, 2), y, zerosAlong(y, a, 2)], a);
  return y;
});
row("pad reflect, last two axes", (t) => t.pad(widths, { mode: "reflect" }));
row("  composed: take per axis", (t) => {
  let y = t;
  for (const a of [last - 1, last]) {
    const n = y.shape[a];
    const idx = [2, 1, ...Array.from({ length: n }, (_, i) => i), n - 2, n - 3];
    y = y.take(idx, a);
  }
  return y;
});
row("flip, last axis", (t) => t.flip(-1));
row("  composed: slice with step −1", (t) => along(t, last, [null, null, -1]));
row("roll by 3, last axis", (t) => t.roll(3, -1));
row("  composed: concat of two slices", (t) => {
  const n = t.shape[last];
  return concat([along(t, last, [n - 3, n]), along(t, last, [0, n - 3])], last);
});
row("tile [2, 1, …]", (t) => t.tile([2, ...shape.slice(1).map(() => 1)]));
row("  composed: unsqueeze, expand, reshape", (t) =>
  t
    .unsqueeze(0)
    .expand([2, ...shape])
    .reshape([2 * shape[0], ...shape.slice(1)]),
);
row("tril, batched", (t) => t.tril());

const [b0, b1, m, n] = [shape[0], shape[1], shape[2], shape[3]];
const flat = (t) => t.reshape([b0 * b1, m, n]);
const other = randn([b0 * b1, n, m], random, { dtype });
row("einsum bij,bjk->bik", (t) => einsum("bij,bjk->bik", flat(t), other));
row("  matmul", (t) => flat(t).matmul(other));
row("einsum bij,bkj->bik (transpose flag)", (t) => einsum("bij,bkj->bik", flat(t), flat(t)));
row("  matmul with .T", (t) => flat(t).matmul(flat(t).T));
row("einsum bii->b (trace)", (t) => einsum("bii->b", flat(t)));
