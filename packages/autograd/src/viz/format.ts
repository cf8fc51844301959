/**
 * @file What pictures and traces print for a node: compact numbers, tensors by shape and (when
 * small) by value, and a name for every node — its label, or else the expression that made it
 * (`w1·a0`, `σ(z2)`), so a trace of an unlabelled graph still reads like algebra. Shared by
 * dot.ts, trace.ts and chain.ts. Imports value.ts, tensor.ts, graph.ts, rules.ts, shape.ts.
 */

import { topoSort } from "../graph.js";
import { binary } from "../rules.js";
import { formatShape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { Value } from "../value.js";

/** A node of either engine's graph: the scalar `Value` or the n-d `Tensor`. */
export type GraphValue = Value | Tensor;

/** Every node behind `root`, each after its parents (root last), for either engine. */
export function nodesOf(root: GraphValue): GraphValue[] {
  return root instanceof Tensor ? topoSort<Tensor>(root) : topoSort<Value>(root);
}

/** True for a node no operation made: an input, a parameter or a constant. */
export function isLeafNode(node: GraphValue): boolean {
  // A Tensor computed without any input needing a gradient has no parents either: to the graph
  // (and to a picture of it) it is a leaf, a constant.
  return node instanceof Value ? node.rule === null : node.parents.length === 0;
}

/**
 * A leaf that is neither learnt nor named: an unlabelled Value leaf (a number operand), or an
 * unlabelled Tensor leaf without requiresGrad. A labelled Tensor without requiresGrad is an input.
 */
export function isConstant(node: GraphValue): boolean {
  if (!isLeafNode(node) || node.label !== "") return false;
  return node instanceof Value || !node.requiresGrad;
}

/** `x` to `digits` significant digits, without trailing zeros: −0.07752, 0.5, 1.2e-7. */
export function formatNumber(x: number, digits = 4): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}

/** A tensor's elements as nested brackets, `[[1, 2], [3, 4]]`, each to `digits` digits. */
export function formatValues(t: Tensor, digits = 4): string {
  if (t.ndim === 0) return formatNumber(t.data[0] as number, digits);
  const build = (axis: number, offset: number, stride: number): string => {
    const n = t.shape[axis] as number;
    const inner = stride / n;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      parts.push(
        axis === t.ndim - 1
          ? formatNumber(t.data[offset + i] as number, digits)
          : build(axis + 1, offset + i * inner, inner),
      );
    }
    return `[${parts.join(", ")}]`;
  };
  return build(0, 0, t.size);
}

/** `[30×784]`; a 0-d tensor is `[]` (a scalar). */
export function formatTensorShape(t: Tensor): string {
  return formatShape(t.shape).replace(/, /g, "×");
}

/** A tensor as text: its values when it has at most `maxValues` elements, else its shape only. */
function formatTensor(t: Tensor, maxValues = 6, digits = 4): string {
  return t.size <= maxValues ? formatValues(t, digits) : `${formatTensorShape(t)} tensor`;
}

/** A gradient or value of either engine, as text. */
export function formatQuantity(q: number | Tensor, maxValues = 6, digits = 4): string {
  return typeof q === "number" ? formatNumber(q, digits) : formatTensor(q, maxValues, digits);
}

// ---- names: labels, or the expression that made a node ----

/**
 * A piece of notation and how tightly it binds, so that it is parenthesised only where needed:
 * 1 for sums, 2 for products, 3 for powers and prefix minus, 4 for names and function calls
 * (a negative number, 1.5, is bracketed as an operand of a product or a difference).
 */
export interface Term {
  text: string;
  prec: number;
}

export const atom = (text: string): Term => ({ text, prec: 4 });

/** `term` as an operand that must bind at least as tightly as `min`. */
export function wrap(term: Term, min: number): string {
  return term.prec >= min ? term.text : `(${term.text})`;
}

/** The constant exponent p of a `pow` node (`x.pow(2)`: 2), or null. */
export function powExponent(node: GraphValue): number | null {
  return node.op === "pow" ? hiddenConstant(node) : null;
}

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** An exponent as written after its base: `²`, `⁻¹` for integers, `^0.5` otherwise. */
export function exponent(p: number): string {
  return Number.isInteger(p) && Math.abs(p) < 1000
    ? [...String(p)].map((c) => SUPERSCRIPT[c] ?? c).join("")
    : `^${formatNumber(p)}`;
}

/** A name inside ∂…/∂…, bracketed when it is an expression: ∂C/∂(a2 − 1). */
export function bracket(name: string): string {
  return /[\s+−·/^⊙⁰¹²³⁴⁵⁶⁷⁸⁹⁻]/.test(name) ? `(${name})` : name;
}

// Recovered constants, per node: scanning a tensor's data once is enough.
const hidden = new WeakMap<Tensor, number | null>();

/**
 * The number operand of an op with a plain number (`x.mul(2)`, `s.div(3)`, `x.pow(2)`): such a
 * number is part of the node, not a node of its own. A Value keeps it (`constant`); a Tensor's
 * rule keeps it in a closure, so it is read back from the data — c = y − x for add, y/x for mul,
 * and so on — and kept only when every element confirms it. Null when there is none, or it
 * cannot be recovered.
 */
export function hiddenConstant(node: GraphValue): number | null {
  if (node.parents.length !== 1 || !(node.op in binary)) return null;
  if (node instanceof Value) return node.constant ?? null;
  const known = hidden.get(node);
  if (known !== undefined) return known;
  const x = (node.parents[0] as Tensor).data;
  const y = node.data;
  const rule = binary[node.op as keyof typeof binary];
  const solve: Record<string, (x: number, y: number) => number> = {
    add: (x, y) => y - x,
    sub: (x, y) => x - y,
    mul: (x, y) => y / x,
    div: (x, y) => x / y,
    pow: (x, y) => Math.log(Math.abs(y)) / Math.log(Math.abs(x)),
  };
  let c: number | null = null;
  const f = solve[node.op];
  for (let i = 0; f !== undefined && i < x.length && c === null; i++) {
    const candidate = f(x[i] as number, y[i] as number);
    // Rounded to 12 digits, so 1/3 read back from a division is 3, not 2.9999999999999996.
    if (Number.isFinite(candidate) && candidate !== 0) c = Number(candidate.toPrecision(12));
  }
  for (let i = 0; c !== null && i < x.length; i++) {
    const got = y[i] as number;
    // float32 results carry ~6e-8 of rounding; float64 ones far less
    const tol = node.dtype === "float32" ? 1e-6 : 1e-9;
    if (!(Math.abs(rule.f(x[i] as number, c) - got) <= tol * Math.max(1, Math.abs(got)))) c = null;
  }
  hidden.set(node, c);
  return c;
}

/** A node's operands as notation: its parents' names, and a hidden number operand if it has one. */
export function operandTerms(node: GraphValue, name: (n: GraphValue) => Term): Term[] {
  const args = (node.parents as readonly GraphValue[]).map(name);
  if (args.length === 1 && node.op in binary) {
    const c = hiddenConstant(node);
    args.push(c === null ? atom("c") : { text: formatNumber(c), prec: c < 0 ? 1.5 : 4 });
  }
  return args;
}

/** How an op is written, given its operands' notation; null for ops we have no notation for. */
export function expressionOf(node: GraphValue, args: readonly Term[]): Term | null {
  const [a, b] = args;
  if (a === undefined) return null;
  const call = (f: string): Term => atom(`${f}(${args.map((t) => t.text).join(", ")})`);
  const tensor = node instanceof Tensor;
  const infix = (op: string, left: number, right: number, prec: number): Term | null =>
    b === undefined ? null : { text: `${wrap(a, left)}${op}${wrap(b, right)}`, prec };
  switch (node.op) {
    case "add":
      return infix(" + ", 1, 1, 1);
    case "sub":
      return infix(" − ", 1, 2, 1);
    case "mul":
      // ⊙ for the elementwise product of two tensors; a number times a tensor is plain x·2.
      return infix(tensor && node.parents.length === 2 ? " ⊙ " : "·", 2, 3, 2);
    case "div":
      return infix("/", 2, 3, 2);
    case "matmul":
      return infix("·", 2, 3, 2);
    case "pow": {
      const p = powExponent(node);
      if (p !== null) return { text: `${wrap(a, 4)}${exponent(p)}`, prec: 3 };
      return b === undefined ? call("pow") : infix("^", 4, 4, 3);
    }
    case "neg":
      return { text: `−${wrap(a, 3)}`, prec: 3 };
    case "sigmoid":
      return call("σ");
    case "log":
      return call("ln");
    case "sqrt":
      return { text: `√${wrap(a, 4)}`, prec: 4 };
    case "abs":
      return atom(`|${a.text}|`);
    case "sum":
      return call("Σ");
    case "maximum":
      return call("max");
    case "minimum":
      return call("min");
    case "permute":
      // The 2-d permutation that changes anything is the transpose.
      return tensor && node.ndim === 2 ? { text: `${wrap(a, 4)}ᵀ`, prec: 4 } : call("permute");
    default:
      return call(node.op);
  }
}

interface NameOptions {
  /** Generated expressions longer than this become `t1`, `t2`, … (default 20). */
  maxNameLength?: number;
  digits?: number;
}

/**
 * A name for every node behind `root`: its label when set; for an unlabelled constant, its value;
 * for an unlabelled op, the expression over its parents' names while that stays short, else `t1`,
 * `t2`, … in graph order. Names may repeat when labels do.
 */
export function nameNodes(order: readonly GraphValue[], options: NameOptions = {}): Map<GraphValue, Term> {
  const maxLength = options.maxNameLength ?? 20;
  const digits = options.digits ?? 4;
  const names = new Map<GraphValue, Term>();
  let fresh = 0;
  for (const node of order) {
    if (node.label !== "") {
      names.set(node, atom(node.label));
      continue;
    }
    if (isLeafNode(node)) {
      if (node instanceof Value || node.size === 1) {
        const x = node instanceof Value ? node.data : (node.data[0] as number);
        // A negative constant is bracketed as an operand of a product or a difference: a·(-1.3).
        names.set(node, { text: formatNumber(x, digits), prec: x < 0 ? 1.5 : 4 });
        continue;
      }
    } else {
      const expr = expressionOf(
        node,
        operandTerms(node, (p) => names.get(p) ?? atom("?")),
      );
      if (expr !== null && expr.text.length <= maxLength) {
        names.set(node, expr);
        continue;
      }
    }
    names.set(node, atom(`t${++fresh}`));
  }
  return names;
}
