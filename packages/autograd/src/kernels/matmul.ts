/**
 * @file Matrix-product kernels on raw typed arrays: C = op(A)·op(B), where op(X) is X or Xᵀ.
 * Handling the transposes inside the loops (rather than copying a transposed operand) is what
 * keeps the backward pass, which needs G·Bᵀ and Aᵀ·G, as fast as the forward one.
 *
 * Two implementations of one contract: `gemmJs`, plain loops that are the reference and the
 * fallback, and `gemmWasm`, the WebAssembly SIMD kernels of gemm.wat. `gemm` picks one per call.
 * In Node, `setGemmThreads` lets large products share out bands of their result to worker threads.
 * Imports errors.ts and the generated module bytes (gemm-wasm.generated.ts); node:worker_threads
 * only when threads are asked for.
 */

import { ChainruleError } from "../errors.js";
import type { FloatArray } from "../ndarray.js";
import { gemmWasmBase64, gemmWasmSharedBase64 } from "./gemm-wasm.generated.js";

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
  const useWasm = backend === "wasm" || (backend === "auto" && m * n * k >= WASM_MIN_WORK && wasmGemm() !== null);
  (useWasm ? gemmWasm : gemmJs)(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff);
};

// ---------------------------------------------------------------------------------------------
// Choosing a backend
// ---------------------------------------------------------------------------------------------

/** "auto": WebAssembly for large products when the engine has SIMD, plain loops otherwise. */
export type GemmBackend = "auto" | "js" | "wasm";

let backend: GemmBackend = "auto";

/** Force one implementation (tests, benchmarks), or return to "auto"; returns the previous one. */
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
}

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
function withViews(exports: GemmExports): WasmGemm {
  return { exports, f32: new Float32Array(exports.memory.buffer), f64: new Float64Array(exports.memory.buffer) };
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
      instance = withViews(new api.Instance(new api.Module(bytes)).exports as GemmExports);
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
  const w = wasmGemm();
  const f64 = c instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const blocking = f64 ? BLOCKING.f64 : BLOCKING.f32;
  const { MR, NR, KC, MC, NC } = blocking;

  // C is cut into bands, one per thread (one band without worker threads): bands of columns
  // whose edges fall on multiples of 64 bytes within a row, or bands of rows when C is taller
  // than wide. A pool with a dead worker is not used (the products stay right, on one thread).
  const workers =
    pool !== null && m * n * k >= THREADS_MIN_WORK && pool.workers.every((w) => w.alive) ? pool.workers : [];
  const byRows = m > n;
  const span = byRows ? m : n;
  const step = byRows ? MR : 64 / size;
  const band = roundUp(Math.ceil(span / (workers.length + 1)), step);
  const bands = Math.ceil(span / band);
  const bandM = byRows ? band : m;
  const bandN = byRows ? n : band;

  // memory: per band, scratch tile | packed A block | packed B slab; then A | B | C; 64-byte aligned
  const apBytes = roundUp(roundUp(Math.min(MC, bandM), MR) * Math.min(KC, k) * size, 64);
  const bpBytes = roundUp(roundUp(Math.min(NC, bandN), NR) * Math.min(KC, k) * size, 64);
  const perBand = SCRATCH_BYTES + apBytes + bpBytes;
  const aAt = perBand * bands;
  const bAt = aAt + roundUp(m * k * size, 64);
  const cAt = bAt + roundUp(k * n * size, 64);
  if (w === null || !reserve(w, cAt + m * n * size)) {
    gemmJs(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff);
    return;
  }
  const heap = f64 ? w.f64 : w.f32;
  heap.set(a.subarray(aOff, aOff + m * k), aAt / size);
  heap.set(b.subarray(bOff, bOff + k * n), bAt / size);

  // op(A)(i, p) is at aAt + (i·ars + p·acs)·size. B is packed as the [n×k] matrix op(B)ᵀ, whose
  // rows j are the columns of C: op(B)(p, j) is at bAt + (j·brs + p·bcs)·size.
  const ars = transA ? 1 : k;
  const acs = transA ? m : 1;
  const brs = transB ? k : 1;
  const bcs = transB ? 1 : n;
  const argsOf = (t: number): GemmArgs => {
    const from = t * band;
    const to = Math.min(span, from + band);
    const at = t * perBand;
    return [
      byRows ? from : 0,
      byRows ? to : m,
      byRows ? 0 : from,
      byRows ? n : to,
      k,
      aAt,
      ars,
      acs,
      bAt,
      brs,
      bcs,
      cAt,
      n,
      at + SCRATCH_BYTES,
      at + SCRATCH_BYTES + apBytes,
      at,
      KC,
      MC,
      NC,
    ];
  };
  // bands 1, 2, … go to the workers; this thread computes band 0, then waits for all of them
  // (also when its own band throws: nothing may still write to the memory once gemm returns)
  for (let t = 1; t < bands; t++) (workers[t - 1] as GemmWorker).post(f64, argsOf(t));
  let failed = false;
  try {
    (f64 ? w.exports.gemm_f64 : w.exports.gemm_f32)(...argsOf(0));
  } finally {
    for (let t = 1; t < bands; t++) failed = (workers[t - 1] as GemmWorker).wait() || failed;
  }
  if (failed) throw new ChainruleError("matmul", "a worker thread failed to compute its band of a product");
  c.set(heap.subarray(cAt / size, cAt / size + m * n), cOff);
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
  Object.assign(w, withViews(w.exports));
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

/** Worker threads that share the kernels' memory with this thread's `instance`. */
interface Pool {
  workers: GemmWorker[];
  /** The instance with a memory of its own, restored when the threads are stopped. */
  single: WasmGemm | null;
}

let pool: Pool | null = null;
/** The last call of setGemmThreads: each call waits for the one before it. */
let settingThreads: Promise<unknown> = Promise.resolve();

// Each worker has a block of Int32s shared with this thread: the number of the job posted, the
// number of the job done, whether it failed, the dtype, and the arguments of gemm_f32/f64.
const JOB = 0;
const DONE = 1;
const FAILED = 2;
const F64 = 3;
const ARGS = 4;
/**
 * Checks of a flag before sleeping on it, a few milliseconds: a worker that went to sleep takes
 * tens of microseconds to wake, and in a training step the next product follows within a few
 * milliseconds, so the worker stays awake through a step. NOTE: measured on W3 (2 threads),
 * 0.40–0.44 s per 100 steps with 2·10⁶ checks against 0.36–0.67 s with 10⁵.
 */
const SPIN = 2_000_000;

/** A worker's source (CommonJS, run with `eval`): wait for a job, run it, say so, repeat. */
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const { module, memory, control } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(control);
parentPort.postMessage("ready");
let job = 0;
for (;;) {
  // spin a while before sleeping (see SPIN)
  for (let spin = 0; spin < ${SPIN} && Atomics.load(ctl, ${JOB}) === job; spin++);
  Atomics.wait(ctl, ${JOB}, job);
  job = Atomics.load(ctl, ${JOB});
  if (job < 0) break;
  try {
    const args = Array.from(ctl.subarray(${ARGS}, ${ARGS + 19}));
    (ctl[${F64}] === 1 ? kernels.gemm_f64 : kernels.gemm_f32)(...args);
    ctl[${FAILED}] = 0;
  } catch {
    ctl[${FAILED}] = 1;
  }
  Atomics.store(ctl, ${DONE}, job);
  Atomics.notify(ctl, ${DONE});
}
`;

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
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * (ARGS + 19)));
  private job = 0;
  private readonly thread: Thread;
  /** Settles once the worker has instantiated the kernels (or failed to start). */
  readonly ready: Promise<void>;
  /** False once the thread has exited or failed: it takes no more jobs. */
  alive = true;

  constructor(threads: WorkerThreads, module: object, memory: object) {
    this.thread = new threads.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, memory, control: this.ctl.buffer },
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

  /** Hand this worker one band of a product. */
  post(f64: boolean, args: GemmArgs): void {
    this.ctl[F64] = f64 ? 1 : 0;
    this.ctl.set(args, ARGS); // addresses past 2³¹ wrap to negative Int32s: the same i32 bits
    this.job = this.job === 0x7fffffff ? 1 : this.job + 1; // job numbers stay positive Int32s
    Atomics.store(this.ctl, JOB, this.job);
    Atomics.notify(this.ctl, JOB);
  }

  /** Block until the band posted last is done; true if it failed. */
  wait(): boolean {
    for (let spin = 0; spin < SPIN && Atomics.load(this.ctl, DONE) !== this.job; spin++);
    for (;;) {
      const done = Atomics.load(this.ctl, DONE);
      if (done === this.job) break;
      Atomics.wait(this.ctl, DONE, done);
    }
    return this.ctl[FAILED] === 1;
  }

  stop(): Promise<number> {
    Atomics.store(this.ctl, JOB, -1);
    Atomics.notify(this.ctl, JOB);
    return this.thread.terminate();
  }
}

/**
 * Compute large matrix products (and their gradients) on `count` threads: this one and
 * `count − 1` worker threads that share the kernels' WebAssembly memory, each computing a band of
 * the result. Every entry is still computed by one thread in the same order, so results are bit
 * for bit those of one thread. Products under about 2²¹ multiply-adds stay on this thread.
 * `setGemmThreads(1)` stops the workers. Node only (worker_threads; this thread blocks on
 * Atomics.wait while the workers finish, which browsers forbid on their main thread).
 * Resolves to the number of threads in use.
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
    const stopping = pool.workers.map((w) => w.stop());
    instance = pool.single;
    pool = null;
    await Promise.all(stopping);
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
  // a specifier in a variable: bundlers for the browser leave this import alone
  const specifier = "node:worker_threads";
  const threads = (await import(/* @vite-ignore */ specifier)) as WorkerThreads;
  const api = (globalThis as unknown as { WebAssembly: WasmApi & { Memory: new (d: object) => object } }).WebAssembly;
  const module = new api.Module(decode(gemmWasmSharedBase64));
  let memory: object;
  try {
    // NOTE: a shared memory reserves its maximum (4 GiB) of address space up front
    memory = new api.Memory({ initial: 1, maximum: MAX_BYTES / PAGE, shared: true });
  } catch (error) {
    throw new ChainruleError("setGemmThreads", `could not make a shared WebAssembly memory: ${String(error)}`);
  }
  const shared = withViews(new api.Instance(module, { env: { memory } }).exports as GemmExports);
  const workers: GemmWorker[] = [];
  try {
    for (let i = 1; i < count; i++) workers.push(new GemmWorker(threads, module, memory));
    await Promise.all(workers.map((w) => w.ready));
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop()));
    throw new ChainruleError("setGemmThreads", `a worker thread did not start: ${String(error)}`);
  }
  pool = { workers, single };
  instance = shared;
  return count;
}

/** The number of threads large products run on (1 unless `setGemmThreads` said otherwise). */
export function gemmThreads(): number {
  return pool === null || !pool.workers.every((w) => w.alive) ? 1 : pool.workers.length + 1;
}

/** Below this many elements the copies into the module's memory cost more than the loop saves. */
const WASM_MIN_ELEMENTS = 1024;

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

/**
 * An elementwise kernel of gemm.wat over arrays of one dtype and out's length: copies `inputs`
 * into the module's memory one after another (64-byte aligned), runs `run` with their byte
 * offsets, and copies input `result` back into `out`. False, with nothing done, for arrays under
 * WASM_MIN_ELEMENTS elements, mixed dtypes, the plain backend, or no SIMD: the caller runs its loop.
 */
function elementwiseWasm(
  inputs: FloatArray[],
  out: FloatArray,
  result: number,
  run: (kernels: GemmExports, f64: boolean, at: number[], n: number) => void,
): boolean {
  const n = out.length;
  if (n < WASM_MIN_ELEMENTS || backend === "js" || !inputs.every((a) => a.constructor === out.constructor))
    return false;
  const w = wasmGemm();
  const f64 = out instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const at = inputs.map((_, i) => i * roundUp(n * size, 64));
  if (w === null || !reserve(w, inputs.length * roundUp(n * size, 64))) return false;
  const heap = f64 ? w.f64 : w.f32;
  for (let i = 0; i < inputs.length; i++) heap.set(inputs[i] as FloatArray, (at[i] as number) / size);
  run(w.exports, f64, at, n);
  const from = (at[result] as number) / size;
  out.set(heap.subarray(from, from + n));
  return true;
}
