/**
 * @file Matrix-product kernels on raw typed arrays: C = op(A)·op(B), where op(X) is X or Xᵀ.
 * Handling the transposes inside the loops (rather than copying a transposed operand) is what
 * keeps the backward pass, which needs G·Bᵀ and Aᵀ·G, as fast as the forward one.
 *
 * Two implementations of one contract: `gemmJs`, plain loops that are the reference and the
 * fallback, and `gemmWasm`, the WebAssembly SIMD kernels of gemm.wat. `gemm` picks one per call.
 * In Node, `setGemmThreads` lets large products share out bands of their result to worker threads.
 * Imports errors.ts and the generated module bytes (gemm-wasm.generated.ts); node:worker_threads
 * only when threads are asked for, through #worker-threads (a stand-in that explains in browsers).
 */

import { workerThreads } from "#worker-threads";
import { ChainruleError } from "../errors.js";
import type { FloatArray } from "../ndarray.js";
import {
  gemmWasmBase64,
  gemmWasmRelaxedBase64,
  gemmWasmRelaxedSharedBase64,
  gemmWasmSharedBase64,
} from "./gemm-wasm.generated.js";

export type { FloatArray };

/** The signature shared by `gemm`, `gemmJs` and `gemmWasm`. */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  b: FloatArray,
  bOff: number,
  c: FloatArray,
  cOff: number,
) => void;

/**
 * C[m×n] = op(A)·op(B), overwriting C. A is stored row-major as [m×k] (or [k×m] when transA),
 * B as [k×n] (or [n×k] when transB); offsets locate one matrix of a batch inside each array.
 * All three arrays share one dtype. Every product is formed and added (no zero is skipped), so
 * NaN and ±∞ propagate as in the textbook triple loop; only the order of the additions differs.
 *
 * @example
 * // [2×3]·[3×1]
 * const c = new Float64Array(2);
 * gemm(false, false, 2, 1, 3, Float64Array.of(1, 2, 3, 4, 5, 6), 0, Float64Array.of(1, 0, -1), 0, c, 0);
 * // c = [-2, -2]
 */
export const gemm: Gemm = (transA, transB, m, n, k, a, aOff, b, bOff, c, cOff) => {
  const useWasm =
    backend === "wasm" ||
    backend === "wasm-fused" ||
    (backend === "auto" && m * n * k >= WASM_MIN_WORK && wasmGemm() !== null);
  (useWasm ? gemmWasm : gemmJs)(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff);
};

// ---------------------------------------------------------------------------------------------
// Choosing a backend
// ---------------------------------------------------------------------------------------------

/**
 * "auto": WebAssembly for large products when the engine has SIMD (with fused multiply-adds where
 * it has relaxed SIMD), plain loops otherwise. "wasm": the SIMD kernel without fused
 * multiply-adds for every product, whose sums are bit for bit the textbook loop's. "wasm-fused":
 * the fused kernel for every product where the engine has relaxed SIMD (else "wasm"). "js": the
 * plain loops.
 */
export type GemmBackend = "auto" | "js" | "wasm" | "wasm-fused";

let backend: GemmBackend = "auto";

/**
 * Force one implementation, or return to "auto"; returns the previous one. "wasm" gives results
 * bit for bit those of the textbook loop on every engine (no fused multiply-adds).
 *
 * @example
 * setGemmBackend("wasm"); // reproducible to the bit across engines, relaxed SIMD or not
 */
export function setGemmBackend(next: GemmBackend): GemmBackend {
  const previous = backend;
  backend = next;
  return previous;
}

/**
 * Below this many multiply-adds (m·n·k) the plain loops win: a wasm call has a fixed cost of
 * about 0.25 µs (views, copies, a call into the module), which is all the work of a tiny
 * product. NOTE: measured on Zen 4 with Node 20, the two are even near 8×8×8 in both dtypes;
 * from 10×10×10 on, wasm is faster, and 7–15× faster for the shapes of training.
 */
const WASM_MIN_WORK = 8 * 8 * 8;

// ---------------------------------------------------------------------------------------------
// Plain TypeScript kernel
// ---------------------------------------------------------------------------------------------

/**
 * The reference kernel, used for small products and where WebAssembly SIMD is missing. Element
 * (i, p) of op(A) is a[aOff + i·ars + p·acs], so both layouts of A share the loops; B picks
 * one of two loop orders, each walking B's contiguous direction in the innermost loop.
 *
 * Both loop nests keep a 2×4 block of scalars in registers, which halves the loads per
 * multiply-add of the plain i-p-j loop. Cache blocking does not pay here: at the 2–4 GFLOP/s of
 * scalar code, streaming B from L2 or L3 needs a few GB/s, far below what those caches deliver.
 * NOTE: V8 specialises these loops for the array type it sees; a process that mixes float32 and
 * float64 products runs both about 1.5× slower than one that sticks to one dtype.
 */
export const gemmJs: Gemm = (transA, transB, m, n, k, a, aOff, b, bOff, c, cOff) => {
  if (m === 0 || n === 0) return;
  const ars = transA ? 1 : k;
  const acs = transA ? m : 1;
  if (transB) dotRows(m, n, k, a, aOff, ars, acs, b, bOff, c, cOff);
  else axpyRows(m, n, k, a, aOff, ars, acs, b, bOff, c, cOff);
};

/**
 * C = op(A)·B with B row-major [k×n]: row i of C is Σ_p A(i,p)·(row p of B), so the inner loop
 * runs along rows of B and C. Two rows of C are updated from four rows of B at a time: each
 * loaded B value serves two rows, and C is read and written once per four p.
 */
function axpyRows(
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  ars: number,
  acs: number,
  b: FloatArray,
  bOff: number,
  c: FloatArray,
  cOff: number,
): void {
  c.fill(0, cOff, cOff + m * n);
  const k4 = k - (k % 4);
  for (let i = 0; i < m; i += 2) {
    // an odd last row pairs with itself: both halves of the loop body read it, only one writes
    const pair = i + 1 < m;
    const c0 = cOff + i * n;
    const c1 = pair ? c0 + n : c0;
    const a0 = aOff + i * ars;
    const a1 = pair ? a0 + ars : a0;
    for (let p = 0; p < k4; p += 4) {
      const x0 = a[a0 + p * acs]!;
      const x1 = a[a0 + (p + 1) * acs]!;
      const x2 = a[a0 + (p + 2) * acs]!;
      const x3 = a[a0 + (p + 3) * acs]!;
      const z0 = pair ? a[a1 + p * acs]! : 0;
      const z1 = pair ? a[a1 + (p + 1) * acs]! : 0;
      const z2 = pair ? a[a1 + (p + 2) * acs]! : 0;
      const z3 = pair ? a[a1 + (p + 3) * acs]! : 0;
      const b0 = bOff + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        const y0 = b[b0 + j]!;
        const y1 = b[b1 + j]!;
        const y2 = b[b2 + j]!;
        const y3 = b[b3 + j]!;
        const s1 = z0 * y0 + z1 * y1 + z2 * y2 + z3 * y3;
        c[c0 + j] = c[c0 + j]! + (x0 * y0 + x1 * y1 + x2 * y2 + x3 * y3);
        if (pair) c[c1 + j] = c[c1 + j]! + s1;
      }
    }
    for (let p = k4; p < k; p++) {
      const x = a[a0 + p * acs]!;
      const z = a[a1 + p * acs]!;
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) {
        const y = b[bp + j]!;
        c[c0 + j] = c[c0 + j]! + x * y;
        if (pair) c[c1 + j] = c[c1 + j]! + z * y;
      }
    }
  }
}

/**
 * C = op(A)·Bᵀ with B row-major [n×k]: C(i,j) is the dot product of row i of op(A) with row j
 * of B, contiguous in p. A 2×4 block of C is summed at once, so each loaded value serves two or
 * four products. At the bottom and right edges the missing rows and columns point at the first
 * one of the block: they are computed again and not stored, which keeps a single loop body.
 */
function dotRows(
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  ars: number,
  acs: number,
  b: FloatArray,
  bOff: number,
  c: FloatArray,
  cOff: number,
): void {
  for (let i = 0; i < m; i += 2) {
    const rows = Math.min(2, m - i);
    const a0 = aOff + i * ars;
    const a1 = rows > 1 ? a0 + ars : a0;
    for (let j = 0; j < n; j += 4) {
      const cols = Math.min(4, n - j);
      const b0 = bOff + j * k;
      const b1 = cols > 1 ? b0 + k : b0;
      const b2 = cols > 2 ? b0 + 2 * k : b0;
      const b3 = cols > 3 ? b0 + 3 * k : b0;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      let s10 = 0;
      let s11 = 0;
      let s12 = 0;
      let s13 = 0;
      for (let p = 0, pa = 0; p < k; p++, pa += acs) {
        const x0 = a[a0 + pa]!;
        const x1 = a[a1 + pa]!;
        const y0 = b[b0 + p]!;
        const y1 = b[b1 + p]!;
        const y2 = b[b2 + p]!;
        const y3 = b[b3 + p]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const c0 = cOff + i * n + j;
      storeRow(c, c0, cols, s00, s01, s02, s03);
      if (rows > 1) storeRow(c, c0 + n, cols, s10, s11, s12, s13);
    }
  }
}

/** The first `cols` of four sums, to c[at…]. */
function storeRow(c: FloatArray, at: number, cols: number, s0: number, s1: number, s2: number, s3: number): void {
  c[at] = s0;
  if (cols > 1) c[at + 1] = s1;
  if (cols > 2) c[at + 2] = s2;
  if (cols > 3) c[at + 3] = s3;
}

// ---------------------------------------------------------------------------------------------
// WebAssembly SIMD kernel
// ---------------------------------------------------------------------------------------------

/** The exports of gemm.wat; addresses are byte offsets into `memory`, sizes are in elements. */
interface GemmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  gemm_f32: BlockedGemm;
  gemm_f64: BlockedGemm;
  axpy_f32: Axpy;
  axpy_f64: Axpy;
  relu_f32: (x: number, y: number, n: number) => void;
  relu_f64: (x: number, y: number, n: number) => void;
  relu_grad_f32: (x: number, g: number, out: number, n: number) => void;
  relu_grad_f64: (x: number, g: number, out: number, n: number) => void;
  binary_f32: Binary;
  binary_f64: Binary;
}

/** out = a ∘ b over n elements at byte offsets (op 0…3: add, sub, mul, div); b advances bstep bytes per element. */
type Binary = (op: number, a: number, b: number, out: number, n: number, bstep: number) => void;

/** y ← y + α·x over n elements at byte offsets x and y. */
type Axpy = (x: number, y: number, n: number, alpha: number) => void;

/**
 * C[m0:m1, n0:n1] = op(A)·op(B) there, by gemm.wat's loop nest: op(A)(i, p) at a + (i·ars + p·acs)·size,
 * op(B)(p, j) at b + (j·brs + p·bcs)·size, C with row stride ldc; ap, bp, scratch are the caller's
 * packing buffers and edge tile; KC, MC, NC the cache blocking.
 */
type BlockedGemm = (...args: GemmArgs) => void;
type GemmArgs = [
  m0: number,
  m1: number,
  n0: number,
  n1: number,
  k: number,
  a: number,
  ars: number,
  acs: number,
  b: number,
  brs: number,
  bcs: number,
  c: number,
  ldc: number,
  ap: number,
  bp: number,
  scratch: number,
  KC: number,
  MC: number,
  NC: number,
];

/** The part of the WebAssembly JS API used here (the DOM typings are not part of this build). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: unknown };
}

/** The one instance, with views of its memory that are rebuilt whenever the memory grows. */
interface WasmGemm {
  exports: GemmExports;
  /** The same kernels with fused multiply-adds (relaxed SIMD), on the same memory; null without. */
  fused: Pick<GemmExports, "gemm_f32" | "gemm_f64"> | null;
  f32: Float32Array;
  f64: Float64Array;
}

/**
 * Cache blocking per dtype (see gemm.wat for the loop nest). MR×NR is the register tile, fixed
 * by the micro-kernel. A KC×NR micro-panel of B (16 KiB f32, 8 KiB f64) stays in L1 while the
 * micro-kernel sweeps the MC×KC block of A (128 KiB, 256 KiB), which stays in L2; the KC×NC slab
 * of B streams from L3. NOTE: KC and MC were tuned on Zen 4 (32 KiB L1d, 1 MiB L2) with
 * scripts/bench-gemm.mjs; neighbouring values are within a few per cent.
 */
const BLOCKING = {
  f32: { MR: 4, NR: 8, KC: 512, MC: 64, NC: 4096 },
  f64: { MR: 4, NR: 4, KC: 256, MC: 128, NC: 4096 },
} as const;

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // a 32-bit memory: 4 GiB
const SCRATCH_BYTES = 256; // room for one MR×NR edge tile (4·8·4 or 4·4·8 = 128 bytes)

let instance: WasmGemm | null | undefined; // undefined: not tried yet; null: unavailable

/** The bytes of a module from the generated base64 text. */
function decode(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
}

/** An instance with views of its memory (views must be made again after the memory grows). */
function withViews(exports: GemmExports, fused: WasmGemm["fused"]): WasmGemm {
  return {
    exports,
    fused,
    f32: new Float32Array(exports.memory.buffer),
    f64: new Float64Array(exports.memory.buffer),
  };
}

/**
 * The fused kernels on `memory`, from the relaxed-SIMD build of gemm.wat: null where the engine
 * lacks relaxed SIMD (WebAssembly.validate is false: Node before 22 without
 * --experimental-wasm-relaxed-simd, browsers before 2023).
 */
function fusedOn(api: WasmApi, base64: string, memory: object): WasmGemm["fused"] {
  const bytes = decode(base64);
  try {
    if (!api.validate(bytes)) return null;
    return new api.Instance(new api.Module(bytes), { env: { memory } }).exports as WasmGemm["fused"];
  } catch {
    return null;
  }
}

/** The instantiated module, or null when WebAssembly or its SIMD extension is missing. */
function wasmGemm(): WasmGemm | null {
  if (instance !== undefined) return instance;
  instance = null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  const bytes = decode(gemmWasmBase64);
  try {
    // validate() is false on engines without SIMD. Synchronous compilation keeps gemm synchronous;
    // NOTE: Chromium before about version 115 refuses it on the main thread for modules over
    // 4 KB (ours is about 6 KB), so there the constructor throws and gemm uses gemmJs.
    if (api.validate(bytes)) {
      const exports = new api.Instance(new api.Module(bytes)).exports as GemmExports;
      instance = withViews(exports, fusedOn(api, gemmWasmRelaxedBase64, exports.memory));
    }
  } catch {
    instance = null;
  }
  return instance;
}

/** Whether `gemmWasm` can run here (WebAssembly with SIMD). */
export function hasWasmGemm(): boolean {
  return wasmGemm() !== null;
}

/** Whether the fused kernel can run here (WebAssembly with relaxed SIMD). */
export function hasFusedGemm(): boolean {
  return wasmGemm()?.fused != null;
}

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/**
 * The WebAssembly SIMD kernel, same contract as `gemm`. Copies A and B into the module's memory,
 * computes C there block by block, and copies C out: the copies are O(n²) against O(n³) work.
 * Falls back to `gemmJs` when WebAssembly SIMD is missing or the operands do not fit in the
 * 4 GiB of a 32-bit memory.
 */
export const gemmWasm: Gemm = (transA, transB, m, n, k, a, aOff, b, bOff, c, cOff) => {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    c.fill(0, cOff, cOff + m * n); // every entry is an empty sum
    return;
  }
  // a pool whose worker has exited, or has held a band for over STALL_MS, is retired first
  if (pool !== null) checkPool(pool);
  const w = wasmGemm();
  const f64 = c instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const blocking = f64 ? BLOCKING.f64 : BLOCKING.f32;
  const { MR, NR, KC, MC, NC } = blocking;

  // C is cut into bands: bands of columns whose edges fall on multiples of 64 bytes within a row,
  // or bands of rows when C is taller than wide. One band without worker threads; with them, a
  // few bands per thread, which the threads claim one at a time (see runShared).
  const shared = pool !== null && m * n * k >= THREADS_MIN_WORK ? pool : null;
  const threads = shared === null ? 1 : shared.workers.length + 1;
  const byRows = m > n;
  const span = byRows ? m : n;
  const step = byRows ? MR : 64 / size;
  const wanted = threads === 1 ? 1 : Math.min(threads * BANDS_PER_THREAD, Math.floor(span / MIN_BAND));
  const band = roundUp(Math.ceil(span / Math.max(1, wanted)), step);
  const bands = Math.ceil(span / band);
  const bandM = byRows ? band : m;
  const bandN = byRows ? n : band;

  // memory from `base` on (above what a late worker may still write): per thread, scratch tile |
  // packed A block | packed B slab; then A | B | C, and with threads a second C for the bands
  // this thread takes over from a late worker; all 64-byte aligned
  const base = memoryBase();
  const apBytes = roundUp(roundUp(Math.min(MC, bandM), MR) * Math.min(KC, k) * size, 64);
  const bpBytes = roundUp(roundUp(Math.min(NC, bandN), NR) * Math.min(KC, k) * size, 64);
  const perThread = SCRATCH_BYTES + apBytes + bpBytes;
  const aAt = base + perThread * threads;
  const bAt = aAt + roundUp(m * k * size, 64);
  const cAt = bAt + roundUp(k * n * size, 64);
  const end = cAt + roundUp(m * n * size, 64) * (threads === 1 ? 1 : 2);
  if (w === null || !reserve(w, end)) {
    gemmJs(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff);
    return;
  }
  const heap = f64 ? w.f64 : w.f32;
  heap.set(a.subarray(aOff, aOff + m * k), aAt / size);
  heap.set(b.subarray(bOff, bOff + k * n), bAt / size);

  // op(A)(i, p) is at aAt + (i·ars + p·acs)·size. B is packed as the [n×k] matrix op(B)ᵀ, whose
  // rows j are the columns of C: op(B)(p, j) is at bAt + (j·brs + p·bcs)·size.
  const job: Job = {
    byRows,
    band,
    span,
    m,
    n,
    perThread,
    base,
    apBytes,
    // k, a, ars, acs, b, brs, bcs, c, ldc, then KC, MC, NC (the buffers are each thread's own)
    args: [k, aAt, transA ? 1 : k, transA ? m : 1, bAt, transB ? k : 1, transB ? 1 : n, cAt, n, KC, MC, NC],
  };
  // the fused kernel unless the plain one is asked for (see GemmBackend)
  const fused = backend !== "wasm" && w.fused !== null;
  const kernels = fused ? (w.fused as NonNullable<WasmGemm["fused"]>) : w.exports;
  const kernel = f64 ? kernels.gemm_f64 : kernels.gemm_f32;
  let taken: number[] = [];
  if (shared === null || bands === 1) kernel(...bandArgs(job, 0, 0));
  else taken = runShared(shared, job, bands, (f64 ? 1 : 0) | (fused ? 2 : 0), kernel, end);
  c.set(heap.subarray(cAt / size, cAt / size + m * n), cOff);
  // the bands taken over from a late worker were computed into the second C: copy those instead
  const cmAt = (cAt + roundUp(m * n * size, 64)) / size;
  for (const t of taken) {
    const from = t * band;
    const to = Math.min(span, from + band);
    if (byRows) c.set(heap.subarray(cmAt + from * n, cmAt + to * n), cOff + from * n);
    else for (let i = 0; i < m; i++) c.set(heap.subarray(cmAt + i * n + from, cmAt + i * n + to), cOff + i * n + from);
  }
};

/** Grow the module's memory to at least `bytes` (views included); false if that is impossible. */
function reserve(w: WasmGemm, bytes: number): boolean {
  const have = w.exports.memory.buffer.byteLength;
  if (bytes <= have) return true;
  if (bytes > MAX_BYTES) return false;
  const needed = Math.ceil((bytes - have) / PAGE);
  // at least double, so that a run of ever larger products does not grow (and copy) every time;
  // if the engine cannot give that much, ask for just what is needed
  const doubled = Math.max(needed, Math.min(have, MAX_BYTES - have) / PAGE);
  if (!tryGrow(w, doubled) && !tryGrow(w, needed)) return false;
  Object.assign(w, withViews(w.exports, w.fused));
  return true;
}

function tryGrow(w: WasmGemm, pages: number): boolean {
  try {
    w.exports.memory.grow(pages);
    return true;
  } catch {
    return false; // RangeError: over the engine's limit or out of memory
  }
}

// ---------------------------------------------------------------------------------------------
// Worker threads
// ---------------------------------------------------------------------------------------------

/**
 * Below this many multiply-adds a product stays on one thread: handing a band to a worker and
 * waiting for it costs tens of microseconds. NOTE: 2²¹ (a 128×128×128 product) takes about
 * 0.1 ms on one core of Zen 4; the big products of a training step are 10–100 times that.
 */
const THREADS_MIN_WORK = 2 ** 21;

/**
 * Bands per thread of a shared product. The threads claim bands one at a time, so a thread that
 * is late (asleep, or sharing its core with another process) takes fewer of them, and this thread
 * takes over a band that a worker holds for too long (see runShared). More bands balance better
 * and make a band taken over cheaper, but pack the other operand once per band (see MIN_BAND).
 */
const BANDS_PER_THREAD = 4;

/**
 * The narrowest band, in columns (or rows) of C: each band packs all of the other operand again,
 * about as costly as 1/MIN_BAND of the band's multiply-adds times a few, so narrower bands lose
 * more to packing than they gain in balance. NOTE: measured with scripts/bench-threads.mjs on 2
 * cores of a Xeon: with 64, two threads gave 1.74× one thread at n = 512 and 1.79× at 1024; with
 * 32 or 128, 0.5–1.7× in rounds of the same runs (a busy host; 64 was best in each).
 */
const MIN_BAND = 64;

/**
 * How long this thread waits for a band that a worker holds, in units of the shortest band it
 * computed itself, counted from when the worker started it: a worker running at full speed is
 * done within one unit; one that has not finished after PATIENCE units is late (its core is
 * busy, or it sleeps, hangs or died), and this thread computes the band itself.
 */
const PATIENCE = 2;

/**
 * A worker that is still inside a band this long after it was taken over has stopped answering:
 * the pool is retired at the next product. NOTE: a worker sharing its core with another process
 * is back within a few scheduler slices (milliseconds).
 */
const STALL_MS = 1000;

/** A product cut into bands, as runShared hands it out. */
interface Job {
  byRows: boolean;
  band: number;
  span: number;
  m: number;
  n: number;
  /** Where thread 0's scratch tile and packing buffers start; thread t's are t·perThread bytes on. */
  base: number;
  perThread: number;
  apBytes: number;
  /** k, a, ars, acs, b, brs, bcs, c, ldc, KC, MC, NC: what every band shares. */
  args: SharedArgs;
}

/** k, a, ars, acs, b, brs, bcs, c, ldc, KC, MC, NC: the arguments of gemm_f32/f64 every band shares. */
type SharedArgs = [number, number, number, number, number, number, number, number, number, number, number, number];

/** The arguments of gemm_f32/f64 for band t of a job, with the buffers of thread `thread`. */
function bandArgs(job: Job, t: number, thread: number): GemmArgs {
  const from = t * job.band;
  const to = Math.min(job.span, from + job.band);
  const at = job.base + thread * job.perThread;
  const [k, a, ars, acs, b, brs, bcs, c, ldc, KC, MC, NC] = job.args;
  const [m0, m1, n0, n1] = job.byRows ? [from, to, 0, job.n] : [0, job.m, from, to];
  const ap = at + SCRATCH_BYTES;
  return [m0, m1, n0, n1, k, a, ars, acs, b, brs, bcs, c, ldc, ap, ap + job.apBytes, at, KC, MC, NC];
}

/** Worker threads that share the kernels' memory with this thread's `instance`. */
interface Pool {
  workers: GemmWorker[];
  /** The instance with a memory of its own, restored when the threads are stopped. */
  single: WasmGemm | null;
  /** The block of Int32s that every thread of the pool shares (layout below). */
  control: Int32Array;
  /** When each band was started by the worker that holds it (ms, on a clock all threads share). */
  started: Float64Array;
  /** The number of the last job posted: 1, 2, …, MAX_JOB, 1, … */
  job: number;
  /**
   * Jobs with a band taken over from a worker that may still be computing it: until that worker
   * is done, it writes below `end`, so the memory is used only from there on. `at`: since when.
   */
  fences: Array<{ job: number; end: number; at: number }>;
}

let pool: Pool | null = null;
/** The last call of setGemmThreads: each call waits for the one before it. */
let settingThreads: Promise<unknown> = Promise.resolve();

// The shared control block: the number of the job posted; the next band to claim; whether a band
// failed; the kernel (1: float64, 2: fused); the number of bands; bytes of buffers per thread;
// the worker that tests ask to stall; the number of threads; per thread, the job whose band it is
// computing (0: none); per band, its state; then the 19 arguments of gemm_f32/f64 for each band,
// with thread 0's buffers (a worker adds its offset).
const JOB = 0;
const NEXT = 1;
const FAILED = 2;
const KIND = 3;
const BANDS = 4;
const PER_THREAD = 5;
const STALL = 6;
const THREADS = 7;
const MAX_THREADS = 64; // setGemmThreads accepts up to 64
const MAX_BANDS = MAX_THREADS * BANDS_PER_THREAD;
const WORKING = 8;
const STATE = WORKING + MAX_THREADS;
const ARGS = STATE + MAX_BANDS;
/**
 * NEXT holds job·4096 + band: a thread claims band t of job j by moving NEXT from j·4096 + t to
 * j·4096 + t + 1 with compareExchange. A worker that wakes late, after its job was finished and
 * another posted, sees another job number and cannot claim a band of a job it has not read.
 */
const BAND_BITS = 12;
const MAX_JOB = 2 ** (31 - BAND_BITS - 1) - 1;
/**
 * A band's state is job·4 + one of these: claimed but not started yet (FREE), being computed by
 * the worker that claimed it (HELD), finished by it (DONE), or computed by this thread (MINE,
 * its own bands and those it took over). Each change is a compareExchange, so a worker and this
 * thread never both compute a band into C.
 */
const FREE = 0;
const HELD = 1;
const DONE = 2;
const MINE = 3;
/**
 * Checks of a flag before sleeping on it, a few milliseconds: a worker that went to sleep takes
 * tens of microseconds to wake, and in a training step the next product follows within a few
 * milliseconds, so the worker stays awake through a step. NOTE: measured on W3 (2 threads),
 * 0.40–0.44 s per 100 steps with 2·10⁶ checks against 0.36–0.67 s with 10⁵.
 */
const SPIN = 2_000_000;

/** How long this thread spins instead of sleeping while it waits for a worker's band, ms. */
const SPIN_MS = 1;

/** Milliseconds on a clock that every thread of the process reads alike. */
const now = () => performance.timeOrigin + performance.now();

/**
 * A worker's source (CommonJS, run with `eval`): wait for a job, claim its bands one at a time
 * until none is left, and compute each unless this thread took it over first; repeat.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const { module, fusedModule, memory, control, started, index } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fused = fusedModule && new WebAssembly.Instance(fusedModule, { env: { memory } }).exports;
const ctl = new Int32Array(control);
const startedAt = new Float64Array(started);
parentPort.postMessage("ready");
let job = 0;
let computed = 0;
for (;;) {
  // spin a while before sleeping (see SPIN), but only after a job in which this worker computed at
  // least half its share of the bands: one that comes late (its core is busy, or it slept) would
  // only take time from the other threads, this process's among them
  const spins = 2 * computed * ctl[${THREADS}] >= ctl[${BANDS}] ? ${SPIN} : 0;
  for (let spin = 0; spin < spins && Atomics.load(ctl, ${JOB}) === job; spin++);
  Atomics.wait(ctl, ${JOB}, job);
  job = Atomics.load(ctl, ${JOB});
  if (job < 0) break;
  computed = 0;
  for (;;) {
    const word = Atomics.load(ctl, ${NEXT});
    const t = word & ${2 ** BAND_BITS - 1};
    if (word >>> ${BAND_BITS} !== job || t >= Atomics.load(ctl, ${BANDS})) break;
    if (Atomics.compareExchange(ctl, ${NEXT}, word, word + 1) !== word) continue;
    Atomics.store(ctl, ${WORKING} + index, job);
    // the arguments are read before the band is marked held: once it is, the job may be finished
    // without this worker (the band taken over) and the next job's arguments written in their place
    const args = Array.from(ctl.subarray(${ARGS} + 19 * t, ${ARGS} + 19 * t + 19));
    const own = index * ctl[${PER_THREAD}];
    args[13] += own;
    args[14] += own;
    args[15] += own;
    const kind = ctl[${KIND}];
    startedAt[t] = performance.timeOrigin + performance.now();
    if (Atomics.compareExchange(ctl, ${STATE} + t, job * 4 + ${FREE}, job * 4 + ${HELD}) === job * 4 + ${FREE}) {
      // tests stall a worker here, holding a band it does not compute
      if (Atomics.load(ctl, ${STALL}) === index) Atomics.wait(ctl, ${STALL}, index);
      try {
        const k = kind & 2 ? fused : kernels;
        (kind & 1 ? k.gemm_f64 : k.gemm_f32)(...args);
      } catch {
        Atomics.store(ctl, ${FAILED}, 1);
      }
      if (Atomics.compareExchange(ctl, ${STATE} + t, job * 4 + ${HELD}, job * 4 + ${DONE}) === job * 4 + ${HELD}) computed++;
      Atomics.notify(ctl, ${STATE} + t);
    }
    Atomics.store(ctl, ${WORKING} + index, 0);
  }
}
`;

/**
 * Compute the `bands` bands of `job` on the pool. This thread posts the job, claims bands too
 * until none is left, then waits for the bands the workers hold; a band still unfinished
 * PATIENCE band-times after its worker started it is taken over and computed here, into the
 * second C (the worker may still be writing the first). Returns the bands taken over. A worker
 * that dies or hangs thus costs this product at most a little waiting, never the result.
 */
function runShared(p: Pool, job: Job, bands: number, kind: number, kernel: BlockedGemm, end: number): number[] {
  const ctl = p.control;
  p.job = p.job === MAX_JOB ? 1 : p.job + 1;
  const tag = p.job * 4;
  for (let t = 0; t < bands; t++) {
    ctl.set(bandArgs(job, t, 0), ARGS + 19 * t); // addresses past 2³¹ wrap to the same i32 bits
    Atomics.store(ctl, STATE + t, tag + FREE);
  }
  ctl[KIND] = kind;
  ctl[BANDS] = bands;
  ctl[THREADS] = p.workers.length + 1;
  ctl[PER_THREAD] = job.perThread;
  Atomics.store(ctl, FAILED, 0);
  Atomics.store(ctl, NEXT, p.job << BAND_BITS);
  const posted = now();
  Atomics.store(ctl, JOB, p.job);
  Atomics.notify(ctl, JOB);

  let failed = false;
  const compute = (args: GemmArgs) => {
    try {
      kernel(...args);
    } catch {
      failed = true; // the other bands still finish: nothing may write to the memory once gemm returns
    }
  };
  let shortest = Number.POSITIVE_INFINITY;
  for (let t = claim(ctl, p.job, bands); t >= 0; t = claim(ctl, p.job, bands)) {
    Atomics.store(ctl, STATE + t, tag + MINE);
    const t0 = now();
    compute(bandArgs(job, t, 0));
    shortest = Math.min(shortest, now() - t0);
  }

  // the bands the workers claimed: wait for each, or take it over once its worker is late
  // (the shortest: a band during which this thread lost its core says nothing about the work)
  const unit = Number.isFinite(shortest) ? shortest : now() - posted;
  const secondC = job.args[7] + roundUp(job.m * job.n * (kind & 1 ? 8 : 4), 64);
  const taken: number[] = [];
  for (let t = 0; t < bands; t++) {
    let seen = now(); // a band claimed but not started yet counts from when it was first seen
    for (;;) {
      const state = Atomics.load(ctl, STATE + t);
      if (state === tag + DONE || state === tag + MINE) break;
      const since = state === tag + HELD ? (p.started[t] as number) : seen;
      const left = since + PATIENCE * unit - now();
      if (left > 0) {
        // spin while the wait is short (waking from Atomics.wait takes tens of microseconds)
        if (left > SPIN_MS) Atomics.wait(ctl, STATE + t, state, left - SPIN_MS);
        else while (Atomics.load(ctl, STATE + t) === state && now() < since + PATIENCE * unit);
        continue;
      }
      if (Atomics.compareExchange(ctl, STATE + t, state, tag + MINE) === state) {
        const args = bandArgs(job, t, 0);
        args[11] = secondC;
        compute(args);
        taken.push(t);
        break;
      }
      seen = now();
    }
  }
  if (taken.length > 0) p.fences.push({ job: p.job, end, at: now() });
  if (failed || ctl[FAILED] === 1) {
    throw new ChainruleError("matmul", "a thread failed to compute its band of a product");
  }
  return taken;
}

/** Claim the next band of job `job` for this thread; −1 when none is left. */
function claim(ctl: Int32Array, job: number, bands: number): number {
  for (;;) {
    const word = Atomics.load(ctl, NEXT);
    const t = word & (2 ** BAND_BITS - 1);
    if (word >>> BAND_BITS !== job || t >= bands) return -1;
    if (Atomics.compareExchange(ctl, NEXT, word, word + 1) === word) return t;
  }
}

/**
 * The first byte of the kernels' memory that no late worker can still write: 0, unless a worker
 * is still computing a band taken over from it, whose product's memory it may write up to its end.
 */
function memoryBase(): number {
  const p = pool;
  if (p === null || p.fences.length === 0) return 0;
  p.fences = p.fences.filter((f) => p.workers.some((_, i) => Atomics.load(p.control, WORKING + i + 1) === f.job));
  return p.fences.reduce((most, f) => Math.max(most, f.end), 0);
}

/** Retire the pool, with a warning, if a worker has exited or has been inside a band for STALL_MS. */
function checkPool(p: Pool): void {
  if (!p.workers.every((worker) => worker.alive)) {
    retirePool("a worker thread of setGemmThreads exited");
  } else if (memoryBase() > 0 && p.fences.some((f) => now() - f.at > STALL_MS)) {
    retirePool("a worker thread of setGemmThreads stopped answering");
  }
}

/**
 * Stop using the pool: products run on this thread, in the instance with a memory of its own,
 * from now on; the workers are told to stop and terminated, and a warning says why.
 */
function retirePool(reason: string): void {
  const p = pool;
  if (p === null) return;
  pool = null;
  instance = p.single;
  stopWorkers(p).catch(() => {});
  const message = `${reason}; matrix products run on one thread from now on (setGemmThreads starts new workers)`;
  const host = (globalThis as { process?: { emitWarning?: (message: string, type: string) => void } }).process;
  if (typeof host?.emitWarning === "function") host.emitWarning(message, "ChainruleWarning");
  else console.warn(`ChainruleWarning: ${message}`);
}

/** Tell every worker of the pool to stop (also one a test stalled), and end their threads. */
function stopWorkers(p: Pool): Promise<number[]> {
  Atomics.store(p.control, JOB, -1);
  Atomics.notify(p.control, JOB);
  Atomics.store(p.control, STALL, -1);
  Atomics.notify(p.control, STALL);
  return Promise.all(p.workers.map((w) => w.terminate()));
}

/** The part of node:worker_threads used here. */
interface WorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => Thread;
}
interface Thread {
  once(event: "message" | "error" | "exit", listener: (value: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

class GemmWorker {
  private readonly thread: Thread;
  /** Settles once the worker has instantiated the kernels (or failed to start). */
  readonly ready: Promise<void>;
  /** False once the thread has exited or failed (seen when this thread's event loop runs). */
  alive = true;

  constructor(
    threads: WorkerThreads,
    modules: { module: object; fusedModule: object | null },
    memory: object,
    pool: Pool,
    index: number,
  ) {
    this.thread = new threads.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ...modules, memory, control: pool.control.buffer, started: pool.started.buffer, index },
    });
    this.ready = new Promise((resolve, reject) => {
      this.thread.once("message", () => {
        this.thread.unref(); // from now on, an idle worker must not keep the process alive
        resolve();
      });
      this.thread.once("error", (error) => {
        this.alive = false;
        reject(error);
      });
      this.thread.once("exit", (code) => {
        this.alive = false;
        reject(new Error(`exited with code ${code}`));
      });
    });
    this.ready.catch(() => {}); // after start-up a rejection only marks the worker dead
  }

  terminate(): Promise<number> {
    return this.thread.terminate();
  }
}

/**
 * For tests of the pool's failure handling only: make worker `index` (1, 2, …) hold the next band
 * it claims without computing it until released, or end its thread now (its exit is seen once the
 * event loop runs). False when there is no such worker.
 */
export const gemmPoolForTesting = {
  stallWorker(index: number): boolean {
    if (pool === null || index < 1 || index > pool.workers.length) return false;
    Atomics.store(pool.control, STALL, index);
    return true;
  },
  releaseWorker(): void {
    if (pool === null) return;
    Atomics.store(pool.control, STALL, 0);
    Atomics.notify(pool.control, STALL);
  },
  terminateWorker(index: number): boolean {
    const worker = pool?.workers[index - 1];
    if (worker === undefined) return false;
    worker.terminate().catch(() => {});
    return true;
  },
};

/**
 * Compute large matrix products (and their gradients) on `count` threads: this one and
 * `count − 1` worker threads that share the kernels' WebAssembly memory. Each product is cut into
 * a few bands per thread, which the threads claim one at a time; this thread computes every band
 * no worker has claimed, so a busy or sleeping core only means fewer bands for its worker. Every
 * entry is still computed by one thread in the same order, so results are bit for bit those of
 * one thread. Products under about 2²¹ multiply-adds stay on this thread. A worker that dies or
 * stops answering while it holds a band is noticed after a bounded wait (about a second): the
 * product is then computed again on this thread (same bits), the workers are stopped and a
 * warning is emitted. `setGemmThreads(1)` stops the workers. Node only (worker_threads; this
 * thread blocks on Atomics.wait while the workers finish, which browsers forbid on their main
 * thread). Resolves to the number of threads in use.
 *
 * @example
 * await setGemmThreads(2); // a training loop's big products now use two cores
 */
export function setGemmThreads(count: number): Promise<number> {
  const next = settingThreads.then(() => startThreads(count));
  settingThreads = next.catch(() => {});
  return next;
}

async function startThreads(count: number): Promise<number> {
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    const got = typeof count === "string" ? `the string ${JSON.stringify(count)}` : String(count);
    throw new ChainruleError("setGemmThreads", `count must be an integer from 1 to 64, got ${got}`);
  }
  if (pool !== null) {
    const stopping = stopWorkers(pool);
    instance = pool.single;
    pool = null;
    await stopping;
  }
  if (count === 1) return 1;
  const single = wasmGemm();
  if (single === null) {
    throw new ChainruleError("setGemmThreads", "threads need WebAssembly with SIMD, which this engine lacks");
  }
  const nodeVersion = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  if (nodeVersion === undefined || typeof SharedArrayBuffer === "undefined") {
    throw new ChainruleError("setGemmThreads", "threads need Node's worker_threads and SharedArrayBuffer");
  }
  const threads = (await workerThreads()) as WorkerThreads;
  const api = (globalThis as unknown as { WebAssembly: WasmApi & { Memory: new (d: object) => object } }).WebAssembly;
  const module = new api.Module(decode(gemmWasmSharedBase64));
  let memory: object;
  try {
    // NOTE: a shared memory reserves its maximum (4 GiB) of address space up front
    memory = new api.Memory({ initial: 1, maximum: MAX_BYTES / PAGE, shared: true });
  } catch (error) {
    throw new ChainruleError("setGemmThreads", `could not make a shared WebAssembly memory: ${String(error)}`);
  }
  // the fused kernels where the engine has relaxed SIMD (then the workers have them too)
  const fusedBytes = decode(gemmWasmRelaxedSharedBase64);
  const fusedModule = single.fused !== null && api.validate(fusedBytes) ? new api.Module(fusedBytes) : null;
  const shared = withViews(
    new api.Instance(module, { env: { memory } }).exports as GemmExports,
    fusedModule === null ? null : (new api.Instance(fusedModule, { env: { memory } }).exports as WasmGemm["fused"]),
  );
  const next: Pool = {
    workers: [],
    single,
    control: new Int32Array(new SharedArrayBuffer(4 * (ARGS + 19 * MAX_BANDS))),
    started: new Float64Array(new SharedArrayBuffer(8 * MAX_BANDS)),
    job: 0,
    fences: [],
  };
  try {
    for (let i = 1; i < count; i++)
      next.workers.push(new GemmWorker(threads, { module, fusedModule }, memory, next, i));
    await Promise.all(next.workers.map((w) => w.ready));
  } catch (error) {
    await stopWorkers(next);
    throw new ChainruleError("setGemmThreads", `a worker thread did not start: ${String(error)}`);
  }
  pool = next;
  instance = shared;
  return count;
}

/** The number of threads large products run on (1 unless `setGemmThreads` said otherwise). */
export function gemmThreads(): number {
  return pool === null || !pool.workers.every((w) => w.alive) ? 1 : pool.workers.length + 1;
}

/** Below this many elements the copies into the module's memory cost more than the loop saves. */
export const WASM_MIN_ELEMENTS = 1024;

/**
 * y ← y + α·x, elementwise over equal-length arrays of one dtype: an optimizer's update
 * θ ← θ − η·g is α = −η. In float32 the product is rounded to float32 and then the sum, so the
 * SIMD kernel (used for large arrays) and this loop give the same bits.
 */
export function axpy(alpha: number, x: FloatArray, y: FloatArray): void {
  const ran = elementwiseWasm([x, y], y, 1, (k, f64, [xAt, yAt], n) =>
    (f64 ? k.axpy_f64 : k.axpy_f32)(xAt as number, yAt as number, n, alpha),
  );
  if (ran) return;
  const n = y.length;
  const f64 = y instanceof Float64Array;
  if (f64) {
    for (let i = 0; i < n; i++) y[i] = (y[i] as number) + alpha * (x[i] as number);
  } else {
    // float32 arithmetic done in float64: the product of two float32 values is exact in float64,
    // and rounding a float64 sum of two float32 values gives the correctly rounded float32 sum.
    const a = Math.fround(alpha);
    for (let i = 0; i < n; i++) y[i] = (y[i] as number) + Math.fround(a * (x[i] as number));
  }
}

/**
 * ReLU, y = x > 0 ? x : 0 (NaN stays NaN), in the SIMD kernels (the hottest activation of training; a typed-array
 * loop in JavaScript costs about 2 ns an element, the copies in and out and the SIMD loop a
 * fraction of that). For at least WASM_MIN_ELEMENTS elements of one dtype; false when it does not
 * apply, and the caller runs its own loop. Same bits as the rule in rules.ts.
 */
export function reluWasm(x: FloatArray, y: FloatArray): boolean {
  return elementwiseWasm(
    [x],
    y,
    0,
    (k, f64, [xAt], n) => (f64 ? k.relu_f64 : k.relu_f32)(xAt as number, xAt as number, n), // in place
  );
}

/** ReLU's backward step, out = x ≤ 0 ? 0 : g, in the SIMD kernels; as `reluWasm` otherwise. */
export function reluGradWasm(x: FloatArray, g: FloatArray, out: FloatArray): boolean {
  return elementwiseWasm(
    [x, g],
    out,
    1,
    (k, f64, [xAt, gAt], n) =>
      (f64 ? k.relu_grad_f64 : k.relu_grad_f32)(xAt as number, gAt as number, gAt as number, n), // over g
  );
}

const BINARY_CODES: Readonly<Record<string, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

/** Rows shorter than this are left to the loop: each row is a call into the module. */
const MIN_ROW = 64;

/**
 * out = a ∘ b for ∘ = add, sub, mul or div (`op`, as rules.ts names them), in the SIMD kernels:
 * a and out of one length, b of that length, a single number (broadcast), or, with `rows`, one
 * row repeated over a's rows (a bias; at least MIN_ROW long). A JavaScript loop costs 1.5–2 ns an
 * element; the copies in and out and the SIMD loop a fraction of that. Same bits as the rules'
 * loop. False when it does not apply (another op, short or int32 arrays, mixed dtypes): the caller
 * runs its own loop.
 */
export function binaryWasm(op: string, a: FloatArray, b: FloatArray, out: FloatArray, rows = false): boolean {
  const code = BINARY_CODES[op];
  const n = out.length;
  const row = b.length;
  const repeated = rows && row >= MIN_ROW && n % row === 0;
  if (code === undefined || a.length !== n || (row !== n && row !== 1 && !repeated)) return false;
  const f64 = out instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const scalar = row === 1 && n > 1;
  // a number is written 16 bytes wide, so that the kernel's vector load of it is its splat
  const wide = scalar ? (f64 ? new Float64Array(2) : new Float32Array(4)).fill(b[0] as number) : b;
  return elementwiseWasm([a, wide], out, 0, (k, f64, [aAt, bAt], n) => {
    const binary = f64 ? k.binary_f64 : k.binary_f32;
    const [from, to, by] = [aAt as number, (aAt as number) + n * size, row * size];
    if (scalar) binary(code, from, bAt as number, from, n, 0);
    else for (let at = from; at < to; at += by) binary(code, at, bAt as number, at, row, size); // row by row
  });
}

/**
 * out[j] = Σᵣ x[r·cols + j], the sum of x's rows of out's length (a bias's gradient), in the SIMD
 * kernels: rows added to out one after another, in order, as the loop does (same bits). False when
 * it does not apply (rows shorter than MIN_ROW, a short x, mixed dtypes): the caller runs its loop.
 */
export function sumRowsWasm(x: FloatArray, out: FloatArray): boolean {
  const cols = out.length;
  if (cols < MIN_ROW || x.length % cols !== 0) return false;
  const size = out instanceof Float64Array ? 8 : 4;
  return elementwiseWasm([out.fill(0), x], out, 0, (k, f64, [outAt, xAt]) => {
    const binary = f64 ? k.binary_f64 : k.binary_f32;
    const end = (xAt as number) + x.length * size;
    for (let at = xAt as number; at < end; at += cols * size)
      binary(0, outAt as number, at, outAt as number, cols, size);
  });
}

/**
 * An elementwise kernel of gemm.wat over arrays of out's dtype: copies `inputs` into the module's
 * memory one after another (64-byte aligned), runs `run` with their byte offsets and out's
 * length, and copies input `result` back into `out`. False, with nothing done, when no array has
 * WASM_MIN_ELEMENTS elements, for mixed dtypes, the plain backend, or no SIMD: the caller runs its loop.
 */
function elementwiseWasm(
  inputs: FloatArray[],
  out: FloatArray,
  result: number,
  run: (kernels: GemmExports, f64: boolean, at: number[], n: number) => void,
): boolean {
  const n = out.length;
  const work = Math.max(n, ...inputs.map((a) => a.length));
  if (work < WASM_MIN_ELEMENTS || backend === "js" || !inputs.every((a) => a.constructor === out.constructor))
    return false;
  const w = wasmGemm();
  const f64 = out instanceof Float64Array;
  const size = f64 ? 8 : 4;
  let end = memoryBase(); // above what a late worker thread may still write
  const at = inputs.map((a) => {
    const start = end;
    end += roundUp(a.length * size, 64);
    return start;
  });
  if (w === null || !reserve(w, end)) return false;
  const heap = f64 ? w.f64 : w.f32;
  for (let i = 0; i < inputs.length; i++) heap.set(inputs[i] as FloatArray, (at[i] as number) / size);
  run(w.exports, f64, at, n);
  const from = (at[result] as number) / size;
  out.set(heap.subarray(from, from + n));
  return true;
}
