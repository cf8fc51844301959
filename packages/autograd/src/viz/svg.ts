/**
 * @file Graph pictures as SVG, laid out by Graphviz compiled to WebAssembly
 * (`@hpcc-js/wasm-graphviz`): no system install, the same in Node and in a browser, offline.
 * The module is imported on first use, so importing the library loads no WebAssembly. Imports
 * dot.ts, format.ts, errors.ts.
 */

import type { Graphviz } from "@hpcc-js/wasm-graphviz";
import { ChainruleError } from "../errors.js";
import { type DotOptions, toDot } from "./dot.js";
import type { GraphValue } from "./format.js";

// One Graphviz instance for the process: instantiating the WebAssembly module takes ~100 ms.
let graphviz: Promise<Graphviz> | null = null;

function loadGraphviz(): Promise<Graphviz> {
  if (graphviz === null) {
    graphviz = import("@hpcc-js/wasm-graphviz").then((m) => m.Graphviz.load());
    // A failed load is not cached: the next call tries again.
    graphviz.catch(() => {
      graphviz = null;
    });
  }
  return graphviz;
}

/**
 * Lay out a DOT graph with Graphviz's `dot` engine and return the SVG text.
 *
 * ```ts
 * const svg = await renderDotToSvg("digraph { a -> b }");
 * ```
 */
export async function renderDotToSvg(dot: string): Promise<string> {
  const gv = await loadGraphviz();
  try {
    return gv.dot(dot, "svg");
  } catch (error) {
    throw new ChainruleError("renderDotToSvg", `Graphviz could not lay out the graph: ${String(error)}`);
  }
}

/**
 * The picture of the graph behind `root` as SVG text (see `toDot` for what it shows and the
 * options). Each graph node is one `<g class="node …">` element whose `id` is `n0`, `n1`, … in
 * graph order (`g0`, … for collapsed groups).
 *
 * ```ts
 * C.backward();
 * writeFileSync("graph.svg", await renderSvg(C, { inputs: [a0] }));
 * ```
 */
export async function renderSvg(root: GraphValue, options: DotOptions = {}): Promise<string> {
  return renderDotToSvg(toDot(root, options));
}
