/**
 * @file Elementwise operations on tensors, each forward beside its derivative rule. The forward
 * maps come from rules.ts (shared with `Value`). Every rule has two forms with one meaning:
 * - composed: the derivative written with Tensor operations, so that a recorded backward pass
 *   (`createGraph`) can be differentiated again;
 * - fused: one loop over the scalar derivative of rules.ts, used when nothing is recorded.
 * The property tests check the two against each other. The forward-mode rule (jvp) is the same
 * local derivative times the tangent, ẏ = (∂y/∂x)·ẋ, and the batching rule (vmap) is the op itself
 * on the batch, lined up for broadcasting. Imports engine.ts, tensor.ts, ndarray.ts, rules.ts,
 * shape.ts, errors.ts, transforms/vmap.ts.
 */

import {
  composing,
  forwardLevels,
  fromOp,
  isGradEnabled,
  noGrad,
  type OpRules,
  type Saves,
  sumTangents,
  tangentOf,
  toTensor,
} from "../engine.js";
import { ChainruleError } from "../errors.js";
import { axpy } from "../kernels/matmul.js";
import {
  allocate,
  binaryGrad,
  checkAllocation,
  type Dtype,
  dtypeOf,
  expand,
  type FloatDtype,
  mapBinary,
  mapUnary,
  type Storage,
  unaryGrad,
} from "../ndarray.js";
import {
  type BinaryOp,
  type BinaryRule,
  binary,
  geluTanhRule,
  powRule,
  type UnaryOp,
  type UnaryRule,
  unary,
} from "../rules.js";
import { broadcastShapes, formatShape, sameShape, sizeOf } from "../shape.js";
import { checkDtype, Tensor, type TensorLike } from "../tensor.js";
import { type Batch, batchable } from "../transforms/vmap.js";

/** ∂y/∂x as a tensor (or a constant), from the input x and the output y. */
type UnaryDerivative = (x: Tensor, y: Tensor) => Tensor | number;

const unaryDerivative: Record<UnaryOp, UnaryDerivative> = {
  neg: () => -1, //                                   ∂(−x)/∂x = −1
  exp: (_x, y) => y, //                               ∂eˣ/∂x = eˣ = y
  log: (x) => x.pow(-1), //                           ∂ln x/∂x = 1/x
  sqrt: (_x, y) => y.mul(2).pow(-1), //               ∂√x/∂x = 1/(2√x)
  abs: (x) => x.sign(), //                            ∂|x|/∂x = sign(x)
  sin: (x) => x.cos(), //                             ∂sin x/∂x = cos x
  cos: (x) => x.sin().neg(), //                       ∂cos x/∂x = −sin x
  tan: (_x, y) => y.square().add(1), //               ∂tan x/∂x = 1 + y²
  atan: (x) => x.square().add(1).reciprocal(), //     ∂atan x/∂x = 1/(1 + x²)
  sinh: (x) => x.cosh(), //                           ∂sinh x/∂x = cosh x
  cosh: (x) => x.sinh(), //                           ∂cosh x/∂x = sinh x
  asinh: (x) => x.square().add(1).rsqrt(), //         ∂asinh x/∂x = 1/√(1 + x²)
  log1p: (x) => x.add(1).reciprocal(), //             ∂ln(1 + x)/∂x = 1/(1 + x)
  expm1: (_x, y) => y.add(1), //                      ∂(eˣ − 1)/∂x = eˣ = y + 1
  erf: (x) => x.square().neg().exp().mul(TWO_OVER_SQRT_PI), // ∂erf x/∂x = (2/√π)·e^(−x²)
  square: (x) => x.mul(2), //                         ∂x²/∂x = 2x
  reciprocal: (_x, y) => y.square().neg(), //         ∂(1/x)/∂x = −y²
  rsqrt: (_x, y) => y.pow(3).mul(-0.5), //            ∂(1/√x)/∂x = −½y³
  softplus: (x) => where(x.gt(20), 1, x.sigmoid()), // ∂softplus/∂x = σ(x) (1 above the threshold 20)
  silu: (x) => {
    const s = x.sigmoid(); //                         ∂(x·σ(x))/∂x = σ(x)·(1 + x·(1 − σ(x)))
    return s.mul(x.mul(s.neg().add(1)).add(1));
  },
  gelu: (x) => {
    const cdf = x.mul(Math.SQRT1_2).erf().add(1).mul(0.5); // ∂(x·Φ(x))/∂x = Φ(x) + x·φ(x)
    return cdf.add(x.mul(x.square().mul(-0.5).exp()).mul(INV_SQRT_2PI));
  },
  elu: (x) => where(x.gt(0), 1, x.exp()), //          ∂elu(x)/∂x = 1 if x > 0, else eˣ
  logSigmoid: (x) => x.neg().sigmoid(), //            ∂ln σ(x)/∂x = σ(−x)
  floor: () => 0, //                                  ∂⌊x⌋/∂x = 0
  ceil: () => 0, //                                   ∂⌈x⌉/∂x = 0
  round: () => 0, //                                  ∂round(x)/∂x = 0
  sign: () => 0, //                                   ∂sign(x)/∂x = 0
  tanh: (_x, y) => y.mul(y).neg().add(1), //          ∂tanh x/∂x = 1 − y²
  sigmoid: (_x, y) => y.mul(y.neg().add(1)), //       ∂σ(x)/∂x = y(1 − y)
  relu: (x) => x.le(0).eq(0), //                      ∂relu(x)/∂x = [x > 0] (and 1 at NaN: [¬(x ≤ 0)])
};

// What each derivative reads, beside the rules above: exp, sqrt, tanh, sigmoid, tan, expm1,
// reciprocal and rsqrt only their output y; neg and the step functions nothing; the others their
// input x.
const unarySaves: Partial<Record<UnaryOp, Saves>> = {
  neg: "none",
  exp: "output",
  sqrt: "output",
  tanh: "output",
  sigmoid: "output",
  tan: "output",
  expm1: "output",
  reciprocal: "output",
  rsqrt: "output",
  floor: "none",
  ceil: "none",
  round: "none",
  sign: "none",
};

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const unaryOp = batchable(
  "unary",
  (name: UnaryOp, x: Tensor): Tensor => applyUnary(unary[name], x, unaryDerivative[name], unarySaves[name] ?? "all"),
  // batched: the same map on the whole batch
  (batch, name, x): Tensor => batch.wrap(unaryOp(name, batch.inner(x))),
);

/** The maps that keep an int32 tensor int32 (as in PyTorch); the others compute in float64. */
const integerMaps = new Set(["neg", "abs", "relu", "sign", "square", "floor", "ceil", "round"]);

function applyUnary(rule: UnaryRule, x: Tensor, derivative: UnaryDerivative, saves: Saves): Tensor {
  const out = allocate(integerMaps.has(rule.name) ? x.dtype : floatDtype(x.dtype), x.size);
  mapUnary(rule.f, x.data, out, rule.name);
  return fromOp(rule.name, out, x.shape, [x], {
    vjp: (g, y) => {
      if (composing()) return [g.mul(derivative(x, y))]; // ∂L/∂x = g·(∂y/∂x)
      const gx = allocate(g.dtype, g.size);
      unaryGrad(rule.df, x.data, y.data, g.data, gx, rule.name);
      return [new Tensor(gx, x.shape)];
    },
    jvp: ([dx], y) => (dx as Tensor).mul(derivative(x, y)), // ẏ = (∂y/∂x)·ẋ
    replay: () => applyUnary(rule, x, derivative, saves),
    saves,
  });
}

// √(2/π) and the cubic's coefficient in gelu's tanh approximation, as PyTorch writes them
const GELU_BETA = Math.SQRT2 * TWO_OVER_SQRT_PI * 0.5;
const GELU_KAPPA = 0.044715;

/** How gelu computes Φ: exactly, with erf (PyTorch's default), or by the tanh approximation. */
export type GeluApproximate = "none" | "tanh";

/** y = x·Φ(x) (exact), or the tanh approximation of it; the exact form is the table's `gelu`. */
export const gelu = batchable(
  "gelu",
  (x: Tensor, approximate: GeluApproximate): Tensor => {
    if (approximate === "none") return unaryOp("gelu", x);
    if (approximate !== "tanh") {
      throw new ChainruleError("gelu", `approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`);
    }
    // ∂y/∂x = ½(1 + tanh u) + ½x·(1 − tanh²u)·u′, u = β(x + κx³), u′ = β(1 + 3κx²)
    return applyUnary(
      geluTanhRule,
      x,
      (x) => {
        const t = x.pow(3).mul(GELU_KAPPA).add(x).mul(GELU_BETA).tanh();
        const du = x
          .square()
          .mul(3 * GELU_KAPPA)
          .add(1)
          .mul(GELU_BETA);
        return t
          .add(1)
          .mul(0.5)
          .add(x.mul(0.5).mul(t.square().neg().add(1)).mul(du));
      },
      "all",
    );
  },
  (batch, x, approximate): Tensor => batch.wrap(gelu(batch.inner(x), approximate)),
);
/** Elementwise power; a number exponent is a unary rule, a tensor exponent a binary one. */
export const pow = batchable(
  "pow",
  (x: Tensor, exponent: TensorLike): Tensor => {
    if (typeof exponent === "number") {
      // ∂xᵖ/∂x = p·xᵖ⁻¹ (0 for p = 0: x⁰ is constant, also at x = 0)
      return applyUnary(powRule(exponent), x, (x) => (exponent === 0 ? 0 : x.pow(exponent - 1).mul(exponent)), "all");
    }
    return binaryOp("pow", x, exponent);
  },
  (batch, x, exponent): Tensor => broadcastBatch(batch, (a, b): Tensor => pow(a as Tensor, b), x, exponent),
);

/** ∂y/∂a and ∂y/∂b as tensors (or constants), from the inputs a, b and the output y. */
type BinaryPartials = (a: Tensor, b: Tensor, y: Tensor) => [Tensor | number, Tensor | number];

// NOTE: as in rules.ts: ∂/∂a is 0 at a = b = 0 (where b·aᵇ⁻¹ is 0·∞); ∂/∂b is 0 at a = 0 (its limit for b > 0) and NaN
// for a < 0. `where` selects rather than multiplies, so the 0·∞ of the branch not taken never
// reaches a value or a gradient.
const lnOrZero = (a: Tensor) => where(a.lt(0), Number.NaN, where(a.gt(0), a, 1).log());

const binaryPartials: Record<BinaryOp, BinaryPartials> = {
  add: () => [1, 1], //                                                 ∂(a+b) = (1, 1)
  sub: () => [1, -1], //                                                ∂(a−b) = (1, −1)
  mul: (a, b) => [b, a], //                                             ∂(a·b) = (b, a)
  div: (_a, b, y) => [b.pow(-1), y.div(b).neg()], //                    ∂(a/b) = (1/b, −a/b²)
  pow: (a, b, y) => [where(a.eq(0).mul(b.eq(0)), 0, b.mul(a.pow(b.sub(1)))), y.mul(lnOrZero(a))], // (b·aᵇ⁻¹, aᵇ·ln a)
  // ([a > b] + ½[a = b], [a < b] + ½[a = b]) for maximum and the mirror for minimum: a tie splits g,
  // and the negations ([¬(a < b)] …) send g to both operands where one is NaN
  maximum: (a, b) => [a.lt(b).eq(0).sub(a.eq(b).mul(0.5)), a.gt(b).eq(0).sub(a.eq(b).mul(0.5))],
  minimum: (a, b) => [a.gt(b).eq(0).sub(a.eq(b).mul(0.5)), a.lt(b).eq(0).sub(a.eq(b).mul(0.5))],
};

/** t·p, without a multiplication when the partial p is ±1. */
function times(t: Tensor, p: Tensor | number): Tensor {
  return p === 1 ? t : p === -1 ? t.neg() : t.mul(p);
}

// Scratch storages for a number operand: the loops read it at once, and nothing keeps it.
const NUMBER = { float64: new Float64Array(1), float32: new Float32Array(1), int32: new Int32Array(1) };
const NO_AXES: readonly number[] = [];

/**
 * A binary op's other operand as values and shape. A number becomes no Tensor (a Tensor for the
 * 2 of `x.mul(2)` would be most of the op's garbage): one element of the tensor's dtype, or
 * float64 beside an int32 tensor when it is not an integer (as toTensor makes it).
 */
function operand(name: string, other: TensorLike, like: Tensor): [Storage, readonly number[]] {
  if (typeof other !== "number") {
    const b = toTensor(name, other, like); // a Tensor, or the error that says what was expected
    return [b.data, b.shape];
  }
  const scratch = NUMBER[like.dtype === "int32" && !Number.isInteger(other) ? "float64" : like.dtype];
  scratch[0] = other;
  return [scratch, NO_AXES];
}

function binaryOp(name: BinaryOp, a: Tensor, other: TensorLike): Tensor {
  const [bData, bShape] = operand(name, other, a);
  const rule: BinaryRule = binary[name];
  const shape = broadcastShapes(name, a.shape, bShape);
  // true division and powers of int32 operands give float64; the other binary ops keep int32
  const promoted = promote(a.dtype, dtypeOf(bData));
  const dtype = name === "div" || name === "pow" ? floatDtype(promoted) : promoted;
  checkAllocation(name, shape, dtype); // broadcasting can make a result far larger than its operands
  const out = allocate(dtype, sizeOf(shape));
  mapBinary(rule.f, a.data, a.shape, bData, bShape, shape, out, name);
  // A number operand is a constant, not a graph node (as in PyTorch's tensor-scalar ops): the
  // node keeps only the tensor parent.
  return fromOp(
    name,
    out,
    shape,
    typeof other === "number" ? [a] : [a, other as Tensor],
    binaryRules(name, a, other, shape),
  );
}

/**
 * The rules of a binary op. A function of their own so that the closures hold only what they
 * need (a graph keeps every node's vjp): a number operand stays a number, made a 0-d tensor again
 * when a rule runs.
 */
function binaryRules(name: BinaryOp, a: Tensor, other: TensorLike, shape: readonly number[]): OpRules {
  if (name === "add" || name === "sub") {
    return {
      vjp: (g) => [g, name === "sub" ? g.neg() : g], // ∂(a ± b) = (1, ±1): g passes on
      jvp: ([da, db]) =>
        da && db ? binaryOp(name, da, db) : da ? da : name === "sub" ? (db as Tensor).neg() : (db as Tensor), // ẏ = ȧ ± ḃ
      replay: () => binaryOp(name, a, other),
      saves: "none", // reads nothing
    };
  }
  return {
    vjp: (g, y) => {
      if (composing()) {
        const [pa, pb] = binaryPartials[name](a, toTensor(name, other, a), y);
        return [times(g, pa), times(g, pb)]; // ∂L/∂a = g·∂y/∂a,  ∂L/∂b = g·∂y/∂b
      }
      const ga = a.requiresGrad ? allocate(g.dtype, g.size) : null;
      const gb = other instanceof Tensor && other.requiresGrad ? allocate(g.dtype, g.size) : null;
      const [bData, bShape] = operand(name, other, a);
      binaryGrad(binary[name], a.data, a.shape, bData, bShape, y.data, g.data, shape, ga, gb);
      return [ga && new Tensor(ga, shape), gb && new Tensor(gb, shape)];
    },
    jvp: ([da, db], y) => {
      // ẏ = ∂y/∂a·ȧ + ∂y/∂b·ḃ
      const [pa, pb] = binaryPartials[name](a, toTensor(name, other, a), y);
      return sumTangents(da && times(da, pa), db && times(db, pb));
    },
    replay: () => binaryOp(name, a, other),
  };
}

/**
 * A broadcasting op on a batch: each batched operand lined up as [B, 1, …, example] against the
 * others' ranks, so that ordinary broadcasting pairs example i with example i.
 */
function broadcastBatch(batch: Batch, op: (...xs: TensorLike[]) => Tensor, ...xs: TensorLike[]): Tensor {
  const rank = Math.max(...xs.map((x) => (x instanceof Tensor ? x.ndim : 0)));
  return batch.wrap(op(...xs.map((x) => (x instanceof Tensor ? batch.lift(x, rank) : x))));
}

/**
 * The dtype of a binary op's result, as PyTorch promotes: equal dtypes stay; int32 with a float
 * dtype takes the float one; float32 with float64 gives float64. (A number operand is a 0-d
 * tensor of the other operand's dtype: see toTensor.)
 */
export function promote(a: Dtype, b: Dtype): Dtype {
  if (a === b) return a;
  if (a === "int32") return b;
  if (b === "int32") return a;
  return "float64";
}

/**
 * The dtype of an op that needs floats (exp, true division, mean, matmul, …): int32 computes in
 * float64. NOTE: PyTorch gives its default float dtype, float32; float64 is ours.
 */
export function floatDtype(dtype: Dtype): FloatDtype {
  return dtype === "int32" ? "float64" : dtype;
}

const binaryOps = batchable(
  "binary",
  (name: Exclude<BinaryOp, "pow">, a: Tensor, b: TensorLike) => binaryOp(name, a, b),
  (batch, name, a, b): Tensor =>
    broadcastBatch(batch, (x, y): Tensor => binaryOps(name, x as Tensor, y as TensorLike), a, b),
);

export const add = (a: Tensor, b: TensorLike) => binaryOps("add", a, b);
export const sub = (a: Tensor, b: TensorLike) => binaryOps("sub", a, b);
export const mul = (a: Tensor, b: TensorLike) => binaryOps("mul", a, b);
export const div = (a: Tensor, b: TensorLike) => binaryOps("div", a, b);
export const maximum = (a: Tensor, b: TensorLike) => binaryOps("maximum", a, b);
export const minimum = (a: Tensor, b: TensorLike) => binaryOps("minimum", a, b);

/**
 * Limit to [min, max]      y = min(max(x, min), max),   ∂y/∂x = [min ≤ x ≤ max]
 * The gradient passes where x is inside, bounds included. NOTE: NaN gives NaN with gradient 0, as
 * PyTorch's clamp_backward selects g only where min ≤ x ≤ max (false for NaN).
 */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  for (const [name, v] of [
    ["min", min],
    ["max", max],
  ] as const) {
    if (v !== undefined && (typeof v !== "number" || Number.isNaN(v)))
      throw new ChainruleError("clamp", `${name} must be a number, got ${String(v)}`);
  }
  if (min !== undefined && max !== undefined && min > max)
    throw new ChainruleError("clamp", `min ${min} is greater than max ${max}`);
  const bounded = (t: Tensor) => {
    let out = t;
    if (min !== undefined) out = out.maximum(min);
    if (max !== undefined) out = out.minimum(max);
    return out;
  };
  if (!x.requiresGrad) return bounded(x);
  let inside = min === undefined ? x.eq(x) : x.ge(min); // x.eq(x): 1 except at NaN
  if (max !== undefined) inside = inside.mul(x.le(max));
  // x where it is inside, else the bound (or the NaN) as a constant: g reaches x only inside.
  return where(
    inside,
    x,
    noGrad(() => bounded(x)),
  );
}

const comparisons = {
  eq: (a: number, b: number) => (a === b ? 1 : 0),
  ne: (a: number, b: number) => (a !== b ? 1 : 0),
  gt: (a: number, b: number) => (a > b ? 1 : 0),
  ge: (a: number, b: number) => (a >= b ? 1 : 0),
  lt: (a: number, b: number) => (a < b ? 1 : 0),
  le: (a: number, b: number) => (a <= b ? 1 : 0),
};

/** 1 where the comparison holds, else 0, in the promoted dtype. Not differentiable: no graph. */
export const compare = batchable(
  "compare",
  (name: keyof typeof comparisons, a: Tensor, other: TensorLike): Tensor => {
    const b = toTensor(name, other, a);
    const shape = broadcastShapes(name, a.shape, b.shape);
    checkAllocation(name, shape, promote(a.dtype, b.dtype));
    const out = allocate(promote(a.dtype, b.dtype), sizeOf(shape));
    mapBinary(comparisons[name], a.data, a.shape, b.data, b.shape, shape, out);
    return new Tensor(out, shape);
  },
  (batch, name, a, b): Tensor =>
    broadcastBatch(batch, (x, y): Tensor => compare(name, x as Tensor, y as TensorLike), a, b),
);

/** Whether x carries a tangent at a live forward-mode level (a jvp under way). */
function hasTangent(x: Tensor): boolean {
  return forwardLevels.some((level) => tangentOf(x, level) !== null);
}

/** y = x in another dtype      ∂L/∂x = ∂L/∂y cast back */
export const astype = batchable(
  "astype",
  (x: Tensor, dtype: Dtype): Tensor => {
    checkDtype("astype", dtype);
    if (dtype === x.dtype) return x;
    if (dtype === "int32" && ((isGradEnabled() && x.requiresGrad) || hasTangent(x))) {
      throw new ChainruleError(
        "astype",
        `x (shape ${formatShape(x.shape)}) requires grad (or carries a jvp tangent), and no gradient flows through int32; detach() first`,
      );
    }
    // NOTE: to int32, values are truncated toward zero, as PyTorch's cast does.
    const out = allocate(dtype, x.size);
    out.set(x.data);
    return fromOp("astype", out, x.shape, [x], {
      vjp: (g) => [g.astype(x.dtype)],
      jvp: ([dx]) => (dx as Tensor).astype(dtype), // ẏ = ẋ in the new dtype
      replay: () => astype(x, dtype),
      saves: "none", // casts g back, reading nothing
    });
  },
  (batch, x, dtype): Tensor => batch.wrap(astype(batch.inner(x), dtype)),
);

/** y = cond ? a : b      ∂L/∂a = cond ? g : 0,  ∂L/∂b = cond ? 0 : g */
export const where = batchable(
  "where",
  (cond: Tensor, aLike: TensorLike, bLike: TensorLike): Tensor => {
    if (!(cond instanceof Tensor)) throw new ChainruleError("where", `cond must be a Tensor, got ${typeof cond}`);
    // A number branch takes the other branch's dtype (the cond's only when both are numbers).
    const like = aLike instanceof Tensor ? aLike : bLike instanceof Tensor ? bLike : cond;
    const a = toTensor("where", aLike, like);
    const b = toTensor("where", bLike, like);
    const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, a.shape), b.shape);
    const dtype = promote(a.dtype, b.dtype);
    checkAllocation("where", shape, "float64"); // the float64 copy of cond is the largest
    const n = sizeOf(shape);
    const c = allocate("float64", n);
    expand(cond.data, cond.shape, shape, c);
    // A branch already of the result's shape is read in place (its values convert exactly: the
    // result's dtype is at least as wide); only a broadcast one is spread out first.
    const spread = (t: Tensor) => {
      if (sameShape(t.shape, shape)) return t.data;
      const v = allocate(dtype, n);
      expand(t.data, t.shape, shape, v);
      return v;
    };
    const av = spread(a);
    const bv = spread(b);
    const out = allocate(dtype, n);
    for (let i = 0; i < n; i++) out[i] = c[i] !== 0 ? (av[i] as number) : (bv[i] as number);
    const mask = new Tensor(c, shape);
    return fromOp("where", out, shape, [cond, a, b], {
      vjp: (g) => [null, where(mask, g, 0), where(mask, 0, g)],
      jvp: ([, da, db]) => where(mask, da ?? 0, db ?? 0), // ẏ = cond ? ȧ : ḃ
      replay: () => where(cond, a, b),
      saves: "none", // reads its own copy of cond, made in the forward pass
    });
  },
  (batch, cond, a, b): Tensor =>
    broadcastBatch(batch, (c, x, y): Tensor => where(c as Tensor, x as TensorLike, y as TensorLike), cond, a, b),
);

/** t += alpha·other in place (other broadcast to t's shape); no graph. */
export function addInPlace(t: Tensor, otherLike: TensorLike, alpha: number): void {
  const other = toTensor("addInPlace", otherLike, t);
  if (!sameShape(broadcastShapes("addInPlace", t.shape, other.shape), t.shape)) {
    throw new ChainruleError("addInPlace", `cannot broadcast ${formatShape(other.shape)} into ${formatShape(t.shape)}`);
  }
  const d = t.data;
  const od = other.data;
  if (other.size === t.size && !(d instanceof Int32Array) && !(od instanceof Int32Array)) {
    axpy(alpha, od, d); // SIMD for large tensors: optimizers update through here
  } else {
    const o = allocate(t.dtype, t.size);
    expand(other.data, other.shape, t.shape, o);
    for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) + alpha * (o[i] as number);
  }
}
