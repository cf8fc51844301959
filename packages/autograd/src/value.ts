/**
 * @file The scalar engine: a `Value` holds one number, its gradient, the values it was computed
 * from, and the rule that differentiates the operation that made it. Reading this file with
 * rules.ts is the whole of reverse mode (graph.ts's topological sort serves `zeroGrad` and the
 * pictures). Imports graph.ts, rules.ts, errors.ts.
 *
 * `Value` is first-order on purpose: its derivatives are plain numbers, not Values, so it stays
 * small enough to read in one sitting. Gradients of gradients live in the Tensor engine.
 */

import { ChainruleError } from "./errors.js";
import { topoSort } from "./graph.js";
import { type BinaryRule, binary, geluTanhRule, type UnaryRule, unary } from "./rules.js";

// Labels live beside the nodes rather than in them: most of a large graph's nodes have none, and
// a field would cost every node its size.
const labels = new WeakMap<Value, string>();

/** One step of a backward pass: a node, ∂L/∂node, and ∂node/∂parent for each of its parents. */
export interface ValueStep {
  /** The node whose local derivatives were just applied. */
  node: Value;
  /** ∂L/∂node: the gradient that reached it. */
  grad: number;
  /** Its local derivatives ∂node/∂operand, one per operand. */
  local: number[];
}

/** A scalar node of a computation graph. */
export class Value {
  /** The number this node holds. */
  data: number;
  /** ∂L/∂(this node) after `L.backward()`; accumulates over backward passes until zeroed. */
  grad: number;
  /**
   * The operands this value was computed from: `a` (null for a leaf), and `b` for a binary op:
   * a Value, or a plain number (`x.mul(3)`: 3), which is then part of the node rather than a node
   * of its own (null for a unary op). Two fields rather than an array keep a node small, which
   * matters when a training step builds tens of thousands of them.
   */
  readonly a: Value | null;
  /** The second operand of a binary op (see `a`). */
  readonly b: Value | number | null;
  /** The elementwise rule that made this node: forward map and local derivative (null for a leaf). */
  readonly rule: UnaryRule | BinaryRule | null;
  /**
   * Scratch space of graph walks: graph.ts's topological sort stamps it, and `backward` counts
   * uses in it (negative while the pass runs, 0 after).
   */
  mark: number;

  /**
   * A leaf holding `data`, e.g. `new Value(0.8, "w1")`. Operations also pass their operands
   * (`a`, `b`) and their rule; a user-made node with a rule of its own takes part in `backward`
   * like any: `new Value(Math.sin(x.data), "s", x, null, sinRule)`. A node with operands but no
   * rule passes no gradient to them (a stop-gradient).
   */
  constructor(
    data: number,
    label = "",
    a: Value | null = null,
    b: Value | number | null = null,
    rule: UnaryRule | BinaryRule | null = null,
  ) {
    if (typeof data !== "number" || !Number.isFinite(data)) {
      throw new ChainruleError(rule?.name ?? "Value", `data must be a finite number, got ${describe(data)}`);
    }
    if (a === null ? rule !== null || b !== null : rule !== null && "da" in rule === (b === null)) {
      throw new ChainruleError(rule?.name ?? "Value", `operands do not fit: ${shapeOf(a, b, rule)}`);
    }
    this.data = data;
    this.grad = 0;
    this.a = a;
    this.b = b;
    this.rule = rule;
    if (label !== "") labels.set(this, label);
    this.mark = 0;
  }

  /** A name for pictures and traces, e.g. `"w1"` ("" when unnamed). */
  get label(): string {
    return labels.get(this) ?? "";
  }
  /** Rename the node. */
  set label(name: string) {
    labels.set(this, name);
  }

  /** The values this one was computed from, as a new array (empty for a leaf). */
  get parents(): Value[] {
    const { a, b } = this;
    return a === null ? [] : b instanceof Value ? [a, b] : [a];
  }

  /** Operand i (0 or 1) as a Value; undefined for a plain number or a missing operand. */
  parent(i: number): Value | undefined {
    const p = i === 0 ? this.a : i === 1 ? this.b : null;
    return p === null || typeof p === "number" ? undefined : p;
  }

  /** The number operand of a binary op with a plain number (`x.mul(3)`: 3), or null. */
  get constant(): number | null {
    return typeof this.b === "number" ? this.b : null;
  }

  /** The operation's name (`"mul"`, `"tanh"`, …), or `"leaf"` for an input or constant. */
  get op(): string {
    return this.rule === null ? "leaf" : this.rule.name;
  }

  /** a + b   ∂/∂a = 1, ∂/∂b = 1 */
  add(other: Value | number): Value {
    return binaryOp(binary.add, this, other);
  }
  /** a − b   ∂/∂a = 1, ∂/∂b = −1 */
  sub(other: Value | number): Value {
    return binaryOp(binary.sub, this, other);
  }
  /** a·b   ∂/∂a = b, ∂/∂b = a */
  mul(other: Value | number): Value {
    return binaryOp(binary.mul, this, other);
  }
  /** a / b   ∂/∂a = 1/b, ∂/∂b = −a/b² */
  div(other: Value | number): Value {
    return binaryOp(binary.div, this, other);
  }
  /** `this` raised to a constant exponent. For a variable exponent write `b.mul(a.log()).exp()`. */
  pow(exponent: number): Value {
    if (typeof exponent !== "number" || !Number.isFinite(exponent)) {
      const what =
        (exponent as unknown) instanceof Value ? "a Value (only constant exponents are supported)" : describe(exponent);
      throw new ChainruleError("pow", `exponent must be a finite number, got ${what}`);
    }
    return binaryOp(binary.pow, this, exponent);
  }
  /** −x   dy/dx = −1 */
  neg(): Value {
    return unaryOp(unary.neg, this);
  }
  /** eˣ   dy/dx = eˣ */
  exp(): Value {
    return unaryOp(unary.exp, this);
  }
  /** ln x (x > 0)   dy/dx = 1/x */
  log(): Value {
    return unaryOp(unary.log, this);
  }
  /** √x (x ≥ 0)   dy/dx = 1/(2√x) */
  sqrt(): Value {
    return unaryOp(unary.sqrt, this);
  }
  /** |x|   dy/dx = sign(x), 0 at x = 0 */
  abs(): Value {
    return unaryOp(unary.abs, this);
  }
  /** tanh x   dy/dx = 1 − tanh²x */
  tanh(): Value {
    return unaryOp(unary.tanh, this);
  }
  /** σ(x) = 1/(1 + e⁻ˣ)   dy/dx = σ(x)(1 − σ(x)) */
  sigmoid(): Value {
    return unaryOp(unary.sigmoid, this);
  }
  /** max(0, x)   dy/dx = 1 if x > 0, else 0 */
  relu(): Value {
    return unaryOp(unary.relu, this);
  }
  /** sin x */
  sin(): Value {
    return unaryOp(unary.sin, this);
  }
  /** cos x */
  cos(): Value {
    return unaryOp(unary.cos, this);
  }
  /** tan x */
  tan(): Value {
    return unaryOp(unary.tan, this);
  }
  /** arctan x */
  atan(): Value {
    return unaryOp(unary.atan, this);
  }
  /** sinh x */
  sinh(): Value {
    return unaryOp(unary.sinh, this);
  }
  /** cosh x */
  cosh(): Value {
    return unaryOp(unary.cosh, this);
  }
  /** arsinh x */
  asinh(): Value {
    return unaryOp(unary.asinh, this);
  }
  /** ln(1 + x), accurate near 0 */
  log1p(): Value {
    return unaryOp(unary.log1p, this);
  }
  /** eˣ − 1, accurate near 0 */
  expm1(): Value {
    return unaryOp(unary.expm1, this);
  }
  /** the error function */
  erf(): Value {
    return unaryOp(unary.erf, this);
  }
  /** x² */
  square(): Value {
    return unaryOp(unary.square, this);
  }
  /** 1/x */
  reciprocal(): Value {
    return unaryOp(unary.reciprocal, this);
  }
  /** 1/√x */
  rsqrt(): Value {
    return unaryOp(unary.rsqrt, this);
  }
  /** ln(1 + eˣ) (x above 20) */
  softplus(): Value {
    return unaryOp(unary.softplus, this);
  }
  /** x·σ(x) */
  silu(): Value {
    return unaryOp(unary.silu, this);
  }
  /** x·Φ(x) with erf, or with `{ approximate: "tanh" }` the tanh approximation */
  gelu(options: { approximate?: "none" | "tanh" } = {}): Value {
    const approximate = options.approximate ?? "none";
    if (approximate !== "none" && approximate !== "tanh") {
      throw new ChainruleError("gelu", `approximate must be "none" or "tanh", got ${describe(approximate)}`);
    }
    return unaryOp(approximate === "tanh" ? geluTanhRule : unary.gelu, this);
  }
  /** x for x > 0, eˣ − 1 otherwise */
  elu(): Value {
    return unaryOp(unary.elu, this);
  }
  /** ln σ(x), stable for any |x| */
  logSigmoid(): Value {
    return unaryOp(unary.logSigmoid, this);
  }
  /** ⌊x⌋ (gradient 0) */
  floor(): Value {
    return unaryOp(unary.floor, this);
  }
  /** ⌈x⌉ (gradient 0) */
  ceil(): Value {
    return unaryOp(unary.ceil, this);
  }
  /** the nearest integer, halves to even (gradient 0) */
  round(): Value {
    return unaryOp(unary.round, this);
  }
  /** −1, 0 or 1 (gradient 0) */
  sign(): Value {
    return unaryOp(unary.sign, this);
  }

  /**
   * Reverse mode from this node: ∂this/∂v for every v it was computed from. Leaves accumulate
   * (`+=`) across calls, as in PyTorch, so zero them between steps (`zeroGrad`); intermediate
   * nodes hold the gradient of the latest pass only. `onStep` sees each node's step as it
   * happens (traces use it); it must not walk this graph or start another backward pass
   * (another pass throws, and so does a walk that meets a node still waiting for its uses).
   */
  backward(options: { onStep?: (step: ValueStep) => void } = {}): void {
    const onStep = options.onStep;
    if (inBackward) {
      throw new ChainruleError("backward", "a backward pass cannot start inside another one's onStep callback");
    }
    inBackward = true;
    let finished = false;
    try {
      // Kahn's algorithm: no list of the graph's nodes and no stack as deep as the graph, so a
      // pass needs memory for the graph's width only (a 10⁶-op chain: a stack of one).
      // Walk 1 counts every operation node's uses in this graph, as −count in `mark`, and clears
      // its gradient. Leaves are not counted: they send nothing on.
      const stack: Value[] = this.rule === null ? [] : [this];
      let counted = 0;
      while (stack.length > 0) {
        const node = stack.pop() as Value;
        const { a, b } = node;
        if (a !== null) counted += countUse(a, stack);
        if (b !== null && typeof b !== "number") counted += countUse(b, stack);
      }
      // Walk 2: a node sends its gradient on once every use of it has sent its share to it,
      // i.e. when its count is back to 0. ∂L/∂L = 1 starts it.
      this.grad = this.rule === null ? this.grad + 1 : 1;
      if (this.rule !== null) stack.push(this);
      let ran = this.rule === null ? 0 : -1; // the root was not counted
      while (stack.length > 0) {
        const node = stack.pop() as Value;
        ran++;
        const rule = node.rule;
        const g = node.grad;
        const a = node.a as Value;
        const b = node.b;
        // Chain rule: each operand receives (local derivative) × (gradient from above). `+=`,
        // because a value used twice (x·x, a + a) receives one contribution per use.
        if (typeof b === "number") {
          // a ∘ c with a number c: only a receives a gradient
          const da = partialA(rule as BinaryRule, a.data, b, node.data);
          a.grad += da * g;
          if (onStep !== undefined) onStep({ node, grad: g, local: [da] });
        } else if (b === null) {
          const d = derivative(rule as UnaryRule, a.data, node.data);
          a.grad += d * g;
          if (onStep !== undefined) onStep({ node, grad: g, local: [d] });
        } else {
          const da = partialA(rule as BinaryRule, a.data, b.data, node.data);
          const db = partialB(rule as BinaryRule, a.data, b.data, node.data);
          a.grad += da * g;
          b.grad += db * g;
          if (onStep !== undefined) onStep({ node, grad: g, local: [da, db] });
          sent(b, stack);
        }
        sent(a, stack);
      }
      if (ran !== counted) {
        throw new ChainruleError(
          "backward",
          "the graph changed during the pass: some nodes never received all their gradients",
        );
      }
      finished = true;
    } finally {
      inBackward = false;
      if (!finished) clearCounts(this); // something threw: leave no half-counted marks behind
    }
  }

  /** `Value(label: data=…, grad=…, op=…)`, for logs and the debugger. */
  toString(): string {
    const name = this.label === "" ? "" : `${this.label}: `;
    return `Value(${name}data=${this.data}, grad=${this.grad}${this.rule === null ? "" : `, op=${this.op}`})`;
  }
}

/** True while a backward pass runs: the counts in `mark` belong to it. */
let inBackward = false;

/** Walk 1 of backward: one more use of the operation node p; the first one queues p (returns 1). */
function countUse(p: Value, stack: Value[]): number {
  if (p.rule === null) return 0;
  if (p.mark >= 0) {
    // first use met in this pass (a mark ≥ 0 is a topoSort stamp or 0, never a count)
    p.mark = -1;
    p.grad = 0;
    stack.push(p);
    return 1;
  }
  p.mark--;
  return 0;
}

/** Walk 2 of backward: a use of p has sent its share; after the last one p is ready. */
function sent(p: Value, stack: Value[]): void {
  if (p.rule !== null && ++p.mark === 0) stack.push(p);
}

/** Resets the counts of an interrupted backward pass. */
function clearCounts(root: Value): void {
  const seen = new Set<Value>([root]);
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Value;
    if (node.mark < 0) node.mark = 0;
    for (const p of [node.a, node.b]) {
      if (p instanceof Value && !seen.has(p)) {
        seen.add(p);
        stack.push(p);
      }
    }
  }
}

// The local derivatives come from the rule table, always. The common rules are called from
// call sites of their own because V8 inlines a call whose target never varies, whereas one call
// site shared by every rule is not inlined and boxes each number it passes or returns on the
// heap: that garbage was half the time of a scalar training step. Same rules, same results.
const mul: BinaryRule = binary.mul;
const add: BinaryRule = binary.add;
const sub: BinaryRule = binary.sub;
const relu: UnaryRule = unary.relu;
const tanh: UnaryRule = unary.tanh;
const sigmoid: UnaryRule = unary.sigmoid;
const exp: UnaryRule = unary.exp;

/** ∂y/∂a of a binary node. */
function partialA(rule: BinaryRule, a: number, b: number, y: number): number {
  if (rule === mul) return mul.da(a, b, y);
  if (rule === add) return add.da(a, b, y);
  if (rule === sub) return sub.da(a, b, y);
  return rule.da(a, b, y);
}

/** ∂y/∂b of a binary node. */
function partialB(rule: BinaryRule, a: number, b: number, y: number): number {
  if (rule === mul) return mul.db(a, b, y);
  if (rule === add) return add.db(a, b, y);
  if (rule === sub) return sub.db(a, b, y);
  return rule.db(a, b, y);
}

/** dy/dx of a unary node. */
function derivative(rule: UnaryRule, x: number, y: number): number {
  if (rule === relu) return relu.df(x, y);
  if (rule === tanh) return tanh.df(x, y);
  if (rule === sigmoid) return sigmoid.df(x, y);
  if (rule === exp) return exp.df(x, y);
  return rule.df(x, y);
}

function unaryOp(rule: UnaryRule, x: Value): Value {
  const y = rule.f(x.data);
  if (!Number.isFinite(y)) {
    throw new ChainruleError(
      rule.name,
      `${rule.name}(${x.data}) is ${y}: the input is outside the domain or the result overflows`,
    );
  }
  return new Value(y, "", x, null, rule);
}

function binaryOp(rule: BinaryRule, a: Value, other: Value | number): Value {
  const isValue = other instanceof Value;
  if (!isValue && (typeof other !== "number" || !Number.isFinite(other))) {
    throw new ChainruleError(rule.name, `operand must be a Value or a finite number, got ${describe(other)}`);
  }
  const b = isValue ? other.data : other;
  const y = rule.f(a.data, b);
  if (!Number.isFinite(y)) {
    throw new ChainruleError(
      rule.name,
      `${rule.name}(${a.data}, ${b}) is ${y}: the inputs are outside the domain or the result overflows`,
    );
  }
  return new Value(y, "", a, other, rule);
}

function shapeOf(a: Value | null, b: Value | number | null, rule: UnaryRule | BinaryRule | null): string {
  const kind = rule === null ? "no rule" : "da" in rule ? "a binary rule" : "a unary rule";
  const given =
    a === null ? (b === null ? "no operand" : "b without a") : b === null ? "one operand (a)" : "two operands";
  const wants = rule === null ? "operands a, or a and b, or none" : "da" in rule ? "a and b" : "a only";
  return `${kind} with ${given}; it needs ${wants}`;
}

function describe(x: unknown): string {
  if (typeof x === "number") return String(x);
  if (x === null) return "null";
  if (typeof x === "object") return x.constructor?.name ?? "object";
  return typeof x === "string" ? `the string ${JSON.stringify(x)}` : typeof x;
}

/**
 * Set gradients to 0: of every node reachable from a root (`zeroGrad(loss)`), or of the listed
 * values (`zeroGrad(model.parameters())`).
 */
export function zeroGrad(target: Value | Iterable<Value>): void {
  const nodes = target instanceof Value ? topoSort<Value>(target) : target;
  for (const v of nodes) v.grad = 0;
}
