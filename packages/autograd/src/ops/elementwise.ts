/**
 * @file Elementwise operations on tensors, each forward beside its derivative rule. The forward
 * maps come from rules.ts (shared with `Value`). Every rule has two forms with one meaning:
 * - composed: the derivative written with Tensor operations, so that a recorded backward pass
 *   (`createGraph`) can be differentiated again;
 * - fused: one loop over the scalar derivative of rules.ts, used when nothing is recorded.
 * The property tests check the two against each other. Imports tensor.ts, ndarray.ts, rules.ts,
 * shape.ts, errors.ts.
 */

import { ChainruleError } from "../errors.js";
import { axpy } from "../kernels/matmul.js";
import {
  allocate,
  binaryGrad,
  checkAllocation,
  type Dtype,
  expand,
  mapBinary,
  mapUnary,
  unaryGrad,
} from "../ndarray.js";
import { type BinaryOp, type BinaryRule, binary, powRule, type UnaryOp, type UnaryRule, unary } from "../rules.js";
import { broadcastShapes, formatShape, sameShape, sizeOf } from "../shape.js";
import { checkDtype, fromOp, isGradEnabled, noGrad, type Saves, Tensor, type TensorLike, toTensor } from "../tensor.js";

/** ∂y/∂x as a tensor (or a constant), from the input x and the output y. */
type UnaryDerivative = (x: Tensor, y: Tensor) => Tensor | number;

const unaryDerivative: Record<UnaryOp, UnaryDerivative> = {
  neg: () => -1, //                                   ∂(−x)/∂x = −1
  exp: (_x, y) => y, //                               ∂eˣ/∂x = eˣ = y
  log: (x) => x.pow(-1), //                           ∂ln x/∂x = 1/x
  sqrt: (_x, y) => y.mul(2).pow(-1), //               ∂√x/∂x = 1/(2√x)
  abs: (x) => x.sign(), //                            ∂|x|/∂x = sign(x)
  tanh: (_x, y) => y.mul(y).neg().add(1), //          ∂tanh x/∂x = 1 − y²
  sigmoid: (_x, y) => y.mul(y.neg().add(1)), //       ∂σ(x)/∂x = y(1 − y)
  relu: (x) => x.le(0).eq(0), //                      ∂relu(x)/∂x = [x > 0] (and 1 at NaN: [¬(x ≤ 0)])
};

// What each derivative reads, beside the rules above: exp, sqrt, tanh and sigmoid only their
// output y, neg nothing, the others their input x.
const unarySaves: Partial<Record<UnaryOp, Saves>> = {
  neg: "none",
  exp: "output",
  sqrt: "output",
  tanh: "output",
  sigmoid: "output",
};

export function unaryOp(name: UnaryOp, x: Tensor): Tensor {
  return applyUnary(unary[name], x, unaryDerivative[name], unarySaves[name] ?? "all");
}

function applyUnary(rule: UnaryRule, x: Tensor, derivative: UnaryDerivative, saves: Saves): Tensor {
  const out = allocate(x.dtype, x.size);
  mapUnary(rule.f, x.data, out, rule.name);
  return fromOp(
    rule.name,
    out,
    x.shape,
    [x],
    (g, y) => {
      if (isGradEnabled()) return [g.mul(derivative(x, y))];
      const gx = allocate(g.dtype, g.size);
      unaryGrad(rule.df, x.data, y.data, g.data, gx, rule.name);
      return [new Tensor(gx, x.shape)];
    },
    () => applyUnary(rule, x, derivative, saves),
    saves,
  );
}

/** Elementwise power; a number exponent is a unary rule, a tensor exponent a binary one. */
export function pow(x: Tensor, exponent: TensorLike): Tensor {
  if (typeof exponent === "number") {
    // ∂xᵖ/∂x = p·xᵖ⁻¹ (0 for p = 0: x⁰ is constant, also at x = 0)
    return applyUnary(powRule(exponent), x, (x) => (exponent === 0 ? 0 : x.pow(exponent - 1).mul(exponent)), "all");
  }
  return binaryOp("pow", x, exponent);
}

/** ∂L/∂a and ∂L/∂b in the output's shape, written with tensor ops (g = ∂L/∂y). */
type BinaryDerivative = (g: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor, Tensor];

// NOTE: as in rules.ts: ∂/∂a is 0 at a = b = 0 (where b·aᵇ⁻¹ is 0·∞); ∂/∂b is 0 at a = 0 (its limit for b > 0) and NaN
// for a < 0. `where` selects rather than multiplies, so the 0·∞ of the branch not taken never
// reaches a value or a gradient.
const lnOrZero = (a: Tensor) => where(a.lt(0), Number.NaN, where(a.gt(0), a, 1).log());

const binaryDerivative: Record<BinaryOp, BinaryDerivative> = {
  add: (g) => [g, g], //                                        ∂(a+b) = (1, 1)
  sub: (g) => [g, g.neg()], //                                  ∂(a−b) = (1, −1)
  mul: (g, a, b) => [g.mul(b), g.mul(a)], //                    ∂(a·b) = (b, a)
  div: (g, _a, b, y) => [g.div(b), g.mul(y).div(b).neg()], //   ∂(a/b) = (1/b, −a/b²)
  pow: (g, a, b, y) => [g.mul(where(a.eq(0).mul(b.eq(0)), 0, b.mul(a.pow(b.sub(1))))), g.mul(y).mul(lnOrZero(a))], // (b·aᵇ⁻¹, aᵇ·ln a)
  // ([a ≥ b], [a < b]) and ([a ≤ b], [a > b]), written as negations so that NaN sends g to both
  maximum: (g, a, b) => [g.mul(a.lt(b).eq(0)), g.mul(a.ge(b).eq(0))],
  minimum: (g, a, b) => [g.mul(a.gt(b).eq(0)), g.mul(a.le(b).eq(0))],
};

function binaryOp(name: BinaryOp, a: Tensor, other: TensorLike): Tensor {
  const b = toTensor(name, other, a);
  const rule: BinaryRule = binary[name];
  const shape = broadcastShapes(name, a.shape, b.shape);
  const dtype = promote(a.dtype, b.dtype);
  checkAllocation(name, shape, dtype); // broadcasting can make a result far larger than its operands
  const out = allocate(dtype, sizeOf(shape));
  mapBinary(rule.f, a.data, a.shape, b.data, b.shape, shape, out, name);
  // A number operand is a constant, not a graph node (as in PyTorch's tensor-scalar ops): the
  // node keeps only the tensor parent, and the 0-d constant lives only while the op runs.
  const parents = typeof other === "number" ? [a] : [a, b];
  return fromOp(
    name,
    out,
    shape,
    parents,
    (g, y) => {
      // a ± b reads neither operand: no need to make b again
      if (name === "add" || name === "sub") return binaryDerivative[name](g, a, a, y);
      const c = toTensor(name, other, a); // b again (the closure keeps `other`, not a 0-d tensor)
      if (isGradEnabled()) return binaryDerivative[name](g, a, c, y);
      const ga = a.requiresGrad ? allocate(g.dtype, g.size) : null;
      const gb = c.requiresGrad ? allocate(g.dtype, g.size) : null;
      binaryGrad(rule, a.data, a.shape, c.data, c.shape, y.data, g.data, shape, ga, gb);
      return [ga && new Tensor(ga, shape), gb && new Tensor(gb, shape)];
    },
    () => binaryOp(name, a, other),
    name === "add" || name === "sub" ? "none" : "all", // a ± b: the rule passes g on, reading nothing
  );
}

/** The one dtype rule: mixing float32 and float64 gives float64 (numbers take the tensor's dtype). */
export function promote(a: Dtype, b: Dtype): Dtype {
  return a === b ? a : "float64";
}

export const add = (a: Tensor, b: TensorLike) => binaryOp("add", a, b);
export const sub = (a: Tensor, b: TensorLike) => binaryOp("sub", a, b);
export const mul = (a: Tensor, b: TensorLike) => binaryOp("mul", a, b);
export const div = (a: Tensor, b: TensorLike) => binaryOp("div", a, b);
export const maximum = (a: Tensor, b: TensorLike) => binaryOp("maximum", a, b);
export const minimum = (a: Tensor, b: TensorLike) => binaryOp("minimum", a, b);

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
export function compare(name: keyof typeof comparisons, a: Tensor, other: TensorLike): Tensor {
  const b = toTensor(name, other, a);
  const shape = broadcastShapes(name, a.shape, b.shape);
  checkAllocation(name, shape, promote(a.dtype, b.dtype));
  const out = allocate(promote(a.dtype, b.dtype), sizeOf(shape));
  mapBinary(comparisons[name], a.data, a.shape, b.data, b.shape, shape, out);
  return new Tensor(out, shape);
}

/** −1, 0 or 1 (no gradient: the derivative of sign is 0 wherever it exists). */
export function sign(x: Tensor): Tensor {
  const out = allocate(x.dtype, x.size);
  mapUnary(Math.sign, x.data, out);
  return new Tensor(out, x.shape);
}

/** y = x in another dtype      ∂L/∂x = ∂L/∂y cast back */
export function astype(x: Tensor, dtype: Dtype): Tensor {
  checkDtype("astype", dtype);
  if (dtype === x.dtype) return x;
  const out = allocate(dtype, x.size);
  out.set(x.data);
  return fromOp(
    "astype",
    out,
    x.shape,
    [x],
    (g) => [g.astype(x.dtype)],
    () => astype(x, dtype),
    "none", // casts g back, reading nothing
  );
}

/** y = cond ? a : b      ∂L/∂a = cond ? g : 0,  ∂L/∂b = cond ? 0 : g */
export function where(cond: Tensor, aLike: TensorLike, bLike: TensorLike): Tensor {
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
  return fromOp(
    "where",
    out,
    shape,
    [cond, a, b],
    (g) => [null, where(mask, g, 0), where(mask, 0, g)],
    () => where(cond, a, b),
    "none", // reads its own copy of cond, made in the forward pass
  );
}

/** t += alpha·other in place (other broadcast to t's shape); no graph. */
export function addInPlace(t: Tensor, otherLike: TensorLike, alpha: number): void {
  const other = toTensor("addInPlace", otherLike, t);
  if (!sameShape(broadcastShapes("addInPlace", t.shape, other.shape), t.shape)) {
    throw new ChainruleError("addInPlace", `cannot broadcast ${formatShape(other.shape)} into ${formatShape(t.shape)}`);
  }
  const d = t.data;
  if (other.size === t.size) {
    axpy(alpha, other.data, d); // SIMD for large tensors: optimizers update through here
  } else {
    const o = allocate(t.dtype, t.size);
    expand(other.data, other.shape, t.shape, o);
    for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) + alpha * (o[i] as number);
  }
}
