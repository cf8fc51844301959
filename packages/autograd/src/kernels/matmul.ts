/**
 * @file Matrix-product kernels on raw typed arrays: C = op(A)·op(B), where op(X) is X or Xᵀ.
 * Handling the transposes inside the loops (rather than copying a transposed operand) is what
 * keeps the backward pass, which needs G·Bᵀ and Aᵀ·G, as fast as the forward one. Imports nothing.
 */

export type FloatArray = Float32Array | Float64Array;

/**
 * C[m×n] = op(A)·op(B), overwriting C. A is stored row-major as [m×k] (or [k×m] when transA),
 * B as [k×n] (or [n×k] when transB); offsets locate one matrix of a batch inside each array.
 * All three arrays share one dtype.
 */
export function gemm(
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
): void {
  c.fill(0, cOff, cOff + m * n);
  if (!transB) {
    // i-p-j order: the inner loop walks a row of B and a row of C contiguously.
    for (let i = 0; i < m; i++) {
      const ci = cOff + i * n;
      for (let p = 0; p < k; p++) {
        const aip = a[transA ? aOff + p * m + i : aOff + i * k + p] as number;
        const bp = bOff + p * n;
        for (let j = 0; j < n; j++) c[ci + j] = (c[ci + j] as number) + aip * (b[bp + j] as number);
      }
    }
  } else {
    // C = op(A)·Bᵀ: each C[i][j] is a dot product of a row of op(A) with a row of B.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const bj = bOff + j * k;
        let s = 0;
        if (transA) for (let p = 0; p < k; p++) s += (a[aOff + p * m + i] as number) * (b[bj + p] as number);
        else {
          const ai = aOff + i * k;
          for (let p = 0; p < k; p++) s += (a[ai + p] as number) * (b[bj + p] as number);
        }
        c[cOff + i * n + j] = s;
      }
    }
  }
}
