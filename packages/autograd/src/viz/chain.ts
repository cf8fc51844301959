/**
 * @file The chain rule for one input, read off a trace: every path from the output down to the
 * input, and along it the product of local derivatives, ∂C/∂w = ∂z/∂w · ∂a/∂z · ∂C/∂a. The sum
 * over paths is the gradient. Steps between labelled nodes are multiplied together, so a path
 * reads in the names a derivation by hand uses. Scalar (`Value`) traces only: along a tensor
 * path the factors are Jacobians. Imports value.ts, errors.ts, format.ts, local.ts, trace.ts.
 */

import { ChainruleError } from "../errors.js";
import { Value } from "../value.js";
import { bracket, formatNumber, type GraphValue, type Term, wrap } from "./format.js";
import { type Factor, factorTerm, localFactor, multiplyFactors } from "./local.js";
import type { Trace, TraceEdge, TraceStep } from "./trace.js";

/** One factor of a chain: ∂`of`/∂`wrt`, as notation and as a number. */
export interface ChainFactor {
  /** The name of the node differentiated (the numerator). */
  of: string;
  /** The name of the node it is differentiated with respect to (the denominator). */
  wrt: string;
  /** In the operands' names, constants multiplied out: `σ'(z2)`, `a1`, `a2 − 1`. */
  symbol: string;
  /** The factor's value at the graph's numbers. */
  value: number;
  /** How many single-op steps it stands for (more than 1 when merged across unlabelled nodes). */
  steps: number;
}

/** One path from the output to the input. */
export interface ChainPath {
  /** The names along the path, output first. */
  nodes: string[];
  /** The factors in the order the chain rule is written: the input's end first, ∂z/∂w · … · ∂C/∂a. */
  factors: ChainFactor[];
  /** The product of the factors: this path's share of the gradient. */
  product: number;
}

/** Every path of the chain rule from an output down to one leaf, with its factors and their sum. */
export interface Chain {
  /** The input the chain ends at. */
  leaf: Value;
  /** Its name, as printed. */
  leafName: string;
  /** The output's name, as printed. */
  rootName: string;
  /** One entry per path from the output to the leaf. */
  paths: ChainPath[];
  /** The sum over the paths found: ∂L/∂leaf when `truncated` is false. */
  gradient: number;
  /** True when there were more than `maxPaths` paths and only the first were listed. */
  truncated: boolean;
}

/** Options of `chainFor`. */
export interface ChainOptions {
  /**
   * "labels" (default): one factor per stretch between labelled nodes, so unlabelled helpers
   * (w2·a1, (a2 − 1)²) disappear into the factors around them. "none": one factor per op.
   */
  merge?: "labels" | "none";
  /** Stop after this many paths (default 64): their number can grow exponentially. */
  maxPaths?: number;
}

interface Edge {
  child: GraphValue;
  parent: GraphValue;
  local: number;
  factor: Factor;
}

/**
 * The chain rule for `leaf`, from a trace of a scalar backward pass (a full one: `maxSteps`
 * leaves out the steps the chain needs). For the chapter's network, with z1, a1, z2, a2
 * labelled, `chainFor(trace, w2)` has one path whose factors are ∂z2/∂w2 = a1, ∂a2/∂z2 =
 * σ'(z2) and ∂C/∂a2 = a2 − y: equation (A).
 *
 * ```ts
 * const chain = chainFor(traceBackward(C), w2);
 * chain.paths[0].factors.map((f) => f.symbol); // ["a1", "σ'(z2)", "a2 − 1"]
 * chain.gradient;                              // ∂C/∂w2
 * ```
 */
export function chainFor(trace: Trace, leaf: Value, options: ChainOptions = {}): Chain {
  if (!(trace.root instanceof Value)) {
    throw new ChainruleError(
      "chainFor",
      "needs the trace of a Value graph: along a Tensor path the factors are Jacobians",
    );
  }
  if (!(leaf instanceof Value) || !trace.names.has(leaf)) {
    throw new ChainruleError("chainFor", "the node is not part of the traced graph");
  }
  if (trace.steps.length < trace.totalSteps) {
    throw new ChainruleError("chainFor", "needs a complete trace (traced without maxSteps)");
  }
  const maxPaths = options.maxPaths ?? 64;
  const term = (n: GraphValue) => trace.terms.get(n) as Term;
  const steps = new Map<GraphValue, TraceStep>();
  for (const step of trace.steps) steps.set(step.node, step);

  // Which nodes lead down to the leaf: only those are worth walking into.
  const leads = new Set<GraphValue>([leaf]);
  for (const node of trace.nodes) {
    if ((node.parents as readonly GraphValue[]).some((p) => leads.has(p))) leads.add(node);
  }

  // Depth-first over the paths, with an explicit stack (graphs may be deeper than the call stack).
  const found: Edge[][] = [];
  let truncated = false;
  const path: Edge[] = [];
  const stack: { node: GraphValue; next: number }[] = [{ node: trace.root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { node: GraphValue; next: number };
    if (top.node === leaf) {
      if (found.length === maxPaths) {
        truncated = true;
        break;
      }
      found.push([...path]);
      stack.pop();
      path.pop();
      continue;
    }
    const step = steps.get(top.node);
    const parents = step?.parents ?? [];
    let k = top.next;
    while (k < parents.length && !leads.has((parents[k] as TraceEdge).parent)) k++;
    if (step === undefined || k >= parents.length) {
      stack.pop();
      path.pop();
      continue;
    }
    top.next = k + 1;
    const e = parents[k] as TraceEdge;
    path.push({ child: top.node, parent: e.parent, local: e.local as number, factor: localFactor(top.node, k, term) });
    stack.push({ node: e.parent, next: 0 });
  }

  const rootName = trace.rootName;
  const name = (n: GraphValue) => (n === trace.root ? rootName : term(n).text);
  const paths = found.map((edges): ChainPath => {
    // Cut the path at labelled nodes (always at its two ends) and multiply within each stretch.
    const factors: ChainFactor[] = [];
    let start = 0;
    for (let i = 0; i < edges.length; i++) {
      const e = edges[i] as Edge;
      const cut = options.merge === "none" || e.parent === leaf || e.parent.label !== "";
      if (!cut) continue;
      const stretch = edges.slice(start, i + 1);
      factors.push({
        of: name((stretch[0] as Edge).child),
        wrt: name(e.parent),
        symbol: factorTerm(multiplyFactors(stretch.map((s) => s.factor))).text,
        value: stretch.reduce((acc, s) => acc * s.local, 1),
        steps: stretch.length,
      });
      start = i + 1;
    }
    factors.reverse();
    return {
      nodes: [rootName, ...edges.map((e) => name(e.parent))],
      factors,
      product: factors.reduce((acc, f) => acc * f.value, 1),
    };
  });
  return {
    leaf,
    leafName: name(leaf),
    rootName,
    paths,
    gradient: paths.reduce((acc, p) => acc + p.product, 0),
    truncated,
  };
}

/** Options of `formatChain`. */
export interface FormatChainOptions {
  /** Significant digits (default 4). */
  digits?: number;
  /**
   * A chain printed before this one: the factors the two share at the output's end are named
   * once (∂C/∂z2), and the new ones listed, as a derivation does when it goes one layer deeper.
   */
  after?: Chain;
}

/**
 * A chain as a derivation, the chain rule in symbols, in names, then in numbers:
 *
 * ```
 * ∂C/∂w2 = ∂z2/∂w2 · ∂a2/∂z2 · ∂C/∂a2
 *        = a1 · σ'(z2) · (a2 − 1)
 *        = 0.5498 · 0.2439 · (-0.5781)
 *        = -0.07752
 * ```
 */
export function formatChain(chain: Chain, options: FormatChainOptions = {}): string {
  const digits = options.digits ?? 4;
  const n = (x: number) => formatNumber(x, digits);
  const lhs = `∂${chain.rootName}/∂${chain.leafName}`;
  const pad = " ".repeat(lhs.length);
  const out: string[] = [];
  const many = chain.paths.length > 1 || chain.truncated;
  if (many) {
    out.push(`${lhs}: the sum over ${chain.paths.length}${chain.truncated ? "+" : ""} paths from ${chain.rootName}`);
  }
  chain.paths.forEach((path, i) => {
    const head = many ? `path ${i + 1}` : lhs;
    const indent = many ? " ".repeat(head.length) : pad;
    const partials = path.factors.map(partial).join(" · ");
    const symbols = path.factors.map((f) => symbolOperand(f.symbol)).join(" · ");
    const numbers = path.factors.map((f) => (f.value < 0 ? `(${n(f.value)})` : n(f.value))).join(" · ");
    out.push(`${head} = ${partials}`);
    out.push(`${indent} = ${symbols}`);
    out.push(`${indent} = ${numbers}`);
    out.push(`${indent} = ${n(path.product)}`);
    const before = options.after?.paths[0];
    if (before !== undefined) out.push(...shared(path, before, options.after as Chain, n));
  });
  if (chain.truncated) {
    // Not every path was listed (maxPaths): what they add up to is not the gradient.
    out.push(
      `sum over the first ${chain.paths.length} paths only = ${n(chain.paths.reduce((s, p) => s + p.product, 0))}`,
    );
  } else if (many) {
    out.push(`${lhs} = ${n(chain.gradient)}`);
  }
  return out.join("\n");
}

/** How a path extends an earlier one: the factors they share at the output's end, and the rest. */
function shared(path: ChainPath, before: ChainPath, chain: Chain, n: (x: number) => string): string[] {
  let k = 0;
  const a = path.factors;
  const b = before.factors;
  while (k < a.length && k < b.length) {
    const fa = a[a.length - 1 - k] as ChainFactor;
    const fb = b[b.length - 1 - k] as ChainFactor;
    if (fa.of !== fb.of || fa.wrt !== fb.wrt || fa.value !== fb.value) break;
    k++;
  }
  if (k === 0 || k === a.length) return [];
  const common = a.slice(a.length - k);
  const fresh = a.slice(0, a.length - k);
  const at = (common[0] as ChainFactor).wrt;
  const product = common.reduce((acc, f) => acc * f.value, 1);
  return [
    `  shared with ∂${chain.rootName}/∂${chain.leafName}: ${common.map(partial).join(" · ")} = ∂${chain.rootName}/∂${bracket(at)} = ${n(product)}`,
    `  new factors: ${fresh.map(partial).join(" · ")} = ${fresh.map((f) => symbolOperand(f.symbol)).join(" · ")}`,
  ];
}

const partial = (f: ChainFactor) => `∂${bracket(f.of)}/∂${bracket(f.wrt)}`;

/** A factor's notation as an operand of a product: `(a2 − 1)`, `σ'(z2)`. */
function symbolOperand(symbol: string): string {
  const term = { text: symbol, prec: /^[^()]*[\s+−]/.test(symbol) || symbol.startsWith("-") ? 1 : 4 };
  return wrap(term, 2);
}
