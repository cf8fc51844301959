/**
 * @file Pictures of graphs: the DOT text has one box per node and one arrow per input link, shows
 * labels, values, shapes and gradients; the SVG that Graphviz (WebAssembly) makes of it is
 * well-formed XML with one node element per box; grouping collapses layers; a graph too large to
 * draw is refused with advice.
 */

import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import {
  ChainruleError,
  groupByLabelPrefix,
  nodeKind,
  Random,
  randn,
  renderDotToSvg,
  renderSvg,
  type Tensor,
  tensor,
  toDot,
  Value,
  zeros,
} from "../src/index.js";
import { seed } from "./seed-network.js";

/** A two-layer tensor network with nn-style parameter labels. */
function tensorNet() {
  const rng = new Random(7);
  const x = tensor(
    [
      [0.5, -1],
      [1, 2],
      [0.1, 0.3],
    ],
    { label: "x" },
  );
  const y = tensor([[1], [0], [1]], { label: "y" });
  const W1 = randn([3, 2], rng, { requiresGrad: true, label: "layers.0.weight" });
  const b1 = zeros([3], { requiresGrad: true, label: "layers.0.bias" });
  const W2 = randn([1, 3], rng, { requiresGrad: true, label: "layers.1.weight" });
  const b2 = zeros([1], { requiresGrad: true, label: "layers.1.bias" });
  const h = x.matmul(W1.T).add(b1).sigmoid();
  const out = h.matmul(W2.T).add(b2).sigmoid();
  const loss = out.sub(y).pow(2).mean();
  loss.label = "loss";
  return { x, y, W1, b1, W2, b2, loss };
}

const nodeStatements = (dot: string) => dot.split("\n").filter((l) => /^\s*[ng]\d+ \[/.test(l));
const edgeStatements = (dot: string) => dot.split("\n").filter((l) => /^\s*[ng]\d+ -> [ng]\d+;$/.test(l));

function countNodes(root: Value | Tensor): { nodes: number; links: number } {
  const seen = new Set<Value | Tensor>();
  const stack: (Value | Tensor)[] = [root];
  let links = 0;
  while (stack.length > 0) {
    const n = stack.pop() as Value | Tensor;
    if (seen.has(n)) continue;
    seen.add(n);
    links += n.parents.length;
    for (const p of n.parents) stack.push(p);
  }
  return { nodes: seen.size, links };
}

/** Every element of a parsed XML tree, depth first. */
function elements(tree: unknown, name: string, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(tree)) {
    for (const t of tree) elements(t, name, out);
  } else if (tree !== null && typeof tree === "object") {
    for (const [key, value] of Object.entries(tree)) {
      if (key === name) for (const v of Array.isArray(value) ? value : [value]) out.push(v as Record<string, unknown>);
      elements(value, name, out);
    }
  }
  return out;
}

/** The text of an SVG, entities decoded (Graphviz writes a minus sign as &#45;). */
function svgText(svg: string): string[] {
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);
  return texts.map((t) =>
    t
      .replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)))
      .replace(/&amp;|&lt;|&gt;|&quot;/g, (e) => {
        return { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"' }[e] as string;
      }),
  );
}

function parseSvg(svg: string) {
  expect(XMLValidator.validate(svg)).toBe(true);
  const tree = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" }).parse(svg);
  const groups = elements(tree, "g");
  const withClass = (c: string) => groups.filter((g) => String(g["@_class"] ?? "").split(" ")[0] === c);
  return { tree, nodes: withClass("node"), edges: withClass("edge"), clusters: withClass("cluster") };
}

describe("toDot", () => {
  test("the seed network: one box per node, one arrow per input link, labels and values", () => {
    const { a0, C } = seed();
    C.backward();
    const dot = toDot(C, { inputs: [a0] });
    const { nodes, links } = countNodes(C);
    expect(nodes).toBeGreaterThanOrEqual(14); // 5 leaves, 9 ops (number operands live inside ops)
    expect(nodeStatements(dot)).toHaveLength(nodes);
    expect(edgeStatements(dot)).toHaveLength(links);
    for (const name of ["a0", "w1", "b1", "z1", "a1", "w2", "b2", "z2", "a2", "C"]) {
      expect(dot).toContain(`<b>${name}</b>`);
    }
    expect(dot).toContain("<b>C</b> = <i>mul</i> 0.5<br/>0.1671<br/>grad 1"); // ½ lives in its op
    expect(dot).toContain("<b>w2</b><br/>-1.3<br/>grad -0.07752");
    expect(dot).toContain("<b>w1</b><br/>0.8<br/>grad 0.02268");
    expect(dot).toContain("<i>pow</i> 2");
    expect(dot).toMatch(/^digraph chainrule \{\n {2}rankdir=LR;/);
  });

  test("parameters, inputs, constants, ops and the output are told apart", () => {
    const { a0, w1, z1, C } = seed();
    const half = new Value(0.5); // an unlabelled leaf: a constant
    const D = C.mul(half);
    const inputs = new Set<Value>([a0]);
    expect(nodeKind(w1, D, inputs)).toBe("parameter");
    expect(nodeKind(a0, D, inputs)).toBe("input");
    expect(nodeKind(z1, D, inputs)).toBe("op");
    expect(nodeKind(D, D, inputs)).toBe("output");
    expect(nodeKind(half, D, inputs)).toBe("constant");
    const dot = toDot(D, { inputs: [a0] });
    const classes = nodeStatements(dot).map((l) => /class="(\w+)"/.exec(l)?.[1]);
    expect(new Set(classes)).toEqual(new Set(["parameter", "input", "constant", "op", "output"]));
    // Each kind has its own style.
    const styles = new Map(
      nodeStatements(dot).map((l) => [/class="(\w+)"/.exec(l)?.[1], /fillcolor="([^"]+)"/.exec(l)?.[1]]),
    );
    expect(new Set(styles.values()).size).toBe(5); // constants are dashed, unfilled
  });

  test("gradients are shown once a backward pass has run, or as asked", () => {
    const { C } = seed();
    expect(toDot(C)).not.toContain("grad");
    expect(toDot(C, { showGrad: true })).toContain("grad 0");
    C.backward();
    expect(toDot(C)).toContain("grad");
    expect(toDot(C, { showGrad: false })).not.toContain("grad");
  });

  test("labels are escaped for DOT's HTML-like labels", () => {
    const x = new Value(2, 'a<b> & "c" \\ d');
    const dot = toDot(x.mul(3));
    expect(dot).toContain("a&lt;b&gt; &amp; &quot;c&quot; \\ d");
    expect(dot).not.toContain("a<b>");
  });

  test("a Tensor graph shows shapes, small values, and gradients (large ones by their norm)", () => {
    const { loss, W1 } = tensorNet();
    const big = randn([4, 5], new Random(1), { requiresGrad: true, label: "big" });
    const before = toDot(loss);
    expect(before).toContain("<b>layers.0.weight</b><br/>[3×2]");
    expect(before).toContain("[0.5, -1]<br/>[1, 2]<br/>[0.1, 0.3]"); // x, row by row
    expect(before).not.toContain("grad");
    loss.backward();
    const after = toDot(loss);
    const g = (W1.grad as Tensor).data;
    const fmt = (v: number | undefined) => String(Number((v as number).toPrecision(4)));
    expect(after).toContain(`grad [${fmt(g[0])}, ${fmt(g[1])}] [${fmt(g[2])}, ${fmt(g[3])}]`);
    const total = big.sum();
    total.backward();
    const dotBig = toDot(total, { maxValues: 6 });
    expect(dotBig).toContain("<b>big</b><br/>[4×5]<br/>‖grad‖ 4.472"); // √20: every ∂Σ/∂x is 1
    const { nodes, links } = countNodes(loss);
    expect(nodeStatements(after)).toHaveLength(nodes);
    expect(edgeStatements(after)).toHaveLength(links);
  });

  test('groups: "labels" collapses each layer into one box and merges the arrows', () => {
    const { loss } = tensorNet();
    const full = toDot(loss);
    const grouped = toDot(loss, { groups: "labels" });
    expect(nodeStatements(grouped).length).toBeLessThan(nodeStatements(full).length);
    expect(grouped).toContain("<b>layers.0</b><br/>2 parameters · 3 ops<br/>weight [3×2]<br/>bias [3]<br/>out [3×3]");
    expect(grouped).toContain("<b>layers.1</b>");
    const edges = edgeStatements(grouped);
    expect(new Set(edges).size).toBe(edges.length);
    // The input enters layer 0; the activation sits between the layers.
    expect(grouped).toMatch(/n0 -> g0;/);
    expect(grouped).toMatch(/g0 -> n\d+;\n {2}n\d+ -> g1;/);
  });

  test("groupByLabelPrefix: parameters by prefix, ops by what they consume", () => {
    const { loss, W1, b1, W2, x, y } = tensorNet();
    const group = groupByLabelPrefix(loss);
    expect(group(W1)).toBe("layers.0");
    expect(group(b1)).toBe("layers.0");
    expect(group(W2)).toBe("layers.1");
    expect(group(x)).toBeUndefined();
    expect(group(y)).toBeUndefined();
    expect(group(loss)).toBeUndefined();
    expect(groupByLabelPrefix(loss, { depth: 1 })(W1)).toBe("layers");
  });

  test('groupStyle "cluster" frames the groups and keeps every node', () => {
    const { loss } = tensorNet();
    const dot = toDot(loss, { groups: "labels", groupStyle: "cluster" });
    expect(nodeStatements(dot)).toHaveLength(countNodes(loss).nodes);
    expect(dot).toContain("subgraph cluster_g0 {");
    expect(dot).toContain("subgraph cluster_g1 {");
  });

  test("a 784–30–10 network stays readable when grouped", () => {
    const rng = new Random(3);
    const x = randn([10, 784], rng, { label: "x" });
    const layer = (input: Tensor, inputs: number, outputs: number, name: string) => {
      const W = randn([outputs, inputs], rng, { requiresGrad: true, label: `${name}.weight` });
      const b = zeros([outputs], { requiresGrad: true, label: `${name}.bias` });
      return input.matmul(W.T).add(b).sigmoid();
    };
    const out = layer(layer(x, 784, 30, "layers.0"), 30, 10, "layers.1");
    const loss = out
      .sub(zeros([10, 10]))
      .pow(2)
      .mean();
    const dot = toDot(loss, { groups: "labels" });
    expect(dot).toContain("weight [30×784]");
    expect(dot).toContain("out [10×30]");
    expect(nodeStatements(dot).length).toBeLessThanOrEqual(12);
  });

  test("a scalar 784–30–10 network is refused whole and drawn by neuron", () => {
    const rng = new Random(5);
    const inputs = Array.from({ length: 784 }, () => rng.uniform(0, 1));
    const layer = (xs: (number | Value)[], outputs: number, name: string) =>
      Array.from({ length: outputs }, (_, j) => {
        let act = new Value(0, `${name}.n${j}.b`);
        xs.forEach((xi, i) => {
          act = act.add(new Value(rng.normal(0, 0.05), `${name}.n${j}.w${i}`).mul(xi));
        });
        return act.sigmoid();
      });
    const out = layer(layer(inputs, 30, "l0"), 10, "l1");
    let loss = new Value(0);
    for (const o of out) loss = loss.add(o.mul(o));
    expect(() => toDot(loss)).toThrow(ChainruleError);
    expect(() => toDot(loss)).toThrow(/maxNodes = 2000.*groups: "labels"/);
    const dot = toDot(loss, { groups: "labels" });
    const boxes = nodeStatements(dot).length;
    expect(boxes).toBeLessThan(100); // 40 neurons, the last layer's activations, the loss
    // A neuron of the first layer reads only constants, so its activation joins it.
    expect(dot).toContain("<b>l0.n0</b><br/>785 parameters · 1569 ops");
    expect(toDot(loss, { groups: "labels", groupDepth: 1 })).toContain("<b>l0</b><br/>23550 parameters");
  });

  test("maxNodes refuses a graph with more boxes than asked", () => {
    const { C } = seed();
    const { nodes } = countNodes(C);
    expect(() => toDot(C, { maxNodes: 10 })).toThrow(
      `${nodes} nodes (${nodes} boxes to draw), more than maxNodes = 10`,
    );
    expect(() => toDot(C, { maxNodes: nodes })).not.toThrow();
  });

  test("highlight outlines the nodes asked for", () => {
    const { C, a2 } = seed();
    const line = nodeStatements(toDot(C, { highlight: [a2] })).find((l) => l.includes("<b>a2</b>"));
    expect(line).toContain("penwidth=3");
  });
});

describe("renderSvg", () => {
  test("the seed network as SVG: valid XML, one node element per graph node, labels and numbers", async () => {
    const { a0, C } = seed();
    C.backward();
    const svg = await renderSvg(C, { inputs: [a0] });
    const { nodes, edges } = parseSvg(svg);
    const counts = countNodes(C);
    expect(nodes).toHaveLength(counts.nodes);
    expect(edges).toHaveLength(counts.links);
    expect(nodes.map((n) => n["@_id"]).sort()).toEqual(Array.from({ length: counts.nodes }, (_, i) => `n${i}`).sort());
    const text = svgText(svg);
    for (const name of ["a0", "w1", "b1", "z1", "a1", "w2", "b2", "z2", "a2", "C"]) expect(text).toContain(name);
    expect(text).toContain("0.1671"); // C
    expect(text).toContain("grad -0.07752"); // ∂C/∂w2
    expect(text).toContain("grad 0.02268"); // ∂C/∂w1
    // Node kinds become CSS classes.
    expect(nodes.find((n) => n["@_id"] === `n${counts.nodes - 1}`)?.["@_class"]).toBe("node output");
  });

  test("a Tensor graph as SVG, whole and grouped", async () => {
    const { loss } = tensorNet();
    loss.backward();
    const whole = parseSvg(await renderSvg(loss));
    expect(whole.nodes).toHaveLength(countNodes(loss).nodes);
    const svg = await renderSvg(loss, { groups: "labels" });
    const grouped = parseSvg(svg);
    expect(grouped.nodes).toHaveLength(nodeStatements(toDot(loss, { groups: "labels" })).length);
    expect(grouped.nodes.length).toBeLessThan(whole.nodes.length);
    const text = svgText(svg);
    expect(text).toContain("layers.0");
    expect(text).toContain("weight [3×2]");
    const clustered = parseSvg(await renderSvg(loss, { groups: "labels", groupStyle: "cluster" }));
    expect(clustered.clusters).toHaveLength(2);
    expect(clustered.nodes).toHaveLength(whole.nodes.length);
  });

  test("renderDotToSvg lays out any DOT, and reports what Graphviz rejects", async () => {
    const svg = await renderDotToSvg("digraph { a -> b }");
    expect(parseSvg(svg).nodes).toHaveLength(2);
    await expect(renderDotToSvg("digraph { a -> }")).rejects.toThrow(ChainruleError);
  });
});
