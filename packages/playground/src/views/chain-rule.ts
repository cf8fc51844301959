/**
 * @file View 1, the chain rule node by node: the chapter's two-layer sigmoid network
 * a⁰ → a¹ → a² with the quadratic cost C = ½(a² − y)², built from `Value`s. Sliders set the
 * inputs and weights (the forward pass reruns live); "Step backward" walks the library's own
 * trace (`traceBackward`) one node at a time; equations (A) and (B) stand beside autograd's and
 * finite differences' numbers. Imports the public API of @chainrule/autograd.
 */

import { type Trace, type TraceStep, traceBackward, Value } from "@chainrule/autograd";
import { el, fixed, num } from "../ui.js";

/** The worked instance of the chapter. */
export const WORKED = { x: 0.5, w1: 0.8, b1: -0.2, w2: -1.3, b2: 0.4, y: 1.0 };
type Inputs = typeof WORKED;

const SLIDERS: { key: keyof Inputs; label: string; min: number; max: number }[] = [
  { key: "x", label: "x = a⁰", min: -2, max: 2 },
  { key: "w1", label: "w¹", min: -3, max: 3 },
  { key: "b1", label: "b¹", min: -3, max: 3 },
  { key: "w2", label: "w²", min: -3, max: 3 },
  { key: "b2", label: "b²", min: -3, max: 3 },
  { key: "y", label: "y (target)", min: 0, max: 1 },
];

/** The network as a labelled Value graph, with the chapter's names (its "basis" is our bias). */
function network(v: Inputs) {
  const a0 = new Value(v.x, "a0");
  const y = new Value(v.y, "y");
  const w1 = new Value(v.w1, "w1");
  const b1 = new Value(v.b1, "b1");
  const w2 = new Value(v.w2, "w2");
  const b2 = new Value(v.b2, "b2");
  const named = (node: Value, label: string) => {
    node.label = label;
    return node;
  };
  const z1 = named(w1.mul(a0).add(b1), "z1"); // z¹ = w¹a⁰ + b¹
  const a1 = named(z1.sigmoid(), "a1"); //        a¹ = σ(z¹)
  const z2 = named(w2.mul(a1).add(b2), "z2"); // z² = w²a¹ + b²
  const a2 = named(z2.sigmoid(), "a2"); //        a² = σ(z²)
  const C = named(a2.sub(y).pow(2).mul(0.5), "C"); // C = ½(a² − y)²
  return { a0, y, w1, b1, w2, b2, z1, a1, z2, a2, C };
}

/** The backward pass from C, recorded for its first `steps` steps (all when undefined). */
export function traceNetwork(v: Inputs, steps?: number): { net: ReturnType<typeof network>; trace: Trace } {
  const net = network(v);
  const trace = traceBackward(net.C, steps === undefined ? {} : { maxSteps: steps });
  return { net, trace };
}

/** ∂C/∂w by central differences, (C(w + h) − C(w − h)) / 2h, each C a forward pass. */
function finiteDifference(v: Inputs, key: "w1" | "w2", h = 1e-6): number {
  const cost = (w: number) => network({ ...v, [key]: w }).C.data;
  return (cost(v[key] + h) - cost(v[key] - h)) / (2 * h);
}

/** A number as a factor of a product: negative ones in parentheses. */
const factor = (x: number) => (x < 0 ? `(${num(x)})` : num(x));

const sigmaPrime = (a: number) => a * (1 - a); // σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)

// Where each node is drawn: columns by depth from the inputs, the main chain in the middle row.
const BOX_W = 84;
const BOX_H = 50;
const COL = 104;
const ROW = 78;

interface Placed {
  x: number;
  y: number;
}

function layout(trace: Trace): Map<Value, Placed> {
  const nodes = trace.nodes as Value[];
  const depth = new Map<Value, number>();
  for (const n of nodes) {
    const parents = n.parents;
    depth.set(
      n,
      parents.length === 0
        ? 0
        : 1 + Math.max(...parents.map((p) => (p.parents.length === 0 ? 0 : (depth.get(p) as number)))),
    );
  }
  // a leaf sits one column before the first node that uses it
  for (const n of nodes) {
    if (n.parents.length > 0) continue;
    const users = nodes.filter((m) => m.parents.includes(n));
    depth.set(n, Math.min(...users.map((m) => depth.get(m) as number)) - 1);
  }
  const placed = new Map<Value, Placed>();
  const columns = new Map<number, Value[]>();
  for (const n of nodes) columns.set(depth.get(n) as number, [...(columns.get(depth.get(n) as number) ?? []), n]);
  for (const [column, members] of columns) {
    const inner = members.filter((n) => n.parents.length > 0);
    const leaves = members.filter((n) => n.parents.length === 0);
    for (const n of inner) placed.set(n, { x: 10 + column * COL, y: 10 + ROW });
    // leaves above the chain, a second one below
    for (const [i, n] of leaves.entries()) placed.set(n, { x: 10 + column * COL, y: 10 + (i % 2 === 0 ? 0 : 2) * ROW });
  }
  return placed;
}

const SVG = "http://www.w3.org/2000/svg";
function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, text?: string) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "a2" → "a²", "w1" → "w¹": the chapter's superscripts for layer numbers. */
export function pretty(name: string): string {
  const sup: Record<string, string> = { "0": "⁰", "1": "¹", "2": "²" };
  return name.replace(/([abwzy])([012])/g, (_, letter: string, digit: string) => letter + (sup[digit] as string));
}

export function mountChainRule(root: HTMLElement): void {
  const values: Inputs = { ...WORKED };
  let step = 0; // steps of the backward pass shown so far

  const graph = svg("svg", { class: "graph", role: "img", "aria-label": "the computation graph" });
  const stepBox = el("div", { class: "step", id: "step-info" });
  const equations = el("div", { class: "equations", id: "equations" });
  const sliders = el("div", { class: "sliders" });
  const counter = el("span", { id: "step-counter" });
  const back = el("button", { id: "step-backward" }, "Step backward ▸");
  const all = el("button", { id: "step-all" }, "Whole pass");
  const reset = el("button", { id: "step-reset" }, "Forward only");
  const restore = el("button", { id: "restore-worked" }, "The chapter's numbers");

  root.append(
    el("h2", {}, "The chain rule, node by node"),
    el(
      "p",
      { class: "about" },
      "The two-layer sigmoid network of the textbook: z¹ = w¹a⁰ + b¹, a¹ = σ(z¹), z² = w²a¹ + b², a² = σ(z²), and the quadratic cost C = ½(a² − y)². " +
        "Move a slider and the forward pass reruns. Then press “Step backward”: reverse mode visits each node once, from C back to the inputs. " +
        "At each node it multiplies what arrived from above, ∂C/∂node, by the node's local derivative, and sends the product down to each input. " +
        "The product of the local derivatives along the path from C to w² is equation (A); the path to w¹ is equation (B).",
    ),
    el("div", { class: "graph-wrap" }, graph),
    el("div", { class: "controls" }, back, all, reset, restore, counter),
    el("div", { class: "columns" }, el("div", {}, el("h3", {}, "Inputs and weights"), sliders), stepBox),
    el("h3", {}, "Equations (A) and (B), with the current numbers"),
    equations,
  );

  const inputs = new Map<keyof Inputs, HTMLInputElement>();
  for (const s of SLIDERS) {
    const input = el("input", {
      type: "range",
      min: String(s.min),
      max: String(s.max),
      step: "0.01",
      value: String(values[s.key]),
      id: `slider-${s.key}`,
    });
    const shown = el("output", {}, fixed(values[s.key], 2));
    input.addEventListener("input", () => {
      values[s.key] = Number(input.value);
      shown.textContent = fixed(values[s.key], 2);
      render();
    });
    inputs.set(s.key, input);
    sliders.append(el("label", { class: "slider" }, el("span", {}, s.label), input, shown));
  }

  back.addEventListener("click", () => {
    step = Math.min(step + 1, total);
    render();
  });
  all.addEventListener("click", () => {
    step = total;
    render();
  });
  reset.addEventListener("click", () => {
    step = 0;
    render();
  });
  restore.addEventListener("click", () => {
    Object.assign(values, WORKED);
    for (const [key, input] of inputs) {
      input.value = String(values[key]);
      (input.nextElementSibling as HTMLOutputElement).textContent = fixed(values[key], 2);
    }
    step = 0;
    render();
  });

  let total = 0;
  function render(): void {
    const { net, trace } = traceNetwork(values, step);
    total = trace.totalSteps;
    counter.textContent = `step ${step} of ${total}`;
    back.disabled = step >= total;
    drawGraph(graph, trace, trace.steps[step - 1] ?? null);
    describeStep(stepBox, trace, trace.steps[step - 1] ?? null);
    drawEquations(equations, values, net);
  }
  render();
}

function drawGraph(graph: SVGSVGElement, trace: Trace, current: TraceStep | null): void {
  const placed = layout(trace);
  const width = Math.max(...[...placed.values()].map((p) => p.x)) + BOX_W + 10;
  graph.setAttribute("viewBox", `0 0 ${width} ${3 * ROW + 10}`);
  graph.replaceChildren();
  const defs = svg("defs", {});
  const marker = svg("marker", {
    id: "arrow",
    viewBox: "0 0 10 10",
    refX: 9,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: "auto",
  });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8a94a6" }));
  defs.append(marker);
  graph.append(defs);
  const active = new Set(current?.parents.map((e) => e.parent as Value) ?? []);
  for (const node of trace.nodes as Value[]) {
    const to = placed.get(node) as Placed;
    for (const parent of node.parents) {
      const from = placed.get(parent) as Placed;
      const hot = current?.node === node && active.has(parent);
      graph.append(
        svg("line", {
          x1: from.x + BOX_W,
          y1: from.y + BOX_H / 2,
          x2: to.x,
          y2: to.y + BOX_H / 2,
          class: hot ? "edge hot" : "edge",
          "marker-end": "url(#arrow)",
        }),
      );
    }
  }
  for (const node of trace.nodes as Value[]) {
    const p = placed.get(node) as Placed;
    const name = trace.names.get(node) as string;
    const grad = trace.gradients.get(node);
    const isCurrent = current?.node === node;
    const isInput = active.has(node);
    const g = svg("g", {
      class: `node${isCurrent ? " current" : ""}${isInput ? " receiving" : ""}${node.parents.length === 0 ? " leaf" : ""}`,
      "data-name": name,
    });
    g.append(svg("rect", { x: p.x, y: p.y, width: BOX_W, height: BOX_H, rx: 7 }));
    g.append(svg("text", { x: p.x + BOX_W / 2, y: p.y + 15, class: "name" }, pretty(name)));
    g.append(svg("text", { x: p.x + BOX_W / 2, y: p.y + 30, class: "value" }, `= ${num(node.data)}`));
    const root = node === trace.root;
    const gradText = root ? "∂C/∂C = 1" : grad === undefined ? "∂C/∂· ?" : `∂ = ${num(grad as number)}`;
    g.append(
      svg(
        "text",
        { x: p.x + BOX_W / 2, y: p.y + 44, class: grad === undefined && !root ? "grad pending" : "grad" },
        gradText,
      ),
    );
    graph.append(g);
  }
}

function describeStep(box: HTMLElement, trace: Trace, step: TraceStep | null): void {
  box.replaceChildren(el("h3", {}, "The backward pass"));
  if (step === null) {
    box.append(
      el("p", {}, "Only the forward pass has run: every node holds its value, no gradient has moved yet."),
      el("p", {}, `Press “Step backward” to start at C, where ∂C/∂C = 1. The pass takes ${trace.totalSteps} steps.`),
    );
    return;
  }
  const name = pretty(step.name);
  const expression = step.expression === step.name ? "" : ` = ${pretty(step.expression)}`;
  box.append(
    el("p", { class: "step-title", "data-node": step.name }, `Step ${step.index}: the node ${name}${expression}`),
    el("p", {}, `What arrived from above: ∂C/∂${name} = ${num(step.upstream as number)}`),
  );
  const list = el("ul", { class: "edges" });
  for (const e of step.parents) {
    const parent = pretty(e.name);
    const local = e.local as number;
    const sent = e.sent as number | null;
    list.append(
      el(
        "li",
        {},
        el("div", { class: "formula" }, e.formula === null ? "" : `rule: ${e.formula}`),
        el("div", {}, `local derivative ∂${name}/∂${parent} = ${pretty(e.symbol)} = ${num(local)}`),
        el(
          "div",
          { class: "product" },
          sent === null
            ? `${parent} needs no gradient`
            : `∂C/∂${parent} = ∂C/∂${name} × ∂${name}/∂${parent} = ${factor(step.upstream as number)} × ${factor(local)} = ${num(sent)}`,
        ),
      ),
    );
  }
  box.append(list);
}

function drawEquations(box: HTMLElement, v: Inputs, net: ReturnType<typeof network>): void {
  const { a0, a1, a2, w2 } = net;
  const s1 = sigmaPrime(a1.data);
  const s2 = sigmaPrime(a2.data);
  const A = a1.data * s2 * (a2.data - v.y);
  const B = a0.data * s1 * (a2.data - v.y) * s2 * w2.data;
  // autograd: a fresh graph's full backward pass
  const fresh = network(v);
  fresh.C.backward();
  const row = (id: string, label: string, formula: string, numbers: string, eq: number, auto: number, fd: number) =>
    el(
      "tr",
      { id },
      el("th", {}, label),
      el("td", {}, formula, el("br"), el("span", { class: "numbers" }, numbers)),
      el("td", { class: "eq" }, fixed(eq, 10)),
      el("td", { class: "auto" }, fixed(auto, 10)),
      el("td", { class: "fd" }, fixed(fd, 10)),
    );
  box.replaceChildren(
    el(
      "table",
      {},
      el(
        "tr",
        {},
        el("th", {}, ""),
        el("th", {}, "equation"),
        el("th", {}, "equation's value"),
        el("th", {}, "autograd (backward)"),
        el("th", {}, "finite differences"),
      ),
      row(
        "eq-A",
        "(A) ∂C/∂w²",
        "a¹ · σ'(z²) · (a² − y)",
        `= ${num(a1.data)} · ${num(s2)} · (${num(a2.data - v.y)})`,
        A,
        fresh.w2.grad,
        finiteDifference(v, "w2"),
      ),
      row(
        "eq-B",
        "(B) ∂C/∂w¹",
        "a⁰ · σ'(z¹) · (a² − y) · σ'(z²) · w²",
        `= ${num(a0.data)} · ${num(s1)} · (${num(a2.data - v.y)}) · ${num(s2)} · (${num(w2.data)})`,
        B,
        fresh.w1.grad,
        finiteDifference(v, "w1"),
      ),
    ),
    el(
      "p",
      { class: "note" },
      "Finite differences: (C(w + h) − C(w − h)) / 2h with h = 10⁻⁶, two forward passes per weight; they agree with the exact gradient to about 10⁻¹⁰.",
    ),
  );
}
