/**
 * @file Elementwise operations as one table: each entry is the forward map and its local
 * derivative, side by side, shared by the scalar `Value` engine and the `Tensor` kernels.
 * Imports only errors.ts.
 *
 * `y` is the forward result, passed to the derivative so rules like exp, tanh and sigmoid can
 * reuse it instead of recomputing. `formula` is what traces print for the local derivative.
 */

/** A unary elementwise op: the forward map f and its local derivative dy/dx. */
export interface UnaryRule {
  readonly name: string;
  readonly formula: string;
  f(x: number): number;
  /** dy/dx at x; y = f(x) is passed in so rules like exp and sigmoid can reuse it. */
  df(x: number, y: number): number;
}

/** A binary elementwise op: the forward map and both partial derivatives. */
export interface BinaryRule {
  readonly name: string;
  readonly formula: string;
  f(a: number, b: number): number;
  /** ∂y/∂a at (a, b), with y = f(a, b). */
  da(a: number, b: number, y: number): number;
  /** ∂y/∂b at (a, b), with y = f(a, b). */
  db(a: number, b: number, y: number): number;
}

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
  // y = max(a, b)             ∂y/∂a = [a ≥ b],  ∂y/∂b = [a < b]   NOTE: a tie sends the gradient to a
  // NOTE: NaN in either operand gives NaN, and then both partials are 1 (∂y/∂a = [¬(a < b)],
  // ∂y/∂b = [¬(a ≥ b)]), as PyTorch's maximum backward, which masks g only where a < b or a > b.
  maximum: {
    name: "maximum",
    formula: "∂max(a, b)/∂a = [a ≥ b], ∂max(a, b)/∂b = [a < b]",
    f: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
    da: (a, b) => (a < b ? 0 : 1),
    db: (a, b) => (a >= b ? 0 : 1),
  },
  // y = min(a, b)             ∂y/∂a = [a ≤ b],  ∂y/∂b = [a > b]   NOTE: a tie sends the gradient to a
  // NOTE: NaN as for maximum: y is NaN and both partials are 1.
  minimum: {
    name: "minimum",
    formula: "∂min(a, b)/∂a = [a ≤ b], ∂min(a, b)/∂b = [a > b]",
    f: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
    da: (a, b) => (a > b ? 0 : 1),
    db: (a, b) => (a <= b ? 0 : 1),
  },
} satisfies Record<string, BinaryRule>;

export type BinaryOp = keyof typeof binary;
