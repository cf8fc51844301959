/**
 * @file Pictures of a computation graph in Graphviz's DOT language: one box per node, an arrow
 * from every input to the op that reads it, and colours that tell parameters, inputs, constants,
 * intermediate results and the output apart. Large graphs collapse into one box per group (a
 * layer). The text is plain DOT; svg.ts lays it out. Imports format.ts, groups.ts, value.ts,
 * tensor.ts, errors.ts.
 */

import { ChainruleError } from "../errors.js";
import { Tensor } from "../tensor.js";
import { Value } from "../value.js";
import {
  formatNumber,
  formatTensorShape,
  formatValues,
  type GraphValue,
  hiddenConstant,
  isConstant,
  isLeafNode,
  nodesOf,
  powExponent,
} from "./format.js";
import { type GroupFn, groupByLabelPrefix } from "./groups.js";

/**
 * What a box stands for: a parameter (learnt: a Tensor leaf with requiresGrad, or a labelled
 * Value leaf), an input (named in `inputs`, or a labelled Tensor leaf without requiresGrad), a
 * constant, an intermediate op result, or the output the picture was drawn from.
 */
export type NodeKind = "parameter" | "input" | "constant" | "op" | "output";

/** Options of `toDot`, `renderSvg`: layout, how much of each node to show, and grouping. */
export interface DotOptions {
  /** Direction of the arrows: "LR" (default, inputs on the left), "TB", "RL" or "BT". */
  rankdir?: "LR" | "TB" | "RL" | "BT";
  /** Tensors with at most this many elements show their values (default 6); others, their shape. */
  maxValues?: number;
  /** Significant digits of the numbers shown (default 4). */
  digits?: number;
  /**
   * Show gradients (default: when known). A Value graph knows them once a backward pass has run
   * from the root; a Tensor shows `.grad` where it is not null (for large tensors, its norm).
   */
  showGrad?: boolean;
  /** Leaves to draw as inputs (data) rather than parameters, e.g. `[a0]` for a Value network. */
  inputs?: Iterable<GraphValue>;
  /**
   * Group nodes: a function giving each node's group name (or undefined), or `"labels"` for
   * `groupByLabelPrefix` (`layers.0.weight` → `layers.0`).
   */
  groups?: GroupFn | "labels";
  /** With `groups: "labels"`: how many label parts name a group (see `groupByLabelPrefix`). */
  groupDepth?: number;
  /** "collapse" (default): one box per group. "cluster": every node, framed by its group. */
  groupStyle?: "collapse" | "cluster";
  /** Refuse to draw more boxes than this (default 2000): Graphviz would take minutes. */
  maxNodes?: number;
  /**
   * Gradients to show instead of the nodes' own, e.g. `gradientsAfter(trace, k)`: what is known
   * after k steps of a backward pass (nodes missing from the map show none).
   */
  gradients?: ReadonlyMap<GraphValue, number | Tensor>;
  /** Nodes to outline in red, e.g. the node of the current step of a trace. */
  highlight?: Iterable<GraphValue>;
  /** A caption under the picture. */
  title?: string;
}

/** The kind of box `node` gets in a picture of the graph behind `root`. */
export function nodeKind(node: GraphValue, root: GraphValue, inputs: ReadonlySet<GraphValue> = new Set()): NodeKind {
  if (node === root) return "output";
  if (!isLeafNode(node)) return "op";
  if (inputs.has(node)) return "input";
  if (node instanceof Tensor) return node.requiresGrad ? "parameter" : node.label !== "" ? "input" : "constant";
  return isConstant(node) ? "constant" : "parameter";
}

const KIND_STYLE: Record<NodeKind | "group", string> = {
  parameter: 'shape=box, style="rounded,filled", fillcolor="#d4e4ff", color="#3465a4"',
  input: 'shape=box, style="rounded,filled", fillcolor="#d9f2d9", color="#3e8e41"',
  constant: 'shape=box, style="rounded,dashed", color="#9a9a9a", fontcolor="#555555"',
  op: 'shape=box, style="filled", fillcolor="#f2f2f2", color="#8a8a8a"',
  output: 'shape=box, style="rounded,filled,bold", fillcolor="#ffe2b8", color="#c46a00", penwidth=2',
  group: 'shape=box3d, style="filled", fillcolor="#ece6f7", color="#6a4fa3"',
};

/**
 * The graph behind `root` in Graphviz's DOT language. Each box shows the node's label (or its
 * op), its value — a Tensor's shape, and its elements when there are at most `maxValues` — and
 * its gradient when known. Parameters are blue, inputs green, constants dashed, ops grey, the
 * output orange, collapsed groups violet. Every box has an `id` (`n0`, `n1`, … in graph order;
 * `g0`, … for groups) and a `class` (its kind), which Graphviz copies into SVG.
 *
 * ```ts
 * const w = new Value(0.8, "w");
 * const y = w.mul(new Value(0.5, "x")).sigmoid();
 * y.backward();
 * toDot(y);            // 'digraph chainrule { … n0 -> n2; … }'
 * toDot(loss, { groups: "labels" }); // one box per `layers.N` of an nn model
 * ```
 */
export function toDot(root: GraphValue, options: DotOptions = {}): string {
  if (!(root instanceof Value) && !(root instanceof Tensor)) {
    throw new ChainruleError("toDot", "expected a Value or a Tensor");
  }
  const order = nodesOf(root);
  const groups = collectGroups(order, resolveGroups(root, options));
  const collapse = options.groupStyle !== "cluster";
  const maxNodes = options.maxNodes ?? 2000;
  const boxes = collapse ? order.length - groups.of.size + groups.members.size : order.length;
  if (boxes > maxNodes) {
    throw new ChainruleError(
      "toDot",
      `the graph has ${order.length} nodes (${boxes} boxes to draw), more than maxNodes = ${maxNodes}; collapse layers with { groups: "labels" } (labels like "layers.0.weight") or a groups function, or raise maxNodes`,
    );
  }

  const ids = new Map<GraphValue, string>();
  order.forEach((node, i) => {
    ids.set(node, `n${i}`);
  });
  const inputs = new Set(options.inputs ?? []);
  const highlight = new Set(options.highlight ?? []);
  const showGrad = options.showGrad ?? (root instanceof Value ? root.grad !== 0 : true);
  const show: Show = {
    maxValues: options.maxValues ?? 6,
    digits: options.digits ?? 4,
    showGrad: showGrad || options.gradients !== undefined,
    gradients: options.gradients ?? null,
  };
  const nodeStatement = (node: GraphValue, indent: string) => {
    const kind = nodeKind(node, root, inputs);
    const id = ids.get(node) as string;
    const mark = highlight.has(node) ? ', color="#d62728", penwidth=3' : "";
    return `${indent}${id} [id="${id}", class="${kind}", ${KIND_STYLE[kind]}${mark}, label=<${nodeLabel(node, show).join("<br/>")}>];`;
  };

  const lines = ["digraph chainrule {", `  rankdir=${options.rankdir ?? "LR"};`];
  lines.push('  node [fontname="Helvetica", fontsize=11];', '  edge [color="#707070", arrowsize=0.7];');
  if (options.title !== undefined) lines.push(`  label=<${escapeHtml(options.title)}>;`, "  labelloc=b;");
  for (const node of order) if (!groups.of.has(node)) lines.push(nodeStatement(node, "  "));
  const exits = collapse ? exitsByGroup(order, root, groups.of) : new Map<string, Set<GraphValue>>();
  for (const [name, { id, nodes }] of groups.members) {
    if (collapse) {
      const label = groupLabel(name, nodes, exits.get(name) ?? new Set(), show.digits);
      lines.push(`  ${id} [id="${id}", class="group", ${KIND_STYLE.group}, label=<${label.join("<br/>")}>];`);
    } else {
      lines.push(`  subgraph cluster_${id} {`, `    label=<<b>${escapeHtml(name)}</b>>;`);
      lines.push('    style="rounded,filled"; fillcolor="#f7f4fc"; color="#6a4fa3";');
      for (const node of nodes) lines.push(nodeStatement(node, "    "));
      lines.push("  }");
    }
  }

  // One arrow per parent link between single boxes (x·x has two); arrows touching a collapsed
  // group are merged, and those inside a group disappear with it.
  const boxOf = (node: GraphValue) => {
    const g = collapse ? groups.of.get(node) : undefined;
    return g === undefined ? (ids.get(node) as string) : (groups.members.get(g)?.id as string);
  };
  const merged = new Set<string>();
  for (const node of order) {
    const to = boxOf(node);
    for (const parent of node.parents as readonly GraphValue[]) {
      const from = boxOf(parent);
      const edge = `  ${from} -> ${to};`;
      if (from === to) continue;
      if (from.startsWith("g") || to.startsWith("g")) {
        if (merged.has(edge)) continue;
        merged.add(edge);
      }
      lines.push(edge);
    }
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

interface Groups {
  /** The group of every grouped node (the group function is asked once per node). */
  of: Map<GraphValue, string>;
  /** Each group's box id (`g0`, … in order of first appearance) and nodes. */
  members: Map<string, { id: string; nodes: GraphValue[] }>;
}

function collectGroups(order: readonly GraphValue[], groupOf: GroupFn | undefined): Groups {
  const groups: Groups = { of: new Map(), members: new Map() };
  if (groupOf === undefined) return groups;
  for (const node of order) {
    const g = groupOf(node);
    if (g === undefined) continue;
    groups.of.set(node, g);
    const entry = groups.members.get(g);
    if (entry === undefined) groups.members.set(g, { id: `g${groups.members.size}`, nodes: [node] });
    else entry.nodes.push(node);
  }
  return groups;
}

/** Every group's exits, in one walk: its nodes read from outside it, and the output itself. */
function exitsByGroup(
  order: readonly GraphValue[],
  root: GraphValue,
  of: ReadonlyMap<GraphValue, string>,
): Map<string, Set<GraphValue>> {
  const exits = new Map<string, Set<GraphValue>>();
  const add = (group: string, node: GraphValue) => {
    const set = exits.get(group);
    if (set === undefined) exits.set(group, new Set([node]));
    else set.add(node);
  };
  const rootGroup = of.get(root);
  if (rootGroup !== undefined) add(rootGroup, root);
  for (const node of order) {
    const own = of.get(node);
    for (const parent of node.parents as readonly GraphValue[]) {
      const group = of.get(parent);
      if (group !== undefined && group !== own) add(group, parent);
    }
  }
  return exits;
}

function resolveGroups(root: GraphValue, options: DotOptions): GroupFn | undefined {
  if (options.groups === "labels") {
    return groupByLabelPrefix(root, options.groupDepth === undefined ? {} : { depth: options.groupDepth });
  }
  if (options.groups !== undefined && typeof options.groups !== "function") {
    throw new ChainruleError("toDot", `groups must be a function or "labels", got ${String(options.groups)}`);
  }
  return options.groups;
}

interface Show {
  maxValues: number;
  digits: number;
  showGrad: boolean;
  gradients: ReadonlyMap<GraphValue, number | Tensor> | null;
}

/** The lines of a node's box, as HTML-like label text (escaped). */
function nodeLabel(node: GraphValue, show: Show): string[] {
  const lines: string[] = [];
  const title = node.label === "" ? "" : `<b>${escapeHtml(node.label)}</b>`;
  if (!isLeafNode(node)) {
    const p = powExponent(node) ?? hiddenConstant(node);
    const op = `<i>${escapeHtml(node.op)}</i>${p === null ? "" : ` ${formatNumber(p, show.digits)}`}`;
    lines.push(title === "" ? op : `${title} = ${op}`);
  } else if (title !== "") {
    lines.push(title);
  }
  if (node instanceof Value) {
    lines.push(formatNumber(node.data, show.digits));
  } else {
    // A 0-d tensor is its value; anything else shows its shape, then its values when few.
    if (node.ndim > 0) lines.push(formatTensorShape(node));
    if (node.size <= show.maxValues || node.ndim === 0) lines.push(...valueRows(node, show.digits));
  }
  if (!show.showGrad || isConstant(node)) return lines;
  const g = show.gradients === null ? node.grad : show.gradients.get(node);
  if (typeof g === "number") lines.push(`grad ${formatNumber(g, show.digits)}`);
  else if (g instanceof Tensor) {
    lines.push(
      g.size <= show.maxValues ? `grad ${valueRows(g, show.digits).join(" ")}` : `‖grad‖ ${norm(g, show.digits)}`,
    );
  }
  return lines;
}

/** A matrix row by row, anything else on one line. */
function valueRows(t: Tensor, digits: number): string[] {
  if (t.ndim !== 2) return [escapeHtml(formatValues(t, digits))];
  const cols = t.shape[1] as number;
  const rows: string[] = [];
  for (let r = 0; r < (t.shape[0] as number); r++) {
    const row = Array.from({ length: cols }, (_, c) => formatNumber(t.data[r * cols + c] as number, digits));
    rows.push(`[${row.join(", ")}]`);
  }
  return rows;
}

function norm(t: Tensor, digits: number): string {
  let s = 0;
  for (let i = 0; i < t.size; i++) s += (t.data[i] as number) ** 2;
  return formatNumber(Math.sqrt(s), digits);
}

/** A collapsed group: its name, what it holds, and its parameters (the first few). */
function groupLabel(
  name: string,
  nodes: readonly GraphValue[],
  exits: ReadonlySet<GraphValue>,
  digits: number,
): string[] {
  const params = nodes.filter((n) => isLeafNode(n) && !isConstant(n));
  const ops = nodes.filter((n) => !isLeafNode(n)).length;
  const lines = [`<b>${escapeHtml(name)}</b>`, `${params.length} parameters · ${ops} ops`];
  if (params.length <= 4) {
    for (const p of params) {
      const short = p.label.startsWith(`${name}.`) ? p.label.slice(name.length + 1) : p.label;
      const what = p instanceof Tensor ? formatTensorShape(p) : formatNumber(p.data, digits);
      lines.push(`${escapeHtml(short)} ${what}`);
    }
  }
  const [exit] = exits;
  if (exits.size === 1 && exit instanceof Tensor) lines.push(`out ${formatTensorShape(exit)}`);
  return lines;
}

/** Text made safe inside a DOT HTML-like label (which is XML). */
function escapeHtml(text: string): string {
  return (
    text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      // XML 1.0 has no place for control characters (Graphviz drops the whole label): show a mark
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters replaced
      .replace(/[\x00-\x08\x0B\x0C\x0E-\x1F]/g, "\uFFFD")
  );
}
