/**
 * @file Graph pictures as SVG, laid out by Graphviz compiled to WebAssembly
 * (`@hpcc-js/wasm-graphviz`): no system install, the same in Node and in a browser, offline.
 * The module is imported on first use, so importing the library loads no WebAssembly, and it is
 * an optional peer dependency: only users of `renderSvg`/`renderDotToSvg` install it. Imports
 * dot.ts, format.ts, errors.ts.
 */

import { ChainruleError } from "../errors.js";
import { type DotOptions, toDot } from "./dot.js";
import type { GraphValue } from "./format.js";

/**
 * The part of `@hpcc-js/wasm-graphviz` used here, written out so that our type declarations do
 * not name the optional package (a user without it still type-checks).
 */
interface Graphviz {
  dot(source: string, format: "svg"): string;
}
type GraphvizModule = { Graphviz: { load(): Promise<Graphviz> } };

/** The optional peer dependency that lays graphs out, with the version range we test against. */
export const GRAPHVIZ_PACKAGE = "@hpcc-js/wasm-graphviz@^1.29.2";

// One Graphviz instance for the process: instantiating the WebAssembly module takes ~100 ms.
let graphviz: Promise<Graphviz> | null = null;

async function importGraphviz(op: string): Promise<GraphvizModule> {
  // NOTE: inside try, so that a bundler (esbuild, Vite) that cannot find the optional package
  // leaves the failure to run time instead of refusing to bundle the library.
  try {
    return await import("@hpcc-js/wasm-graphviz");
  } catch (error) {
    throw explainMissing(op, error);
  }
}

// A missing optional peer shows up as a failed import, which becomes advice; anything else (a
// broken install) is passed on as it is.
function explainMissing(op: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as { message?: unknown } | null)?.message ?? error);
  const missing =
    code === "ERR_MODULE_NOT_FOUND" ||
    code === "MODULE_NOT_FOUND" ||
    /Cannot find (module|package)|Failed to resolve module specifier|Failed to fetch dynamically imported module/.test(
      message,
    );
  if (!missing || error instanceof ChainruleError) return error;
  return new ChainruleError(
    op,
    "drawing SVG needs Graphviz compiled to WebAssembly, an optional peer dependency that is not installed: " +
      `run \`npm install ${GRAPHVIZ_PACKAGE}\` (or pnpm add / yarn add). toDot() gives the same picture as DOT text without it.`,
  );
}

function loadGraphviz(op: string, importer: (op: string) => Promise<GraphvizModule>): Promise<Graphviz> {
  if (graphviz === null) {
    graphviz = importer(op).then(
      (m) => m.Graphviz.load(),
      (error: unknown) => {
        throw explainMissing(op, error);
      },
    );
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
  return layOut("renderDotToSvg", dot);
}

/**
 * The body of renderSvg and renderDotToSvg, with the import replaceable so that a test can
 * stand in for a machine where the optional peer dependency is missing.
 * @internal
 */
export async function layOut(
  op: string,
  dot: string,
  importer: (op: string) => Promise<GraphvizModule> = importGraphviz,
): Promise<string> {
  const gv = await loadGraphviz(op, importer);
  try {
    return gv.dot(dot, "svg");
  } catch (error) {
    throw new ChainruleError(op, `Graphviz could not lay out the graph: ${String(error)}`);
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
  return layOut("renderSvg", toDot(root, options));
}
