/**
 * @file A step-by-step record of a backward pass: for every node, in the order reverse mode
 * visits them, the gradient that arrived from above (∂L/∂node), the local derivative of its rule
 * for each input — by name, formula and number — and the product it passes down. Printed, it
 * reads like the chain rule worked by hand. Imports value.ts, tensor.ts, rules.ts, errors.ts,
 * format.ts, local.ts.
 */

import { type BackwardOptions, noGrad, sumToShape, type TensorStep } from "../engine.js";
import { ChainruleError } from "../errors.js";
import { binary, unary } from "../rules.js";
import { sameShape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { Value, type ValueStep } from "../value.js";
import {
  bracket,
  expressionOf,
  formatNumber,
  formatQuantity,
  formatTensorShape,
  type GraphValue,
  hiddenConstant,
  isConstant,
  isLeafNode,
  nameNodes,
  nodesOf,
  operandTerms,
  type Term,
} from "./format.js";
import { factorTerm, isElementwise, localFactor, localFormula, tensorVjp } from "./local.js";

/** What one node passed to one of its inputs during a backward pass. */
export interface TraceEdge {
  /** The input (parent) node. */
  parent: GraphValue;
  /** Its name in the trace: its label, or the expression that made it. */
  name: string;
  /**
   * ∂node/∂parent. Value: the number the rule computed. Tensor: for an elementwise op, one
   * partial derivative per element of the output (inputs broadcast to it); null for other ops,
   * whose derivative is a Jacobian applied, never formed.
   */
  local: number | Tensor | null;
  /**
   * The local derivative in the operands' names (Value: `σ'(z2)`, `a1`); for a Tensor, the
   * product the rule sends, written with g = ∂L/∂node (`g ⊙ σ'(z)`, `g·W2ᵀ`).
   */
  symbol: string;
  /** The rule's formula, e.g. `∂σ(x)/∂x = σ(x)(1 − σ(x))`; null when the op has none. */
  formula: string | null;
  /**
   * ∂L/∂node × ∂node/∂parent: this edge's contribution to ∂L/∂parent (a Tensor summed back to
   * the parent's shape where it was broadcast). Null when the parent needs no gradient.
   */
  sent: number | Tensor | null;
}

/** One node's turn in the backward pass. */
export interface TraceStep {
  /** 1 for the output, then in the order the backward pass ran. */
  index: number;
  /** The node (a Value or a Tensor). */
  node: GraphValue;
  /** The node's name: its label, or its expression. */
  name: string;
  /** How it was computed from its inputs' names, e.g. `σ(z2)`, `w2·a1 + b2`. */
  expression: string;
  /** The operation that made the node (`mul`, `sigmoid`, …; `leaf` for an input). */
  op: string;
  /** ∂L/∂node: the sum of everything the node's consumers sent it. */
  upstream: number | Tensor;
  /** One entry per input, in the op's argument order. */
  parents: TraceEdge[];
}

/** A recorded backward pass. */
export interface Trace {
  /** The output the backward pass started from. */
  root: GraphValue;
  /** The name of the output, L when it has no label: gradients are written ∂L/∂x. */
  rootName: string;
  /** The recorded steps (the first `maxSteps` when it was given). */
  steps: TraceStep[];
  /** How many steps the whole backward pass took. */
  totalSteps: number;
  /** Every node of the graph, each after its inputs (the output last). */
  nodes: readonly GraphValue[];
  /** The name of every node, as the steps print it. */
  names: ReadonlyMap<GraphValue, string>;
  /** Notation of every node, with binding strength (for chain.ts). */
  terms: ReadonlyMap<GraphValue, Term>;
  /**
   * For every node that received something in the recorded steps: the sum of what it received.
   * For a leaf over a whole pass this is the gradient the backward pass added to its `.grad`.
   */
  gradients: Map<GraphValue, number | Tensor>;
}

/** Options of `traceBackward`. */
export interface TraceOptions {
  /** Record only the first k steps (the backward pass itself still runs to the end). */
  maxSteps?: number;
  /** Tensor outputs with more than one element: ∂L/∂output, as for `backward(seed)`. */
  seed?: Tensor | number;
  /** Tensor graphs: keep the graph for another backward pass (see `BackwardOptions`). */
  retainGraph?: boolean;
  /** Generated names (`w1·a0`) longer than this become `t1`, `t2`, … (default 20). */
  maxNameLength?: number;
}

/**
 * Runs the backward pass from `root` and records it, step by step. The trace IS a backward pass:
 * the gradients it records are added to `.grad` as `root.backward()` would (so leaves accumulate;
 * zero them first if they hold an earlier pass), and they are exactly the numbers the engine
 * computed.
 *
 * ```ts
 * const trace = traceBackward(C);
 * trace.steps[0].upstream;                 // 1 = ∂C/∂C
 * trace.gradients.get(w1) === w1.grad;     // after a fresh pass
 * console.log(formatTrace(trace, { upTo: 3 }));
 * ```
 */
export function traceBackward(root: GraphValue, options: TraceOptions = {}): Trace {
  if (!(root instanceof Value) && !(root instanceof Tensor)) {
    throw new ChainruleError("traceBackward", "expected a Value or a Tensor");
  }
  const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
  if (!(maxSteps >= 0)) throw new ChainruleError("traceBackward", `maxSteps must be ≥ 0, got ${maxSteps}`);
  const nodes = nodesOf(root);
  const terms = nameNodes(nodes, options.maxNameLength === undefined ? {} : { maxNameLength: options.maxNameLength });
  const term = (n: GraphValue) => terms.get(n) as Term;
  const names = new Map<GraphValue, string>();
  for (const [n, t] of terms) names.set(n, t.text);
  const trace: Trace = {
    root,
    rootName: root.label === "" ? "L" : root.label,
    steps: [],
    totalSteps: 0,
    nodes,
    names,
    terms,
    gradients: new Map(),
  };
  // Steps past maxSteps are counted, not described.
  const record = (node: GraphValue, upstream: number | Tensor, describe: () => TraceEdge[]) => {
    trace.totalSteps++;
    if (trace.steps.length >= maxSteps) return;
    const parents = describe();
    const args = operandTerms(node, term);
    trace.steps.push({
      index: trace.steps.length + 1,
      node,
      name: term(node).text,
      expression: expressionText(node, args),
      op: node.op,
      upstream,
      parents,
    });
  };

  if (root instanceof Value) {
    root.backward({
      onStep: (step: ValueStep) => record(step.node, step.grad, () => valueEdges(step, term)),
    });
  } else {
    const backward: BackwardOptions = {
      onStep: (step: TensorStep) => noGrad(() => record(step.node, step.grad, () => tensorEdges(step, term))),
    };
    if (options.retainGraph !== undefined) backward.retainGraph = options.retainGraph;
    root.backward(options.seed, backward);
  }
  trace.gradients = noGrad(() => gradientsAfter(trace, trace.steps.length));
  return trace;
}

function valueEdges(step: ValueStep, term: (n: GraphValue) => Term): TraceEdge[] {
  return step.node.parents.map((parent, k): TraceEdge => {
    const local = step.local[k] as number;
    return {
      parent,
      name: term(parent).text,
      local,
      symbol: factorTerm(localFactor(step.node, k, term)).text,
      formula: localFormula(step.node, k),
      sent: local * step.grad, // the very product backward adds into parent.grad
    };
  });
}

function tensorEdges(step: TensorStep, term: (n: GraphValue) => Term): TraceEdge[] {
  const node = step.node;
  return node.parents.map((parent, k): TraceEdge => {
    const g = step.parentGrads[k] ?? null;
    return {
      parent,
      name: term(parent).text,
      local: isElementwise(node) ? elementwiseLocal(node, k) : null,
      symbol: tensorVjp(node, k, term),
      formula: localFormula(node, k),
      sent: g === null ? null : sumToShape(node.op, g, parent), // what the engine adds into the parent
    };
  });
}

/**
 * ∂y/∂x elementwise, from the rule table, with the inputs broadcast to the output's shape (a
 * hidden number operand, as in `x.div(3)`, taking the place of the second input).
 */
function elementwiseLocal(node: Tensor, k: number): Tensor | null {
  const c = hiddenConstant(node);
  const unaryLike = node.parents.length === 1 && !(node.op in binary);
  const rule = unaryLike ? unaryRule(node) : binaryRule(node.op);
  if (rule === null || (node.parents.length === 1 && !unaryLike && c === null)) return null;
  const expanded = node.parents.map((p) => (sameShape(p.shape, node.shape) ? p : p.expand(node.shape)));
  const out = new Float64Array(node.size);
  const a = expanded[0] as Tensor;
  const b = expanded[1];
  for (let i = 0; i < out.length; i++) {
    const x = a.data[i] as number;
    const y = node.data[i] as number;
    if (unaryLike) out[i] = (rule as UnaryLike).df(x, y);
    else {
      const bi = b === undefined ? (c as number) : (b.data[i] as number);
      out[i] = k === 0 ? (rule as BinaryLike).da(x, bi, y) : (rule as BinaryLike).db(x, bi, y);
    }
  }
  return new Tensor(out, node.shape);
}

interface UnaryLike {
  df(x: number, y: number): number;
}
interface BinaryLike {
  da(a: number, b: number, y: number): number;
  db(a: number, b: number, y: number): number;
}

function unaryRule(node: Tensor): UnaryLike | null {
  return node.op in unary ? unary[node.op as keyof typeof unary] : null;
}
function binaryRule(op: string): BinaryLike | null {
  return op in binary ? binary[op as keyof typeof binary] : null;
}

function addGradient(into: Map<GraphValue, number | Tensor>, node: GraphValue, g: number | Tensor): void {
  const previous = into.get(node);
  if (previous === undefined) into.set(node, g);
  else if (typeof previous === "number" && typeof g === "number") into.set(node, previous + g);
  else
    into.set(
      node,
      noGrad(() => (previous as Tensor).add(g as Tensor)),
    );
}

function expressionText(node: GraphValue, args: readonly Term[]): string {
  const expr = expressionOf(node, args);
  return expr === null ? node.op : expr.text;
}

/**
 * What is known after the first k steps of a traced pass: ∂L/∂node for every node that has
 * received something by then (the output from step 1; a node used twice may still be partial).
 * For pictures of backprop in progress: `toDot(C, { gradients: gradientsAfter(trace, 3) })`.
 */
export function gradientsAfter(trace: Trace, k: number): Map<GraphValue, number | Tensor> {
  const known = new Map<GraphValue, number | Tensor>();
  const steps = trace.steps.slice(0, Math.max(0, k));
  const first = steps[0];
  if (first !== undefined) known.set(first.node, first.upstream);
  for (const step of steps) {
    for (const edge of step.parents) if (edge.sent !== null) addGradient(known, edge.parent, edge.sent);
  }
  return known;
}

// ---- text ----

/** Options of `formatTrace`. */
export interface FormatTraceOptions {
  /** Print only steps 1…k (a teacher's walk through backprop, one node at a time). */
  upTo?: number;
  /** Significant digits (default 4). */
  digits?: number;
  /** Tensors with at most this many elements are printed in full (default 6). */
  maxValues?: number;
  /** Print the gradients that reached the leaves after the last step (default true). */
  summary?: boolean;
}

/**
 * The trace as text, one block per step: the node and how it was computed, ∂L/∂node, then for
 * each input the local derivative (notation, number, rule formula) and the product passed down.
 * Gradients sent to constants are left out. `+=` marks an input that receives from several
 * consumers: its gradient is the sum.
 *
 * ```
 * step 4  a2 = σ(z2)    ∂C/∂a2 = -0.5781
 *           ∂a2/∂z2 = σ'(z2) = 0.2439   →  ∂C/∂z2 = -0.5781 × 0.2439 = -0.141   [∂σ(x)/∂x = σ(x)(1 − σ(x))]
 * ```
 */
export function formatTrace(trace: Trace, options: FormatTraceOptions = {}): string {
  const digits = options.digits ?? 4;
  const maxValues = options.maxValues ?? 6;
  const upTo = Math.max(0, Math.min(options.upTo ?? trace.steps.length, trace.steps.length));
  const q = (x: number | Tensor) => formatQuantity(x, maxValues, digits);
  const L = trace.rootName;
  const d = (name: string) => `∂${L}/∂${bracket(name)}`;

  // How many edges reach each node over the whole recorded pass, for `+=`.
  const fanIn = new Map<GraphValue, number>();
  for (const step of trace.steps) {
    for (const e of step.parents) if (e.sent !== null) fanIn.set(e.parent, (fanIn.get(e.parent) ?? 0) + 1);
  }

  const out: string[] = [];
  const total = trace.totalSteps;
  out.push(
    `Backward pass from ${L}: ${total} step${total === 1 ? "" : "s"}, each node once, from the output back to the inputs` +
      (upTo < total ? ` (showing ${upTo})` : ""),
  );
  for (const step of trace.steps.slice(0, upTo)) {
    const head = `step ${step.index}`.padEnd(8);
    const what = step.name === step.expression ? step.name : `${step.name} = ${step.expression}`;
    const shape = step.node instanceof Tensor && step.node.ndim > 0 ? `  ${formatTensorShape(step.node)}` : "";
    out.push(`${head}${what}${shape}    ${d(step.name)} = ${q(step.upstream)}`);
    // One row per input: the local derivative (Value), the product passed down, the rule.
    const rows: { local: string | null; product: string; formula: string }[] = [];
    for (const e of step.parents) {
      // An unlabelled Value leaf is drawn as a constant but, unlike a number operand, it does
      // receive a gradient: only edges that carry nothing are left out.
      if (isConstant(e.parent) && e.sent === null) continue;
      if (e.sent === null) {
        rows.push({ local: null, product: `${e.name} needs no gradient`, formula: "" });
        continue;
      }
      const gets = `${d(e.name)} ${(fanIn.get(e.parent) ?? 0) > 1 ? "+=" : "="}`;
      const formula = e.formula === null ? "" : `[${e.formula}]`;
      if (typeof e.local === "number") {
        const value = formatNumber(e.local, digits);
        const symbol = e.symbol === value ? value : `${e.symbol} = ${value}`;
        rows.push({
          local: `∂${bracket(step.name)}/∂${bracket(e.name)} = ${symbol}`,
          product: `${gets} ${q(step.upstream)} × ${bracketNumber(value)} = ${q(e.sent)}`,
          formula,
        });
      } else {
        rows.push({ local: null, product: `${gets} ${e.symbol} = ${q(e.sent)}`, formula });
      }
    }
    const w0 = Math.max(0, ...rows.map((r) => (r.local ?? "").length));
    const w1 = Math.max(0, ...rows.map((r) => r.product.length));
    for (const r of rows) {
      const local = w0 === 0 ? "" : `${(r.local ?? "").padEnd(w0)}   `;
      const arrow = r.formula === "" && r.local === null ? "" : "→  ";
      out.push(`          ${local}${arrow}${r.product.padEnd(w1)}   ${r.formula}`.trimEnd());
    }
  }
  if (upTo < total) {
    const rest = total - upTo;
    out.push(`… ${rest} more step${rest === 1 ? "" : "s"}`);
  } else if (options.summary !== false) {
    const leaves = trace.nodes.filter(
      (n) => isLeafNode(n) && (n instanceof Value || !isConstant(n)) && trace.gradients.has(n),
    );
    if (leaves.length > 0) {
      out.push("Gradients that reached the leaves (what backward adds to their .grad):");
      for (const leaf of leaves) {
        out.push(`  ${d(trace.names.get(leaf) as string)} = ${q(trace.gradients.get(leaf) as number | Tensor)}`);
      }
    }
  }
  return out.join("\n");
}

function bracketNumber(text: string): string {
  return text.startsWith("-") ? `(${text})` : text;
}
