/**
 * @file The matrix product, with NumPy's semantics, beside its derivative rule. One primitive,
 * `mm(a, b, transA, transB)` = op(A)·op(B) over broadcast batches, does all the arithmetic; its
 * derivative is written with the same primitive (so it can be differentiated again), and the
 * transposes the backward pass needs are flags for the kernel, never copies. On a vmap batch the
 * batch axis is one more broadcast batch axis of the product. Imports engine.ts, tensor.ts,
 * kernels/matmul.ts, ndarray.ts, shape.ts, errors.ts, transforms/vmap.ts.
 */

import { fromOp, sumTangents } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { gemm } from "../kernels/matmul.js";
import { allocate, checkAllocation, type FloatArray, type Storage } from "../ndarray.js";
import { broadcastShapes, broadcastStrides, formatShape, type Shape, sizeOf, stridesOf } from "../shape.js";
import { Tensor } from "../tensor.js";
import { batchable } from "../transforms/vmap.js";
import { floatDtype, promote } from "./elementwise.js";

/**
 * NumPy's matmul: 2-D products; batched products with the leading axes broadcast; a 1-D first
 * operand is a row vector and a 1-D second operand a column vector, their added axis removed from
 * the result (so vector·vector is a 0-d dot product).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) {
    throw new ChainruleError("matmul", "both operands must be Tensors");
  }
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ChainruleError(
      "matmul",
      `operands must have at least one axis, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} (use mul for scalars)`,
    );
  }
  const k1 = a.shape[a.ndim - 1] as number;
  const k2 = (b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2]) as number;
  if (k1 !== k2) {
    throw new ChainruleError(
      "matmul",
      `shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not aligned: ${k1} (last axis of the first) ≠ ${k2} (${b.ndim === 1 ? "length of the second" : "second-to-last axis of the second"})`,
    );
  }
  const a2 = a.ndim === 1 ? a.reshape([1, k1]) : a;
  const b2 = b.ndim === 1 ? b.reshape([k2, 1]) : b;
  let out = mm(a2, b2, false, false);
  if (b.ndim === 1) out = out.squeeze(-1);
  if (a.ndim === 1) out = out.squeeze(a.ndim === 1 && b.ndim === 1 ? -1 : -2);
  return out;
}

/**
 * C = op(A)·op(B) for tensors of rank ≥ 2, batched over broadcast leading axes; op(X) is Xᵀ
 * (of the last two axes) when the flag is set.
 *
 *   C = A·B      ∂L/∂A = G·Bᵀ,   ∂L/∂B = Aᵀ·G
 *
 * and with the flags: ∂L/∂A = op(B)·Gᵀ when A is stored transposed, ∂L/∂B = Gᵀ·op(A) when B is.
 * The engine sums batch axes that were broadcast. Forward mode: Ċ = op(Ȧ)·op(B) + op(A)·op(Ḃ).
 */
export const mm = batchable(
  "matmul",
  (a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor => product(a, b, transA, transB),
  (batch, a, b, transA, transB): Tensor => {
    const [m, k] = (transA ? [a.shape.at(-1), a.shape.at(-2)] : [a.shape.at(-2), a.shape.at(-1)]) as [number, number];
    const n = (transB ? b.shape.at(-2) : b.shape.at(-1)) as number;
    // One shared matrix on either side: the whole batch is one product (as for a linear layer),
    // not a product per example.
    if (!batch.has(b) && b.ndim === 2 && !transA) {
      // every example's rows of A, stacked, times B
      const rows = mm(batch.inner(a).reshape([-1, k]), b, false, transB);
      return batch.wrap(rows.reshape([batch.size, ...a.shape.slice(0, -1), n]));
    }
    if (!batch.has(a) && a.ndim === 2 && b.ndim === 2 && (transB || n === 1)) {
      // A·Bᵢ = (Bᵢᵀ·Aᵀ)ᵀ, and the Bᵢᵀ lie one after another in memory (B stored transposed, or a column)
      const cols = mm(batch.inner(b).reshape([batch.size * n, k]), a, false, !transA); // [B·n, m]
      const out = n === 1 ? cols.reshape([batch.size, m, 1]) : cols.reshape([batch.size, n, m]).permute([0, 2, 1]);
      return batch.wrap(out);
    }
    const rank = Math.max(a.ndim, b.ndim);
    return batch.wrap(mm(batch.lift(a, rank), batch.lift(b, rank), transA, transB));
  },
);

/**
 * The storage a matrix operand is read from, and whether it is stored transposed: a view that
 * swaps the last two axes of its source is its source, transposed.
 */
function stored(t: Tensor, trans: boolean): [Storage, boolean] {
  const source = t.view?.source;
  return source !== undefined && swapsLastTwo(t) ? [source.data, !trans] : [t.data, trans];
}

/** Whether t is a view of its source with the last two axes swapped (a transpose). */
function swapsLastTwo(t: Tensor): boolean {
  const perm = t.view?.perm;
  if (perm === undefined) return false;
  const n = perm.length;
  return n >= 2 && perm.every((p, i) => (i < n - 2 ? p === i : p === (i === n - 1 ? n - 2 : n - 1)));
}

function product(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (a.ndim < 2 || b.ndim < 2)
    throw new ChainruleError(
      "matmul",
      `mm needs operands of rank ≥ 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) {
    throw new ChainruleError(
      "matmul",
      `shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not aligned${transA || transB ? " (with transposes)" : ""}: ${k} ≠ ${kb}`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastBatches(a.shape, b.shape);
  const shape = [...batch, m, n];
  // int32 operands multiply as floats (float64 when both are int32, as true division does)
  const dtype = floatDtype(promote(a.dtype, b.dtype));
  checkAllocation("matmul", shape, dtype);
  // A transposed view is read from its source with the flag flipped: `x.matmul(W.T)` copies nothing.
  const [aData, tA] = stored(a, transA);
  const [bData, tB] = stored(b, transB);
  const floats = (d: Storage, t: Tensor): FloatArray => {
    if (t.dtype === dtype && !(d instanceof Int32Array)) return d;
    return dtype === "float32" ? Float32Array.from(d) : Float64Array.from(d);
  };
  const ad = floats(aData, a);
  const bd = floats(bData, b);
  const out = allocate(dtype, sizeOf(shape));
  // Offsets of each batch's matrices: broadcast strides over the batch axes, in matrices.
  const sa = broadcastStrides(batchA, batch);
  const sb = broadcastStrides(batchB, batch);
  const sBatch = stridesOf(batch);
  const count = sizeOf(batch);
  for (let i = 0; i < count; i++) {
    let ia = 0;
    let ib = 0;
    let rest = i;
    for (let d = 0; d < batch.length; d++) {
      const idx = Math.floor(rest / (sBatch[d] as number));
      rest -= idx * (sBatch[d] as number);
      ia += idx * (sa[d] as number);
      ib += idx * (sb[d] as number);
    }
    gemm(tA, tB, m, n, k, ad, ia * ar * ac, bd, ib * br * bc, out, i * m * n);
  }
  return fromOp("matmul", out, shape, [a, b], {
    // An operand that is a transposed view gets its gradient computed transposed, (X·Y)ᵀ = Yᵀ·Xᵀ,
    // and handed back as a view: it then reaches the view's source in the source's own layout.
    vjp: (g) => [
      !a.requiresGrad
        ? null
        : swapsLastTwo(a)
          ? (transA ? mm(g, b, false, !transB) : mm(b, g, transB, true)).T
          : transA
            ? mm(b, g, transB, true)
            : mm(g, b, false, !transB),
      !b.requiresGrad
        ? null
        : swapsLastTwo(b)
          ? (transB ? mm(a, g, !transA, false) : mm(g, a, true, transA)).T
          : transB
            ? mm(g, a, true, transA)
            : mm(a, g, !transA, false),
    ],
    jvp: ([da, db]) => sumTangents(da && mm(da, b, transA, transB), db && mm(a, db, transA, transB)),
    replay: () => mm(a, b, transA, transB),
  });
}

/** The broadcast batch axes of two operands (all but their last two axes); errors name both shapes. */
function broadcastBatches(a: Shape, b: Shape): readonly number[] {
  const batchA = a.slice(0, -2);
  const batchB = b.slice(0, -2);
  try {
    return broadcastShapes("matmul", batchA, batchB);
  } catch {
    throw new ChainruleError(
      "matmul",
      `shapes ${formatShape(a)} and ${formatShape(b)}: their batch axes ${formatShape(batchA)} and ${formatShape(batchB)} (all but the last two) cannot be broadcast together`,
    );
  }
}
