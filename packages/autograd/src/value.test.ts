import { describe, expect, test } from "vitest";
import { ChainruleError } from "./errors.js";
import { gradcheck } from "./gradcheck.js";
import { topoSort } from "./graph.js";
import { binary, unary } from "./rules.js";
import { Value, zeroGrad } from "./value.js";

describe("Value: the classic traps", () => {
  test("a reused non-leaf: b = a + a; c = b + b gives dc/da = 4", () => {
    const a = new Value(3);
    const b = a.add(a);
    const c = b.add(b);
    c.backward();
    expect(c.data).toBe(12);
    expect(b.grad).toBe(2);
    expect(a.grad).toBe(4);
  });

  test("x * x gives 2x", () => {
    const x = new Value(-1.5);
    const y = x.mul(x);
    y.backward();
    expect(x.grad).toBe(-3);
  });

  test("two distinct leaves holding equal values stay distinct", () => {
    const a = new Value(2);
    const b = new Value(2);
    const y = a.mul(3).add(b.mul(5));
    y.backward();
    expect(a.grad).toBe(3);
    expect(b.grad).toBe(5);
  });

  test("the micrograd sanity check reproduces its exact numbers", () => {
    const a = new Value(-4);
    const b = new Value(2);
    let c = a.add(b);
    let d = a.mul(b).add(b.pow(3));
    c = c.add(c).add(1);
    c = c.add(1).add(c).sub(a);
    d = d.add(d.mul(2)).add(b.add(a).relu());
    d = d.add(d.mul(3)).add(b.sub(a).relu());
    const e = c.sub(d);
    const f = e.pow(2);
    let g = f.div(2);
    g = g.add(new Value(10).div(f));
    g.backward();
    expect(g.data).toBeCloseTo(24.70408163265306, 12);
    expect(a.grad).toBeCloseTo(138.83381924198252, 10);
    expect(b.grad).toBeCloseTo(645.5772594752186, 10);
  });

  test("gradients accumulate into leaves across backward passes until zeroed", () => {
    const w = new Value(0.5);
    const x = new Value(2);
    const loss = () => w.mul(x).tanh();
    loss().backward();
    const once = w.grad;
    loss().backward();
    expect(w.grad).toBeCloseTo(2 * once, 15);
    zeroGrad([w, x]);
    expect(w.grad).toBe(0);
    const l = loss();
    l.backward();
    expect(w.grad).toBe(once);
    zeroGrad(l);
    expect(w.grad).toBe(0);
    expect(x.grad).toBe(0);
  });

  test("backward twice on the same graph doubles leaf gradients but not intermediate ones", () => {
    const a = new Value(1.5);
    const b = a.mul(a);
    const c = b.exp();
    c.backward();
    const ga = a.grad;
    const gb = b.grad;
    c.backward();
    expect(a.grad).toBeCloseTo(2 * ga, 12);
    expect(b.grad).toBe(gb);
  });

  test("an unused input gets zero gradient", () => {
    const a = new Value(1);
    const unused = new Value(7);
    const y = a.mul(2);
    y.backward();
    expect(unused.grad).toBe(0);
  });

  test("backward on a leaf gives it gradient 1", () => {
    const a = new Value(3);
    a.backward();
    expect(a.grad).toBe(1);
  });

  test("a chain of 1,000,000 operations backpropagates without a stack overflow", () => {
    const x0 = new Value(1);
    let x = x0;
    for (let i = 0; i < 500_000; i++) x = x.mul(1.0000001).add(0);
    x.backward();
    // Sequential multiplication of the local derivatives (the W5 reference number).
    expect(x0.grad).toBe(1.0512710937785663);
  });
});

describe("Value: backward counts uses in `mark` (Kahn's algorithm)", () => {
  // A diamond with a node used three times: d = b·b + b, b = a·c.
  const diamond = () => {
    const a = new Value(1.5, "a");
    const c = new Value(-2, "c");
    const b = a.mul(c);
    const d = b.mul(b).add(b);
    return { a, c, b, d };
  };

  test("every node sends its gradient once, after all of its uses: same numbers as the chain rule", () => {
    const { a, c, b, d } = diamond();
    const order: Value[] = [];
    d.backward({ onStep: (step) => order.push(step.node) });
    expect(new Set(order).size).toBe(order.length);
    expect(order.indexOf(b)).toBe(order.length - 1); // b waits for both of its users
    expect(b.grad).toBe(2 * b.data + 1);
    expect(a.grad).toBe((2 * b.data + 1) * c.data);
    expect(c.grad).toBe((2 * b.data + 1) * a.data);
  });

  test("the counts are back to 0 after a pass, so pictures and zeroGrad walk the graph as before", () => {
    const { a, b, d } = diamond();
    const nodes = topoSort<Value>(d); // stamps every mark
    d.backward();
    for (const node of nodes) if (node.rule !== null && node !== d) expect(node.mark).toBe(0); // the root is never counted
    expect(b.mark).toBe(0);
    zeroGrad(d);
    expect(a.grad).toBe(0);
    d.backward();
    expect(a.grad).toBe((2 * b.data + 1) * -2);
  });

  test("an onStep that throws leaves no half-counted marks: the next pass is right", () => {
    const { a, d } = diamond();
    expect(() =>
      d.backward({
        onStep: () => {
          throw new Error("stop");
        },
      }),
    ).toThrow("stop");
    zeroGrad(a);
    d.backward();
    expect(a.grad).toBe((2 * -3 + 1) * -2);
  });

  test("user-made nodes: a rule of one's own, a stop-gradient inside the graph and as the root", () => {
    const sinRule = { name: "sin", formula: "∂sin(x)/∂x = cos(x)", f: Math.sin, df: (x: number) => Math.cos(x) };
    const x = new Value(0.5, "x");
    const h = x.mul(x);
    // a node with an operand but no rule passes nothing on
    const stop = new Value(h.data, "stop", h);
    const y = new Value(Math.sin(h.data), "s", h, null, sinRule).add(stop);
    y.backward();
    expect(x.grad).toBe(Math.cos(0.25) * 2 * 0.5);
    // as the root, it takes its gradient 1 and sends nothing; the graph behind it is untouched
    x.grad = 0;
    stop.grad = 0; // it is a leaf to backward: its gradient accumulates
    stop.backward();
    expect([stop.grad, x.grad]).toEqual([1, 0]);
    h.mul(h).backward();
    expect(x.grad).toBe(4 * 0.5 ** 3);
  });

  test("a rule that throws leaves no half-counted marks: the next pass is right", () => {
    const boom = {
      name: "boom",
      formula: "",
      f: (v: number) => v,
      df: (): number => {
        throw new Error("boom");
      },
    };
    const x = new Value(3, "x");
    const h = x.mul(x);
    expect(() => new Value(h.data, "", h, null, boom).mul(2).backward()).toThrow("boom");
    h.mul(h).backward();
    expect(x.grad).toBe(4 * 27);
  });

  test("operands that do not fit the rule are refused when the node is made", () => {
    const x = new Value(1);
    expect(() => new Value(1, "", null, null, unary.relu)).toThrow(
      /relu.*a unary rule with no operand; it needs a only/,
    );
    expect(() => new Value(1, "", x, null, binary.mul)).toThrow(
      /mul.*a binary rule with one operand \(a\); it needs a and b/,
    );
    expect(() => new Value(1, "", x, x, unary.tanh)).toThrow(/tanh.*a unary rule with two operands; it needs a only/);
    expect(() => new Value(1, "", null, x)).toThrow(/Value.*no rule with b without a/);
  });

  test("walking the graph from onStep is refused with the reason, not answered wrongly", () => {
    const { d } = diamond();
    expect(() => d.backward({ onStep: () => zeroGrad(d) })).toThrow(/topoSort.*middle of a backward pass/);
    expect(() => d.backward({ onStep: () => new Value(1).mul(2).backward() })).toThrow(
      /backward.*inside another one's onStep/,
    );
    // and the graph is usable again afterwards
    const { a, d: d2 } = diamond();
    d2.backward();
    expect(a.grad).toBe((2 * -3 + 1) * -2);
  });
});

describe("Value: the worked two-layer network of the seed notes", () => {
  test("autograd equals equations (A) and (B) to 1e-12", () => {
    const x = new Value(0.5, "a0");
    const w1 = new Value(0.8, "w1");
    const b1 = new Value(-0.2, "b1");
    const w2 = new Value(-1.3, "w2");
    const b2 = new Value(0.4, "b2");
    const y = 1.0;
    const z1 = w1.mul(x).add(b1);
    const a1 = z1.sigmoid();
    const z2 = w2.mul(a1).add(b2);
    const a2 = z2.sigmoid();
    const C = a2.sub(y).pow(2).mul(0.5);
    C.backward();

    const s = (z: number) => 1 / (1 + Math.exp(-z));
    const ds = (z: number) => s(z) * (1 - s(z));
    const A = a1.data * ds(z2.data) * (a2.data - y); // (A) ∂C/∂w² = a¹ σ'(z²) (a² − y)
    const B = x.data * ds(z1.data) * (a2.data - y) * ds(z2.data) * w2.data; // (B)
    expect(C.data).toBeCloseTo(0.1670724028061283, 15);
    expect(Math.abs(w2.grad - A)).toBeLessThan(1e-12);
    expect(Math.abs(w1.grad - B)).toBeLessThan(1e-12);
    expect(Math.abs(w2.grad - -0.07752193803789256)).toBeLessThan(1e-12);
    expect(Math.abs(w1.grad - 0.02268353162862011)).toBeLessThan(1e-12);
    expect(gradcheck(rebuild, [w1, w2, b1, b2]).ok).toBe(true);

    function rebuild(): Value {
      const a1 = w1.mul(x).add(b1).sigmoid();
      return w2.mul(a1).add(b2).sigmoid().sub(y).pow(2).mul(0.5);
    }
  });
});

describe("Value: bad input is refused with the operation's name", () => {
  test("non-finite data", () => {
    expect(() => new Value(Number.NaN)).toThrow(/Value: data must be a finite number, got NaN/);
    expect(() => new Value(Number.POSITIVE_INFINITY)).toThrow(ChainruleError);
  });
  test("non-number operands", () => {
    const a = new Value(1);
    expect(() => a.add("3" as unknown as number)).toThrow(
      /add: operand must be a Value or a finite number, got the string "3"/,
    );
    expect(() => a.mul(Number.NaN)).toThrow(/mul: operand/);
    expect(() => a.div(null as unknown as number)).toThrow(/div: operand .* got null/);
  });
  test("pow with a Value exponent", () => {
    const a = new Value(2);
    expect(() => a.pow(new Value(3) as unknown as number)).toThrow(
      /pow: exponent must be a finite number, got a Value/,
    );
  });
  test("results outside the domain", () => {
    expect(() => new Value(-1).log()).toThrow(/log: log\(-1\) is NaN/);
    expect(() => new Value(0).log()).toThrow(/log\(0\) is -Infinity/);
    expect(() => new Value(1).div(0)).toThrow(/div: div\(1, 0\) is Infinity/);
    expect(() => new Value(1000).exp()).toThrow(/exp: exp\(1000\) is Infinity/);
  });
  test("sigmoid and tanh saturate without NaN", () => {
    expect(new Value(-1000).sigmoid().data).toBe(0);
    expect(new Value(1000).sigmoid().data).toBe(1);
    expect(new Value(-1000).tanh().data).toBe(-1);
  });
});
