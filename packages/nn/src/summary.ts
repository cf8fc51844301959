/**
 * @file A model summary in the manner of Keras's `model.summary()` and torchinfo: one forward
 * pass on an input of the given shape, recording each module's output shape, then a table of
 * the modules (parents before children, indented), their output shapes and parameter counts,
 * with totals: trainable (parameters) and non-trainable (buffers, such as batch norm's running
 * statistics, which Keras counts the same way). The model is left as it was: the pass runs in
 * evaluation mode without recording a graph, and the modes are restored. Imports module.ts and
 * the public API of @chainrule/autograd.
 */

import { ChainruleError, formatShape, noGrad, Tensor, type TensorDtype, zeros } from "@chainrule/autograd";
import { describe, Module } from "./module.js";

/** One line of the table. */
export interface SummaryRow {
  /** The module's dotted path in the model ("" for the model itself). */
  path: string;
  /** Its class. */
  type: string;
  /** How deep it sits (0 for the model). */
  depth: number;
  /** Its output's shape in the pass, or null if it was not called. */
  outputShape: readonly number[] | null;
  /** Elements of the parameters it holds itself (not its children's). */
  params: number;
  /** Elements of the buffers it holds itself. */
  buffers: number;
}

/** What `summary` found. */
export interface ModelSummary {
  /** One row per module of the model. */
  rows: SummaryRow[];
  /** Trainable plus non-trainable. */
  totalParams: number;
  /** Elements of every parameter. */
  trainableParams: number;
  /** Elements of every buffer (running statistics, counters). */
  nonTrainableParams: number;
  /** The table. */
  toString(): string;
}

/** Options of `summary`. */
export interface SummaryOptions {
  /** Print the table with console.log (default true, as Keras and torchinfo do). */
  print?: boolean;
  /** The dtype of the zeros input made from a shape (default: that of the model's first parameter). */
  dtype?: TensorDtype;
}

/**
 * Run `model` once on zeros of `input` (a shape, batch axis included), or on `input` itself (a
 * Tensor, or ids for an embedding), and tabulate every module's output shape and parameters.
 *
 * @example
 * summary(new Sequential(new Linear(784, 30, { random }), new BatchNorm1d(30), new Sigmoid()), [1, 784]);
 * // Layer (type)               Output shape   Params
 * // ═══════════════════════════════════════════════
 * // Sequential                 [1, 30]        0
 * //   layers.0 (Linear)        [1, 30]        23,550
 * //   layers.1 (BatchNorm1d)   [1, 30]        60 (+61 buffers)
 * //   …
 */
export function summary(model: Module, input: readonly number[] | Tensor, options: SummaryOptions = {}): ModelSummary {
  const op = "summary";
  if (!(model instanceof Module)) throw new ChainruleError(op, `expected a Module, got ${describe(model)}`);
  if (typeof options !== "object" || options === null) {
    throw new ChainruleError(op, `options must be an object, got ${describe(options)}`);
  }
  let x: Tensor;
  if (input instanceof Tensor) x = input;
  else if (Array.isArray(input) && input.every((d) => Number.isInteger(d) && d >= 0)) {
    x = zeros(input, { dtype: options.dtype ?? model.parameters()[0]?.dtype ?? "float64" });
  } else {
    throw new ChainruleError(op, `input must be a shape (an array of sizes) or a Tensor, got ${describe(input)}`);
  }

  const modules = model.namedModules();
  const shapes = new Map<Module, readonly number[]>();
  const modes = modules.map(([, m]) => m.training);
  const own = modules.map(([, m]) => Object.hasOwn(m, "forward"));
  const originals = modules.map(([, m]) => m.forward);
  // Each module's forward, wrapped for the pass to record the shape of what it returns.
  modules.forEach(([, m], i) => {
    const original = originals[i] as Module["forward"];
    m.forward = (...args: Tensor[]) => {
      const out = original.apply(m, args);
      if (!shapes.has(m) && out instanceof Tensor) shapes.set(m, out.shape);
      return out;
    };
  });
  try {
    model.eval();
    noGrad(() => model.forward(x));
  } finally {
    modules.forEach(([, m], i) => {
      if (own[i]) m.forward = originals[i] as Module["forward"];
      else delete (m as { forward?: unknown }).forward; // the class's method shows again
    });
    modules.forEach(([, m], i) => {
      m.training = modes[i] as boolean;
    });
  }

  // Each parameter and buffer belongs to the deepest module whose path prefixes its name.
  const paths = modules.map(([path]) => path);
  const owner = (name: string) => {
    let best = 0;
    paths.forEach((p, i) => {
      if (p !== "" && name.startsWith(`${p}.`) && p.length > (paths[best] as string).length) best = i;
    });
    return best;
  };
  const params = new Array<number>(modules.length).fill(0);
  const buffers = new Array<number>(modules.length).fill(0);
  for (const [name, p] of model.namedParameters()) params[owner(name)] = (params[owner(name)] as number) + p.size;
  for (const [name, b] of model.namedBuffers()) buffers[owner(name)] = (buffers[owner(name)] as number) + b.size;
  const rows: SummaryRow[] = modules.map(([path, m], i) => ({
    path,
    type: m.constructor.name,
    depth: path === "" ? 0 : 1 + paths.filter((p) => p !== "" && path.startsWith(`${p}.`)).length,
    outputShape: shapes.get(m) ?? null,
    params: params[i] as number,
    buffers: buffers[i] as number,
  }));
  const trainableParams = params.reduce((a, b) => a + b, 0);
  const nonTrainableParams = buffers.reduce((a, b) => a + b, 0);
  const result: ModelSummary = {
    rows,
    totalParams: trainableParams + nonTrainableParams,
    trainableParams,
    nonTrainableParams,
    toString: () => formatSummary(result),
  };
  if (options.print ?? true) console.log(result.toString());
  return result;
}

const count = (n: number) => n.toLocaleString("en-US");

function formatSummary(s: ModelSummary): string {
  const cells = s.rows.map((r) => [
    `${"  ".repeat(r.depth)}${r.path === "" ? r.type : `${r.path} (${r.type})`}`,
    r.outputShape === null ? "--" : formatShape(r.outputShape),
    `${count(r.params)}${r.buffers > 0 ? ` (+${count(r.buffers)} buffers)` : ""}`,
  ]);
  const header = ["Layer (type)", "Output shape", "Params"];
  const widths = header.map((h, k) => Math.max(h.length, ...cells.map((c) => (c[k] as string).length)));
  const line = (c: readonly string[]) =>
    c
      .map((v, k) => v.padEnd(widths[k] as number))
      .join("   ")
      .trimEnd();
  const width = widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1);
  return [
    line(header),
    "═".repeat(width),
    ...cells.map(line),
    "═".repeat(width),
    `Total params: ${count(s.totalParams)}`,
    `Trainable params: ${count(s.trainableParams)}`,
    `Non-trainable params: ${count(s.nonTrainableParams)} (buffers)`,
  ].join("\n");
}
