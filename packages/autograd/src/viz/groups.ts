/**
 * @file Grouping graph nodes into layers for pictures, from the dotted labels that models give
 * their parameters (`layers.0.weight`). Parameters carry names; the operations that use them do
 * not, so an op is placed by what it consumes. Imports format.ts.
 */

import { type GraphValue, isConstant, isLeafNode, nodesOf } from "./format.js";

/** The group a node belongs to (nodes sharing a name are drawn together), or undefined. */
export type GroupFn = (node: GraphValue) => string | undefined;

/** Options of `groupByLabelPrefix`. */
export interface LabelGroupOptions {
  /**
   * How many dot-separated parts of a label name its group: with 2, `layers.0.weight` belongs to
   * `layers.0`. Default: every part but the last. Labels without a dot belong to no group.
   */
  depth?: number;
}

/**
 * Groups by label prefix: `layers.0.weight` and `layers.0.bias` make the group `layers.0`. An
 * unlabelled op joins a group when
 * - it consumes something made only from that group's parameters (the parameter itself, or its
 *   transpose), more directly than anything made only from another group's; so `x·Wᵀ` and `+ b`
 *   join their layer while the input x stays outside; or
 * - at least two of its inputs are in that group and none in another: it merges two streams of
 *   the layer, like the running sum Σ wᵢxᵢ of a neuron;
 * - or it lies on a path between two of the group's nodes (else the collapsed box would feed
 *   itself through it).
 * An activation applied to a layer's output has one input, so it stays outside, between layers.
 * A constant joins the group of its consumers when they all share one.
 *
 * `toDot(loss, { groups: groupByLabelPrefix(loss) })`, or the shorthand `groups: "labels"`.
 */
export function groupByLabelPrefix(root: GraphValue, options: LabelGroupOptions = {}): GroupFn {
  const order = nodesOf(root);
  const group = new Map<GraphValue, string>();
  // Nodes made only from one group's parameters (and constants): the parameters themselves, Wᵀ,
  // and so on, with how many ops away from a parameter they are.
  const pure = new Map<GraphValue, { name: string; depth: number }>();
  const pureIn = (node: GraphValue, name: string) => pure.get(node)?.name === name;

  for (const node of order) {
    const own = prefixOf(node.label, options.depth);
    const parents = node.parents as readonly GraphValue[];
    const live = parents.filter((p) => !isConstant(p));
    const depth = 1 + Math.min(...live.map((p) => pure.get(p)?.depth ?? Number.POSITIVE_INFINITY));
    if (own !== undefined) {
      group.set(node, own);
      if (isLeafNode(node)) pure.set(node, { name: own, depth: 0 });
      else if (live.every((p) => pureIn(p, own))) pure.set(node, { name: own, depth });
      continue;
    }
    if (isLeafNode(node)) continue;
    // The group whose parameters the op reads most directly: W·x joins W's layer even when x
    // itself was computed from the parameters of the layer before.
    const nearest = new Set(live.flatMap((p) => (pure.get(p)?.depth === depth - 1 ? [pure.get(p)?.name] : [])));
    const [only] = nearest;
    if (nearest.size === 1 && only !== undefined) {
      group.set(node, only);
      if (live.every((p) => pureIn(p, only))) pure.set(node, { name: only, depth });
      continue;
    }
    const memberGroups = new Set(live.flatMap((p) => group.get(p) ?? []));
    const [member] = memberGroups;
    const inMember = live.filter((p) => group.get(p) === member).length;
    if (memberGroups.size === 1 && member !== undefined && inMember >= 2) group.set(node, member);
  }

  closeGroups(order, group);

  // Constants go where all their consumers are.
  const consumers = new Map<GraphValue, Set<string | undefined>>();
  for (const node of order) {
    for (const p of node.parents as readonly GraphValue[]) {
      if (!isConstant(p)) continue;
      const seen = consumers.get(p) ?? new Set<string | undefined>();
      seen.add(group.get(node));
      consumers.set(p, seen);
    }
  }
  for (const [c, seen] of consumers) {
    const [only] = seen;
    if (seen.size === 1 && only !== undefined) group.set(c, only);
  }
  return (node) => group.get(node);
}

/** `layers.0.weight` → `layers.0` (or the first `depth` parts); undefined without a dot. */
function prefixOf(label: string, depth: number | undefined): string | undefined {
  const parts = label.split(".");
  if (parts.length < 2) return undefined;
  const keep = Math.max(1, Math.min(depth ?? parts.length - 1, parts.length - 1));
  return parts.slice(0, keep).join(".");
}

/**
 * Adds to each group the ungrouped nodes that lie on a path from one of its nodes to another:
 * those reachable from the group (a forward pass over the topological order) that also reach it
 * (a backward pass). Linear in the graph's size per group.
 */
function closeGroups(order: readonly GraphValue[], group: Map<GraphValue, string>): void {
  const names = new Set(group.values());
  if (names.size === 0) return;
  const index = new Map<GraphValue, number>();
  order.forEach((node, i) => {
    index.set(node, i);
  });
  const parentsOf = order.map((node) => (node.parents as readonly GraphValue[]).map((p) => index.get(p) as number));
  const n = order.length;
  for (const name of names) {
    const inGroup = (i: number) => group.get(order[i] as GraphValue) === name;
    const after = new Uint8Array(n); // reachable from the group
    for (let i = 0; i < n; i++) {
      for (const p of parentsOf[i] as number[]) if (inGroup(p) || after[p] === 1) after[i] = 1;
    }
    const before = new Uint8Array(n); // reaches the group
    for (let i = n - 1; i >= 0; i--) {
      if (!inGroup(i) && before[i] === 0) continue;
      for (const p of parentsOf[i] as number[]) before[p] = 1;
    }
    for (let i = 0; i < n; i++) {
      const node = order[i] as GraphValue;
      if (after[i] === 1 && before[i] === 1 && !group.has(node)) group.set(node, name);
    }
  }
}
