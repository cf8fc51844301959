/**
 * @file Elementwise operations as one table: each entry is the forward map and its local
 * derivative, side by side, shared by the scalar `Value` engine and the `Tensor` kernels.
 * Imports only special.ts.
 *
 * `y` is the forward result, passed to the derivative so rules like exp, tanh and sigmoid can
 * reuse it instead of recomputing. `formula` is what traces print for the local derivative.
 */

import { erf, roundHalfEven } from "./special.js";

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** A unary elementwise op: the forward map f and its local derivative dy/dx. */
export interface UnaryRule {
  /** The op's name, as in errors and pictures (`exp`, `sigmoid`). */
  readonly name: string;
  /** The local derivative as traces print it (`∂eˣ/∂x = eˣ`). */
  readonly formula: string;
  /** The forward map y = f(x). */
  f(x: number): number;
  /** dy/dx at x; y = f(x) is passed in so rules like exp and sigmoid can reuse it. */
  df(x: number, y: number): number;
}

/** A binary elementwise op: the forward map and both partial derivatives. */
export interface BinaryRule {
  /** The op's name, as in errors and pictures (`add`, `pow`). */
  readonly name: string;
  /** Both partial derivatives as traces print them. */
  readonly formula: string;
  /** The forward map y = f(a, b). */
  f(a: number, b: number): number;
  /** ∂y/∂a at (a, b), with y = f(a, b). */
  da(a: number, b: number, y: number): number;
  /** ∂y/∂b at (a, b), with y = f(a, b). */
  db(a: number, b: number, y: number): number;
}

/**
 * The unary elementwise rules by op name: forward map, derivative and formula, shared by `Value`
 * and `Tensor`; each entry's source line carries its formula.
 *
 * @displayType Readonly<Record<UnaryOp, UnaryRule>>
 */
export const unary = {
  // y = −x                    dy/dx = −1
  neg: { name: "neg", formula: "∂(−x)/∂x = −1", f: (x) => -x, df: () => -1 },
  // y = eˣ                    dy/dx = eˣ = y
  exp: { name: "exp", formula: "∂eˣ/∂x = eˣ", f: Math.exp, df: (_x, y) => y },
  // y = ln x                  dy/dx = 1/x        NOTE: defined for x > 0 only
  log: { name: "log", formula: "∂ln(x)/∂x = 1/x", f: Math.log, df: (x) => 1 / x },
  // y = √x                    dy/dx = 1/(2√x) = 1/(2y)
  sqrt: { name: "sqrt", formula: "∂√x/∂x = 1/(2√x)", f: Math.sqrt, df: (_x, y) => 0.5 / y },
  // y = |x|                   dy/dx = sign(x)    NOTE: we choose 0 at the kink x = 0
  abs: { name: "abs", formula: "∂|x|/∂x = sign(x)", f: Math.abs, df: (x) => Math.sign(x) },
  // y = sin x                 dy/dx = cos x
  sin: { name: "sin", formula: "∂sin(x)/∂x = cos(x)", f: Math.sin, df: (x) => Math.cos(x) },
  // y = cos x                 dy/dx = −sin x
  cos: { name: "cos", formula: "∂cos(x)/∂x = −sin(x)", f: Math.cos, df: (x) => -Math.sin(x) },
  // y = tan x                 dy/dx = 1 + tan²x = 1 + y²
  tan: { name: "tan", formula: "∂tan(x)/∂x = 1 + tan²(x)", f: Math.tan, df: (_x, y) => 1 + y * y },
  // y = arctan x              dy/dx = 1/(1 + x²)
  atan: { name: "atan", formula: "∂atan(x)/∂x = 1/(1 + x²)", f: Math.atan, df: (x) => 1 / (1 + x * x) },
  // y = sinh x                dy/dx = cosh x
  sinh: { name: "sinh", formula: "∂sinh(x)/∂x = cosh(x)", f: Math.sinh, df: (x) => Math.cosh(x) },
  // y = cosh x                dy/dx = sinh x
  cosh: { name: "cosh", formula: "∂cosh(x)/∂x = sinh(x)", f: Math.cosh, df: (x) => Math.sinh(x) },
  // y = arsinh x              dy/dx = 1/√(1 + x²)
  asinh: { name: "asinh", formula: "∂asinh(x)/∂x = 1/√(1 + x²)", f: Math.asinh, df: (x) => 1 / Math.sqrt(1 + x * x) },
  // y = ln(1 + x)             dy/dx = 1/(1 + x)    NOTE: accurate near 0, where 1 + x would round x away
  log1p: { name: "log1p", formula: "∂ln(1 + x)/∂x = 1/(1 + x)", f: Math.log1p, df: (x) => 1 / (1 + x) },
  // y = eˣ − 1                dy/dx = eˣ = y + 1   NOTE: accurate near 0, where eˣ − 1 cancels
  expm1: { name: "expm1", formula: "∂(eˣ − 1)/∂x = eˣ", f: Math.expm1, df: (_x, y) => y + 1 },
  // y = erf x                 dy/dx = (2/√π)·e^(−x²)
  erf: { name: "erf", formula: "∂erf(x)/∂x = (2/√π)·e^(−x²)", f: erf, df: (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x) },
  // y = x²                    dy/dx = 2x
  square: { name: "square", formula: "∂x²/∂x = 2x", f: (x) => x * x, df: (x) => 2 * x },
  // y = 1/x                   dy/dx = −1/x² = −y²
  reciprocal: { name: "reciprocal", formula: "∂(1/x)/∂x = −1/x²", f: (x) => 1 / x, df: (_x, y) => -y * y },
  // y = 1/√x                  dy/dx = −½·x^(−3/2) = −½y³
  rsqrt: {
    name: "rsqrt",
    formula: "∂(1/√x)/∂x = −½·x^(−3/2)",
    f: (x) => 1 / Math.sqrt(x),
    df: (_x, y) => -0.5 * y * y * y,
  },
  // y = ln(1 + eˣ)            dy/dx = σ(x)
  // NOTE: as PyTorch (β = 1, threshold 20): y = x above 20, where ln(1 + eˣ) = x in float64.
  softplus: {
    name: "softplus",
    formula: "∂ln(1 + eˣ)/∂x = σ(x)",
    f: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
    df: (x) => (x > 20 ? 1 : 1 / (1 + Math.exp(-x))),
  },
  // y = x·σ(x)                dy/dx = σ(x)·(1 + x·(1 − σ(x)))
  silu: {
    name: "silu",
    formula: "∂(x·σ(x))/∂x = σ(x)·(1 + x·(1 − σ(x)))",
    f: (x) => x / (1 + Math.exp(-x)),
    df: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    },
  },
  // y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2))      dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)
  gelu: {
    name: "gelu",
    formula: "∂(x·Φ(x))/∂x = Φ(x) + x·φ(x)",
    f: (x) => x * 0.5 * (1 + erf(x * Math.SQRT1_2)),
    // NOTE: Φ(x) is read off the output, y/x, instead of a second erf; near 0, where y/x is 0/0 or
    // y has lost digits to underflow, Φ(x) = ½ to float64 precision.
    df: (x, y) => (Math.abs(x) < 1e-300 ? 0.5 : y / x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  },
  // y = x if x > 0, else eˣ − 1   dy/dx = 1 if x > 0, else eˣ   (α = 1; at 0 both sides give 1)
  elu: {
    name: "elu",
    formula: "∂elu(x)/∂x = [x > 0] + [x ≤ 0]·eˣ",
    f: (x) => (x > 0 ? x : Math.expm1(x)),
    df: (x) => (x > 0 ? 1 : Math.exp(x)),
  },
  // y = ln σ(x) = min(x, 0) − ln(1 + e^(−|x|))     dy/dx = 1 − σ(x) = σ(−x)
  // NOTE: the min form never exponentiates a large positive number, so it holds for any |x|.
  logSigmoid: {
    name: "logSigmoid",
    formula: "∂ln σ(x)/∂x = 1 − σ(x)",
    f: (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
    df: (x) => 1 / (1 + Math.exp(x)),
  },
  // Step functions: piecewise constant, so dy/dx = 0 wherever it exists, and PyTorch's 0 at the jumps.
  // y = ⌊x⌋                   dy/dx = 0
  floor: { name: "floor", formula: "∂⌊x⌋/∂x = 0", f: Math.floor, df: () => 0 },
  // y = ⌈x⌉                   dy/dx = 0
  ceil: { name: "ceil", formula: "∂⌈x⌉/∂x = 0", f: Math.ceil, df: () => 0 },
  // y = x rounded, halves to even   dy/dx = 0
  round: { name: "round", formula: "∂round(x)/∂x = 0", f: roundHalfEven, df: () => 0 },
  // y = sign x                dy/dx = 0
  sign: { name: "sign", formula: "∂sign(x)/∂x = 0", f: Math.sign, df: () => 0 },
  // y = tanh x                dy/dx = 1 − tanh²x = 1 − y²
  tanh: { name: "tanh", formula: "∂tanh(x)/∂x = 1 − tanh²(x)", f: Math.tanh, df: (_x, y) => 1 - y * y },
  // y = σ(x) = 1/(1 + e⁻ˣ)    dy/dx = σ(x)(1 − σ(x)) = y(1 − y)
  // NOTE: for x → −∞, e⁻ˣ overflows to ∞ and y = 1/∞ = 0 exactly: no NaN in float64 or float32.
  sigmoid: {
    name: "sigmoid",
    formula: "∂σ(x)/∂x = σ(x)(1 − σ(x))",
    f: (x) => 1 / (1 + Math.exp(-x)),
    df: (_x, y) => y * (1 - y),
  },
  // y = max(0, x)             dy/dx = 1 if x > 0, else 0   NOTE: we choose 0 at the kink x = 0
  // NOTE: NaN gives NaN (relu(−0) = +0), and dy/dx = [¬(x ≤ 0)] is 1 at NaN: PyTorch's
  // threshold_backward zeroes g only where y ≤ 0, so a NaN gradient from above reaches x.
  relu: {
    name: "relu",
    formula: "∂relu(x)/∂x = [x > 0]",
    f: (x) => (x > 0 || Number.isNaN(x) ? x : 0),
    df: (x) => (x <= 0 ? 0 : 1),
  },
} satisfies Record<string, UnaryRule>;

/** The name of a unary elementwise op: a key of `unary` (`"exp"`, `"tanh"`, …). */
export type UnaryOp = keyof typeof unary;

/** y = xᵖ for a constant p    dy/dx = p·xᵖ⁻¹ */
export function powRule(p: number): UnaryRule {
  return {
    name: "pow",
    formula: `∂x^${p}/∂x = ${p}·x^${p - 1}`,
    f: (x) => binary.pow.f(x, p),
    df: (x) => binary.pow.da(x, p), // the binary rule's ∂y/∂a with b = p (0 for p = 0, also at x = 0)
  };
}

// √(2/π) and the cubic's coefficient of the tanh approximation of gelu, as PyTorch writes them
const GELU_BETA = Math.SQRT2 * TWO_OVER_SQRT_PI * 0.5;
const GELU_KAPPA = 0.044715;

/**
 * y = ½x·(1 + tanh u), u = √(2/π)·(x + 0.044715x³): gelu's tanh approximation (PyTorch's
 * `approximate="tanh"`)      dy/dx = ½(1 + tanh u) + ½x·(1 − tanh²u)·√(2/π)·(1 + 3·0.044715x²)
 */
export const geluTanhRule: UnaryRule = {
  name: "gelu",
  formula: "∂(½x(1 + tanh u))/∂x = ½(1 + tanh u) + ½x(1 − tanh²u)·u′",
  f: (x) => 0.5 * x * (1 + Math.tanh(GELU_BETA * (x + GELU_KAPPA * x * x * x))),
  df: (x) => {
    const t = Math.tanh(GELU_BETA * (x + GELU_KAPPA * x * x * x));
    const du = GELU_BETA * (1 + 3 * GELU_KAPPA * x * x);
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
  },
};

/**
 * The binary elementwise rules by op name: forward map and both partial derivatives, shared by
 * `Value` and `Tensor`; each entry's source line carries its formulas.
 *
 * @displayType Readonly<Record<BinaryOp, BinaryRule>>
 */
export const binary = {
  // y = a + b                 ∂y/∂a = 1,  ∂y/∂b = 1
  add: { name: "add", formula: "∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1", f: (a, b) => a + b, da: () => 1, db: () => 1 },
  // y = a − b                 ∂y/∂a = 1,  ∂y/∂b = −1
  sub: { name: "sub", formula: "∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1", f: (a, b) => a - b, da: () => 1, db: () => -1 },
  // y = a·b                   ∂y/∂a = b,  ∂y/∂b = a
  mul: { name: "mul", formula: "∂(a·b)/∂a = b, ∂(a·b)/∂b = a", f: (a, b) => a * b, da: (_a, b) => b, db: (a) => a },
  // y = a/b                   ∂y/∂a = 1/b,  ∂y/∂b = −a/b² = −y/b
  div: {
    name: "div",
    formula: "∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²",
    f: (a, b) => a / b,
    da: (_a, b) => 1 / b,
    db: (_a, b, y) => -y / b,
  },
  // y = aᵇ                    ∂y/∂a = b·aᵇ⁻¹,  ∂y/∂b = aᵇ·ln a
  // NOTE: ∂y/∂b is taken as 0 at a = 0 (the limit from a > 0 when b > 0); it is NaN for a < 0.
  // ∂y/∂a is 0 for b = 0 (a⁰ is constant), also at a = 0 where b·aᵇ⁻¹ would be 0·∞.
  pow: {
    name: "pow",
    formula: "∂aᵇ/∂a = b·aᵇ⁻¹, ∂aᵇ/∂b = aᵇ·ln(a)",
    f: (a, b) => a ** b,
    da: (a, b) => (b === 0 ? 0 : b * a ** (b - 1)),
    db: (a, _b, y) => (a === 0 ? 0 : y * Math.log(a)),
  },
  // y = max(a, b)             ∂y/∂a = [a > b] + ½[a = b],  ∂y/∂b = [a < b] + ½[a = b]
  // NOTE: a tie splits the gradient in halves, as PyTorch's maximum backward does; NaN in either
  // operand gives NaN, and then both partials are 1 (PyTorch masks g only where a < b or a > b).
  maximum: {
    name: "maximum",
    formula: "∂max(a, b)/∂a = [a > b] + ½[a = b], ∂max(a, b)/∂b = [a < b] + ½[a = b]",
    f: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
    da: (a, b) => (a < b ? 0 : a === b ? 0.5 : 1),
    db: (a, b) => (a > b ? 0 : a === b ? 0.5 : 1),
  },
  // y = min(a, b)             ∂y/∂a = [a < b] + ½[a = b],  ∂y/∂b = [a > b] + ½[a = b]
  // NOTE: ties and NaN as for maximum.
  minimum: {
    name: "minimum",
    formula: "∂min(a, b)/∂a = [a < b] + ½[a = b], ∂min(a, b)/∂b = [a > b] + ½[a = b]",
    f: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
    da: (a, b) => (a > b ? 0 : a === b ? 0.5 : 1),
    db: (a, b) => (a < b ? 0 : a === b ? 0.5 : 1),
  },
} satisfies Record<string, BinaryRule>;

/** The name of a binary elementwise op: a key of `binary` (`"add"`, `"pow"`, …). */
export type BinaryOp = keyof typeof binary;
