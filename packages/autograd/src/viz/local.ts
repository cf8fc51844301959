/**
 * @file The notation of local derivatives, for traces and chains: ∂y/∂x of each op written over
 * the names of its operands (`σ'(z2)`, `a1`, `2·(a2 − 1)`), the calculus formula of its rule,
 * and, for tensors, the vector–Jacobian product the rule computes (`g·W2ᵀ`). The numbers come
 * from the engines; this file only says what they are. Imports rules.ts, custom.ts, value.ts,
 * tensor.ts, format.ts.
 */

import { customFormulas } from "../custom.js";
import { binary, unary } from "../rules.js";
import type { Tensor } from "../tensor.js";
import { Value } from "../value.js";
import {
  atom,
  exponent,
  formatNumber,
  type GraphValue,
  hiddenConstant,
  isConstant,
  operandTerms,
  powExponent,
  type Term,
  wrap,
} from "./format.js";

/**
 * A local derivative as a coefficient times symbolic terms: ∂(x²)/∂x = 2·x is `{ coef: 2,
 * terms: [x] }`. Keeping the number apart lets a chain multiply out its constants
 * (½ · 2 · 1 = 1), as a derivation by hand does.
 */
export interface Factor {
  coef: number;
  terms: Term[];
}

const num = (coef: number): Factor => ({ coef, terms: [] });
const sym = (term: Term): Factor => ({ coef: 1, terms: [term] });

type Names = (node: GraphValue) => Term;

/** The value of a node that is a known number (a scalar constant), or null. */
function constantValue(node: GraphValue): number | null {
  if (!isConstant(node)) return null;
  if (node instanceof Value) return node.data;
  return node.size === 1 ? (node.data[0] as number) : null;
}

/** ∂node/∂(its k-th parent), in the notation of the operands' names. */
export function localFactor(node: GraphValue, k: number, name: Names): Factor {
  const parents = node.parents as readonly GraphValue[];
  // Operands: each parent's name and, for a scalar constant, its value; then a tensor–number
  // op's hidden number operand.
  const operands = parents.map((p) => ({ term: name(p), value: constantValue(p) }));
  const terms = operandTerms(node, name);
  if (terms.length > operands.length) {
    operands.push({ term: terms[terms.length - 1] as Term, value: hiddenConstant(node) });
  }
  const x = (operands[0] as Operand).term;
  const b = operands[1];
  const other = b === undefined ? undefined : ((k === 0 ? b : operands[0]) as Operand);
  switch (node.op) {
    case "neg":
      return num(-1); //                                    ∂(−x)/∂x = −1
    case "exp":
      return sym(atom(`exp(${x.text})`)); //                 ∂eˣ/∂x = eˣ
    case "log":
      return sym({ text: `1/${wrap(x, 4)}`, prec: 2 }); //   ∂ln x/∂x = 1/x
    case "sqrt":
      return sym({ text: `1/(2√${wrap(x, 4)})`, prec: 2 });
    case "abs":
      return sym(atom(`sign(${x.text})`));
    case "tanh":
      return sym({ text: `1 − tanh²(${x.text})`, prec: 1 });
    case "sigmoid":
      return sym(atom(`σ'(${x.text})`)); //                  σ'(x) = σ(x)(1 − σ(x))
    case "relu":
      return sym(atom(`[${x.text} > 0]`));
    case "add":
      return num(1);
    case "sub":
      return num(k === 0 ? 1 : -1);
    case "mul":
      // ∂(a·b)/∂a = b: the other operand, a plain number when it is a constant.
      if (other === undefined) break;
      return other.value === null ? sym(other.term) : num(other.value);
    case "div":
      if (b === undefined) break;
      if (k === 0) return b.value === null ? sym({ text: `1/${wrap(b.term, 3)}`, prec: 2 }) : num(1 / b.value);
      return { coef: -1, terms: [{ text: `${wrap(x, 2)}/${wrap(b.term, 4)}²`, prec: 2 }] };
    case "pow": {
      const p = b === undefined ? powExponent(node) : b.value;
      if (b !== undefined && p === null) {
        const e = b.term;
        return k === 0
          ? { coef: 1, terms: [e, { text: `${wrap(x, 4)}^(${e.text} − 1)`, prec: 3 }] }
          : { coef: 1, terms: [{ text: `${wrap(x, 4)}^${wrap(e, 4)}`, prec: 3 }, atom(`ln(${x.text})`)] };
      }
      if (k === 1) break; // a constant exponent is not differentiated
      if (p === null) return sym({ text: `p·${wrap(x, 4)}^(p − 1)`, prec: 2 });
      if (p === 0 || p === 1) return num(p);
      if (p === 2) return { coef: 2, terms: [x] };
      return { coef: p, terms: [{ text: `${wrap(x, 4)}${exponent(p - 1)}`, prec: 3 }] };
    }
    case "maximum":
    case "minimum": {
      if (b === undefined) break;
      const cmp = node.op === "maximum" ? (k === 0 ? ">" : "<") : k === 0 ? "<" : ">";
      return sym(atom(`([${x.text} ${cmp} ${b.term.text}] + ½[${x.text} = ${b.term.text}])`));
    }
  }
  const wrt = (operands[k] as Operand | undefined)?.term ?? atom("x");
  return sym(atom(`∂${node.op}/∂${wrap(wrt, 4)}`));
}

interface Operand {
  term: Term;
  value: number | null;
}

/** A factor as notation: `2·(a2 − 1)`, `σ'(z2)`, `-1`. */
export function factorTerm(f: Factor): Term {
  if (f.terms.length === 0 || f.coef === 0) return { text: formatNumber(f.coef), prec: f.coef < 0 ? 1.5 : 4 };
  const [only] = f.terms;
  if (f.terms.length === 1 && only !== undefined && f.coef === 1) return only;
  const body = f.terms.map((t) => wrap(t, 2)).join("·");
  if (f.coef === 1) return { text: body, prec: 2 };
  if (f.coef === -1) return { text: `−${body}`, prec: 2 };
  return { text: `${formatNumber(f.coef)}·${body}`, prec: 2 };
}

/** The product of factors: coefficients multiplied out, terms side by side. */
export function multiplyFactors(factors: readonly Factor[]): Factor {
  let coef = 1;
  const terms: Term[] = [];
  for (const f of factors) {
    coef *= f.coef;
    terms.push(...f.terms);
  }
  return coef === 0 ? num(0) : { coef, terms };
}

// Rules of the tensor ops that are not elementwise, one formula per input (or one for all).
const TENSOR_FORMULAS: Record<string, readonly string[]> = {
  matmul: ["C = A·B: ∂L/∂A = G·Bᵀ", "C = A·B: ∂L/∂B = Aᵀ·G"],
  sum: ["y = Σx: ∂y/∂xᵢ = 1, so ∂L/∂x is g copied along the summed axes"],
  reshape: ["∂L/∂x = g reshaped back to x's shape"],
  permute: ["∂L/∂x = g with the inverse permutation of axes"],
  expand: ["∂L/∂x = g summed over the broadcast axes"],
  max: ["∂L/∂x = g at the first largest element, 0 elsewhere"],
  min: ["∂L/∂x = g at the first smallest element, 0 elsewhere"],
  slice: ["∂L/∂x = g placed at the sliced positions, 0 elsewhere"],
  take: ["∂L/∂x = g added back at the taken indices"],
  concat: ["∂L/∂xᵢ = the part of g that came from xᵢ"],
  where: ["", "∂L/∂a = g where cond holds, 0 elsewhere", "∂L/∂b = g where cond fails, 0 elsewhere"],
  astype: ["∂L/∂x = g cast back to x's dtype"],
};

/**
 * The formula of the rule that differentiates `node` with respect to its k-th parent, as a
 * calculus text writes it (`∂σ(x)/∂x = σ(x)(1 − σ(x))`), or null for an op without one.
 */
export function localFormula(node: GraphValue, k: number): string | null {
  let formula: string | undefined;
  // A constant exponent (x.pow(2)): the power rule, with the exponent a number, not an input.
  if (node.op === "pow" && node.parents.length === 1) formula = "∂xᵖ/∂x = p·xᵖ⁻¹";
  else if (node instanceof Value) formula = node.rule?.formula;
  else if (node.op in unary) formula = unary[node.op as keyof typeof unary].formula;
  else if (node.op in binary) formula = binary[node.op as keyof typeof binary].formula;
  else if (node.op in TENSOR_FORMULAS) {
    const table = TENSOR_FORMULAS[node.op] as readonly string[];
    const f = table[k] ?? table[0];
    return f === undefined || f === "" ? null : f;
  } else formula = customFormulas.get(node.op); // an op defined with customOp({ formula })
  if (formula === undefined) return null;
  // A binary rule's formula lists both partials: "∂(a·b)/∂a = b, ∂(a·b)/∂b = a".
  const parts = formula.split(/, (?=∂)/);
  return parts[k] ?? parts[0] ?? null;
}

/** Whether a tensor op is elementwise, so that its local derivative is one number per element. */
export function isElementwise(node: GraphValue): boolean {
  return node.op in unary || node.op in binary;
}

function transposed(t: Term): string {
  return t.prec === 4 && t.text.endsWith("ᵀ") ? t.text.slice(0, -1) : `${wrap(t, 4)}ᵀ`;
}

/**
 * What a tensor rule sends to its k-th parent, written with `g` = ∂L/∂node: `g ⊙ σ'(z)`,
 * `g·W2ᵀ`, `g reshaped back`.
 */
export function tensorVjp(node: Tensor, k: number, name: Names): string {
  const parents = node.parents;
  const parent = parents[k] as Tensor;
  const broadcast = parent.shape.length !== node.shape.length || parent.shape.some((d, i) => d !== node.shape[i]);
  const summed = broadcast ? ", summed over the broadcast axes" : "";
  if (isElementwise(node)) {
    const f = localFactor(node, k, name);
    if (f.terms.length > 0) return `g ⊙ ${wrap(factorTerm(f), 3)}${summed}`;
    const text = f.coef === 1 ? "g" : f.coef === -1 ? "−g" : `${formatNumber(f.coef)}·g`;
    return text + summed;
  }
  const [a, b] = operandTerms(node, name) as [Term, Term | undefined];
  switch (node.op) {
    case "matmul":
      // C = A·B: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G (and (Wᵀ)ᵀ is W)
      return k === 0 ? `g·${transposed(b ?? atom("B"))}` : `${transposed(a)}·g`;
    case "sum":
      return "g copied along the summed axes";
    case "reshape":
      return "g reshaped back";
    case "permute":
      return node.ndim === 2 ? "gᵀ" : "g permuted back";
    case "expand":
      return "g summed over the broadcast axes";
    case "astype":
      return "g cast back";
    case "where":
      return k === 1 ? "g where cond, else 0" : "g where not cond, else 0";
    default: {
      const table = TENSOR_FORMULAS[node.op];
      const f = table === undefined ? undefined : (table[k] ?? table[0]);
      return f === undefined || f === "" ? `the rule of ${node.op} applied to g` : f.replace(/^.*= /, "");
    }
  }
}
