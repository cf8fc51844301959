/**
 * @file The autodiff algorithm's graph routine: list the nodes of a graph so that every node
 * comes after all the nodes it was computed from. Walking that list backwards visits each node
 * only when every use of it has already sent its gradient: the order reverse mode needs. The
 * Tensor engine's backward and every tool that lists a graph (pictures, traces, zeroGrad,
 * gradcheck) use it; `Value.backward` reaches the same order by counting uses instead (Kahn's
 * algorithm, value.ts), which needs no list: scalar graphs are the ones with 10⁶ nodes.
 * Imports errors.ts.
 *
 * Names used in every derivative rule of the library: `x` (or `a`, `b`) are an operation's
 * inputs, `y` (or `out`) its output, and `g` = ∂L/∂y, the gradient flowing in from above.
 */

import { ChainruleError } from "./errors.js";

/** A node of a computation graph: the nodes it was computed from, and a scratch mark. */
export interface GraphNode<N> {
  /** The i-th node this one was computed from, or undefined past the last. */
  parent(i: number): N | undefined;
  /**
   * Set by `topoSort` to tell which nodes the current sort has already reached (positive stamps).
   * Negative values are reserved: `Value.backward` keeps its use counts there while it runs.
   */
  mark: number;
}

// Each sort stamps the nodes it reaches with a fresh number; a node is "seen" when it carries the
// current stamp. Cheaper than a Set when a graph has millions of nodes, and nothing to clear.
let currentPass = 0;

/**
 * Every node reachable from `root`, each listed after all of its parents (root last).
 * Iterative depth-first search: a recursive one overflows the stack near 10⁴ levels, and a
 * scalar training loop builds much deeper graphs. `include` prunes nodes (and what lies only
 * behind them), e.g. tensors that need no gradient.
 */
export function topoSort<N extends GraphNode<N>>(root: N, include?: (node: N) => boolean): N[] {
  const pass = ++currentPass;
  const order: N[] = [];
  // Two parallel stacks: the node being expanded, and which of its parents to look at next.
  const nodes: N[] = [root];
  const next: number[] = [0];
  if (root.mark < 0) throw midBackward();
  root.mark = pass;
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const node = nodes[top] as N;
    const i = next[top] as number;
    const parent = node.parent(i);
    if (parent === undefined) {
      nodes.pop();
      next.pop();
      order.push(node); // all of its parents are already in `order`
    } else {
      next[top] = i + 1;
      if (parent.mark !== pass && (include === undefined || include(parent))) {
        if (parent.mark < 0) throw midBackward();
        parent.mark = pass;
        nodes.push(parent);
        next.push(0);
      }
    }
  }
  return order;
}

// A negative mark is a use count of a `Value.backward` pass under way (value.ts); stamping over it
// would corrupt that pass.
function midBackward(): ChainruleError {
  return new ChainruleError(
    "topoSort",
    "this graph is in the middle of a backward pass: walk it after backward returns",
  );
}
