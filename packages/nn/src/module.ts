/**
 * @file The `Module` contract of nn (micrograd's `parameters()` + `zeroGrad()`, plus `forward`):
 * a module is a plain class whose fields hold its parameters (leaf Tensors with requiresGrad) and
 * its children (Modules, or arrays of them). Nothing is registered: the fields are read when
 * asked, in declaration order, so `namedParameters()` names are the dotted field paths
 * (`layers.0.weight`), which are also the names in state dicts and model files. Buffers (state
 * that is not trained, such as batch norm's running statistics) are tensors marked by `buffer`,
 * saved and loaded with the parameters, under the field's name or the one given to `buffer`.
 * Also here: `Sequential`, the `parameter` and `buffer` helpers, and the checked
 * `loadStateDict`. Imports the public API of @chainrule/autograd.
 */

import { ChainruleError, formatShape, noGrad, sameShape, Tensor, type TensorDtype } from "@chainrule/autograd";

/** What `config()` returns: JSON-ready, with the class in `type`; saved in model files' metadata. */
export interface ModuleConfig {
  /** The class name, e.g. `"MLP"`. */
  type: string;
  [key: string]: unknown;
}

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Refuse missing and unexpected names (default true). Shapes and dtypes are always checked. */
  strict?: boolean;
}

/**
 * Make `t` a parameter: a leaf that requires grad, labelled `label` (for graph pictures and
 * gradcheck reports). Returns `t`.
 *
 * @example
 * class Scale extends Module {
 *   readonly scale = parameter(tensor(1.5), "scale");
 *   forward(x: Tensor) { return x.mul(this.scale); }
 * }
 */
export function parameter(t: Tensor, label?: string): Tensor {
  if (!(t instanceof Tensor)) throw new ChainruleError("parameter", `expected a Tensor, got ${describe(t)}`);
  t.requireGrad(true); // throws for a non-leaf, naming the op that made it
  if (label !== undefined) t.label = label;
  return t;
}

/** The tensors marked as buffers, with the name each is saved under (null: its field's name). */
const bufferNames = new WeakMap<Tensor, string | null>();

/**
 * Make `t` a buffer: a tensor of the module's state that is not trained (no gradient), saved in
 * state dicts and model files beside the parameters, e.g. batch norm's running statistics.
 * `name` replaces the field's name in state dicts (`running_mean` for the field `runningMean`,
 * so that names match PyTorch's). Returns `t`.
 *
 * @example
 * class Counter extends Module {
 *   readonly count = buffer(zeros([]), "num_calls");
 *   forward(x: Tensor) { noGrad(() => this.count.addInPlace(1)); return x; }
 * }
 */
export function buffer(t: Tensor, name?: string): Tensor {
  if (!(t instanceof Tensor)) throw new ChainruleError("buffer", `expected a Tensor, got ${describe(t)}`);
  if (!t.isLeaf || t.requiresGrad) {
    throw new ChainruleError("buffer", "a buffer holds state that is not trained: a leaf without requiresGrad");
  }
  if (name !== undefined && (typeof name !== "string" || name === "" || name.includes("."))) {
    throw new ChainruleError("buffer", `name must be a non-empty string without dots, got ${describe(name)}`);
  }
  bufferNames.set(t, name ?? null);
  return t;
}

/** A field value that counts as a buffer: a tensor marked by `buffer` that has not become a parameter. */
function isBuffer(x: unknown): x is Tensor {
  return x instanceof Tensor && bufferNames.has(x) && !x.requiresGrad;
}

/** A field value that counts as a parameter: a leaf that requires grad (a computed tensor does not). */
function isParameter(x: unknown): x is Tensor {
  return x instanceof Tensor && x.isLeaf && x.requiresGrad;
}

/**
 * The base class of layers and models. A subclass declares its parameters and children as fields
 * and implements `forward`; everything else is derived from the fields.
 *
 * @example
 * class TwoLayer extends Module {
 *   readonly hidden = new Linear(2, 4, { random });
 *   readonly out = new Linear(4, 1, { random });
 *   forward(x: Tensor) { return this.out.forward(this.hidden.forward(x).tanh()); }
 * }
 * new TwoLayer().namedParameters().map(([name]) => name);
 * // ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
 */
export abstract class Module {
  /** Training or evaluation mode, set recursively by `train()` / `eval()` (for layers such as dropout). */
  training = true;

  /** The computation: inputs in, output out. Calling a model is `model.forward(x)`. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /**
   * Every module of the tree with its dotted path, this one first as `""`, parents before their
   * children. A module reachable twice (shared) is listed once, under its first path.
   */
  namedModules(): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    walk(this, (name, m) => out.push([name, m]), null, null);
    return out;
  }

  /**
   * Parameters with their dotted names, in field-declaration order, depth first:
   * `[["layers.0.weight", W], ["layers.0.bias", b], …]`. A tensor reachable under two names
   * (a shared parameter) is listed once, under its first name.
   */
  namedParameters(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    walk(this, null, (name, p) => out.push([name, p]), null);
    return out;
  }

  /** Buffers (state that is not trained, see `buffer`) with their dotted names, in field order. */
  namedBuffers(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    walk(this, null, null, (name, b) => out.push([name, b]));
    return out;
  }

  /** The buffers, in the order of `namedBuffers()`. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * Everything a state dict holds: parameters and buffers by dotted name, in field-declaration
   * order, depth first (a batch norm's `weight`, `bias`, `running_mean`, `running_var`,
   * `num_batches_tracked`, as in PyTorch).
   */
  namedState(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    const add = (name: string, t: Tensor) => out.push([name, t]);
    walk(this, null, add, add);
    return out;
  }

  /** The parameters, in the order of `namedParameters()`: what an optimizer is given. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Set every parameter's label to its dotted name (containers do this when built). Returns this. */
  labelParameters(): this {
    for (const [name, p] of this.namedParameters()) p.label = name;
    return this;
  }

  /** Drop every parameter's gradient (`grad = null`), before the next backward pass. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Set `training` on this module and all its children. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** `train(false)`. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * The module's structure as JSON-ready data, saved in model files. The default names the class;
   * built-in layers add their sizes and options.
   */
  config(): ModuleConfig {
    return { type: this.constructor.name };
  }

  /** Copies of the parameters and buffers by dotted name (no graph, own storage): a snapshot. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedState().map(([name, p]) => [name, p.clone()]));
  }

  /**
   * Overwrite the parameters and buffers with the tensors of `state` (a Map or an object, dotted
   * name → Tensor), in place, so optimizers keep working on the same tensors. Every name, shape
   * and dtype is checked first; if anything is wrong, a ChainruleError lists every problem and
   * nothing is changed.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options: LoadStateDictOptions = {}): void {
    options = optionsObject("loadStateDict", options);
    const op = "loadStateDict";
    const entries = toEntries(op, state);
    const problems = stateDictProblems(this, entries, options.strict ?? true);
    if (problems.length > 0) throw new ChainruleError(op, formatProblems(problems));
    const given = new Map(entries);
    noGrad(() => {
      for (const [name, p] of this.namedState()) {
        const t = given.get(name);
        if (t !== undefined) p.copy_(t as Tensor);
      }
    });
  }

  /** A tree of the module's children, one per line, each as its `repr()`. */
  toString(): string {
    const lines: string[] = [];
    walk(
      this,
      (name, m, depth) => {
        lines.push(`${"  ".repeat(depth)}${name === "" ? "" : `(${name}) `}${m.repr()}`);
      },
      null,
      null,
    );
    return lines.join("\n");
  }

  /** This module's own line in `toString()`: its type and config (layers may print as PyTorch does). */
  repr(): string {
    const { type, ...rest } = this.config();
    // Numbers, strings and lists of them; nested configs appear as their own lines.
    const shown = (v: unknown) => (Array.isArray(v) ? v.every((x) => typeof x !== "object") : typeof v !== "object");
    const args = Object.entries(rest)
      .filter(([, v]) => shown(v))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(", ");
    return `${type}(${args})`;
  }
}

/**
 * Depth-first walk over a module's fields in declaration order, reporting modules and
 * parameters with their dotted names; each module and each parameter is reported once.
 */
function walk(
  root: Module,
  onModule: ((name: string, m: Module, depth: number) => void) | null,
  onParameter: ((name: string, p: Tensor) => void) | null,
  onBuffer: ((name: string, b: Tensor) => void) | null,
): void {
  const seenModules = new Set<Module>();
  const seenParameters = new Set<Tensor>();
  const visit = (name: string, value: unknown, depth: number): void => {
    if (isParameter(value)) {
      if (seenParameters.has(value)) return;
      seenParameters.add(value);
      onParameter?.(name, value);
    } else if (isBuffer(value)) {
      if (seenParameters.has(value)) return;
      seenParameters.add(value);
      const own = bufferNames.get(value);
      onBuffer?.(own === null || own === undefined ? name : name.replace(/[^.]*$/, own), value);
    } else if (value instanceof Module) {
      // The seen set also stops a cycle (a child holding its parent) from recursing forever.
      if (seenModules.has(value)) return;
      seenModules.add(value);
      onModule?.(name, value, depth);
      const prefix = name === "" ? "" : `${name}.`;
      for (const [field, child] of Object.entries(value)) visit(prefix + field, child, depth + 1);
    } else if (Array.isArray(value) && name !== "") {
      value.forEach((item, i) => {
        visit(`${name}.${i}`, item, depth);
      });
    }
  };
  visit("", root, 0);
}

/** Entries of a state dict given as a Map or a plain object (own keys only). */
export function toEntries(op: string, state: unknown): Array<[string, unknown]> {
  if (state instanceof Map) return [...state];
  if (typeof state === "object" && state !== null && !Array.isArray(state)) return Object.entries(state);
  throw new ChainruleError(op, `state must be a Map or an object of name → Tensor, got ${describe(state)}`);
}

/**
 * Every way `entries` fails to fit `model`: missing and unexpected names (when strict), values
 * that are not tensors, wrong shapes, wrong dtypes. Empty when it fits.
 */
export function stateDictProblems(model: Module, entries: Array<[string, unknown]>, strict: boolean): string[] {
  const problems: string[] = [];
  const own = new Map(model.namedState());
  const given = new Map(entries);
  for (const [name, p] of own) {
    const t = given.get(name);
    if (t === undefined) {
      if (strict) problems.push(`missing "${name}" (${describeTensor(p.shape, p.dtype)})`);
    } else if (!(t instanceof Tensor)) {
      problems.push(`"${name}" is ${describe(t)}, not a Tensor`);
    } else {
      if (!sameShape(t.shape, p.shape)) {
        problems.push(`"${name}" has shape ${formatShape(t.shape)} but the model's is ${formatShape(p.shape)}`);
      }
      if (t.dtype !== p.dtype) problems.push(`"${name}" has dtype ${t.dtype} but the model's is ${p.dtype}`);
    }
  }
  if (strict) {
    for (const name of given.keys()) {
      if (!own.has(name)) problems.push(`unexpected "${name}" (the model has no parameter or buffer of that name)`);
    }
  }
  return problems;
}

/** "2 problems:\n  - …\n  - …" */
export function formatProblems(problems: readonly string[]): string {
  const head = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return `${head}, nothing was loaded:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}

function describeTensor(shape: readonly number[], dtype: TensorDtype): string {
  return `shape [${shape.join(", ")}], ${dtype}`;
}

/** A number as Python's repr prints a float (`1e-05`, `0.1`, `1.0`), for PyTorch-style reprs. */
export function pythonFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  const [mantissa, power] = v.toExponential().split("e") as [string, string];
  const exp = Number(power);
  // Python switches to exponent notation below 1e-4 and from 1e16, with at least two digits.
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  const fixed = String(v);
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

/** Python's repr of a boolean. */
export function pythonBool(b: boolean): string {
  return b ? "True" : "False";
}

/** A short description of a value of the wrong kind, for error messages. */
/** The options argument as an object: undefined gives {}, anything else not an object is refused. */
export function optionsObject<T extends object>(op: string, options: T | undefined | null): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ChainruleError(op, `options must be an object, got ${describe(options)}`);
  }
  return options;
}

export function describe(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return `a ${(x as object).constructor?.name ?? "object"}`;
  if (typeof x === "string") return `the string ${JSON.stringify(x)}`;
  return `${typeof x} ${String(x)}`;
}

/**
 * Modules applied in order, each to the previous one's output. Children are named `layers.i`,
 * so `new Sequential(new Linear(2, 3, { random }), new Tanh())` has `layers.0.weight`.
 *
 * @example
 * const net = new Sequential(new Linear(784, 30, { random }), new Sigmoid(), new Linear(30, 10, { random }));
 * net.forward(x); // x: [batch, 784] → [batch, 10]
 */
export class Sequential extends Module {
  /** The modules, in the order they are applied. */
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module)) {
        throw new ChainruleError("Sequential", `argument ${i} must be a Module, got ${describe(m)}`);
      }
    });
    this.layers = layers;
    this.labelParameters();
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.forward(y);
    return y;
  }

  override config(): ModuleConfig {
    return { type: "Sequential", layers: this.layers.map((m) => m.config()) };
  }
}
