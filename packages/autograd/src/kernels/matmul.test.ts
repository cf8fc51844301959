/**
 * @file Tests of the matrix-product kernels: gemmJs and gemmWasm against the textbook triple
 * loop in float64, for random shapes (odd sizes, so the edge tiles of the SIMD kernel are hit),
 * all four transpose combinations, both dtypes and offsets into larger arrays; then the exact
 * cases (zeros, empty sums, empty results, NaN/∞ propagation) and shapes that cross the cache
 * blocks of gemmWasm. gemmWasm adds the products of each entry in the order of the triple loop,
 * so it is also compared bit for bit with that loop run in its own dtype.
 */
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { Random } from "../random.js";
import {
  axpy,
  binaryWasm,
  type FloatArray,
  type Gemm,
  gemm,
  gemmJs,
  gemmThreads,
  gemmWasm,
  hasWasmGemm,
  reluGradWasm,
  reluWasm,
  setGemmBackend,
  setGemmThreads,
  sumRowsWasm,
} from "./matmul.js";

type Dtype = "float32" | "float64";

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  aOff: number;
  bOff: number;
  cOff: number;
}

const alloc = (dtype: Dtype, length: number): FloatArray =>
  dtype === "float32" ? new Float32Array(length) : new Float64Array(length);

/** A FloatArray of `dtype` with x[i] = f(i). */
const filled = (dtype: Dtype, length: number, f: (i: number) => number): FloatArray => {
  const x = alloc(dtype, length);
  for (let i = 0; i < length; i++) x[i] = f(i);
  return x;
};

/** Operands with entries uniform in (−1, 1) after their offsets, and C filled with NaN. */
function operands(dtype: Dtype, { m, n, k, aOff, bOff, cOff }: Case, seed: number) {
  const rng = new Random(seed);
  const a = alloc(dtype, aOff + m * k);
  const b = alloc(dtype, bOff + k * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1, 1);
  for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-1, 1);
  const c = alloc(dtype, cOff + m * n + 3).fill(Number.NaN);
  return { a, b, c };
}

/**
 * The triple loop in float64 on the stored values, C(i,j) = Σ_p op(A)(i,p)·op(B)(p,j), and the
 * error bound of any summation order: |ĉ − c| ≤ k·ε·Σ_p |op(A)(i,p)|·|op(B)(p,j)|, with ε the
 * machine epsilon of the dtype (every product and sum is rounded at most once per term).
 */
function reference(c: Case, a: FloatArray, b: FloatArray, dtype: Dtype) {
  const { transA, transB, m, n, k, aOff, bOff } = c;
  const eps = dtype === "float32" ? 2 ** -23 : 2 ** -52;
  const value = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const x = a[aOff + (transA ? p * m + i : i * k + p)]!;
        const y = b[bOff + (transB ? j * k + p : p * n + j)]!;
        s += x * y;
        abs += Math.abs(x * y);
      }
      value[i * n + j] = s;
      // NOTE: the tiny absolute term covers products that underflow in float32
      bound[i * n + j] = (k + 1) * eps * abs + 1e-30;
    }
  }
  return { value, bound };
}

/** The triple loop in the dtype itself: s ← fl(s + fl(a·b)) for p = 0, 1, …, k − 1. */
function sequential(c: Case, a: FloatArray, b: FloatArray, dtype: Dtype): number[] {
  const { transA, transB, m, n, k, aOff, bOff } = c;
  // NOTE: a float32 sum or product computed in float64 and then rounded is the correctly rounded
  // float32 result (53 ≥ 2·24 + 2, so the double rounding is harmless)
  const round = dtype === "float32" ? Math.fround : (x: number) => x;
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s = round(s + round(a[aOff + (transA ? p * m + i : i * k + p)]! * b[bOff + (transB ? j * k + p : p * n + j)]!));
      }
      out.push(s);
    }
  }
  return out;
}

/**
 * gemmWasm on the case equals the sequential loop bit for bit. With the plain SIMD kernel: the
 * fused one (relaxed SIMD, where the engine has it) rounds once per multiply-add instead of twice
 * (test/fused.test.ts checks it against error bounds).
 */
function checkExact(dtype: Dtype, cs: Case, seed: number): void {
  const { a, b, c } = operands(dtype, cs, seed);
  const { transA, transB, m, n, k, aOff, bOff, cOff } = cs;
  const previous = setGemmBackend("wasm");
  try {
    gemmWasm(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff);
  } finally {
    setGemmBackend(previous);
  }
  expect(Array.from(c.subarray(cOff, cOff + m * n))).toEqual(sequential(cs, a, b, dtype));
}

/** Runs `kernel` on the case and checks C against the reference, and that nothing else changed. */
function check(kernel: Gemm, dtype: Dtype, cs: Case, seed: number): void {
  const { a, b, c } = operands(dtype, cs, seed);
  const { transA, transB, m, n, k, aOff, bOff, cOff } = cs;
  const aCopy = a.slice();
  const bCopy = b.slice();
  kernel(transA, transB, m, n, k, a, aOff, b, bOff, c, cOff);
  const { value, bound } = reference(cs, a, b, dtype);
  for (let i = 0; i < m * n; i++) {
    const err = Math.abs(c[cOff + i]! - value[i]!);
    if (!(err <= bound[i]!)) {
      throw new Error(`C[${i}] = ${c[cOff + i]}, expected ${value[i]} ± ${bound[i]} (error ${err})`);
    }
  }
  for (let i = 0; i < cOff; i++) expect(c[i]).toBeNaN();
  for (let i = cOff + m * n; i < c.length; i++) expect(c[i]).toBeNaN();
  expect(a).toEqual(aCopy);
  expect(b).toEqual(bCopy);
}

const arbCase = (maxSize: number) =>
  fc.record({
    transA: fc.boolean(),
    transB: fc.boolean(),
    m: fc.integer({ min: 1, max: maxSize }),
    n: fc.integer({ min: 1, max: maxSize }),
    k: fc.integer({ min: 1, max: maxSize }),
    aOff: fc.integer({ min: 0, max: 7 }),
    bOff: fc.integer({ min: 0, max: 7 }),
    cOff: fc.integer({ min: 0, max: 7 }),
  });

const kernels: Array<[string, Gemm]> = [
  ["gemmJs", gemmJs],
  ["gemmWasm", gemmWasm],
];
const dtypes: Dtype[] = ["float32", "float64"];

test("WebAssembly SIMD is available in Node, so gemmWasm is really tested", () => {
  expect(hasWasmGemm()).toBe(true);
});

describe.each(kernels)("%s", (_name, kernel) => {
  test.each(dtypes)("%s: agrees with the triple loop for random shapes up to 70", (dtype) => {
    fc.assert(
      fc.property(arbCase(70), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (cs, seed) => {
        check(kernel, dtype, cs, seed);
      }),
      { numRuns: 150 },
    );
  });

  test.each(dtypes)("%s: all four transposes on 1×1×1 and on tiny odd shapes", (dtype) => {
    for (const [m, n, k] of [
      [1, 1, 1],
      [1, 5, 3],
      [5, 1, 3],
      [3, 3, 1],
      [4, 8, 2],
      [5, 9, 7],
    ] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true])
          check(kernel, dtype, { transA, transB, m, n, k, aOff: 1, bOff: 2, cOff: 3 }, 1);
      }
    }
  });

  test.each(dtypes)("%s: k = 0 gives an all-zero C (empty sums)", (dtype) => {
    const c = alloc(dtype, 2 + 6).fill(Number.NaN);
    kernel(false, false, 2, 3, 0, alloc(dtype, 0), 0, alloc(dtype, 0), 0, c, 2);
    expect(Array.from(c.subarray(2))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(c[0]).toBeNaN();
  });

  test.each(dtypes)("%s: m = 0 or n = 0 writes nothing", (dtype) => {
    const c = alloc(dtype, 4).fill(7);
    const a = alloc(dtype, 12).fill(1);
    const b = alloc(dtype, 12).fill(1);
    kernel(false, false, 0, 3, 4, a, 0, b, 0, c, 0);
    kernel(true, true, 3, 0, 4, a, 0, b, 0, c, 0);
    expect(Array.from(c)).toEqual([7, 7, 7, 7]);
  });

  test.each(dtypes)("%s: a zero operand gives exactly zero", (dtype) => {
    const [m, n, k] = [9, 13, 11];
    const b = alloc(dtype, k * n);
    const rng = new Random(3);
    for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-1, 1);
    for (const transA of [false, true]) {
      const c = alloc(dtype, m * n).fill(Number.NaN);
      kernel(transA, false, m, n, k, alloc(dtype, m * k), 0, b, 0, c, 0);
      expect(Array.from(c)).toEqual(new Array(m * n).fill(0));
    }
  });

  test.each(dtypes)("%s: zeros are multiplied, not skipped: 0·∞ = NaN, and ∞ and NaN propagate", (dtype) => {
    // op(A) is 5×2, B is 2×9: odd sizes, so the SIMD kernel pads both into edge tiles
    const a = alloc(dtype, 10).fill(1);
    const b = alloc(dtype, 18).fill(1);
    a[0] = 0; // A(0,0) = 0 meets B(0,·)
    b[0] = Number.POSITIVE_INFINITY; // B(0,0) = ∞
    b[3] = Number.NaN; // B(0,3) = NaN
    for (const transA of [false, true]) {
      const c = alloc(dtype, 45);
      kernel(transA, false, 5, 9, 2, a, 0, b, 0, c, 0);
      expect(c[0]).toBeNaN(); // 0·∞ + 1·1
      expect(c[3]).toBeNaN(); // 0·NaN + 1·1
      expect(c[1]).toBe(1); // 0·1 + 1·1
      for (let i = 1; i < 5; i++) {
        expect(c[i * 9]).toBe(Number.POSITIVE_INFINITY); // 1·∞ + 1·1
        expect(c[i * 9 + 3]).toBeNaN();
        expect(c[i * 9 + 1]).toBe(2);
      }
    }
  });
});

describe("gemmWasm without fused multiply-adds adds in the order of the triple loop", () => {
  test.each(dtypes)("%s: bit for bit, random shapes up to 70", (dtype) => {
    fc.assert(
      fc.property(arbCase(70), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (cs, seed) => {
        checkExact(dtype, cs, seed);
      }),
      { numRuns: 100 },
    );
  });
});

describe("gemmWasm across its cache blocks", () => {
  // 131 rows > MC and 700 > KC in both dtypes (several A blocks; C accumulated over slabs of k),
  // 4100 columns > NC (two B slabs), and odd sizes everywhere, so edge tiles meet every case
  test.each(dtypes)("%s: 131×37×700 and 3×4100×5, bit for bit, every transpose", (dtype) => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        checkExact(dtype, { transA, transB, m: 131, n: 37, k: 700, aOff: 1, bOff: 2, cOff: 3 }, 11);
        checkExact(dtype, { transA, transB, m: 3, n: 4100, k: 5, aOff: 0, bOff: 0, cOff: 0 }, 12);
      }
    }
  });

  test("reuses its memory across calls of different sizes and dtypes", () => {
    for (const [m, n, k, dtype] of [
      [70, 70, 70, "float64"],
      [5, 5, 5, "float32"],
      [130, 60, 300, "float32"],
      [9, 11, 13, "float64"],
    ] as const) {
      check(gemmWasm, dtype, { transA: false, transB: false, m, n, k, aOff: 0, bOff: 0, cOff: 0 }, m);
    }
  });
});

describe("gemm on worker threads", () => {
  afterAll(() => setGemmThreads(1));

  test("bands on 2 and 3 threads give one thread's bits: by columns and by rows, every transpose", async () => {
    expect(gemmThreads()).toBe(1);
    expect(await setGemmThreads(2)).toBe(2);
    expect(gemmThreads()).toBe(2);
    for (const dtype of dtypes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          // wide (bands of columns, two cache blocks of k in float32, three in float64), then tall (bands
          // of rows); odd sizes, all above the 2²¹ multiply-adds that threads start at
          checkExact(dtype, { transA, transB, m: 40, n: 301, k: 600, aOff: 1, bOff: 2, cOff: 3 }, 21);
          checkExact(dtype, { transA, transB, m: 401, n: 33, k: 200, aOff: 0, bOff: 5, cOff: 1 }, 22);
        }
      }
    }
    expect(await setGemmThreads(3)).toBe(3);
    checkExact("float32", { transA: false, transB: true, m: 60, n: 700, k: 90, aOff: 0, bOff: 0, cOff: 0 }, 23);
    checkExact("float64", { transA: true, transB: false, m: 700, n: 25, k: 200, aOff: 2, bOff: 0, cOff: 0 }, 24);
    expect(await setGemmThreads(1)).toBe(1);
    expect(gemmThreads()).toBe(1);
    checkExact("float32", { transA: false, transB: false, m: 40, n: 301, k: 600, aOff: 0, bOff: 0, cOff: 0 }, 25);
  });

  test("overlapping calls take effect in order, and ReLU, axpy and arithmetic share the memory unchanged", async () => {
    const first = setGemmThreads(3);
    const last = setGemmThreads(2);
    expect(await first).toBe(3);
    expect(await last).toBe(2);
    expect(gemmThreads()).toBe(2);
    const x = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i) * 2);
    const y = new Float32Array(3000);
    expect(reluWasm(x, y)).toBe(true);
    for (let i = 0; i < x.length; i++) expect(y[i]).toBe(Math.max(x[i] as number, 0));
    const z = y.slice();
    axpy(-0.5, x, z);
    for (let i = 0; i < x.length; i += 101)
      expect(z[i]).toBe(Math.fround((y[i] as number) + Math.fround(-0.5 * (x[i] as number))));
    const q = new Float32Array(3000);
    expect(binaryWasm("div", x, Float32Array.of(3), q)).toBe(true);
    for (let i = 0; i < x.length; i += 101) expect(q[i]).toBe(Math.fround((x[i] as number) / 3));
    checkExact("float32", { transA: false, transB: true, m: 100, n: 300, k: 120, aOff: 0, bOff: 0, cOff: 0 }, 26);
    expect(await setGemmThreads(1)).toBe(1);
  });

  test("a bad thread count is refused with the reason", async () => {
    for (const count of [0, 1.5, 65, Number.NaN]) {
      await expect(setGemmThreads(count)).rejects.toThrow(/setGemmThreads.*an integer from 1 to 64, got/);
    }
    expect(gemmThreads()).toBe(1);
  });
});

describe("gemm dispatch", () => {
  test("every backend gives the same products", () => {
    const previous = setGemmBackend("auto");
    try {
      for (const backend of ["auto", "js", "wasm"] as const) {
        setGemmBackend(backend);
        for (const [m, n, k] of [
          [2, 3, 4],
          [40, 50, 60],
        ] as const) {
          check(gemm, "float64", { transA: true, transB: false, m, n, k, aOff: 1, bOff: 0, cOff: 0 }, 5);
        }
      }
    } finally {
      setGemmBackend(previous);
    }
  });

  test("setGemmBackend returns the previous backend", () => {
    const previous = setGemmBackend("js");
    expect(setGemmBackend(previous)).toBe("js");
  });
});

describe("axpy: y ← y + α·x", () => {
  test("the SIMD kernel and the loop give the same bits, in both dtypes and at every length", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.boolean(),
        (n, alpha, f64) => {
          const make = (f: (i: number) => number): FloatArray => {
            const values = Array.from({ length: n }, (_, i) => f(i));
            return f64 ? Float64Array.from(values) : Float32Array.from(values);
          };
          const x = make((i) => Math.sin(i * 1.7) * 3);
          const y = make((i) => Math.cos(i * 0.3));
          const viaWasm = y.slice();
          const viaJs = y.slice();
          setGemmBackend("auto");
          axpy(alpha, x, viaWasm);
          const previous = setGemmBackend("js");
          axpy(alpha, x, viaJs);
          setGemmBackend(previous);
          expect(viaWasm).toEqual(viaJs);
          // and both are y + α·x, rounded as the dtype rounds
          const a = f64 ? alpha : Math.fround(alpha);
          for (let i = 0; i < n; i += 97) {
            const expected = (y[i] as number) + (f64 ? a * (x[i] as number) : Math.fround(a * (x[i] as number)));
            expect(viaJs[i]).toBe(f64 ? expected : Math.fround(expected));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("ReLU and its backward step in the SIMD kernels", () => {
  const special = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310, -1e-310, 2, -2];

  test("the same bits as the rule, NaN kept, −0 → +0, and x ≤ 0 ? 0 : g (g passes at NaN)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024, max: 2100 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, f64, seed) => {
          const rng = new Random(seed);
          const make = (): FloatArray => {
            const values = Array.from({ length: n }, (_, i) =>
              i % 7 === 0 ? (special[i % special.length] as number) : rng.uniform(-3, 3),
            );
            return f64 ? Float64Array.from(values) : Float32Array.from(values);
          };
          const x = make();
          const g = make();
          const y = x.slice().fill(Number.NaN);
          const out = x.slice().fill(Number.NaN);
          expect(reluWasm(x, y)).toBe(true);
          expect(reluGradWasm(x, g, out)).toBe(true);
          for (let i = 0; i < n; i++) {
            const v = x[i] as number;
            expect(Object.is(y[i], v > 0 || Number.isNaN(v) ? v : 0)).toBe(true);
            expect(Object.is(out[i], v <= 0 ? 0 : g[i])).toBe(true);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test("short arrays, mixed dtypes and the plain backend are left to the caller's loop", () => {
    expect(reluWasm(new Float32Array(1023), new Float32Array(1023))).toBe(false);
    expect(reluWasm(new Float32Array(2000), new Float64Array(2000))).toBe(false);
    expect(reluGradWasm(new Float64Array(2000), new Float32Array(2000), new Float64Array(2000))).toBe(false);
    const previous = setGemmBackend("js");
    expect(reluWasm(new Float64Array(2000), new Float64Array(2000))).toBe(false);
    setGemmBackend(previous);
  });
});

describe("add, sub, mul, div in the SIMD kernels", () => {
  const special = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310, -1e-310, 1e-45, 3];
  const loops: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
  };

  test("the same bits as the JavaScript loop, with b of a's length or one number (broadcast)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("add", "sub", "mul", "div"),
        fc.integer({ min: 1024, max: 2100 }), // odd lengths reach the one-by-one tail
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (op, n, f64, scalar, seed) => {
          const rng = new Random(seed);
          const make = (length: number): FloatArray => {
            const values = Array.from({ length }, (_, i) =>
              i % 5 === 0 ? (special[(i + seed) % special.length] as number) : rng.uniform(-3, 3),
            );
            return f64 ? Float64Array.from(values) : Float32Array.from(values);
          };
          const a = make(n);
          const b = scalar ? make(1).fill(rng.uniform(-3, 3)) : make(n);
          const out = a.slice().fill(Number.NaN);
          expect(binaryWasm(op, a, b, out)).toBe(true);
          const f = loops[op] as (a: number, b: number) => number;
          const round = f64 ? (v: number) => v : Math.fround;
          for (let i = 0; i < n; i++) {
            const want = round(f(a[i] as number, b[scalar ? 0 : i] as number));
            if (!Object.is(out[i], want) && !(Number.isNaN(want) && Number.isNaN(out[i]))) {
              throw new Error(`${op} at ${i}: ${a[i]} ∘ ${b[scalar ? 0 : i]} gave ${out[i]}, want ${want}`);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test("a row repeated over the rows (rows = true): the same bits, row by row", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const [rows, row] of [
        [16, 64],
        [5, 301],
      ] as const) {
        const a = filled(dtype, rows * row, (i) => Math.sin(i) * 3);
        const b = filled(dtype, row, (j) => Math.cos(j) + 0.5);
        for (const op of ["add", "sub", "mul", "div"]) {
          const out = a.slice().fill(Number.NaN);
          expect(binaryWasm(op, a, b, out, true)).toBe(true);
          const f = loops[op] as (a: number, b: number) => number;
          const round = dtype === "float64" ? (v: number) => v : Math.fround;
          for (let i = 0; i < a.length; i++) expect(out[i]).toBe(round(f(a[i] as number, b[i % row] as number)));
        }
      }
    }
    // without the flag, or with rows shorter than 64, the caller's loop runs
    expect(binaryWasm("add", new Float32Array(2048), new Float32Array(64), new Float32Array(2048))).toBe(false);
    expect(binaryWasm("add", new Float32Array(2048), new Float32Array(32), new Float32Array(2048), true)).toBe(false);
  });

  test("the sum of rows adds them in order: the loop's bits, −0 and NaN included", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const [rows, cols] of [
        [64, 256],
        [3, 1001],
      ] as const) {
        const x = filled(dtype, rows * cols, (i) =>
          i % 97 === 0 ? -0 : i % 389 === 0 ? Number.NaN : Math.sin(i) * 1e3,
        );
        const out = alloc(dtype, cols).fill(7);
        expect(sumRowsWasm(x, out)).toBe(true);
        const want = alloc(dtype, cols);
        for (let r = 0; r < rows; r++)
          for (let j = 0; j < cols; j++) want[j] = (want[j] as number) + (x[r * cols + j] as number);
        for (let j = 0; j < cols; j++) expect(Object.is(out[j], want[j])).toBe(true);
      }
    }
    expect(sumRowsWasm(new Float32Array(4096), new Float32Array(32))).toBe(false); // rows under 64
    expect(sumRowsWasm(new Float32Array(100), new Float32Array(100))).toBe(false); // short
  });

  test("other ops, other lengths, short or mixed arrays are left to the caller's loop", () => {
    const a = new Float32Array(2000);
    expect(binaryWasm("pow", a, a, a.slice())).toBe(false);
    expect(binaryWasm("add", a, new Float32Array(1000), a.slice())).toBe(false);
    expect(binaryWasm("add", new Float32Array(1000), new Float32Array(1000), new Float32Array(1000))).toBe(false);
    expect(binaryWasm("add", a, new Float64Array(2000), a.slice())).toBe(false);
    const previous = setGemmBackend("js");
    expect(binaryWasm("add", a, a, a.slice())).toBe(false);
    setGemmBackend(previous);
  });
});
