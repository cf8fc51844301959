/**
 * @file Optimizers, simplest first (tinygrad's order): SGD with momentum, Nesterov and weight
 * decay; Adam; AdamW. Then gradient clipping by norm and two learning-rate schedules. Each
 * optimizer keeps per-parameter state (a step count, buffers) that `stateDict()` copies out and
 * `loadStateDict()` checks and restores. Imports module.ts (for `describe`) and the public API of
 * @chainrule/autograd.
 *
 * The update formulas are PyTorch's (torch.optim), in PyTorch's order of operations. Each
 * `step()` is one loop per parameter over its storage, writing θ in place: the in-place tensor
 * methods cover θ += α·x but not the √ and ÷ of Adam, and one pass allocates nothing and reads
 * like the formula. The loops run inside `noGrad`, so nothing is recorded.
 *
 * Settings are checked where they enter and again where they are used: `lr` when it is set, every
 * hyperparameter (public fields, so they can be changed between steps) at the start of each
 * `step()` before anything changes, and a state dict's values before it is adopted.
 */

import { ChainruleError, noGrad, sameShape, Tensor, zerosLike } from "@chainrule/autograd";
import { describe } from "./module.js";

/** Hyperparameter values as a state dict holds them: JSON-ready. */
export type Hyperparameters = Record<string, number | boolean | readonly number[]>;

/** What `stateDict()` returns: enough to continue training exactly where it stopped. */
export interface OptimizerStateDict {
  /** "SGD", "Adam" or "AdamW": a state dict only loads into an optimizer of the same type. */
  type: string;
  /** lr and the rest, by the option names of the constructor. */
  hyperparameters: Hyperparameters;
  /** One entry per parameter, in the order the parameters were given: steps taken and buffers. */
  state: Array<{
    /** Steps this parameter has taken. */
    step: number;
    /** Its state buffers by name (momentumBuffer, expAvg, expAvgSq). */
    buffers: Record<string, Tensor>;
  }>;
}

/**
 * The optimizer contract: `step()` moves every parameter that has a gradient, `zeroGrad()`
 * drops the gradients. `lr` may be changed between steps (schedules do).
 */
export abstract class Optimizer {
  /** The parameters, in the order given; state dicts refer to them by this index. */
  readonly params: readonly Tensor[];
  /** Learning rate η: a finite number ≥ 0, checked when set (schedules set it between steps). */
  get lr(): number {
    return this.#lr;
  }
  /** Set the learning rate; a NaN, infinite, negative or non-number value throws before anything changes. */
  set lr(value: number) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new ChainruleError(this.type, `lr must be a finite number ≥ 0, got ${describe(value)}`);
    }
    this.#lr = value;
  }
  #lr = 0;
  /**
   * Skip a step whose gradients hold a NaN or ±Infinity, leaving parameters and state as they
   * were, and count it in `skippedSteps` (as PyTorch's GradScaler skips optimizer.step()). When
   * false (the default), such a step writes NaN into the weights, as torch.optim does.
   */
  skipNonfinite = false;
  /** Steps skipped for non-finite gradients (with `skipNonfinite`). */
  skippedSteps = 0;
  /** Updates taken by each parameter (a parameter without a gradient at a step is skipped). */
  protected readonly steps: number[];
  /** Per-parameter buffers by name (momentumBuffer, expAvg, expAvgSq), created at first use. */
  protected readonly buffers: Array<Record<string, Tensor>>;
  /** "SGD", "Adam", "AdamW": each subclass names itself. */
  get type(): string {
    return "Optimizer";
  }
  /** The buffer names this optimizer keeps. */
  protected abstract readonly bufferNames: readonly string[];

  /** The buffers a parameter must have once it has taken a step, under these hyperparameters. */
  protected requiredBuffers(_hyperparameters: Record<string, unknown>): readonly string[] {
    return this.bufferNames;
  }

  protected constructor(params: Iterable<Tensor>) {
    const op = this.type; // a getter of the subclass, so it is already defined here
    if (params === null || typeof (params as Partial<Iterable<Tensor>>)?.[Symbol.iterator] !== "function") {
      throw new ChainruleError(
        op,
        `params must be an iterable of Tensors (e.g. model.parameters()), got ${describe(params)}`,
      );
    }
    const list = [...params];
    if (list.length === 0) throw new ChainruleError(op, "params is empty: there is nothing to optimize");
    const seen = new Set<Tensor>();
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ChainruleError(op, `parameter ${i} must be a Tensor, got ${describe(p)}`);
      if (!p.isLeaf || !p.requiresGrad) {
        throw new ChainruleError(
          op,
          `parameter ${i}${p.label === "" ? "" : ` (${p.label})`} must be a leaf tensor with requiresGrad; it is ${p.isLeaf ? "a leaf without requiresGrad" : `the output of '${p.op}'`}`,
        );
      }
      if (seen.has(p)) throw new ChainruleError(op, `parameter ${i} appears more than once`);
      seen.add(p);
    });
    this.params = list;
    this.steps = list.map(() => 0);
    this.buffers = list.map(() => ({}));
  }

  /** One update of every parameter that has a gradient. */
  abstract step(): void;

  /** The hyperparameters, as the constructor's options. */
  abstract hyperparameters(): Hyperparameters;

  /**
   * Check hyperparameters (constructor options, or those of a state dict) and return a function
   * that sets them: validation throws before anything changes.
   */
  protected abstract configure(op: string, options: Record<string, unknown>): () => void;

  /**
   * What every `step()` does first: check the hyperparameters as they are now (a field set to NaN,
   * −1 or a string since the last step throws here, before anything changes), then, with
   * `skipNonfinite`, look for a non-finite gradient. False when the step is to be skipped.
   */
  protected beginStep(): boolean {
    const op = `${this.type}.step`;
    this.configure(op, this.hyperparameters()); // validation only: the setter it returns is dropped
    if (typeof this.skipNonfinite !== "boolean") {
      throw new ChainruleError(op, `skipNonfinite must be true or false, got ${describe(this.skipNonfinite)}`);
    }
    if (!this.skipNonfinite) return true;
    for (let i = 0; i < this.params.length; i++) {
      const g = this.gradOf(i);
      if (g === null) continue;
      for (let k = 0; k < g.length; k++) {
        if (!Number.isFinite(g[k] as number)) {
          this.skippedSteps++;
          return false;
        }
      }
    }
    return true;
  }

  /** Read the options every optimizer shares (`skipNonfinite`). */
  protected configureCommon(op: string, options: Record<string, unknown>): void {
    this.skipNonfinite = readBoolean(op, options, "skipNonfinite", false);
  }

  /**
   * A problem with the values of a loaded buffer, or null: every element must be finite (a NaN in
   * the state would reach the weights at the next step).
   */
  protected bufferValueProblem(_name: string, data: Float64Array | Float32Array): string | null {
    for (let k = 0; k < data.length; k++) {
      const v = data[k] as number;
      if (!Number.isFinite(v)) return `element ${k} is ${v}`;
    }
    return null;
  }

  /** Drop every parameter's gradient (`grad = null`). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Copies of the hyperparameters, step counts and buffers. */
  stateDict(): OptimizerStateDict {
    return {
      type: this.type,
      hyperparameters: this.hyperparameters(),
      state: this.params.map((_, i) => ({
        step: this.steps[i] as number,
        buffers: Object.fromEntries(
          Object.entries(this.buffers[i] as Record<string, Tensor>).map(([k, t]) => [k, t.clone()]),
        ),
      })),
    };
  }

  /**
   * Restore a state dict of an optimizer of the same type over parameters of the same shapes and
   * dtypes. Everything is checked first; a ChainruleError lists every problem and changes nothing.
   */
  loadStateDict(state: OptimizerStateDict): void {
    const op = `${this.type}.loadStateDict`;
    if (typeof state !== "object" || state === null)
      throw new ChainruleError(op, `expected a state dict, got ${describe(state)}`);
    if (state.type !== this.type) {
      // Nothing else can fit: report the one problem, not every hyperparameter of the other type.
      const what = typeof state.type === "string" ? `an ${state.type} optimizer` : describe(state.type);
      throw new ChainruleError(op, `it is the state of ${what}, not of ${this.type}; nothing was loaded`);
    }
    const problems: string[] = [];
    let apply: (() => void) | null = null;
    const hyper = (
      typeof state.hyperparameters === "object" && state.hyperparameters !== null ? state.hyperparameters : {}
    ) as Record<string, unknown>;
    // Every hyperparameter must be stated: a missing one would silently take its default.
    const missing = Object.keys(this.hyperparameters()).filter((k) => !Object.hasOwn(hyper, k));
    if (missing.length > 0) problems.push(`hyperparameters ${missing.map((k) => `"${k}"`).join(", ")} are missing`);
    try {
      apply = this.configure(op, hyper);
    } catch (error) {
      if (!(error instanceof ChainruleError)) throw error;
      problems.push(error.message.slice(op.length + 2));
    }
    const entries = Array.isArray(state.state) ? state.state : [];
    if (entries.length !== this.params.length) {
      problems.push(`it holds state for ${entries.length} parameters, this optimizer has ${this.params.length}`);
    }
    entries.forEach((entry, i) => {
      const p = this.params[i];
      if (p === undefined) return;
      const step = entry?.step;
      if (!Number.isInteger(step) || (step as number) < 0)
        problems.push(`parameter ${i}: step ${describe(step)} is not an integer ≥ 0`);
      const buffers = entry?.buffers;
      if (typeof buffers !== "object" || buffers === null || Array.isArray(buffers)) {
        problems.push(`parameter ${i}: buffers must be an object of Tensors, got ${describe(buffers)}`);
        return;
      }
      if ((step as number) > 0) {
        for (const name of this.requiredBuffers(hyper)) {
          if (!Object.hasOwn(buffers, name))
            problems.push(`parameter ${i}: buffer "${name}" is missing after ${step} step(s)`);
        }
      }
      for (const [name, t] of Object.entries(buffers)) {
        if (!this.bufferNames.includes(name)) {
          problems.push(`parameter ${i}: unknown buffer "${name}" (${this.type} keeps ${this.bufferNames.join(", ")})`);
        } else if (!(t instanceof Tensor)) {
          problems.push(`parameter ${i}: buffer "${name}" is ${describe(t)}, not a Tensor`);
        } else {
          if (!sameShape(t.shape, p.shape))
            problems.push(`parameter ${i}: buffer "${name}" has shape [${t.shape}], the parameter [${p.shape}]`);
          if (t.dtype !== p.dtype)
            problems.push(`parameter ${i}: buffer "${name}" is ${t.dtype}, the parameter ${p.dtype}`);
          const data = t.data; // an int32 buffer is reported by the dtype check above
          const bad = data instanceof Int32Array ? null : this.bufferValueProblem(name, data);
          if (bad !== null) problems.push(`parameter ${i}: buffer "${name}": ${bad}`);
        }
      }
    });
    if (problems.length > 0 || apply === null) {
      throw new ChainruleError(
        op,
        `${problems.length} problem(s), nothing was loaded:\n${problems.map((s) => `  - ${s}`).join("\n")}`,
      );
    }
    apply();
    entries.forEach((entry, i) => {
      this.steps[i] = entry.step;
      this.buffers[i] = Object.fromEntries(Object.entries(entry.buffers).map(([k, t]) => [k, t.clone()]));
    });
  }

  /** The parameter's gradient storage, checked against the parameter; null when it has none. */
  protected gradOf(i: number): Float64Array | Float32Array | null {
    const p = this.params[i] as Tensor;
    const g = p.grad;
    if (g === null) return null;
    if (g.size !== p.size) {
      throw new ChainruleError(
        `${this.type}.step`,
        `parameter ${i} has shape [${p.shape}] but its gradient has shape [${g.shape}]`,
      );
    }
    return floats(g);
  }

  /** A state buffer of parameter i, zeros of its shape and dtype at first use. */
  protected buffer(
    i: number,
    name: string,
  ): {
    /** The buffer's storage, updated in place. */
    data: Float64Array | Float32Array;
    /** True at first use (the buffer is all zeros). */
    fresh: boolean;
  } {
    const own = this.buffers[i] as Record<string, Tensor>;
    const existing = own[name];
    if (existing !== undefined) return { data: floats(existing), fresh: false };
    const t = zerosLike(this.params[i] as Tensor);
    own[name] = t;
    return { data: floats(t), fresh: true };
  }
}

/** The storage of a float tensor (parameters, their gradients and state: never int32, which cannot require grad). */
function floats(t: Tensor): Float64Array | Float32Array {
  const d = t.data;
  if (d instanceof Int32Array) throw new ChainruleError("optimizer", "an optimizer updates float tensors, got int32");
  return d;
}

/** A finite number within bounds, or a ChainruleError naming the option. */
function readNumber(
  op: string,
  options: Record<string, unknown>,
  name: string,
  fallback: number | undefined,
  check: (v: number) => boolean,
  expected: string,
): number {
  const v = Object.hasOwn(options, name) && options[name] !== undefined ? options[name] : fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || !check(v)) {
    throw new ChainruleError(op, `${name} must be ${expected}, got ${describe(v)}`);
  }
  return v;
}

function readBoolean(op: string, options: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = Object.hasOwn(options, name) && options[name] !== undefined ? options[name] : fallback;
  if (typeof v !== "boolean") throw new ChainruleError(op, `${name} must be true or false, got ${describe(v)}`);
  return v;
}

function checkOptions(op: string, options: unknown): Record<string, unknown> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ChainruleError(op, `options must be an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

const nonNegative = (v: number) => v >= 0;

/** Options of `SGD`: the learning rate, momentum and weight decay. */
export interface SGDOptions {
  /** Learning rate η (required). */
  lr: number;
  /** Momentum μ (default 0: plain gradient descent). */
  momentum?: number;
  /** Dampening τ of the momentum's new gradient (default 0). */
  dampening?: number;
  /** L2 weight decay λ, added to the gradient as λθ (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs μ > 0 and τ = 0). */
  nesterov?: boolean;
  /** Skip (and count) a step whose gradients are not all finite (default false). */
  skipNonfinite?: boolean;
}

/**
 * Stochastic gradient descent, torch.optim.SGD's update. For each parameter θ with gradient g:
 *
 *   d = g + λθ
 *   b = d at the first step, then b ← μb + (1 − τ)d      (only when μ ≠ 0)
 *   d = d + μb (Nesterov) or d = b
 *   θ ← θ − η·d
 *
 * With μ = λ = 0 it is the chapter's θ ← θ − η·∂C/∂θ.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class SGD extends Optimizer {
  override get type(): string {
    return "SGD";
  }
  protected readonly bufferNames = ["momentumBuffer"] as const;

  protected override requiredBuffers(hyperparameters: Record<string, unknown>): readonly string[] {
    return typeof hyperparameters.momentum === "number" && hyperparameters.momentum > 0 ? this.bufferNames : [];
  }
  /** Momentum factor μ (0: plain SGD). */
  momentum = 0;
  /** Dampening τ of the momentum's new gradient. */
  dampening = 0;
  /** L2 penalty λ added to the gradient. */
  weightDecay = 0;
  /** Whether the step uses Nesterov momentum. */
  nesterov = false;

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params);
    const checked = checkOptions("SGD", options);
    this.configure("SGD", checked)();
    this.configureCommon("SGD", checked);
  }

  protected configure(op: string, options: Record<string, unknown>): () => void {
    const lr = readNumber(op, options, "lr", undefined, nonNegative, "a number ≥ 0");
    const momentum = readNumber(op, options, "momentum", 0, nonNegative, "a number ≥ 0");
    const dampening = readNumber(op, options, "dampening", 0, () => true, "a finite number");
    const weightDecay = readNumber(op, options, "weightDecay", 0, nonNegative, "a number ≥ 0");
    const nesterov = readBoolean(op, options, "nesterov", false);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new ChainruleError(
        op,
        `nesterov needs momentum > 0 and dampening 0, got momentum ${momentum}, dampening ${dampening}`,
      );
    }
    return () => {
      Object.assign(this, { lr, momentum, dampening, weightDecay, nesterov });
    };
  }

  hyperparameters(): Hyperparameters {
    const { lr, momentum, dampening, weightDecay, nesterov } = this;
    return { lr, momentum, dampening, weightDecay, nesterov };
  }

  step(): void {
    if (!this.beginStep()) return;
    const { lr, momentum, dampening, weightDecay, nesterov } = this;
    noGrad(() => {
      this.params.forEach((param, i) => {
        const g = this.gradOf(i);
        if (g === null) return;
        const b = momentum !== 0 ? this.buffer(i, "momentumBuffer") : null;
        if (b === null && weightDecay === 0) {
          param.addInPlace(param.grad as Tensor, -lr); // θ ← θ − η·g (a SIMD kernel for large θ)
          this.steps[i] = (this.steps[i] as number) + 1;
          return;
        }
        // update_ bumps the parameter's version, so a graph still waiting on the old values refuses to run.
        param.update_("SGD.step", (p) => {
          for (let k = 0; k < p.length; k++) {
            let d = g[k] as number;
            if (weightDecay !== 0) d += weightDecay * (p[k] as number); // d = g + λθ
            if (b !== null) {
              const bk = b.fresh ? d : momentum * (b.data[k] as number) + (1 - dampening) * d; // b ← μb + (1 − τ)d
              b.data[k] = bk;
              d = nesterov ? d + momentum * bk : bk;
            }
            p[k] = (p[k] as number) - lr * d; // θ ← θ − η·d
          }
        });
        this.steps[i] = (this.steps[i] as number) + 1;
      });
    });
  }
}

/** Options of `Adam` and `AdamW`. */
export interface AdamOptions {
  /** Learning rate η (default 1e-3). */
  lr?: number;
  /** Decay rates (β₁, β₂) of the moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** ε added to √v̂ (default 1e-8). */
  eps?: number;
  /** Weight decay λ (default 0 for Adam: L2, added to the gradient; 0.01 for AdamW: decoupled). */
  weightDecay?: number;
  /** Skip (and count) a step whose gradients are not all finite (default false). */
  skipNonfinite?: boolean;
}

/**
 * Adam (Kingma & Ba, 2015), torch.optim.Adam's update. At step t, for θ with gradient g:
 *
 *   d = g + λθ                                   (L2 weight decay, if λ ≠ 0)
 *   m ← β₁m + (1 − β₁)d                           first moment (computed as m + (1 − β₁)(d − m))
 *   v ← β₂v + (1 − β₂)d²                          second moment
 *   θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * The bias corrections 1 − βᵗ undo the pull of m and v towards their zero start.
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends Optimizer {
  override get type(): string {
    return "Adam";
  }
  protected readonly bufferNames = ["expAvg", "expAvgSq"] as const;
  /** β₁: the decay of the running mean of gradients. */
  beta1 = 0.9;
  /** β₂: the decay of the running mean of squared gradients. */
  beta2 = 0.999;
  /** ε added to the denominator for numerical stability. */
  eps = 1e-8;
  /** Weight decay λ (Adam: added to the gradient; AdamW: applied to the weights, decoupled). */
  weightDecay = 0;
  /** AdamW: decay θ by (1 − ηλ) apart from the gradient instead of adding λθ to it. */
  protected get decoupled(): boolean {
    return false;
  }

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params);
    const checked = checkOptions(this.type, options);
    this.configure(this.type, checked)();
    this.configureCommon(this.type, checked);
  }

  protected configure(op: string, options: Record<string, unknown>): () => void {
    const lr = readNumber(op, options, "lr", 1e-3, nonNegative, "a number ≥ 0");
    const betas = Object.hasOwn(options, "betas") && options.betas !== undefined ? options.betas : [0.9, 0.999];
    const ok = (b: unknown) => typeof b === "number" && b >= 0 && b < 1;
    if (!Array.isArray(betas) || betas.length !== 2 || !betas.every(ok)) {
      throw new ChainruleError(op, `betas must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
    }
    const eps = readNumber(op, options, "eps", 1e-8, nonNegative, "a number ≥ 0");
    const weightDecay = readNumber(op, options, "weightDecay", this.defaultWeightDecay(), nonNegative, "a number ≥ 0");
    const [beta1, beta2] = betas as [number, number];
    return () => {
      Object.assign(this, { lr, beta1, beta2, eps, weightDecay });
    };
  }

  /** 0 for Adam, 0.01 for AdamW (PyTorch's defaults). */
  protected defaultWeightDecay(): number {
    return 0;
  }

  hyperparameters(): Hyperparameters {
    const { lr, beta1, beta2, eps, weightDecay } = this;
    return { lr, betas: [beta1, beta2], eps, weightDecay };
  }

  protected override bufferValueProblem(name: string, data: Float64Array | Float32Array): string | null {
    const problem = super.bufferValueProblem(name, data);
    if (problem !== null || name !== "expAvgSq") return problem;
    // v is a running mean of squares: a negative one gives √v = NaN at the next step.
    const k = data.findIndex((v) => v < 0);
    return k < 0 ? null : `element ${k} is ${data[k]}, but a second moment is ≥ 0`;
  }

  step(): void {
    if (!this.beginStep()) return;
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this;
    noGrad(() => {
      this.params.forEach((param, i) => {
        const g = this.gradOf(i);
        if (g === null) return;
        const m = this.buffer(i, "expAvg").data;
        const v = this.buffer(i, "expAvgSq").data;
        const t = (this.steps[i] as number) + 1;
        this.steps[i] = t;
        const stepSize = lr / (1 - beta1 ** t); // η / (1 − β₁ᵗ)
        const bc2Sqrt = Math.sqrt(1 - beta2 ** t); // √(1 − β₂ᵗ)
        param.update_(decoupled ? "AdamW.step" : "Adam.step", (p) => {
          for (let k = 0; k < p.length; k++) {
            let d = g[k] as number;
            if (decoupled)
              p[k] = (p[k] as number) * (1 - lr * weightDecay); // AdamW: θ ← θ(1 − ηλ)
            else if (weightDecay !== 0) d += weightDecay * (p[k] as number); // Adam: d = g + λθ
            const mk = (m[k] as number) + (1 - beta1) * (d - (m[k] as number)); // m ← β₁m + (1 − β₁)d
            const vk = (v[k] as number) * beta2 + (1 - beta2) * d * d; //          v ← β₂v + (1 − β₂)d²
            m[k] = mk;
            v[k] = vk;
            p[k] = (p[k] as number) - (stepSize * mk) / (Math.sqrt(vk) / bc2Sqrt + eps);
          }
        });
      });
    });
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019), torch.optim.AdamW: Adam whose weight decay shrinks θ
 * directly, θ ← θ(1 − ηλ), before the Adam step, instead of passing through m and v. Default
 * λ = 0.01.
 */
export class AdamW extends Adam {
  override get type(): string {
    return "AdamW";
  }

  protected override get decoupled(): boolean {
    return true;
  }

  protected override defaultWeightDecay(): number {
    return 0.01;
  }
}

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** p of the p-norm (default 2; Infinity for the largest |gᵢ|). */
  normType?: number;
  /**
   * Throw, changing no gradient, when the norm is NaN or ±Infinity (default false: the gradients
   * are then scaled by a non-finite factor, as PyTorch does by default).
   */
  errorIfNonfinite?: boolean;
}

/**
 * Scale the gradients of `params` in place so that their joint norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_: with ‖g‖ the norm of all gradients taken as one vector, each
 * is multiplied by maxNorm / (‖g‖ + 1e-6) when that is below 1. Returns ‖g‖ before clipping.
 * The third argument is `normType` (p of the p-norm, default 2; Infinity for the largest |gᵢ|)
 * or options `{ normType, errorIfNonfinite }`.
 *
 * @example
 * clipGradNorm(model.parameters(), 1, { errorIfNonfinite: true }); // throws on a NaN gradient
 */
export function clipGradNorm(
  params: Iterable<Tensor>,
  maxNorm: number,
  normTypeOrOptions: number | ClipGradNormOptions = 2,
): number {
  const op = "clipGradNorm";
  const options: ClipGradNormOptions =
    typeof normTypeOrOptions === "number" ? { normType: normTypeOrOptions } : checkOptions(op, normTypeOrOptions);
  const normType = options.normType ?? 2;
  const errorIfNonfinite = readBoolean(op, options as Record<string, unknown>, "errorIfNonfinite", false);
  if (typeof maxNorm !== "number" || !(maxNorm >= 0))
    throw new ChainruleError(op, `maxNorm must be a number ≥ 0, got ${describe(maxNorm)}`);
  if (typeof normType !== "number" || !(normType > 0))
    throw new ChainruleError(op, `normType must be a number > 0 or Infinity, got ${describe(normType)}`);
  if (typeof (params as Partial<Iterable<Tensor>> | null)?.[Symbol.iterator] !== "function") {
    throw new ChainruleError(op, `params must be an iterable of Tensors, got ${describe(params)}`);
  }
  const list = [...params]; // once: a generator or Map.values() can be read only once
  const grads: Tensor[] = [];
  for (const p of list) {
    if (!(p instanceof Tensor)) throw new ChainruleError(op, `params must hold Tensors, got ${describe(p)}`);
    if (p.grad !== null) grads.push(p.grad);
  }
  let total = 0;
  for (const g of grads) {
    for (let k = 0; k < g.size; k++) {
      const a = Math.abs(g.data[k] as number);
      total = normType === Number.POSITIVE_INFINITY ? Math.max(total, a) : total + a ** normType;
    }
  }
  if (normType !== Number.POSITIVE_INFINITY) total **= 1 / normType; // ‖g‖ₚ = (Σ|gᵢ|ᵖ)^(1/p)
  if (errorIfNonfinite && !Number.isFinite(total)) {
    const at = list.findIndex((p) => p.grad !== null && !p.grad.data.every(Number.isFinite));
    const where =
      at < 0 ? "" : ` (parameter ${at}${list[at]?.label ? ` (${list[at]?.label})` : ""} has a non-finite gradient)`;
    throw new ChainruleError(
      op,
      `the total norm of order ${normType} of the gradients is ${total}${where}, so it cannot be clipped; no gradient was changed (errorIfNonfinite: false scales them anyway)`,
    );
  }
  const coefficient = maxNorm / (total + 1e-6);
  if (coefficient < 1) {
    noGrad(() => {
      for (const p of list) {
        const g = p.grad;
        if (g === null) continue;
        // A gradient recorded with createGraph is part of a graph: replace it instead of editing it.
        if (g.isLeaf) g.mulInPlace(coefficient);
        else p.grad = g.mul(coefficient);
      }
    });
  }
  return total;
}

/** What the schedules share: the optimizer, its learning rate at the start, the epochs done. */
abstract class LRScheduler {
  /** The optimizer whose learning rate is scheduled. */
  readonly optimizer: Optimizer;
  /** Its learning rate when the schedule was made. */
  readonly baseLr: number;
  /** Epochs completed (calls to `step()`). */
  epoch = 0;

  constructor(op: string, optimizer: Optimizer) {
    if (!(optimizer instanceof Optimizer))
      throw new ChainruleError(op, `expected an Optimizer, got ${describe(optimizer)}`);
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
  }

  /** End an epoch: set and return the learning rate of the next one. */
  step(): number {
    this.epoch++;
    this.optimizer.lr = this.lrAt(this.epoch);
    return this.optimizer.lr;
  }

  /** The learning rate after `epoch` epochs. */
  protected abstract lrAt(epoch: number): number;
}

/** Learning rate η₀·γ^⌊epoch / stepSize⌋ (torch.optim.lr_scheduler.StepLR): call `step()` once per epoch. */
export class StepLR extends LRScheduler {
  /** Epochs between two decays. */
  readonly stepSize: number;
  /** The factor the rate is multiplied by at each decay. */
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number }) {
    super("StepLR", optimizer);
    const { stepSize, gamma = 0.1 } = options ?? {};
    if (!Number.isInteger(stepSize) || stepSize < 1) {
      throw new ChainruleError("StepLR", `stepSize must be a positive integer, got ${describe(stepSize)}`);
    }
    if (typeof gamma !== "number" || !(gamma >= 0) || !Number.isFinite(gamma)) {
      throw new ChainruleError("StepLR", `gamma must be a finite number ≥ 0, got ${describe(gamma)}`);
    }
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * Cosine annealing from η₀ down to ηmin over tMax epochs (the closed form of
 * torch.optim.lr_scheduler.CosineAnnealingLR, without restarts; past tMax it rises again, as
 * PyTorch's does):
 *
 *   η(t) = ηmin + (η₀ − ηmin)·(1 + cos(π·t / tMax)) / 2
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs of one half-period of the cosine: the rate reaches etaMin at tMax. */
  readonly tMax: number;
  /** The lowest rate. */
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number }) {
    super("CosineAnnealingLR", optimizer);
    const { tMax, etaMin = 0 } = options ?? {};
    if (!Number.isInteger(tMax) || tMax < 1) {
      throw new ChainruleError("CosineAnnealingLR", `tMax must be a positive integer, got ${describe(tMax)}`);
    }
    if (typeof etaMin !== "number" || !Number.isFinite(etaMin) || etaMin < 0) {
      throw new ChainruleError("CosineAnnealingLR", `etaMin must be a finite number ≥ 0, got ${describe(etaMin)}`);
    }
    this.tMax = tMax;
    this.etaMin = etaMin;
  }

  protected lrAt(epoch: number): number {
    const { baseLr, etaMin, tMax } = this;
    return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2;
  }
}
